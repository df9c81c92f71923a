//! Sign-up, login, sessions, logout, throttling, shops of one person and language, end to end
//! over HTTP, checking what the database holds after each step.
mod common;

use common::{Page, TestApp, PASSWORD};
use stock::domain::auth::SessionToken;

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

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

/// GET with exactly this Cookie header (nothing from any jar).
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Page {
    let mut rq = bare().get(app.url(path));
    if !cookie.is_empty() {
        rq = rq.header("cookie", cookie);
    }
    read(rq.send().await.expect("GET")).await
}

async fn post_with_cookie(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> Page {
    let mut rq = bare().post(app.url(path)).form(form);
    if !cookie.is_empty() {
        rq = rq.header("cookie", cookie);
    }
    read(rq.send().await.expect("POST")).await
}

/// The full Set-Cookie line for `name`, if the response set it.
fn set_cookie_line<'a>(p: &'a Page, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}=");
    p.set_cookies.iter().map(String::as_str).find(|c| c.starts_with(&prefix))
}

/// The value the response set for cookie `name`.
fn cookie_value(p: &Page, name: &str) -> Option<String> {
    let line = set_cookie_line(p, name)?;
    let first = line.split(';').next()?;
    Some(first[name.len() + 1..].to_string())
}

/// The attributes of a Set-Cookie line (after the name=value pair), trimmed.
fn cookie_attrs(line: &str) -> Vec<String> {
    line.split(';').skip(1).map(|a| a.trim().to_string()).collect()
}

fn session_cookie(p: &Page) -> String {
    cookie_value(p, "stock_session")
        .unwrap_or_else(|| panic!("no stock_session cookie set: {:?}\n{}", p.set_cookies, p.body))
}

async fn count(app: &TestApp, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> i64 {
    app.db.admin().await.query_one(sql, params).await.expect(sql).get(0)
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.db
        .admin()
        .await
        .query_one("select id from app.users where email = $1", &[&email])
        .await
        .expect("user exists")
        .get(0)
}

async fn tenant_id(app: &TestApp, name: &str) -> i64 {
    app.db
        .admin()
        .await
        .query_one("select id from app.tenants where name = $1", &[&name])
        .await
        .expect("tenant exists")
        .get(0)
}

async fn sessions_of(app: &TestApp, uid: i64) -> i64 {
    count(app, "select count(*) from app.sessions where user_id = $1", &[&uid]).await
}

/// Whether a session row exists for this cookie value (only its SHA-256 is stored).
async fn session_row_exists(app: &TestApp, cookie: &str) -> bool {
    let hash = SessionToken::from_cookie(cookie).expect("token-shaped cookie").hash();
    count(app, "select count(*) from app.sessions where token_hash = $1", &[&hash]).await == 1
}

/// The text of the `<h2>` naming the shop on the dashboard.
fn dashboard_shop(body: &str) -> Option<&str> {
    let start = body.find("<section class=\"card\"><h2>")? + "<section class=\"card\"><h2>".len();
    let end = body[start..].find("</h2>")?;
    Some(&body[start..start + end])
}

fn dashboard_role(body: &str) -> Option<&str> {
    let start = body.find("<dd class=\"role\">")? + "<dd class=\"role\">".len();
    let end = body[start..].find("</dd>")?;
    Some(&body[start..start + end])
}

const WRONG: &str = "not-the-password";
const THROTTLED_ES: &str = "Demasiados intentos fallidos. Intente de nuevo en 15 minutos.";
const LOGIN_FAILED_ES: &str = "Correo o contraseña incorrectos.";

// ---------------------------------------------------------------------------------------------
// sign-up
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signup_creates_user_shop_schema_membership_and_session() {
    let app = common::spawn_app().await;
    let r = app.signup_with(&app.http, "Kiosco Uno", "Uno@Example.com").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/dashboard"));
    let cookie = session_cookie(&r);
    assert_eq!(cookie.len(), 43, "session token shape");

    let db = app.db.admin().await;
    // the user: e-mail normalised, argon2id hash (never the password), locale of the request
    let u = db
        .query_one("select id, email, display_name, password_hash, locale from app.users", &[])
        .await
        .expect("exactly one user");
    let uid: i64 = u.get(0);
    assert_eq!(u.get::<_, String>(1), "uno@example.com");
    assert_eq!(u.get::<_, String>(2), "Test Person");
    let hash: String = u.get(3);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    assert_eq!(u.get::<_, Option<String>>(4).as_deref(), Some("es"));

    // the shop row
    let t = db
        .query_one("select id, name, slug, schema_name, status, schema_version from app.tenants", &[])
        .await
        .expect("exactly one tenant");
    let tid: i64 = t.get(0);
    let schema: String = t.get(3);
    assert_eq!(t.get::<_, String>(1), "Kiosco Uno");
    assert_eq!(t.get::<_, String>(2), "kiosco-uno");
    assert_eq!(schema, format!("tenant_{tid}"));
    assert_eq!(t.get::<_, String>(4), "active");
    let latest: i32 = db
        .query_one("select max(version) from app_private.tenant_migrations", &[])
        .await
        .expect("latest")
        .get(0);
    assert_eq!(t.get::<_, i32>(5), latest, "the new schema is at the latest tenant migration");

    // the schema with its tables, RLS enabled and forced on each
    let tables: Vec<(String, bool, bool)> = db
        .query(
            "select c.relname, c.relrowsecurity, c.relforcerowsecurity
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = $1 and c.relkind = 'r' order by c.relname",
            &[&schema],
        )
        .await
        .expect("tables")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
    assert!(names.contains(&"settings") && names.contains(&"audit_log"), "{names:?}");
    for (name, rls, forced) in &tables {
        assert!(*rls && *forced, "{schema}.{name}: RLS enabled {rls}, forced {forced}");
    }
    let settings_rows: i64 =
        db.query_one(&format!("select count(*) from {schema}.settings"), &[]).await.expect("settings").get(0);
    assert_eq!(settings_rows, 1);
    assert_eq!(
        count(&app, "select count(*) from pg_namespace where nspname like 'tenant\\_%'", &[]).await,
        1
    );

    // owner membership
    let roles: Vec<(i64, i64, String)> = db
        .query("select tenant_id, user_id, role from app.memberships", &[])
        .await
        .expect("memberships")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(roles, vec![(tid, uid, "owner".to_string())]);

    // the session: stored as the SHA-256 of the cookie, in the new shop, 12 h
    let hash = SessionToken::from_cookie(&cookie).expect("shape").hash();
    let s = db
        .query_one(
            "select user_id, tenant_id,
                    extract(epoch from expires_at - now())::bigint, ip::text, user_agent is not null
               from app.sessions where token_hash = $1",
            &[&hash],
        )
        .await
        .expect("session row for the cookie");
    assert_eq!(s.get::<_, i64>(0), uid);
    assert_eq!(s.get::<_, Option<i64>>(1), Some(tid));
    let ttl: i64 = s.get(2);
    assert!((43_100..=43_200).contains(&ttl), "ttl {ttl}");
    assert_eq!(s.get::<_, Option<String>>(3).as_deref(), Some("127.0.0.1/32"));
    assert_eq!(sessions_of(&app, uid).await, 1);
    let raw_token_stored: i64 = db
        .query_one("select count(*) from app.sessions where token_hash = convert_to($1, 'utf8')", &[&cookie])
        .await
        .expect("q")
        .get(0);
    assert_eq!(raw_token_stored, 0, "the raw token must never be stored");

    // the dashboard shows the shop, the person and the role, with the welcome message once
    let d = app.get("/dashboard").await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(dashboard_shop(&d.body), Some("Kiosco Uno"), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Dueño"), "{}", d.body);
    assert!(d.body.contains("Hola, Test Person."), "{}", d.body);
    assert!(d.body.contains("Su negocio está listo."), "{}", d.body);
    let again = app.get("/dashboard").await;
    assert!(!again.body.contains("Su negocio está listo."), "the flash shows once");

    // / sends a signed-in person to the dashboard
    let home = app.get("/").await;
    assert_eq!((home.status, home.location.as_deref()), (303, Some("/dashboard")));
}

#[tokio::test]
async fn signed_out_pages_redirect_to_login() {
    let app = common::spawn_app().await;
    for path in ["/", "/dashboard", "/shops"] {
        let p = app.get(path).await;
        assert_eq!((p.status, p.location.as_deref()), (303, Some("/login")), "{path}");
    }
}

// ---------------------------------------------------------------------------------------------
// login, cookies, session rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_sets_a_hardened_session_cookie() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Kiosco", "ana@example.com").await;
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/dashboard"));
    let line = set_cookie_line(&r, "stock_session").expect("session cookie");
    let attrs = cookie_attrs(line);
    for want in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(attrs.iter().any(|a| a == want), "{want} missing in {line}");
    }
    assert!(!attrs.iter().any(|a| a.eq_ignore_ascii_case("secure")), "no Secure by default: {line}");
    assert!(!attrs.iter().any(|a| a.to_ascii_lowercase().starts_with("domain")), "host-only: {line}");
    // the anonymous cookie set by GET /login is HttpOnly as well
    let login_page = read(bare().get(app.url("/login")).send().await.expect("GET")).await;
    let anon = set_cookie_line(&login_page, "stock_anon").expect("anon cookie");
    assert!(cookie_attrs(anon).iter().any(|a| a == "HttpOnly"), "{anon}");

    let d = app.get("/dashboard").await;
    assert_eq!(d.status, 200);
    assert_eq!(dashboard_shop(&d.body), Some("Kiosco"));
}

/// GET `page` without a jar, returning (anon cookie header, csrf token).
async fn anon_form(app: &TestApp, page: &str) -> (String, String) {
    let p = get_with_cookie(app, page, "").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let anon = cookie_value(&p, "stock_anon").expect("anon cookie");
    (format!("stock_anon={anon}"), p.csrf())
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let mut db = common::TestDb::new().await;
    db.config.cookie_secure = true;
    let app = common::spawn_app_on(db).await;

    // sign-up (by hand: a cookie jar would not send Secure cookies back over plain http)
    let (anon, token) = anon_form(&app, "/signup").await;
    let r = post_with_cookie(
        &app,
        "/signup",
        &anon,
        &[
            ("csrf", token.as_str()),
            ("shop_name", "Seguro"),
            ("display_name", "Ana"),
            ("email", "ana@example.com"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let line = set_cookie_line(&r, "stock_session").expect("session cookie");
    assert!(cookie_attrs(line).iter().any(|a| a == "Secure"), "{line}");

    // login
    let (anon, token) = anon_form(&app, "/login").await;
    let r = post_with_cookie(
        &app,
        "/login",
        &anon,
        &[("csrf", token.as_str()), ("email", "ana@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let line = set_cookie_line(&r, "stock_session").expect("session cookie");
    let attrs = cookie_attrs(line);
    for want in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.iter().any(|a| a == want), "{want} missing in {line}");
    }
    // the anonymous cookie too
    let p = get_with_cookie(&app, "/login", "").await;
    let anon_line = set_cookie_line(&p, "stock_anon").expect("anon cookie");
    assert!(cookie_attrs(anon_line).iter().any(|a| a == "Secure"), "{anon_line}");
    // and the cookie opens the dashboard
    let cookie = format!("stock_session={}", session_cookie(&r));
    let d = get_with_cookie(&app, "/dashboard", &cookie).await;
    assert_eq!(d.status, 200);
    assert_eq!(dashboard_shop(&d.body), Some("Seguro"));
}

#[tokio::test]
async fn every_login_issues_a_new_session_and_drops_the_old_one() {
    let app = common::spawn_app().await;
    let s0 = session_cookie(&app.signup_with(&app.http, "Kiosco", "ana@example.com").await);
    let uid = user_id(&app, "ana@example.com").await;
    assert_eq!(sessions_of(&app, uid).await, 1);

    let r1 = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r1.status, 303, "{}", r1.body);
    let s1 = session_cookie(&r1);
    assert_ne!(s0, s1, "login must rotate the session id");
    assert!(!session_row_exists(&app, &s0).await, "the old cookie's session row is deleted");
    assert!(session_row_exists(&app, &s1).await);
    assert_eq!(sessions_of(&app, uid).await, 1);
    let old = get_with_cookie(&app, "/dashboard", &format!("stock_session={s0}")).await;
    assert_eq!((old.status, old.location.as_deref()), (303, Some("/login")), "old cookie still works");

    let r2 = app.login("ana@example.com", PASSWORD).await;
    let s2 = session_cookie(&r2);
    assert!(s2 != s1 && s2 != s0);
    assert!(!session_row_exists(&app, &s1).await);
    assert_eq!(sessions_of(&app, uid).await, 1);
    assert_eq!(app.get("/dashboard").await.status, 200);

    // another browser gets its own session and leaves this one alone
    let other = common::client();
    let r3 = app.login_with(&other, "ana@example.com", PASSWORD).await;
    assert_eq!(r3.status, 303);
    assert_eq!(sessions_of(&app, uid).await, 2);
    assert!(session_row_exists(&app, &s2).await);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Kiosco", "ana@example.com").await;
    let uid = user_id(&app, "ana@example.com").await;
    let before = sessions_of(&app, uid).await;

    let wrong = app.login("ana@example.com", WRONG).await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains(LOGIN_FAILED_ES), "{}", wrong.body);
    assert!(set_cookie_line(&wrong, "stock_session").is_none(), "no session cookie on failure");
    assert_eq!(sessions_of(&app, uid).await, before, "no session row on failure");
    // the typed e-mail comes back, the password never does
    assert!(wrong.body.contains("value=\"ana@example.com\""), "{}", wrong.body);
    assert!(!wrong.body.contains(WRONG));

    let unknown = app.login("nadie@example.com", WRONG).await;
    assert_eq!(unknown.status, 401);
    // identical pages apart from the echoed address: nothing tells the two cases apart
    assert_eq!(
        wrong.body.replace("ana@example.com", "E"),
        unknown.body.replace("nadie@example.com", "E"),
        "an unknown e-mail must look exactly like a wrong password"
    );
    assert_eq!(count(&app, "select count(*) from app.sessions", &[]).await, before);
    assert_eq!(count(&app, "select count(*) from app.users", &[]).await, 1);
    // both attempts were recorded for the throttle
    assert_eq!(count(&app, "select count(*) from app.login_failures", &[]).await, 2);

    // empty password: also the generic 401
    let empty = app.login("ana@example.com", "").await;
    assert_eq!(empty.status, 401);
    assert!(empty.body.contains(LOGIN_FAILED_ES));
    assert!(app.get("/dashboard").await.status == 303, "still signed out");
}

// ---------------------------------------------------------------------------------------------
// logout and expiry
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_deletes_the_session_and_the_old_cookie_stops_working() {
    let app = common::spawn_app().await;
    let cookie = session_cookie(&app.signup_with(&app.http, "Kiosco", "ana@example.com").await);
    let uid = user_id(&app, "ana@example.com").await;
    assert!(session_row_exists(&app, &cookie).await);

    let r = app.submit("/dashboard", "/logout", &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "{}", r.body);
    let cleared = set_cookie_line(&r, "stock_session").expect("cookie cleared");
    assert!(cleared.starts_with("stock_session=;"), "{cleared}");
    assert!(cookie_attrs(cleared).iter().any(|a| a == "Max-Age=0"), "{cleared}");

    assert!(!session_row_exists(&app, &cookie).await, "session row deleted");
    assert_eq!(sessions_of(&app, uid).await, 0);
    let d = app.get("/dashboard").await;
    assert_eq!((d.status, d.location.as_deref()), (303, Some("/login")));
    // replaying the old cookie by hand
    let replay = get_with_cookie(&app, "/dashboard", &format!("stock_session={cookie}")).await;
    assert_eq!((replay.status, replay.location.as_deref()), (303, Some("/login")));
    let replay = get_with_cookie(&app, "/shops", &format!("stock_session={cookie}")).await;
    assert_eq!((replay.status, replay.location.as_deref()), (303, Some("/login")));
    // the login page after logout says so
    let l = app.get("/login").await;
    assert!(l.body.contains("Cerró la sesión."), "{}", l.body);
}

#[tokio::test]
async fn an_expired_session_redirects_to_login() {
    let app = common::spawn_app().await;
    let cookie = session_cookie(&app.signup_with(&app.http, "Kiosco", "ana@example.com").await);
    assert_eq!(app.get("/dashboard").await.status, 200);
    let hash = SessionToken::from_cookie(&cookie).expect("shape").hash();
    let n = app
        .db
        .admin()
        .await
        .execute(
            "update app.sessions set expires_at = now() - interval '1 second' where token_hash = $1",
            &[&hash],
        )
        .await
        .expect("expire");
    assert_eq!(n, 1);
    for path in ["/dashboard", "/shops"] {
        let p = app.get(path).await;
        assert_eq!((p.status, p.location.as_deref()), (303, Some("/login")), "{path}: {}", p.body);
    }
    // and it cannot open a shop either (CSRF token made for that cookie is still a valid HMAC)
    let token = stock::http::csrf::token(app.db.config.secret_key.expose(), "session", &cookie);
    let r = app.post("/shops", &[("csrf", token.as_str()), ("shop_name", "Otro")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "{}", r.body);
    assert_eq!(count(&app, "select count(*) from app.tenants", &[]).await, 1);
}

// ---------------------------------------------------------------------------------------------
// throttling
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Uno", "ana@example.com").await;
    app.signup_with(&common::client(), "Dos", "beto@example.com").await;
    let ana = user_id(&app, "ana@example.com").await;
    let sessions_before = sessions_of(&app, ana).await;

    for i in 1..=5 {
        let r = app.login("ana@example.com", WRONG).await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    assert_eq!(
        count(&app, "select count(*) from app.login_failures where email = 'ana@example.com'", &[]).await,
        5
    );
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 429, "6th attempt with the right password: {}", r.body);
    assert!(r.body.contains(THROTTLED_ES), "{}", r.body);
    assert!(set_cookie_line(&r, "stock_session").is_none());
    assert_eq!(sessions_of(&app, ana).await, sessions_before, "no session while throttled");
    // the e-mail is normalised before counting: another spelling is the same account
    let r = app.login("  ANA@Example.com ", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);

    // in English from an English browser
    let en = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("en"))]
                .into_iter()
                .collect(),
        )
        .build()
        .expect("client");
    let r = app.login_with(&en, "ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Too many failed attempts. Try again in 15 minutes."), "{}", r.body);

    // per account: another person from the same address is not locked out
    let r = app.login_with(&common::client(), "beto@example.com", WRONG).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = app.login_with(&common::client(), "beto@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // and the locked account still is
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status, 429);
}

#[tokio::test]
async fn twenty_failures_from_one_address_lock_every_account_from_it() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Uno", "ana@example.com").await;
    // 19 failures on 19 different addresses: no single account reaches 5
    for i in 1..=19 {
        let r = app.login(&format!("nadie{i}@example.com"), WRONG).await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    // at 19 the address still may log in (and a success clears only that e-mail's failures)
    let ok = app.login_with(&common::client(), "ana@example.com", PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(count(&app, "select count(*) from app.login_failures", &[]).await, 19);
    let r = app.login("nadie20@example.com", WRONG).await;
    assert_eq!(r.status, 401, "the 20th failure is still an ordinary 401");
    // now the address is throttled, whatever the account and even with the right password
    let ana = user_id(&app, "ana@example.com").await;
    let before = sessions_of(&app, ana).await;
    let r = app.login_with(&common::client(), "ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains(THROTTLED_ES), "{}", r.body);
    assert_eq!(sessions_of(&app, ana).await, before);
    let r = app.login("nadie21@example.com", WRONG).await;
    assert_eq!(r.status, 429);
    // throttled attempts are not recorded as failures (they never reached the password check)
    assert_eq!(count(&app, "select count(*) from app.login_failures", &[]).await, 20);
}

#[tokio::test]
async fn old_failures_outside_the_window_do_not_count() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Uno", "ana@example.com").await;
    for _ in 0..5 {
        assert_eq!(app.login("ana@example.com", WRONG).await.status, 401);
    }
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status, 429);
    // move the failures 16 minutes into the past
    app.db
        .admin()
        .await
        .execute("update app.login_failures set at = at - interval '16 minutes'", &[])
        .await
        .expect("age failures");
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // a success clears the account's failures
    assert_eq!(
        count(&app, "select count(*) from app.login_failures where email = 'ana@example.com'", &[]).await,
        0
    );
}

#[tokio::test]
async fn throttle_message_counts_the_minutes_left() {
    let app = common::spawn_app().await;
    app.signup_with(&common::client(), "Uno", "ana@example.com").await;
    for _ in 0..5 {
        assert_eq!(app.login("ana@example.com", WRONG).await.status, 401);
    }
    // oldest of the five failures 12.5 minutes ago: 2.5 minutes left, shown rounded up as 3
    app.db
        .admin()
        .await
        .execute("update app.login_failures set at = now() - interval '750 seconds'", &[])
        .await
        .expect("age failures");
    let r = app.login("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Intente de nuevo en 3 minutos."), "{}", r.body);
}

// ---------------------------------------------------------------------------------------------
// several shops
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_person_with_two_shops_sees_both_and_switches() {
    let app = common::spawn_app().await;
    let cookie = session_cookie(&app.signup_with(&app.http, "Primero", "ana@example.com").await);
    let first = tenant_id(&app, "Primero").await;

    let r = app.submit("/shops", "/shops", &[("shop_name", "Segundo")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    let second = tenant_id(&app, "Segundo").await;
    assert_ne!(first, second);
    let uid = user_id(&app, "ana@example.com").await;
    let db = app.db.admin().await;
    let owned: Vec<(i64, String)> = db
        .query("select tenant_id, role from app.memberships where user_id = $1 order by tenant_id", &[&uid])
        .await
        .expect("memberships")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(owned, vec![(first, "owner".into()), (second, "owner".into())]);
    let schema_exists: bool = db
        .query_one(
            "select exists (select 1 from pg_namespace where nspname = $1)",
            &[&format!("tenant_{second}")],
        )
        .await
        .expect("q")
        .get(0);
    assert!(schema_exists);

    // the session moved to the new shop
    let d = app.get("/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some("Segundo"), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Dueño"));

    let shops = app.get("/shops").await;
    assert_eq!(shops.status, 200);
    assert!(shops.body.contains("<strong>Primero</strong>"), "{}", shops.body);
    assert!(shops.body.contains("<strong>Segundo</strong>"), "{}", shops.body);
    assert_eq!(shops.body.matches("(actual)").count(), 1);
    assert!(shops.body.contains(&format!("name=\"tenant_id\" value=\"{first}\"")));
    assert!(
        !shops.body.contains(&format!("name=\"tenant_id\" value=\"{second}\"")),
        "no switch to the current shop"
    );

    let r = app.submit("/shops", "/shops/switch", &[("tenant_id", &first.to_string())]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    let d = app.get("/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some("Primero"), "{}", d.body);
    assert!(d.body.contains("Cambió de negocio."), "{}", d.body);
    let hash = SessionToken::from_cookie(&cookie).expect("shape").hash();
    let current: Option<i64> = db
        .query_one("select tenant_id from app.sessions where token_hash = $1", &[&hash])
        .await
        .expect("session")
        .get(0);
    assert_eq!(current, Some(first));

    // a fresh login starts in the oldest membership
    let r = app.login_with(&common::client(), "ana@example.com", PASSWORD).await;
    let fresh = session_cookie(&r);
    let d = get_with_cookie(&app, "/dashboard", &format!("stock_session={fresh}")).await;
    assert_eq!(dashboard_shop(&d.body), Some("Primero"));
}

#[tokio::test]
async fn opening_a_shop_with_a_bad_name_shows_the_form_again() {
    let app = common::spawn_app().await;
    app.signup_with(&app.http, "Primero", "ana@example.com").await;
    let r = app.submit("/shops", "/shops", &[("shop_name", "   ")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Este campo es obligatorio."), "{}", r.body);
    let long = "x".repeat(121);
    let r = app.submit("/shops", "/shops", &[("shop_name", &long)]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Es demasiado largo."), "{}", r.body);
    assert!(r.body.contains(&format!("value=\"{long}\"")), "input kept");
    assert_eq!(count(&app, "select count(*) from app.tenants", &[]).await, 1);
    assert_eq!(
        count(&app, "select count(*) from pg_namespace where nspname like 'tenant\\_%'", &[]).await,
        1
    );
}

// ---------------------------------------------------------------------------------------------
// language
// ---------------------------------------------------------------------------------------------

fn english_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("en-GB,en;q=0.9"))]
                .into_iter()
                .collect(),
        )
        .build()
        .expect("client")
}

#[tokio::test]
async fn pages_default_to_spanish_and_follow_accept_language() {
    let app = common::spawn_app().await;
    let es = app.get("/login").await;
    assert!(es.body.contains("<html lang=\"es\">"), "{}", es.body);
    assert!(es.body.contains("<h1>Ingresar</h1>"), "{}", es.body);

    let en = english_client();
    let p = app.get_with(&en, "/login").await;
    assert!(p.body.contains("<html lang=\"en\">"), "{}", p.body);
    assert!(p.body.contains("<h1>Log in</h1>"), "{}", p.body);
    assert!(!p.body.contains("Ingresar"));
    let s = app.get_with(&en, "/signup").await;
    assert!(s.body.contains("<h1>Create your shop</h1>"), "{}", s.body);
    // an English error message
    let r = app.login_with(&en, "nadie@example.com", WRONG).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong e-mail or password."), "{}", r.body);
}

#[tokio::test]
async fn the_language_switch_is_remembered_and_beats_the_account() {
    let app = common::spawn_app().await;
    let r = app.get("/lang/en").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/")));
    assert_eq!(cookie_value(&r, "stock_lang").as_deref(), Some("en"));
    let p = app.get("/login").await;
    assert!(p.body.contains("<html lang=\"en\">") && p.body.contains("<h1>Log in</h1>"), "{}", p.body);

    // signed in (account locale is English now, since sign-up happened in English)
    app.signup_with(&app.http, "Kiosco", "ana@example.com").await;
    let d = app.get("/dashboard").await;
    assert!(d.body.contains("<h1>Dashboard</h1>"), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Owner"));
    assert!(d.body.contains("Welcome, Test Person."));

    // back to Spanish: the browser's choice wins over the account's language
    let r = app.get("/lang/es").await;
    assert_eq!(cookie_value(&r, "stock_lang").as_deref(), Some("es"));
    let d = app.get("/dashboard").await;
    assert!(d.body.contains("<h1>Inicio</h1>"), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Dueño"));

    // an unknown language changes nothing
    let r = app.get("/lang/fr").await;
    assert_eq!(r.status, 303);
    assert!(cookie_value(&r, "stock_lang").is_none(), "{:?}", r.set_cookies);
    let r = app.get("/lang/english").await;
    assert!(cookie_value(&r, "stock_lang").is_none(), "{:?}", r.set_cookies);
}

#[tokio::test]
async fn the_account_language_is_used_when_the_browser_chose_none() {
    let app = common::spawn_app().await;
    // signed up from an English browser: the account is English
    let en = english_client();
    app.signup_with(&en, "Shop", "ana@example.com").await;
    let locale: Option<String> = app
        .db
        .admin()
        .await
        .query_one("select locale from app.users where email = 'ana@example.com'", &[])
        .await
        .expect("user")
        .get(0);
    assert_eq!(locale.as_deref(), Some("en"));
    // logging in from a browser that sends no Accept-Language still shows English
    app.login("ana@example.com", PASSWORD).await;
    let d = app.get("/dashboard").await;
    assert!(d.body.contains("<h1>Dashboard</h1>"), "{}", d.body);
}
