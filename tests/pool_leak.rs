//! The app's own pool, one connection, requests of two shops taking turns on it: committed, rolled
//! back, dropped without commit, failing mid-transaction, cancelled mid-query. After each one the
//! same pooled connection, looked at outside any request transaction, carries no tenant, no user,
//! no role and no shop search_path; and every request saw only its own shop.
mod common;

use std::time::Duration;

use common::{roles, session_hash, TestDb};
use stock::db::tx::{conn, Access};

struct Session {
    tenant: i64,
    schema: String,
    other_schema: String,
    /// the database role resolve_session must pick
    db_role: String,
    token_hash: Vec<u8>,
    /// this shop's currency, set apart from the other shop's
    currency: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Commit,
    Rollback,
    DropWithoutCommit,
    SqlError,
    Cancelled,
}

const ENDINGS: [Ending; 5] =
    [Ending::Commit, Ending::Rollback, Ending::DropWithoutCommit, Ending::SqlError, Ending::Cancelled];

/// The pooled connection as the next request would find it, outside any request transaction.
async fn assert_clean(pool: &deadpool_postgres::Pool, expect_pid: i32, schemas: &[&str], what: &str) {
    let raw = tokio::time::timeout(Duration::from_secs(5), pool.get())
        .await
        .unwrap_or_else(|_| panic!("{what}: the pool's only connection was not returned"))
        .expect("pool get");
    let row = raw
        .query_one(
            "select pg_backend_pid(), current_setting('app.tenant_id', true), current_setting('app.user_id', true),
                    current_user::text, session_user::text, current_setting('search_path'),
                    current_setting('transaction_read_only'), pg_current_xact_id_if_assigned()::text",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    let pid: i32 = row.get(0);
    let tenant: Option<String> = row.get(1);
    let user: Option<String> = row.get(2);
    let current: String = row.get(3);
    let session: String = row.get(4);
    let path: String = row.get(5);
    let read_only: String = row.get(6);
    let xid: Option<String> = row.get(7);
    assert_eq!(pid, expect_pid, "{what}: not the same pooled connection (pool_size = 1)");
    assert!(tenant.as_deref().unwrap_or("").is_empty(), "{what}: app.tenant_id leaked: {tenant:?}");
    assert!(user.as_deref().unwrap_or("").is_empty(), "{what}: app.user_id leaked: {user:?}");
    assert_eq!(current, roles().app, "{what}: current_user leaked");
    assert_eq!(session, roles().app, "{what}: session_user");
    assert!(!path.contains("tenant_"), "{what}: search_path leaked: {path}");
    assert_eq!(read_only, "off", "{what}: READ ONLY leaked");
    assert_eq!(xid, None, "{what}: a transaction is still open");
    for schema in schemas {
        let err = raw
            .query(&format!("select * from {schema}.settings"), &[])
            .await
            .expect_err("the login role alone reads a shop table");
        assert_eq!(err.code().map(|c| c.code()), Some("42501"), "{what}: {err:?}");
    }
    let err = raw.query("select * from settings", &[]).await.expect_err("unqualified settings resolves");
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"), "{what}: {err:?}");
}

#[tokio::test]
async fn one_pooled_connection_carries_nothing_from_one_request_to_the_next() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Pool A").await;
    let (b, sb) = db.create_shop("Pool B").await;
    let a_owner = db.add_member(a, "owner-a@example.com", "owner").await;
    let b_owner = db.add_member(b, "owner-b@example.com", "owner").await;
    let b_staff = db.add_member(b, "staff-b@example.com", "staff").await;
    let admin = db.admin().await;
    admin
        .batch_execute(&format!(
            "begin; select set_config('app.tenant_id', '{b}', true);
             update {sb}.settings set currency = 'USD'; commit;"
        ))
        .await
        .expect("B currency");
    let r = roles();
    let sessions = [
        Session {
            tenant: a,
            schema: sa.clone(),
            other_schema: sb.clone(),
            db_role: r.owner.clone(),
            token_hash: session_hash(&admin, a_owner, a).await,
            currency: "ARS",
        },
        Session {
            tenant: b,
            schema: sb.clone(),
            other_schema: sa.clone(),
            db_role: r.owner.clone(),
            token_hash: session_hash(&admin, b_owner, b).await,
            currency: "USD",
        },
        Session {
            tenant: b,
            schema: sb.clone(),
            other_schema: sa.clone(),
            db_role: r.staff.clone(),
            token_hash: session_hash(&admin, b_staff, b).await,
            currency: "USD",
        },
    ];

    let mut cfg = db.config.clone();
    cfg.pool_size = 1;
    let pool = stock::db::app_pool(&cfg, &r).expect("pool");
    let pid: i32 = pool
        .get()
        .await
        .expect("first connection")
        .query_one("select pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_clean(&pool, pid, &[&sa, &sb], "fresh pool").await;

    let mut committed: [Option<String>; 2] = [None, None];
    let mut requests = 0;
    for i in 0..20usize {
        let ending = ENDINGS[(i / 2) % ENDINGS.len()];
        // A on even turns, B on odd ones (B's staff for the read-only endings)
        let s = match (i % 2, ending) {
            (0, _) => &sessions[0],
            (_, Ending::DropWithoutCommit) => &sessions[2],
            _ => &sessions[1],
        };
        let writes = s.db_role == r.owner;
        let access = if writes { Access::ReadWrite } else { Access::ReadOnly };
        let what = format!("request {i} ({ending:?}) for tenant {} as {}", s.tenant, s.db_role);
        let header = format!("request {i}");
        {
            let mut c = conn(&pool.clone().into(), false);
            let (tx, ctx) =
                c.tenant_tx(&s.token_hash, access).await.expect("tenant_tx").expect("live session");
            let shop = ctx.shop.as_ref().expect("a shop in context");
            assert_eq!(shop.tenant_id, s.tenant, "{what}");
            assert_eq!(shop.schema, s.schema, "{what}");

            let row = tx
                .query_one(
                    "select pg_backend_pid(), current_user::text, current_setting('app.tenant_id'),
                            current_setting('search_path')",
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(row.get::<_, i32>(0), pid, "{what}: another connection");
            assert_eq!(row.get::<_, String>(1), s.db_role, "{what}: role");
            assert_eq!(row.get::<_, String>(2), s.tenant.to_string(), "{what}: tenant");
            assert!(row.get::<_, String>(3).starts_with(&s.schema), "{what}: search_path");

            // only its own shop's settings row, whichever way it is named
            let own = tx.query("select currency from settings", &[]).await.unwrap();
            assert_eq!(own.len(), 1, "{what}");
            assert_eq!(own[0].get::<_, String>(0), s.currency, "{what}: another shop's settings row");
            let q = tx.query(&format!("select currency from {}.settings", s.schema), &[]).await.unwrap();
            assert_eq!(q.len(), 1, "{what}");
            let other = tx.query(&format!("select * from {}.settings", s.other_schema), &[]).await.unwrap();
            assert!(other.is_empty(), "{what}: saw the other shop's settings");

            if writes {
                let n = tx
                    .execute(&format!("update {}.settings set receipt_header = $1", s.schema), &[&header])
                    .await
                    .unwrap();
                assert_eq!(n, 1, "{what}");
                let n = tx
                    .execute(&format!("update {}.settings set receipt_header = 'pwned'", s.other_schema), &[])
                    .await
                    .unwrap();
                assert_eq!(n, 0, "{what}: wrote the other shop");
            }
            match ending {
                Ending::Commit => {
                    tx.commit().await.expect("commit");
                    committed[i % 2] = Some(header.clone());
                }
                Ending::Rollback => tx.rollback().await.expect("rollback"),
                Ending::DropWithoutCommit => drop(tx),
                Ending::SqlError => {
                    let err = tx.query("select 1 / 0", &[]).await.expect_err("division by zero");
                    assert_eq!(err.code().map(|c| c.code()), Some("22012"));
                    // the handler bails out with `?`: the transaction is dropped
                    drop(tx);
                }
                Ending::Cancelled => {
                    // the client went away while a statement was running: the request future
                    // (and with it the transaction) is dropped mid-query
                    let slow = tokio::time::timeout(
                        Duration::from_millis(50),
                        tx.query("select pg_sleep(0.3)", &[]),
                    )
                    .await;
                    assert!(slow.is_err(), "{what}: the slow statement was expected to time out");
                    drop(tx);
                }
            }
            drop(c);
        }
        requests += 1;
        assert_clean(&pool, pid, &[&sa, &sb], &what).await;
    }
    assert_eq!(requests, 20);

    // exactly the committed writes landed, each in its own shop
    for (k, schema) in [(0usize, &sa), (1, &sb)] {
        let h: String = admin
            .query_one(&format!("select receipt_header from {schema}.settings"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(Some(h), committed[k].clone(), "{schema}");
    }
    let status = pool.status();
    assert_eq!((status.size, status.max_size), (1, 1), "the pool opened another connection");
}

/// A session whose shop was suspended resolves to the anonymous role with no tenant: even on a
/// connection that just served that shop, nothing of it is visible.
#[tokio::test]
async fn a_suspended_shop_gets_nothing_on_a_warm_connection() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Pool Suspendido").await;
    let owner = db.add_member(a, "owner-s@example.com", "owner").await;
    let admin = db.admin().await;
    let hash = session_hash(&admin, owner, a).await;
    let mut cfg = db.config.clone();
    cfg.pool_size = 1;
    let r = roles();
    let pool = stock::db::app_pool(&cfg, &r).expect("pool");
    {
        let mut c = conn(&pool.clone().into(), false);
        let (tx, _) = c.tenant_tx(&hash, Access::ReadOnly).await.unwrap().expect("session");
        assert_eq!(tx.query(&format!("select * from {sa}.settings"), &[]).await.unwrap().len(), 1);
        tx.commit().await.unwrap();
    }
    admin.execute("update app.tenants set status = 'suspended' where id = $1", &[&a]).await.unwrap();
    {
        let mut c = conn(&pool.clone().into(), false);
        let (tx, ctx) = c.tenant_tx(&hash, Access::ReadOnly).await.unwrap().expect("session still resolves");
        assert!(ctx.shop.as_ref().is_some_and(|s| !s.active), "{ctx:?}");
        let row = tx
            .query_one("select current_user::text, current_setting('app.tenant_id', true)", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), r.anon);
        assert_eq!(row.get::<_, Option<String>>(1).unwrap_or_default(), "");
        let err =
            tx.query(&format!("select * from {sa}.settings"), &[]).await.expect_err("anon reads a shop");
        assert_eq!(err.code().map(|c| c.code()), Some("42501"));
    }
    let pid: i32 = pool.get().await.unwrap().query_one("select pg_backend_pid()", &[]).await.unwrap().get(0);
    assert_clean(&pool, pid, &[&sa], "after the suspended shop's request").await;
}

/// The check above is not vacuous: a session-level `SET` (what `set_config(…, false)` or a plain
/// `SET` in a handler would do) on the pooled connection is caught.
#[tokio::test]
async fn the_leak_check_catches_session_level_settings() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Pool Fuga").await;
    let mut cfg = db.config.clone();
    cfg.pool_size = 1;
    let r = roles();
    let pool = stock::db::app_pool(&cfg, &r).expect("pool");
    let pid: i32 = pool.get().await.unwrap().query_one("select pg_backend_pid()", &[]).await.unwrap().get(0);
    assert_clean(&pool, pid, &[&sa], "fresh").await;
    for leak in [
        format!("select set_config('app.tenant_id', '{a}', false)"),
        "select set_config('app.user_id', '1', false)".to_string(),
        format!("set role {}", r.owner),
        format!("set search_path = {sa}, app"),
        "set default_transaction_read_only = on".to_string(),
    ] {
        pool.get().await.unwrap().batch_execute(&leak).await.unwrap_or_else(|e| panic!("{leak}: {e:?}"));
        let (p, s) = (pool.clone(), sa.clone());
        let caught = tokio::spawn(async move { assert_clean(&p, pid, &[&s], "planted").await }).await;
        assert!(caught.is_err_and(|e| e.is_panic()), "the check missed: {leak}");
        pool.get().await.unwrap().batch_execute("reset all; reset role").await.unwrap();
        assert_clean(&pool, pid, &[&sa], "after reset").await;
    }
}
