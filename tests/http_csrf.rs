//! Every POST route refuses a missing, wrong or foreign CSRF token with 403 and changes nothing;
//! the right token works; a token dies with its session.
mod common;

use common::{Page, TestApp, PASSWORD};
use stock::domain::auth::SessionToken;

/// A browser without a cookie jar: cookies are sent by hand.
fn bare() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn read(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let set_cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let body = r.text().await.expect("body");
    Page { status, location, set_cookies, body }
}

/// POSTs a form with an explicit Content-Length (as browsers do, also for an empty form).
async fn post_form(app: &TestApp, http: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> Page {
    let body = serde_urlencoded::to_string(form).expect("encode");
    let r = http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", body.len().to_string())
        .body(body)
        .send()
        .await
        .expect("POST");
    read(r).await
}

async fn post_with_cookie(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> Page {
    let mut rq = bare().post(app.url(path)).form(form);
    if !cookie.is_empty() {
        rq = rq.header("cookie", cookie);
    }
    read(rq.send().await.expect("POST")).await
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Page {
    let mut rq = bare().get(app.url(path));
    if !cookie.is_empty() {
        rq = rq.header("cookie", cookie);
    }
    read(rq.send().await.expect("GET")).await
}

fn cookie_value(p: &Page, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    let line = p.set_cookies.iter().find(|c| c.starts_with(&prefix))?;
    Some(line.split(';').next()?[prefix.len()..].to_string())
}

fn session_cookie(p: &Page) -> String {
    cookie_value(p, "stock_session")
        .unwrap_or_else(|| panic!("no session cookie: {:?}\n{}", p.set_cookies, p.body))
}

/// The 403 page for a refused token, in Spanish.
fn assert_csrf_refused(p: &Page, what: &str) {
    assert_eq!(p.status, 403, "{what}: expected 403, got {} {:?}\n{}", p.status, p.location, p.body);
    assert!(p.body.contains("No permitido"), "{what}: {}", p.body);
    assert!(p.body.contains("El formulario venció o no vino de este sitio."), "{what}: {}", p.body);
    assert!(p.location.is_none(), "{what}: no redirect on a refused form");
    assert!(
        !p.set_cookies.iter().any(|c| c.starts_with("stock_session=")),
        "{what}: a refused form must not touch the session cookie: {:?}",
        p.set_cookies
    );
}

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    users: i64,
    tenants: i64,
    schemas: i64,
    memberships: i64,
    /// (user, tenant) of every session, ordered.
    sessions: Vec<(i64, Option<i64>)>,
    failures: i64,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    let db = app.db.admin().await;
    let one = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.expect(sql).get::<_, i64>(0) }
    };
    Snapshot {
        users: one("select count(*) from app.users").await,
        tenants: one("select count(*) from app.tenants").await,
        schemas: one("select count(*) from pg_namespace where nspname like 'tenant\\_%'").await,
        memberships: one("select count(*) from app.memberships").await,
        sessions: db
            .query("select user_id, tenant_id from app.sessions order by user_id, tenant_id, created_at", &[])
            .await
            .expect("sessions")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
        failures: one("select count(*) from app.login_failures").await,
    }
}

/// The token a page of this browser would embed, and one bound to another browser.
struct Tokens {
    mine: String,
    foreign: String,
}

const WRONG_TOKENS: &[&str] = &[
    "",
    "x",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "%%%not-base64%%%",
    "c3RvY2s", // base64 of "stock", a valid encoding of the wrong length
];

/// Posts `form` to `action` in every refused variant (no field, wrong values, a token from
/// another browser, a token doubled with a wrong one), checking 403 and an unchanged database.
async fn assert_refused_everywhere(
    app: &TestApp,
    http: &reqwest::Client,
    action: &str,
    form: &[(&str, &str)],
    tokens: &Tokens,
) {
    let before = snapshot(app).await;
    let r = post_form(app, http, action, form).await;
    assert_csrf_refused(&r, &format!("{action} without csrf"));
    for bad in WRONG_TOKENS {
        let mut f = vec![("csrf", *bad)];
        f.extend_from_slice(form);
        let r = post_form(app, http, action, &f).await;
        assert_csrf_refused(&r, &format!("{action} with csrf {bad:?}"));
    }
    // a real token, but made for another browser's cookie
    let mut f = vec![("csrf", tokens.foreign.as_str())];
    f.extend_from_slice(form);
    let r = post_form(app, http, action, &f).await;
    assert_csrf_refused(&r, &format!("{action} with another browser's token"));
    // only the first csrf field counts: a wrong one first is refused even if the right one follows
    let mut f = vec![("csrf", "wrong"), ("csrf", tokens.mine.as_str())];
    f.extend_from_slice(form);
    let r = post_form(app, http, action, &f).await;
    assert_csrf_refused(&r, &format!("{action} with a wrong then a right token"));
    // the right token, but in the query string instead of the body
    let r = post_form(app, http, &format!("{action}?csrf={}", tokens.mine), form).await;
    assert_csrf_refused(&r, &format!("{action} with the token in the URL"));
    assert_eq!(snapshot(app).await, before, "{action}: a refused form changed the database");
}

async fn page_token(app: &TestApp, http: &reqwest::Client, page: &str) -> String {
    let p = app.get_with(http, page).await;
    assert_eq!(p.status, 200, "{page}: {}", p.body);
    p.csrf()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_needs_the_token_of_this_browser() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Kiosco", "ana@example.com").await;
    let (me, other) = (common::client(), common::client());
    let tokens = Tokens {
        mine: page_token(&app, &me, "/login").await,
        foreign: page_token(&app, &other, "/login").await,
    };
    assert_ne!(tokens.mine, tokens.foreign);
    let form = [("email", "ana@example.com"), ("password", PASSWORD)];
    assert_refused_everywhere(&app, &me, "/login", &form, &tokens).await;
    // no cookie at all, but a token that was valid for some browser
    let r = post_with_cookie(
        &app,
        "/login",
        "",
        &[("csrf", &tokens.mine), ("email", "ana@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_csrf_refused(&r, "login without any cookie");
    // not a single failure was recorded: a refused form never reaches the password check
    assert_eq!(snapshot(&app).await.failures, 0);

    let r = app
        .post_with(
            &me,
            "/login",
            &[("csrf", &tokens.mine), ("email", "ana@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    assert_eq!(app.get_with(&me, "/dashboard").await.status, 200);
}

#[tokio::test]
async fn signup_needs_the_token_of_this_browser() {
    let app = common::spawn_app().await;
    let (me, other) = (common::client(), common::client());
    let tokens = Tokens {
        mine: page_token(&app, &me, "/signup").await,
        foreign: page_token(&app, &other, "/signup").await,
    };
    let form = [
        ("shop_name", "Kiosco"),
        ("display_name", "Ana"),
        ("email", "ana@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    assert_refused_everywhere(&app, &me, "/signup", &form, &tokens).await;
    let s = snapshot(&app).await;
    assert_eq!((s.users, s.tenants, s.schemas, s.memberships, s.sessions.len()), (0, 0, 0, 0, 0));

    // the token of /login works for /signup too (both are bound to the same anonymous cookie)
    let mut f = vec![("csrf", page_token(&app, &me, "/login").await)];
    f.extend(form.iter().map(|(k, v)| (*k, v.to_string())));
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.post_with(&me, "/signup", &f).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    let s = snapshot(&app).await;
    assert_eq!((s.users, s.tenants, s.schemas, s.memberships, s.sessions.len()), (1, 1, 1, 1, 1));
}

#[tokio::test]
async fn logout_needs_the_token_of_this_session() {
    let app = common::spawn_app().await;
    let (me, other) = (common::client(), common::client());
    let cookie = session_cookie(&app.signup_with(&me, "Uno", "ana@example.com").await);
    app.signup_with(&other, "Dos", "beto@example.com").await;
    let tokens = Tokens {
        mine: page_token(&app, &me, "/dashboard").await,
        foreign: page_token(&app, &other, "/dashboard").await,
    };
    assert_refused_everywhere(&app, &me, "/logout", &[], &tokens).await;
    // still signed in, the session row untouched
    let d = app.get_with(&me, "/dashboard").await;
    assert_eq!(d.status, 200);
    assert!(d.body.contains("<h2>Uno</h2>"), "{}", d.body);
    let hash = SessionToken::from_cookie(&cookie).expect("shape").hash();
    let n: i64 = app
        .db
        .admin()
        .await
        .query_one("select count(*) from app.sessions where token_hash = $1", &[&hash])
        .await
        .expect("q")
        .get(0);
    assert_eq!(n, 1);
    // the other browser's session also survived its token being used elsewhere
    assert_eq!(app.get_with(&other, "/dashboard").await.status, 200);

    let r = app.post_with(&me, "/logout", &[("csrf", &tokens.mine)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "{}", r.body);
    assert_eq!(app.get_with(&me, "/dashboard").await.status, 303);
    assert_eq!(app.get_with(&other, "/dashboard").await.status, 200, "only this browser logged out");
}

#[tokio::test]
async fn opening_a_shop_needs_the_token_of_this_session() {
    let app = common::spawn_app().await;
    let (me, other) = (common::client(), common::client());
    app.signup_with(&me, "Uno", "ana@example.com").await;
    app.signup_with(&other, "Dos", "beto@example.com").await;
    let tokens = Tokens {
        mine: page_token(&app, &me, "/shops").await,
        foreign: page_token(&app, &other, "/shops").await,
    };
    assert_refused_everywhere(&app, &me, "/shops", &[("shop_name", "Tercero")], &tokens).await;
    let tenants: i64 =
        app.db.admin().await.query_one("select count(*) from app.tenants", &[]).await.expect("q").get(0);
    assert_eq!(tenants, 2);

    let r = app.post_with(&me, "/shops", &[("csrf", &tokens.mine), ("shop_name", "Tercero")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    let d = app.get_with(&me, "/dashboard").await;
    assert!(d.body.contains("<h2>Tercero</h2>"), "{}", d.body);
}

#[tokio::test]
async fn switching_shops_needs_the_token_of_this_session() {
    let app = common::spawn_app().await;
    let (me, other) = (common::client(), common::client());
    app.signup_with(&me, "Uno", "ana@example.com").await;
    app.signup_with(&other, "Dos", "beto@example.com").await;
    // a second shop for me; the session is now in it
    let r = app.submit_with(&me, "/shops", "/shops", &[("shop_name", "Segundo")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let first: i64 = app
        .db
        .admin()
        .await
        .query_one("select id from app.tenants where name = 'Uno'", &[])
        .await
        .expect("q")
        .get(0);
    let first = first.to_string();
    let tokens = Tokens {
        mine: page_token(&app, &me, "/shops").await,
        foreign: page_token(&app, &other, "/shops").await,
    };
    assert_refused_everywhere(&app, &me, "/shops/switch", &[("tenant_id", &first)], &tokens).await;
    let d = app.get_with(&me, "/dashboard").await;
    assert!(d.body.contains("<h2>Segundo</h2>"), "no switch happened: {}", d.body);

    let r = app.post_with(&me, "/shops/switch", &[("csrf", &tokens.mine), ("tenant_id", &first)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    let d = app.get_with(&me, "/dashboard").await;
    assert!(d.body.contains("<h2>Uno</h2>"), "{}", d.body);
}

#[tokio::test]
async fn a_token_dies_with_its_session() {
    let app = common::spawn_app().await;
    let cookie = session_cookie(&app.signup_with(&app.http, "Uno", "ana@example.com").await);
    let old_token = page_token(&app, &app.http, "/dashboard").await;
    let r = app.post("/logout", &[("csrf", &old_token)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let before = snapshot(&app).await;

    // same browser after logout (it still holds its anonymous cookie): refused
    for (action, field, value) in
        [("/shops", "shop_name", "Otro"), ("/shops/switch", "tenant_id", "1"), ("/logout", "x", "y")]
    {
        let r = app.post(action, &[("csrf", &old_token), (field, value)]).await;
        assert_csrf_refused(&r, &format!("{action} with a token of an ended session"));
    }
    // even replaying the dead session cookie with its own token achieves nothing: sign in again
    let r = post_with_cookie(
        &app,
        "/shops",
        &format!("stock_session={cookie}"),
        &[("csrf", &old_token), ("shop_name", "Otro")],
    )
    .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "{}", r.body);
    assert_eq!(snapshot(&app).await, before);

    // a new login gives a new session and new tokens; the old token does not work with it
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 303);
    let new_token = page_token(&app, &app.http, "/dashboard").await;
    assert_ne!(new_token, old_token);
    let r = app.post("/shops", &[("csrf", &old_token), ("shop_name", "Otro")]).await;
    assert_csrf_refused(&r, "old token with a new session");
    let r = app.post("/shops", &[("csrf", &new_token), ("shop_name", "Otro")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn forms_carry_a_token_bound_to_the_cookie() {
    let app = common::spawn_app().await;
    // a first visit without cookies gets an anonymous cookie and a token made for it
    let p = get_with_cookie(&app, "/login", "").await;
    let anon = cookie_value(&p, "stock_anon").expect("anon cookie");
    let token = p.csrf();
    assert!(!token.is_empty());
    assert_eq!(
        token,
        stock::http::csrf::token(app.db.config.secret_key.expose(), "anon", &anon),
        "the token is the HMAC of the anonymous cookie"
    );
    // the same cookie gets the same token on the next page, and no new cookie
    let p2 = get_with_cookie(&app, "/signup", &format!("stock_anon={anon}")).await;
    assert_eq!(p2.csrf(), token);
    assert!(cookie_value(&p2, "stock_anon").is_none(), "{:?}", p2.set_cookies);
    // a token made with another key is refused
    let forged = stock::http::csrf::token("some-other-secret-key-0123456789abcdef", "anon", &anon);
    let r = post_with_cookie(
        &app,
        "/login",
        &format!("stock_anon={anon}"),
        &[("csrf", &forged), ("email", "a@example.com"), ("password", "x")],
    )
    .await;
    assert_csrf_refused(&r, "token under another key");
    // a session-purpose token for the anonymous value is refused as well
    let wrong_purpose = stock::http::csrf::token(app.db.config.secret_key.expose(), "session", &anon);
    let r = post_with_cookie(
        &app,
        "/login",
        &format!("stock_anon={anon}"),
        &[("csrf", &wrong_purpose), ("email", "a@example.com"), ("password", "x")],
    )
    .await;
    assert_csrf_refused(&r, "token for another purpose");
    // the right one reaches the login check
    let r = post_with_cookie(
        &app,
        "/login",
        &format!("stock_anon={anon}"),
        &[("csrf", &token), ("email", "a@example.com"), ("password", "x")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
}
