//! Plan limits through the real app and a real HTTP client: the new-product form, the invitation
//! form, a CSV import and the counter's checkout get their form back with a message naming the
//! limit and the plan (Spanish and English) and nothing written; accepting an invitation beyond
//! the plan gets a 409 page; the owner sees the plan and its usage on the settings page.
mod common;

use common::{TestApp, PASSWORD};
use stock::domain::invitations as inv;
use tokio_postgres::Client;

const BOUNDARY: &str = "----StockLimitsBoundary9f8e7d6c5b4a";

struct Shop {
    app: TestApp,
    su: Client,
    tenant: i64,
    schema: String,
    owner: i64,
}

/// A shop on a small plan (2 members, 2 active products, 1 sale a month), its owner signed in.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Justo").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let su = db.admin().await;
    su.batch_execute(&format!(
        "insert into app.plans (code, name, max_members, max_products, max_monthly_sales)
         values ('SMALL', 'Pequeño', 2, 2, 1);
         update app.subscriptions set plan_code = 'SMALL' where tenant_id = {tenant};"
    ))
    .await
    .expect("plan");
    let app = common::spawn_app_on(db).await;
    let r = app.login("owner@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "login: {}", r.body);
    Shop { app, su, tenant, schema, owner }
}

impl Shop {
    async fn count(&self, sql: &str) -> i64 {
        let sql = sql.replace("{s}", &self.schema);
        self.su.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn unit_u(&self) -> String {
        let id: i64 = self
            .su
            .query_one(&format!("select id from {}.units where code = 'u'", self.schema), &[])
            .await
            .expect("unit")
            .get(0);
        id.to_string()
    }

    async fn create_product(&self, sku: &str) -> common::Page {
        self.product_form("/products/new", "/products", sku, true).await
    }

    /// Posts the product form (new or edit) with this SKU, active or not.
    async fn product_form(&self, page: &str, action: &str, sku: &str, active: bool) -> common::Page {
        let unit = self.unit_u().await;
        let mut fields = vec![
            ("sku", sku),
            ("barcode", ""),
            ("name", "Yerba"),
            ("description", ""),
            ("category_id", ""),
            ("unit_id", unit.as_str()),
            ("price", "1.500,00"),
            ("cost", ""),
            ("min_stock", ""),
            ("opening_stock", ""),
            ("track_stock", "on"),
        ];
        if active {
            fields.push(("active", "on"));
        }
        self.app.submit(page, action, &fields).await
    }

    /// Switches this browser's language (the person's choice wins over the shop's).
    async fn language(&self, code: &str) {
        let r = self.app.get(&format!("/lang/{code}")).await;
        assert!(r.status < 400, "language switch: {}", r.status);
    }
}

#[tokio::test]
async fn the_product_form_names_the_limit_and_the_plan_in_both_languages() {
    let s = shop().await;
    for sku in ["YER-1", "YER-2"] {
        let r = s.create_product(sku).await;
        assert_eq!(r.status, 303, "{sku}: {}", r.body);
    }
    let r = s.create_product("YER-3").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("El plan Pequeño de su negocio permite 2 productos activos"), "{}", r.body);
    assert!(r.body.contains("role=\"alert\""), "shown as the form's error");
    assert!(r.body.contains("value=\"YER-3\""), "the form keeps what was typed");
    assert_eq!(s.count("select count(*) from {s}.products").await, 2, "nothing written");

    // an inactive product may be added; making it active through the edit form is refused there
    let r = s.product_form("/products/new", "/products", "YER-OFF", false).await;
    assert_eq!(r.status, 303, "inactive product: {}", r.body);
    let id = s.count("select id from {s}.products where sku = 'YER-OFF'").await;
    let (page, action) = (format!("/products/{id}/edit"), format!("/products/{id}"));
    let r = s.product_form(&page, &action, "YER-OFF", true).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("permite 2 productos activos"), "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.products where active").await, 2);

    s.language("en").await;
    let r = s.create_product("YER-3").await;
    assert_eq!(r.status, 409);
    assert!(
        r.body.contains("Your shop&#39;s Pequeño plan allows 2 active products")
            || r.body.contains("Your shop's Pequeño plan allows 2 active products"),
        "{}",
        r.body
    );

    // the owner sees plan and usage in settings
    let page = s.app.get("/settings").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Plan and usage") && page.body.contains("Pequeño"), "{}", page.body);
    assert!(page.body.contains("2 / 2") && page.body.contains("limit reached"), "{}", page.body);
    assert!(page.body.contains("1 / 2"), "one member of two: {}", page.body);
    assert!(page.body.contains("0 / 1"), "no sales this month: {}", page.body);
    s.language("es").await;
    let page = s.app.get("/settings").await;
    assert!(page.body.contains("Plan y uso") && page.body.contains("Productos activos"), "{}", page.body);
}

#[tokio::test]
async fn the_invitation_form_counts_open_invitations() {
    let s = shop().await;
    let invite = |email: &'static str| {
        let app = &s.app;
        async move {
            app.submit("/members/invite", "/members/invite", &[("email", email), ("role", "staff")]).await
        }
    };
    let r = invite("uno@example.com").await;
    assert!(r.status == 303 || r.status == 200, "first invitation: {} {}", r.status, r.body);
    assert_eq!(s.count("select count(*) from app.invitations").await, 1);
    let r = invite("dos@example.com").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("permite 2 miembros (contando las invitaciones abiertas)"), "{}", r.body);
    assert!(r.body.contains("value=\"dos@example.com\""), "the form keeps the address");
    assert_eq!(s.count("select count(*) from app.invitations").await, 1, "nothing written");
    s.language("en").await;
    let r = invite("dos@example.com").await;
    assert!(r.body.contains("plan allows 2 members (counting open invitations)"), "{}", r.body);
}

#[tokio::test]
async fn accepting_an_invitation_beyond_the_plan_gets_a_409_page_and_no_member() {
    let s = shop().await;
    // an invitation, then the operator fills the plan's last place by hand
    let nonce = inv::Nonce::generate();
    let row =
        s.su.query_one(
            "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
             values ($1, 'late@example.com', 'staff', $2, $3) returning id, expires_at",
            &[&s.tenant, &s.owner, &nonce.hash()],
        )
        .await
        .expect("invitation");
    s.app.db.add_member(s.tenant, "early@example.com", "staff").await;
    let token = inv::issue(
        s.app.db.config.secret_key.expose(),
        row.get(0),
        s.tenant,
        "late@example.com",
        &nonce,
        row.get(1),
    )
    .expect("token");
    let http = common::client();
    let page = format!("/invite/accept?token={token}");
    let r = s
        .app
        .submit_with(
            &http,
            &page,
            "/invite/accept",
            &[
                ("token", token.as_str()),
                ("display_name", "Llega Tarde"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("permite 2 miembros"), "{}", r.body);
    assert_eq!(s.count("select count(*) from app.users where email = 'late@example.com'").await, 0);
    assert_eq!(
        s.count(&format!("select count(*) from app.memberships where tenant_id = {}", s.tenant)).await,
        2
    );
}

fn multipart(csrf: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         content-type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn an_import_beyond_the_plan_is_refused_whole_on_its_preview() {
    let s = shop().await;
    let csrf = s.app.get("/products").await.csrf();
    let csv = "sku,name,price\nA-1,Arroz,10\nA-2,Azúcar,20\nA-3,Aceite,30\n";
    let r = s
        .app
        .http
        .post(s.app.url("/products/import"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(&csrf, "lista.csv", csv.as_bytes()))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status().as_u16(), 303, "upload");
    let preview = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let csrf = s.app.get(&preview).await.csrf();
    let r = s.app.post(&format!("{preview}/apply"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("permite 2 productos activos"), "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.products").await, 0, "the whole import rolled back");
    assert_eq!(s.count("select count(*) from {s}.product_imports where status = 'applied'").await, 0);
}

#[tokio::test]
async fn the_counter_refuses_a_sale_beyond_the_month_and_keeps_the_cart() {
    let s = shop().await;
    s.su.batch_execute(&format!(
        "begin;
         select set_config('app.tenant_id', '{t}', true);
         insert into {s}.products (sku, barcode, name, unit_id, price, track_stock)
         values ('CAFE', '7790001', 'Café', (select id from {s}.units where code = 'u'), 100, false);
         commit;",
        t = s.tenant,
        s = s.schema
    ))
    .await
    .expect("product");
    let checkout = || async {
        let csrf = s.app.get("/pos").await.csrf();
        let r = s.app.post("/pos/scan", &[("csrf", csrf.as_str()), ("code", "7790001")]).await;
        assert_eq!(r.status, 303, "scan: {}", r.body);
        let pos = s.app.get("/pos").await.body;
        let marker = "name=\"key\" value=\"";
        let i = pos.find(marker).expect("cart key");
        let key = pos[i + marker.len()..].split('"').next().expect("key").to_string();
        s.app.post("/pos/checkout", &[("csrf", csrf.as_str()), ("key", key.as_str())]).await
    };
    let r = checkout().await;
    assert_eq!(r.status, 303, "first sale: {}", r.body);
    let r = checkout().await;
    assert_ne!(r.status, 303, "second sale must be refused");
    assert!(r.body.contains("El plan Pequeño de su negocio permite 1 ventas por mes"), "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.sales").await, 1);
    assert_eq!(s.count("select count(*) from {s}.sale_draft_lines").await, 1, "the cart is kept");
}
