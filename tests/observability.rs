//! Logs of the real binary (`stock serve`, STOCK_LOG_FORMAT=json): every request writes one JSON
//! line with its request id (ours, or the caller's X-Request-Id when it is plain), the route
//! pattern (ids replaced), method, status, latency, and the user and shop it ran as; the id comes
//! back in the X-Request-Id header. Secrets never reach the logs: not the password posted to
//! /login, not the session cookie, not the CSRF token.
mod binapp;
mod common;

use common::PASSWORD;
use serde_json::Value;

const EMAIL: &str = "logs@example.com";

fn request_lines(logs: &[String]) -> Vec<Value> {
    logs.iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
        })
        .filter(|v| v["message"] == "request")
        .collect()
}

fn line_with_id<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines.iter().find(|v| v["request_id"] == id).unwrap_or_else(|| panic!("no request line with id {id}"))
}

#[tokio::test]
async fn each_request_logs_one_json_line_without_secrets() {
    let db = common::TestDb::new().await;
    let (tenant, _) = db.create_shop("Logs Shop").await;
    let user = db.add_member(tenant, EMAIL, "owner").await;
    let slug: String = db
        .admin()
        .await
        .query_one("select slug from app.tenants where id = $1", &[&tenant])
        .await
        .expect("slug")
        .get(0);
    let (app, proc) = binapp::start(db, &[]);

    // a plain incoming request id is kept and returned
    let r =
        app.http.get(app.url("/login")).header("X-Request-Id", "trace-abc.123").send().await.expect("GET");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "trace-abc.123");

    // a request id that is not plain is replaced by a fresh one
    let r = app.http.get(app.url("/login")).header("X-Request-Id", "bad id\"{}").send().await.expect("GET");
    let fresh = r.headers()["x-request-id"].to_str().expect("ascii").to_string();
    assert_eq!(fresh.len(), 32, "{fresh}");
    assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()), "{fresh}");

    // log in; the password, the session cookie and the CSRF token must not be logged
    let login_page = app.get("/login").await;
    let csrf = login_page.csrf();
    let login = app.login(EMAIL, PASSWORD).await;
    assert_eq!(login.status, 303, "{}", login.body);
    let session = login
        .set_cookies
        .iter()
        .find_map(|c| c.strip_prefix("stock_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .expect("session cookie");

    // a signed-in page with an id in its path
    let r = app
        .http
        .get(app.url("/products/987654"))
        .header("X-Request-Id", "product-page")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 404);
    // a path no route matches
    let r = app
        .http
        .get(app.url("/no/such/page/77"))
        .header("X-Request-Id", "nowhere")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 404);

    proc.wait_for_log("\"nowhere\"").await;
    let logs = proc.logs();
    let lines = request_lines(&logs);

    let first = line_with_id(&lines, "trace-abc.123");
    assert_eq!(first["route"], "/login");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["status"], 200);
    assert!(first["latency_ms"].as_f64().expect("latency is a number") >= 0.0);
    assert_eq!(first["level"], "INFO");
    assert!(first.get("user_id").is_none(), "signed-out request names no user: {first}");
    line_with_id(&lines, &fresh);

    let login_line =
        lines.iter().find(|v| v["route"] == "/login" && v["method"] == "POST").expect("the POST /login line");
    assert_eq!(login_line["status"], 303);

    let product = line_with_id(&lines, "product-page");
    assert_eq!(product["route"], "/products/:id", "{product}");
    assert_eq!(product["status"], 404);
    assert_eq!(product["user_id"], user);
    assert_eq!(product["tenant_id"], tenant);
    assert_eq!(product["shop"], slug.as_str());

    let nowhere = line_with_id(&lines, "nowhere");
    assert_eq!(nowhere["route"], "(unmatched)");

    // exactly one line per request: each request id appears once
    for id in ["trace-abc.123", "product-page", "nowhere"] {
        assert_eq!(lines.iter().filter(|v| v["request_id"] == id).count(), 1, "{id}");
    }

    let all = logs.join("\n");
    assert!(!all.contains(PASSWORD), "the password reached the logs");
    assert!(!all.contains(&session), "the session cookie reached the logs");
    assert!(!all.contains(&csrf), "the CSRF token reached the logs");
    assert!(!all.contains("987654"), "a raw path id reached the logs");
    assert!(!all.contains(EMAIL), "the e-mail address reached the logs");
}
