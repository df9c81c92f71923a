//! Graceful shutdown of the real binary: on SIGTERM the listener closes at once (new connections
//! are refused), a request in flight (a login whose body the client is still sending) completes
//! normally, and the process exits 0; a request that outlives STOCK_SHUTDOWN_TIMEOUT_SECONDS is
//! cut off and the exit code says so.
mod binapp;
mod common;

use std::time::Duration;

use common::PASSWORD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const EMAIL: &str = "bye@example.com";

/// Sends the headers and the first half of a login form body; returns the stream and the rest.
async fn start_slow_login(app: &common::TestApp, addr: std::net::SocketAddr) -> (TcpStream, Vec<u8>) {
    let page = app.get("/login").await;
    let anon = page
        .set_cookies
        .iter()
        .find_map(|c| c.strip_prefix("stock_anon="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .expect("anon cookie");
    let body = format!(
        "csrf={}&email={}&password={PASSWORD}",
        url::form_urlencoded::byte_serialize(page.csrf().as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(EMAIL.as_bytes()).collect::<String>()
    )
    .into_bytes();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nCookie: stock_anon={anon}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write head");
    let half = body.len() / 2;
    s.write_all(&body[..half]).await.expect("write half");
    s.flush().await.expect("flush");
    // let the server read the head and start waiting for the body
    tokio::time::sleep(Duration::from_millis(300)).await;
    (s, body[half..].to_vec())
}

/// True when connecting is refused within a few seconds of the signal being handled (a loaded
/// machine may take a while to schedule the server; a listener left open never passes).
async fn refused(addr: std::net::SocketAddr) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        if let Err(e) = TcpStream::connect(addr).await {
            return e.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits_zero() {
    let db = common::TestDb::new().await;
    let (tenant, _) = db.create_shop("Closing Shop").await;
    db.add_member(tenant, EMAIL, "owner").await;
    let (app, mut proc) = binapp::start(db, &[]);
    let (mut slow, rest) = start_slow_login(&app, proc.addr).await;

    proc.signal("TERM");
    // the server says so once it has the signal; the listener is closed right after
    proc.wait_for_log("shutting down").await;
    assert!(refused(proc.addr).await, "new connections must be refused after SIGTERM");
    assert!(proc.child.try_wait().expect("try_wait").is_none(), "exited with a request in flight");

    // the client finishes sending; the login completes as usual
    slow.write_all(&rest).await.expect("write rest");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read response");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    assert!(response.to_ascii_lowercase().contains("set-cookie: stock_session="), "{response}");
    assert!(response.to_ascii_lowercase().contains("connection: close"), "{response}");

    let status = proc.wait_exit(Duration::from_secs(10)).await.expect("the process exits");
    assert_eq!(status.code(), Some(0), "logs:\n{}", proc.logs().join("\n"));
    let logs = proc.logs().join("\n");
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");
}

#[tokio::test]
async fn a_request_that_outlives_the_grace_period_is_cut_off() {
    let db = common::TestDb::new().await;
    let (tenant, _) = db.create_shop("Stuck Shop").await;
    db.add_member(tenant, EMAIL, "owner").await;
    let (app, mut proc) = binapp::start(db, &[("STOCK_SHUTDOWN_TIMEOUT_SECONDS", "1")]);
    let (_stuck, _never_sent) = start_slow_login(&app, proc.addr).await;

    let sent = std::time::Instant::now();
    proc.signal("INT");
    let status = proc.wait_exit(Duration::from_secs(10)).await.expect("the process exits");
    assert!(sent.elapsed() >= Duration::from_millis(900), "did not wait for the request");
    assert_eq!(status.code(), Some(1));
    assert!(proc.logs().join("\n").contains("cut off"));
}
