//! The members page through the real app: only the owner reaches it (menu and server alike);
//! role changes, removal after a confirmation page, the handover; forged roles, another shop's
//! member and the last owner get a clear answer and change nothing; a removed member's open
//! session stops reaching the shop; every form needs its CSRF token.
mod common;

use common::{TestApp, PASSWORD};
use tokio_postgres::Client;

const OWNER: &str = "duena@example.com";
const ADMIN: &str = "admin@example.com";
const STAFF: &str = "sol@example.com";
const STAFF2: &str = "luis@example.com";

struct Shop {
    app: TestApp,
    admin: Client,
    tenant: i64,
    other: i64,
    owner: i64,
    admin_id: i64,
    staff: i64,
    staff2: i64,
    other_staff: i64,
}

/// Shop A (owner, admin, two staff) and shop B (owner, staff); the app's client is the owner of A.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, _) = db.create_shop("Ferretería Norte").await;
    let (other, _) = db.create_shop("Otra tienda").await;
    let owner = db.add_member(tenant, OWNER, "owner").await;
    let admin_id = db.add_member(tenant, ADMIN, "admin").await;
    let staff = db.add_member(tenant, STAFF, "staff").await;
    let staff2 = db.add_member(tenant, STAFF2, "staff").await;
    db.add_member(other, "otro-dueno@example.com", "owner").await;
    let other_staff = db.add_member(other, "otra@example.com", "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, tenant, other, owner, admin_id, staff, staff2, other_staff }
}

impl Shop {
    async fn browser(&self, email: &str) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, email, PASSWORD).await;
        assert_eq!(r.status, 303, "{email} login: {}", r.body);
        http
    }

    async fn role(&self, tenant: i64, user: i64) -> Option<String> {
        self.admin
            .query_opt(
                "select role from app.memberships where tenant_id = $1 and user_id = $2",
                &[&tenant, &user],
            )
            .await
            .expect("role")
            .map(|r| r.get(0))
    }

    async fn audit_actions(&self) -> Vec<String> {
        self.admin
            .query(
                &format!(
                    "select action from tenant_{}.audit_log where entity = 'member' order by id",
                    self.tenant
                ),
                &[],
            )
            .await
            .expect("audit")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    async fn post_role(&self, user: i64, role: &str) -> common::Page {
        self.app.submit("/members", &format!("/members/{user}/role"), &[("role", role)]).await
    }
}

#[tokio::test]
async fn only_the_owner_reaches_the_members_page() {
    let s = shop().await;
    let page = s.app.get("/members").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for email in [OWNER, ADMIN, STAFF, STAFF2] {
        assert!(page.body.contains(email), "{email} listed");
    }
    assert!(!page.body.contains("otra@example.com"), "another shop's member is not listed");
    assert!(page.body.contains("href=\"/members/invite\""), "the invite button");
    let dash = s.app.get("/dashboard").await;
    for href in ["/members", "/settings", "/audit"] {
        assert!(dash.body.contains(&format!("href=\"{href}\"")), "owner menu has {href}");
    }

    for (email, audit_in_menu) in [(ADMIN, true), (STAFF, false)] {
        let http = s.browser(email).await;
        let dash = s.app.get_with(&http, "/dashboard").await;
        assert!(!dash.body.contains("href=\"/members\""), "{email}: no members entry");
        assert!(!dash.body.contains("href=\"/settings\""), "{email}: no settings entry");
        assert_eq!(dash.body.contains("href=\"/audit\""), audit_in_menu, "{email}: audit entry");
        assert_eq!(s.app.get_with(&http, "/members").await.status, 403, "{email}");
        assert_eq!(s.app.get_with(&http, &format!("/members/{}/remove", s.staff2)).await.status, 403);
        // a valid token from a page they can open, posted to each member form
        let token = s.app.get_with(&http, "/dashboard").await.csrf();
        for (path, form) in [
            (format!("/members/{}/role", s.staff2), vec![("role", "admin")]),
            (format!("/members/{}/remove", s.staff2), vec![]),
            (format!("/members/{}/owner", s.staff2), vec![]),
        ] {
            let mut fields = vec![("csrf", token.as_str())];
            fields.extend(form);
            let r = s.app.post_with(&http, &path, &fields).await;
            assert_eq!(r.status, 403, "{email} {path}");
        }
    }
    assert_eq!(s.role(s.tenant, s.staff2).await.as_deref(), Some("staff"));
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("owner"));
    assert!(s.audit_actions().await.is_empty());
}

#[tokio::test]
async fn the_owner_changes_roles_and_bad_roles_change_nothing() {
    let s = shop().await;
    let r = s.post_role(s.staff, "admin").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/members")), "{}", r.body);
    assert_eq!(s.role(s.tenant, s.staff).await.as_deref(), Some("admin"));
    let r = s.post_role(s.staff, "staff").await;
    assert_eq!(r.status, 303);
    assert_eq!(s.role(s.tenant, s.staff).await.as_deref(), Some("staff"));
    assert_eq!(s.audit_actions().await, ["role_change", "role_change"]);

    // a forged "owner" and garbage: a message next to the list, nothing written
    let r = s.post_role(s.staff, "owner").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Hacer dueño"), "{}", r.body);
    for garbage in ["root", "", "ADMIN'--", "staff\u{0}"] {
        let r = s.post_role(s.staff, garbage).await;
        assert_eq!(r.status, 422, "{garbage:?}");
        assert!(r.body.contains("Elija una de las opciones"), "{garbage:?}");
    }
    // a member of another shop, by id: not found here, and untouched there
    let r = s.post_role(s.other_staff, "admin").await;
    assert_eq!(r.status, 404);
    assert_eq!(s.role(s.other, s.other_staff).await.as_deref(), Some("staff"));
    // someone who is no member at all
    assert_eq!(s.post_role(999_999, "admin").await.status, 404);
    // the only owner demoting themselves (the page offers no form for it; forged)
    let r = s.post_role(s.owner, "admin").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("El negocio siempre debe tener un dueño"), "{}", r.body);
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("owner"));
    assert_eq!(s.role(s.tenant, s.staff).await.as_deref(), Some("staff"));
    assert_eq!(s.audit_actions().await.len(), 2, "refusals are not audited as changes");
}

#[tokio::test]
async fn removing_a_member_after_confirming_ends_their_access() {
    let s = shop().await;
    let staff = s.browser(STAFF).await;
    assert_eq!(s.app.get_with(&staff, "/products").await.status, 200);

    let confirm = s.app.get(&format!("/members/{}/remove", s.staff)).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains(STAFF)
            && confirm.body.contains(&format!("action=\"/members/{}/remove\"", s.staff))
    );
    let r = s
        .app
        .submit(&format!("/members/{}/remove", s.staff), &format!("/members/{}/remove", s.staff), &[])
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/members")), "{}", r.body);
    assert_eq!(s.role(s.tenant, s.staff).await, None);
    assert_eq!(s.audit_actions().await, ["member_removed"]);
    let list = s.app.get("/members").await;
    assert!(!list.body.contains(STAFF));

    // the removed person's open session no longer reaches the shop
    let r = s.app.get_with(&staff, "/products").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")));
    let dash = s.app.get_with(&staff, "/dashboard").await;
    assert_eq!(dash.status, 200);
    assert!(!dash.body.contains("Ferretería Norte"), "the shop's name is not shown to them");

    // another shop's member, a stranger, and the last owner
    assert_eq!(s.app.get(&format!("/members/{}/remove", s.other_staff)).await.status, 404);
    let r = s.app.submit("/members", &format!("/members/{}/remove", s.other_staff), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(s.role(s.other, s.other_staff).await.as_deref(), Some("staff"));
    let r = s.app.submit("/members", &format!("/members/{}/remove", s.owner), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("El negocio siempre debe tener un dueño"));
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("owner"));
    assert_eq!(s.audit_actions().await, ["member_removed"]);
}

#[tokio::test]
async fn handing_the_shop_over() {
    let s = shop().await;
    let confirm = s.app.get(&format!("/members/{}/owner", s.admin_id)).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains(ADMIN));
    // not to someone of another shop
    let r = s.app.submit("/members", &format!("/members/{}/owner", s.other_staff), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(s.role(s.other, s.other_staff).await.as_deref(), Some("staff"));
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("owner"));

    let r = s.app.submit("/members", &format!("/members/{}/owner", s.admin_id), &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    assert_eq!(s.role(s.tenant, s.admin_id).await.as_deref(), Some("owner"));
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("admin"));
    assert_eq!(s.audit_actions().await, ["ownership_handover", "role_change"]);
    // the former owner is an admin from the next request on; the new owner has the page
    assert_eq!(s.app.get("/members").await.status, 403);
    assert_eq!(s.app.get("/audit").await.status, 200);
    let new_owner = s.browser(ADMIN).await;
    assert_eq!(s.app.get_with(&new_owner, "/members").await.status, 200);
    // handing over to someone who is already the owner is refused
    let token = s.app.get_with(&new_owner, "/members").await.csrf();
    let r = s
        .app
        .post_with(&new_owner, &format!("/members/{}/owner", s.admin_id), &[("csrf", token.as_str())])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Esta persona ya es dueño"));
}

#[tokio::test]
async fn every_member_form_needs_its_csrf_token() {
    let s = shop().await;
    for (path, form) in [
        (format!("/members/{}/role", s.staff), vec![("role", "admin")]),
        (format!("/members/{}/remove", s.staff), vec![("confirm", "yes")]),
        (format!("/members/{}/owner", s.staff), vec![("confirm", "yes")]),
    ] {
        let r = s.app.post(&path, &form).await;
        assert_eq!(r.status, 403, "{path} without a token");
        let mut forged = vec![("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")];
        forged.extend(form.iter().copied());
        let r = s.app.post(&path, &forged).await;
        assert_eq!(r.status, 403, "{path} with a wrong token");
    }
    assert_eq!(s.role(s.tenant, s.staff).await.as_deref(), Some("staff"));
    assert_eq!(s.role(s.tenant, s.owner).await.as_deref(), Some("owner"));
    assert!(s.audit_actions().await.is_empty());
}
