//! Suppliers and purchase invoices through the real app: a supplier and a draft invoice made with
//! the forms, lines added from the product search without JavaScript, receiving (stock and
//! weighted-average cost), payments partial and full, a correction, and the supplier's page with
//! what is owed. Bad input (another shop's product id, a negative payment, a payment above what is
//! owed, a duplicate invoice number, a change to a received invoice) gets its message next to the
//! field and writes nothing. Staff reach none of it.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

const OWNER: &str = "duena@example.com";
const STAFF: &str = "cajero@example.com";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

struct Shop {
    app: TestApp,
    admin: Client,
    tenant: i64,
    schema: String,
    owner_id: i64,
}

async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Las Heras").await;
    let owner_id = db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, tenant, schema, owner_id }
}

/// Adds a product (unit 'u', cost 100) with `opening` units to shop `schema`; returns its id.
async fn product(admin: &mut Client, tenant: i64, user: i64, schema: &str, sku: &str, opening: i64) -> i64 {
    let tx = admin.transaction().await.unwrap();
    tx.execute(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&tenant.to_string(), &user.to_string()],
    )
    .await
    .unwrap();
    let id: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price, cost)
                 values ($1, $1 || ' producto', (select id from {schema}.units where code = 'u'), 500, 100) returning id"
            ),
            &[&sku],
        )
        .await
        .unwrap()
        .get(0);
    if opening > 0 {
        tx.execute(
            &format!("insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', $2)"),
            &[&id, &Decimal::from(opening)],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

impl Shop {
    async fn one<T: for<'r> tokio_postgres::types::FromSql<'r>>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> T {
        let sql = sql.replace("{s}", &self.schema);
        self.admin.query_one(&sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn product(&mut self, sku: &str, opening: i64) -> i64 {
        product(&mut self.admin, self.tenant, self.owner_id, &self.schema.clone(), sku, opening).await
    }

    /// Creates a supplier through the form; returns its id.
    async fn supplier(&self, name: &str) -> i64 {
        let r = self
            .app
            .submit(
                "/suppliers/new",
                "/suppliers",
                &[("name", name), ("tax_id", "30-71234567-8"), ("phone", "")],
            )
            .await;
        assert_eq!(r.status, 303, "create supplier: {}", r.body);
        id_from(&r, "/suppliers/")
    }

    /// Creates a draft invoice through the form; returns its id.
    async fn draft(&self, supplier: i64, number: &str) -> i64 {
        let s = supplier.to_string();
        // the date as people write it, the due date as a date input sends it
        let today = chrono::Local::now().date_naive();
        let date = today.format("%d/%m/%Y").to_string();
        let due = (today + chrono::Days::new(30)).format("%Y-%m-%d").to_string();
        let r = self
            .app
            .submit(
                "/purchases/new",
                "/purchases",
                &[("supplier_id", &s), ("number", number), ("invoice_date", &date), ("due_date", &due)],
            )
            .await;
        assert_eq!(r.status, 303, "create invoice: {}", r.body);
        id_from(&r, "/purchases/")
    }

    async fn add_line(&self, invoice: i64, product: i64, qty: &str, cost: &str) -> Page {
        let page = format!("/purchases/{invoice}");
        let action = format!("/purchases/{invoice}/lines");
        let p = product.to_string();
        self.app.submit(&page, &action, &[("product_id", &p), ("quantity", qty), ("unit_cost", cost)]).await
    }

    async fn post_on(&self, invoice: i64, tail: &str, form: &[(&str, &str)]) -> Page {
        self.app.submit(&format!("/purchases/{invoice}"), &format!("/purchases/{invoice}/{tail}"), form).await
    }
}

fn id_from(r: &Page, prefix: &str) -> i64 {
    let loc = r.location.as_deref().unwrap_or_else(|| panic!("no redirect: {}", r.body));
    loc.strip_prefix(prefix).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("redirect {loc}"))
}

/// The error paragraph right after the input named `name` (the message next to the field).
fn error_next_to(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let i = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in page:\n{body}"));
    let rest = &body[i..];
    let field_end = rest.find("</div>").unwrap_or(rest.len());
    let field = &rest[..field_end];
    let e = field.find("class=\"error\"").unwrap_or_else(|| panic!("no error next to {name}:\n{field}"));
    let text = &field[e..];
    let start = text.find('>').expect(">") + 1;
    text[start..start + text[start..].find('<').expect("<")].to_string()
}

#[tokio::test]
async fn an_invoice_from_draft_to_paid_through_the_browser() {
    let mut s = shop().await;
    let yerba = s.product("YERBA", 10).await;
    let azucar = s.product("AZUCAR", 0).await;
    // the menu offers suppliers and purchases to the owner
    let home = s.app.get("/suppliers").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("href=\"/suppliers\"") && home.body.contains("href=\"/purchases\""));

    let supplier = s.supplier("Distribuidora Norte").await;
    let inv = s.draft(supplier, "A-0001-00000123").await;
    let draft = s.app.get(&format!("/purchases/{inv}?q=yerba")).await;
    assert_eq!(draft.status, 200);
    assert!(draft.body.contains("YERBA producto"), "the search finds the product");
    assert!(draft.body.contains(&format!("name=\"product_id\" value=\"{yerba}\"")));

    // "10,50" and "10.50" are both ten and a half, never 1050
    assert_eq!(s.add_line(inv, yerba, "10", "10,50").await.status, 303);
    assert_eq!(s.add_line(inv, azucar, "4", "10.50").await.status, 303);
    let costs: Vec<Decimal> = s
        .admin
        .query(&format!("select unit_cost from {}.purchase_invoice_lines order by id", s.schema), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(costs, vec![dec("10.50"), dec("10.50")]);
    let total: Decimal = s.one("select total from {s}.purchase_invoices where id = $1", &[&inv]).await;
    assert_eq!(total, dec("147.00"));
    // a line can be removed again while a draft
    assert_eq!(s.add_line(inv, azucar, "1", "1").await.status, 303);
    let extra: i64 = s.one("select max(id) from {s}.purchase_invoice_lines", &[]).await;
    assert_eq!(s.post_on(inv, &format!("lines/{extra}/delete"), &[]).await.status, 303);
    assert_eq!(s.one::<i64>("select count(*) from {s}.purchase_invoice_lines", &[]).await, 2);

    // nothing moved before receiving
    assert_eq!(s.one::<Decimal>("select stock from {s}.products where id = $1", &[&yerba]).await, dec("10"));
    let r = s.post_on(inv, "receive", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.one::<Decimal>("select stock from {s}.products where id = $1", &[&yerba]).await, dec("20"));
    // (10 * 100 + 10 * 10.50) / 20 = 55.25
    assert_eq!(
        s.one::<Decimal>("select cost from {s}.products where id = $1", &[&yerba]).await,
        dec("55.25")
    );
    assert_eq!(
        s.one::<Decimal>("select cost from {s}.products where id = $1", &[&azucar]).await,
        dec("10.50")
    );
    let page = s.app.get(&format!("/purchases/{inv}")).await;
    assert!(page.body.contains("Impaga"), "status unpaid:\n{}", page.body);

    // partial, then full payment; each is an expense in the money ledger
    let r = s.post_on(inv, "payments", &[("method", "cash"), ("amount", "47,00"), ("note", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = s.app.get(&format!("/purchases/{inv}")).await;
    assert!(page.body.contains("Pago parcial"));
    assert!(page.body.contains("<dd class=\"balance\" id=\"due\">100,00</dd>"), "{}", page.body);
    let sup = s.app.get(&format!("/suppliers/{supplier}")).await;
    assert!(sup.body.contains("100,00"), "the supplier's page shows what is owed:\n{}", sup.body);
    assert!(sup.body.contains("A-0001-00000123"));
    let r = s.post_on(inv, "payments", &[("method", "transfer"), ("amount", "100"), ("note", "CBU")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = s.app.get(&format!("/purchases/{inv}")).await;
    assert!(page.body.contains("Pagada"));
    let ledger: Vec<(String, Decimal)> = s
        .admin
        .query(
            &format!(
                "select method, amount from {}.money_ledger where kind = 'invoice_payment' order by id",
                s.schema
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(ledger, vec![("cash".into(), dec("-47.00")), ("transfer".into(), dec("-100.00"))]);

    // the invoice list filters
    let open = s.app.get("/purchases?show=paid").await;
    assert!(open.body.contains("A-0001-00000123"));
    let open = s.app.get("/purchases?show=open").await;
    assert!(!open.body.contains("A-0001-00000123"));
}

#[tokio::test]
async fn bad_input_is_refused_next_to_the_field_and_writes_nothing() {
    let mut s = shop().await;
    let yerba = s.product("YERBA", 10).await;
    // another shop with more products, so its product id does not exist in this one
    let (other_tenant, other_schema) = s.app.db.create_shop("Otra").await;
    let mut other_admin = s.app.db.admin().await;
    let mut foreign = 0;
    for i in 0..4 {
        foreign =
            product(&mut other_admin, other_tenant, s.owner_id, &other_schema, &format!("OT-{i}"), 1).await;
    }
    let max_here: i64 = s.one("select max(id) from {s}.products", &[]).await;
    assert!(foreign > max_here, "the other shop's id must not exist here");

    let supplier = s.supplier("Mayorista Sur").await;
    let inv = s.draft(supplier, "B-77").await;
    let lines = || s.one::<i64>("select count(*) from {s}.purchase_invoice_lines", &[]);

    // another shop's product id: the foreign key refuses it
    let r = s.add_line(inv, foreign, "2", "10").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Ese producto no existe en este negocio"), "{}", r.body);
    assert_eq!(lines().await, 0);
    // a negative or zero quantity on an invoice
    let r = s.add_line(inv, yerba, "-2", "10").await;
    assert_eq!(r.status, 422);
    assert_eq!(
        error_next_to(&r.body, "quantity"),
        stock::i18n::t_dyn(stock::i18n::Locale::Es, "error.negative")
    );
    assert_eq!(lines().await, 0);
    // a cost that is not a number
    let r = s.add_line(inv, yerba, "2", "diez").await;
    assert_eq!(r.status, 422);
    assert!(!error_next_to(&r.body, "unit_cost").is_empty());
    assert_eq!(lines().await, 0);

    // a duplicate invoice number for the same supplier
    let sid = supplier.to_string();
    let r = s
        .app
        .submit(
            "/purchases/new",
            "/purchases",
            &[
                ("supplier_id", &sid),
                ("number", "B-77"),
                ("invoice_date", "2025-03-01"),
                ("due_date", "2025-03-02"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(error_next_to(&r.body, "number"), "Este proveedor ya tiene una factura con este número.");
    assert_eq!(s.one::<i64>("select count(*) from {s}.purchase_invoices", &[]).await, 1);
    // a due date before the invoice date
    let r = s
        .app
        .submit(
            "/purchases/new",
            "/purchases",
            &[
                ("supplier_id", &sid),
                ("number", "B-78"),
                ("invoice_date", "2025-03-10"),
                ("due_date", "01/03/2025"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        error_next_to(&r.body, "due_date"),
        "El vencimiento no puede ser anterior a la fecha de la factura."
    );

    // a payment on a draft is refused by the database
    let r = s.post_on(inv, "payments", &[("method", "cash"), ("amount", "1"), ("note", "")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Solo se paga una factura recibida."));

    assert_eq!(s.add_line(inv, yerba, "2", "50").await.status, 303);
    assert_eq!(s.post_on(inv, "receive", &[]).await.status, 303);
    // negative, zero and over-the-due payments
    let payments = || s.one::<i64>("select count(*) from {s}.purchase_payments", &[]);
    let r = s.post_on(inv, "payments", &[("method", "cash"), ("amount", "-5"), ("note", "")]).await;
    assert_eq!(r.status, 422);
    assert!(!error_next_to(&r.body, "amount").is_empty());
    let r = s.post_on(inv, "payments", &[("method", "cash"), ("amount", "0"), ("note", "")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(error_next_to(&r.body, "amount"), "Ingrese un importe mayor que cero.");
    let r = s.post_on(inv, "payments", &[("method", "cash"), ("amount", "100,01"), ("note", "")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(error_next_to(&r.body, "amount"), "El pago supera lo adeudado (100,00).");
    assert_eq!(payments().await, 0);
    assert_eq!(s.one::<i64>("select count(*) from {s}.money_ledger", &[]).await, 0);

    // a received invoice does not change: no new lines, no header edits, no deletion
    let r = s.add_line(inv, yerba, "1", "1").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Esta factura ya fue recibida y no cambia"));
    let r = s
        .post_on(
            inv,
            "header",
            &[("number", "B-99"), ("invoice_date", "2025-03-01"), ("due_date", "2025-03-31"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s.post_on(inv, "delete", &[]).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        s.one::<String>("select number from {s}.purchase_invoices where id = $1", &[&inv]).await,
        "B-77"
    );
    assert_eq!(lines().await, 1);

    // a supplier with invoices is not deleted, but deactivated
    let r =
        s.app.submit(&format!("/suppliers/{supplier}"), &format!("/suppliers/{supplier}/delete"), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Este proveedor tiene facturas y no se puede eliminar"));
    let r = s
        .app
        .submit(
            &format!("/suppliers/{supplier}"),
            &format!("/suppliers/{supplier}/active"),
            &[("active", "no")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(!s.one::<bool>("select active from {s}.suppliers where id = $1", &[&supplier]).await);
    let list = s.app.get("/suppliers").await;
    assert!(!list.body.contains("Mayorista Sur"), "inactive suppliers leave the default list");
    let list = s.app.get("/suppliers?active=all&q=mayorista").await;
    assert!(list.body.contains("Mayorista Sur"));
    // a supplier without invoices is deleted
    let spare = s.supplier("Sin Facturas").await;
    let r = s.app.submit(&format!("/suppliers/{spare}"), &format!("/suppliers/{spare}/delete"), &[]).await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn a_correction_takes_units_back_and_lowers_what_is_owed() {
    let mut s = shop().await;
    let yerba = s.product("YERBA", 0).await;
    let supplier = s.supplier("Molino").await;
    let inv = s.draft(supplier, "M-1").await;
    assert_eq!(s.add_line(inv, yerba, "10", "20").await.status, 303);
    assert_eq!(s.post_on(inv, "receive", &[]).await.status, 303);
    let r = s
        .post_on(
            inv,
            "corrections",
            &[("number", "NC-1"), ("invoice_date", "2025-03-05"), ("note", "3 rotos")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let corr = id_from(&r, "/purchases/");
    let page = s.app.get(&format!("/purchases/{corr}")).await;
    assert!(page.body.contains("Nota de corrección NC-1"));
    assert_eq!(s.add_line(corr, yerba, "-3", "20").await.status, 303);
    assert_eq!(s.post_on(corr, "receive", &[]).await.status, 303);
    assert_eq!(s.one::<Decimal>("select stock from {s}.products where id = $1", &[&yerba]).await, dec("7"));
    let due: Decimal =
        s.one("select total + credited - paid from {s}.purchase_invoices where id = $1", &[&inv]).await;
    assert_eq!(due, dec("140.00"));
    let page = s.app.get(&format!("/purchases/{inv}")).await;
    assert!(page.body.contains("<dd class=\"balance\" id=\"due\">140,00</dd>"));
    assert!(page.body.contains("NC-1"));
}

#[tokio::test]
async fn staff_reach_no_supplier_or_invoice() {
    let mut s = shop().await;
    let yerba = s.product("YERBA", 1).await;
    let supplier = s.supplier("Privado").await;
    let inv = s.draft(supplier, "X-1").await;
    assert_eq!(s.add_line(inv, yerba, "1", "1").await.status, 303);
    let staff = common::client();
    assert_eq!(s.app.login_with(&staff, STAFF, PASSWORD).await.status, 303);
    for path in [
        "/suppliers",
        "/suppliers/new",
        &format!("/suppliers/{supplier}"),
        "/purchases",
        "/purchases/new",
        &format!("/purchases/{inv}"),
    ] {
        assert_eq!(s.app.get_with(&staff, path).await.status, 403, "{path}");
    }
    let token = s.app.get_with(&staff, "/dashboard").await;
    assert!(!token.body.contains("href=\"/purchases\""), "no menu entry for staff");
    let csrf = token.csrf();
    for (path, form) in [
        ("/suppliers".to_string(), vec![("name", "Intruso")]),
        (format!("/purchases/{inv}/receive"), vec![]),
        (format!("/purchases/{inv}/lines"), vec![("product_id", "1"), ("quantity", "1"), ("unit_cost", "1")]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        assert_eq!(s.app.post_with(&staff, &path, &fields).await.status, 403, "{path}");
    }
    assert_eq!(s.one::<i64>("select count(*) from {s}.suppliers", &[]).await, 1);
    assert_eq!(s.one::<String>("select status from {s}.purchase_invoices", &[]).await, "draft");
}
