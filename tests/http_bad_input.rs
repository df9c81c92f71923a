//! Bad input gets a precise answer (422 with the form again, 400, 404, 413) and changes nothing;
//! every response carries the security headers.
mod common;

use common::{Page, TestApp, PASSWORD};

/// What a response carried, headers included.
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn raw(r: reqwest::RequestBuilder) -> Raw {
    let r = r.send().await.expect("request");
    Raw { status: r.status().as_u16(), headers: r.headers().clone(), body: r.text().await.expect("body") }
}

fn url_form(form: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(form).expect("encode")
}

/// A POST of raw bytes as a form, with an explicit Content-Length, from `http` (its cookies).
async fn post_bytes(app: &TestApp, http: &reqwest::Client, path: &str, body: Vec<u8>) -> Raw {
    let len = body.len().to_string();
    raw(http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", len)
        .body(body))
    .await
}

#[derive(Debug, PartialEq, Eq)]
struct Counts {
    users: i64,
    tenants: i64,
    schemas: i64,
    memberships: i64,
    sessions: i64,
}

async fn counts(app: &TestApp) -> Counts {
    let db = app.db.admin().await;
    let one = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.expect(sql).get::<_, i64>(0) }
    };
    Counts {
        users: one("select count(*) from app.users").await,
        tenants: one("select count(*) from app.tenants").await,
        schemas: one("select count(*) from pg_namespace where nspname like 'tenant\\_%'").await,
        memberships: one("select count(*) from app.memberships").await,
        sessions: one("select count(*) from app.sessions").await,
    }
}

/// The error text shown next to the input `name` (within its `div.field`), if any.
fn field_error(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("id=\"f-{name}\""))?;
    let rest = &body[start..];
    let end = rest.find("</div>").unwrap_or(rest.len());
    let field = &rest[..end];
    let e = field.find("<p class=\"error\">")? + "<p class=\"error\">".len();
    Some(field[e..e + field[e..].find("</p>")?].to_string())
}

/// The value attribute of the input `name`.
fn field_value(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("id=\"f-{name}\""))?;
    let rest = &body[start..];
    let tag = &rest[..rest.find('>')?];
    let v = tag.find("value=\"")? + "value=\"".len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

fn is_invalid(body: &str, name: &str) -> bool {
    let Some(start) = body.find(&format!("id=\"f-{name}\"")) else { return false };
    let rest = &body[start..];
    rest[..rest.find('>').unwrap_or(0)].contains("aria-invalid=\"true\"")
}

const REQUIRED: &str = "Este campo es obligatorio.";

async fn signup_form(app: &TestApp, fields: &[(&str, &str)]) -> Page {
    app.submit_with(&common::client(), "/signup", "/signup", fields).await
}

fn good<'a>(shop: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("shop_name", shop),
        ("display_name", "Ana Pérez"),
        ("email", email),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ]
}

fn with<'a>(mut f: Vec<(&'a str, &'a str)>, key: &str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    for kv in f.iter_mut() {
        if kv.0 == key {
            kv.1 = value;
        }
    }
    f
}

// ---------------------------------------------------------------------------------------------
// sign-up validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_signup_lists_every_missing_field_and_creates_nothing() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let r = signup_form(
        &app,
        &[("shop_name", ""), ("display_name", ""), ("email", ""), ("password", ""), ("password_confirm", "")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Corrija los campos marcados."), "{}", r.body);
    for f in ["shop_name", "display_name", "email", "password"] {
        assert_eq!(field_error(&r.body, f).as_deref(), Some(REQUIRED), "{f}: {}", r.body);
        assert!(is_invalid(&r.body, f), "{f} marked aria-invalid");
    }
    assert_eq!(r.body.matches(REQUIRED).count(), 4, "{}", r.body);
    assert!(set_cookie(&r, "stock_session").is_none());
    // the form comes back with a working token
    assert!(!r.csrf().is_empty());
    assert_eq!(counts(&app).await, before);

    // entirely absent fields (only the token) are treated the same
    let r = signup_form(&app, &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body.matches(REQUIRED).count(), 4, "{}", r.body);
    // whitespace only is empty
    let r = signup_form(&app, &[("shop_name", "   "), ("display_name", "\t "), ("email", " ")]).await;
    assert_eq!(r.status, 422);
    for f in ["shop_name", "display_name", "email"] {
        assert_eq!(field_error(&r.body, f).as_deref(), Some(REQUIRED), "{f}");
    }
    assert_eq!(counts(&app).await, before);
}

fn set_cookie<'a>(p: &'a Page, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}=");
    p.set_cookies.iter().map(String::as_str).find(|c| c.starts_with(&prefix))
}

#[tokio::test]
async fn each_bad_field_gets_its_own_message_and_the_input_is_kept() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let cases: &[(&str, &str, &str, &str)] = &[
        ("email", "not-an-email", "email", "Ingrese un correo electrónico válido."),
        ("email", "ana@example", "email", "Ingrese un correo electrónico válido."),
        ("email", "ana @example.com", "email", "Ingrese un correo electrónico válido."),
        ("password", "short", "password", "Use al menos 8 caracteres."),
        ("password_confirm", "correct-horse-batterY", "password_confirm", "Las contraseñas no coinciden."),
        ("display_name", "Ana\u{7}", "display_name", "Quite los caracteres especiales."),
        ("shop_name", "Kiosco\u{0}", "shop_name", "Quite los caracteres especiales."),
    ];
    for (key, value, field, message) in cases {
        let form = with(good("Mi Kiosco & Cía", "ana@example.com"), key, value);
        let r = signup_form(&app, &form).await;
        assert_eq!(r.status, 422, "{key}={value:?}: {}", r.body);
        assert_eq!(field_error(&r.body, field).as_deref(), Some(*message), "{key}={value:?}: {}", r.body);
        // no other field is flagged
        for other in ["shop_name", "display_name", "email", "password", "password_confirm"] {
            if other != *field {
                assert_eq!(field_error(&r.body, other), None, "{key}={value:?}: {other} flagged too");
            }
        }
        // typed values come back (escaped), passwords never do
        if *key != "shop_name" {
            assert_eq!(
                field_value(&r.body, "shop_name").as_deref(),
                Some("Mi Kiosco &amp; Cía"),
                "{}",
                r.body
            );
        }
        if *key != "display_name" {
            assert_eq!(field_value(&r.body, "display_name").as_deref(), Some("Ana Pérez"));
        }
        if *key == "email" {
            assert!(r.body.contains(&format!("value=\"{value}\"")), "bad e-mail kept: {}", r.body);
        } else {
            assert_eq!(field_value(&r.body, "email").as_deref(), Some("ana@example.com"));
        }
        assert_eq!(field_value(&r.body, "password").as_deref(), Some(""));
        assert_eq!(field_value(&r.body, "password_confirm").as_deref(), Some(""));
        assert!(!r.body.contains(PASSWORD), "the password must never be echoed");
    }
    // a too long password
    let long = "p".repeat(201);
    let r = signup_form(
        &app,
        &with(with(good("K", "ana@example.com"), "password", &long), "password_confirm", &long),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(field_error(&r.body, "password").as_deref(), Some("Use como máximo 200 caracteres."));
    assert_eq!(counts(&app).await, before, "nothing created by any rejected sign-up");

    // in English
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
    let r =
        app.submit_with(&en, "/signup", "/signup", &with(good("K", "x@y.com"), "password", "short")).await;
    assert_eq!(r.status, 422);
    assert_eq!(field_error(&r.body, "password").as_deref(), Some("Use at least 8 characters."), "{}", r.body);
}

#[tokio::test]
async fn a_taken_email_is_refused_without_creating_a_second_shop() {
    let app = common::spawn_app().await;
    let r = signup_form(&app, &good("Primero", "ana@example.com")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let before = counts(&app).await;
    assert_eq!((before.users, before.tenants, before.schemas), (1, 1, 1));
    let seq_before: i64 = app
        .db
        .admin()
        .await
        .query_one("select count(*) from app.tenants where name = 'Segundo'", &[])
        .await
        .expect("q")
        .get(0);
    assert_eq!(seq_before, 0);

    for email in ["ana@example.com", "  ANA@Example.COM "] {
        let r = signup_form(&app, &good("Segundo", email)).await;
        assert_eq!(r.status, 422, "{email}: {}", r.body);
        assert_eq!(
            field_error(&r.body, "email").as_deref(),
            Some("Este correo ya tiene una cuenta: ingrese y cree el negocio desde \"Mis negocios\".")
                .map(|s| s.replace('"', "&quot;"))
                .as_deref(),
            "{}",
            r.body
        );
        assert_eq!(field_error(&r.body, "shop_name"), None);
        assert_eq!(field_value(&r.body, "shop_name").as_deref(), Some("Segundo"));
        assert!(set_cookie(&r, "stock_session").is_none());
        assert_eq!(counts(&app).await, before, "{email}: a second user, shop or schema was created");
    }
    // the original account is untouched: its password still works
    let r = app.login_with(&common::client(), "ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn shop_names_are_bounded_at_120_characters() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let long = "a".repeat(121);
    let r = signup_form(&app, &good(&long, "ana@example.com")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(field_error(&r.body, "shop_name").as_deref(), Some("Es demasiado largo."));
    assert_eq!(field_value(&r.body, "shop_name").as_deref(), Some(long.as_str()), "input kept");
    assert_eq!(counts(&app).await, before);
    // characters, not bytes: 121 two-byte letters are too long, 120 fit
    let r = signup_form(&app, &good(&"ñ".repeat(121), "ana@example.com")).await;
    assert_eq!(r.status, 422);
    assert_eq!(counts(&app).await, before);
    let r = signup_form(&app, &good(&"ñ".repeat(120), "ana@example.com")).await;
    assert_eq!(r.status, 303, "120 characters are allowed: {}", r.body);
    // surrounding spaces do not count and are not stored
    let padded = format!("  {}  ", "b".repeat(120));
    let r = signup_form(&app, &good(&padded, "beto@example.com")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let names: Vec<String> = app
        .db
        .admin()
        .await
        .query("select name from app.tenants order by id", &[])
        .await
        .expect("q")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, vec!["ñ".repeat(120), "b".repeat(120)]);
    // and a display name over 120 is refused too
    let r =
        signup_form(&app, &with(good("Tienda", "carla@example.com"), "display_name", &"d".repeat(121))).await;
    assert_eq!(r.status, 422);
    assert_eq!(field_error(&r.body, "display_name").as_deref(), Some("Es demasiado largo."));
}

// ---------------------------------------------------------------------------------------------
// bodies that cannot be read
// ---------------------------------------------------------------------------------------------

/// The sign-up token of a fresh browser, and that browser.
async fn browser_with_token(app: &TestApp) -> (reqwest::Client, String) {
    let http = common::client();
    let token = app.get_with(&http, "/signup").await.csrf();
    (http, token)
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let (http, token) = browser_with_token(&app).await;
    let pad = "a".repeat(64 * 1024);
    let body = url_form(&[
        ("csrf", token.as_str()),
        ("shop_name", "Grande"),
        ("display_name", "Ana"),
        ("email", "ana@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("padding", pad.as_str()),
    ]);
    assert!(body.len() > 64 * 1024);
    let r = post_bytes(&app, &http, "/signup", body.into_bytes()).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("Demasiados datos"), "{}", r.body);
    assert!(r.body.contains("Lo enviado supera el tamaño permitido."), "{}", r.body);
    assert_eq!(counts(&app).await, before);

    // the same on the signed-in forms
    app.signup_with(&http, "Chico", "ana@example.com").await;
    let before = counts(&app).await;
    let token = app.get_with(&http, "/shops").await.csrf();
    let body = url_form(&[("csrf", token.as_str()), ("shop_name", "Otro"), ("padding", pad.as_str())]);
    let r = post_bytes(&app, &http, "/shops", body.into_bytes()).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_read() {
    let app = common::spawn_app().await;
    let (http, token) = browser_with_token(&app).await;
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("shop_name", "Justo"),
        ("display_name", "Ana"),
        ("email", "ana@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let base = url_form(&fields).len() + "&padding=".len();
    let pad = "a".repeat(64 * 1024 - base);
    fields.push(("padding", pad.as_str()));
    let body = url_form(&fields);
    assert_eq!(body.len(), 64 * 1024);
    let r = post_bytes(&app, &http, "/signup", body.into_bytes()).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn a_body_without_a_length_is_refused_with_400() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let (anon, token) = anon_cookie_and_token(&app).await;
    let mut fields = good("Sin largo", "ana@example.com");
    fields.push(("csrf", token.as_str()));
    let body = url_form(&fields);
    // a chunked body, without Content-Length, written by hand on the socket
    let request = format!(
        "POST /signup HTTP/1.1\r\nHost: localhost\r\nCookie: {anon}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len(),
    );
    let (status, response) = raw_socket(&app, request.as_bytes()).await;
    assert_eq!(status, 400, "{response}");
    assert!(response.contains("No se pudo leer el pedido"), "{response}");
    assert_eq!(counts(&app).await, before);
}

/// A fresh anonymous cookie ("stock_anon=…") and the token of its forms.
async fn anon_cookie_and_token(app: &TestApp) -> (String, String) {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = http.get(app.url("/signup")).send().await.expect("GET");
    let anon = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("stock_anon="))
        .and_then(|c| c.split(';').next())
        .expect("anon cookie")
        .to_string();
    let marker = "name=\"csrf\" value=\"";
    let body = r.text().await.expect("body");
    let i = body.find(marker).expect("csrf field") + marker.len();
    let token = body[i..i + body[i..].find('"').expect("quote")].to_string();
    (anon, token)
}

/// Sends raw bytes to the app and reads until the server closes: (status, whole response).
async fn raw_socket(app: &TestApp, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    sock.write_all(request).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), sock.read_to_end(&mut out))
        .await
        .expect("server answered and closed in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_refused_with_400() {
    let app = common::spawn_app().await;
    let before = counts(&app).await;
    let (http, token) = browser_with_token(&app).await;

    let r = post_bytes(&app, &http, "/signup", vec![0xff, 0xfe]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("No se pudo leer el pedido"), "{}", r.body);
    assert!(r.body.contains("No se pudo leer el formulario."), "{}", r.body);

    // a valid token and valid fields around one invalid byte: still refused as a whole
    let mut body = url_form(
        &good("Kiosco", "ana@example.com").into_iter().chain([("csrf", token.as_str())]).collect::<Vec<_>>(),
    )
    .into_bytes();
    body.extend_from_slice(b"&x=\xff\xfe");
    let r = post_bytes(&app, &http, "/signup", body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(counts(&app).await, before);

    // signed-in routes too
    app.signup_with(&http, "Kiosco", "ana@example.com").await;
    let before = counts(&app).await;
    let token = app.get_with(&http, "/shops").await.csrf();
    let mut body = format!("csrf={token}&shop_name=").into_bytes();
    body.extend_from_slice(b"Tienda\xc3\x28");
    let r = post_bytes(&app, &http, "/shops", body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn switching_to_a_non_numeric_shop_is_a_400() {
    let app = common::spawn_app().await;
    let r = app.signup_with(&app.http, "Kiosco", "ana@example.com").await;
    assert_eq!(r.status, 303);
    let tid: i64 = app.db.admin().await.query_one("select id from app.tenants", &[]).await.expect("q").get(0);
    for bad in ["abc", "", " 1", "1.0", "0x1", "99999999999999999999", "1; drop table app.users"] {
        let r = app.submit("/shops", "/shops/switch", &[("tenant_id", bad)]).await;
        assert_eq!(r.status, 400, "tenant_id={bad:?}: {}", r.body);
        assert!(r.body.contains("No se pudo leer el formulario."), "{}", r.body);
    }
    // the session is still in its shop and the users table still exists
    let d = app.get("/dashboard").await;
    assert!(d.body.contains("<h2>Kiosco</h2>"), "{}", d.body);
    let current: Option<i64> =
        app.db.admin().await.query_one("select tenant_id from app.sessions", &[]).await.expect("q").get(0);
    assert_eq!(current, Some(tid));
}

// ---------------------------------------------------------------------------------------------
// unknown paths and security headers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_paths_get_the_friendly_404() {
    let app = common::spawn_app().await;
    let http = common::client();
    for path in ["/nope", "/nope/deeper", "/dashboard/x", "/static/nope.css", "/lang", "/shops/switch"] {
        let r = app.get_with(&http, path).await;
        assert_eq!(r.status, 404, "GET {path}: {}", r.body);
        assert!(r.body.contains("<h1>Página no encontrada</h1>"), "{path}: {}", r.body);
        assert!(r.body.contains("No hay nada aquí"), "{path}");
        assert!(r.body.contains("href=\"/\""), "{path}: a way back");
    }
    // wrong methods are not found either
    let r = raw(http.put(app.url("/login")).body("a=b")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = raw(http.delete(app.url("/shops"))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // in the visitor's language
    let r = raw(http.get(app.url("/nope")).header("accept-language", "en")).await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("<h1>Page not found</h1>"), "{}", r.body);
}

fn assert_security_headers(r: &Raw, what: &str) {
    let h = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: header {name} missing: {:?}", r.headers))
            .to_string()
    };
    let csp = h("content-security-policy");
    for part in ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"] {
        assert!(csp.contains(part), "{what}: CSP lacks {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    let rp = h("referrer-policy");
    assert!(
        ["same-origin", "no-referrer", "strict-origin-when-cross-origin", "strict-origin"]
            .contains(&rp.as_str()),
        "{what}: {rp}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = common::spawn_app().await;
    let http = common::client();
    let ok = raw(http.get(app.url("/login"))).await;
    assert_eq!(ok.status, 200);
    assert_security_headers(&ok, "200 /login");
    assert_eq!(
        ok.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "pages are not cached"
    );
    assert!(ok
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html")));

    let missing = raw(http.get(app.url("/nope"))).await;
    assert_eq!(missing.status, 404);
    assert_security_headers(&missing, "404 /nope");

    let forbidden = raw(http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40b.com&password=x"))
    .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    assert_security_headers(&forbidden, "403 POST /login without csrf");

    let bad = post_bytes(&app, &http, "/login", vec![0xff]).await;
    assert_eq!(bad.status, 400);
    assert_security_headers(&bad, "400");

    let redirect = raw(http.get(app.url("/dashboard"))).await;
    assert_eq!(redirect.status, 303);
    assert_security_headers(&redirect, "303 /dashboard");

    for path in ["/health", "/ready", "/static/app.css", "/lang/en"] {
        let r = raw(http.get(app.url(path))).await;
        assert!(r.status < 400, "{path}: {}", r.status);
        assert_security_headers(&r, path);
    }
    let css = raw(http.get(app.url("/static/app.css"))).await;
    assert_eq!(
        css.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/css; charset=utf-8")
    );

    let unauth = raw(http
        .post(app.url("/shops"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 70 * 1024]))
    .await;
    assert_security_headers(&unauth, "oversized POST");
}
