//! The app pool replaces its connections: after `STOCK_POOL_MAX_USES` uses, once older than
//! `STOCK_POOL_MAX_LIFETIME_SECONDS` (also while idle, by the sweep), and never with both off.
//! A replaced connection's backend is gone from the server, so its memory is given back.
mod common;

use std::time::Duration;

use common::{roles, TestDb};
use stock::config::Config;

async fn backend_pid(pool: &deadpool_postgres::Pool) -> i32 {
    let c = tokio::time::timeout(Duration::from_secs(10), pool.get())
        .await
        .expect("pool get in time")
        .expect("get");
    c.query_one("select pg_backend_pid()", &[]).await.expect("pid").get(0)
}

fn pool(db: &TestDb, lifetime: Option<Duration>, uses: Option<usize>) -> deadpool_postgres::Pool {
    let config =
        Config { pool_size: 1, pool_max_lifetime: lifetime, pool_max_uses: uses, ..db.config.clone() };
    stock::db::app_pool(&config, &roles()).expect("pool")
}

async fn alive(db: &TestDb, pid: i32) -> bool {
    let admin = db.admin().await;
    let n: i64 = admin
        .query_one("select count(*) from pg_stat_activity where pid = $1", &[&pid])
        .await
        .expect("count")
        .get(0);
    n == 1
}

#[tokio::test]
async fn a_connection_serves_max_uses_then_is_replaced() {
    let db = TestDb::new().await;
    let pool = pool(&db, None, Some(3));
    let first = backend_pid(&pool).await;
    assert_eq!(backend_pid(&pool).await, first);
    assert_eq!(backend_pid(&pool).await, first);
    let fourth = backend_pid(&pool).await;
    assert_ne!(fourth, first, "the fourth use must get a new connection");
    assert_eq!(pool.status().size, 1);
    // the old backend goes away once its client is dropped
    let mut gone = false;
    for _ in 0..50 {
        if !alive(&db, first).await {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "backend {first} still alive after being replaced");
}

#[tokio::test]
async fn an_old_connection_is_replaced_when_taken_and_swept_when_idle() {
    let db = TestDb::new().await;
    let pool = pool(&db, Some(Duration::from_secs(1)), None);
    let first = backend_pid(&pool).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = backend_pid(&pool).await;
    assert_ne!(second, first, "a connection past its lifetime must not be handed out");
    // left idle, the sweep (every second here) closes it without anyone taking it
    let mut swept = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if pool.status().size == 0 && !alive(&db, second).await {
            swept = true;
            break;
        }
    }
    assert!(swept, "the idle connection past its lifetime was not closed (size {})", pool.status().size);
    assert_ne!(backend_pid(&pool).await, second);
}

#[tokio::test]
async fn without_limits_the_connection_is_kept() {
    let db = TestDb::new().await;
    let pool = pool(&db, None, None);
    let first = backend_pid(&pool).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..5 {
        assert_eq!(backend_pid(&pool).await, first);
    }
}

#[tokio::test]
async fn the_statement_cache_is_emptied_past_its_bound() {
    let db = TestDb::new().await;
    let config = Config { pool_size: 1, statement_cache_max: 3, ..db.config.clone() };
    let pool = stock::db::app_pool(&config, &roles()).expect("pool");
    let pid = {
        let c = pool.get().await.expect("get");
        for i in 0..5 {
            let stmt = c.prepare_cached(&format!("select {i}::int + 1")).await.expect("prepare");
            let n: i32 = c.query_one(&stmt, &[]).await.expect("run").get(0);
            assert_eq!(n, i + 1);
        }
        assert_eq!(c.statement_cache.size(), 5);
        c.query_one("select pg_backend_pid()", &[]).await.expect("pid").get::<_, i32>(0)
    };
    let c = pool.get().await.expect("get again");
    assert_eq!(c.statement_cache.size(), 0, "a cache past its bound is emptied when the connection is taken");
    let same: i32 = c.query_one("select pg_backend_pid()", &[]).await.expect("pid").get(0);
    assert_eq!(same, pid, "emptying the cache keeps the connection");
    // the server-side statements were closed with their handles
    let left: i64 = c
        .query_one(
            "select count(*) from pg_prepared_statements where statement like 'select _::int + 1'",
            &[],
        )
        .await
        .expect("prepared")
        .get(0);
    assert_eq!(left, 0);
    let stmt = c.prepare_cached("select 41::int + 1").await.expect("prepare after clear");
    assert_eq!(c.query_one(&stmt, &[]).await.expect("run").get::<_, i32>(0), 42);
}
