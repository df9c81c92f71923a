//! The app's pool split into shards (`STOCK_POOL_SHARDS`, `db::AppPools`): a session's requests
//! always take their connection from the shard its token hash picks, so they keep landing on the
//! same backends, and the shards together hold `STOCK_POOL_SIZE` connections.
mod common;

use common::{roles, TestDb};
use stock::db::tx::{self, Access};

async fn session(db: &TestDb, user: i64, tenant: i64, token_hash: &[u8]) {
    db.admin()
        .await
        .execute(
            "select app_private.create_session($1, $2, $3, interval '1 hour', null, 'pool shards test')",
            &[&user, &tenant, &token_hash],
        )
        .await
        .expect("session");
}

/// The backend that served one request of this session, and the shop it ran in.
async fn backend_of(pools: &stock::db::AppPools, token_hash: &[u8]) -> (i32, i64) {
    let mut conn = tx::conn(pools, false);
    let (tx, ctx) = conn.tenant_tx(token_hash, Access::ReadOnly).await.expect("begin").expect("live session");
    let pid: i32 = tx.query_one("select pg_backend_pid()", &[]).await.expect("pid").get(0);
    tx.commit().await.expect("commit");
    (pid, ctx.shop.expect("shop").tenant_id)
}

#[tokio::test]
async fn a_session_keeps_its_shard_and_the_shards_share_the_pool_size() {
    let mut db = TestDb::new().await;
    let (a, _) = db.create_shop("Shard A").await;
    let (b, _) = db.create_shop("Shard B").await;
    let ua = db.add_member(a, "a@example.com", "owner").await;
    let ub = db.add_member(b, "b@example.com", "owner").await;
    // the first eight bytes of the hash, little-endian, modulo the shard count pick the shard
    let (even, odd) = ([2u8; 32], [3u8; 32]);
    session(&db, ua, a, &even).await;
    session(&db, ub, b, &odd).await;

    db.config.pool_size = 5;
    db.config.pool_shards = 2;
    let pools = stock::db::AppPools::new(&db.config, &roles()).expect("pools");
    assert_eq!(pools.shards(), 2);
    assert_eq!(pools.status().max_size, 5, "the shards share the pool size");

    let mut seen_even = Vec::new();
    let mut seen_odd = Vec::new();
    for _ in 0..4 {
        let (pid, shop) = backend_of(&pools, &even).await;
        assert_eq!(shop, a);
        seen_even.push(pid);
        let (pid, shop) = backend_of(&pools, &odd).await;
        assert_eq!(shop, b);
        seen_odd.push(pid);
    }
    // one request at a time: each shard reuses its one idle connection
    seen_even.dedup();
    seen_odd.dedup();
    assert_eq!(seen_even.len(), 1, "the even session moved between backends: {seen_even:?}");
    assert_eq!(seen_odd.len(), 1, "the odd session moved between backends: {seen_odd:?}");
    assert_ne!(seen_even, seen_odd, "two shards served by one backend");

    // with one shard both sessions share the same connection
    db.config.pool_shards = 1;
    let one = stock::db::AppPools::new(&db.config, &roles()).expect("pool");
    assert_eq!(backend_of(&one, &even).await.0, backend_of(&one, &odd).await.0);
}
