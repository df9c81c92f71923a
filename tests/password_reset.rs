//! Password reset by e-mail and password change, end to end with a real SMTP server on loopback:
//! the same answer for known and unknown e-mails, throttling, the link works once and for an hour,
//! a reset ends every session, a change ends the other sessions; CSRF on every form; and the new
//! tables are out of reach of every request role.
mod common;

use common::smtp::{self, SmtpServer};
use common::{Page, TestApp, TestDb, PASSWORD};
use stock::config::SmtpSettings;
use tokio_postgres::Client;

const ANA: &str = "ana@example.com";
const NEW_PASSWORD: &str = "otra-clave-segura-42";
const PUBLIC: &str = "https://stock.example.test";

struct World {
    app: TestApp,
    smtp: SmtpServer,
    admin: Client,
    ana: i64,
}

async fn world() -> World {
    let smtp = SmtpServer::start().await;
    let mut db = TestDb::new().await;
    db.config.smtp = Some(SmtpSettings::parse(&smtp.url()).expect("smtp"));
    db.config.public_url = Some(PUBLIC.into());
    let (tenant, _) = db.create_shop("Ferretería Sur").await;
    let ana = db.add_member(tenant, ANA, "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    World { app, smtp, admin, ana }
}

impl World {
    async fn sessions(&self) -> i64 {
        self.admin
            .query_one("select count(*) from app.sessions where user_id = $1", &[&self.ana])
            .await
            .expect("sessions")
            .get(0)
    }

    async fn forgot(&self, http: &reqwest::Client, email: &str) -> Page {
        self.app.submit_with(http, "/password/forgot", "/password/forgot", &[("email", email)]).await
    }

    async fn signed_in(&self, password: &str) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, ANA, password).await;
        assert_eq!(r.status, 303, "login: {}", r.body);
        http
    }
}

fn local(link: &str) -> String {
    link.strip_prefix(PUBLIC).unwrap_or_else(|| panic!("{link}")).to_string()
}

fn token_of(path: &str) -> String {
    path.split("token=").nth(1).expect("token").to_string()
}

async fn reset(app: &TestApp, http: &reqwest::Client, path: &str, pw: &str, confirm: &str) -> Page {
    app.submit_with(
        http,
        "/password/forgot",
        "/password/reset",
        &[("token", &token_of(path)), ("password", pw), ("password_confirm", confirm)],
    )
    .await
}

/// The page body with the e-mail it names replaced, to compare answers.
fn answer(p: &Page, email: &str) -> String {
    p.body.replace(email, "EMAIL")
}

#[tokio::test]
async fn reset_by_e_mail_ends_every_session_and_the_link_works_once() {
    let w = world().await;
    let a = w.signed_in(PASSWORD).await;
    let b = w.signed_in(PASSWORD).await;
    assert_eq!(w.sessions().await, 2);

    let http = common::client();
    let known = w.forgot(&http, ANA).await;
    let unknown = w.forgot(&common::client(), "nadie@example.com").await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(answer(&known, ANA), answer(&unknown, "nadie@example.com"), "the same answer either way");
    assert!(known.body.contains("Si hay una cuenta con"), "{}", known.body);

    let m = smtp::parse(&w.smtp.wait_for(1).await);
    assert_eq!(w.smtp.all()[0].to, vec![ANA.to_string()]);
    assert!(m.subject().contains("contraseña nueva"), "{}", m.subject());
    assert!(m.text.contains("Hola, ana@example.com:"), "{}", m.text);
    assert!(m.html.contains("Elegir una contraseña nueva"), "{}", m.html);
    let path = local(&m.link(PUBLIC));
    assert!(m.html.contains(&format!("{PUBLIC}{path}")), "{}", m.html);
    // only the token's SHA-256 is stored
    let token = token_of(&path);
    let stored: i64 = w
        .admin
        .query_one(
            "select count(*) from app.password_resets where token_hash = sha256(convert_to($1, 'utf8'))
                and expires_at between now() + interval '59 minutes' and now() + interval '61 minutes'",
            &[&token],
        )
        .await
        .expect("stored")
        .get(0);
    assert_eq!(stored, 1);
    let plain: i64 = w
        .admin
        .query_one("select count(*) from app.password_resets where encode(token_hash, 'escape') like '%' || $1 || '%'", &[&token])
        .await
        .expect("plain")
        .get(0);
    assert_eq!(plain, 0);

    let page = w.app.get_with(&http, &path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Para ana@example.com."), "{}", page.body);

    // mismatch and short passwords come back next to the field; nothing changes
    let r = reset(&w.app, &http, &path, NEW_PASSWORD, "otra-cosa-distinta").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Las contraseñas no coinciden."), "{}", r.body);
    let r = reset(&w.app, &http, &path, "corta", "corta").await;
    assert_eq!(r.status, 422);
    assert_eq!(w.sessions().await, 2);

    let r = reset(&w.app, &http, &path, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/login"));
    assert_eq!(w.sessions().await, 0, "a reset ends every session");
    for c in [&a, &b] {
        assert_eq!(w.app.get_with(c, "/dashboard").await.location.as_deref(), Some("/login"));
    }
    assert_eq!(w.app.login_with(&common::client(), ANA, PASSWORD).await.status, 401);
    w.signed_in(NEW_PASSWORD).await;

    // used: the link is dead
    let again = w.app.get_with(&common::client(), &path).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("ya se usó"), "{}", again.body);
    let r = reset(&w.app, &common::client(), &path, "tercera-clave-99", "tercera-clave-99").await;
    assert_eq!(r.status, 410);
    assert_eq!(w.app.login_with(&common::client(), ANA, NEW_PASSWORD).await.status, 303);

    // no mail for an unknown address
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.smtp.count(), 1);
}

#[tokio::test]
async fn the_reset_mail_uses_the_account_language() {
    let w = world().await;
    w.admin.execute("update app.users set locale = 'en' where id = $1", &[&w.ana]).await.expect("en");
    w.forgot(&common::client(), ANA).await;
    let m = smtp::parse(&w.smtp.wait_for(1).await);
    assert!(m.subject().contains("Choose a new password"), "{}", m.subject());
    assert!(m.text.contains("Hello ana@example.com,"), "{}", m.text);
    assert!(m.html.contains("lang=\"en\""), "{}", m.html);
}

#[tokio::test]
async fn expired_and_forged_links_change_nothing() {
    let w = world().await;
    w.forgot(&common::client(), ANA).await;
    let path = local(&smtp::parse(&w.smtp.wait_for(1).await).link(PUBLIC));
    w.admin
        .execute("update app.password_resets set expires_at = now() - interval '1 second'", &[])
        .await
        .expect("expire");
    let http = common::client();
    assert_eq!(w.app.get_with(&http, &path).await.status, 410);
    assert_eq!(reset(&w.app, &http, &path, NEW_PASSWORD, NEW_PASSWORD).await.status, 410);
    for forged in
        ["/password/reset?token=abc", "/password/reset", &format!("/password/reset?token={}", "A".repeat(43))]
    {
        assert_eq!(w.app.get_with(&http, forged).await.status, 410, "{forged}");
    }
    assert_eq!(w.app.login_with(&common::client(), ANA, PASSWORD).await.status, 303);
}

#[tokio::test]
async fn requests_are_throttled_alike_for_known_and_unknown_addresses() {
    let w = world().await;
    for email in [ANA, "nadie@example.com"] {
        let http = common::client();
        for i in 0..3 {
            assert_eq!(w.forgot(&http, email).await.status, 200, "{email} #{i}");
        }
        let r = w.forgot(&http, email).await;
        assert_eq!(r.status, 429, "{email}: {}", r.body);
        assert!(r.body.contains("Demasiados pedidos"), "{}", r.body);
    }
    w.smtp.wait_for(3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(w.smtp.count(), 3, "three mails for the known address, none while throttled");
    let bad = w.forgot(&common::client(), "no-es-correo").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Ingrese un correo electrónico válido."));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let w = world().await;
    let other = w.signed_in(PASSWORD).await;
    let me = w.signed_in(PASSWORD).await;
    assert_eq!(
        w.app.get_with(&common::client(), "/password/change").await.location.as_deref(),
        Some("/login")
    );
    let form = |current: &'static str, pw: &'static str, confirm: &'static str| {
        vec![("current_password", current), ("password", pw), ("password_confirm", confirm)]
    };
    let r = w
        .app
        .submit_with(
            &me,
            "/password/change",
            "/password/change",
            &form("equivocada", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Esa no es su contraseña actual."), "{}", r.body);
    let r = w
        .app
        .submit_with(&me, "/password/change", "/password/change", &form(PASSWORD, "corta", "corta"))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Use al menos 8 caracteres."), "{}", r.body);
    assert_eq!(w.sessions().await, 2);
    assert_eq!(w.app.login_with(&common::client(), ANA, PASSWORD).await.status, 303);
    assert_eq!(w.sessions().await, 3);

    let r = w
        .app
        .submit_with(&me, "/password/change", "/password/change", &form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD))
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(w.sessions().await, 1, "only this session is left");
    assert_eq!(w.app.get_with(&me, "/dashboard").await.status, 200);
    assert_eq!(w.app.get_with(&other, "/dashboard").await.location.as_deref(), Some("/login"));
    assert_eq!(w.app.login_with(&common::client(), ANA, PASSWORD).await.status, 401);
    assert_eq!(w.app.login_with(&common::client(), ANA, NEW_PASSWORD).await.status, 303);
}

#[tokio::test]
async fn every_password_form_checks_csrf() {
    let w = world().await;
    w.forgot(&common::client(), ANA).await;
    let path = local(&smtp::parse(&w.smtp.wait_for(1).await).link(PUBLIC));
    let me = w.signed_in(PASSWORD).await;
    let anon = common::client();
    anon.get(w.app.url("/password/forgot")).send().await.expect("anon cookie");
    let token = token_of(&path);
    type Case<'a> = (&'a reqwest::Client, &'a str, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (&anon, "/password/forgot", vec![("email", ANA)]),
        (
            &anon,
            "/password/reset",
            vec![("token", &token), ("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)],
        ),
        (
            &me,
            "/password/change",
            vec![
                ("current_password", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        ),
    ];
    for (http, action, fields) in cases {
        for csrf in [None, Some("forged")] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let r = w.app.post_with(http, action, &form).await;
            assert_eq!(r.status, 403, "{action} {csrf:?}");
        }
    }
    assert_eq!(w.smtp.count(), 1);
    assert_eq!(w.sessions().await, 1);
    assert_eq!(w.app.login_with(&common::client(), ANA, PASSWORD).await.status, 303);
    assert_eq!(w.app.get_with(&common::client(), &path).await.status, 200, "the link is unused");
}

#[tokio::test]
async fn sql_level_nobody_reads_resets_and_only_anon_requests_them() {
    let db = TestDb::new().await;
    let (t, _) = db.create_shop("Tienda").await;
    let owner = db.add_member(t, "o@example.com", "owner").await;
    let r = common::roles();
    let mut c = db.app_login().await;
    for role in [&r.owner, &r.admin, &r.staff, &r.anon] {
        for sql in [
            "select * from app.password_resets",
            "select * from app.password_reset_requests",
            "delete from app.password_resets",
            "insert into app.password_reset_requests (email) values ('x@example.com')",
        ] {
            let tx = c.transaction().await.expect("begin");
            common::set_ctx(&tx, Some(t), Some(owner), role).await;
            let got = tx.execute(sql, &[]).await;
            let code = got.as_ref().err().and_then(|e| e.code()).map(|c| c.code().to_string());
            assert_eq!(code.as_deref(), Some("42501"), "{role} {sql}: {got:?}");
        }
    }
    // a shop role cannot request resets (or reset) through the functions; anon can request
    for (role, sql, allowed) in [
        (&r.owner, "select * from app_private.request_password_reset('o@example.com', null, sha256('t'::bytea), interval '1 hour')", false),
        (&r.owner, "select app_private.reset_password(sha256('t'::bytea), 'h')", false),
        (&r.anon, "select * from app_private.request_password_reset('o@example.com', null, sha256('t'::bytea), interval '1 hour')", true),
        (&r.anon, "select app_private.reset_password(sha256('wrong'::bytea), 'h')", true),
    ] {
        let tx = c.transaction().await.expect("begin");
        common::set_ctx(&tx, Some(t), Some(owner), role).await;
        let got = tx.execute(sql, &[]).await;
        assert_eq!(got.is_ok(), allowed, "{role} {sql}: {got:?}");
    }
    // a wrong token resets nothing
    let admin = db.admin().await;
    let hash: String = admin
        .query_one("select password_hash from app.users where id = $1", &[&owner])
        .await
        .expect("hash")
        .get(0);
    assert!(hash.starts_with("$argon2id$"));
}
