//! The harness itself works: sign-up, dashboard, health and readiness.
mod common;

#[tokio::test]
async fn signup_then_dashboard_shows_shop_and_role() {
    let app = common::spawn_app().await;
    let r = app.signup_with(&app.http, "Kiosco Uno", "uno@example.com").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/dashboard"));
    let d = app.get("/dashboard").await;
    assert_eq!(d.status, 200);
    assert!(d.body.contains("Kiosco Uno"), "{}", d.body);
    assert!(d.body.contains("Dueño") || d.body.contains("Owner"));
    assert_eq!(app.get("/health").await.status, 200);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
}
