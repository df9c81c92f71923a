//! `stock admin add|list|disable` as an operator runs it: the password from the environment or
//! standard input (never a flag), the account usable at /admin/login, every change audited.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{client, spawn_app, TestDb, PASSWORD};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn stock(db: &TestDb, args: &[&str], env_password: Option<&str>, stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stock"));
    cmd.args(args)
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", common::PREFIX)
        .env("RUST_LOG", "warn")
        .env_remove("STOCK_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(pw) = env_password {
        cmd.env("STOCK_ADMIN_PASSWORD", pw);
    }
    let mut child = cmd.spawn().expect("run stock");
    if let Some(mut input) = child.stdin.take() {
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("stdin");
        }
    }
    let Output { status, stdout, stderr } = child.wait_with_output().expect("wait");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[tokio::test]
async fn accounts_are_added_listed_and_disabled_from_the_command_line() {
    let app = spawn_app().await;
    let db = &app.db;
    let r = stock(
        db,
        &["admin", "add", "--email", "Ops@Example.com", "--name", "Operadora"],
        Some(PASSWORD),
        None,
    );
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let r = stock(
        db,
        &["admin", "add", "--email", "second@example.com", "--name", "Segundo"],
        None,
        Some("short\n"),
    );
    assert_ne!(r.code, Some(0), "a short password from stdin was accepted");
    assert!(r.stderr.contains("password"), "{}", r.stderr);
    let r = stock(
        db,
        &["admin", "add", "--email", "second@example.com", "--name", "Segundo"],
        None,
        Some("long enough pw\n"),
    );
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let r = stock(db, &["admin", "add", "--email", "not-an-email", "--name", "X"], Some(PASSWORD), None);
    assert_ne!(r.code, Some(0));
    let r = stock(db, &["admin", "list"], None, None);
    assert!(r.stdout.contains("ops@example.com") && r.stdout.contains("second@example.com"), "{}", r.stdout);
    assert!(!r.stdout.contains("argon2"), "a hash was printed");
    // the account signs in
    let http = client();
    let p = app
        .submit_with(
            &http,
            "/admin/login",
            "/admin/login",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(app.get_with(&http, "/admin/shops").await.status, 200);
    // disabled: its session ends and it cannot sign in again
    let r = stock(db, &["admin", "disable", "--email", "ops@example.com"], None, None);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(app.get_with(&http, "/admin/shops").await.status, 303);
    let p = app
        .submit_with(
            &http,
            "/admin/login",
            "/admin/login",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 401);
    let r = stock(db, &["admin", "disable", "--email", "ops@example.com"], None, None);
    assert_ne!(r.code, Some(0), "disabling twice");
    let r = stock(db, &["admin", "list"], None, None);
    assert!(
        r.stdout.lines().any(|l| l.contains("ops@example.com") && l.contains("disabled")),
        "{}",
        r.stdout
    );
    let actions: Vec<String> = db
        .admin()
        .await
        .query("select action from app.admin_audit where admin_id is null order by id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actions, ["admin.add", "admin.add", "admin.disable"]);
}
