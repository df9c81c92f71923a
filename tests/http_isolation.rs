//! Shops are isolated over HTTP: nobody reaches, lists or even sees the name of a shop they are
//! not a member of; roles show as such; hostile shop names are stored as typed and shown escaped.
mod common;

use common::{Page, TestApp, PASSWORD};
use stock::domain::auth::SessionToken;

const SHOP_A: &str = "Almacén Alfa";
const SHOP_B: &str = "Bazar Beta Secreto";

fn cookie_value(p: &Page, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    let line = p.set_cookies.iter().find(|c| c.starts_with(&prefix))?;
    Some(line.split(';').next()?[prefix.len()..].to_string())
}

async fn tenant_id(app: &TestApp, name: &str) -> i64 {
    app.db
        .admin()
        .await
        .query_one("select id from app.tenants where name = $1", &[&name])
        .await
        .unwrap_or_else(|e| panic!("tenant {name}: {e}"))
        .get(0)
}

/// The shop the session of this cookie is in, per the database.
async fn session_tenant(app: &TestApp, cookie: &str) -> Option<i64> {
    let hash = SessionToken::from_cookie(cookie).expect("shape").hash();
    app.db
        .admin()
        .await
        .query_one("select tenant_id from app.sessions where token_hash = $1", &[&hash])
        .await
        .expect("session row")
        .get(0)
}

fn dashboard_shop(body: &str) -> Option<&str> {
    let marker = "<section class=\"card\"><h2>";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find("</h2>")?;
    Some(&body[start..start + end])
}

fn dashboard_role(body: &str) -> Option<&str> {
    let marker = "<dd class=\"role\">";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find("</dd>")?;
    Some(&body[start..start + end])
}

/// The names listed on /shops, in order.
fn listed_shops(body: &str) -> Vec<String> {
    let Some(start) = body.find("<ul class=\"shops\">") else { return vec![] };
    let end = body[start..].find("</ul>").map(|e| start + e).unwrap_or(body.len());
    body[start..end]
        .split("<strong>")
        .skip(1)
        .filter_map(|s| s.split("</strong>").next())
        .map(str::to_string)
        .collect()
}

/// Two shops, each with its owner signed in in their own browser.
struct TwoShops {
    app: TestApp,
    a: reqwest::Client,
    b: reqwest::Client,
    a_cookie: String,
    a_id: i64,
    b_id: i64,
}

async fn two_shops() -> TwoShops {
    let app = common::spawn_app().await;
    let (a, b) = (common::client(), common::client());
    let ra = app.signup_with(&a, SHOP_A, "alfa@example.com").await;
    assert_eq!(ra.status, 303, "{}", ra.body);
    let rb = app.signup_with(&b, SHOP_B, "beta@example.com").await;
    assert_eq!(rb.status, 303, "{}", rb.body);
    let a_cookie = cookie_value(&ra, "stock_session").expect("session");
    let a_id = tenant_id(&app, SHOP_A).await;
    let b_id = tenant_id(&app, SHOP_B).await;
    TwoShops { app, a, b, a_cookie, a_id, b_id }
}

/// Local links (`href="/…"`) of a page, without the language switch and static files.
fn local_links(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| !h.starts_with("/lang/") && !h.starts_with("/static/"))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// Every page a signed-in person can reach (GET): fixed pages plus every local link found on
/// the dashboard and the shop list (so pages added later are covered too).
async fn all_pages(app: &TestApp, http: &reqwest::Client) -> Vec<(String, Page)> {
    let mut paths: Vec<String> =
        ["/dashboard", "/shops", "/login", "/signup", "/nope"].iter().map(|s| s.to_string()).collect();
    for start in ["/dashboard", "/shops"] {
        let p = app.get_with(http, start).await;
        for link in local_links(&p.body) {
            if !paths.contains(&link) {
                paths.push(link);
            }
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let p = app.get_with(http, &path).await;
        assert!(p.status < 500, "GET {path}: {}\n{}", p.status, p.body);
        out.push((path, p));
    }
    out
}

fn assert_never_mentions(pages: &[(String, Page)], needle: &str, who: &str) {
    for (path, p) in pages {
        assert!(!p.body.contains(needle), "{who}: {path} mentions {needle:?}:\n{}", p.body);
    }
}

#[tokio::test]
async fn an_owner_cannot_switch_into_another_shop() {
    let s = two_shops().await;
    let app = &s.app;
    let b_id = s.b_id.to_string();
    let r = app.submit_with(&s.a, "/shops", "/shops/switch", &[("tenant_id", &b_id)]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("Página no encontrada"), "{}", r.body);
    assert!(!r.body.contains(SHOP_B), "the 404 must not reveal the other shop");
    assert!(r.location.is_none());
    assert_eq!(session_tenant(app, &s.a_cookie).await, Some(s.a_id), "A's session stays on A");
    let d = app.get_with(&s.a, "/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some(SHOP_A), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Dueño"));
    assert!(!d.body.contains("Cambió de negocio."), "no switch flash");

    // a shop that does not exist at all answers the same way
    let r = app.submit_with(&s.a, "/shops", "/shops/switch", &[("tenant_id", "999999")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app.submit_with(&s.a, "/shops", "/shops/switch", &[("tenant_id", "-1")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(session_tenant(app, &s.a_cookie).await, Some(s.a_id));

    // and no membership was created on the way
    let members: i64 = app
        .db
        .admin()
        .await
        .query_one("select count(*) from app.memberships where tenant_id = $1", &[&s.b_id])
        .await
        .expect("q")
        .get(0);
    assert_eq!(members, 1, "B still has only its owner");
    // B is unaffected
    let d = app.get_with(&s.b, "/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some(SHOP_B));
}

#[tokio::test]
async fn an_owner_never_sees_another_shop() {
    let s = two_shops().await;
    let shops = s.app.get_with(&s.a, "/shops").await;
    assert_eq!(shops.status, 200);
    assert_eq!(listed_shops(&shops.body), vec![SHOP_A.to_string()], "{}", shops.body);
    assert!(!shops.body.contains(&format!("value=\"{}\"", s.b_id)), "no switch button for B");
    let pages = all_pages(&s.app, &s.a).await;
    assert_never_mentions(&pages, SHOP_B, "owner of A");
    let pages = all_pages(&s.app, &s.b).await;
    assert_never_mentions(&pages, SHOP_A, "owner of B");
    let shops_b = s.app.get_with(&s.b, "/shops").await;
    assert_eq!(listed_shops(&shops_b.body), vec![SHOP_B.to_string()]);
}

#[tokio::test]
async fn admins_and_staff_see_their_role_and_only_their_shop() {
    let s = two_shops().await;
    let app = &s.app;
    s.app.db.add_member(s.a_id, "admin@example.com", "admin").await;
    s.app.db.add_member(s.a_id, "staff@example.com", "staff").await;
    for (email, label) in [("admin@example.com", "Administrador"), ("staff@example.com", "Empleado")] {
        let http = common::client();
        let r = app.login_with(&http, email, PASSWORD).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{email}: {}", r.body);
        let cookie = cookie_value(&r, "stock_session").expect("session");
        assert_eq!(session_tenant(app, &cookie).await, Some(s.a_id), "{email} starts in A");
        let d = app.get_with(&http, "/dashboard").await;
        assert_eq!(d.status, 200);
        assert_eq!(dashboard_shop(&d.body), Some(SHOP_A), "{email}: {}", d.body);
        assert_eq!(dashboard_role(&d.body), Some(label), "{email}: {}", d.body);
        assert!(!d.body.contains("Dueño"), "{email} is not shown as owner: {}", d.body);
        let shops = app.get_with(&http, "/shops").await;
        assert_eq!(listed_shops(&shops.body), vec![SHOP_A.to_string()], "{email}: {}", shops.body);
        assert!(shops.body.contains(&format!("<strong>{SHOP_A}</strong> · {label}")), "{}", shops.body);
        assert_never_mentions(&all_pages(app, &http).await, SHOP_B, email);
        // switching into B is refused and leaves the session in A
        let r =
            app.submit_with(&http, "/shops", "/shops/switch", &[("tenant_id", &s.b_id.to_string())]).await;
        assert_eq!(r.status, 404, "{email}: {}", r.body);
        assert_eq!(session_tenant(app, &cookie).await, Some(s.a_id));
        // in English as well
        let en = app.get_with(&http, "/lang/en").await;
        assert_eq!(en.status, 303);
        let d = app.get_with(&http, "/dashboard").await;
        let en_label = if label == "Administrador" { "Administrator" } else { "Staff" };
        assert_eq!(dashboard_role(&d.body), Some(en_label), "{}", d.body);
    }
}

#[tokio::test]
async fn a_member_of_both_shops_can_switch_between_them() {
    let s = two_shops().await;
    let app = &s.app;
    app.db.add_member(s.a_id, "both@example.com", "staff").await;
    app.db.add_member(s.b_id, "both@example.com", "staff").await;
    let http = common::client();
    let r = app.login_with(&http, "both@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = cookie_value(&r, "stock_session").expect("session");
    assert_eq!(session_tenant(app, &cookie).await, Some(s.a_id), "starts in the oldest membership");

    let shops = app.get_with(&http, "/shops").await;
    let mut listed = listed_shops(&shops.body);
    listed.sort();
    assert_eq!(listed, vec![SHOP_A.to_string(), SHOP_B.to_string()], "{}", shops.body);

    let r = app.submit_with(&http, "/shops", "/shops/switch", &[("tenant_id", &s.b_id.to_string())]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    assert_eq!(session_tenant(app, &cookie).await, Some(s.b_id));
    let d = app.get_with(&http, "/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some(SHOP_B), "{}", d.body);
    assert_eq!(dashboard_role(&d.body), Some("Empleado"));

    let r = app.submit_with(&http, "/shops", "/shops/switch", &[("tenant_id", &s.a_id.to_string())]).await;
    assert_eq!(r.status, 303);
    let d = app.get_with(&http, "/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some(SHOP_A));

    // once removed from B, switching there is refused again
    app.db
        .admin()
        .await
        .execute(
            "delete from app.memberships m using app.users u
              where m.user_id = u.id and u.email = 'both@example.com' and m.tenant_id = $1",
            &[&s.b_id],
        )
        .await
        .expect("remove from B");
    let r = app.submit_with(&http, "/shops", "/shops/switch", &[("tenant_id", &s.b_id.to_string())]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let shops = app.get_with(&http, "/shops").await;
    assert_eq!(listed_shops(&shops.body), vec![SHOP_A.to_string()]);
}

#[tokio::test]
async fn losing_the_membership_of_the_current_shop_drops_the_shop_from_the_session() {
    let s = two_shops().await;
    let app = &s.app;
    app.db.add_member(s.a_id, "staff@example.com", "staff").await;
    let http = common::client();
    app.login_with(&http, "staff@example.com", PASSWORD).await;
    assert_eq!(dashboard_shop(&app.get_with(&http, "/dashboard").await.body), Some(SHOP_A));
    app.db
        .admin()
        .await
        .execute(
            "delete from app.memberships m using app.users u
              where m.user_id = u.id and u.email = 'staff@example.com'",
            &[],
        )
        .await
        .expect("remove");
    let d = app.get_with(&http, "/dashboard").await;
    assert_eq!(d.status, 200);
    assert_eq!(dashboard_shop(&d.body), None, "no shop shown after removal: {}", d.body);
    assert!(d.body.contains("Todavía no pertenece a ningún negocio."), "{}", d.body);
    assert!(!d.body.contains(SHOP_A), "{}", d.body);
}

/// GET /dashboard sends its statement with the session statement for the shop and role the
/// session had at its last request (`http::hints`). When the role changes in between, the page
/// still follows the database: an admin made staff sees no money on the very next request (the
/// guessed statement with money is either refused for staff or its rows are not used), and made
/// admin again sees it again. Each page leaves the shop and role it found for the next one, and a
/// session that ended is forgotten.
#[tokio::test]
async fn a_role_changed_between_two_dashboards_is_what_the_next_one_shows() {
    let s = two_shops().await;
    let app = &s.app;
    let hints = &app.app.as_ref().expect("the server runs in this process").shop_hints;
    let person = app.db.add_member(s.a_id, "varies@example.com", "admin").await;
    let http = common::client();
    let login = app.login_with(&http, "varies@example.com", PASSWORD).await;
    assert_eq!(login.status, 303);
    let hash = SessionToken::from_cookie(&cookie_value(&login, "stock_session").expect("session"))
        .expect("shape")
        .hash();
    let set_role = |role: &'static str| async move {
        app.db
            .admin()
            .await
            .execute(
                "update app.memberships set role = $1 where user_id = $2 and tenant_id = $3",
                &[&role, &person, &s.a_id],
            )
            .await
            .expect("role");
    };
    for (role, label, money) in
        [("admin", "Administrador", true), ("staff", "Empleado", false), ("admin", "Administrador", true)]
    {
        set_role(role).await;
        // twice: the first after the change meets a stale hint, the second a fresh one
        for round in 0..2 {
            let d = app.get_with(&http, "/dashboard").await;
            assert_eq!(d.status, 200, "{role} {round}: {}", d.body);
            assert_eq!(dashboard_shop(&d.body), Some(SHOP_A), "{role} {round}");
            assert_eq!(dashboard_role(&d.body), Some(label), "{role} {round}");
            assert_eq!(d.body.contains("Ingresos de hoy"), money, "{role} {round}: {}", d.body);
            // the page leaves what it found for the next request's one flush
            let hint = hints.get(&hash).expect("hint");
            assert_eq!((hint.tenant_id, hint.role.as_str()), (s.a_id, role), "{role} {round}");
        }
    }
    // the owner of the other shop, on the same server, still sees only theirs
    let d = app.get_with(&s.b, "/dashboard").await;
    assert_eq!(dashboard_shop(&d.body), Some(SHOP_B));
    // the session ends elsewhere (revoked, expired): with the old cookie and a hint, the next
    // dashboard asks to sign in and forgets the session
    app.db
        .admin()
        .await
        .execute("delete from app.sessions where token_hash = $1", &[&hash])
        .await
        .expect("end the session");
    let d = app.get_with(&http, "/dashboard").await;
    assert_eq!((d.status, d.location.as_deref()), (303, Some("/login")), "{}", d.body);
    assert_eq!(hints.get(&hash), None);
}

const HOSTILE: &str = "<script>alert(1)</script>'; drop table app.users; --";

#[tokio::test]
async fn hostile_shop_and_person_names_are_stored_as_typed_and_shown_escaped() {
    let app = common::spawn_app().await;
    let person = "<img src=x onerror=alert(2)>\"Ana\"";
    let r = app
        .submit(
            "/signup",
            "/signup",
            &[
                ("shop_name", HOSTILE),
                ("display_name", person),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let db = app.db.admin().await;
    let (name, slug): (String, String) = db
        .query_one("select name, slug from app.tenants", &[])
        .await
        .map(|r| (r.get(0), r.get(1)))
        .expect("tenant");
    assert_eq!(name, HOSTILE, "stored exactly as typed");
    assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{slug}");
    let stored_person: String =
        db.query_one("select display_name from app.users", &[]).await.expect("user").get(0);
    assert_eq!(stored_person, person);
    let users: i64 =
        db.query_one("select count(*) from app.users", &[]).await.expect("app.users exists").get(0);
    assert_eq!(users, 1);

    for path in ["/dashboard", "/shops"] {
        let p = app.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: {}", p.body);
        assert!(!p.body.contains("<script>alert"), "{path}: raw <script in page: {}", p.body);
        assert!(p.body.contains("&lt;img src=x onerror=alert(2)&gt;"), "{path}: {}", p.body);
        assert!(!p.body.contains("<img"), "{path}: raw <img in page: {}", p.body);
    }
    let d = app.get("/dashboard").await;
    assert_eq!(
        dashboard_shop(&d.body),
        Some("&lt;script&gt;alert(1)&lt;/script&gt;'; drop table app.users; --"),
        "{}",
        d.body
    );

    // a sign-up form sent back with errors escapes the echoed values inside the attribute
    let r = app
        .submit_with(
            &common::client(),
            "/signup",
            "/signup",
            &[("shop_name", "\"><script>alert(3)</script>"), ("display_name", ""), ("email", "x")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(r.body.contains("value=\"&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;\""), "{}", r.body);
}

#[tokio::test]
async fn a_second_shop_with_a_hostile_name_is_escaped_in_the_list() {
    let app = common::spawn_app().await;
    app.signup_with(&app.http, "Normal", "ana@example.com").await;
    let r = app.submit("/shops", "/shops", &[("shop_name", HOSTILE)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = app.get("/shops").await;
    assert!(!p.body.contains("<script>alert"), "{}", p.body);
    let mut listed = listed_shops(&p.body);
    listed.sort();
    assert_eq!(
        listed,
        vec![
            "&lt;script&gt;alert(1)&lt;/script&gt;'; drop table app.users; --".to_string(),
            "Normal".to_string()
        ]
    );
    let names: Vec<String> = app
        .db
        .admin()
        .await
        .query("select name from app.tenants order by id", &[])
        .await
        .expect("tenants")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, vec!["Normal".to_string(), HOSTILE.to_string()]);
}
