//! Hot statements are cached per shop (`db::tx::prepare_for_shop`): one connection serving two
//! shops in turn keeps one prepared dashboard statement per shop, so neither is re-planned when
//! the connection switches shops, and each shop still sees only its own rows. The statement's
//! text never decides what is read: run under another shop's context it reads that shop's rows.
mod common;

use common::{roles, set_ctx, TestDb};
use stock::domain::dashboard;

async fn out_of_stock_product(admin: &tokio_postgres::Client, schema: &str, name: &str) {
    admin
        .execute(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price)
                 values ('SKU-1', $1, (select id from {schema}.units where code = 'u'), 10)"
            ),
            &[&name],
        )
        .await
        .unwrap_or_else(|e| panic!("product {name}: {e}"));
}

#[tokio::test]
async fn one_connection_keeps_a_dashboard_statement_per_shop_and_each_shop_sees_its_own() {
    let mut db = TestDb::new().await;
    let (a, schema_a) = db.create_shop("Statements A").await;
    let (b, schema_b) = db.create_shop("Statements B").await;
    let owner_a = db.add_member(a, "a@example.com", "owner").await;
    let owner_b = db.add_member(b, "b@example.com", "owner").await;
    let admin = db.admin().await;
    out_of_stock_product(&admin, &schema_a, "Tornillo-del-A").await;
    out_of_stock_product(&admin, &schema_b, "Clavo-del-B").await;

    db.config.pool_size = 1;
    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let mut obj = pool.get().await.expect("conn");
    let shops = [(a, owner_a, "Tornillo-del-A"), (b, owner_b, "Clavo-del-B")];
    for _ in 0..3 {
        for (shop, owner, mine) in shops {
            for with_money in [true, false] {
                let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite)
                    .await
                    .expect("begin");
                set_ctx(&**tx, Some(shop), Some(owner), &roles().owner).await;
                let d = dashboard::load(&tx, shop, with_money, chrono::Utc::now()).await.expect("dashboard");
                let names: Vec<&str> = d.low.iter().map(|l| l.name.as_str()).collect();
                assert_eq!(names, vec![mine], "shop {shop} sees its own product only");
                tx.commit().await.expect("commit");
            }
        }
    }

    // the connection holds exactly one statement per shop and variant, named by the shop's id
    let mut held: Vec<String> = obj
        .query("select statement from pg_prepared_statements where statement like '/* shop %'", &[])
        .await
        .expect("prepared statements")
        .iter()
        .map(|r| r.get::<_, String>(0).chars().take(20).collect())
        .collect();
    held.sort();
    let mut want: Vec<String> =
        [a, a, b, b].iter().map(|s| format!("/* shop {s} */ with st").chars().take(20).collect()).collect();
    want.sort();
    assert_eq!(held, want);

    // the text only names the cache entry: under B's context, A's statement reads B's rows
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(b), Some(owner_b), &roles().owner).await;
    let d = dashboard::load(&tx, a, true, chrono::Utc::now()).await.expect("dashboard");
    let names: Vec<&str> = d.low.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, vec!["Clavo-del-B"]);
    tx.rollback().await.expect("rollback");
}
