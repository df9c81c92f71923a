//! Quotes through the real app: staff create numbered quotes valid for the shop's days (in the
//! shop's time zone) and move their status; only owner and admin convert one into a sale, at the
//! quoted prices, once, never when expired, and never past the stock; bad input writes nothing.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

const ADMIN: &str = "ana@example.com";
const STAFF: &str = "sol@example.com";
const YERBA_BARCODE: &str = "7790001000017";
/// UTC+14: its calendar day differs from a UTC-11 shop's at every hour.
const TZ: &str = "Pacific/Kiritimati";

struct Shop {
    app: TestApp,
    admin: Client,
    schema: String,
    tenant: i64,
    admin_id: i64,
    staff_id: i64,
    agua: i64,
    yerba: i64,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// A shop far east of UTC with an admin and a staff member, Agua (unit, 10.00, 20 in stock) and
/// Yerba (kg, 2500.00, 10 in stock); the app's client is signed in as the admin.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Don José").await;
    let admin_id = db.add_member(tenant, ADMIN, "admin").await;
    let staff_id = db.add_member(tenant, STAFF, "staff").await;
    let mut admin = db.admin().await;
    let tx = admin.transaction().await.expect("begin");
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&tenant.to_string(), &admin_id.to_string()],
    )
    .await
    .expect("context");
    let product = |sku: &'static str,
                   name: &'static str,
                   unit: &'static str,
                   price: &'static str,
                   stock: i64| {
        let (tx, schema) = (&tx, &schema);
        async move {
            let id: i64 = tx
                .query_one(
                    &format!(
                        "insert into {schema}.products (sku, barcode, name, unit_id, price)
                         values ($1, nullif($2, ''), $3, (select id from {schema}.units where code = $4), $5::text::numeric)
                         returning id"
                    ),
                    &[&sku, &(if sku == "YB" { YERBA_BARCODE } else { "" }), &name, &unit, &price],
                )
                .await
                .expect("product")
                .get(0);
            tx.execute(
                &format!(
                    "insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', $2::bigint)"
                ),
                &[&id, &stock],
            )
            .await
            .expect("opening stock");
            id
        }
    };
    let agua = product("AG", "Agua", "u", "10.00", 20).await;
    let yerba = product("YB", "Yerba", "kg", "2500.00", 10).await;
    tx.execute(&format!("update {schema}.settings set time_zone = $1"), &[&TZ]).await.expect("time zone");
    tx.commit().await.expect("commit");
    let app = common::spawn_app_on(db).await;
    let r = app.login(ADMIN, PASSWORD).await;
    assert_eq!(r.status, 303, "admin login: {}", r.body);
    Shop { app, admin, schema, tenant, admin_id, staff_id, agua, yerba }
}

/// The value of a hidden field in a page.
fn hidden(page: &Page, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = page.body.find(&marker)?;
    let rest = &page.body[i + marker.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Shop {
    async fn staff(&self) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, STAFF, PASSWORD).await;
        assert_eq!(r.status, 303, "staff login: {}", r.body);
        http
    }

    async fn one<T: for<'a> tokio_postgres::types::FromSql<'a>>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> T {
        let sql = sql.replace("{s}", &self.schema);
        self.admin.query_one(&sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn sales(&self) -> i64 {
        self.one("select count(*) from {s}.sales", &[]).await
    }

    async fn quotes(&self) -> i64 {
        self.one("select count(*) from {s}.quotes", &[]).await
    }

    async fn stock(&self, id: i64) -> Decimal {
        self.one("select stock from {s}.products where id = $1", &[&id]).await
    }

    async fn status(&self, q: i64) -> String {
        self.one("select status from {s}.quotes where id = $1", &[&q]).await
    }

    /// Runs `sql` as superuser inside the shop's context (so audit triggers see who did it).
    async fn as_superuser(&self, sql: &str) {
        let sql = sql.replace("{s}", &self.schema);
        self.admin
            .batch_execute(&format!(
                "begin; select set_config('app.tenant_id', '{}', true), set_config('app.user_id', '{}', true); {sql}; commit;",
                self.tenant, self.admin_id
            ))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Posts the new-quote form: rows of (code, quantity, price, discount), plus extra fields.
    async fn post_quote(&self, http: &reqwest::Client, rows: Rows<'_>, extra: &[(&str, &str)]) -> Page {
        let mut owned: Vec<(String, String)> = Vec::new();
        for (i, (code, qty, price, discount)) in rows.iter().enumerate() {
            for (col, v) in [("code", code), ("quantity", qty), ("price", price), ("discount", discount)] {
                owned.push((format!("{col}_{i}"), v.to_string()));
            }
        }
        let mut fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        fields.extend_from_slice(extra);
        self.app.submit_with(http, "/quotes/new", "/quotes", &fields).await
    }

    /// Creates a quote and returns its number.
    async fn quote(&self, http: &reqwest::Client, rows: Rows<'_>) -> i64 {
        let r = self.post_quote(http, rows, &[]).await;
        assert_eq!(r.status, 303, "create quote: {}", r.body);
        let location = r.location.expect("location");
        location.strip_prefix("/quotes/").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{location}"))
    }

    /// Posts the conversion form as shown on the quote page (its key), or with `key` when given.
    async fn convert(
        &self,
        http: &reqwest::Client,
        q: i64,
        key: Option<&str>,
        method: &str,
        amount: &str,
    ) -> Page {
        let page = self.app.get_with(http, &format!("/quotes/{q}")).await;
        assert_eq!(page.status, 200, "quote page: {}", page.body);
        let key =
            key.map(str::to_string).or_else(|| hidden(&page, "idempotency_key")).expect("conversion form");
        let csrf = page.csrf();
        let form =
            [("csrf", csrf.as_str()), ("idempotency_key", &key), ("method", method), ("amount", amount)];
        self.app.post_with(http, &format!("/quotes/{q}/convert"), &form).await
    }
}

/// Rows of (code, quantity, price, discount).
type Rows<'a> = &'a [(&'a str, &'a str, &'a str, &'a str)];
/// A refused form: its rows, other fields, and words of the message it must show.
type BadCase<'a> = (Rows<'a>, &'a [(&'a str, &'a str)], &'a str);

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn staff_creates_a_numbered_quote_valid_for_the_shops_days() {
    let s = shop().await;
    let staff = s.staff().await;
    let q = s.quote(&staff, &[("AG", "3", "", ""), (YERBA_BARCODE, "1,5", "", "100")]).await;
    assert_eq!(q, 1, "the shop's first quote is number 1");

    let row = s
        .admin
        .query_one(
            &format!(
                "select q.status, q.user_id, c.is_final_consumer, q.total,
                        q.valid_until = (now() at time zone $1)::date + 15,
                        q.valid_until = (now() at time zone 'Pacific/Pago_Pago')::date + 15
                   from {0}.quotes q join {0}.customers c on c.id = q.customer_id where q.id = $2",
                s.schema
            ),
            &[&TZ, &q],
        )
        .await
        .expect("quote");
    assert_eq!(row.get::<_, String>(0), "draft");
    assert_eq!(row.get::<_, i64>(1), s.staff_id);
    assert!(row.get::<_, bool>(2), "default customer: the final consumer");
    assert_eq!(row.get::<_, Decimal>(3), dec("3680.00"));
    assert!(row.get::<_, bool>(4), "valid_until = today in the shop's time zone + 15");
    assert!(!row.get::<_, bool>(5), "not the server's nor another zone's day");

    let lines: Vec<(i32, i64, Decimal, Decimal, Decimal, Decimal)> = s
        .admin
        .query(
            &format!(
                "select position, product_id, quantity, unit_price, discount, total from {}.quote_lines
                  where quote_id = $1 order by position",
                s.schema
            ),
            &[&q],
        )
        .await
        .expect("lines")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, s.agua, dec("3"), dec("10"), dec("0"), dec("30")),
            (2, s.yerba, dec("1.5"), dec("2500"), dec("100"), dec("3650")),
        ]
    );

    // the shop's own validity, and the next number
    s.as_superuser("update {s}.settings set quote_validity_days = 30").await;
    let q2 = s.quote(&staff, &[("AG", "1", "", "")]).await;
    assert_eq!(q2, 2);
    let ok: bool = s
        .one(
            "select valid_until = (now() at time zone $1)::date + 30 from {s}.quotes where id = $2",
            &[&TZ, &q2],
        )
        .await;
    assert!(ok, "validity follows settings.quote_validity_days");

    let page = s.app.get_with(&staff, &format!("/quotes/{q}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Presupuesto N.º 1") && page.body.contains("quote-sheet"), "{}", page.body);
    assert!(page.body.contains("Borrador") && page.body.contains("3.680,00"), "{}", page.body);
    assert!(!page.body.contains("/convert"), "staff are not offered the conversion");
    let list = s.app.get_with(&staff, "/quotes").await;
    assert_eq!(list.status, 200);
    let (i1, i2) = (
        list.body.find("href=\"/quotes/1\"").expect("q1"),
        list.body.find("href=\"/quotes/2\"").expect("q2"),
    );
    assert!(i2 < i1, "newest first");
}

#[tokio::test]
async fn staff_moves_status_but_cannot_convert() {
    let s = shop().await;
    let staff = s.staff().await;
    let q = s.quote(&staff, &[("AG", "3", "", "")]).await;

    let r = s.convert(&staff, q, Some(&new_key()), "cash", "30").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.sales().await, 0);
    assert_eq!(s.stock(s.agua).await, dec("20"));
    assert_eq!(s.status(q).await, "draft");

    let path = format!("/quotes/{q}");
    let action = format!("/quotes/{q}/status");
    for to in ["sent", "accepted"] {
        let r = s.app.submit_with(&staff, &path, &action, &[("status", to)]).await;
        assert_eq!(r.status, 303, "{to}: {}", r.body);
        assert_eq!(s.status(q).await, to);
    }
    let r = s.app.submit_with(&staff, &path, &action, &[("status", "sent")]).await;
    assert_eq!(r.status, 422, "no way back: {}", r.body);
    assert_eq!(s.status(q).await, "accepted");
    let r = s.app.submit_with(&staff, &path, &action, &[("status", "converted")]).await;
    assert_eq!(r.status, 400, "converting is not a status move");
    assert_eq!(s.status(q).await, "accepted");
}

#[tokio::test]
async fn admin_converts_a_quote_once_at_its_prices() {
    let s = shop().await;
    let staff = s.staff().await;
    let q = s.quote(&staff, &[("AG", "3", "9,50", "1"), ("YB", "0,5", "", "")]).await;
    // a later price change does not touch what was quoted
    s.as_superuser("update {s}.products set price = 99").await;

    let page = s.app.get(&format!("/quotes/{q}")).await;
    assert!(page.body.contains("value=\"1277,5\""), "amount defaults to the total: {}", page.body);
    let key = hidden(&page, "idempotency_key").expect("conversion form for admin");
    let r = s.convert(&s.app.http, q, Some(&key), "cash", "1300").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let sale: i64 = s.one("select id from {s}.sales where quote_id = $1", &[&q]).await;
    assert_eq!(r.location.as_deref(), Some(format!("/sales/{sale}").as_str()));

    let lines = |table: &'static str, key: &'static str, id: i64| {
        let s = &s;
        async move {
            s.admin
                .query(
                    &format!(
                        "select position, product_id, description, quantity, unit_price, discount, total
                           from {}.{table} where {key} = $1 order by position",
                        s.schema
                    ),
                    &[&id],
                )
                .await
                .expect("lines")
                .iter()
                .map(|r| {
                    let v: (i32, i64, String, Decimal, Decimal, Decimal, Decimal) =
                        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
                    v
                })
                .collect::<Vec<_>>()
        }
    };
    let quoted = lines("quote_lines", "quote_id", q).await;
    assert_eq!(lines("sale_lines", "sale_id", sale).await, quoted);
    assert_eq!(quoted[0].4, dec("9.50"));
    let (total, change, customer_final): (Decimal, Decimal, bool) = {
        let r = s
            .admin
            .query_one(
                &format!(
                    "select s.total, s.change, c.is_final_consumer from {0}.sales s join {0}.customers c on c.id = s.customer_id
                      where s.id = $1",
                    s.schema
                ),
                &[&sale],
            )
            .await
            .expect("sale");
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((total, change, customer_final), (dec("1277.50"), dec("22.50"), true));
    assert_eq!(s.stock(s.agua).await, dec("17"));
    assert_eq!(s.stock(s.yerba).await, dec("9.5"));
    let (status, converted_sale, at): (String, Option<i64>, bool) = {
        let r = s
            .admin
            .query_one(
                &format!(
                    "select status, converted_sale_id, converted_at is not null from {}.quotes where id = $1",
                    s.schema
                ),
                &[&q],
            )
            .await
            .expect("quote");
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((status.as_str(), converted_sale, at), ("converted", Some(sale), true));

    // the same form again (a double click): the same sale
    let again = s.convert(&s.app.http, q, Some(&key), "cash", "1300").await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(again.location, r.location);
    // a new attempt: refused
    let other = s.convert(&s.app.http, q, Some(&new_key()), "cash", "1300").await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert!(other.body.contains("ya se convirtió en venta"), "{}", other.body);
    assert_eq!(s.sales().await, 1);
    assert_eq!(s.stock(s.agua).await, dec("17"));

    let page = s.app.get(&format!("/quotes/{q}")).await;
    assert!(page.body.contains(&format!("href=\"/sales/{sale}\"")), "{}", page.body);
    assert!(hidden(&page, "idempotency_key").is_none(), "no conversion form once converted");
}

#[tokio::test]
async fn two_conversions_at_once_make_one_sale() {
    let s = shop().await;
    let q = s.quote(&s.app.http, &[("AG", "2", "", "")]).await;
    let (k1, k2) = (new_key(), new_key());
    let (a, b) = tokio::join!(
        s.convert(&s.app.http, q, Some(&k1), "card", "20"),
        s.convert(&s.app.http, q, Some(&k2), "card", "20")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 422], "{}\n{}", a.body, b.body);
    assert_eq!(s.sales().await, 1);
    assert_eq!(s.stock(s.agua).await, dec("18"));
}

#[tokio::test]
async fn an_expired_quote_cannot_be_converted() {
    let s = shop().await;
    let q = s.quote(&s.app.http, &[("AG", "1", "", "")]).await;
    let key = hidden(&s.app.get(&format!("/quotes/{q}")).await, "idempotency_key").expect("form while valid");
    s.as_superuser(&format!(
        "update {{s}}.quotes set valid_until = (now() at time zone '{TZ}')::date - 1 where id = {q}"
    ))
    .await;

    let page = s.app.get(&format!("/quotes/{q}")).await;
    assert!(page.body.contains("Vencido"), "{}", page.body);
    assert!(hidden(&page, "idempotency_key").is_none(), "no conversion form once expired");
    let r = s.convert(&s.app.http, q, Some(&key), "cash", "10").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("venció"), "{}", r.body);
    assert_eq!(s.sales().await, 0);
    assert_eq!(s.stock(s.agua).await, dec("20"));
    assert_eq!(s.status(q).await, "draft");

    let r =
        s.app.submit(&format!("/quotes/{q}"), &format!("/quotes/{q}/status"), &[("status", "sent")]).await;
    assert_eq!(r.status, 422, "an expired quote does not move");
    assert_eq!(s.status(q).await, "draft");
    let expired = s.app.get("/quotes?status=expired").await;
    assert!(expired.body.contains(&format!("href=\"/quotes/{q}\"")), "{}", expired.body);
    let drafts = s.app.get("/quotes?status=draft").await;
    assert!(!drafts.body.contains(&format!("href=\"/quotes/{q}\"")), "{}", drafts.body);
}

#[tokio::test]
async fn converting_without_enough_stock_writes_nothing() {
    let s = shop().await;
    let q = s.quote(&s.app.http, &[("AG", "2", "", ""), ("YB", "11", "", "")]).await;
    let movements: i64 = s.one("select count(*) from {s}.stock_movements", &[]).await;

    let r = s.convert(&s.app.http, q, None, "cash", "27520").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("No hay stock suficiente de Yerba: quedan 10."), "{}", r.body);
    assert_eq!(s.sales().await, 0);
    assert_eq!(s.stock(s.agua).await, dec("20"), "the first line's movement was rolled back");
    assert_eq!(s.stock(s.yerba).await, dec("10"));
    assert_eq!(s.one::<i64>("select count(*) from {s}.stock_movements", &[]).await, movements);
    assert_eq!(s.one::<i64>("select count(*) from {s}.money_ledger", &[]).await, 0);
    assert_eq!(s.status(q).await, "draft");
    // the form comes back as sent, ready for another try
    assert!(r.body.contains("value=\"27520\""), "{}", r.body);
}

#[tokio::test]
async fn bad_quote_input_is_refused_with_nothing_saved() {
    let s = shop().await;
    let cases: &[BadCase] = &[
        (&[], &[], "Agregue al menos una línea"),
        (&[("", "", "", "")], &[], "Agregue al menos una línea"),
        (&[("NOPE", "1", "", "")], &[], "Ningún producto activo tiene este código"),
        (&[("AG", "0", "", "")], &[], "Debe ser mayor que cero"),
        (&[("AG", "-1", "", "")], &[], "No puede ser negativo"),
        (&[("AG", "1", "10,555", "")], &[], "Demasiados decimales"),
        (&[("AG", "1,5", "", "")], &[], "Esta unidad solo admite números enteros"),
        (&[("AG", "1", "10", "11")], &[], "El descuento supera el importe"),
        (&[("AG", "1", "", ""), ("YB", "abc", "", "")], &[], "Ingrese un número"),
        (&[("AG", "1", "", "")], &[("customer_id", "999999")], "Elija una de las opciones"),
    ];
    for (rows, extra, message) in cases {
        let r = s.post_quote(&s.app.http, rows, extra).await;
        assert_eq!(r.status, 422, "{rows:?}: {}", r.body);
        assert!(r.body.contains(message), "{rows:?}: expected {message:?} in {}", r.body);
        if let Some((code, ..)) = rows.first().filter(|r| !r.0.is_empty()) {
            assert!(r.body.contains(&format!("value=\"{code}\"")), "input kept: {}", r.body);
        }
        assert_eq!(s.quotes().await, 0, "{rows:?}");
        assert_eq!(s.one::<i64>("select count(*) from {s}.quote_lines", &[]).await, 0);
    }

    let q = s.quote(&s.app.http, &[("AG", "1", "", "")]).await;
    let r = s.convert(&s.app.http, q, Some("not-a-uuid"), "cash", "10").await;
    assert_eq!(r.status, 400, "{}", r.body);
    for (method, amount, message) in [
        ("gold", "10", "Elija una de las opciones"),
        ("cash", "abc", "Ingrese un número"),
        ("card", "5", "El pago no cubre el total"),
        ("account", "10", "requiere un cliente"),
    ] {
        let r = s.convert(&s.app.http, q, None, method, amount).await;
        assert_eq!(r.status, 422, "{method} {amount}: {}", r.body);
        assert!(r.body.contains(message), "{method} {amount}: expected {message:?} in {}", r.body);
    }
    assert_eq!(s.sales().await, 0);
    assert_eq!(s.status(q).await, "draft");
}

#[tokio::test]
async fn a_quote_duplicates_into_a_new_form() {
    let s = shop().await;
    let q = s.quote(&s.app.http, &[("AG", "3", "9,50", "1")]).await;
    let page = s.app.get(&format!("/quotes/new?from={q}")).await;
    assert_eq!(page.status, 200);
    for v in ["value=\"AG\"", "value=\"3\"", "value=\"9,5\"", "value=\"1\""] {
        assert!(page.body.contains(v), "{v}: {}", page.body);
    }
    assert_eq!(s.app.get("/quotes/new?from=999").await.status, 404);
}
