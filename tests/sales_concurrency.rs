//! Many checkouts racing for the same few units. Through HTTP: twenty people, each signed in in
//! their own browser with one unit in their cart, press "Cobrar" at the same moment for a product
//! with five units: exactly five sales are recorded, the other fifteen are told how many are left,
//! and stock ends at zero. Through the domain function: thirty concurrent `record_sale` calls on
//! separate pooled connections, each taking two units of a scarce product and of a second one,
//! half of them listing the products in the opposite order: exactly ten succeed and none
//! deadlocks. Every scenario ends checking that each sale is whole and stock = sum of movements.
mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use common::{roles, session_hash, set_ctx, TestApp, TestDb, PASSWORD};
use rust_decimal::Decimal;
use stock::db::tx::{conn, Access};
use stock::domain::sales::{self, LineInput, Method, SaleInput, SaleRefusal};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// helpers

/// Every scenario must end well within this.
const LIMIT: Duration = Duration::from_secs(90);

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// A product seeded as superuser in the shop's context, stock through an opening movement.
async fn product(
    su: &mut Client,
    tenant: i64,
    user: i64,
    schema: &str,
    sku: &str,
    price: &str,
    opening: i64,
) -> i64 {
    let tx = su.transaction().await.unwrap();
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&tenant.to_string(), &user.to_string()],
    )
    .await
    .unwrap();
    let id: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.products (sku, barcode, name, unit_id, price)
                 values ($1, $1, $1, (select id from {schema}.units where code = 'u'), $2) returning id"
            ),
            &[&sku, &dec(price)],
        )
        .await
        .unwrap_or_else(|e| panic!("product {sku}: {e}"))
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

async fn count(su: &Client, schema: &str, sql: &str) -> i64 {
    let sql = sql.replace("{s}", schema);
    su.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

async fn stock_of(su: &Client, schema: &str, id: i64) -> Decimal {
    su.query_one(&format!("select stock from {schema}.products where id = $1"), &[&id]).await.unwrap().get(0)
}

/// Stock = sum of movements for every tracked product; every sale is whole (lines = payments =
/// total); every sale's money entries add up to what it was paid outside the customer account.
async fn assert_invariants(su: &Client, schema: &str) {
    let bad_stock = count(
        su,
        schema,
        "select count(*) from (select p.id from {s}.products p
           left join {s}.stock_movements m on m.product_id = p.id where p.track_stock
          group by p.id having p.stock <> coalesce(sum(m.quantity), 0)) x",
    )
    .await;
    assert_eq!(bad_stock, 0, "a product's stock differs from the sum of its movements");
    let bad_sales = count(
        su,
        schema,
        "select count(*) from {s}.sales s
          where s.total <> (select coalesce(sum(total), 0) from {s}.sale_lines where sale_id = s.id)
             or s.total <> (select coalesce(sum(amount), 0) from {s}.sale_payments where sale_id = s.id)",
    )
    .await;
    assert_eq!(bad_sales, 0, "a recorded sale is not whole");
    let bad_money = count(
        su,
        schema,
        "select count(*) from {s}.sales s
          where (select coalesce(sum(amount), 0) from {s}.sale_payments where sale_id = s.id and method <> 'account')
             <> (select coalesce(sum(amount), 0) from {s}.money_ledger where sale_id = s.id)",
    )
    .await;
    assert_eq!(bad_money, 0, "a sale's money entries differ from its payments");
    let negative = count(su, schema, "select count(*) from {s}.products where stock < 0").await;
    assert_eq!(negative, 0, "stock went below zero");
}

fn field_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in page:\n{body}"));
    let rest = &body[i + marker.len()..];
    rest[..rest.find('"').expect("end quote")].to_string()
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct Seller {
    email: String,
    user_id: i64,
    http: reqwest::Client,
    csrf: String,
    key: String,
}

#[derive(Debug)]
enum Outcome {
    Sold(i64),
    NotEnoughStock,
    Other(u16, Option<String>, String),
}

/// Twenty people sign in, each with one unit of a five-unit product in their cart.
async fn twenty_sellers(app: &Arc<TestApp>, tenant: i64, code: &str) -> Vec<Seller> {
    let mut ids = Vec::new();
    for i in 0..20 {
        let email = format!("seller{i}@example.com");
        let role = if i % 2 == 0 { "staff" } else { "admin" };
        ids.push((email.clone(), app.db.add_member(tenant, &email, role).await));
    }
    let mut set = JoinSet::new();
    for (email, user_id) in ids {
        let (app, code) = (app.clone(), code.to_string());
        set.spawn(async move {
            let http = common::client();
            let r = app.login_with(&http, &email, PASSWORD).await;
            assert_eq!(r.status, 303, "login {email}: {}", r.body);
            let csrf = app.get_with(&http, "/pos").await.csrf();
            let r = app.post_with(&http, "/pos/scan", &[("csrf", &csrf), ("code", &code)]).await;
            assert_eq!((r.status, r.location.as_deref()), (303, Some("/pos")), "scan as {email}: {}", r.body);
            let key = field_value(&app.get_with(&http, "/pos").await.body, "key");
            Seller { email, user_id, http, csrf, key }
        });
    }
    let mut sellers = Vec::new();
    while let Some(s) = set.join_next().await {
        sellers.push(s.expect("seller set-up"));
    }
    sellers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_browsers_race_for_five_units() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Carrera").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let mut su = db.admin().await;
    let pid = product(&mut su, tenant, owner, &schema, "7790099", "1500", 5).await;
    let app = Arc::new(common::spawn_app_on(db).await);

    tokio::time::timeout(LIMIT, async {
        let sellers = twenty_sellers(&app, tenant, "7790099").await;
        let carts = count(&su, &schema, "select count(*) from {s}.sale_draft_lines where quantity = 1").await;
        assert_eq!(carts, 20, "every seller has one unit in their cart");

        let barrier = Arc::new(Barrier::new(sellers.len()));
        let mut set = JoinSet::new();
        for s in sellers {
            let (app, barrier) = (app.clone(), barrier.clone());
            set.spawn(async move {
                barrier.wait().await;
                let r = app
                    .post_with(&s.http, "/pos/checkout", &[("csrf", &s.csrf), ("key", &s.key), ("cash", "")])
                    .await;
                let outcome = match (r.status, r.location.as_deref()) {
                    (303, Some(loc)) if loc.starts_with("/sales/") => {
                        Outcome::Sold(loc["/sales/".len()..].parse().expect("sale id"))
                    }
                    (422, _) if r.body.contains("No hay stock suficiente de 7790099: quedan 0") => {
                        Outcome::NotEnoughStock
                    }
                    _ => Outcome::Other(r.status, r.location.clone(), r.body.clone()),
                };
                (s, outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            results.push(r.expect("checkout task"));
        }

        let others: Vec<_> = results
            .iter()
            .filter_map(|(s, o)| match o {
                Outcome::Other(status, loc, body) => {
                    Some(format!("{}: {status} {loc:?} {}", s.email, &body[..body.len().min(400)]))
                }
                _ => None,
            })
            .collect();
        assert!(others.is_empty(), "responses that are neither a sale nor a stock refusal: {others:#?}");
        let sold: Vec<(&Seller, i64)> = results
            .iter()
            .filter_map(|(s, o)| match o {
                Outcome::Sold(id) => Some((s, *id)),
                _ => None,
            })
            .collect();
        let refused: Vec<&Seller> =
            results.iter().filter(|(_, o)| matches!(o, Outcome::NotEnoughStock)).map(|(s, _)| s).collect();
        assert_eq!(sold.len(), 5, "exactly five checkouts sell");
        assert_eq!(refused.len(), 15, "the other fifteen are told there is no stock left");

        // exactly five sales, one per winner, each one unit, each whole
        assert_eq!(count(&su, &schema, "select count(*) from {s}.sales").await, 5);
        assert_eq!(count(&su, &schema, "select count(distinct user_id) from {s}.sales").await, 5);
        for (s, id) in &sold {
            let row = su
                .query_one(
                    &format!(
                        "select user_id, idempotency_key::text, total,
                                (select sum(quantity) from {schema}.sale_lines where sale_id = s.id)
                           from {schema}.sales s where id = $1"
                    ),
                    &[id],
                )
                .await
                .unwrap_or_else(|e| panic!("sale {id} of {}: {e}", s.email));
            assert_eq!(row.get::<_, i64>(0), s.user_id, "sale {id} is recorded in its seller's name");
            assert_eq!(row.get::<_, String>(1), s.key, "sale {id} carries its cart's key");
            assert_eq!(row.get::<_, Decimal>(2), dec("1500"));
            assert_eq!(row.get::<_, Decimal>(3), dec("1"));
        }
        assert_eq!(stock_of(&su, &schema, pid).await, dec("0"));
        assert_eq!(
            count(&su, &schema, "select count(*) from {s}.stock_movements where kind = 'sale' and quantity = -1")
                .await,
            5
        );
        assert_eq!(count(&su, &schema, "select count(*) from {s}.money_ledger").await, 5);
        let income: Decimal =
            su.query_one(&format!("select sum(amount) from {schema}.money_ledger"), &[]).await.unwrap().get(0);
        assert_eq!(income, dec("7500"));
        // the winners' carts are empty; the others still hold their unit under the same key
        for (s, _) in &sold {
            let n = count(
                &su,
                &schema,
                &format!(
                    "select count(*) from {{s}}.sale_draft_lines l join {{s}}.sale_drafts d on d.id = l.draft_id
                      where d.user_id = {}",
                    s.user_id
                ),
            )
            .await;
            assert_eq!(n, 0, "{}'s cart was not emptied", s.email);
        }
        for s in &refused {
            let n = count(
                &su,
                &schema,
                &format!(
                    "select count(*) from {{s}}.sale_draft_lines l join {{s}}.sale_drafts d on d.id = l.draft_id
                      where d.user_id = {} and d.idempotency_key = '{}' and l.quantity = 1",
                    s.user_id, s.key
                ),
            )
            .await;
            assert_eq!(n, 1, "{}'s cart changed after a refusal", s.email);
        }
        assert_invariants(&su, &schema).await;
    })
    .await
    .expect("the race took too long (a deadlock or a starved pool?)");
}

/// A refused checkout must not hold a pooled connection while it waits for another one: with as
/// many refusals at once as the pool has connections, each would wait for the others forever
/// (until the pool's wait timeout) and answer with an error page instead of the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_refusals_do_not_starve_the_pool() {
    let mut db = TestDb::new().await;
    db.config.pool_size = 2;
    let (tenant, schema) = db.create_shop("Kiosco Chico").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let mut su = db.admin().await;
    product(&mut su, tenant, owner, &schema, "7790077", "100", 0).await;
    let app = Arc::new(common::spawn_app_on(db).await);
    let mut sellers = Vec::new();
    for i in 0..4 {
        let email = format!("late{i}@example.com");
        app.db.add_member(tenant, &email, "staff").await;
        let http = common::client();
        assert_eq!(app.login_with(&http, &email, PASSWORD).await.status, 303);
        let csrf = app.get_with(&http, "/pos").await.csrf();
        // out of stock: it goes into the cart all the same (the checkout refuses)
        let r = app.post_with(&http, "/pos/scan", &[("csrf", &csrf), ("code", "7790077")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let key = field_value(&app.get_with(&http, "/pos").await.body, "key");
        sellers.push((http, csrf, key));
    }
    let started = std::time::Instant::now();
    let barrier = Arc::new(Barrier::new(sellers.len()));
    let mut set = JoinSet::new();
    for (http, csrf, key) in sellers {
        let (app, barrier) = (app.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            let r =
                app.post_with(&http, "/pos/checkout", &[("csrf", &csrf), ("key", &key), ("cash", "")]).await;
            (r.status, r.body.contains("quedan 0"))
        });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = set.join_next().await {
        outcomes.push(r.unwrap());
    }
    let elapsed = started.elapsed();
    assert!(
        outcomes.iter().all(|o| *o == (422, true)),
        "expected four stock refusals, got {outcomes:?} after {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "four refusals took {elapsed:?}");
    assert_eq!(count(&su, &schema, "select count(*) from {s}.sales").await, 0);
}

// ---------------------------------------------------------------------------------------------
// domain function on separate pooled connections

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn thirty_record_sale_calls_ten_succeed_none_deadlocks() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Dominio").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let mut staff = Vec::new();
    for i in 0..3 {
        staff.push(db.add_member(tenant, &format!("staff{i}@example.com"), "staff").await);
    }
    let mut su = db.admin().await;
    // the scarce product gets the higher id: every sale locks the plentiful one first
    let plenty = product(&mut su, tenant, owner, &schema, "PLENTY-1", "5", 100).await;
    let scarce = product(&mut su, tenant, owner, &schema, "SCARCE-1", "10", 21).await;
    let mut hashes = Vec::new();
    for i in 0..30 {
        hashes.push(session_hash(&su, staff[i % 3], tenant).await);
    }
    let mut cfg = db.config.clone();
    cfg.pool_size = 30;
    let pool = stock::db::app_pool(&cfg, &roles()).expect("pool");

    let results = tokio::time::timeout(LIMIT, async {
        let barrier = Arc::new(Barrier::new(30));
        let mut set = JoinSet::new();
        for (i, hash) in hashes.into_iter().enumerate() {
            let (pool, barrier) = (pool.clone(), barrier.clone());
            set.spawn(async move {
                let line = |product_id: i64, price: &str| LineInput {
                    product_id,
                    description: format!("p{product_id}"),
                    quantity: dec("2"),
                    unit_price: dec(price),
                    discount: Decimal::ZERO,
                };
                let lines = if i % 2 == 0 {
                    vec![line(scarce, "10"), line(plenty, "5")]
                } else {
                    vec![line(plenty, "5"), line(scarce, "10")]
                };
                let input = SaleInput {
                    idempotency_key: uuid::Uuid::new_v4(),
                    customer_id: None,
                    lines,
                    payments: vec![(Method::Cash, dec("30"))],
                    quote_id: None,
                    cart_id: None,
                };
                let mut c = conn(&pool.clone().into(), false);
                let (tx, ctx) =
                    c.tenant_tx(&hash, Access::ReadWrite).await.expect("tenant_tx").expect("session");
                barrier.wait().await;
                match sales::record_sale(&tx, ctx.user_id, &input).await {
                    Ok(Ok(done)) => {
                        assert!(!done.replayed);
                        tx.commit().await.unwrap_or_else(|e| panic!("sale {i}: commit: {e:?}"));
                        Ok((done.sale_id, ctx.user_id, input.idempotency_key))
                    }
                    Ok(Err(refusal)) => {
                        tx.rollback().await.expect("rollback");
                        Err(refusal)
                    }
                    Err(e) => panic!("sale {i} failed (a deadlock?): {e:?}"),
                }
            });
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            results.push(r.expect("a sale task panicked"));
        }
        results
    })
    .await
    .expect("thirty sales took too long (a deadlock?)");

    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok.len(), 10, "exactly ten sales of 2 fit in 21 units: {results:?}");
    assert_eq!(refused.len(), 20);
    for r in &refused {
        assert_eq!(
            **r,
            SaleRefusal::NotEnoughStock {
                product_id: scarce,
                description: format!("p{scarce}"),
                available: dec("1")
            },
            "every refusal is for the scarce product with one unit left"
        );
    }
    assert_eq!(count(&su, &schema, "select count(*) from {s}.sales").await, 10);
    assert_eq!(count(&su, &schema, "select count(*) from {s}.sale_lines").await, 20);
    for (sale, user, key) in &ok {
        let row = su
            .query_one(
                &format!("select user_id, idempotency_key, total from {schema}.sales where id = $1"),
                &[sale],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), *user);
        assert_eq!(row.get::<_, uuid::Uuid>(1), *key);
        assert_eq!(row.get::<_, Decimal>(2), dec("30"));
    }
    assert_eq!(stock_of(&su, &schema, scarce).await, dec("1"));
    assert_eq!(stock_of(&su, &schema, plenty).await, dec("80"));
    let income: Decimal =
        su.query_one(&format!("select sum(amount) from {schema}.money_ledger"), &[]).await.unwrap().get(0);
    assert_eq!(income, dec("300"));
    assert_invariants(&su, &schema).await;
    let status = pool.status();
    assert_eq!(status.size, status.available, "every pooled connection came back");
}

/// The deadlock the ordering above avoids is real: two sales inserting the same two products'
/// lines in opposite orders, without sorting, deadlock, and PostgreSQL aborts one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unsorted_lines_in_opposite_orders_do_deadlock() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Control").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let seller = db.add_member(tenant, "staff@example.com", "staff").await;
    let mut su = db.admin().await;
    let a = product(&mut su, tenant, owner, &schema, "A-0001", "10", 10).await;
    let b = product(&mut su, tenant, owner, &schema, "B-0001", "10", 10).await;
    let insert_sale = "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
                       values (gen_random_uuid(), (select id from customers where is_final_consumer), $1, 20, 20, 0)
                       returning id";
    let insert_line =
        "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, total)
                       values ($1, $2, $3, 'x', 1, 10, 10)";
    let mut c1 = db.app_login().await;
    let mut c2 = db.app_login().await;
    let tx1 = c1.transaction().await.unwrap();
    let tx2 = c2.transaction().await.unwrap();
    for tx in [&tx1, &tx2] {
        set_ctx(tx, Some(tenant), Some(seller), &roles().staff).await;
    }
    let s1: i64 = tx1.query_one(insert_sale, &[&seller]).await.unwrap().get(0);
    let s2: i64 = tx2.query_one(insert_sale, &[&seller]).await.unwrap().get(0);
    tx1.execute(insert_line, &[&s1, &1i32, &a]).await.unwrap();
    tx2.execute(insert_line, &[&s2, &1i32, &b]).await.unwrap();
    let (p1, p2) = (2i32, 2i32);
    let (args1, args2): ([&(dyn ToSql + Sync); 3], [&(dyn ToSql + Sync); 3]) =
        ([&s1, &p1, &b], [&s2, &p2, &a]);
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(tx1.execute(insert_line, &args1), tx2.execute(insert_line, &args2))
    })
    .await
    .expect("PostgreSQL detects the deadlock");
    let codes: Vec<Option<&str>> = [&outcome.0, &outcome.1]
        .iter()
        .map(|r| r.as_ref().err().and_then(|e| e.code()).map(|c| c.code()))
        .collect();
    assert!(codes.contains(&Some("40P01")), "expected one deadlock_detected, got {outcome:?}");
}
