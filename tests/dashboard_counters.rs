//! The per-shop counter of active products that the dashboard reads (sql/app/V21,
//! sql/tenant/V13): kept equal to `count(*) where active` by triggers through every way products
//! are written (one row, many rows in one statement, deactivation, reactivation), readable by every
//! member, writable by none, and never touched by another shop's writes. Exercised as the web app's
//! login role in real request contexts.
mod common;

use common::{roles, set_ctx, TestDb};
use tokio_postgres::Client;

async fn counted(c: &mut Client, tenant: i64, user: i64, role: &str) -> (i64, i64) {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(tenant), Some(user), role).await;
    let row = tx
        .query_one(
            "select (select active_products from shop_counters),
                    (select count(*) from products where active)",
            &[],
        )
        .await
        .expect("read counter");
    tx.commit().await.expect("commit");
    (row.get(0), row.get(1))
}

async fn write(c: &mut Client, tenant: i64, user: i64, sql: &str) {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(tenant), Some(user), &roles().owner).await;
    tx.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn the_counter_follows_every_product_write_and_stays_in_its_shop() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("A").await;
    let (b, _) = db.create_shop("B").await;
    let ua = db.add_member(a, "owner-a@example.com", "owner").await;
    let sa = db.add_member(a, "staff-a@example.com", "staff").await;
    let ub = db.add_member(b, "owner-b@example.com", "owner").await;
    let mut c = db.app_login().await;
    let owner = roles().owner;

    assert_eq!(counted(&mut c, a, ua, &owner).await, (0, 0));
    write(
        &mut c,
        a,
        ua,
        "insert into products (sku, name, unit_id, price)
         values ('ONE', 'one', (select id from units where code = 'u'), 1)",
    )
    .await;
    assert_eq!(counted(&mut c, a, ua, &owner).await, (1, 1));

    // many rows in one statement (an import), some inactive from the start
    write(
        &mut c,
        a,
        ua,
        "insert into products (sku, name, unit_id, price, active)
         select 'P-' || i, 'product ' || i, (select id from units where code = 'u'), i, i % 4 <> 0
           from generate_series(1, 200) i",
    )
    .await;
    assert_eq!(counted(&mut c, a, ua, &owner).await, (151, 151));

    // deactivation, reactivation, and an update that leaves `active` alone
    write(&mut c, a, ua, "update products set active = false where sku in ('P-1', 'P-2', 'P-3')").await;
    write(&mut c, a, ua, "update products set active = true where sku in ('P-4', 'P-8')").await;
    write(&mut c, a, ua, "update products set active = active, price = price + 1").await;
    assert_eq!(counted(&mut c, a, ua, &owner).await, (150, 150));

    // a staff member reads the same figure; the other shop's counter never moved
    assert_eq!(counted(&mut c, a, sa, &roles().staff).await, (150, 150));
    assert_eq!(counted(&mut c, b, ub, &owner).await, (0, 0));

    // nobody writes the counter by hand, and another shop's context does not see it
    for role in [&roles().owner, &roles().admin, &roles().staff] {
        let tx = c.transaction().await.expect("begin");
        set_ctx(&tx, Some(a), Some(ua), role).await;
        let e = tx.execute("update shop_counters set active_products = 0", &[]).await;
        assert_eq!(
            e.err().and_then(|e| e.code().cloned()),
            Some(tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{role} must not write the counter"
        );
    }
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(b), Some(ub), &owner).await;
    let n: i64 = tx
        .query_one(&format!("select count(*) from tenant_{a}.shop_counters"), &[])
        .await
        .map(|r| r.get(0))
        .unwrap_or(0);
    assert_eq!(n, 0, "shop B's context must not read shop A's counters");
}

/// The dashboard's low-stock list reads the generated `products.low_stock_gap` (tenant V14:
/// `stock - min_stock` at or below the minimum, null above it, so stock updates of products above
/// their minimum leave the index alone). It follows stock movements (sales included) and changes of
/// the minimum, and the list is the same as computed from stock and minimum directly.
#[tokio::test]
async fn the_low_stock_list_follows_stock_movements_and_minimums() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("A").await;
    let ua = db.add_member(a, "owner-a@example.com", "owner").await;
    let mut c = db.app_login().await;
    write(
        &mut c,
        a,
        ua,
        "insert into products (sku, name, unit_id, price, min_stock)
         select 'P-' || i, 'product ' || i, (select id from units where code = 'u'), 1, i % 7
           from generate_series(1, 40) i;
         insert into stock_movements (product_id, kind, quantity)
         select id, 'opening', id % 9 from products where id % 9 <> 0;",
    )
    .await;
    let check = |what: &'static str| {
        let sql = "select
              (select count(*) from products
                where low_stock_gap is distinct from case when stock <= min_stock then stock - min_stock end),
              (select array_agg(id order by low_stock_gap, id) from (select id, low_stock_gap from products
                where active and track_stock and low_stock_gap is not null order by low_stock_gap, id limit 10) x),
              (select array_agg(id order by stock - min_stock, id) from (select id, stock, min_stock from products
                where active and track_stock and stock <= min_stock order by stock - min_stock, id limit 10) y)";
        (what, sql)
    };
    let verify = async |c: &mut Client, (what, sql): (&str, &str)| {
        let tx = c.transaction().await.expect("begin");
        set_ctx(&tx, Some(a), Some(ua), &roles().owner).await;
        let row = tx.query_one(sql, &[]).await.expect("low stock");
        tx.commit().await.expect("commit");
        assert_eq!(row.get::<_, i64>(0), 0, "{what}: gap differs from stock - minimum");
        let (by_gap, direct): (Option<Vec<i64>>, Option<Vec<i64>>) = (row.get(1), row.get(2));
        assert!(by_gap.as_ref().is_some_and(|v| v.len() == 10), "{what}: {by_gap:?}");
        assert_eq!(by_gap, direct, "{what}");
    };
    verify(&mut c, check("after the opening stock")).await;
    write(
        &mut c,
        a,
        ua,
        "insert into stock_movements (product_id, kind, quantity)
         select id, 'adjustment', case when id % 2 = 0 then 5 else -1 end from products where stock >= 1;
         update products set min_stock = min_stock + 3 where id % 5 = 0;
         update products set active = false where id = 3;",
    )
    .await;
    verify(&mut c, check("after adjustments and new minimums")).await;
}
