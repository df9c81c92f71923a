//! The request transaction (`db::tx::Tx`) on the app's own pool, one connection: BEGIN goes out
//! with the session statement, a READ ONLY commit is queued without waiting for its answer, a
//! dropped transaction is rolled back before the connection's next use, and a read-write commit
//! still reports what the database refuses at COMMIT.
mod common;

use common::{roles, session_hash, TestDb};
use stock::db::tx::{conn, Access, ShopStatement};
use stock::db::AppPools;

async fn one_connection(db: &mut TestDb) -> AppPools {
    db.config.pool_size = 1;
    db.config.pool_shards = 1;
    AppPools::from(stock::db::app_pool(&db.config, &roles()).expect("pool"))
}

/// What `sql` (one text column) reads in a fresh read-only request transaction of `hash`'s session
/// on the pool's one connection.
async fn next_request_reads(pools: &AppPools, hash: &[u8], sql: &str) -> Option<String> {
    let mut c = conn(pools, false);
    let (tx, _) = c.tenant_tx(hash, Access::ReadOnly).await.expect("tenant_tx").expect("session");
    let v: Option<String> = tx.query_one(sql, &[]).await.expect("read").get(0);
    tx.commit().await.expect("commit");
    v
}

/// A session-level setting (`is_local = false`) outlives its transaction only if the transaction
/// committed: it tells, from the next transaction on the same connection, how the last one ended.
async fn marker_after(pools: &AppPools, hash: &[u8]) -> Option<String> {
    next_request_reads(pools, hash, "select nullif(current_setting('stock_test.marker', true), '')").await
}

#[tokio::test]
async fn commits_rollbacks_and_drops_end_the_transaction_before_the_connection_is_used_again() {
    let mut db = TestDb::new().await;
    let (shop, _) = db.create_shop("Request tx").await;
    let owner = db.add_member(shop, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    let hash = session_hash(&admin, owner, shop).await;
    let pools = one_connection(&mut db).await;

    for (access, end, kept) in [
        (Access::ReadOnly, "commit", true),
        (Access::ReadWrite, "commit", true),
        (Access::ReadOnly, "rollback", false),
        (Access::ReadWrite, "drop", false),
        (Access::ReadOnly, "drop", false),
    ] {
        let what = format!("{access:?} {end}");
        {
            let mut c = conn(&pools, false);
            let (tx, ctx) = c.tenant_tx(&hash, access).await.expect("tenant_tx").expect("session");
            assert_eq!(ctx.tenant_id(), Some(shop), "{what}");
            // the session statement ran inside the transaction that BEGIN opened
            let row = tx
                .query_one(
                    "select current_setting('transaction_read_only'), current_setting('app.tenant_id'),
                            now() = statement_timestamp()",
                    &[],
                )
                .await
                .expect("inside");
            let ro = if access == Access::ReadOnly { "on" } else { "off" };
            assert_eq!(row.get::<_, String>(0), ro, "{what}");
            assert_eq!(row.get::<_, String>(1), shop.to_string(), "{what}");
            assert!(!row.get::<_, bool>(2), "{what}: the query runs in the transaction BEGIN started");
            tx.execute("select set_config('stock_test.marker', $1, false)", &[&what]).await.expect("mark");
            match end {
                "commit" => tx.commit().await.expect("commit"),
                "rollback" => tx.rollback().await.expect("rollback"),
                _ => drop(tx),
            }
        }
        let got = marker_after(&pools, &hash).await;
        assert_eq!(got.as_deref(), kept.then_some(what.as_str()), "{what}");
        if kept {
            // reset for the next case, committed
            let mut c = conn(&pools, false);
            let (tx, _) = c.tenant_tx(&hash, Access::ReadWrite).await.unwrap().expect("session");
            tx.execute("select set_config('stock_test.marker', '', false)", &[]).await.expect("reset");
            tx.commit().await.expect("commit");
        }
    }
    assert_eq!(pools.status().size, 1, "one connection served all");
}

#[tokio::test]
async fn a_read_write_commit_reports_what_the_database_refuses_and_keeps_nothing() {
    let mut db = TestDb::new().await;
    let (shop, schema) = db.create_shop("Request tx commit").await;
    let owner = db.add_member(shop, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    let hash = session_hash(&admin, owner, shop).await;
    let pools = one_connection(&mut db).await;

    let mut c = conn(&pools, false);
    let (tx, _) = c.tenant_tx(&hash, Access::ReadWrite).await.expect("tenant_tx").expect("session");
    // a sale of 10 with no lines and no payments: each insert passes, the deferred check fails
    tx.execute(
        "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
         values (gen_random_uuid(), (select id from customers where is_final_consumer), app.current_user_id(),
                 10, 10, 0)",
        &[],
    )
    .await
    .expect("the insert passes on its own");
    let err = tx.commit().await.expect_err("the sale is not whole");
    assert_eq!(err.as_db_error().and_then(|d| d.constraint()), Some("sales_whole"), "{err}");
    drop(c);
    let n: i64 = admin.query_one(&format!("select count(*) from {schema}.sales"), &[]).await.unwrap().get(0);
    assert_eq!(n, 0, "nothing kept");

    // a signed-out token: no session, the transaction is rolled back and the connection is fine
    let mut c = conn(&pools, false);
    assert!(c.tenant_tx(&[0u8; 32], Access::ReadOnly).await.expect("tenant_tx").is_none());
    drop(c);
    let tenant = next_request_reads(&pools, &hash, "select current_setting('app.tenant_id')").await;
    assert_eq!(tenant, Some(shop.to_string()));
}

/// What the context statement set, read by a statement sent in the same flush.
const CONTEXT: &str = "select current_setting('app.tenant_id') || ' ' || current_setting('role')
                              || ' ' || current_setting('transaction_read_only')";

/// `tenant_tx_then` sends a shop's statement with BEGIN and the session statement: it runs in
/// the session's own context whatever shop the caller guessed (the guess only names the cached
/// statement), the first time (prepared in the same flush) and once cached; a failing statement
/// leaves the session's row usable and the connection fine after the rollback; a signed-out
/// token gets no rows.
#[tokio::test]
async fn a_statement_sent_with_the_session_statement_runs_in_the_sessions_own_context() {
    let mut db = TestDb::new().await;
    let (a, _) = db.create_shop("Then A").await;
    let (b, _) = db.create_shop("Then B").await;
    let owner_a = db.add_member(a, "a@example.com", "owner").await;
    let staff_b = db.add_member(b, "b@example.com", "staff").await;
    let admin = db.admin().await;
    let hash_a = session_hash(&admin, owner_a, a).await;
    let hash_b = session_hash(&admin, staff_b, b).await;
    let pools = one_connection(&mut db).await;
    let r = roles();

    for (hash, shop, role) in [(&hash_a, a, &r.owner), (&hash_b, b, &r.staff)] {
        for guess in [a, b, a, b] {
            let then = ShopStatement { tenant_id: guess, sql: CONTEXT, params: &[] };
            let mut c = conn(&pools, false);
            let (tx, ctx, rows) = c
                .tenant_tx_then(hash, Access::ReadOnly, &then)
                .await
                .expect("tenant_tx_then")
                .expect("session");
            assert_eq!(ctx.tenant_id(), Some(shop));
            let rows = rows.expect("sent").expect("ran");
            assert_eq!(rows.len(), 1);
            assert_eq!(
                rows[0].get::<_, String>(0),
                format!("{shop} {role} on"),
                "guessed {guess}, is {shop}"
            );
            tx.commit().await.expect("commit");
        }
    }

    // the statement fails: the transaction is aborted, the session's row is still there
    let then = ShopStatement { tenant_id: a, sql: "select (1 / 0)::text", params: &[] };
    let mut c = conn(&pools, false);
    let (tx, ctx, rows) =
        c.tenant_tx_then(&hash_a, Access::ReadOnly, &then).await.expect("tenant_tx_then").expect("session");
    assert_eq!(ctx.tenant_id(), Some(a));
    let err = rows.expect("sent").expect_err("division by zero");
    assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO), "{err}");
    tx.rollback().await.expect("rollback");
    drop(c);
    assert_eq!(
        next_request_reads(&pools, &hash_a, "select current_setting('app.tenant_id')").await,
        Some(a.to_string())
    );

    // signed out: no session, no rows, and the connection is fine
    let then = ShopStatement { tenant_id: a, sql: CONTEXT, params: &[] };
    let mut c = conn(&pools, false);
    assert!(c.tenant_tx_then(&[0u8; 32], Access::ReadOnly, &then).await.expect("tenant_tx_then").is_none());
    drop(c);
    assert_eq!(
        next_request_reads(&pools, &hash_b, "select current_setting('app.tenant_id')").await,
        Some(b.to_string())
    );
}
