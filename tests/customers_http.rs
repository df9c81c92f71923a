//! The customer pages through the real app: the form (field errors with nothing saved), what staff
//! may and may not do, payments on account (never above the debt; both ledgers or neither),
//! opening balances, the final consumer, deactivating instead of deleting a customer with history,
//! search and pages, and that one shop never reaches another's customers. Every scenario ends by
//! checking that each customer's balance equals the sum of its account entries.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

const OWNER: &str = "dueno@example.com";
const STAFF: &str = "sol@example.com";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

struct Shop {
    app: TestApp,
    /// Superuser connection to the test database, for setting up and checking results.
    admin: Client,
    tenant: i64,
    schema: String,
    owner_id: i64,
}

/// A shop with an owner and a staff member; the app's client is signed in as the owner.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Don José").await;
    let owner_id = db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, tenant, schema, owner_id }
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

    async fn customers(&self) -> i64 {
        self.count("select count(*) from {s}.customers", &[]).await
    }

    async fn id_of(&self, name: &str) -> i64 {
        self.count("select id from {s}.customers where name = $1", &[&name]).await
    }

    async fn final_consumer(&self) -> i64 {
        self.count("select id from {s}.customers where is_final_consumer", &[]).await
    }

    async fn balance(&self, id: i64) -> Decimal {
        self.admin
            .query_one(&format!("select balance from {}.customers where id = $1", self.schema), &[&id])
            .await
            .expect("balance")
            .get(0)
    }

    async fn entries(&self, id: i64) -> i64 {
        self.count("select count(*) from {s}.customer_ledger where customer_id = $1", &[&id]).await
    }

    async fn incomes(&self, id: i64) -> i64 {
        self.count("select count(*) from {s}.money_ledger where customer_id = $1", &[&id]).await
    }

    /// Creates a customer through the form; returns its id.
    async fn create(&self, http: &reqwest::Client, name: &str) -> i64 {
        let r = self.app.submit_with(http, "/customers/new", "/customers", &[("name", name)]).await;
        assert_eq!(r.status, 303, "create {name}: {}", r.body);
        let id = self.id_of(name).await;
        assert_eq!(r.location.as_deref(), Some(format!("/customers/{id}").as_str()));
        id
    }

    /// Posts one of the customer page's forms (token from the page) as the owner.
    async fn post_on_page(&self, id: i64, action: &str, form: &[(&str, &str)]) -> Page {
        self.app.submit(&format!("/customers/{id}"), &format!("/customers/{id}/{action}"), form).await
    }

    /// A completed sale for `customer`, paid on account, recorded as the owner in the shop's
    /// context: a service line (no stock), lines = payments = total.
    async fn sale_on_account(&self, customer: i64, amount: &str) -> i64 {
        let amount = dec(amount);
        let s = &self.schema;
        let mut admin = self.app.db.admin().await;
        let tx = admin.transaction().await.expect("begin");
        tx.query_one(
            "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
            &[&self.tenant.to_string(), &self.owner_id.to_string()],
        )
        .await
        .expect("context");
        let product: i64 = tx
            .query_one(
                &format!(
                    "insert into {s}.products (sku, name, unit_id, price, track_stock)
                     values ('SRV-' || (select count(*) + 1 from {s}.products), 'Servicio',
                             (select id from {s}.units where code = 'u'), $1, false) returning id"
                ),
                &[&amount],
            )
            .await
            .expect("product")
            .get(0);
        let sale: i64 = tx
            .query_one(
                &format!(
                    "insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                     values (gen_random_uuid(), $1, $2, $3, $3, 0) returning id"
                ),
                &[&customer, &self.owner_id, &amount],
            )
            .await
            .expect("sale")
            .get(0);
        tx.execute(
            &format!(
                "insert into {s}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                 values ($1, 1, $2, 'Servicio', 1, $3, 0, $3)"
            ),
            &[&sale, &product, &amount],
        )
        .await
        .expect("line");
        tx.execute(
            &format!("insert into {s}.sale_payments (sale_id, method, amount) values ($1, 'account', $2)"),
            &[&sale, &amount],
        )
        .await
        .expect("payment");
        tx.commit().await.expect("sale is whole");
        sale
    }

    /// For every customer, balance = the sum of its account entries.
    async fn assert_balances_match_ledger(&self) {
        let bad = self
            .count(
                "select count(*) from (select c.id from {s}.customers c
                                         left join {s}.customer_ledger l on l.customer_id = c.id
                                        group by c.id having c.balance <> coalesce(sum(l.amount), 0)) x",
                &[],
            )
            .await;
        assert_eq!(bad, 0, "a customer's balance differs from the sum of its entries");
    }
}

fn input_value<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\" type=\"text\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(&body[start..start + body[start..].find('"')?])
}

#[tokio::test]
async fn the_customer_form_refuses_bad_input_and_saves_nothing() {
    let shop = shop().await;
    let before = shop.customers().await;
    assert_eq!(before, 1, "only the final consumer");

    let long = "x".repeat(201);
    let cases = [
        ("empty name", vec![("name", "   "), ("tax_id", "20-1")], "Este campo es obligatorio."),
        ("long name", vec![("name", long.as_str()), ("tax_id", "20-1")], "Es demasiado largo."),
        (
            "bad e-mail",
            vec![("name", "Ana"), ("tax_id", "20-1"), ("email", "ana.example.com")],
            "Ingrese un correo electrónico válido.",
        ),
        ("long tax id", vec![("name", "Ana"), ("tax_id", "123456789012345678901")], "Es demasiado largo."),
    ];
    for (what, form, message) in cases {
        let r = shop.app.submit("/customers/new", "/customers", &form).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert!(r.body.contains("Corrija los campos marcados."), "{what}: form-level notice");
        assert!(r.body.contains(message), "{what}: {message}");
        assert!(r.body.contains("aria-invalid=\"true\""), "{what}: field marked");
        let kept = form.iter().find(|(k, _)| *k == "tax_id").map(|(_, v)| *v);
        assert_eq!(input_value(&r.body, "tax_id"), kept, "{what}: input kept");
        assert_eq!(shop.customers().await, before, "{what}: nothing saved");
    }

    let r = shop
        .app
        .submit(
            "/customers/new",
            "/customers",
            &[
                ("name", "  Ferretería Ñandú "),
                ("tax_id", "30-71234567-1"),
                ("email", "Compras@Nandu.com.ar"),
                ("phone", "+54 11 5555-1234"),
                ("address", "Av. Siempre Viva 742"),
                ("notes", "Paga los viernes\n<b>no</b> fiar más de 50.000"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = shop.id_of("Ferretería Ñandú").await;
    let page = shop.app.get(&format!("/customers/{id}")).await;
    assert_eq!(page.status, 200);
    for shown in
        ["Ferretería Ñandú", "30-71234567-1", "compras@nandu.com.ar", "Guardado.", "&lt;b&gt;no&lt;/b&gt;"]
    {
        assert!(page.body.contains(shown), "detail shows {shown}: {}", page.body);
    }

    // editing: errors keep the stored customer as it was
    let edit = format!("/customers/{id}/edit");
    let r = shop.app.get(&edit).await;
    assert_eq!(r.status, 200);
    assert_eq!(input_value(&r.body, "name"), Some("Ferretería Ñandú"), "edit form filled in");
    let r = shop.app.submit(&edit, &format!("/customers/{id}"), &[("name", ""), ("tax_id", "99")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Este campo es obligatorio."));
    let r = shop.app.submit(&edit, &format!("/customers/{id}"), &[("name", &long)]).await;
    assert_eq!(r.status, 422);
    let tax = shop
        .count("select count(*) from {s}.customers where id = $1 and tax_id = '30-71234567-1'", &[&id])
        .await;
    assert_eq!(tax, 1, "nothing changed by refused edits");
    let r = shop
        .app
        .submit(&edit, &format!("/customers/{id}"), &[("name", "Ferretería Ñandú SRL"), ("tax_id", "")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(shop.id_of("Ferretería Ñandú SRL").await, id);
    assert_eq!(shop.customers().await, 2);
    shop.assert_balances_match_ledger().await;
}

#[tokio::test]
async fn staff_create_and_edit_customers_but_cannot_touch_the_account() {
    let shop = shop().await;
    let staff = shop.staff().await;
    let r = shop.app.get_with(&staff, "/customers").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("href=\"/customers\""), "menu shows customers to staff");
    let id = shop.create(&staff, "Cliente de Sol").await;
    let page = format!("/customers/{id}");
    let r = shop
        .app
        .submit_with(&staff, &format!("{page}/edit"), &page, &[("name", "Cliente de Sol"), ("phone", "555")])
        .await;
    assert_eq!(r.status, 303, "staff edits: {}", r.body);

    let detail = shop.app.get_with(&staff, &page).await;
    assert_eq!(detail.status, 200);
    assert!(!detail.body.contains("/payment\""), "no payment form for staff");
    assert!(!detail.body.contains("/opening\""), "no opening-balance form for staff");
    assert!(!detail.body.contains("/delete\""), "no delete button for staff");
    assert!(detail.body.contains("No debe nada"), "staff see the balance");

    for (action, form) in [
        ("payment", vec![("method", "cash"), ("amount", "10")]),
        ("opening", vec![("amount", "10")]),
        ("delete", vec![]),
    ] {
        let r = shop.app.submit_with(&staff, &page, &format!("{page}/{action}"), &form).await;
        assert_eq!(r.status, 403, "staff {action}: {}", r.body);
    }
    assert_eq!(
        shop.count("select count(*) from {s}.customers where id = $1", &[&id]).await,
        1,
        "still there"
    );
    assert_eq!(shop.entries(id).await, 0);
    assert_eq!(shop.incomes(id).await, 0);

    // the owner opens the account; staff see the debt
    let r = shop.post_on_page(id, "opening", &[("amount", "1.500,50"), ("note", "saldo 2023")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let detail = shop.app.get_with(&staff, &page).await;
    assert!(detail.body.contains("Debe 1.500,50"), "{}", detail.body);
    shop.assert_balances_match_ledger().await;
}

#[tokio::test]
async fn payments_lower_the_balance_and_are_income_never_above_the_debt() {
    let shop = shop().await;
    let id = shop.create(&shop.app.http, "Deudor Pérez").await;
    let fresh = shop.app.get(&format!("/customers/{id}")).await;
    assert!(fresh.body.contains("/opening\""), "opening form while the account is empty");
    assert!(!fresh.body.contains("/payment\""), "no payment form while nothing is owed");

    let r = shop.post_on_page(id, "opening", &[("amount", "0"), ("note", "")]).await;
    assert_eq!(r.status, 422, "zero opening");
    assert!(r.body.contains("Ingrese un importe mayor que cero."));
    let r = shop.post_on_page(id, "opening", &[("amount", "100"), ("note", "libreta")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(shop.balance(id).await, dec("100"));
    let r = shop.post_on_page(id, "opening", &[("amount", "5"), ("note", "")]).await;
    assert_eq!(r.status, 422, "a second opening balance");
    assert!(r.body.contains("el saldo inicial solo puede ser el primero"), "{}", r.body);
    let sale = shop.sale_on_account(id, "20.50").await;
    assert_eq!(shop.balance(id).await, dec("120.50"));

    // above the debt: 422, the message with the balance, the input kept, nothing written
    let (entries, incomes) = (shop.entries(id).await, shop.incomes(id).await);
    let r =
        shop.post_on_page(id, "payment", &[("method", "cash"), ("amount", "120,51"), ("note", "todo")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("El pago supera lo que debe el cliente (120,50)."), "{}", r.body);
    assert!(r.body.contains("value=\"120,51\""), "amount kept");
    assert_eq!(shop.entries(id).await, entries, "no account entry");
    assert_eq!(shop.incomes(id).await, incomes, "no income");
    assert_eq!(shop.balance(id).await, dec("120.50"));

    for (what, form, message) in [
        ("zero", vec![("method", "cash"), ("amount", "0")], "Ingrese un importe mayor que cero."),
        ("negative", vec![("method", "cash"), ("amount", "-5")], "No puede ser negativo."),
        ("not a number", vec![("method", "cash"), ("amount", "diez")], "Ingrese un número"),
        ("on account", vec![("method", "account"), ("amount", "5")], "Elija una de las opciones."),
    ] {
        let r = shop.post_on_page(id, "payment", &form).await;
        assert_eq!(r.status, 422, "{what}");
        assert!(r.body.contains(message), "{what}: {message}");
        assert_eq!(shop.entries(id).await, entries, "{what}: nothing written");
    }

    // a payment: the balance goes down and the money ledger gets the income
    let r = shop
        .post_on_page(id, "payment", &[("method", "transfer"), ("amount", "40,50"), ("note", "cuota 1")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("/customers/{id}").as_str()));
    assert_eq!(shop.balance(id).await, dec("80"));
    let row = shop
        .admin
        .query_one(
            &format!(
                "select kind, method, amount, description, user_id from {}.money_ledger where customer_id = $1",
                shop.schema
            ),
            &[&id],
        )
        .await
        .expect("one income row");
    assert_eq!(row.get::<_, String>(0), "customer_payment");
    assert_eq!(row.get::<_, String>(1), "transfer");
    assert_eq!(row.get::<_, Decimal>(2), dec("40.50"));
    assert_eq!(row.get::<_, String>(3), "cuota 1");
    assert_eq!(row.get::<_, Option<i64>>(4), Some(shop.owner_id));
    let entry = shop
        .admin
        .query_one(
            &format!(
                "select amount, balance_after, note from {}.customer_ledger where customer_id = $1 and kind = 'payment'",
                shop.schema
            ),
            &[&id],
        )
        .await
        .expect("one payment entry");
    assert_eq!(entry.get::<_, Decimal>(0), dec("-40.50"));
    assert_eq!(entry.get::<_, Decimal>(1), dec("80"));
    assert_eq!(entry.get::<_, String>(2), "cuota 1");

    let page = shop.app.get(&format!("/customers/{id}")).await;
    for shown in ["Debe 80,00", "Guardado.", "Saldo inicial", "Venta a cuenta", "Pago", "-40,50", "cuota 1"] {
        assert!(page.body.contains(shown), "page shows {shown}");
    }
    assert!(page.body.contains(&format!("href=\"/sales/{sale}\"")), "sale linked");
    assert!(!page.body.contains("/opening\""), "no opening form once the account has entries");

    // paying the rest exactly
    let r = shop.post_on_page(id, "payment", &[("method", "cash"), ("amount", "80")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(shop.balance(id).await, dec("0"));
    assert_eq!(shop.incomes(id).await, 2);
    shop.assert_balances_match_ledger().await;
}

#[tokio::test]
async fn the_final_consumer_is_kept_and_has_no_account() {
    let shop = shop().await;
    let fc = shop.final_consumer().await;
    let page = shop.app.get(&format!("/customers/{fc}")).await;
    assert_eq!(page.status, 200);
    for form in ["/payment\"", "/opening\"", "/delete\"", "/active\""] {
        assert!(!page.body.contains(form), "no {form} form for the final consumer");
    }

    let r = shop.post_on_page(fc, "delete", &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("El consumidor final se conserva siempre"), "{}", r.body);
    let r = shop.post_on_page(fc, "active", &[("active", "no")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    for (action, form) in
        [("payment", vec![("method", "cash"), ("amount", "10")]), ("opening", vec![("amount", "10")])]
    {
        let r = shop.post_on_page(fc, action, &form).await;
        assert_eq!(r.status, 422, "{action}: {}", r.body);
        assert!(r.body.contains("El consumidor final no tiene cuenta corriente."), "{action}");
    }
    assert_eq!(
        shop.count("select count(*) from {s}.customers where is_final_consumer and active", &[]).await,
        1
    );
    assert_eq!(shop.entries(fc).await, 0);
    assert_eq!(shop.incomes(fc).await, 0);
    shop.assert_balances_match_ledger().await;
}

#[tokio::test]
async fn a_customer_with_history_is_deactivated_not_deleted() {
    let shop = shop().await;
    let kept = shop.create(&shop.app.http, "Cliente Histórico").await;
    let gone = shop.create(&shop.app.http, "Cliente Nuevo").await;
    shop.sale_on_account(kept, "30").await;

    let r = shop.post_on_page(kept, "delete", &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("no se puede eliminar: desactívelo"), "{}", r.body);
    assert!(r.body.contains("Debe 30,00"), "the page is shown again");
    assert_eq!(
        shop.count("select count(*) from {s}.customers where id = $1", &[&kept]).await,
        1,
        "still there"
    );

    let r = shop.post_on_page(kept, "active", &[("active", "no")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        shop.count("select count(*) from {s}.customers where id = $1 and not active", &[&kept]).await,
        1
    );
    let active = shop.app.get("/customers").await;
    assert!(!active.body.contains("Cliente Histórico"), "inactive customers are not listed by default");
    let inactive = shop.app.get("/customers?active=no").await;
    assert!(inactive.body.contains("Cliente Histórico"));
    assert!(!inactive.body.contains("Cliente Nuevo"));
    let page = shop.app.get(&format!("/customers/{kept}")).await;
    assert!(page.body.contains("Reactivar"));
    let r = shop.post_on_page(kept, "active", &[("active", "yes")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(shop.count("select count(*) from {s}.customers where id = $1 and active", &[&kept]).await, 1);

    let r = shop.post_on_page(gone, "delete", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/customers"));
    assert_eq!(shop.count("select count(*) from {s}.customers where id = $1", &[&gone]).await, 0);
    let r = shop.app.get(&format!("/customers/{gone}")).await;
    assert_eq!(r.status, 404);
    shop.assert_balances_match_ledger().await;
}

#[tokio::test]
async fn the_list_searches_by_name_or_tax_id_in_pages_of_50() {
    let shop = shop().await;
    for i in 0..55 {
        shop.admin
            .execute(
                &format!("insert into {}.customers (name, tax_id) values ($1, $2)", shop.schema),
                &[&format!("Cliente {i:02}"), &format!("20-{:08}-1", i)],
            )
            .await
            .expect("customer");
    }
    shop.admin
        .execute(
            &format!(
                "insert into {}.customers (name, tax_id) values ('Martín Gómez', '23-30111222-9')",
                shop.schema
            ),
            &[],
        )
        .await
        .expect("customer");

    let first = shop.app.get("/customers").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("rel=\"next\"") && !first.body.contains("rel=\"prev\""));
    assert_eq!(first.body.matches("<tr").count(), 51, "header + 50 rows");
    let second = shop.app.get("/customers?active=yes&page=1").await;
    assert!(second.body.contains("rel=\"prev\"") && !second.body.contains("rel=\"next\""));
    assert_eq!(second.body.matches("<tr").count(), 1 + 57 - 50, "the rest (with the final consumer)");

    for q in ["gomez", "MARTÍN", "tin gó", "23301112229", "23-30111222"] {
        let r = shop.app.get(&format!("/customers?q={}", urlencode(q))).await;
        assert!(r.body.contains("Martín Gómez"), "q={q:?}");
        assert!(!r.body.contains("Cliente 01"), "q={q:?} matches only Martín");
    }
    let r = shop.app.get("/customers?q=nadie").await;
    assert!(r.body.contains("No hay clientes que coincidan."));
    shop.assert_balances_match_ledger().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn another_shops_customers_are_not_found() {
    let shop = shop().await;
    let (b, b_schema) = shop.app.db.create_shop("Bazar Beta").await;
    shop.app.db.add_member(b, "beta@example.com", "owner").await;
    for name in ["Secreto Uno", "Secreto Dos", "Secreto Tres"] {
        shop.admin
            .execute(&format!("insert into {b_schema}.customers (name) values ($1)"), &[&name])
            .await
            .expect("B customer");
    }
    let b_max: i64 = shop
        .admin
        .query_one(&format!("select max(id) from {b_schema}.customers"), &[])
        .await
        .expect("max")
        .get(0);
    let a_has = shop.count("select count(*) from {s}.customers where id = $1", &[&b_max]).await;
    assert_eq!(a_has, 0, "the id exists only in shop B");

    for path in [format!("/customers/{b_max}"), format!("/customers/{b_max}/edit")] {
        let r = shop.app.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("Secreto"), "{path}");
    }
    let token = shop.app.get("/customers/new").await.csrf();
    for (action, form) in [
        (format!("/customers/{b_max}"), vec![("name", "Robado")]),
        (format!("/customers/{b_max}/payment"), vec![("method", "cash"), ("amount", "1")]),
        (format!("/customers/{b_max}/opening"), vec![("amount", "1")]),
        (format!("/customers/{b_max}/active"), vec![("active", "no")]),
        (format!("/customers/{b_max}/delete"), vec![]),
    ] {
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend(form);
        let r = shop.app.post(&action, &fields).await;
        assert_eq!(r.status, 404, "{action}: {}", r.body);
    }
    let r = shop.app.get("/customers?q=secreto&active=all").await;
    assert!(r.body.contains("No hay clientes que coincidan."));
    let untouched = shop
        .count(
            &format!("select count(*) from {b_schema}.customers where active and name like 'Secreto%'"),
            &[],
        )
        .await;
    assert_eq!(untouched, 3, "shop B's customers are untouched");

    // A's own customer with an id that B also uses shows A's data
    let own = shop.create(&shop.app.http, "Cliente de Alfa").await;
    let b_same: i64 = shop
        .admin
        .query_one(&format!("select count(*) from {b_schema}.customers where id = $1"), &[&own])
        .await
        .expect("count")
        .get(0);
    assert_eq!(b_same, 1, "B has a customer with the same id");
    let r = shop.app.get(&format!("/customers/{own}")).await;
    assert!(r.body.contains("Cliente de Alfa") && !r.body.contains("Secreto"));
    shop.assert_balances_match_ledger().await;
}
