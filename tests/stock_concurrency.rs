//! Concurrent stock movements of one product never lose an update and never take stock below
//! zero: each movement runs in its own transaction on its own connection (as the web app's login
//! role, in an admin's request context), and the movement trigger's row lock queues them. Also
//! through HTTP: simultaneous adjustment posts from one admin session all land.
mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use common::{roles, set_ctx, TestDb, PASSWORD};
use rust_decimal::Decimal;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio_postgres::{Client, Error};

// ---------------------------------------------------------------------------------------------
// helpers

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {} (constraint {:?})", d.code().code(), d.message(), d.constraint()),
        None => format!("{e:?}"),
    }
}

#[derive(Clone)]
struct Shop {
    id: i64,
    schema: String,
    admin: i64,
}

async fn shop(db: &TestDb) -> Shop {
    let (id, schema) = db.create_shop("Kiosco").await;
    let admin = db.add_member(id, "admin@example.com", "admin").await;
    Shop { id, schema, admin }
}

/// Begins a transaction on `c` in the shop admin's request context.
async fn admin_tx<'a>(c: &'a mut Client, shop: &Shop) -> tokio_postgres::Transaction<'a> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(shop.id), Some(shop.admin), &roles().admin).await;
    tx
}

/// Posts one adjustment in a transaction of its own; returns the stock after it.
async fn adjust(c: &mut Client, shop: &Shop, product: i64, qty: Decimal) -> Result<Decimal, Error> {
    let tx = admin_tx(c, shop).await;
    let r = tx
        .query_one(
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, 'concurrent')
             returning stock_after",
            &[&product, &qty],
        )
        .await;
    match r {
        Ok(row) => {
            tx.commit().await?;
            Ok(row.get(0))
        }
        Err(e) => {
            tx.rollback().await.expect("rollback");
            Err(e)
        }
    }
}

/// A product with `opening` units, created as the admin.
async fn product(db: &TestDb, shop: &Shop, sku: &str, opening: i64) -> i64 {
    let mut c = db.app_login().await;
    let tx = admin_tx(&mut c, shop).await;
    let id: i64 = tx
        .query_one(
            "insert into products (sku, name, unit_id, price) values ($1, $1, (select id from units where code = 'u'), 10)
             returning id",
            &[&sku],
        )
        .await
        .expect("product")
        .get(0);
    if opening > 0 {
        tx.execute(
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'opening', $2)",
            &[&id, &Decimal::from(opening)],
        )
        .await
        .expect("opening stock");
    }
    tx.commit().await.expect("commit");
    id
}

async fn stock_of(admin: &Client, schema: &str, id: i64) -> Decimal {
    admin
        .query_one(&format!("select stock from {schema}.products where id = $1"), &[&id])
        .await
        .expect("stock")
        .get(0)
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

/// The movements of a product, taken in the order the row lock let them through (by the stock
/// before each one), form one unbroken chain from `initial` to the final stock: no movement
/// saw a stock that another had already changed.
async fn assert_movements_chain(admin: &Client, schema: &str, product: i64, initial: Decimal) {
    let rows = admin
        .query(
            &format!(
                "select id, stock_after - quantity, stock_after from {schema}.stock_movements
                  where product_id = $1 and kind = 'adjustment' order by stock_after, id"
            ),
            &[&product],
        )
        .await
        .expect("movements");
    let mut expected_before = initial;
    for r in &rows {
        let (id, before, after): (i64, Decimal, Decimal) = (r.get(0), r.get(1), r.get(2));
        assert_eq!(before, expected_before, "movement {id} started from a stale stock (chain {rows:?})");
        expected_before = after;
    }
    assert_eq!(expected_before, stock_of(admin, schema, product).await, "the chain ends at the stock");
}

/// Waits until at least `n` sessions of this database wait for a lock.
async fn wait_for_lock_waiters(admin: &Client, n: i64) {
    for _ in 0..200 {
        let waiting: i64 = admin
            .query_one(
                "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
                &[],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        if waiting >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no session ended up waiting for the product's row lock");
}

// ---------------------------------------------------------------------------------------------
// SQL level

#[tokio::test]
async fn two_overlapping_adjustments_both_count() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let shop = shop(&db).await;
    let pid = product(&db, &shop, "A-1", 10).await;

    // the first holds the product's row lock (uncommitted) while the second tries
    let mut c1 = db.app_login().await;
    let tx1 = admin_tx(&mut c1, &shop).await;
    let after1: Decimal = tx1
        .query_one(
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', 3, 'first')
             returning stock_after",
            &[&pid],
        )
        .await
        .expect("first adjustment")
        .get(0);
    assert_eq!(after1, dec("13"));

    let mut c2 = db.app_login().await;
    let second = {
        let shop = shop.clone();
        tokio::spawn(async move { adjust(&mut c2, &shop, pid, dec("4")).await })
    };
    wait_for_lock_waiters(&admin, 1).await;
    assert!(!second.is_finished(), "the second adjustment must wait for the first");
    tx1.commit().await.expect("commit first");
    let after2 =
        second.await.expect("task").unwrap_or_else(|e| panic!("second adjustment: {}", describe(&e)));
    assert_eq!(after2, dec("17"), "the second saw the first's committed stock");
    assert_eq!(stock_of(&admin, &shop.schema, pid).await, dec("17"));

    // and the other way round: the first rolls back, the second counts alone
    let tx1 = admin_tx(&mut c1, &shop).await;
    tx1.execute(
        "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', 100, 'undone')",
        &[&pid],
    )
    .await
    .expect("adjustment to roll back");
    let mut c3 = db.app_login().await;
    let second = {
        let shop = shop.clone();
        tokio::spawn(async move { adjust(&mut c3, &shop, pid, dec("-7")).await })
    };
    wait_for_lock_waiters(&admin, 1).await;
    tx1.rollback().await.expect("rollback first");
    let after = second.await.expect("task").unwrap_or_else(|e| panic!("second adjustment: {}", describe(&e)));
    assert_eq!(after, dec("10"));
    assert_eq!(stock_of(&admin, &shop.schema, pid).await, dec("10"));
    assert_stock_matches_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn twenty_concurrent_adjustments_never_lose_one() {
    const N: i64 = 20;
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let shop = shop(&db).await;
    let pid = product(&db, &shop, "A-1", 5).await;
    let other = product(&db, &shop, "B-1", 1).await;

    let barrier = Arc::new(Barrier::new(N as usize));
    let mut tasks = JoinSet::new();
    for i in 1..=N {
        let mut c = db.app_login().await;
        let (shop, barrier) = (shop.clone(), barrier.clone());
        tasks.spawn(async move {
            let tx = admin_tx(&mut c, &shop).await;
            barrier.wait().await;
            let r = tx
                .query_one(
                    "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, $3)
                     returning stock_after",
                    &[&pid, &Decimal::from(i), &format!("task {i}")],
                )
                .await;
            // hold the lock a little so that the others pile up behind it
            tokio::time::sleep(Duration::from_millis(5)).await;
            match r {
                Ok(row) => {
                    tx.commit().await.expect("commit");
                    Ok(row.get::<_, Decimal>(0))
                }
                Err(e) => Err(describe(&e)),
            }
        });
    }
    let mut afters = Vec::new();
    while let Some(r) = tasks.join_next().await {
        afters.push(r.expect("task").unwrap_or_else(|e| panic!("adjustment refused: {e}")));
    }
    let total = N * (N + 1) / 2;
    assert_eq!(stock_of(&admin, &shop.schema, pid).await, Decimal::from(5 + total), "initial + sum of all");
    afters.sort();
    afters.dedup();
    assert_eq!(afters.len(), N as usize, "no two adjustments saw the same stock");
    assert_eq!(
        admin
            .query_one(
                &format!(
                    "select count(*) from {}.stock_movements where product_id = $1 and kind = 'adjustment'",
                    shop.schema
                ),
                &[&pid]
            )
            .await
            .expect("count")
            .get::<_, i64>(0),
        N
    );
    assert_movements_chain(&admin, &shop.schema, pid, dec("5")).await;
    assert_eq!(stock_of(&admin, &shop.schema, other).await, dec("1"), "another product is untouched");
    assert_stock_matches_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn concurrent_decrements_stop_exactly_at_zero() {
    const N: usize = 20;
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let shop = shop(&db).await;
    let pid = product(&db, &shop, "A-1", 5).await;

    for round in 0..3 {
        if round > 0 {
            let mut c = db.app_login().await;
            adjust(&mut c, &shop, pid, dec("5")).await.expect("refill to 5");
        }
        assert_eq!(stock_of(&admin, &shop.schema, pid).await, dec("5"));
        let barrier = Arc::new(Barrier::new(N));
        let mut tasks = JoinSet::new();
        for _ in 0..N {
            let mut c = db.app_login().await;
            let (shop, barrier) = (shop.clone(), barrier.clone());
            tasks.spawn(async move {
                let tx = admin_tx(&mut c, &shop).await;
                barrier.wait().await;
                let r = tx
                    .execute(
                        "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', -1, 'venta en negro')",
                        &[&pid],
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(2)).await;
                match r {
                    Ok(n) => {
                        tx.commit().await.expect("commit");
                        Ok(n)
                    }
                    Err(e) => Err((e.code().map(|c| c.code().to_string()), e.as_db_error().and_then(|d| d.constraint().map(str::to_string)), describe(&e))),
                }
            });
        }
        let (mut ok, mut refused) = (0, 0);
        while let Some(r) = tasks.join_next().await {
            match r.expect("task") {
                Ok(1) => ok += 1,
                Ok(n) => panic!("an adjustment inserted {n} rows"),
                Err((code, constraint, text)) => {
                    assert_eq!(
                        (code.as_deref(), constraint.as_deref()),
                        (Some("23514"), Some("stock_not_negative")),
                        "round {round}: unexpected refusal {text}"
                    );
                    refused += 1;
                }
            }
        }
        assert_eq!((ok, refused), (5, N - 5), "round {round}: exactly the 5 units available are taken");
        assert_eq!(stock_of(&admin, &shop.schema, pid).await, Decimal::ZERO, "round {round}");
        assert_stock_matches_ledger(&admin, &shop.schema).await;
    }
    let negatives: i64 = admin
        .query_one(
            &format!(
                "select count(*) from {}.stock_movements where product_id = $1 and quantity = -1",
                shop.schema
            ),
            &[&pid],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(negatives, 15, "5 per round");
    let below_zero: i64 = admin
        .query_one(
            &format!("select count(*) from {}.stock_movements where stock_after < 0", shop.schema),
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(below_zero, 0, "no movement ever left the stock below zero");
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[tokio::test]
async fn concurrent_adjustment_posts_from_one_session_all_land() {
    const N: usize = 10;
    let db = TestDb::new().await;
    let shop = shop(&db).await;
    let pid = product(&db, &shop, "A-1", 3).await;
    let app = common::spawn_app_on(db).await;
    let admin = app.db.admin().await;
    let r = app.login("admin@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let token = app.get(&format!("/products/{pid}")).await.csrf();

    let app = Arc::new(app);
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (app, token) = (app.clone(), token.clone());
        tasks.spawn(async move {
            let reason = format!("post {i}");
            app.post(
                &format!("/products/{pid}/adjust"),
                &[("csrf", token.as_str()), ("quantity", "1"), ("reason", reason.as_str())],
            )
            .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        let page = r.expect("task");
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some(&*format!("/products/{pid}")));
    }
    assert_eq!(stock_of(&admin, &shop.schema, pid).await, Decimal::from(3 + N as i64), "stock + 10");
    let reasons: i64 = admin
        .query_one(
            &format!(
                "select count(distinct reason) from {}.stock_movements
                  where product_id = $1 and kind = 'adjustment' and user_id = $2",
                shop.schema
            ),
            &[&pid, &shop.admin],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(reasons, N as i64, "one movement per post, each by the admin");
    assert_movements_chain(&admin, &shop.schema, pid, dec("3")).await;
    assert_stock_matches_ledger(&admin, &shop.schema).await;
}
