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

/// Two shops, each with its owner and one out-of-stock product of its own (A's "Tornillo-del-A",
/// B's "Clavo-del-B"), and the app's pool with a single connection.
struct TwoShops {
    _db: TestDb,
    pool: deadpool_postgres::Pool,
    a: i64,
    owner_a: i64,
    b: i64,
    owner_b: i64,
}

async fn two_shops() -> TwoShops {
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
    TwoShops { _db: db, pool, a, owner_a, b, owner_b }
}

#[tokio::test]
async fn one_connection_keeps_a_dashboard_statement_per_shop_and_each_shop_sees_its_own() {
    let TwoShops { _db, pool, a, owner_a, b, owner_b } = two_shops().await;
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

/// The product list and the category choices are per-shop statements too: on one connection
/// serving two shops in turn, each page lists only its own shop's products, whatever page or
/// search, and under B's context the statement cached for A reads B's rows.
#[tokio::test]
async fn the_product_list_is_cached_per_shop_and_each_shop_lists_its_own() {
    use stock::domain::catalog::{self, ProductQuery};
    let TwoShops { _db, pool, a, owner_a, b, owner_b } = two_shops().await;
    let mut obj = pool.get().await.expect("conn");
    let queries = [
        ProductQuery::default(),
        ProductQuery { q: "del".into(), ..Default::default() },
        ProductQuery { q: "SKU-1".into(), ..Default::default() },
        ProductQuery { low_stock: true, active: Some(true), ..Default::default() },
    ];
    for _ in 0..2 {
        for (shop, owner, mine) in [(a, owner_a, "Tornillo-del-A"), (b, owner_b, "Clavo-del-B")] {
            for q in &queries {
                let tx =
                    stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadOnly).await.expect("begin");
                set_ctx(&**tx, Some(shop), Some(owner), &roles().owner).await;
                let page = catalog::list_products(&tx, shop, q).await.expect("list");
                let names: Vec<&str> = page.items.iter().map(|p| p.name.as_str()).collect();
                assert_eq!(names, vec![mine], "shop {shop}, {q:?}");
                catalog::category_options(&tx, shop).await.expect("categories");
                tx.commit().await.expect("commit");
            }
        }
    }
    let per_shop: Vec<(String, i64)> = obj
        .query(
            "select substring(statement from '^/\\* shop [0-9]+ \\*/'), count(*)
               from pg_prepared_statements where statement like '/* shop %' group by 1 order by 1",
            &[],
        )
        .await
        .expect("prepared statements")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // per shop: the list in its variants, the exact-match lookup, the category choices
    assert_eq!(per_shop.len(), 2, "{per_shop:?}");
    assert_eq!(per_shop[0].1, per_shop[1].1, "the same statements for each shop: {per_shop:?}");

    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadOnly).await.expect("begin");
    set_ctx(&**tx, Some(b), Some(owner_b), &roles().owner).await;
    let page = catalog::list_products(&tx, a, &ProductQuery::default()).await.expect("list");
    let names: Vec<&str> = page.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["Clavo-del-B"]);
    tx.rollback().await.expect("rollback");
}
