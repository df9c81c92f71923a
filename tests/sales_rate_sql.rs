//! The sale triggers keep their plans per connection (app migration V18): they switch their own
//! search_path to the shop of the row and run static SQL. A pooled connection serves shop after
//! shop, so these tests use ONE connection of the web app's login role for two shops in turn and
//! check that every effect lands in the shop in context and nowhere else: stock, movements,
//! money, the "may stock go negative" setting read from the right shop, and a context for one
//! shop cannot write the other's sales.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use tokio_postgres::{Client, Error};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {} (constraint {:?})", d.code().code(), d.message(), d.constraint()),
        None => format!("{e:?}"),
    }
}

struct Shop {
    id: i64,
    schema: String,
    staff: i64,
    product: i64,
}

/// A shop with one stock-tracked product (stock `opening`, price 10) and a staff member.
async fn shop(
    db: &TestDb,
    su: &mut Client,
    name: &str,
    email: &str,
    opening: i64,
    allow_negative: bool,
) -> Shop {
    let (id, schema) = db.create_shop(name).await;
    let owner = db.add_member(id, &format!("owner.{email}"), "owner").await;
    let staff = db.add_member(id, email, "staff").await;
    let tx = su.transaction().await.expect("begin");
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&id.to_string(), &owner.to_string()],
    )
    .await
    .expect("context");
    let product: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price)
                 values ('P-1', 'Producto', (select id from {schema}.units where code = 'u'), 10) returning id"
            ),
            &[],
        )
        .await
        .expect("product")
        .get(0);
    tx.execute(
        &format!(
            "insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', $2)"
        ),
        &[&product, &Decimal::from(opening)],
    )
    .await
    .expect("opening stock");
    tx.execute(&format!("update {schema}.settings set allow_negative_stock = $1"), &[&allow_negative])
        .await
        .expect("setting");
    tx.commit().await.expect("commit");
    Shop { id, schema, staff, product }
}

/// One sale of `qty` units at 10 paid in cash, as the shop's staff, on connection `c`.
async fn sell(c: &mut Client, shop: &Shop, qty: i64) -> Result<(), Error> {
    let tx = c.transaction().await?;
    set_ctx(&tx, Some(shop.id), Some(shop.staff), &roles().staff).await;
    let total = Decimal::from(qty * 10);
    let sale: i64 = tx
        .query_one(
            "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
             values (gen_random_uuid(), (select id from customers where is_final_consumer), $1, $2, $2, 0)
             returning id",
            &[&shop.staff, &total],
        )
        .await?
        .get(0);
    tx.execute(
        "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
         values ($1, 1, $2, 'Producto', $3, 10, 0, $4)",
        &[&sale, &shop.product, &Decimal::from(qty), &total],
    )
    .await?;
    tx.execute(
        "insert into sale_payments (sale_id, method, amount) values ($1, 'cash', $2)",
        &[&sale, &total],
    )
    .await?;
    tx.commit().await
}

async fn figures(su: &Client, shop: &Shop) -> (Decimal, i64, Decimal) {
    let s = &shop.schema;
    let r = su
        .query_one(
            &format!(
                "select (select stock from {s}.products where id = $1),
                        (select count(*) from {s}.stock_movements where kind = 'sale'),
                        (select coalesce(sum(amount), 0) from {s}.money_ledger where kind = 'sale')"
            ),
            &[&shop.product],
        )
        .await
        .expect("figures");
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn one_connection_serving_two_shops_posts_every_effect_in_the_shop_in_context() {
    let db = TestDb::new().await;
    let mut su = db.admin().await;
    // A lets stock go negative, B does not; both products may well have the same id
    let a = shop(&db, &mut su, "Kiosco A", "staff.a@example.com", 5, true).await;
    let b = shop(&db, &mut su, "Kiosco B", "staff.b@example.com", 5, false).await;
    let mut c = db.app_login().await;

    // alternate shops on the same connection, so cached plans would be reused if they could be
    sell(&mut c, &a, 2).await.unwrap_or_else(|e| panic!("A sells 2: {}", describe(&e)));
    sell(&mut c, &b, 1).await.unwrap_or_else(|e| panic!("B sells 1: {}", describe(&e)));
    sell(&mut c, &a, 2).await.unwrap_or_else(|e| panic!("A sells 2 again: {}", describe(&e)));
    sell(&mut c, &b, 3).await.unwrap_or_else(|e| panic!("B sells 3: {}", describe(&e)));
    assert_eq!(figures(&su, &a).await, (dec("1"), 2, dec("40")));
    assert_eq!(figures(&su, &b).await, (dec("1"), 2, dec("40")));

    // B refuses to go below zero (its own setting), A allows it (its own setting)
    let err = sell(&mut c, &b, 2).await.expect_err("B must refuse to go below zero");
    assert_eq!(
        err.as_db_error().and_then(|d| d.constraint()),
        Some("stock_not_negative"),
        "{}",
        describe(&err)
    );
    assert_eq!(
        err.as_db_error().and_then(|d| d.detail()),
        Some("1.000"),
        "the available stock is the detail"
    );
    sell(&mut c, &a, 3).await.unwrap_or_else(|e| panic!("A may go below zero: {}", describe(&e)));
    let err = sell(&mut c, &b, 2).await.expect_err("B still refuses after A's sale on this connection");
    assert_eq!(err.as_db_error().and_then(|d| d.constraint()), Some("stock_not_negative"));
    assert_eq!(figures(&su, &a).await, (dec("-2"), 3, dec("70")));
    assert_eq!(figures(&su, &b).await, (dec("1"), 2, dec("40")), "refused sales left nothing in B");

    // stock = sum of movements in both shops
    for s in [&a, &b] {
        let bad: i64 = su
            .query_one(
                &format!(
                    "select count(*) from {0}.products p where p.stock <>
                       (select coalesce(sum(quantity), 0) from {0}.stock_movements m where m.product_id = p.id)",
                    s.schema
                ),
                &[],
            )
            .await
            .expect("ledger")
            .get(0);
        assert_eq!(bad, 0, "{}: stock differs from the sum of movements", s.schema);
    }
}

#[tokio::test]
async fn a_context_for_one_shop_cannot_record_a_sale_in_the_other() {
    let db = TestDb::new().await;
    let mut su = db.admin().await;
    let a = shop(&db, &mut su, "Kiosco A", "staff.a@example.com", 5, false).await;
    let b = shop(&db, &mut su, "Kiosco B", "staff.b@example.com", 5, false).await;
    let mut c = db.app_login().await;
    sell(&mut c, &a, 1).await.unwrap_or_else(|e| panic!("A sells: {}", describe(&e)));

    // A's staff names B's tables: refused by B's policies (another shop's constant id)
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a.id), Some(a.staff), &roles().staff).await;
    let err = tx
        .query_one(
            &format!(
                "insert into {0}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                 values (gen_random_uuid(), 1, $1, 10, 10, 0) returning id",
                b.schema
            ),
            &[&a.staff],
        )
        .await
        .expect_err("a sale in another shop's schema must be refused");
    assert_eq!(err.code().map(|c| c.code()), Some("42501"), "{}", describe(&err));
    drop(tx);

    // no context at all: the login role holds no grant on the shop's tables
    let err = c
        .execute(
            &format!(
                "insert into {}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                 values (1, 1, $1, 'x', 1, 10, 0, 10)",
                b.schema
            ),
            &[&b.product],
        )
        .await
        .expect_err("no context, no sale line");
    assert_eq!(err.code().map(|c| c.code()), Some("42501"), "{}", describe(&err));
    assert_eq!(figures(&su, &b).await, (dec("5"), 0, dec("0")), "nothing reached B");
    assert_eq!(figures(&su, &a).await, (dec("4"), 1, dec("10")));
}
