//! Catalog and stock rules enforced by PostgreSQL itself, exercised as the web app's login role in
//! a shop's request context (exactly as the app sets it): who may read and write the catalog, that
//! stock moves only through movements, the movement trigger (no negative stock, stocktake), the
//! price audit, and that one shop cannot see or move another shop's stock. Every scenario ends by
//! checking that each tracked product's stock equals the sum of its movements.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row};

// ---------------------------------------------------------------------------------------------
// helpers

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!(
            "{} {} (constraint {:?}, detail {:?})",
            d.code().code(),
            d.message(),
            d.constraint(),
            d.detail()
        ),
        None => format!("{e:?}"),
    }
}

/// The SQLSTATE of a refused statement; panics when it succeeded.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected a refusal, but it succeeded: {v:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_sqlstate<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, what: &str) -> Error {
    let e = refused(r, what);
    assert_eq!(e.code().map(|c| c.code()), Some(code), "{what}: got {}", describe(&e));
    e
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) -> Error {
    assert_sqlstate(r, "42501", what)
}

#[track_caller]
fn assert_not_negative<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    let e = assert_sqlstate(r, "23514", what);
    assert_eq!(
        e.as_db_error().and_then(|d| d.constraint()),
        Some("stock_not_negative"),
        "{what}: {}",
        describe(&e)
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Staff,
}

const EVERYONE: [Who; 3] = [Who::Owner, Who::Admin, Who::Staff];
const MANAGERS: [Who; 2] = [Who::Owner, Who::Admin];

struct Shop {
    id: i64,
    schema: String,
    owner: i64,
    admin: i64,
    staff: i64,
}

impl Shop {
    async fn new(db: &TestDb, name: &str, tag: &str) -> Shop {
        let (id, schema) = db.create_shop(name).await;
        let owner = db.add_member(id, &format!("owner-{tag}@example.com"), "owner").await;
        let admin = db.add_member(id, &format!("admin-{tag}@example.com"), "admin").await;
        let staff = db.add_member(id, &format!("staff-{tag}@example.com"), "staff").await;
        Shop { id, schema, owner, admin, staff }
    }

    fn user(&self, who: Who) -> (i64, String) {
        let r = roles();
        match who {
            Who::Owner => (self.owner, r.owner),
            Who::Admin => (self.admin, r.admin),
            Who::Staff => (self.staff, r.staff),
        }
    }
}

/// Runs one statement as `who` in the shop's context in a transaction of its own; commits it
/// when it succeeded and `commit` is set, rolls it back otherwise. Returns the rows affected.
async fn exec(
    c: &mut Client,
    shop: &Shop,
    who: Who,
    sql: &str,
    params: Params<'_>,
    commit: bool,
) -> Result<u64, Error> {
    let tx = c.transaction().await.expect("begin");
    let (uid, role) = shop.user(who);
    set_ctx(&tx, Some(shop.id), Some(uid), &role).await;
    let r = tx.execute(sql, params).await;
    if r.is_ok() && commit {
        tx.commit().await.expect("commit");
    } else {
        tx.rollback().await.expect("rollback");
    }
    r
}

/// Like `exec`, returning the rows.
async fn query(
    c: &mut Client,
    shop: &Shop,
    who: Who,
    sql: &str,
    params: Params<'_>,
    commit: bool,
) -> Result<Vec<Row>, Error> {
    let tx = c.transaction().await.expect("begin");
    let (uid, role) = shop.user(who);
    set_ctx(&tx, Some(shop.id), Some(uid), &role).await;
    let r = tx.query(sql, params).await;
    if r.is_ok() && commit {
        tx.commit().await.expect("commit");
    } else {
        tx.rollback().await.expect("rollback");
    }
    r
}

/// Creates a product as the shop's admin (committed) with an opening movement when `opening` > 0.
async fn product(c: &mut Client, shop: &Shop, sku: &str, price: &str, opening: i64) -> i64 {
    let price = dec(price);
    let rows = query(
        c,
        shop,
        Who::Admin,
        "insert into products (sku, name, unit_id, price)
         values ($1, $1, (select id from units where code = 'u'), $2) returning id",
        &[&sku, &price],
        true,
    )
    .await
    .unwrap_or_else(|e| panic!("create product {sku}: {}", describe(&e)));
    let id: i64 = rows[0].get(0);
    if opening > 0 {
        let q = Decimal::from(opening);
        exec(
            c,
            shop,
            Who::Admin,
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'opening', $2)",
            &[&id, &q],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("opening stock {sku}: {}", describe(&e)));
    }
    id
}

async fn stock_of(admin: &Client, schema: &str, id: i64) -> Decimal {
    admin
        .query_one(&format!("select stock from {schema}.products where id = $1"), &[&id])
        .await
        .expect("stock")
        .get(0)
}

async fn count(admin: &Client, sql: &str, params: Params<'_>) -> i64 {
    admin.query_one(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
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

// ---------------------------------------------------------------------------------------------
// who may read and write the catalog

#[tokio::test]
async fn staff_reads_the_catalog_but_cannot_change_it() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "YER-1", "100", 10).await;
    exec(&mut c, &shop, Who::Admin, "insert into categories (name) values ('Almacén')", &[], true)
        .await
        .expect("category");
    let cat: i64 = admin.query_one(&format!("select id from {s}.categories"), &[]).await.expect("cat").get(0);
    let unit_u: i64 =
        admin.query_one(&format!("select id from {s}.units where code = 'u'"), &[]).await.expect("u").get(0);

    // reads: everything of the shop
    for (table, expected) in [("products", 1i64), ("categories", 1), ("units", 4), ("stock_movements", 1)] {
        let rows = query(&mut c, &shop, Who::Staff, &format!("select count(*) from {table}"), &[], false)
            .await
            .unwrap_or_else(|e| panic!("staff select {table}: {}", describe(&e)));
        assert_eq!(rows[0].get::<_, i64>(0), expected, "staff reads {table}");
    }
    let rows =
        query(&mut c, &shop, Who::Staff, "select stock, price from products where id = $1", &[&pid], false)
            .await
            .expect("staff reads stock and price");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("10"));
    assert_eq!(rows[0].get::<_, Decimal>(1), dec("100"));

    // writes: all refused by grants
    let writes: Vec<(&str, String)> = vec![
        (
            "insert product",
            "insert into products (sku, name, unit_id, price) values ('X-1', 'x', (select id from units where code = 'u'), 1)"
                .into(),
        ),
        ("update product name", format!("update products set name = 'renamed' where id = {pid}")),
        ("update product price", format!("update products set price = 1 where id = {pid}")),
        ("update product active", format!("update products set active = false where id = {pid}")),
        ("delete product", format!("delete from products where id = {pid}")),
        ("insert category", "insert into categories (name) values ('Bebidas')".into()),
        ("update category", format!("update categories set name = 'Otra' where id = {cat}")),
        ("delete category", format!("delete from categories where id = {cat}")),
        ("insert unit", "insert into units (code, name) values ('caja', 'Caja')".into()),
        ("update unit", format!("update units set name = 'Otra' where id = {unit_u}")),
        ("delete unit", "delete from units where code = 'm'".into()),
        (
            "insert adjustment",
            format!("insert into stock_movements (product_id, kind, quantity, reason) values ({pid}, 'adjustment', 5, 'x')"),
        ),
        (
            "insert negative adjustment",
            format!("insert into stock_movements (product_id, kind, quantity, reason) values ({pid}, 'adjustment', -5, 'x')"),
        ),
        (
            "insert stocktake",
            format!("insert into stock_movements (product_id, kind, quantity, counted) values ({pid}, 'stocktake', 1, 0)"),
        ),
        ("delete missing product", "delete from missing_products".into()),
    ];
    for (what, sql) in &writes {
        assert_denied(exec(&mut c, &shop, Who::Staff, sql, &[], true).await, &format!("staff: {what}"));
    }

    // nothing changed
    let p = admin
        .query_one(&format!("select name, price, stock, active from {s}.products where id = $1"), &[&pid])
        .await
        .expect("product");
    assert_eq!(p.get::<_, String>(0), "YER-1");
    assert_eq!(p.get::<_, Decimal>(1), dec("100"));
    assert_eq!(p.get::<_, Decimal>(2), dec("10"));
    assert!(p.get::<_, bool>(3));
    assert_eq!(count(&admin, &format!("select count(*) from {s}.products"), &[]).await, 1);
    assert_eq!(
        count(&admin, &format!("select count(*) from {s}.categories where name = 'Almacén'"), &[]).await,
        1
    );
    assert_eq!(count(&admin, &format!("select count(*) from {s}.units"), &[]).await, 4);
    assert_eq!(count(&admin, &format!("select count(*) from {s}.stock_movements"), &[]).await, 1);

    // what staff may do: note a missing product and count it up
    let n = exec(
        &mut c,
        &shop,
        Who::Staff,
        "insert into missing_products (name, note, created_by) values ('Pilas AA', 'x', $1)",
        &[&shop.staff],
        true,
    )
    .await
    .expect("staff notes a missing product");
    assert_eq!(n, 1);
    let n = exec(
        &mut c,
        &shop,
        Who::Staff,
        "update missing_products set requests = requests + 1, last_requested_at = now()",
        &[],
        true,
    )
    .await
    .expect("staff counts it up");
    assert_eq!(n, 1);
    assert_denied(
        exec(&mut c, &shop, Who::Staff, "update missing_products set name = 'otra'", &[], true).await,
        "staff renames a missing product",
    );
    assert_denied(
        exec(&mut c, &shop, Who::Staff, "delete from missing_products", &[], true).await,
        "staff deletes a missing product",
    );
    assert_eq!(
        count(
            &admin,
            &format!("select requests::bigint from {s}.missing_products where name = 'Pilas AA'"),
            &[]
        )
        .await,
        2
    );
    let n = exec(&mut c, &shop, Who::Admin, "delete from missing_products", &[], true)
        .await
        .expect("admin deletes");
    assert_eq!(n, 1);

    assert_stock_matches_ledger(&admin, s).await;
}

#[tokio::test]
async fn owner_and_admin_manage_products_categories_units_and_adjust_stock() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;

    for (i, who) in MANAGERS.into_iter().enumerate() {
        let (uid, _) = shop.user(who);
        let n =
            exec(&mut c, &shop, who, &format!("insert into categories (name) values ('Cat {i}')"), &[], true)
                .await
                .unwrap_or_else(|e| panic!("{who:?} creates a category: {}", describe(&e)));
        assert_eq!(n, 1);
        let n = exec(
            &mut c,
            &shop,
            who,
            &format!("insert into units (code, name, divisible) values ('caja{i}', 'Caja {i}', false)"),
            &[],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} creates a unit: {}", describe(&e)));
        assert_eq!(n, 1);
        let rows = query(
            &mut c,
            &shop,
            who,
            &format!(
                "insert into products (sku, barcode, name, category_id, unit_id, price, cost, min_stock)
                 values ('P-{i}', '77900{i}', 'Producto {i}', (select id from categories where name = 'Cat {i}'),
                         (select id from units where code = 'caja{i}'), 12.50, 8, 2)
                 returning id"
            ),
            &[],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} creates a product: {}", describe(&e)));
        let pid: i64 = rows[0].get(0);
        assert_eq!(stock_of(&admin, s, pid).await, Decimal::ZERO, "a new product starts at 0");

        let rows = query(
            &mut c,
            &shop,
            who,
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', 3, 'llegó')
             returning stock_after, user_id, kind",
            &[&pid],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} adjusts stock: {}", describe(&e)));
        assert_eq!(rows[0].get::<_, Decimal>(0), dec("3"), "stock_after");
        assert_eq!(rows[0].get::<_, Option<i64>>(1), Some(uid), "movement user is the context's user");
        assert_eq!(stock_of(&admin, s, pid).await, dec("3"));
        // the adjustment is audited with who did it
        assert_eq!(
            count(
                &admin,
                &format!(
                    "select count(*) from {s}.audit_log
                      where entity = 'stock_movements' and action = 'insert' and user_id = $1
                        and (new_values ->> 'product_id')::bigint = $2 and (new_values ->> 'quantity')::numeric = 3"
                ),
                &[&uid, &pid]
            )
            .await,
            1,
            "{who:?}: one audit row for the adjustment"
        );

        // edit and delete what is unused
        let n = exec(
            &mut c,
            &shop,
            who,
            "update products set name = 'Nuevo nombre', updated_at = now() where id = $1",
            &[&pid],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} renames a product: {}", describe(&e)));
        assert_eq!(n, 1);
        let n = exec(
            &mut c,
            &shop,
            who,
            &format!("update categories set name = 'Categoría {i}' where name = 'Cat {i}'"),
            &[],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} renames a category: {}", describe(&e)));
        assert_eq!(n, 1);
        let n = exec(
            &mut c,
            &shop,
            who,
            &format!("update units set name = 'Cajón {i}', divisible = true where code = 'caja{i}'"),
            &[],
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{who:?} updates a unit: {}", describe(&e)));
        assert_eq!(n, 1);
        let n = exec(
            &mut c,
            &shop,
            who,
            &format!("insert into categories (name) values ('Vacía {i}')"),
            &[],
            true,
        )
        .await
        .expect("empty category");
        assert_eq!(n, 1);
        let n =
            exec(&mut c, &shop, who, &format!("delete from categories where name = 'Vacía {i}'"), &[], true)
                .await
                .unwrap_or_else(|e| panic!("{who:?} deletes a category: {}", describe(&e)));
        assert_eq!(n, 1);
        let n = exec(
            &mut c,
            &shop,
            who,
            &format!("insert into units (code, name) values ('tmp{i}', 'Temporal')"),
            &[],
            true,
        )
        .await
        .expect("temp unit");
        assert_eq!(n, 1);
        let n = exec(&mut c, &shop, who, &format!("delete from units where code = 'tmp{i}'"), &[], true)
            .await
            .unwrap_or_else(|e| panic!("{who:?} deletes a unit: {}", describe(&e)));
        assert_eq!(n, 1);
        // a product with movements cannot be deleted (the ledger keeps it)
        let e = refused(
            exec(&mut c, &shop, who, "delete from products where id = $1", &[&pid], true).await,
            "delete a product with movements",
        );
        assert_eq!(e.code().map(|c| c.code()), Some("23503"), "{}", describe(&e));
        assert_eq!(
            e.as_db_error().and_then(|d| d.constraint()),
            Some("stock_movements_product_id_fkey"),
            "{}",
            describe(&e)
        );
    }
    assert_eq!(count(&admin, &format!("select count(*) from {s}.products"), &[]).await, 2);
    assert_eq!(count(&admin, &format!("select count(*) from {s}.categories"), &[]).await, 2);
    assert_eq!(count(&admin, &format!("select count(*) from {s}.units"), &[]).await, 6);
    assert_eq!(
        count(
            &admin,
            &format!("select count(*) from {s}.units where name like 'Cajón %' and divisible"),
            &[]
        )
        .await,
        2
    );
    assert_stock_matches_ledger(&admin, s).await;
}

// ---------------------------------------------------------------------------------------------
// stock moves only through movements; movements are append-only

#[tokio::test]
async fn nobody_writes_stock_directly_and_movements_are_append_only() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10", 4).await;
    let mid: i64 = admin
        .query_one(&format!("select id from {s}.stock_movements where product_id = $1"), &[&pid])
        .await
        .expect("movement")
        .get(0);

    for who in EVERYONE {
        let cases: Vec<(&str, String)> = vec![
            ("update stock", format!("update products set stock = 100 where id = {pid}")),
            ("update stock relative", format!("update products set stock = stock + 1 where id = {pid}")),
            (
                "update stock with a granted column",
                format!("update products set name = name, stock = 0 where id = {pid}"),
            ),
            (
                "insert with stock",
                "insert into products (sku, name, unit_id, price, stock)
                 values ('S-1', 's', (select id from units where code = 'u'), 1, 50)"
                    .into(),
            ),
            (
                "update movement quantity",
                format!("update stock_movements set quantity = 99 where id = {mid}"),
            ),
            ("update movement reason", format!("update stock_movements set reason = 'x' where id = {mid}")),
            ("delete movement", format!("delete from stock_movements where id = {mid}")),
            ("delete all movements", "delete from stock_movements".into()),
            ("truncate movements", "truncate stock_movements".into()),
        ];
        for (what, sql) in &cases {
            assert_denied(exec(&mut c, &shop, who, sql, &[], true).await, &format!("{who:?}: {what}"));
        }
    }

    // even a role that holds every privilege (the superuser) cannot rewrite the ledger: the
    // append-only trigger refuses with 42501
    for sql in [
        format!("update {s}.stock_movements set quantity = 99 where id = {mid}"),
        format!("delete from {s}.stock_movements where id = {mid}"),
        format!("truncate {s}.stock_movements"),
    ] {
        let e = assert_denied(admin.execute(&sql, &[]).await, &format!("superuser: {sql}"));
        assert!(
            e.as_db_error().is_some_and(|d| d.message().contains("append-only")),
            "{sql}: refused by the append-only trigger, got {}",
            describe(&e)
        );
    }

    assert_eq!(stock_of(&admin, s, pid).await, dec("4"));
    assert_eq!(count(&admin, &format!("select count(*) from {s}.products"), &[]).await, 1);
    let m = admin
        .query_one(&format!("select quantity, reason from {s}.stock_movements where id = $1"), &[&mid])
        .await
        .expect("movement kept");
    assert_eq!(m.get::<_, Decimal>(0), dec("4"));
    assert_eq!(m.get::<_, String>(1), "");
    assert_stock_matches_ledger(&admin, s).await;
}

#[tokio::test]
async fn managers_post_only_manual_movement_kinds() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10", 50).await;

    for who in MANAGERS {
        for (kind, qty) in [("sale", -1), ("purchase", 5), ("return", 1), ("void", 1)] {
            let q = Decimal::from(qty);
            let e = assert_denied(
                exec(
                    &mut c,
                    &shop,
                    who,
                    "insert into stock_movements (product_id, kind, quantity) values ($1, $2, $3)",
                    &[&pid, &kind, &q],
                    true,
                )
                .await,
                &format!("{who:?} posts a {kind} movement"),
            );
            assert!(
                e.as_db_error().is_some_and(|d| d.message().contains("row-level security")),
                "{who:?} {kind}: refused by the row policy, got {}",
                describe(&e)
            );
        }
    }
    assert_eq!(stock_of(&admin, s, pid).await, dec("50"), "refused movements move nothing");
    assert_eq!(count(&admin, &format!("select count(*) from {s}.stock_movements"), &[]).await, 1);

    // the manual kinds are allowed
    for who in MANAGERS {
        for (kind, qty) in [("opening", 1), ("adjustment", -2), ("import", 3)] {
            let q = Decimal::from(qty);
            let n = exec(
                &mut c,
                &shop,
                who,
                "insert into stock_movements (product_id, kind, quantity) values ($1, $2, $3)",
                &[&pid, &kind, &q],
                true,
            )
            .await
            .unwrap_or_else(|e| panic!("{who:?} {kind}: {}", describe(&e)));
            assert_eq!(n, 1);
        }
    }
    assert_eq!(stock_of(&admin, s, pid).await, dec("54"));
    assert_stock_matches_ledger(&admin, s).await;
}

// ---------------------------------------------------------------------------------------------
// the movement trigger

#[tokio::test]
async fn stock_cannot_go_below_zero_unless_the_shop_allows_it() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10", 2).await;
    let adjust =
        "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, 'x')";

    for who in MANAGERS {
        assert_not_negative(exec(&mut c, &shop, who, adjust, &[&pid, &dec("-3")], true).await, "2 - 3");
        assert_not_negative(
            exec(&mut c, &shop, who, adjust, &[&pid, &dec("-2.001")], true).await,
            "2 - 2.001",
        );
    }
    // opening and import movements obey the same rule
    assert_not_negative(
        exec(
            &mut c,
            &shop,
            Who::Admin,
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'import', -5)",
            &[&pid],
            true,
        )
        .await,
        "import -5",
    );
    assert_eq!(stock_of(&admin, s, pid).await, dec("2"));
    assert_eq!(count(&admin, &format!("select count(*) from {s}.stock_movements"), &[]).await, 1);

    // exactly to zero is fine
    let rows = query(
        &mut c,
        &shop,
        Who::Admin,
        &format!("{adjust} returning stock_after"),
        &[&pid, &dec("-2")],
        true,
    )
    .await
    .expect("down to zero");
    assert_eq!(rows[0].get::<_, Decimal>(0), Decimal::ZERO);
    assert_not_negative(exec(&mut c, &shop, Who::Admin, adjust, &[&pid, &dec("-1")], true).await, "0 - 1");

    // only the owner changes the setting
    assert_denied(
        exec(&mut c, &shop, Who::Admin, "update settings set allow_negative_stock = true", &[], true).await,
        "admin allows negative stock",
    );
    assert_denied(
        exec(&mut c, &shop, Who::Staff, "update settings set allow_negative_stock = true", &[], true).await,
        "staff allows negative stock",
    );
    let n = exec(&mut c, &shop, Who::Owner, "update settings set allow_negative_stock = true", &[], true)
        .await
        .expect("owner allows negative stock");
    assert_eq!(n, 1);

    let rows = query(
        &mut c,
        &shop,
        Who::Admin,
        &format!("{adjust} returning stock_after"),
        &[&pid, &dec("-5")],
        true,
    )
    .await
    .unwrap_or_else(|e| panic!("negative allowed now: {}", describe(&e)));
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("-5"));
    assert_eq!(stock_of(&admin, s, pid).await, dec("-5"));

    // and back off again
    exec(&mut c, &shop, Who::Owner, "update settings set allow_negative_stock = false", &[], true)
        .await
        .expect("owner disallows");
    assert_not_negative(exec(&mut c, &shop, Who::Admin, adjust, &[&pid, &dec("-1")], true).await, "-5 - 1");
    assert_eq!(stock_of(&admin, s, pid).await, dec("-5"));
    assert_stock_matches_ledger(&admin, s).await;
}

/// Stock left negative (the shop allowed it for a while) must be able to come back up: a
/// movement that raises stock does not take it below zero, so the rule does not apply to it.
#[tokio::test]
async fn stock_that_is_already_negative_can_still_be_raised() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10", 0).await;
    let adjust =
        "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, 'x')";
    exec(&mut c, &shop, Who::Owner, "update settings set allow_negative_stock = true", &[], true)
        .await
        .expect("owner allows negative stock");
    exec(&mut c, &shop, Who::Admin, adjust, &[&pid, &dec("-5")], true).await.expect("down to -5");
    exec(&mut c, &shop, Who::Owner, "update settings set allow_negative_stock = false", &[], true)
        .await
        .expect("owner disallows negative stock again");

    // lowering further is refused...
    assert_not_negative(exec(&mut c, &shop, Who::Admin, adjust, &[&pid, &dec("-1")], true).await, "-5 - 1");
    // ...but a movement that raises the stock (a count, a delivery) is not
    let r = exec(&mut c, &shop, Who::Admin, adjust, &[&pid, &dec("1")], true).await;
    assert_eq!(
        r.as_ref().map_err(describe),
        Ok(&1),
        "raising stock from -5 to -4 must not be refused as 'going below zero'"
    );
    assert_eq!(stock_of(&admin, s, pid).await, dec("-4"));
    assert_stock_matches_ledger(&admin, s).await;
}

#[tokio::test]
async fn an_untracked_product_takes_no_movement() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let rows = query(
        &mut c,
        &shop,
        Who::Admin,
        "insert into products (sku, name, unit_id, price, track_stock)
         values ('SERV', 'Servicio', (select id from units where code = 'u'), 100, false) returning id",
        &[],
        true,
    )
    .await
    .expect("service");
    let pid: i64 = rows[0].get(0);
    let e = assert_sqlstate(
        exec(
            &mut c,
            &shop,
            Who::Admin,
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', 1, 'x')",
            &[&pid],
            true,
        )
        .await,
        "23514",
        "adjust an untracked product",
    );
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("stock_movements_untracked"));
    assert_eq!(count(&admin, &format!("select count(*) from {s}.stock_movements"), &[]).await, 0);
    assert_eq!(stock_of(&admin, s, pid).await, Decimal::ZERO);
    assert_stock_matches_ledger(&admin, s).await;
}

#[tokio::test]
async fn a_stocktake_posts_the_difference_from_the_counted_quantity() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10", 7).await;
    let take = "insert into stock_movements (product_id, kind, quantity, counted, reason)
                values ($1, 'stocktake', $2, $3, 'conteo') returning quantity, stock_after, counted, user_id";

    // counted 4 of 7: quantity -3 (the placeholder quantity is replaced)
    let rows = query(&mut c, &shop, Who::Admin, take, &[&pid, &dec("999"), &dec("4")], true)
        .await
        .unwrap_or_else(|e| panic!("stocktake: {}", describe(&e)));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("-3"), "quantity = counted - stock");
    assert_eq!(rows[0].get::<_, Decimal>(1), dec("4"), "stock_after");
    assert_eq!(rows[0].get::<_, Option<Decimal>>(2), Some(dec("4")));
    assert_eq!(rows[0].get::<_, Option<i64>>(3), Some(shop.admin));
    assert_eq!(stock_of(&admin, s, pid).await, dec("4"));

    // counted equal to the stock posts nothing
    let n = exec(
        &mut c,
        &shop,
        Who::Owner,
        take.split(" returning").next().expect("sql"),
        &[&pid, &dec("1"), &dec("4")],
        true,
    )
    .await
    .expect("equal count");
    assert_eq!(n, 0, "no row for an unchanged count");
    assert_eq!(
        count(&admin, &format!("select count(*) from {s}.stock_movements where kind = 'stocktake'"), &[])
            .await,
        1
    );

    // counting up
    let rows =
        query(&mut c, &shop, Who::Owner, take, &[&pid, &dec("1"), &dec("10")], true).await.expect("count up");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("6"));
    assert_eq!(rows[0].get::<_, Decimal>(1), dec("10"));
    assert_eq!(stock_of(&admin, s, pid).await, dec("10"));

    // counted zero empties the shelf even without allow_negative_stock
    let rows = query(&mut c, &shop, Who::Admin, take, &[&pid, &dec("1"), &dec("0")], true)
        .await
        .expect("count zero");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("-10"));
    assert_eq!(stock_of(&admin, s, pid).await, Decimal::ZERO);

    // a stocktake needs the counted quantity; a negative count is refused
    assert_sqlstate(
        exec(
            &mut c,
            &shop,
            Who::Admin,
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'stocktake', 5)",
            &[&pid],
            true,
        )
        .await,
        "23502",
        "stocktake without counted",
    );
    assert_sqlstate(
        exec(
            &mut c,
            &shop,
            Who::Admin,
            take.split(" returning").next().expect("sql"),
            &[&pid, &dec("1"), &dec("-1")],
            true,
        )
        .await,
        "23514",
        "negative count",
    );

    // each posted stocktake is audited
    assert_eq!(
        count(
            &admin,
            &format!("select count(*) from {s}.audit_log where entity = 'stock_movements' and new_values ->> 'kind' = 'stocktake'"),
            &[]
        )
        .await,
        3
    );
    assert_eq!(
        count(&admin, &format!("select count(*) from {s}.stock_movements where kind = 'stocktake'"), &[])
            .await,
        3
    );
    assert_stock_matches_ledger(&admin, s).await;
}

// ---------------------------------------------------------------------------------------------
// price audit

#[tokio::test]
async fn a_price_change_is_audited_once_with_who_changed_it() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let shop = Shop::new(&db, "Kiosco", "k").await;
    let s = &shop.schema;
    let pid = product(&mut c, &shop, "A-1", "10.00", 0).await;
    let audits = format!("select count(*) from {s}.audit_log where entity = 'products'");
    assert_eq!(count(&admin, &audits, &[]).await, 0);

    let n = exec(&mut c, &shop, Who::Admin, "update products set price = 12.50 where id = $1", &[&pid], true)
        .await
        .expect("price change");
    assert_eq!(n, 1);
    let rows = admin
        .query(
            &format!(
                "select user_id, action, entity_id, (old_values ->> 'price')::numeric, (new_values ->> 'price')::numeric,
                        old_values ? 'name', new_values ? 'cost'
                   from {s}.audit_log where entity = 'products'"
            ),
            &[],
        )
        .await
        .expect("audit rows");
    assert_eq!(rows.len(), 1, "exactly one audit row for one price change");
    let r = &rows[0];
    assert_eq!(r.get::<_, Option<i64>>(0), Some(shop.admin), "user from app.user_id");
    assert_eq!(r.get::<_, String>(1), "update");
    assert_eq!(r.get::<_, Option<String>>(2), Some(pid.to_string()));
    assert_eq!(r.get::<_, Option<Decimal>>(3), Some(dec("10.00")), "old price");
    assert_eq!(r.get::<_, Option<Decimal>>(4), Some(dec("12.50")), "new price");
    assert!(!r.get::<_, bool>(5), "unchanged fields are not logged");
    assert!(!r.get::<_, bool>(6), "unchanged fields are not logged");

    // only the name: nothing
    exec(&mut c, &shop, Who::Admin, "update products set name = 'Otro' where id = $1", &[&pid], true)
        .await
        .expect("rename");
    // the same price written again (as the edit form does): nothing
    exec(
        &mut c,
        &shop,
        Who::Owner,
        "update products set price = 12.50, cost = 0, name = 'Otro más', updated_at = now() where id = $1",
        &[&pid],
        true,
    )
    .await
    .expect("same price");
    assert_eq!(count(&admin, &audits, &[]).await, 1);

    // a cost change by the owner: one more, with the owner's id
    exec(&mut c, &shop, Who::Owner, "update products set cost = 7 where id = $1", &[&pid], true)
        .await
        .expect("cost change");
    assert_eq!(count(&admin, &audits, &[]).await, 2);
    assert_eq!(
        count(
            &admin,
            &format!(
                "select count(*) from {s}.audit_log where entity = 'products' and user_id = $1
                   and (old_values ->> 'cost')::numeric = 0 and (new_values ->> 'cost')::numeric = 7"
            ),
            &[&shop.owner]
        )
        .await,
        1
    );
    // a refused change leaves no audit row
    assert_denied(
        exec(&mut c, &shop, Who::Staff, "update products set price = 1 where id = $1", &[&pid], true).await,
        "staff price change",
    );
    assert_eq!(count(&admin, &audits, &[]).await, 2);
    // nobody writes or rewrites the audit log by hand
    for who in EVERYONE {
        assert_denied(
            exec(
                &mut c,
                &shop,
                who,
                "insert into audit_log (action, entity) values ('update', 'products')",
                &[],
                true,
            )
            .await,
            &format!("{who:?} forges an audit row"),
        );
        assert_denied(
            exec(&mut c, &shop, who, "delete from audit_log", &[], true).await,
            &format!("{who:?} deletes audit rows"),
        );
    }
    assert_eq!(count(&admin, &audits, &[]).await, 2);
    assert_stock_matches_ledger(&admin, s).await;
}

// ---------------------------------------------------------------------------------------------
// shops are isolated

#[tokio::test]
async fn one_shop_cannot_see_or_move_another_shops_stock() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let a = Shop::new(&db, "Kiosco A", "a").await;
    let b = Shop::new(&db, "Kiosco B", "b").await;
    let (sa, sb) = (&a.schema, &b.schema);
    let pa = product(&mut c, &a, "A-1", "10", 3).await;
    // ids are per schema: give B's product an id that A does not have
    product(&mut c, &b, "B-0", "20", 0).await;
    let pb = product(&mut c, &b, "B-1", "20", 5).await;
    assert_ne!(pa, pb);

    for who in EVERYONE {
        for table in ["products", "stock_movements", "categories", "units", "missing_products"] {
            let rows = query(&mut c, &a, who, &format!("select count(*) from {sb}.{table}"), &[], false)
                .await
                .unwrap_or_else(|e| panic!("{who:?} reads {sb}.{table}: {}", describe(&e)));
            assert_eq!(rows[0].get::<_, i64>(0), 0, "{who:?} in shop A sees rows of {sb}.{table}");
        }
        let rows =
            query(&mut c, &a, who, &format!("select stock from {sb}.products where id = $1"), &[&pb], false)
                .await
                .expect("read by id");
        assert!(rows.is_empty(), "{who:?}: B's product by id");
    }

    for who in MANAGERS {
        // writes to B's catalog touch nothing
        let n = exec(
            &mut c,
            &a,
            who,
            &format!("update {sb}.products set price = 1, name = 'x' where id = $1"),
            &[&pb],
            true,
        )
        .await
        .expect("update is filtered");
        assert_eq!(n, 0, "{who:?} updated B's product");
        let n = exec(&mut c, &a, who, &format!("delete from {sb}.units where code = 'm'"), &[], true)
            .await
            .expect("delete is filtered");
        assert_eq!(n, 0, "{who:?} deleted B's unit");
        // a category inserted into B's schema from A's context is refused by B's row policy
        assert_denied(
            exec(
                &mut c,
                &a,
                who,
                &format!("insert into {sb}.categories (name) values ('intrusa')"),
                &[],
                true,
            )
            .await,
            &format!("{who:?} inserts a category into B"),
        );
        // a movement for B's product in B's ledger is refused, whatever its quantity: no error
        // tells A anything about B's stock
        for qty in ["1", "-1", "-1000000"] {
            let e = refused(
                exec(
                    &mut c,
                    &a,
                    who,
                    &format!("insert into {sb}.stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, 'x')"),
                    &[&pb, &dec(qty)],
                    true,
                )
                .await,
                &format!("{who:?} adjusts B's product by {qty}"),
            );
            let code = e.code().map(|c| c.code().to_string());
            assert!(
                code.as_deref() == Some("42501") || code.as_deref() == Some("23503"),
                "{who:?} {qty}: expected a permission or not-found refusal, got {}",
                describe(&e)
            );
            let text = describe(&e);
            assert!(
                !text.contains("available") && !text.contains("detail Some(\"5"),
                "leaks B's stock: {text}"
            );
        }
        // a stocktake that guesses B's stock exactly must not be told apart from a wrong guess
        let r = exec(
            &mut c,
            &a,
            who,
            &format!("insert into {sb}.stock_movements (product_id, kind, quantity, counted) values ($1, 'stocktake', 1, 5)"),
            &[&pb],
            true,
        )
        .await;
        refused(r, &format!("{who:?} stocktakes B's product with its exact stock"));
        // and B's product id in A's own ledger is unknown there
        let e = refused(
            exec(
                &mut c,
                &a,
                who,
                "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', 1, 'x')",
                &[&pb],
                true,
            )
            .await,
            "B's product id in A's ledger",
        );
        assert_eq!(e.code().map(|c| c.code()), Some("23503"), "{}", describe(&e));
    }

    assert_eq!(stock_of(&admin, sb, pb).await, dec("5"));
    assert_eq!(stock_of(&admin, sa, pa).await, dec("3"));
    assert_eq!(count(&admin, &format!("select count(*) from {sb}.stock_movements"), &[]).await, 1);
    assert_eq!(count(&admin, &format!("select count(*) from {sa}.stock_movements"), &[]).await, 1);
    assert_eq!(count(&admin, &format!("select count(*) from {sb}.categories"), &[]).await, 0);
    assert_eq!(count(&admin, &format!("select count(*) from {sb}.units"), &[]).await, 4);
    let name: String = admin
        .query_one(&format!("select name from {sb}.products where id = $1"), &[&pb])
        .await
        .expect("b product")
        .get(0);
    assert_eq!(name, "B-1");
    assert_stock_matches_ledger(&admin, sa).await;
    assert_stock_matches_ledger(&admin, sb).await;
}
