//! Report views enforced by PostgreSQL, exercised as the web app's login role in a shop's request
//! context: staff are refused every report view (they may read the sales tables, not the report
//! aggregates, costs or margins), owner and admin of shop A see nothing of shop B's views, no
//! context sees nothing; a sale line keeps the product's cost at the time of sale; voided sales
//! drop out, returns count negative on their own day; the valuation keeps only active, tracked
//! products and flags negative stock.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use tokio_postgres::{Client, Error, Row};

const VIEWS: [&str; 3] = ["report_sales", "report_line_events", "report_stock_valuation"];

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

struct Shop {
    id: i64,
    schema: String,
    users: [i64; 3],
    product: i64,
}

fn role(i: usize) -> String {
    let r = roles();
    [r.owner, r.admin, r.staff][i].clone()
}

const OWNER: usize = 0;
const ADMIN: usize = 1;
const STAFF: usize = 2;

/// Runs `sql` as user `who` (0 owner, 1 admin, 2 staff) of `shop` in its context; commits when it
/// succeeded and `commit` is set.
async fn run(c: &mut Client, shop: &Shop, who: usize, sql: &str, commit: bool) -> Result<Vec<Row>, Error> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(shop.id), Some(shop.users[who]), &role(who)).await;
    let r = tx.query(sql, &[]).await;
    if r.is_ok() && commit {
        tx.commit().await.expect("commit");
    } else {
        tx.rollback().await.expect("rollback");
    }
    r
}

async fn shop(db: &TestDb, name: &str, tag: &str) -> Shop {
    let (id, schema) = db.create_shop(name).await;
    let users = [
        db.add_member(id, &format!("owner-{tag}@example.com"), "owner").await,
        db.add_member(id, &format!("admin-{tag}@example.com"), "admin").await,
        db.add_member(id, &format!("staff-{tag}@example.com"), "staff").await,
    ];
    let mut s = Shop { id, schema, users, product: 0 };
    let mut c = db.app_login().await;
    let rows = run(
        &mut c,
        &s,
        OWNER,
        "with p as (insert into products (sku, name, unit_id, price, cost)
                    values ('A-1', 'Agua', (select id from units where code = 'u'), 10, 4) returning id),
              m as (insert into stock_movements (product_id, kind, quantity) select id, 'opening', 20 from p)
         select id from p",
        true,
    )
    .await
    .expect("product");
    s.product = rows[0].get(0);
    s
}

/// A cash sale of `qty` units at 10 by `who`; returns (sale id, line id).
async fn sell(c: &mut Client, s: &Shop, who: usize, qty: i32) -> (i64, i64) {
    let total = qty * 10;
    let sql = format!(
        "with s as (insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
                    values (gen_random_uuid(), (select id from customers where is_final_consumer),
                            app.current_user_id(), {total}, {total}, 0) returning id),
              l as (insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                    select id, 1, {p}, 'Agua', {qty}, 10, 0, {total} from s returning id),
              p as (insert into sale_payments (sale_id, method, amount) select id, 'cash', {total} from s)
         select s.id, l.id from s, l",
        p = s.product
    );
    let r = run(c, s, who, &sql, true).await.expect("sale");
    (r[0].get(0), r[0].get(1))
}

#[tokio::test]
async fn staff_are_refused_every_report_view_and_owner_admin_read_them() {
    let db = TestDb::new().await;
    let a = shop(&db, "Informes A", "a").await;
    let mut c = db.app_login().await;
    sell(&mut c, &a, STAFF, 2).await;
    for v in VIEWS {
        let e = run(&mut c, &a, STAFF, &format!("select * from {v}"), false).await.expect_err(v);
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "staff on {v}: {e:?}");
        for who in [OWNER, ADMIN] {
            let rows = run(&mut c, &a, who, &format!("select * from {v}"), false).await.expect(v);
            assert_eq!(rows.len(), 1, "{v} as {}", role(who));
        }
    }
    // staff still read the sales tables they record, and the catalog
    let rows = run(&mut c, &a, STAFF, "select count(*) from sale_lines", false).await.expect("sale_lines");
    assert_eq!(rows[0].get::<_, i64>(0), 1);
    // the signed-out role reaches no shop schema at all
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a.id), None, &roles().anon).await;
    let e = tx.query(&format!("select * from {}.report_sales", a.schema), &[]).await.expect_err("anon");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
}

#[tokio::test]
async fn owner_and_admin_of_one_shop_see_nothing_of_another_and_no_context_sees_nothing() {
    let db = TestDb::new().await;
    let a = shop(&db, "Informes A", "a").await;
    let b = shop(&db, "Informes B", "b").await;
    let mut c = db.app_login().await;
    sell(&mut c, &a, OWNER, 1).await;
    sell(&mut c, &b, OWNER, 3).await;
    for v in VIEWS {
        for who in [OWNER, ADMIN] {
            let own = run(&mut c, &a, who, &format!("select count(*) from {}.{v}", a.schema), false).await;
            assert_eq!(own.expect(v)[0].get::<_, i64>(0), 1, "{v} own shop");
            let other = run(&mut c, &a, who, &format!("select count(*) from {}.{v}", b.schema), false).await;
            assert_eq!(other.expect(v)[0].get::<_, i64>(0), 0, "{v}: shop A's {} reads shop B", role(who));
        }
        // a role without a tenant in context
        let tx = c.transaction().await.expect("begin");
        set_ctx(&tx, None, Some(a.users[OWNER]), &role(OWNER)).await;
        let n: i64 = tx
            .query_one(&format!("select count(*) from {}.{v}", a.schema), &[])
            .await
            .expect("no context")
            .get(0);
        assert_eq!(n, 0, "{v} without a tenant in context");
    }
}

#[tokio::test]
async fn a_line_keeps_the_cost_at_the_time_of_sale_and_nobody_sets_it() {
    let db = TestDb::new().await;
    let a = shop(&db, "Costos", "c").await;
    let mut c = db.app_login().await;
    let (_, first) = sell(&mut c, &a, STAFF, 2).await;
    run(&mut c, &a, OWNER, &format!("update products set cost = 6 where id = {}", a.product), true)
        .await
        .expect("new cost");
    let (_, second) = sell(&mut c, &a, STAFF, 1).await;
    let rows = run(
        &mut c,
        &a,
        OWNER,
        &format!(
            "select sale_line_id, unit_cost, cost, amount from report_line_events
              where sale_line_id in ({first}, {second}) order by sale_line_id"
        ),
        false,
    )
    .await
    .expect("events");
    let got: Vec<(i64, Decimal, Decimal, Decimal)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    assert_eq!(got, vec![(first, dec("4"), dec("8"), dec("20")), (second, dec("6"), dec("6"), dec("10"))]);
    // the column is not the client's to write: no grant, for any role
    for who in [OWNER, STAFF] {
        let sql = format!(
            "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total, unit_cost)
             select sale_id, 9, product_id, 'x', 1, 10, 0, 10, 0 from sale_lines where id = {first}"
        );
        let e = run(&mut c, &a, who, &sql, false).await.expect_err("unit_cost insert");
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{e:?}");
    }
}

#[tokio::test]
async fn voided_sales_drop_out_and_returns_count_negative() {
    let db = TestDb::new().await;
    let a = shop(&db, "Anulaciones", "v").await;
    let mut c = db.app_login().await;
    let (kept, kept_line) = sell(&mut c, &a, STAFF, 3).await;
    let (voided, voided_line) = sell(&mut c, &a, STAFF, 2).await;
    // a partial return of each, then the second sale is voided
    for (sale, line) in [(kept, kept_line), (voided, voided_line)] {
        run(
            &mut c,
            &a,
            ADMIN,
            &format!(
                "with r as (insert into sale_returns (sale_id, method, reason) values ({sale}, 'cash', 'roto') returning id)
                 insert into sale_return_lines (return_id, sale_line_id, quantity) select id, {line}, 1 from r"
            ),
            true,
        )
        .await
        .expect("return");
    }
    run(
        &mut c,
        &a,
        OWNER,
        &format!("update sales set status = 'voided', void_reason = 'x' where id = {voided}"),
        true,
    )
    .await
    .expect("void");
    let rows = run(
        &mut c,
        &a,
        OWNER,
        "select kind, sale_id, quantity, amount, cost from report_line_events order by kind desc, sale_id",
        false,
    )
    .await
    .expect("events");
    let got: Vec<(String, i64, Decimal, Decimal, Decimal)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    assert_eq!(
        got,
        vec![
            ("sale".into(), kept, dec("3"), dec("30"), dec("12")),
            ("return".into(), kept, dec("-1"), dec("-10"), dec("-4")),
        ]
    );
    let rows = run(&mut c, &a, ADMIN, "select sale_id, status from report_sales order by sale_id", false)
        .await
        .expect("sales");
    let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(kept, "completed".into()), (voided, "voided".into())]);
}

#[tokio::test]
async fn valuation_keeps_active_tracked_products_and_flags_negative_stock() {
    let db = TestDb::new().await;
    let a = shop(&db, "Valuación", "s").await;
    let mut c = db.app_login().await;
    for sql in [
        "update settings set allow_negative_stock = true",
        "insert into products (sku, name, unit_id, price, cost, track_stock)
              values ('SRV', 'Service', (select id from units where code = 'u'), 5, 1, false)",
        "insert into products (sku, name, unit_id, price, cost, active)
              values ('OLD', 'Old', (select id from units where code = 'u'), 5, 1, false)",
        "with p as (insert into products (sku, name, unit_id, price, cost)
                    values ('NEG', 'Negative', (select id from units where code = 'u'), 5, 2.5) returning id)
         insert into stock_movements (product_id, kind, quantity) select id, 'adjustment', -3 from p",
    ] {
        run(&mut c, &a, OWNER, sql, true).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
    let rows = run(
        &mut c,
        &a,
        ADMIN,
        "select sku, stock, value, negative, counted_value from report_stock_valuation order by sku",
        false,
    )
    .await
    .expect("valuation");
    let got: Vec<(String, Decimal, Decimal, bool, Decimal)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    assert_eq!(
        got,
        vec![
            ("A-1".into(), dec("20"), dec("80"), false, dec("80")),
            ("NEG".into(), dec("-3"), dec("-7.5"), true, dec("0")),
        ]
    );
}
