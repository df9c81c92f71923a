//! Invitations end to end: the owner invites, a real SMTP server on loopback receives the e-mail
//! (text and HTML, in the shop's language), the link is followed with a real HTTP client to
//! accept as a new person or as an existing account; tampered, expired, reused, revoked and
//! replaced links change nothing; a mail server that is down keeps the invitation; bad input is
//! refused next to the field; CSRF on every form; and the SQL-level rules of app.invitations.
mod common;

use common::smtp::{self, SmtpServer};
use common::{Page, TestApp, TestDb, PASSWORD};
use stock::config::SmtpSettings;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

const OWNER: &str = "dueno@example.com";
const STAFF: &str = "sol@example.com";
const PUBLIC: &str = "https://stock.example.test";

struct World {
    app: TestApp,
    smtp: Option<SmtpServer>,
    admin: Client,
    tenant: i64,
    schema: String,
}

async fn world_with(smtp_url: Option<String>) -> World {
    let mut db = TestDb::new().await;
    db.config.smtp = smtp_url.map(|u| SmtpSettings::parse(&u).expect("smtp url"));
    db.config.public_url = Some(PUBLIC.into());
    db.config.mail_from = "Stock <no-reply@stock.example.test>".into();
    let (tenant, schema) = db.create_shop("Almacén Don José").await;
    db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    World { app, smtp: None, admin, tenant, schema }
}

async fn world() -> World {
    let smtp = SmtpServer::start().await;
    let mut w = world_with(Some(smtp.url())).await;
    w.smtp = Some(smtp);
    w
}

impl World {
    fn smtp(&self) -> &SmtpServer {
        self.smtp.as_ref().expect("smtp server")
    }

    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> i64 {
        let sql = sql.replace("{s}", &self.schema);
        self.admin.query_one(&sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn invitations(&self) -> i64 {
        self.count("select count(*) from app.invitations", &[]).await
    }

    async fn audit(&self, action: &str) -> i64 {
        self.count(
            "select count(*) from {s}.audit_log where entity = 'invitation' and action = $1",
            &[&action],
        )
        .await
    }

    async fn invite(&self, email: &str, role: &str) -> Page {
        self.app.submit("/members/invite", "/members/invite", &[("email", email), ("role", role)]).await
    }

    async fn invitation_id(&self, email: &str) -> i64 {
        self.count("select max(id) from app.invitations where email = $1", &[&email]).await
    }

    /// Invites and returns the link path from the delivered message number `n`.
    async fn invite_and_read(&self, email: &str, role: &str, n: usize) -> (String, smtp::Parsed) {
        let r = self.invite(email, role).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let m = self.smtp().wait_for(n).await;
        assert_eq!(m.to, vec![email.to_string()]);
        let parsed = smtp::parse(&m);
        let link = parsed.link(PUBLIC);
        (local(&link), parsed)
    }
}

/// The path and query of a link in an e-mail, to follow on the test server.
fn local(link: &str) -> String {
    link.strip_prefix(PUBLIC).unwrap_or_else(|| panic!("link not under {PUBLIC}: {link}")).to_string()
}

fn token_of(path: &str) -> String {
    path.split("token=").nth(1).expect("token").to_string()
}

/// Posts the new-account form of the link `path` (CSRF token from the login page, so it also
/// works for links whose page shows no form).
async fn accept_new(app: &TestApp, http: &reqwest::Client, path: &str, name: &str) -> Page {
    app.submit_with(
        http,
        "/login",
        "/invite/accept",
        &[
            ("token", &token_of(path)),
            ("display_name", name),
            ("password", "una-clave-nueva-123"),
            ("password_confirm", "una-clave-nueva-123"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_new_person_accepts_by_e_mail_and_the_link_then_is_spent() {
    let w = world().await;
    let (path, mail) = w.invite_and_read("ana@example.com", "staff", 1).await;

    // the message: both bodies, the shop's language (Spanish by default), the link in both
    assert!(mail.subject().contains("Almacén Don José"), "{}", mail.subject());
    assert!(mail.subject().contains("lo invita"), "{}", mail.subject());
    assert!(mail.text.contains("como Empleado"), "{}", mail.text);
    assert!(mail.html.contains("<a href=\"https://stock.example.test/invite/accept?token="), "{}", mail.html);
    assert!(mail.html.contains("Aceptar la invitación"), "{}", mail.html);
    assert!(path.starts_with("/invite/accept?token="), "{path}");
    assert_eq!(w.count("select send_count::bigint from app.invitations", &[]).await, 1);
    assert_eq!(w.audit("sent").await, 1);

    let owner_list = w.app.get("/members/invitations").await;
    assert!(owner_list.body.contains("ana@example.com"), "{}", owner_list.body);
    assert!(owner_list.body.contains("Invitación enviada."), "flash shown: {}", owner_list.body);

    // the link, signed out: shop and role read-only, then name and password
    let http = common::client();
    let p = w.app.get_with(&http, &path).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Almacén Don José") && p.body.contains("Empleado"), "{}", p.body);
    assert!(p.body.contains("ana@example.com"));
    assert!(!p.body.contains("name=\"role\""), "the role is not a form field");

    // a short password comes back next to the field, nothing written
    let users_before = w.count("select count(*) from app.users", &[]).await;
    let bad = w
        .app
        .submit_with(
            &http,
            &path,
            "/invite/accept",
            &[
                ("token", &token_of(&path)),
                ("display_name", "Ana"),
                ("password", "corta"),
                ("password_confirm", "corta"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Use al menos 8 caracteres."), "{}", bad.body);
    assert_eq!(w.count("select count(*) from app.users", &[]).await, users_before);

    let r = accept_new(&w.app, &http, &path, "Ana Pérez").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/dashboard"));
    let dash = w.app.get_with(&http, "/dashboard").await;
    assert!(dash.body.contains("Almacén Don José"), "{}", dash.body);
    let ana = w.count("select id from app.users where email = 'ana@example.com'", &[]).await;
    assert_eq!(
        w.count(
            "select count(*) from app.memberships where user_id = $1 and tenant_id = $2 and role = 'staff'",
            &[&ana, &w.tenant]
        )
        .await,
        1
    );
    assert_eq!(w.audit("accepted").await, 1);
    assert_eq!(
        w.count("select user_id from {s}.audit_log where entity = 'invitation' and action = 'accepted'", &[])
            .await,
        ana
    );
    // staff cannot reach the invitations
    assert_eq!(w.app.get_with(&http, "/members/invitations").await.status, 403);

    // the same link again, signed out or in: a clear page, nothing changes
    let again = w.app.get_with(&common::client(), &path).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(again.body.contains("ya fue aceptada"), "{}", again.body);
    let users = w.count("select count(*) from app.users", &[]).await;
    let r = accept_new(&w.app, &common::client(), &path, "Otra Ana").await;
    assert!(r.status == 410 || r.status == 400, "{}: {}", r.status, r.body);
    assert_eq!(w.count("select count(*) from app.users", &[]).await, users);
    assert_eq!(w.audit("accepted").await, 1);
}

#[tokio::test]
async fn the_e_mail_is_in_the_shop_language() {
    let w = world().await;
    let sql = format!(
        "begin; select set_config('app.tenant_id', '{}', true); update {}.settings set locale = 'en'; commit;",
        w.tenant, w.schema
    );
    w.admin.batch_execute(&sql).await.expect("english shop");
    let (_, mail) = w.invite_and_read("sam@example.com", "admin", 1).await;
    assert!(mail.subject().contains("invites you to Almacén Don José"), "{}", mail.subject());
    assert!(mail.text.contains("as Administrator"), "{}", mail.text);
    assert!(mail.html.contains("Accept the invitation"), "{}", mail.html);
    assert!(!mail.text.contains("lo invita"), "{}", mail.text);
}

#[tokio::test]
async fn an_existing_account_joins_after_signing_in() {
    let w = world().await;
    let (other, _) = w.app.db.create_shop("Otro Kiosco").await;
    let bea = w.app.db.add_member(other, "bea@example.com", "owner").await;
    let (path, _) = w.invite_and_read("bea@example.com", "admin", 1).await;

    // signed out: told to log in first; no account form
    let anon = w.app.get_with(&common::client(), &path).await;
    assert_eq!(anon.status, 200);
    assert!(anon.body.contains("Este correo ya tiene una cuenta"), "{}", anon.body);
    assert!(!anon.body.contains("name=\"password\""), "{}", anon.body);

    // signed in as somebody else: refused, nothing changes
    let sol = common::client();
    assert_eq!(w.app.login_with(&sol, STAFF, PASSWORD).await.status, 303);
    let p = w.app.get_with(&sol, &path).await;
    assert!(p.body.contains("Ingresó como sol@example.com"), "{}", p.body);
    let r = w.app.submit_with(&sol, &path, "/invite/accept", &[("token", &token_of(&path))]).await;
    assert!(r.status >= 400, "{}: {}", r.status, r.body);
    assert_eq!(w.count("select count(*) from app.memberships where user_id = $1", &[&bea]).await, 1);
    assert_eq!(w.count("select count(*) from app.invitations where accepted_at is not null", &[]).await, 0);

    // signed in as bea: one button, then she is an admin of the shop, in it
    let http = common::client();
    assert_eq!(w.app.login_with(&http, "bea@example.com", PASSWORD).await.status, 303);
    let p = w.app.get_with(&http, &path).await;
    assert!(p.body.contains("Unirme a Almacén Don José"), "{}", p.body);
    let r = w.app.submit_with(&http, &path, "/invite/accept", &[("token", &token_of(&path))]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        w.count(
            "select count(*) from app.memberships where user_id = $1 and tenant_id = $2 and role = 'admin'",
            &[&bea, &w.tenant]
        )
        .await,
        1
    );
    let dash = w.app.get_with(&http, "/dashboard").await;
    assert!(dash.body.contains("Almacén Don José") && dash.body.contains("Administrador"), "{}", dash.body);
    // her password did not change, her other shop is still hers
    assert_eq!(w.app.login_with(&common::client(), "bea@example.com", PASSWORD).await.status, 303);
    assert_eq!(w.count("select count(*) from app.memberships where user_id = $1", &[&bea]).await, 2);
    assert_eq!(w.audit("accepted").await, 1);
}

#[tokio::test]
async fn tampered_expired_revoked_and_replaced_links_change_nothing() {
    let w = world().await;
    let (path, _) = w.invite_and_read("caro@example.com", "staff", 1).await;
    let token = token_of(&path);
    let id = w.invitation_id("caro@example.com").await;

    // tampered: one character of the signature, or of the claims
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let p = w.app.get_with(&common::client(), &format!("/invite/accept?token={tampered}")).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("no es válido"), "{}", p.body);
    let r = accept_new(&w.app, &common::client(), &format!("/invite/accept?token={tampered}"), "Caro").await;
    assert_eq!(r.status, 400);
    assert_eq!(w.app.get_with(&common::client(), "/invite/accept?token=").await.status, 400);

    // expired: a token signed with the same key, exp in the past
    let key = w.app.db.config.secret_key.expose().to_string();
    let nonce = stock::domain::invitations::Nonce::generate();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let expired = stock::domain::invitations::issue(&key, id, w.tenant, "caro@example.com", &nonce, past)
        .expect("sign");
    let p = w.app.get_with(&common::client(), &format!("/invite/accept?token={expired}")).await;
    assert_eq!(p.status, 410, "{}", p.body);
    assert!(p.body.contains("venció"), "{}", p.body);
    // and a current token whose row expired in the database
    w.admin
        .execute("update app.invitations set expires_at = now() - interval '1 second' where id = $1", &[&id])
        .await
        .expect("expire");
    let p = w.app.get_with(&common::client(), &path).await;
    assert_eq!(p.status, 410, "{}", p.body);
    let r = accept_new(&w.app, &common::client(), &path, "Caro").await;
    assert_eq!(r.status, 410, "{}", r.body);
    assert_eq!(w.count("select count(*) from app.users where email = 'caro@example.com'", &[]).await, 0);
    let list = w.app.get("/members/invitations").await;
    assert!(list.body.contains("vencida"), "{}", list.body);

    // resend: a new link (valid again for 7 days); the old one is replaced
    let r = w.app.submit("/members/invitations", &format!("/members/invitations/{id}/resend"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let fresh = local(&smtp::parse(&w.smtp().wait_for(2).await).link(PUBLIC));
    assert_ne!(fresh, path);
    let p = w.app.get_with(&common::client(), &path).await;
    assert_eq!(p.status, 410);
    assert!(p.body.contains("se volvió a enviar"), "{}", p.body);
    assert_eq!(accept_new(&w.app, &common::client(), &path, "Caro").await.status, 400);
    assert_eq!(w.app.get_with(&common::client(), &fresh).await.status, 200);
    assert_eq!(w.audit("resent").await, 1);
    assert_eq!(w.count("select send_count::bigint from app.invitations where id = $1", &[&id]).await, 2);

    // revoke: the fresh link dies too
    let r = w.app.submit("/members/invitations", &format!("/members/invitations/{id}/revoke"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = w.app.get_with(&common::client(), &fresh).await;
    assert_eq!(p.status, 410);
    assert!(p.body.contains("revocó"), "{}", p.body);
    assert_eq!(accept_new(&w.app, &common::client(), &fresh, "Caro").await.status, 410);
    assert_eq!(w.count("select count(*) from app.users where email = 'caro@example.com'", &[]).await, 0);
    assert_eq!(w.audit("revoked").await, 1);
    // a revoked invitation cannot be resent or revoked again
    let r = w.app.submit("/members/invitations", &format!("/members/invitations/{id}/resend"), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(w.smtp().count(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_next_to_the_field_and_nothing_is_written() {
    let w = world().await;
    assert_eq!(w.invite("pia@example.com", "staff").await.status, 303);
    let before = w.invitations().await;
    let cases: &[(&str, &str, &str)] = &[
        ("not-an-email", "staff", "Ingrese un correo electrónico válido."),
        ("", "staff", "Este campo es obligatorio."),
        ("lia@example.com", "owner", "Elija administrador o empleado."),
        ("lia@example.com", "superuser'; drop table app.users; --", "Elija administrador o empleado."),
        ("lia@example.com", "", "Este campo es obligatorio."),
        (STAFF, "admin", "Esta persona ya es miembro del negocio."),
        ("PIA@example.com", "admin", "Ya hay una invitación abierta para este correo"),
    ];
    for (email, role, message) in cases {
        let r = w.invite(email, role).await;
        assert_eq!(r.status, 422, "{email}/{role}: {}", r.body);
        assert!(r.body.contains(message), "{email}/{role}: {}", r.body);
        assert!(r.body.contains("aria-invalid=\"true\""), "{email}/{role}");
    }
    assert_eq!(w.invitations().await, before);
    assert_eq!(w.smtp().count(), 1);
    assert_eq!(w.audit("sent").await, 1);

    // staff and admin may not invite
    let admin_http = common::client();
    w.app.db.add_member(w.tenant, "adm@example.com", "admin").await;
    assert_eq!(w.app.login_with(&admin_http, "adm@example.com", PASSWORD).await.status, 303);
    assert_eq!(w.app.get_with(&admin_http, "/members/invitations").await.status, 403);
    assert_eq!(w.app.get_with(&admin_http, "/members/invite").await.status, 403);
    let token = w.app.get_with(&admin_http, "/dashboard").await.csrf();
    let r = w
        .app
        .post_with(
            &admin_http,
            "/members/invite",
            &[("csrf", &token), ("email", "x@example.com"), ("role", "staff")],
        )
        .await;
    assert_eq!(r.status, 403);
    let id = w.invitation_id("pia@example.com").await;
    let r =
        w.app.post_with(&admin_http, &format!("/members/invitations/{id}/revoke"), &[("csrf", &token)]).await;
    assert_eq!(r.status, 403);
    assert_eq!(w.invitations().await, before);
    assert_eq!(w.count("select count(*) from app.invitations where revoked_at is not null", &[]).await, 0);
}

#[tokio::test]
async fn a_mail_server_that_is_down_keeps_the_invitation_and_a_resend_works_later() {
    // a port where nothing listens yet
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let w = world_with(Some(format!("smtp://127.0.0.1:{port}"))).await;
    let r = w.invite("rio@example.com", "staff").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = w.app.get("/members/invitations").await;
    assert!(list.body.contains("no se pudo enviar el correo"), "{}", list.body);
    assert!(
        list.body.contains("rio@example.com") && list.body.contains("todavía no se envió"),
        "{}",
        list.body
    );
    let id = w.invitation_id("rio@example.com").await;
    assert_eq!(w.count("select send_count::bigint from app.invitations where id = $1", &[&id]).await, 0);
    assert_eq!(w.count("select count(*) from app.invitations where last_sent_at is null", &[]).await, 1);

    // the server comes back: send again, and the link works
    let smtp = SmtpServer::start_on(port).await;
    let r = w.app.submit("/members/invitations", &format!("/members/invitations/{id}/resend"), &[]).await;
    assert_eq!(r.status, 303);
    let list = w.app.get("/members/invitations").await;
    assert!(list.body.contains("Invitación enviada."), "{}", list.body);
    let link = local(&smtp::parse(&smtp.wait_for(1).await).link(PUBLIC));
    assert_eq!(w.count("select send_count::bigint from app.invitations where id = $1", &[&id]).await, 1);
    assert_eq!(accept_new(&w.app, &common::client(), &link, "Río").await.status, 303);
}

#[tokio::test]
async fn without_a_mail_server_the_message_goes_to_the_mail_directory() {
    let dir = std::env::temp_dir().join(format!("stock-invite-mail-{}", rand::random::<u32>()));
    let mut db = TestDb::new().await;
    db.config.mail_dir = dir.clone();
    let (tenant, _) = db.create_shop("Kiosco Dev").await;
    db.add_member(tenant, OWNER, "owner").await;
    let app = common::spawn_app_on(db).await;
    assert_eq!(app.login(OWNER, PASSWORD).await.status, 303);
    let r = app
        .submit("/members/invite", "/members/invite", &[("email", "dev@example.com"), ("role", "staff")])
        .await;
    assert_eq!(r.status, 303);
    let files: Vec<_> = std::fs::read_dir(&dir).expect("mail dir").flatten().collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).expect("eml");
    assert!(eml.contains("To: dev@example.com"), "{eml}");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[tokio::test]
async fn every_invitation_form_checks_csrf() {
    let w = world().await;
    let (path, _) = w.invite_and_read("tom@example.com", "staff", 1).await;
    let id = w.invitation_id("tom@example.com").await;
    let before = w.invitations().await;
    for (action, fields) in [
        ("/members/invite".to_string(), vec![("email", "x@example.com"), ("role", "staff")]),
        (format!("/members/invitations/{id}/resend"), vec![("go", "1")]),
        (format!("/members/invitations/{id}/revoke"), vec![("go", "1")]),
    ] {
        for csrf in [None, Some("forged-token")] {
            let mut form = fields.clone();
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let r = w.app.post(&action, &form).await;
            assert_eq!(r.status, 403, "{action} {csrf:?}: {}", r.body);
        }
    }
    // the accept form, signed out, with the page's anonymous cookie but a wrong token
    let http = common::client();
    w.app.get_with(&http, &path).await;
    let token = token_of(&path);
    let r = w
        .app
        .post_with(
            &http,
            "/invite/accept",
            &[
                ("csrf", "nope"),
                ("token", &token),
                ("display_name", "Tom"),
                ("password", "clave-larga-1"),
                ("password_confirm", "clave-larga-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(w.invitations().await, before);
    assert_eq!(
        w.count(
            "select count(*) from app.invitations where revoked_at is not null or accepted_at is not null",
            &[]
        )
        .await,
        0
    );
    assert_eq!(w.count("select count(*) from app.users where email = 'tom@example.com'", &[]).await, 0);
    assert_eq!(w.smtp().count(), 1);
}

/// Runs `sql` as the app's login role in a context, then rolls back.
async fn as_role(
    c: &mut Client,
    tenant: Option<i64>,
    user: Option<i64>,
    role: &str,
    sql: &str,
) -> Result<u64, tokio_postgres::Error> {
    let tx = c.transaction().await.expect("begin");
    common::set_ctx(&tx, tenant, user, role).await;
    tx.execute(sql, &[]).await
}

fn code(r: &Result<u64, tokio_postgres::Error>) -> Option<String> {
    r.as_ref().err().and_then(|e| e.code()).map(|c| c.code().to_string())
}

#[tokio::test]
async fn sql_level_only_the_shops_owner_reaches_its_invitations() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Tienda A").await;
    let (b, _) = db.create_shop("Tienda B").await;
    let owner_a = db.add_member(a, "owner-a@example.com", "owner").await;
    let admin_a = db.add_member(a, "admin-a@example.com", "admin").await;
    let staff_a = db.add_member(a, "staff-a@example.com", "staff").await;
    let owner_b = db.add_member(b, "owner-b@example.com", "owner").await;
    let admin = db.admin().await;
    for (t, u) in [(a, owner_a), (b, owner_b)] {
        let tx_sql = format!(
            "begin; select set_config('app.tenant_id', '{t}', true), set_config('app.user_id', '{u}', true);
             insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
             values ({t}, 'guest-{t}@example.com', 'staff', {u}, sha256('n{t}'::bytea)); commit;"
        );
        admin.batch_execute(&tx_sql).await.expect("seed invitation");
    }
    let r = common::roles();
    let mut c = db.app_login().await;
    let owner = Some(a);

    // the owner reads and changes only its shop's open invitations
    assert_eq!(
        as_role(&mut c, owner, Some(owner_a), &r.owner, "select id from app.invitations").await.ok(),
        Some(1)
    );
    let other = format!("select id from app.invitations where tenant_id = {b}");
    assert_eq!(as_role(&mut c, owner, Some(owner_a), &r.owner, &other).await.ok(), Some(0));
    let revoke_b = format!("update app.invitations set revoked_at = now() where tenant_id = {b}");
    assert_eq!(as_role(&mut c, owner, Some(owner_a), &r.owner, &revoke_b).await.ok(), Some(0));
    let insert = |t: i64, by: i64, role: &str| {
        format!(
            "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
             values ({t}, 'new@example.com', '{role}', {by}, sha256('x'::bytea))"
        )
    };
    assert_eq!(
        as_role(&mut c, owner, Some(owner_a), &r.owner, &insert(a, owner_a, "admin")).await.ok(),
        Some(1)
    );
    let cross = as_role(&mut c, owner, Some(owner_a), &r.owner, &insert(b, owner_a, "admin")).await;
    assert_eq!(code(&cross).as_deref(), Some("42501"), "{cross:?}");
    let forged_by = as_role(&mut c, owner, Some(owner_a), &r.owner, &insert(a, admin_a, "admin")).await;
    assert_eq!(code(&forged_by).as_deref(), Some("42501"), "{forged_by:?}");
    let as_owner_role = as_role(&mut c, owner, Some(owner_a), &r.owner, &insert(a, owner_a, "owner")).await;
    assert_eq!(code(&as_owner_role).as_deref(), Some("23514"), "{as_owner_role:?}");
    // what the server decides is not writable: acceptance, expiry; and nothing is deleted
    for sql in [
        "update app.invitations set accepted_at = now()",
        "update app.invitations set expires_at = now() + interval '1 year'",
        "update app.invitations set tenant_id = tenant_id",
        "delete from app.invitations",
        "select nonce_hash from app.invitations",
    ] {
        let got = as_role(&mut c, owner, Some(owner_a), &r.owner, sql).await;
        assert_eq!(code(&got).as_deref(), Some("42501"), "{sql}: {got:?}");
    }
    // admin, staff, signed out, and the bare login role: nothing at all
    for (role, user) in [(&r.admin, Some(admin_a)), (&r.staff, Some(staff_a)), (&r.anon, None)] {
        for sql in ["select id from app.invitations", &insert(a, admin_a, "staff") as &str] {
            let got = as_role(&mut c, owner, user, role, sql).await;
            assert_eq!(code(&got).as_deref(), Some("42501"), "{role} {sql}: {got:?}");
        }
    }
    let bare = c.execute("select id from app.invitations", &[]).await;
    assert_eq!(
        bare.err().and_then(|e| e.code().cloned()).map(|c| c.code().to_string()).as_deref(),
        Some("42501")
    );
    // wrong context: the owner role with no shop, or shop B's id, sees none of A's
    assert_eq!(
        as_role(&mut c, None, Some(owner_a), &r.owner, "select id from app.invitations").await.ok(),
        Some(0)
    );

    // memberships still never come from a plain INSERT, even for an owner with an invitation
    let direct = as_role(
        &mut c,
        owner,
        Some(owner_a),
        &r.owner,
        &format!("insert into app.memberships (tenant_id, user_id, role) values ({a}, {owner_b}, 'staff')"),
    )
    .await;
    assert_eq!(code(&direct).as_deref(), Some("42501"), "{direct:?}");
    // the accept functions need the current link's nonce; a guess changes nothing
    let guess = as_role(
        &mut c,
        None,
        None,
        &r.anon,
        &format!(
            "select app_private.accept_invitation_new(id, tenant_id, email, sha256('guess'::bytea), 'X', 'h', 'es',
                    null, sha256('s'::bytea), interval '1 hour', null, null)
               from (select {id} as id, {a}::bigint as tenant_id, 'guest-{a}@example.com'::text as email) g",
            id = admin
                .query_one("select id from app.invitations where tenant_id = $1", &[&a])
                .await
                .expect("id")
                .get::<_, i64>(0)
        ),
    )
    .await;
    assert_eq!(code(&guess).as_deref(), Some("P0002"), "{guess:?}");
    let preview = as_role(
        &mut c,
        None,
        None,
        &r.anon,
        &format!("select * from app_private.invitation_preview(1, {a}, 'guest-{a}@example.com', sha256('guess'::bytea)) where shop_name is not null"),
    )
    .await;
    assert_eq!(preview.ok(), Some(0));
    // and the provisioning path stays closed to every request role
    for role in [&r.owner, &r.anon] {
        let got = as_role(
            &mut c,
            owner,
            Some(owner_a),
            role,
            "select app_private.add_member(1, 'x@example.com', 'X', null, 'staff')",
        )
        .await;
        assert_eq!(code(&got).as_deref(), Some("42501"), "{role}: {got:?}");
    }
    let audit = admin
        .query_one(&format!("select count(*) from tenant_{a}.audit_log where entity = 'invitation'"), &[])
        .await
        .expect("audit")
        .get::<_, i64>(0);
    assert_eq!(audit, 1, "only the seeded invitation was recorded (every probe rolled back)");
}
