//! Customer accounts enforced by PostgreSQL, exercised as the web app's login role in a shop's
//! request context (exactly as the app sets it): staff record customers but never delete them nor
//! write account entries; payments cannot exceed what is owed; the final consumer has no account
//! and is kept; a customer with history cannot be deleted; the domain's payment writes both
//! ledgers in one transaction; the counter's search. Every scenario ends by checking that each
//! customer's balance equals the sum of its account entries.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use stock::domain::catalog::WriteError;
use stock::domain::customers::{self, AccountEntry, PaymentMethod};
use stock::i18n::Locale;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row};

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

#[track_caller]
fn assert_sqlstate<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, what: &str) -> Error {
    let e = match r {
        Ok(v) => panic!("{what}: expected a refusal, but it succeeded: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(e.code().map(|c| c.code()), Some(code), "{what}: got {}", describe(&e));
    e
}

#[track_caller]
fn assert_constraint<T: std::fmt::Debug>(
    r: Result<T, Error>,
    code: &str,
    constraint: &str,
    what: &str,
) -> Error {
    let e = assert_sqlstate(r, code, what);
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some(constraint), "{what}: {}", describe(&e));
    e
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Staff,
}

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

/// Runs one statement as `who` in the shop's context in a transaction of its own; commits it when
/// it succeeded and `commit` is set, rolls it back otherwise.
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

async fn new_customer(c: &mut Client, shop: &Shop, who: Who, name: &str) -> i64 {
    query(c, shop, who, "insert into customers (name) values ($1) returning id", &[&name], true)
        .await
        .unwrap_or_else(|e| panic!("create customer {name}: {}", describe(&e)))[0]
        .get(0)
}

async fn final_consumer(admin: &Client, shop: &Shop) -> i64 {
    admin
        .query_one(&format!("select id from {}.customers where is_final_consumer", shop.schema), &[])
        .await
        .expect("final consumer")
        .get(0)
}

async fn balance(admin: &Client, shop: &Shop, id: i64) -> Decimal {
    admin
        .query_one(&format!("select balance from {}.customers where id = $1", shop.schema), &[&id])
        .await
        .expect("balance")
        .get(0)
}

async fn count(admin: &Client, sql: &str, params: Params<'_>) -> i64 {
    admin.query_one(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// For every customer, balance = the sum of its account entries (0 without any), and each entry's
/// balance_after is the running sum.
async fn assert_balances_match_ledger(admin: &Client, schema: &str) {
    let rows = admin
        .query(
            &format!(
                "select c.id, c.name, c.balance, coalesce(sum(l.amount), 0)
                   from {schema}.customers c left join {schema}.customer_ledger l on l.customer_id = c.id
                  group by c.id having c.balance <> coalesce(sum(l.amount), 0)"
            ),
            &[],
        )
        .await
        .expect("ledger check");
    let bad: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "customer {} ({}): balance {} but entries sum to {}",
                r.get::<_, i64>(0),
                r.get::<_, String>(1),
                r.get::<_, Decimal>(2),
                r.get::<_, Decimal>(3)
            )
        })
        .collect();
    assert!(bad.is_empty(), "balance differs from the ledger in {schema}: {bad:#?}");
    let running: i64 = count(
        admin,
        &format!(
            "select count(*) from (select balance_after, sum(amount) over (partition by customer_id order by id) s
                                     from {schema}.customer_ledger) x where balance_after <> s"
        ),
        &[],
    )
    .await;
    assert_eq!(running, 0, "balance_after is not the running sum in {schema}");
}

/// A completed sale of `amount` for `customer`, paid on account, recorded by the owner as the app
/// would: a service (no stock) line, lines = payments = total.
async fn sale_on_account(c: &mut Client, shop: &Shop, customer: i64, amount: &str) -> i64 {
    let amount = dec(amount);
    let tx = c.transaction().await.expect("begin");
    let (uid, role) = shop.user(Who::Owner);
    set_ctx(&tx, Some(shop.id), Some(uid), &role).await;
    let product: i64 = tx
        .query_one(
            "insert into products (sku, name, unit_id, price, track_stock)
             values ('SRV-' || (select count(*) + 1 from products), 'Servicio', (select id from units where code = 'u'), $1, false)
             returning id",
            &[&amount],
        )
        .await
        .unwrap_or_else(|e| panic!("product: {}", describe(&e)))
        .get(0);
    let sale: i64 = tx
        .query_one(
            "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
             values (gen_random_uuid(), $1, app.current_user_id(), $2, $2, 0) returning id",
            &[&customer, &amount],
        )
        .await
        .unwrap_or_else(|e| panic!("sale: {}", describe(&e)))
        .get(0);
    tx.execute(
        "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
         values ($1, 1, $2, 'Servicio', 1, $3, 0, $3)",
        &[&sale, &product, &amount],
    )
    .await
    .unwrap_or_else(|e| panic!("line: {}", describe(&e)));
    tx.execute(
        "insert into sale_payments (sale_id, method, amount) values ($1, 'account', $2)",
        &[&sale, &amount],
    )
    .await
    .unwrap_or_else(|e| panic!("payment: {}", describe(&e)));
    tx.commit().await.unwrap_or_else(|e| panic!("sale commit: {}", describe(&e)));
    sale
}

#[tokio::test]
async fn staff_records_customers_but_never_deletes_them_nor_writes_the_account() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let id = new_customer(&mut c, &shop, Who::Staff, "Cliente de mostrador").await;
    query(&mut c, &shop, Who::Staff, "update customers set phone = '555' where id = $1", &[&id], true)
        .await
        .expect("staff edits a customer");
    query(&mut c, &shop, Who::Staff, "update customers set active = false where id = $1", &[&id], false)
        .await
        .expect("staff deactivates a customer");

    let r = query(&mut c, &shop, Who::Staff, "delete from customers where id = $1", &[&id], false).await;
    assert_sqlstate(r, "42501", "staff deletes a customer");
    for kind in ["opening", "payment"] {
        let amount = if kind == "payment" { dec("-1") } else { dec("10") };
        let r = query(
            &mut c,
            &shop,
            Who::Staff,
            "insert into customer_ledger (customer_id, kind, amount) values ($1, $2, $3)",
            &[&id, &kind, &amount],
            false,
        )
        .await;
        assert_sqlstate(r, "42501", &format!("staff inserts a {kind} entry"));
    }
    let r = query(
        &mut c,
        &shop,
        Who::Staff,
        "insert into money_ledger (kind, method, amount, customer_id) values ('customer_payment', 'cash', 5, $1)",
        &[&id],
        false,
    )
    .await;
    assert_sqlstate(r, "42501", "staff writes the money ledger");
    // the balance is never written directly, not even by the owner
    for who in [Who::Staff, Who::Owner] {
        let r =
            query(&mut c, &shop, who, "update customers set balance = 0 where id = $1", &[&id], false).await;
        assert_sqlstate(r, "42501", &format!("{who:?} writes the balance"));
    }
    // only opening balances and payments are entered by hand
    let r = query(
        &mut c,
        &shop,
        Who::Owner,
        "insert into customer_ledger (customer_id, kind, amount) values ($1, 'sale', 10)",
        &[&id],
        false,
    )
    .await;
    assert_sqlstate(r, "42501", "owner inserts a sale entry by hand");
    assert_eq!(
        count(&admin, &format!("select count(*) from {}.customers where id = $1", shop.schema), &[&id]).await,
        1
    );
    assert_eq!(count(&admin, &format!("select count(*) from {}.customer_ledger", shop.schema), &[]).await, 0);
    assert_balances_match_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn payments_never_exceed_what_is_owed() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let id = new_customer(&mut c, &shop, Who::Admin, "Deudor").await;
    let ins = "insert into customer_ledger (customer_id, kind, amount, note) values ($1, $2, $3, '') returning balance_after";

    // nothing owed: any payment is too much
    let r = query(&mut c, &shop, Who::Owner, ins, &[&id, &"payment", &dec("-0.01")], false).await;
    let e = assert_constraint(r, "23514", "customer_payment_exceeds_debt", "payment with nothing owed");
    assert_eq!(e.as_db_error().and_then(|d| d.detail()), Some("0.00"));

    let rows =
        query(&mut c, &shop, Who::Owner, ins, &[&id, &"opening", &dec("100")], true).await.expect("opening");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("100"));
    assert_balances_match_ledger(&admin, &shop.schema).await;
    sale_on_account(&mut c, &shop, id, "25.50").await;
    assert_eq!(balance(&admin, &shop, id).await, dec("125.50"));

    let r = query(&mut c, &shop, Who::Owner, ins, &[&id, &"payment", &dec("-125.51")], false).await;
    let e = assert_constraint(r, "23514", "customer_payment_exceeds_debt", "payment above the debt");
    assert_eq!(e.as_db_error().and_then(|d| d.detail()), Some("125.50"), "detail carries the balance");
    assert_eq!(balance(&admin, &shop, id).await, dec("125.50"));

    let rows = query(&mut c, &shop, Who::Admin, ins, &[&id, &"payment", &dec("-25.50")], true)
        .await
        .expect("payment");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("100"));
    let rows = query(&mut c, &shop, Who::Owner, ins, &[&id, &"payment", &dec("-100")], true)
        .await
        .expect("pays it all");
    assert_eq!(rows[0].get::<_, Decimal>(0), dec("0"));
    assert_eq!(balance(&admin, &shop, id).await, dec("0"));
    assert_balances_match_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn the_final_consumer_has_no_account_and_is_kept() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let fc = final_consumer(&admin, &shop).await;
    for (kind, amount) in [("opening", "10"), ("payment", "-10")] {
        let r = query(
            &mut c,
            &shop,
            Who::Owner,
            "insert into customer_ledger (customer_id, kind, amount) values ($1, $2, $3)",
            &[&fc, &kind, &dec(amount)],
            false,
        )
        .await;
        assert_constraint(
            r,
            "23514",
            "customer_ledger_final_consumer",
            &format!("{kind} for the final consumer"),
        );
    }
    let r = query(&mut c, &shop, Who::Owner, "delete from customers where id = $1", &[&fc], false).await;
    assert_constraint(r, "23514", "customers_final_consumer_kept", "delete the final consumer");
    assert_eq!(
        count(
            &admin,
            &format!("select count(*) from {}.customers where is_final_consumer", shop.schema),
            &[]
        )
        .await,
        1
    );
    assert_balances_match_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn a_customer_with_history_cannot_be_deleted() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let with_sale = new_customer(&mut c, &shop, Who::Staff, "Con venta").await;
    let with_opening = new_customer(&mut c, &shop, Who::Staff, "Con saldo inicial").await;
    let without = new_customer(&mut c, &shop, Who::Staff, "Sin historia").await;
    sale_on_account(&mut c, &shop, with_sale, "40").await;
    query(
        &mut c,
        &shop,
        Who::Owner,
        "insert into customer_ledger (customer_id, kind, amount) values ($1, 'opening', 5)",
        &[&with_opening],
        true,
    )
    .await
    .expect("opening");
    for id in [with_sale, with_opening] {
        let r = query(&mut c, &shop, Who::Owner, "delete from customers where id = $1", &[&id], false).await;
        assert_sqlstate(r, "23503", &format!("delete customer {id} with history"));
    }
    let rows = query(
        &mut c,
        &shop,
        Who::Admin,
        "delete from customers where id = $1 returning id",
        &[&without],
        true,
    )
    .await
    .expect("delete a customer without history");
    assert_eq!(rows.len(), 1);
    assert_eq!(count(&admin, &format!("select count(*) from {}.customers", shop.schema), &[]).await, 3);
    assert_eq!(balance(&admin, &shop, with_sale).await, dec("40"));
    assert_balances_match_ledger(&admin, &shop.schema).await;
}

/// The domain's functions through the app's own pool, as the app runs them.
#[tokio::test]
async fn recording_a_payment_writes_both_ledgers_or_neither() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;
    let id = new_customer(&mut c, &shop, Who::Staff, "Pagador").await;
    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let mut obj = pool.get().await.expect("conn");
    let (uid, role) = shop.user(Who::Owner);
    let entry = |amount: &str, note: &str| AccountEntry::parse(amount, note, Locale::Es).expect("entry");

    // an opening balance, only as the first entry
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    assert!(customers::record_opening(&tx, id, &entry("80", "saldo 2023")).await.is_ok());
    tx.commit().await.expect("commit");
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    match customers::record_opening(&tx, id, &entry("5", "")).await {
        Err(WriteError::Field(e)) => assert_eq!(e, vec![("amount", "customer.error_opening_not_first")]),
        _ => panic!("a second opening balance was accepted"),
    }
    drop(tx);

    // above the debt: refused, and neither ledger has anything
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    match customers::record_payment(&tx, id, PaymentMethod::Cash, &entry("80,01", "")).await {
        Err(WriteError::Field(e)) => assert_eq!(e, vec![("amount", "payment.error_exceeds_debt")]),
        _ => panic!("a payment above the debt was accepted"),
    }
    tx.rollback().await.expect("rollback");
    let money = format!("select count(*) from {}.money_ledger", shop.schema);
    assert_eq!(count(&admin, &money, &[]).await, 0);

    // a payment: the account goes down, the money ledger gets the income, both or neither
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    let left = customers::record_payment(&tx, id, PaymentMethod::Card, &entry("30,25", "")).await;
    assert!(matches!(left, Ok(b) if b == dec("49.75")), "balance left");
    tx.rollback().await.expect("rollback");
    assert_eq!(count(&admin, &money, &[]).await, 0, "rolled back: no income");
    assert_eq!(balance(&admin, &shop, id).await, dec("80"), "rolled back: still owed");

    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    assert!(customers::record_payment(&tx, id, PaymentMethod::Card, &entry("30,25", "")).await.is_ok());
    tx.commit().await.expect("commit");
    let row = admin
        .query_one(
            &format!(
                "select kind, method, amount, customer_id, description, user_id from {}.money_ledger",
                shop.schema
            ),
            &[],
        )
        .await
        .expect("income row");
    assert_eq!(row.get::<_, String>(0), "customer_payment");
    assert_eq!(row.get::<_, String>(1), "card");
    assert_eq!(row.get::<_, Decimal>(2), dec("30.25"));
    assert_eq!(row.get::<_, Option<i64>>(3), Some(id));
    assert_eq!(row.get::<_, String>(4), "Pagador", "described by the customer's name when no note");
    assert_eq!(row.get::<_, Option<i64>>(5), Some(uid));
    let entry_row = admin
        .query_one(
            &format!(
                "select amount, balance_after, user_id from {}.customer_ledger where kind = 'payment'",
                shop.schema
            ),
            &[],
        )
        .await
        .expect("payment entry");
    assert_eq!(entry_row.get::<_, Decimal>(0), dec("-30.25"));
    assert_eq!(entry_row.get::<_, Decimal>(1), dec("49.75"));
    assert_eq!(entry_row.get::<_, Option<i64>>(2), Some(uid));

    // staff through the same functions: refused by the database
    let (sid, srole) = shop.user(Who::Staff);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(sid), &srole).await;
    match customers::record_payment(&tx, id, PaymentMethod::Cash, &entry("1", "")).await {
        Err(WriteError::Other(stock::error::AppError::Forbidden)) => {}
        _ => panic!("staff recorded a payment"),
    }
    drop(tx);
    assert_eq!(balance(&admin, &shop, id).await, dec("49.75"));
    assert_balances_match_ledger(&admin, &shop.schema).await;
}

#[tokio::test]
async fn the_counter_search_finds_active_customers_by_name_or_tax_id() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Almacén", "a").await;
    let other = Shop::new(&db, "Otro", "b").await;
    let mut c = db.app_login().await;
    let garcia = new_customer(&mut c, &shop, Who::Staff, "José García").await;
    let garcilaso = new_customer(&mut c, &shop, Who::Staff, "Librería Garcilaso").await;
    let gone = new_customer(&mut c, &shop, Who::Staff, "García Inactivo").await;
    let alibaba = new_customer(&mut c, &shop, Who::Staff, "Alibaba").await;
    query(
        &mut c,
        &shop,
        Who::Staff,
        "update customers set tax_id = '20-12345678-3' where id = $1",
        &[&garcia],
        true,
    )
    .await
    .expect("tax id");
    query(&mut c, &shop, Who::Staff, "update customers set active = false where id = $1", &[&gone], true)
        .await
        .expect("deactivate");
    new_customer(&mut c, &other, Who::Staff, "García de otro negocio").await;

    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let mut obj = pool.get().await.expect("conn");
    let (uid, role) = shop.user(Who::Staff);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(uid), &role).await;
    let ids = |hits: Vec<customers::Hit>| hits.into_iter().map(|h| h.0).collect::<Vec<_>>();
    assert_eq!(ids(customers::search(&tx, "garci", 10).await.expect("search")), vec![garcia, garcilaso]);
    assert_eq!(
        ids(customers::search(&tx, "lib", 10).await.expect("search")),
        vec![garcilaso, alibaba],
        "prefix first"
    );
    assert_eq!(ids(customers::search(&tx, "GARCÍ", 1).await.expect("search")), vec![garcia], "limit");
    assert_eq!(ids(customers::search(&tx, "20123456783", 10).await.expect("search")), vec![garcia]);
    assert_eq!(ids(customers::search(&tx, "20-1234", 10).await.expect("search")), vec![garcia]);
    assert_eq!(ids(customers::search(&tx, "laso", 10).await.expect("search")), vec![garcilaso]);
    assert!(customers::search(&tx, "otro negocio", 10).await.expect("search").is_empty());
    assert!(customers::search(&tx, "  ", 10).await.expect("search").is_empty());
    assert!(customers::search(&tx, "%", 10).await.expect("search").is_empty(), "% is a character");
    let hit = customers::search(&tx, "josé", 10).await.expect("search").remove(0);
    assert_eq!(hit, (garcia, "José García".to_string(), "20-12345678-3".to_string(), dec("0")));
}
