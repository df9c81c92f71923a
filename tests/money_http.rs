//! The money pages through the real app: recording other income and expenses (bad input gets a
//! message next to its field and writes nothing), reversing a manual entry once, expense
//! categories, the ledger's filters, totals and pages, the balance page with its chart, the
//! dashboard's money for owner and admin only (staff's dashboard carries no money figure at all),
//! and one shop never reaching another's entries.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::Client;

const OWNER: &str = "duena@example.com";
const ADMIN: &str = "admin@example.com";
const STAFF: &str = "cajero@example.com";

/// A form's fields as posted.
type Form<'a> = &'a [(&'a str, &'a str)];

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
    let (tenant, schema) = db.create_shop("Almacén La Esquina").await;
    let owner_id = db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, ADMIN, "admin").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, tenant, schema, owner_id }
}

impl Shop {
    async fn browser(&self, email: &str) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, email, PASSWORD).await;
        assert_eq!(r.status, 303, "{email} login: {}", r.body);
        http
    }

    async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(&self, sql: &str) -> T {
        let sql = sql.replace("{s}", &self.schema);
        self.admin.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn entries(&self) -> i64 {
        self.scalar("select count(*) from {s}.money_ledger").await
    }

    async fn category(&self, name: &str) -> i64 {
        self.scalar(&format!("select id from {{s}}.expense_categories where name = '{name}'")).await
    }

    async fn record(&self, form: &[(&str, &str)]) -> Page {
        self.app.submit("/money", "/money", form).await
    }

    /// Writes a ledger row with an explicit instant (SQL expression), as the sale triggers would.
    async fn book(&self, at: &str, kind: &str, amount: &str) {
        let sql = format!(
            "insert into {}.money_ledger (at, kind, method, amount) values ({at}, '{kind}', 'cash', {amount})",
            self.schema
        );
        self.admin.execute(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// The markup of the form field `name` (its label, input and error), for asserting what is next
/// to it.
fn field<'a>(body: &'a str, name: &str) -> &'a str {
    let marker = format!("id=\"f-{name}\"");
    let at = body.find(&format!("<label for=\"f-{name}\"")).or_else(|| body.find(&marker));
    let at = at.unwrap_or_else(|| panic!("no field {name} in:\n{body}"));
    let rest = &body[at..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn owner_records_income_and_expenses_and_bad_input_writes_nothing() {
    let shop = shop().await;
    let rent = shop.category("Alquiler").await.to_string();

    let r = shop
        .record(&[
            ("direction", "income"),
            ("amount", "1.234,50"),
            ("method", "transfer"),
            ("description", "Alquiler de la vidriera"),
        ])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/money"));
    let r = shop
        .record(&[("direction", "expense"), ("amount", "800"), ("method", "cash"), ("category", &rent)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let rows = shop
        .admin
        .query(
            &format!(
                "select kind, method, amount, category, user_id from {}.money_ledger order by id",
                shop.schema
            ),
            &[],
        )
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].get::<_, String>(0), rows[0].get::<_, Decimal>(2)),
        ("other_income".into(), dec("1234.50"))
    );
    assert_eq!(
        (rows[1].get::<_, String>(0), rows[1].get::<_, Decimal>(2)),
        ("other_expense".into(), dec("-800"))
    );
    assert_eq!(rows[1].get::<_, String>(3), "Alquiler");
    assert_eq!(rows[1].get::<_, Option<i64>>(4), Some(shop.owner_id));

    // each refusal: 422, the message next to its field, nothing written
    let cases: [(Form, &str, &str); 6] = [
        (
            &[("direction", "income"), ("amount", "0"), ("method", "cash")],
            "amount",
            "Ingrese un importe mayor que cero.",
        ),
        (
            &[("direction", "income"), ("amount", "-5"), ("method", "cash")],
            "amount",
            "No puede ser negativo.",
        ),
        (&[("direction", "income"), ("amount", "10")], "method", "Elija una de las opciones."),
        (
            &[("direction", "expense"), ("amount", "10"), ("method", "card")],
            "category",
            "Un egreso necesita una categoría.",
        ),
        (
            &[("direction", "expense"), ("amount", "10"), ("method", "card"), ("category", "999999")],
            "category",
            "Elija una de las categorías activas.",
        ),
        (&[("amount", "10"), ("method", "card")], "direction", "Elija una de las opciones."),
    ];
    for (form, name, message) in cases {
        let r = shop.record(form).await;
        assert_eq!(r.status, 422, "{form:?}: {}", r.body);
        let f = field(&r.body, name);
        assert!(f.contains("aria-invalid=\"true\"") && f.contains(message), "{form:?}: field {name}: {f}");
        assert_eq!(shop.entries().await, 2, "{form:?} wrote something");
    }
    // a deactivated category takes no new expense
    let r = shop
        .app
        .submit("/money/categories", &format!("/money/categories/{rent}/active"), &[("active", "no")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = shop
        .record(&[("direction", "expense"), ("amount", "10"), ("method", "cash"), ("category", &rent)])
        .await;
    assert_eq!(r.status, 422);
    assert!(field(&r.body, "category").contains("Elija una de las categorías activas."));
    assert_eq!(shop.entries().await, 2);
    // and the amount typed is kept in the form
    assert!(field(&r.body, "amount").contains("value=\"10\""));
}

#[tokio::test]
async fn a_manual_entry_is_reversed_once_and_sales_never() {
    let shop = shop().await;
    let r = shop
        .record(&[("direction", "income"), ("amount", "50"), ("method", "cash"), ("description", "propina")])
        .await;
    assert_eq!(r.status, 303);
    let id: i64 = shop.scalar("select max(id) from {s}.money_ledger").await;
    let page = shop.app.get("/money").await;
    assert!(page.body.contains(&format!("action=\"/money/{id}/reverse\"")), "reverse button shown");

    let r = shop.app.submit("/money", &format!("/money/{id}/reverse"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(shop.scalar::<Decimal>("select sum(amount) from {s}.money_ledger").await, dec("0"));
    let page = shop.app.get("/money").await;
    assert!(!page.body.contains("/reverse\""), "no reverse button on a reversed entry or a reversal");
    assert!(page.body.contains(&format!("Revierte el #{id}")), "{}", page.body);

    let r = shop.app.submit("/money", &format!("/money/{id}/reverse"), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Este movimiento ya fue revertido."));
    assert_eq!(shop.entries().await, 2);

    // a sale's income is corrected by voiding the sale, not here
    shop.book("now()", "sale", "99").await;
    let sale: i64 = shop.scalar("select max(id) from {s}.money_ledger").await;
    let r = shop.app.submit("/money", &format!("/money/{sale}/reverse"), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Solo se pueden revertir otros ingresos o egresos cargados a mano."));
    let r = shop.app.submit("/money", "/money/987654/reverse", &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(shop.entries().await, 3);
}

#[tokio::test]
async fn staff_sees_no_money_anywhere_and_the_dashboard_follows_todays_clock() {
    let shop = shop().await;
    // today (the real clock) and two days ago; an expense today
    shop.book("now()", "sale", "4321").await;
    shop.book("now() - interval '2 days'", "sale", "5555").await;
    shop.book("now()", "invoice_payment", "-1200").await;
    // a sale with a recognisable total for the latest-sales list
    let customer: i64 = shop.scalar("select id from {s}.customers where is_final_consumer").await;
    shop.admin
        .execute(
            &format!(
                "insert into {}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                 values (gen_random_uuid(), $1, $2, 0, 0, 0)",
                shop.schema
            ),
            &[&customer, &shop.owner_id],
        )
        .await
        .expect("sale");

    let owner = shop.app.get("/dashboard").await;
    assert_eq!(owner.status, 200);
    assert!(owner.body.contains("4.321,00"), "today's income: {}", owner.body);
    assert!(owner.body.contains("1.200,00"), "today's expenses");
    assert!(owner.body.contains("3.121,00"), "today's balance");
    assert!(!owner.body.contains("5.555,00"), "two days ago is not today");
    assert!(owner.body.contains("href=\"/money\"") && owner.body.contains("href=\"/balance\""));

    let admin = shop.browser(ADMIN).await;
    let page = shop.app.get_with(&admin, "/dashboard").await;
    assert!(page.body.contains("4.321,00"), "admin sees money too");

    let staff = shop.browser(STAFF).await;
    let page = shop.app.get_with(&staff, "/dashboard").await;
    assert_eq!(page.status, 200);
    for money in [
        "4.321",
        "1.200",
        "3.121",
        "0,00",
        "Ingresos",
        "Egresos",
        "Saldo",
        "href=\"/money\"",
        "href=\"/balance\"",
    ] {
        assert!(!page.body.contains(money), "staff's dashboard shows {money:?}:\n{}", page.body);
    }
    assert!(page.body.contains("Consumidor final"), "staff still sees the latest sales");
    for path in ["/money", "/balance", "/money/categories", "/balance?group=month"] {
        assert_eq!(shop.app.get_with(&staff, path).await.status, 403, "{path}");
    }
    let token = shop.app.get_with(&staff, "/dashboard").await.csrf();
    let before = shop.entries().await;
    for (path, form) in [
        ("/money", vec![("direction", "income"), ("amount", "10"), ("method", "cash")]),
        ("/money/1/reverse", vec![]),
        ("/money/categories", vec![("name", "Fletes")]),
    ] {
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend(form);
        assert_eq!(shop.app.post_with(&staff, path, &fields).await.status, 403, "{path}");
    }
    assert_eq!(shop.entries().await, before);
}

#[tokio::test]
async fn the_ledger_filters_totals_and_pages() {
    let shop = shop().await;
    // sixty incomes of 10 and a categorised expense, yesterday in the shop's calendar
    let tz: String = shop.scalar("select time_zone from {s}.settings").await;
    let yesterday = format!("((now() at time zone '{tz}')::date - 1 + time '12:00') at time zone '{tz}'");
    for _ in 0..60 {
        shop.book(&yesterday, "other_income", "10").await;
    }
    shop.admin
        .execute(
            &format!(
                "insert into {}.money_ledger (kind, method, amount, category, description)
                 select 'other_expense', 'card', -75, 'Limpieza', 'Lavandina y trapos'
                  where set_config('app.tenant_id', $1, false) is not null",
                shop.schema
            ),
            &[&shop.tenant.to_string()],
        )
        .await
        .expect("expense");
    let cleaning = shop.category("Limpieza").await;
    let day: chrono::NaiveDate = shop.scalar(&format!("select (now() at time zone '{tz}')::date - 1")).await;
    let from = day.format("%Y-%m-%d").to_string();
    let today: chrono::NaiveDate = shop.scalar(&format!("select (now() at time zone '{tz}')::date")).await;
    let to = today.format("%Y-%m-%d").to_string();

    let page = shop.app.get(&format!("/money?from={from}&to={to}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("600,00") && page.body.contains("75,00") && page.body.contains("525,00"),
        "totals"
    );
    assert!(page.body.contains("rel=\"next\""), "61 rows: a second page");
    let second = shop.app.get(&format!("/money?from={from}&to={to}&page=1")).await;
    assert!(!second.body.contains("rel=\"next\"") && second.body.contains("rel=\"prev\""));

    let page = shop.app.get(&format!("/money?from={from}&to={to}&kind=expense")).await;
    assert!(page.body.contains("Lavandina y trapos") && !page.body.contains("rel=\"next\""));
    assert!(page.body.contains("-75,00"));
    let page = shop
        .app
        .get(&format!("/money?from={from}&to={to}&category={cleaning}&method=card&q=LAVANDINA"))
        .await;
    assert!(page.body.contains("Lavandina y trapos"));
    let page = shop.app.get(&format!("/money?from={from}&to={to}&method=transfer")).await;
    assert!(page.body.contains("No hay movimientos que coincidan."));
    // a day before: nothing; a bad date: a message next to the field, the month shown instead
    let before = (day - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let page = shop.app.get(&format!("/money?from={before}&to={before}")).await;
    assert!(page.body.contains("No hay movimientos que coincidan."));
    let page = shop.app.get("/money?from=31/02/2026").await;
    assert_eq!(page.status, 200);
    assert!(field(&page.body, "from").contains("Ingrese una fecha como 31/12/2026."));
}

#[tokio::test]
async fn the_balance_page_draws_its_chart_and_lists_the_same_numbers() {
    let shop = shop().await;
    shop.book("'2026-03-10 12:00-03'", "sale", "1500").await;
    shop.book("'2026-03-11 12:00-03'", "invoice_payment", "-400").await;
    let page = shop.app.get("/balance?from=2026-03-09&to=2026-03-12").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let svg =
        &page.body[page.body.find("<svg").expect("an inline svg")..page.body.find("</svg>").expect("end")];
    assert!(svg.contains("role=\"img\"") && svg.contains("<title id=\"balance-chart-title\">"));
    assert!(svg.contains("<desc id=\"balance-chart-desc\">"));
    assert_eq!(svg.matches("<circle").count(), 4 + 1, "a net marker per day and the legend's");
    assert!(!page.body.contains("<script>") && !svg.contains("script"));
    let table = &page.body[page.body.find("<table").expect("table")..];
    for figure in ["1.500,00", "400,00", "1.100,00", "-400,00", "10/03/2026", "12/03/2026"] {
        assert!(table.contains(figure), "table lacks {figure}");
    }
    // long ranges are grouped by week, then month; the automatic default is this month
    let weeks = shop.app.get("/balance?from=2026-01-01&to=2026-06-30").await;
    assert_eq!(weeks.status, 200);
    assert!(weeks.body.contains("09/03/2026 – 15/03/2026"), "weekly buckets from Monday");
    let months = shop.app.get("/balance?from=2024-01-01&to=2026-12-31&group=day").await;
    assert!(months.body.contains("01/03/2026 – 31/03/2026"), "too many days: months");
    assert_eq!(shop.app.get("/balance").await.status, 200);
    let bad = shop.app.get("/balance?from=2026-03-12&to=2026-03-01").await;
    assert_eq!(bad.status, 422);
    assert!(field(&bad.body, "to").contains("El fin es anterior al inicio."));
}

#[tokio::test]
async fn categories_are_added_renamed_and_kept_apart_per_shop() {
    let shop = shop().await;
    let r = shop.app.submit("/money/categories", "/money/categories", &[("name", "Fletes")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = shop.app.submit("/money/categories", "/money/categories", &[("name", "  fletes ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ya hay una categoría con ese nombre."));
    let r = shop.app.submit("/money/categories", "/money/categories", &[("name", " ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Este campo es obligatorio."));
    let id = shop.category("Fletes").await;
    let r =
        shop.app.submit("/money/categories", &format!("/money/categories/{id}"), &[("name", "Envíos")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        shop.scalar::<i64>("select count(*) from {s}.expense_categories where name = 'Envíos'").await,
        1
    );
    assert_eq!(shop.scalar::<i64>("select count(*) from {s}.expense_categories").await, 8);

    // another shop's owner: the entry and category ids of this shop are not found there
    let db = &shop.app.db;
    let (other, _) = db.create_shop("Otro negocio").await;
    db.add_member(other, "otro@example.com", "owner").await;
    shop.book("now()", "other_income", "10").await;
    let entry: i64 = shop.scalar("select max(id) from {s}.money_ledger").await;
    let http = common::client();
    assert_eq!(shop.app.login_with(&http, "otro@example.com", PASSWORD).await.status, 303);
    let page = shop.app.get_with(&http, "/money").await;
    assert!(page.body.contains("No hay movimientos que coincidan."));
    let token = page.csrf();
    let r = shop.app.post_with(&http, &format!("/money/{entry}/reverse"), &[("csrf", &token)]).await;
    assert_eq!(r.status, 404);
    let r = shop
        .app
        .post_with(&http, &format!("/money/categories/{id}"), &[("csrf", &token), ("name", "Robado")])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(shop.entries().await, 1);
    assert_eq!(
        shop.scalar::<i64>("select count(*) from {s}.expense_categories where name = 'Envíos'").await,
        1
    );
}
