//! Returns: stock comes back, the refund is the line's share at its original prices, never more
//! than was sold, staff cannot record them, and a later void undoes only the rest.
mod common;

use common::{roles, set_ctx, PASSWORD};
use rust_decimal::Decimal;
use std::str::FromStr;

struct Fixture {
    app: common::TestApp,
    schema: String,
    sale: i64,
    line: i64,
    product: i64,
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// A shop with an admin and a staff member, a product with 10 units, and a sale of 3 at 100
/// with a 30 discount (line total 270) paid in cash.
async fn fixture() -> Fixture {
    let app = common::spawn_app().await;
    let (t, schema) = app.db.create_shop("Devoluciones").await;
    let admin = app.db.add_member(t, "admin@example.com", "admin").await;
    app.db.add_member(t, "staff@example.com", "staff").await;
    let mut c = app.db.admin().await;
    let tx = c.transaction().await.expect("tx");
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&t.to_string(), &admin.to_string()],
    )
    .await
    .expect("ctx");
    let product: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price)
                 select 'R-1', 'Remera', id, 100 from {schema}.units where code = 'u' returning id"
            ),
            &[],
        )
        .await
        .expect("product")
        .get(0);
    tx.execute(
        &format!(
            "insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', 10)"
        ),
        &[&product],
    )
    .await
    .expect("opening");
    let sale: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                 select gen_random_uuid(), id, $1, 270, 270, 0 from {schema}.customers where is_final_consumer
                 returning id"
            ),
            &[&admin],
        )
        .await
        .expect("sale")
        .get(0);
    let line: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                 values ($1, 1, $2, 'Remera', 3, 100, 30, 270) returning id"
            ),
            &[&sale, &product],
        )
        .await
        .expect("line")
        .get(0);
    tx.execute(
        &format!("insert into {schema}.sale_payments (sale_id, method, amount) values ($1, 'cash', 270)"),
        &[&sale],
    )
    .await
    .expect("payment");
    tx.commit().await.expect("commit");
    Fixture { app, schema, sale, line, product }
}

async fn stock(f: &Fixture) -> Decimal {
    let c = f.app.db.admin().await;
    c.query_one(&format!("select stock from {}.products where id = $1", f.schema), &[&f.product])
        .await
        .expect("stock")
        .get(0)
}

async fn money_for_sale(f: &Fixture) -> Decimal {
    let c = f.app.db.admin().await;
    c.query_one(
        &format!("select coalesce(sum(amount), 0) from {}.money_ledger where sale_id = $1", f.schema),
        &[&f.sale],
    )
    .await
    .expect("money")
    .get(0)
}

async fn ledger_matches(f: &Fixture) {
    let c = f.app.db.admin().await;
    let bad: i64 = c
        .query_one(
            &format!(
                "select count(*) from {s}.products p
                  where p.stock <> (select coalesce(sum(quantity), 0) from {s}.stock_movements m where m.product_id = p.id)",
                s = f.schema
            ),
            &[],
        )
        .await
        .expect("invariant")
        .get(0);
    assert_eq!(bad, 0, "stock must equal the sum of its movements");
}

#[tokio::test]
async fn admin_returns_part_of_a_line_then_voids_the_rest() {
    let f = fixture().await;
    let app = &f.app;
    assert_eq!(app.login("admin@example.com", PASSWORD).await.status, 303);
    assert_eq!(stock(&f).await, d("7"));
    let path = format!("/sales/{}", f.sale);
    let field = format!("return_{}", f.line);
    let r = app
        .submit(
            &path,
            &format!("{path}/return"),
            &[(field.as_str(), "1"), ("method", "cash"), ("reason", "talle")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(stock(&f).await, d("8"));
    // one of three units of a 270 line: 90, at the original prices and discount
    assert_eq!(money_for_sale(&f).await, d("180"));
    // more than is left (2) is refused and changes nothing
    let r = app
        .submit(
            &path,
            &format!("{path}/return"),
            &[(field.as_str(), "3"), ("method", "cash"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Es más de lo que queda por devolver"), "{}", r.body);
    assert_eq!(stock(&f).await, d("8"));
    assert_eq!(money_for_sale(&f).await, d("180"));
    // voiding puts back only the 2 units not returned, and the money nets to zero
    let r = app.submit(&path, &format!("{path}/void"), &[("reason", "error de caja")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(stock(&f).await, d("10"));
    assert_eq!(money_for_sale(&f).await, Decimal::ZERO);
    ledger_matches(&f).await;
    // a voided sale takes no returns
    let r = app
        .submit(
            &path,
            &format!("{path}/return"),
            &[(field.as_str(), "1"), ("method", "cash"), ("reason", "x")],
        )
        .await;
    assert!(r.status == 422 || r.status == 403, "{}", r.status);
    assert_eq!(stock(&f).await, d("10"));
}

#[tokio::test]
async fn staff_cannot_record_a_return() {
    let f = fixture().await;
    let app = &f.app;
    assert_eq!(app.login("staff@example.com", PASSWORD).await.status, 303);
    let path = format!("/sales/{}", f.sale);
    let page = app.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("/return\""), "staff must not see the return form");
    let field = format!("return_{}", f.line);
    let r = app
        .post(
            &format!("{path}/return"),
            &[("csrf", page.csrf().as_str()), (field.as_str(), "1"), ("method", "cash"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(stock(&f).await, d("7"));
    assert_eq!(money_for_sale(&f).await, d("270"));
}

#[tokio::test]
async fn the_database_computes_the_refund_and_refuses_too_many() {
    let f = fixture().await;
    let admin_id: i64 = f
        .app
        .db
        .admin()
        .await
        .query_one("select id from app.users where email = 'admin@example.com'", &[])
        .await
        .expect("admin")
        .get(0);
    let tenant: i64 = f.schema.trim_start_matches("tenant_").parse().expect("tenant id");
    let mut c = f.app.db.app_login().await;
    // staff: no grant at all
    let tx = c.transaction().await.expect("tx");
    set_ctx(&tx, Some(tenant), Some(admin_id), &roles().staff).await;
    let e = tx
        .execute(
            &format!(
                "insert into {}.sale_returns (sale_id, method, reason) values ($1, 'cash', 'x')",
                f.schema
            ),
            &[&f.sale],
        )
        .await
        .expect_err("staff refused");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
    drop(tx);
    // admin: a forged amount is replaced by the line's share; more than sold is refused
    let tx = c.transaction().await.expect("tx");
    set_ctx(&tx, Some(tenant), Some(admin_id), &roles().admin).await;
    let ret: i64 = tx
        .query_one(
            &format!(
                "insert into {}.sale_returns (sale_id, method, reason) values ($1, 'cash', 'x') returning id",
                f.schema
            ),
            &[&f.sale],
        )
        .await
        .expect("return")
        .get(0);
    let e = tx
        .execute(
            &format!("insert into {}.sale_return_lines (return_id, sale_line_id, quantity, amount) values ($1, $2, 1, 999)", f.schema),
            &[&ret, &f.line],
        )
        .await
        .expect_err("amount is not a column the admin may write");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
    drop(tx);
    let tx = c.transaction().await.expect("tx");
    set_ctx(&tx, Some(tenant), Some(admin_id), &roles().admin).await;
    let ret: i64 = tx
        .query_one(
            &format!(
                "insert into {}.sale_returns (sale_id, method, reason) values ($1, 'cash', 'x') returning id",
                f.schema
            ),
            &[&f.sale],
        )
        .await
        .expect("return")
        .get(0);
    let amount: Decimal = tx
        .query_one(
            &format!("insert into {}.sale_return_lines (return_id, sale_line_id, quantity) values ($1, $2, 2) returning amount", f.schema),
            &[&ret, &f.line],
        )
        .await
        .expect("return line")
        .get(0);
    assert_eq!(amount, d("180"));
    let e = tx
        .execute(
            &format!(
                "insert into {}.sale_return_lines (return_id, sale_line_id, quantity) values ($1, $2, 2)",
                f.schema
            ),
            &[&ret, &f.line],
        )
        .await
        .expect_err("only 1 left");
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("sale_return_lines_too_many"));
    drop(tx);
    assert_eq!(stock(&f).await, d("7"), "rolled back: nothing moved");
    ledger_matches(&f).await;
}
