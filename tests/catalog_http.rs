//! The catalog and stock pages through the real app: product form (Spanish amounts, field errors
//! with nothing saved), what staff may see and do, adjustments with who and why, search, filters,
//! pagination, categories, stocktake, missing products and product deletion. Every scenario ends
//! by checking that each tracked product's stock equals the sum of its movements.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// fixture and helpers

const ADMIN: &str = "ana@example.com";
const STAFF: &str = "sol@example.com";
const ADMIN_NAME: &str = "Ana Pérez";
const STAFF_NAME: &str = "Sol Gómez";

struct Shop {
    app: TestApp,
    /// Superuser connection to the test database, for checking results.
    admin: Client,
    schema: String,
    admin_id: i64,
    unit_u: i64,
    unit_kg: i64,
}

/// A shop with an admin and a staff member; the app's client is signed in as the admin.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Don José").await;
    let admin_id = db.add_member(tenant, ADMIN, "admin").await;
    let staff_id = db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    for (id, name) in [(admin_id, ADMIN_NAME), (staff_id, STAFF_NAME)] {
        admin
            .execute("update app.users set display_name = $2 where id = $1", &[&id, &name])
            .await
            .expect("display name");
    }
    let unit = |code: &'static str| {
        let (admin, schema) = (&admin, &schema);
        async move {
            admin
                .query_one(&format!("select id from {schema}.units where code = $1"), &[&code])
                .await
                .expect("unit")
                .get::<_, i64>(0)
        }
    };
    let (unit_u, unit_kg) = (unit("u").await, unit("kg").await);
    let app = common::spawn_app_on(db).await;
    let r = app.login(ADMIN, PASSWORD).await;
    assert_eq!(r.status, 303, "admin login: {}", r.body);
    Shop { app, admin, schema, admin_id, unit_u, unit_kg }
}

impl Shop {
    /// A second browser signed in as staff.
    async fn staff(&self) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, STAFF, PASSWORD).await;
        assert_eq!(r.status, 303, "staff login: {}", r.body);
        http
    }

    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> i64 {
        let sql = sql.replace("{s}", &self.schema);
        self.admin.query_one(&sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn products(&self) -> i64 {
        self.count("select count(*) from {s}.products", &[]).await
    }

    async fn stock(&self, id: i64) -> Decimal {
        self.admin
            .query_one(&format!("select stock from {}.products where id = $1", self.schema), &[&id])
            .await
            .expect("stock")
            .get(0)
    }

    async fn id_of(&self, sku: &str) -> i64 {
        self.admin
            .query_one(&format!("select id from {}.products where sku = $1", self.schema), &[&sku])
            .await
            .unwrap_or_else(|e| panic!("product {sku}: {e}"))
            .get(0)
    }

    /// The product form with sensible defaults, `overrides` replacing fields by name.
    fn form(&self, overrides: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut f: Vec<(&'static str, String)> = vec![
            ("sku", "SKU-1".into()),
            ("barcode", String::new()),
            ("name", "Producto".into()),
            ("description", String::new()),
            ("category_id", String::new()),
            ("unit_id", self.unit_u.to_string()),
            ("price", "100".into()),
            ("cost", String::new()),
            ("min_stock", String::new()),
            ("opening_stock", String::new()),
            ("track_stock", "on".into()),
            ("active", "on".into()),
        ];
        for (k, v) in overrides {
            match f.iter_mut().find(|(fk, _)| fk == k) {
                Some(slot) => slot.1 = v.to_string(),
                None => f.push((k, v.to_string())),
            }
        }
        // an unchecked box is simply absent from the form
        f.retain(|(k, v)| !(matches!(*k, "track_stock" | "active") && v.is_empty()));
        f
    }

    /// POST /products as the admin with the form page's token.
    async fn create(&self, overrides: &[(&'static str, &str)]) -> Page {
        let f = self.form(overrides);
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.app.submit("/products/new", "/products", &fields).await
    }

    /// Creates a product through the form and returns its id.
    async fn created(&self, overrides: &[(&'static str, &str)]) -> i64 {
        let r = self.create(overrides).await;
        assert_eq!(r.status, 303, "create product {overrides:?}: {}", r.body);
        let loc = r.location.expect("location");
        loc.strip_prefix("/products/")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("location {loc}"))
    }

    async fn adjust_with(&self, http: &reqwest::Client, id: i64, qty: &str, reason: &str) -> Page {
        self.app
            .submit_with(
                http,
                &format!("/products/{id}"),
                &format!("/products/{id}/adjust"),
                &[("quantity", qty), ("reason", reason)],
            )
            .await
    }

    async fn adjust(&self, id: i64, qty: &str, reason: &str) -> Page {
        self.adjust_with(&self.app.http, id, qty, reason).await
    }

    /// GET as the admin, expecting 200.
    async fn page(&self, path: &str) -> String {
        let p = self.app.get(path).await;
        assert_eq!(p.status, 200, "GET {path}: {}", p.body);
        p.body
    }

    async fn ledger_ok(&self) {
        assert_stock_matches_ledger(&self.admin, &self.schema).await;
    }
}

/// Product form fields replaced by name.
type Overrides<'a> = Vec<(&'static str, &'a str)>;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// For every stock-tracked product, stock = the sum of its movements (0 without any).
async fn assert_stock_matches_ledger(admin: &Client, schema: &str) {
    let rows = admin
        .query(
            &format!(
                "select p.id, p.sku, p.stock, coalesce(sum(m.quantity), 0)
                   from {schema}.products p left join {schema}.stock_movements m on m.product_id = p.id
                  where p.track_stock
                  group by p.id
                 having p.stock <> coalesce(sum(m.quantity), 0)"
            ),
            &[],
        )
        .await
        .expect("ledger check");
    let bad: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "product {} ({}): stock {} but movements sum to {}",
                r.get::<_, i64>(0),
                r.get::<_, String>(1),
                r.get::<_, Decimal>(2),
                r.get::<_, Decimal>(3)
            )
        })
        .collect();
    assert!(bad.is_empty(), "stock differs from the ledger in {schema}: {bad:#?}");
}

/// The markup of one form field: from its control (`id="f-<name>"`) to the end of its wrapper.
fn field_block<'a>(body: &'a str, name: &str) -> &'a str {
    let marker = format!("id=\"f-{name}\"");
    let i = body.find(&marker).unwrap_or_else(|| panic!("no field {name} in page:\n{body}"));
    let rest = &body[i..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

/// The error shown next to a field, if any.
fn field_error(body: &str, name: &str) -> Option<String> {
    let block = field_block(body, name);
    let marker = "<p class=\"error\">";
    let i = block.find(marker)?;
    let rest = &block[i + marker.len()..];
    Some(rest[..rest.find("</p>").expect("end of error")].to_string())
}

/// The value an input field was rendered with.
fn field_value(body: &str, name: &str) -> String {
    let block = field_block(body, name);
    let marker = "value=\"";
    let i = block.find(marker).unwrap_or_else(|| panic!("no value on field {name}: {block}"));
    let rest = &block[i + marker.len()..];
    rest[..rest.find('"').expect("end quote")].to_string()
}

/// Ids of the products linked from a list page, in order.
fn listed(body: &str) -> Vec<i64> {
    let marker = "href=\"/products/";
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(marker) {
        rest = &rest[i + marker.len()..];
        let end = rest.find('"').expect("end quote");
        if let Ok(id) = rest[..end].parse::<i64>() {
            out.push(id);
        }
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows (cells as text) of the first table after `heading` in the page.
fn table_after(body: &str, heading: &str) -> Vec<Vec<String>> {
    let i = body.find(heading).unwrap_or_else(|| panic!("no {heading:?} in page:\n{body}"));
    let rest = &body[i..];
    let Some(start) = rest.find("<tbody>") else { return Vec::new() };
    let rest = &rest[start..];
    let tbody = &rest[..rest.find("</tbody>").expect("end of tbody")];
    tbody
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').map_or(0, |i| i + 1)..];
                    strip_tags(&cell[..cell.find("</td>").unwrap_or(cell.len())])
                })
                .collect()
        })
        .collect()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// creating products

#[tokio::test]
async fn admin_creates_a_product_with_spanish_amounts_and_opening_stock() {
    let s = shop().await;
    let id = s
        .created(&[
            ("sku", "YER-500"),
            ("barcode", "7790387000123"),
            ("name", "Yerba Mate 500 g"),
            ("price", "1.234,50"),
            ("cost", "10,50"),
            ("min_stock", "2"),
            ("opening_stock", "7"),
        ])
        .await;
    let row = s
        .admin
        .query_one(
            &format!("select price, cost, min_stock, stock, track_stock, active, barcode from {}.products where id = $1", s.schema),
            &[&id],
        )
        .await
        .expect("product");
    assert_eq!(row.get::<_, Decimal>(0), dec("1234.50"), "\"1.234,50\" is 1234.50");
    assert_eq!(row.get::<_, Decimal>(1), dec("10.50"), "\"10,50\" is 10.50");
    assert_eq!(row.get::<_, Decimal>(2), dec("2"));
    assert_eq!(row.get::<_, Decimal>(3), dec("7"));
    assert!(row.get::<_, bool>(4) && row.get::<_, bool>(5));
    assert_eq!(row.get::<_, Option<String>>(6).as_deref(), Some("7790387000123"));

    // the opening stock is one movement, by the admin
    let m = s
        .admin
        .query(
            &format!(
                "select kind, quantity, stock_after, user_id from {}.stock_movements where product_id = $1",
                s.schema
            ),
            &[&id],
        )
        .await
        .expect("movements");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].get::<_, String>(0), "opening");
    assert_eq!(m[0].get::<_, Decimal>(1), dec("7"));
    assert_eq!(m[0].get::<_, Decimal>(2), dec("7"));
    assert_eq!(m[0].get::<_, Option<i64>>(3), Some(s.admin_id));

    // the product page shows it, with the opening movement in the history
    let body = s.page(&format!("/products/{id}")).await;
    assert!(body.contains("Yerba Mate 500 g"), "{body}");
    assert!(body.contains("1.234,50"), "price in Spanish format: {body}");
    assert!(body.contains("10,50"), "cost shown to the admin: {body}");
    assert!(body.contains("7 u"), "stock with its unit: {body}");
    let history = table_after(&body, "Movimientos de stock");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0][1], "Stock inicial");
    assert_eq!(history[0][2], "+7");
    assert_eq!(history[0][3], "7");
    assert_eq!(history[0][4], ADMIN_NAME);

    // the other spellings of ten and a half, never 1050
    for (sku, price) in [("DOT-1", "10.50"), ("COMMA-1", "10,50"), ("DOT-2", "10.5"), ("PESOS", "$ 10,50")] {
        let id = s.created(&[("sku", sku), ("price", price)]).await;
        let p: Decimal = s
            .admin
            .query_one(&format!("select price from {}.products where id = $1", s.schema), &[&id])
            .await
            .expect("price")
            .get(0);
        assert_eq!(p, dec("10.50"), "{price:?}");
    }
    // a divisible unit takes a fractional opening stock
    let kg = s.unit_kg.to_string();
    let id = s.created(&[("sku", "QUESO"), ("unit_id", &kg), ("opening_stock", "1,5")]).await;
    assert_eq!(s.stock(id).await, dec("1.5"));
    // no opening stock, no movement
    let id = s.created(&[("sku", "SIN-STOCK")]).await;
    assert_eq!(s.count("select count(*) from {s}.stock_movements where product_id = $1", &[&id]).await, 0);
    assert_eq!(s.products().await, 7);
    s.ledger_ok().await;
}

#[tokio::test]
async fn bad_product_input_gets_the_form_back_with_the_error_and_saves_nothing() {
    let s = shop().await;
    let long_sku = "A".repeat(41);
    let long_name = "n".repeat(201);
    // (what, overrides, field with the error, the error)
    type Case<'a> = (&'a str, Overrides<'a>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("empty SKU", vec![("sku", "  ")], "sku", "Este campo es obligatorio."),
        ("negative price", vec![("price", "-5")], "price", "No puede ser negativo."),
        ("non-numeric price", vec![("price", "abc")], "price", "Ingrese un número, como 1234,50."),
        ("three decimals", vec![("price", "10,505")], "price", "Demasiados decimales."),
        ("empty price", vec![("price", "")], "price", "Este campo es obligatorio."),
        (
            "SKU over 40 characters",
            vec![("sku", long_sku.as_str())],
            "sku",
            "Hasta 40 letras, dígitos o . _ / -, empezando por letra o dígito.",
        ),
        (
            "SKU with a space",
            vec![("sku", "AB CD")],
            "sku",
            "Hasta 40 letras, dígitos o . _ / -, empezando por letra o dígito.",
        ),
        ("name over 200 characters", vec![("name", long_name.as_str())], "name", "Es demasiado largo."),
        ("empty name", vec![("name", "")], "name", "Este campo es obligatorio."),
        (
            "fractional opening stock for units",
            vec![("opening_stock", "1,5")],
            "opening_stock",
            "Esta unidad solo admite números enteros.",
        ),
        ("negative opening stock", vec![("opening_stock", "-3")], "opening_stock", "No puede ser negativo."),
        ("negative cost", vec![("cost", "-1")], "cost", "No puede ser negativo."),
        ("bad barcode", vec![("barcode", "12")], "barcode", "De 4 a 40 letras, dígitos o '-'."),
        ("unknown unit", vec![("unit_id", "999999")], "unit_id", "Elija una de las opciones."),
    ];
    for (what, overrides, field, message) in &cases {
        let before = s.products().await;
        let mut o = overrides.clone();
        o.push(("description", "se conserva"));
        let r = s.create(&o).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert_eq!(field_error(&r.body, field).as_deref(), Some(*message), "{what}: error next to {field}");
        assert!(
            field_block(&r.body, field).contains("aria-invalid=\"true\""),
            "{what}: {field} marked invalid"
        );
        assert!(r.body.contains("Corrija los campos marcados."), "{what}: form-level notice");
        // input kept
        for (k, v) in overrides.iter().filter(|(k, _)| *k != "unit_id") {
            let shown = field_value(&r.body, k);
            assert_eq!(shown.trim(), v.trim(), "{what}: {k} kept");
        }
        assert!(r.body.contains(">se conserva</textarea>"), "{what}: other fields kept");
        assert_eq!(s.products().await, before, "{what}: nothing saved");
    }
    assert_eq!(s.products().await, 0);
    assert_eq!(s.count("select count(*) from {s}.stock_movements", &[]).await, 0);

    // several errors at once are all shown
    let r = s.create(&[("sku", ""), ("price", "abc"), ("opening_stock", "1,5")]).await;
    assert_eq!(r.status, 422);
    assert!(field_error(&r.body, "sku").is_some() && field_error(&r.body, "price").is_some());
    assert!(field_error(&r.body, "opening_stock").is_some());

    // duplicate SKU and duplicate barcode: the second product is refused with the field error
    s.created(&[("sku", "YER-1"), ("barcode", "7790000000017"), ("opening_stock", "3")]).await;
    let r = s.create(&[("sku", "YER-1"), ("name", "Otra yerba"), ("opening_stock", "4")]).await;
    assert_eq!(r.status, 422, "duplicate SKU: {}", r.body);
    assert_eq!(field_error(&r.body, "sku").as_deref(), Some("Otro producto tiene este código."));
    assert_eq!(field_value(&r.body, "name"), "Otra yerba");
    assert_eq!(s.products().await, 1, "still one product");
    let r = s.create(&[("sku", "YER-2"), ("barcode", "7790000000017"), ("opening_stock", "4")]).await;
    assert_eq!(r.status, 422, "duplicate barcode: {}", r.body);
    assert_eq!(
        field_error(&r.body, "barcode").as_deref(),
        Some("Otro producto tiene este código de barras.")
    );
    assert_eq!(s.products().await, 1, "still one product");
    // the refused products' opening stock did not land anywhere
    assert_eq!(s.count("select count(*) from {s}.stock_movements", &[]).await, 1);
    assert_eq!(s.stock(s.id_of("YER-1").await).await, dec("3"));
    s.ledger_ok().await;
}

#[tokio::test]
async fn editing_a_product_changes_its_fields_but_never_its_stock() {
    let s = shop().await;
    let id = s.created(&[("sku", "CAFE"), ("name", "Café"), ("price", "100"), ("opening_stock", "5")]).await;
    let edit = s.page(&format!("/products/{id}/edit")).await;
    assert_eq!(field_value(&edit, "sku"), "CAFE");
    let f =
        s.form(&[("sku", "CAFE"), ("name", "Café molido"), ("price", "1.500,75"), ("opening_stock", "99")]);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.app.submit(&format!("/products/{id}/edit"), &format!("/products/{id}"), &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let row = s
        .admin
        .query_one(&format!("select name, price, stock from {}.products where id = $1", s.schema), &[&id])
        .await
        .expect("product");
    assert_eq!(row.get::<_, String>(0), "Café molido");
    assert_eq!(row.get::<_, Decimal>(1), dec("1500.75"));
    assert_eq!(row.get::<_, Decimal>(2), dec("5"), "the edit form does not touch stock");
    assert_eq!(
        s.count(
            "select count(*) from {s}.audit_log where entity = 'products' and user_id = $1
               and (old_values ->> 'price')::numeric = 100 and (new_values ->> 'price')::numeric = 1500.75",
            &[&s.admin_id]
        )
        .await,
        1,
        "the price change is audited with the admin's id"
    );
    // a bad edit saves nothing
    let f = s.form(&[("sku", "CAFE"), ("name", "Otro"), ("price", "abc")]);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.app.submit(&format!("/products/{id}/edit"), &format!("/products/{id}"), &fields).await;
    assert_eq!(r.status, 422);
    assert_eq!(field_error(&r.body, "price").as_deref(), Some("Ingrese un número, como 1234,50."));
    let name: String = s
        .admin
        .query_one(&format!("select name from {}.products where id = $1", s.schema), &[&id])
        .await
        .expect("name")
        .get(0);
    assert_eq!(name, "Café molido");
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// staff

#[tokio::test]
async fn staff_sees_the_catalog_but_cannot_manage_it() {
    let s = shop().await;
    let id = s
        .created(&[("sku", "ALF-1"), ("name", "Alfajor Triple"), ("cost", "55"), ("opening_stock", "12")])
        .await;
    let staff = s.staff().await;

    let list = s.app.get_with(&staff, "/products").await;
    assert_eq!(list.status, 200);
    assert_eq!(listed(&list.body), vec![id], "staff sees the product");
    assert!(!list.body.contains("href=\"/products/new\""), "no 'new product' button for staff");
    let detail = s.app.get_with(&staff, &format!("/products/{id}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("Alfajor Triple") && detail.body.contains("12 u"));
    assert!(!detail.body.contains("/adjust\""), "no adjustment form for staff");
    assert!(!detail.body.contains("Costo"), "staff is not shown the cost");
    assert_eq!(s.app.get_with(&staff, "/stock/low").await.status, 200);
    assert_eq!(s.app.get_with(&staff, "/missing").await.status, 200);

    for path in [
        "/products/new".to_string(),
        format!("/products/{id}/edit"),
        "/categories".into(),
        "/units".into(),
        "/stocktake".into(),
    ] {
        assert_eq!(s.app.get_with(&staff, &path).await.status, 403, "staff GET {path}");
    }

    let f = s.form(&[("sku", "STAFF-1"), ("name", "De staff"), ("opening_stock", "5")]);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.app.submit_with(&staff, "/products", "/products", &fields).await;
    assert_eq!(r.status, 403, "staff POST /products: {}", r.body);
    assert_eq!(s.products().await, 1, "nothing saved");

    let r = s.adjust_with(&staff, id, "5", "me regalaron").await;
    assert_eq!(r.status, 403, "staff adjusts: {}", r.body);
    let r = s.adjust_with(&staff, id, "-12", "se rompieron").await;
    assert_eq!(r.status, 403);
    assert_eq!(s.stock(id).await, dec("12"), "stock unchanged");

    let f = s.form(&[("sku", "ALF-1"), ("name", "Cambiado"), ("price", "1")]);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.app.submit_with(&staff, &format!("/products/{id}"), &format!("/products/{id}"), &fields).await;
    assert_eq!(r.status, 403, "staff edits a product");
    let r = s.app.submit_with(&staff, "/products", &format!("/products/{id}/delete"), &[]).await;
    assert_eq!(r.status, 403, "staff deletes a product");
    let r = s.app.submit_with(&staff, "/products", "/categories", &[("name", "Golosinas")]).await;
    assert_eq!(r.status, 403, "staff creates a category");
    let r = s
        .app
        .submit_with(&staff, "/products", "/stocktake", &[(&*format!("count_{id}"), "0"), ("reason", "x")])
        .await;
    assert_eq!(r.status, 403, "staff posts a stocktake");
    let name: String = s
        .admin
        .query_one(&format!("select name from {}.products where id = $1", s.schema), &[&id])
        .await
        .expect("name")
        .get(0);
    assert_eq!(name, "Alfajor Triple");
    assert_eq!(s.products().await, 1);
    assert_eq!(s.count("select count(*) from {s}.categories", &[]).await, 0);
    assert_eq!(s.stock(id).await, dec("12"));
    assert_eq!(s.count("select count(*) from {s}.stock_movements", &[]).await, 1);

    // the menu offers staff only what staff may use
    for link in ["href=\"/categories\"", "href=\"/units\"", "href=\"/stocktake\""] {
        assert!(!list.body.contains(link), "staff menu shows {link}");
        assert!(s.page("/products").await.contains(link), "admin menu lacks {link}");
    }
    for link in ["href=\"/products\"", "href=\"/stock/low\"", "href=\"/missing\""] {
        assert!(list.body.contains(link), "staff menu lacks {link}");
    }
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// adjustments

#[tokio::test]
async fn an_adjustment_records_who_and_why_and_never_goes_below_zero() {
    let s = shop().await;
    let id = s.created(&[("sku", "GALL"), ("name", "Galletitas"), ("opening_stock", "10")]).await;

    let r = s.adjust(id, "5", "Llegó mercadería sin factura").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(&*format!("/products/{id}")));
    assert_eq!(s.stock(id).await, dec("15"));
    let m = s
        .admin
        .query_one(
            &format!(
                "select kind, quantity, stock_after, reason, user_id from {}.stock_movements
                  where product_id = $1 order by id desc limit 1",
                s.schema
            ),
            &[&id],
        )
        .await
        .expect("movement");
    assert_eq!(m.get::<_, String>(0), "adjustment");
    assert_eq!(m.get::<_, Decimal>(1), dec("5"));
    assert_eq!(m.get::<_, Decimal>(2), dec("15"));
    assert_eq!(m.get::<_, String>(3), "Llegó mercadería sin factura");
    assert_eq!(m.get::<_, Option<i64>>(4), Some(s.admin_id));
    let body = s.page(&format!("/products/{id}")).await;
    assert!(body.contains("Stock ajustado."), "flash after the redirect");
    let history = table_after(&body, "Movimientos de stock");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        history[0][1..],
        ["Ajuste", "+5", "15", ADMIN_NAME, "Llegó mercadería sin factura"].map(String::from),
        "newest first: {history:?}"
    );
    assert_eq!(
        s.count(
            "select count(*) from {s}.audit_log where entity = 'stock_movements' and user_id = $1
               and new_values ->> 'reason' = 'Llegó mercadería sin factura'",
            &[&s.admin_id]
        )
        .await,
        1,
        "the adjustment is audited"
    );

    // a negative adjustment
    let r = s.adjust(id, "-3", "Rotos").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.stock(id).await, dec("12"));

    // no reason: refused
    let r = s.adjust(id, "2", "   ").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(field_error(&r.body, "reason").as_deref(), Some("Indique el motivo (queda en el historial)."));
    assert_eq!(field_value(&r.body, "quantity"), "2", "quantity kept");
    assert_eq!(s.stock(id).await, dec("12"));

    // more than there is: refused with the message, quantity kept
    let r = s.adjust(id, "-1000", "Merma").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        field_error(&r.body, "quantity").as_deref(),
        Some("No hay stock suficiente: el negocio no permite stock negativo.")
    );
    assert_eq!(field_value(&r.body, "quantity"), "-1000");
    assert_eq!(field_value(&r.body, "reason"), "Merma");
    assert_eq!(s.stock(id).await, dec("12"));

    // a fraction of a whole unit, and garbage
    let r = s.adjust(id, "1,5", "x").await;
    assert_eq!(r.status, 422);
    assert_eq!(field_error(&r.body, "quantity").as_deref(), Some("Esta unidad solo admite números enteros."));
    let r = s.adjust(id, "diez", "x").await;
    assert_eq!(r.status, 422);
    assert_eq!(s.stock(id).await, dec("12"));
    assert_eq!(s.count("select count(*) from {s}.stock_movements where product_id = $1", &[&id]).await, 3);
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// search, filters, pages

#[tokio::test]
async fn search_ignores_case_and_accents_and_finds_codes() {
    let s = shop().await;
    let yerba = s.created(&[("sku", "YER-NAN"), ("barcode", "7790387000123"), ("name", "Yerba Ñandú")]).await;
    let other =
        s.created(&[("sku", "YER-PLA"), ("barcode", "7790387000999"), ("name", "Yerba Playadito")]).await;
    s.created(&[("sku", "AZU-1"), ("name", "Azúcar Ledesma")]).await;
    s.created(&[("sku", "CAF-1"), ("name", "Café molido")]).await;

    for q in ["nandu", "ÑANDÚ", "Ñandú", "and", "erba ñ", "7790387000123", "YER-NAN", "  nandu  "] {
        let body = s.page(&format!("/products?q={}", enc(q))).await;
        assert_eq!(listed(&body), vec![yerba], "q={q:?}");
    }
    let body = s.page(&format!("/products?q={}", enc("yerba"))).await;
    assert_eq!(listed(&body), vec![yerba, other], "both yerbas, sorted by folded name (ñ as n)");
    let body = s.page(&format!("/products?q={}", enc("azucar"))).await;
    assert_eq!(listed(&body).len(), 1);
    for q in ["xyz", "%", "_", "7790387"] {
        let body = s.page(&format!("/products?q={}", enc(q))).await;
        assert_eq!(listed(&body), Vec::<i64>::new(), "q={q:?} matches nothing");
        assert!(body.contains("No hay productos que coincidan."), "q={q:?}");
    }
    // the search box keeps what was typed
    let body = s.page(&format!("/products?q={}", enc("ÑANDÚ"))).await;
    assert_eq!(field_value(&body, "q"), "ÑANDÚ");
    s.ledger_ok().await;
}

#[tokio::test]
async fn filters_by_active_and_low_stock() {
    let s = shop().await;
    let plenty = s
        .created(&[("sku", "OK"), ("name", "A con stock"), ("min_stock", "2"), ("opening_stock", "10")])
        .await;
    let low =
        s.created(&[("sku", "LOW"), ("name", "B bajo"), ("min_stock", "5"), ("opening_stock", "1")]).await;
    let at_min = s
        .created(&[("sku", "MIN"), ("name", "C en el mínimo"), ("min_stock", "5"), ("opening_stock", "5")])
        .await;
    let inactive =
        s.created(&[("sku", "OFF"), ("name", "D inactivo"), ("min_stock", "3"), ("active", "")]).await;
    let service = s.created(&[("sku", "SRV"), ("name", "E servicio"), ("track_stock", "")]).await;
    let active: bool = s
        .admin
        .query_one(&format!("select active from {}.products where id = $1", s.schema), &[&inactive])
        .await
        .expect("active")
        .get(0);
    assert!(!active, "an unchecked box makes the product inactive");

    assert_eq!(listed(&s.page("/products").await), vec![plenty, low, at_min, service], "active by default");
    assert_eq!(listed(&s.page("/products?active=yes").await), vec![plenty, low, at_min, service]);
    assert_eq!(listed(&s.page("/products?active=no").await), vec![inactive], "only inactive");
    assert_eq!(listed(&s.page("/products?active=all").await), vec![plenty, low, at_min, inactive, service]);
    assert_eq!(listed(&s.page("/products?low=on").await), vec![low, at_min], "at or below minimum");
    assert_eq!(listed(&s.page("/products?low=on&sort=name&active=all").await), vec![low, at_min]);
    let low_page = listed(&s.page("/stock/low").await);
    assert_eq!(low_page.len(), 2);
    assert!(low_page.contains(&low) && low_page.contains(&at_min), "{low_page:?}");
    // and the list follows the stock: a low product raised above its minimum leaves the list
    assert_eq!(s.adjust(low, "10", "repuesto").await.status, 303);
    assert_eq!(listed(&s.page("/products?low=on").await), vec![at_min]);
    s.ledger_ok().await;
}

#[tokio::test]
async fn the_list_has_fifty_products_per_page() {
    let s = shop().await;
    let n = s
        .admin
        .execute(
            &format!(
                "insert into {0}.products (sku, name, unit_id, price)
                 select 'P-' || lpad(g::text, 3, '0'), 'Producto ' || lpad(g::text, 3, '0'), $1, 10
                   from generate_series(1, 120) g",
                s.schema
            ),
            &[&s.unit_u],
        )
        .await
        .expect("120 products");
    assert_eq!(n, 120);
    let mut seen = Vec::new();
    for (page, expected, next, prev) in [(0, 50, true, false), (1, 50, true, true), (2, 20, false, true)] {
        let path = if page == 0 { "/products".to_string() } else { format!("/products?page={page}") };
        let body = s.page(&path).await;
        let ids = listed(&body);
        assert_eq!(ids.len(), expected, "page {page}");
        assert_eq!(body.contains("rel=\"next\""), next, "page {page}: next link");
        assert_eq!(body.contains("rel=\"prev\""), prev, "page {page}: previous link");
        if next {
            assert!(
                body.contains(&format!("page={}", page + 1)),
                "page {page}: the next link names the next page"
            );
        }
        seen.extend(ids);
    }
    let first_page = s.page("/products").await;
    assert!(first_page.contains("Producto 001") && !first_page.contains("Producto 051"));
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 120, "every product on exactly one page");
    assert_eq!(listed(&s.page("/products?page=3").await), Vec::<i64>::new());
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// categories

#[tokio::test]
async fn categories_are_unique_and_only_empty_ones_are_deleted() {
    let s = shop().await;
    let cats = "select count(*) from {s}.categories";
    let r = s.app.submit("/categories", "/categories", &[("name", "Bebidas")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.count(cats, &[]).await, 1);
    for dup in ["bebidas", "BEBIDAS", "Bébidas", "  Bebidas  "] {
        let r = s.app.submit("/categories", "/categories", &[("name", dup)]).await;
        assert_eq!(r.status, 422, "{dup:?}: {}", r.body);
        assert_eq!(field_error(&r.body, "name").as_deref(), Some("Ese nombre ya existe."), "{dup:?}");
        assert_eq!(s.count(cats, &[]).await, 1, "{dup:?}");
    }
    let r = s.app.submit("/categories", "/categories", &[("name", "")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(s.count(cats, &[]).await, 1);
    let body = s.page("/categories").await;
    assert!(body.contains("Bebidas"));

    let bebidas: i64 = s
        .admin
        .query_one(&format!("select id from {}.categories where name = 'Bebidas'", s.schema), &[])
        .await
        .expect("id")
        .get(0);
    let cat = bebidas.to_string();
    let pid = s.created(&[("sku", "AGUA"), ("name", "Agua"), ("category_id", &cat)]).await;
    assert_eq!(
        s.count("select count(*) from {s}.products where category_id = $1", &[&bebidas]).await,
        1,
        "the product is in the category"
    );
    assert_eq!(listed(&s.page(&format!("/products?category={bebidas}")).await), vec![pid]);

    // in use: refused, still there
    let r = s.app.submit("/categories", &format!("/categories/{bebidas}/delete"), &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Esta categoría todavía tiene productos"), "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.categories where id = $1", &[&bebidas]).await, 1);

    // rename
    let r = s
        .app
        .submit("/categories", &format!("/categories/{bebidas}/rename"), &[("name", "Bebidas sin alcohol")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        s.count("select count(*) from {s}.categories where name = 'Bebidas sin alcohol'", &[]).await,
        1
    );

    // an empty one goes
    let r = s.app.submit("/categories", "/categories", &[("name", "Limpieza")]).await;
    assert_eq!(r.status, 303);
    let limpieza: i64 = s
        .admin
        .query_one(&format!("select id from {}.categories where name = 'Limpieza'", s.schema), &[])
        .await
        .expect("id")
        .get(0);
    let r = s.app.submit("/categories", &format!("/categories/{limpieza}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.categories where id = $1", &[&limpieza]).await, 0);
    assert_eq!(s.count(cats, &[]).await, 1);
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// stocktake

#[tokio::test]
async fn a_stocktake_sets_the_counted_quantities() {
    let s = shop().await;
    let a = s.created(&[("sku", "A"), ("name", "Arroz"), ("opening_stock", "10")]).await;
    let b = s.created(&[("sku", "B"), ("name", "Fideos"), ("opening_stock", "3")]).await;
    let c = s.created(&[("sku", "C"), ("name", "Polenta"), ("opening_stock", "4")]).await;
    let sheet = s.page("/stocktake").await;
    for id in [a, b, c] {
        assert!(sheet.contains(&format!("name=\"count_{id}\"")), "count field for {id}");
    }

    let (ka, kb, kc) = (format!("count_{a}"), format!("count_{b}"), format!("count_{c}"));
    let r = s
        .app
        .submit(
            "/stocktake",
            "/stocktake",
            &[(&ka, "7"), (&kb, "5"), (&kc, ""), ("reason", "Conteo de fin de mes")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.stock(a).await, dec("7"));
    assert_eq!(s.stock(b).await, dec("5"));
    assert_eq!(s.stock(c).await, dec("4"), "a blank count is not counted");
    let rows = s
        .admin
        .query(
            &format!(
                "select product_id, quantity, counted, reason, user_id from {}.stock_movements
                  where kind = 'stocktake' order by product_id",
                s.schema
            ),
            &[],
        )
        .await
        .expect("stocktake movements");
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].get::<_, i64>(0), rows[0].get::<_, Decimal>(1)), (a, dec("-3")));
    assert_eq!((rows[1].get::<_, i64>(0), rows[1].get::<_, Decimal>(1)), (b, dec("2")));
    assert_eq!(rows[0].get::<_, Option<Decimal>>(2), Some(dec("7")));
    assert_eq!(rows[1].get::<_, String>(3), "Conteo de fin de mes");
    assert_eq!(rows[1].get::<_, Option<i64>>(4), Some(s.admin_id));
    let history = table_after(&s.page(&format!("/products/{a}")).await, "Movimientos de stock");
    assert_eq!(history[0][1..4], ["Inventario", "-3", "7"].map(String::from), "{history:?}");

    // counting what is there posts nothing
    let r = s.app.submit("/stocktake", "/stocktake", &[(&ka, "7"), ("reason", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.stock_movements where kind = 'stocktake'", &[]).await, 2);

    // a bad count refuses the whole sheet
    let r = s.app.submit("/stocktake", "/stocktake", &[(&ka, "1"), (&kb, "abc")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(s.stock(a).await, dec("7"), "nothing posted");
    assert_eq!(s.stock(b).await, dec("5"));
    let r = s.app.submit("/stocktake", "/stocktake", &[(&ka, "1,5")]).await;
    assert_eq!(r.status, 422, "fractional count of a whole unit");
    let r = s.app.submit("/stocktake", "/stocktake", &[(&kc, "")]).await;
    assert_eq!(r.status, 422, "nothing counted");
    assert!(r.body.contains("Ingrese al menos una cantidad contada."));
    assert_eq!(s.count("select count(*) from {s}.stock_movements where kind = 'stocktake'", &[]).await, 2);
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// missing products

#[tokio::test]
async fn missing_products_are_counted_and_only_managers_remove_them() {
    let s = shop().await;
    let staff = s.staff().await;
    let r =
        s.app.submit_with(&staff, "/missing", "/missing", &[("name", "Pilas AA"), ("note", "pidió 4")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = s.app.submit_with(&staff, "/missing", "/missing", &[("name", "pilas aa"), ("note", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let rows = s
        .admin
        .query(&format!("select id, name, requests, note from {}.missing_products", s.schema), &[])
        .await
        .expect("missing");
    assert_eq!(rows.len(), 1, "the same name counts up");
    assert_eq!(rows[0].get::<_, String>(1), "Pilas AA");
    assert_eq!(rows[0].get::<_, i32>(2), 2);
    assert_eq!(rows[0].get::<_, String>(3), "pidió 4", "an empty note keeps the old one");
    let id: i64 = rows[0].get(0);

    let page = s.app.get_with(&staff, "/missing").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Pilas AA"));
    assert!(!page.body.contains(&format!("/missing/{id}/delete")), "staff has no delete button");
    let r = s.app.submit_with(&staff, "/missing", &format!("/missing/{id}/delete"), &[]).await;
    assert_eq!(r.status, 403, "staff deletes: {}", r.body);
    assert_eq!(s.count("select count(*) from {s}.missing_products", &[]).await, 1);

    let r = s.app.submit_with(&staff, "/missing", "/missing", &[("name", "")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(s.count("select count(*) from {s}.missing_products", &[]).await, 1);

    assert!(s.page("/missing").await.contains(&format!("/missing/{id}/delete")));
    let r = s.app.submit("/missing", &format!("/missing/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.missing_products", &[]).await, 0);
    s.ledger_ok().await;
}

// ---------------------------------------------------------------------------------------------
// deleting products

#[tokio::test]
async fn a_product_with_movements_is_kept_and_one_without_is_deleted() {
    let s = shop().await;
    let with = s.created(&[("sku", "CON"), ("name", "Con historia"), ("opening_stock", "2")]).await;
    let without = s.created(&[("sku", "SIN"), ("name", "Sin historia")]).await;

    let r = s.app.submit(&format!("/products/{with}"), &format!("/products/{with}/delete"), &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(s.count("select count(*) from {s}.products where id = $1", &[&with]).await, 1, "still there");
    assert_eq!(s.count("select count(*) from {s}.stock_movements where product_id = $1", &[&with]).await, 1);

    let r = s.app.submit(&format!("/products/{without}"), &format!("/products/{without}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/products"));
    assert_eq!(s.count("select count(*) from {s}.products where id = $1", &[&without]).await, 0, "deleted");
    assert_eq!(s.app.get(&format!("/products/{without}")).await.status, 404);
    s.ledger_ok().await;
}

/// The refusal must tell the person why (and what to do instead), not just show the page again.
#[tokio::test]
async fn refusing_to_delete_a_product_with_movements_says_why() {
    let s = shop().await;
    let with = s.created(&[("sku", "CON"), ("name", "Con historia"), ("opening_stock", "2")]).await;
    let r = s.app.submit(&format!("/products/{with}"), &format!("/products/{with}/delete"), &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Este producto tiene movimientos de stock y no se puede eliminar"),
        "the 422 page shows no reason for the refusal:\n{}",
        r.body
    );
    s.ledger_ok().await;
}
