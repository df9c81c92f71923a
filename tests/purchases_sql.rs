//! Suppliers and purchase invoices enforced by PostgreSQL, exercised as the web app's login role in
//! a shop's request context (exactly as the app sets it): receiving posts 'purchase' movements
//! (none for untracked products) and weighted-average costs; received invoices and their lines
//! never change; payments post one money_ledger row each, negative like every outgoing, and are
//! refused at or below zero or beyond what is owed, even when two arrive at once; corrections
//! move stock back and lower what is owed; duplicate numbers per supplier and other shops'
//! products are refused; staff and wrong or missing contexts see nothing.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use tokio_postgres::{Client, Error};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {} (constraint {:?})", d.code().code(), d.message(), d.constraint()),
        None => format!("{e:?}"),
    }
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, constraint: Option<&str>, what: &str) {
    let e = match r {
        Ok(v) => panic!("{what}: expected a refusal, but it succeeded: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(e.code().map(|c| c.code()), Some(code), "{what}: got {}", describe(&e));
    if let Some(c) = constraint {
        assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some(c), "{what}: {}", describe(&e));
    }
}

/// (kind, method, amount, invoice, user) of a money_ledger row.
type LedgerRow = (String, String, Decimal, Option<i64>, Option<i64>);

struct Shop {
    id: i64,
    schema: String,
    owner: i64,
    admin: i64,
    staff: i64,
    supplier: i64,
    /// (tracked product with 10 units at cost 100, tracked product with -4 units at cost 50,
    /// untracked service)
    products: (i64, i64, i64),
}

impl Shop {
    async fn new(db: &TestDb, name: &str, tag: &str, extra_products: usize) -> Shop {
        let (id, schema) = db.create_shop(name).await;
        let owner = db.add_member(id, &format!("owner-{tag}@example.com"), "owner").await;
        let admin = db.add_member(id, &format!("admin-{tag}@example.com"), "admin").await;
        let staff = db.add_member(id, &format!("staff-{tag}@example.com"), "staff").await;
        let mut c = db.admin().await;
        let tx = c.transaction().await.unwrap();
        tx.execute(
            "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true),
                    set_config('search_path', $3, true)",
            &[&id.to_string(), &owner.to_string(), &format!("{schema}, app")],
        )
        .await
        .unwrap();
        tx.execute("update settings set allow_negative_stock = true", &[]).await.unwrap();
        for i in 0..extra_products {
            tx.execute(
                "insert into products (sku, name, unit_id, price) select $1, 'Relleno', id, 1 from units where code = 'u'",
                &[&format!("X-{i}")],
            )
            .await
            .unwrap();
        }
        let product = |sku: &'static str, cost: &'static str, tracked: bool| {
            let tx = &tx;
            async move {
                tx.query_one(
                    "insert into products (sku, name, unit_id, price, cost, track_stock)
                     select $1, $1, id, 999, $2::text::numeric, $3 from units where code = 'u' returning id",
                    &[&sku, &cost, &tracked],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
            }
        };
        let p1 = product("YERBA", "100", true).await;
        let p2 = product("AZUCAR", "50", true).await;
        let p3 = product("FLETE", "0", false).await;
        tx.execute(
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'opening', 10)",
            &[&p1],
        )
        .await
        .unwrap();
        tx.execute(
            "insert into stock_movements (product_id, kind, quantity) values ($1, 'adjustment', -4)",
            &[&p2],
        )
        .await
        .unwrap();
        tx.execute("update settings set allow_negative_stock = false", &[]).await.unwrap();
        let supplier: i64 = tx
            .query_one("insert into suppliers (name) values ('Distribuidora Norte') returning id", &[])
            .await
            .unwrap()
            .get(0);
        tx.commit().await.unwrap();
        Shop { id, schema, owner, admin, staff, supplier, products: (p1, p2, p3) }
    }
}

/// A transaction as the app login role in `shop`'s context with `role`.
async fn as_role<'a>(
    c: &'a mut Client,
    shop: &Shop,
    user: i64,
    role: &str,
) -> tokio_postgres::Transaction<'a> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(shop.id), Some(user), role).await;
    tx
}

async fn one<T: for<'r> tokio_postgres::types::FromSql<'r>>(
    c: &impl tokio_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> T {
    c.query_one(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {}", describe(&e))).get(0)
}

/// A received invoice of `shop` for `lines` (product, quantity, unit cost), as the owner.
async fn received_invoice(db: &TestDb, shop: &Shop, number: &str, lines: &[(i64, &str, &str)]) -> i64 {
    let mut c = db.app_login().await;
    let tx = as_role(&mut c, shop, shop.owner, &roles().owner).await;
    let id: i64 = one(
        &tx,
        "insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
         values ($1, $2, current_date, current_date + 30) returning id",
        &[&shop.supplier, &number],
    )
    .await;
    for (p, q, cost) in lines {
        tx.execute(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
             values ($1, $2, $3::text::numeric, $4::text::numeric)",
            &[&id, p, q, cost],
        )
        .await
        .unwrap_or_else(|e| panic!("line: {}", describe(&e)));
    }
    tx.execute("update purchase_invoices set status = 'received' where id = $1", &[&id]).await.unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn receiving_posts_purchase_movements_and_weighted_average_costs() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Compras", "rc", 0).await;
    let (p1, p2, p3) = shop.products;
    let mut c = db.app_login().await;
    let mut tx = as_role(&mut c, &shop, shop.admin, &roles().admin).await;
    let inv: i64 = one(
        &tx,
        "insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
         values ($1, 'A-1', current_date, current_date + 30) returning id",
        &[&shop.supplier],
    )
    .await;
    // an empty draft cannot be received
    let sp = tx.savepoint("sp_empty").await.unwrap();
    assert_refused(
        sp.execute("update purchase_invoices set status = 'received' where id = $1", &[&inv]).await,
        "23514",
        Some("purchase_invoices_empty"),
        "receive an empty draft",
    );
    drop(sp);
    for (p, q, cost) in [(p1, "10", "130"), (p2, "6", "80"), (p3, "1", "2500")] {
        tx.execute(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
             values ($1, $2, $3::text::numeric, $4::text::numeric)",
            &[&inv, &p, &q, &cost],
        )
        .await
        .unwrap();
    }
    // an invoice's lines bring units in
    let sp = tx.savepoint("sp_neg").await.unwrap();
    assert_refused(
        sp.execute(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ($1, $2, -1, 5)",
            &[&inv, &p1],
        )
        .await,
        "23514",
        Some("purchase_invoice_lines_positive"),
        "negative line on an invoice",
    );
    drop(sp);
    // the total is the database's sum of its lines; staff-free roles cannot set it by hand
    let total: Decimal = one(&tx, "select total from purchase_invoices where id = $1", &[&inv]).await;
    assert_eq!(total, dec("4280.00"));
    let sp = tx.savepoint("sp_total").await.unwrap();
    assert_refused(
        sp.execute("update purchase_invoices set total = 1 where id = $1", &[&inv]).await,
        "42501",
        None,
        "write the total",
    );
    drop(sp);
    // nothing moved while a draft
    let moved: i64 = one(&tx, "select count(*) from stock_movements where kind = 'purchase'", &[]).await;
    assert_eq!(moved, 0);
    tx.execute("update purchase_invoices set status = 'received' where id = $1", &[&inv]).await.unwrap();
    tx.commit().await.unwrap();

    let admin = db.admin().await;
    let s = &shop.schema;
    let rows = admin
        .query(
            &format!(
                "select product_id, quantity, stock_after, ref_type, ref_id from {s}.stock_movements
                  where kind = 'purchase' order by product_id"
            ),
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(i64, Decimal, Decimal, String, i64)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    assert_eq!(
        got,
        vec![
            (p1, dec("10"), dec("20"), "purchase_invoice".into(), inv),
            (p2, dec("6"), dec("2"), "purchase_invoice".into(), inv),
        ],
        "one 'purchase' movement per tracked line, none for the service"
    );
    let cost = |p: i64| {
        let admin = &admin;
        async move { one::<Decimal>(admin, &format!("select cost from {s}.products where id = $1"), &[&p]).await }
    };
    // (10 * 100 + 10 * 130) / 20 = 115
    assert_eq!(cost(p1).await, dec("115.00"));
    // old stock -4 is clamped at 0: (0 * 50 + 6 * 80) / 6 = 80
    assert_eq!(cost(p2).await, dec("80.00"));
    // the service has no stock: last cost
    assert_eq!(cost(p3).await, dec("2500.00"));
    // stock equals the sum of movements
    let stock: Decimal = one(&admin, &format!("select stock from {s}.products where id = $1"), &[&p1]).await;
    assert_eq!(stock, dec("20"));
    // the cost change was audited by the products trigger, the receipt by the invoice's
    let audited: i64 = one(
        &admin,
        &format!("select count(*) from {s}.audit_log where entity in ('products', 'purchase_invoices')"),
        &[],
    )
    .await;
    assert!(audited >= 4, "{audited}");

    // a second receipt of the same product averages again: (20 * 115 + 5 * 91) / 25 = 110.20
    received_invoice(&db, &shop, "A-2", &[(p1, "5", "91")]).await;
    assert_eq!(cost(p1).await, dec("110.20"));
}

#[tokio::test]
async fn received_invoices_and_their_lines_never_change() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Fija", "fx", 0).await;
    let (p1, _, _) = shop.products;
    let inv = received_invoice(&db, &shop, "F-1", &[(p1, "2", "100")]).await;
    let line: i64 =
        one(&db.admin().await, &format!("select id from {}.purchase_invoice_lines", shop.schema), &[]).await;
    let mut c = db.app_login().await;
    for (sql, code) in [
        (format!("update purchase_invoices set number = 'F-9' where id = {inv}"), "23514"),
        (format!("update purchase_invoices set due_date = current_date + 90 where id = {inv}"), "23514"),
        (format!("update purchase_invoices set status = 'draft' where id = {inv}"), "23514"),
        (format!("delete from purchase_invoices where id = {inv}"), "23514"),
        (format!("delete from purchase_invoice_lines where id = {line}"), "23514"),
        (
            format!(
                "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ({inv}, {p1}, 1, 1)"
            ),
            "23514",
        ),
        // no grant at all: lines and payments are never updated
        (format!("update purchase_invoice_lines set quantity = 5 where id = {line}"), "42501"),
        (format!("update purchase_invoices set paid = 200 where id = {inv}"), "42501"),
    ] {
        let tx = as_role(&mut c, &shop, shop.owner, &roles().owner).await;
        assert_refused(tx.execute(&sql, &[]).await, code, None, &sql);
    }
    let admin = db.admin().await;
    let (n, total, status): (String, Decimal, String) = {
        let r = admin
            .query_one(&format!("select number, total, status from {}.purchase_invoices", shop.schema), &[])
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((n.as_str(), total, status.as_str()), ("F-1", dec("200.00"), "received"));
    // even the schema owner's own statements are refused by the trigger
    let e = admin
        .batch_execute(&format!("update {}.purchase_invoice_lines set quantity = 9", shop.schema))
        .await
        .expect_err("superuser update of a line");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
}

#[tokio::test]
async fn payments_post_one_negative_ledger_row_and_never_exceed_what_is_owed() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Pagos", "pg", 0).await;
    let (p1, _, _) = shop.products;
    let inv = received_invoice(&db, &shop, "P-1", &[(p1, "10", "10")]).await;
    let mut c = db.app_login().await;
    let pay = async |c: &mut Client, amount: &str| {
        let tx = as_role(c, &shop, shop.admin, &roles().admin).await;
        let r = tx
            .execute(
                "insert into purchase_payments (invoice_id, method, amount) values ($1, 'transfer', $2::text::numeric)",
                &[&inv, &amount],
            )
            .await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    };
    assert_refused(pay(&mut c, "0").await, "23514", Some("purchase_payments_amount_check"), "zero");
    assert_refused(pay(&mut c, "-5").await, "23514", Some("purchase_payments_amount_check"), "negative");
    assert_refused(pay(&mut c, "100.01").await, "23514", Some("purchase_payment_exceeds_due"), "over");
    pay(&mut c, "40.50").await.expect("partial payment");
    let admin = db.admin().await;
    let s = &shop.schema;
    let status = async || {
        let r = admin
            .query_one(
                &format!("select paid, payment_status from {s}.purchase_invoices where id = $1"),
                &[&inv],
            )
            .await
            .unwrap();
        (r.get::<_, Decimal>(0), r.get::<_, String>(1))
    };
    assert_eq!(status().await, (dec("40.50"), "partial".to_string()));
    assert_refused(
        pay(&mut c, "59.51").await,
        "23514",
        Some("purchase_payment_exceeds_due"),
        "over the rest",
    );
    pay(&mut c, "59.50").await.expect("the rest");
    assert_eq!(status().await, (dec("100.00"), "paid".to_string()));
    assert_refused(pay(&mut c, "0.01").await, "23514", Some("purchase_payment_exceeds_due"), "paid already");
    let rows = admin
        .query(
            &format!(
                "select kind, method, amount, purchase_invoice_id, user_id from {s}.money_ledger
                  where kind = 'invoice_payment' order by id"
            ),
            &[],
        )
        .await
        .unwrap();
    let got: Vec<LedgerRow> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    let row = |a: &str| {
        ("invoice_payment".to_string(), "transfer".to_string(), dec(a), Some(inv), Some(shop.admin))
    };
    assert_eq!(got, vec![row("-40.50"), row("-59.50")], "one ledger row per payment, negative");
    let payments: i64 = one(&admin, &format!("select count(*) from {s}.purchase_payments"), &[]).await;
    assert_eq!(payments, 2, "refused payments wrote nothing");
    // a draft is not paid; owner and admin cannot post invoice payments to the ledger by hand
    let tx = as_role(&mut c, &shop, shop.owner, &roles().owner).await;
    assert_refused(
        tx.execute(
            "insert into money_ledger (kind, method, amount) values ('invoice_payment', 'cash', -5)",
            &[],
        )
        .await,
        "42501",
        None,
        "hand-made invoice payment",
    );
}

#[tokio::test]
async fn two_concurrent_payments_cannot_overpay() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Concurrentes", "cc", 0).await;
    let (p1, _, _) = shop.products;
    let inv = received_invoice(&db, &shop, "C-1", &[(p1, "1", "100")]).await;
    let mut c1 = db.app_login().await;
    let mut c2 = db.app_login().await;
    let tx1 = as_role(&mut c1, &shop, shop.owner, &roles().owner).await;
    tx1.execute(
        "insert into purchase_payments (invoice_id, method, amount) values ($1, 'cash', 60)",
        &[&inv],
    )
    .await
    .expect("first payment");
    // the second payment queues on the invoice's row lock held by the first transaction
    let second = {
        let shop_id = shop.id;
        let owner = shop.owner;
        let role = roles().owner;
        tokio::spawn(async move {
            let tx2 = c2.transaction().await.unwrap();
            set_ctx(&tx2, Some(shop_id), Some(owner), &role).await;
            let r = tx2
                .execute(
                    "insert into purchase_payments (invoice_id, method, amount) values ($1, 'card', 60)",
                    &[&inv],
                )
                .await;
            if r.is_ok() {
                tx2.commit().await.unwrap();
            }
            r.map_err(|e| {
                (
                    e.code().map(|c| c.code().to_string()),
                    e.as_db_error().and_then(|d| d.constraint().map(str::to_string)),
                )
            })
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second payment must wait for the first one's lock");
    tx1.commit().await.unwrap();
    let got = second.await.unwrap();
    assert_eq!(
        got,
        Err((Some("23514".to_string()), Some("purchase_payment_exceeds_due".to_string()))),
        "the second payment sees the first and is refused"
    );
    let admin = db.admin().await;
    let s = &shop.schema;
    let paid: Decimal =
        one(&admin, &format!("select paid from {s}.purchase_invoices where id = $1"), &[&inv]).await;
    assert_eq!(paid, dec("60.00"));
    let ledger: Decimal = one(
        &admin,
        &format!("select coalesce(sum(amount), 0) from {s}.money_ledger where kind = 'invoice_payment'"),
        &[],
    )
    .await;
    assert_eq!(ledger, dec("-60.00"));
}

#[tokio::test]
async fn corrections_take_stock_back_and_lower_what_is_owed() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Correcciones", "co", 0).await;
    let (p1, _, _) = shop.products;
    let inv = received_invoice(&db, &shop, "K-1", &[(p1, "10", "130")]).await;
    let mut c = db.app_login().await;
    let correction = async |c: &mut Client, number: &str, qty: &str| {
        let tx = as_role(c, &shop, shop.owner, &roles().owner).await;
        let id: i64 = one(
            &tx,
            "insert into purchase_invoices (supplier_id, kind, corrects_id, number, invoice_date)
             values ($1, 'correction', $2, $3, current_date) returning id",
            &[&shop.supplier, &inv, &number],
        )
        .await;
        tx.execute(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ($1, $2, $3::text::numeric, 130)",
            &[&id, &p1, &qty],
        )
        .await
        .unwrap();
        let r = tx.execute("update purchase_invoices set status = 'received' where id = $1", &[&id]).await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    };
    correction(&mut c, "NC-1", "-2").await.expect("credit note");
    let admin = db.admin().await;
    let s = &shop.schema;
    let r = admin
        .query_one(&format!("select total, credited, paid, total + credited - paid from {s}.purchase_invoices where id = $1"), &[&inv])
        .await
        .unwrap();
    assert_eq!(
        (r.get::<_, Decimal>(0), r.get::<_, Decimal>(1), r.get::<_, Decimal>(3)),
        (dec("1300.00"), dec("-260.00"), dec("1040.00"))
    );
    let stock: Decimal = one(&admin, &format!("select stock from {s}.products where id = $1"), &[&p1]).await;
    assert_eq!(stock, dec("18"), "the correction's negative line took 2 units back");
    let back: Decimal = one(
        &admin,
        &format!("select quantity from {s}.stock_movements where kind = 'purchase' and quantity < 0"),
        &[],
    )
    .await;
    assert_eq!(back, dec("-2"));
    // the original invoice is untouched: its total and lines are what was received
    let lines: i64 = one(
        &admin,
        &format!("select count(*) from {s}.purchase_invoice_lines l where l.invoice_id = $1"),
        &[&inv],
    )
    .await;
    assert_eq!(lines, 1);
    // pay 1000 of the 1040 left: a correction of 3 units more (-390) would take off more than is owed
    let tx = as_role(&mut c, &shop, shop.owner, &roles().owner).await;
    tx.execute(
        "insert into purchase_payments (invoice_id, method, amount) values ($1, 'cash', 1000)",
        &[&inv],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_refused(
        correction(&mut c, "NC-2", "-3").await,
        "23514",
        Some("purchase_invoices_paid_check"),
        "too big",
    );
    let stock: Decimal = one(&admin, &format!("select stock from {s}.products where id = $1"), &[&p1]).await;
    assert_eq!(stock, dec("18"), "the refused correction moved nothing");
    // corrections are not paid
    let corr: i64 =
        one(&admin, &format!("select id from {s}.purchase_invoices where kind = 'correction'"), &[]).await;
    let tx = as_role(&mut c, &shop, shop.owner, &roles().owner).await;
    assert_refused(
        tx.execute(
            "insert into purchase_payments (invoice_id, method, amount) values ($1, 'cash', 1)",
            &[&corr],
        )
        .await,
        "23514",
        Some("purchase_payments_received_only"),
        "pay a correction",
    );
}

#[tokio::test]
async fn duplicate_numbers_and_other_shops_products_are_refused() {
    let db = TestDb::new().await;
    let a = Shop::new(&db, "Tienda A", "da", 0).await;
    // B has more products, so its ids do not exist in A
    let b = Shop::new(&db, "Tienda B", "db", 5).await;
    let b_product = b.products.0;
    let a_max: i64 = one(&db.admin().await, &format!("select max(id) from {}.products", a.schema), &[]).await;
    assert!(b_product > a_max);
    let mut c = db.app_login().await;
    let mut tx = as_role(&mut c, &a, a.owner, &roles().owner).await;
    let inv: i64 = one(
        &tx,
        "insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
         values ($1, '0001-00000042', current_date, current_date) returning id",
        &[&a.supplier],
    )
    .await;
    let sp = tx.savepoint("sp_dup").await.unwrap();
    assert_refused(
        sp.execute(
            "insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
             values ($1, '0001-00000042', current_date, current_date)",
            &[&a.supplier],
        )
        .await,
        "23505",
        Some("purchase_invoices_number_key"),
        "duplicate number for the supplier",
    );
    drop(sp);
    // the same number from another supplier is fine
    let other: i64 = one(&tx, "insert into suppliers (name) values ('Otro') returning id", &[]).await;
    tx.execute(
        "insert into purchase_invoices (supplier_id, number, invoice_date, due_date) values ($1, '0001-00000042', current_date, current_date)",
        &[&other],
    )
    .await
    .expect("same number, other supplier");
    let sp = tx.savepoint("sp_cross").await.unwrap();
    assert_refused(
        sp.execute(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ($1, $2, 1, 1)",
            &[&inv, &b_product],
        )
        .await,
        "23503",
        Some("purchase_invoice_lines_product_id_fkey"),
        "another shop's product",
    );
    drop(sp);
    // naming B's schema from A's context reaches nothing
    let sp = tx.savepoint("sp_schema").await.unwrap();
    let seen = sp.query(&format!("select * from {}.suppliers", b.schema), &[]).await.expect("select");
    assert!(seen.is_empty());
    drop(sp);
    let sp = tx.savepoint("sp_schema_insert").await.unwrap();
    assert_refused(
        sp.execute(&format!("insert into {}.suppliers (name) values ('Intruso')", b.schema), &[]).await,
        "42501",
        None,
        "insert into another shop's suppliers",
    );
    drop(sp);
    // due dates before the invoice date are refused by the table
    let sp = tx.savepoint("sp_due").await.unwrap();
    assert_refused(
        sp.execute(
            "insert into purchase_invoices (supplier_id, number, invoice_date, due_date) values ($1, 'Z', current_date, current_date - 1)",
            &[&a.supplier],
        )
        .await,
        "23514",
        Some("purchase_invoices_due_check"),
        "due before date",
    );
}

#[tokio::test]
async fn staff_and_wrong_or_missing_contexts_see_nothing() {
    let db = TestDb::new().await;
    let a = Shop::new(&db, "Privada A", "pa", 0).await;
    let b = Shop::new(&db, "Privada B", "pb", 0).await;
    let inv = received_invoice(&db, &a, "S-1", &[(a.products.0, "1", "10")]).await;
    let r = roles();
    let mut c = db.app_login().await;
    let tables = ["suppliers", "purchase_invoices", "purchase_invoice_lines", "purchase_payments"];
    for t in tables {
        // staff: no grant at all
        let tx = as_role(&mut c, &a, a.staff, &r.staff).await;
        assert_refused(tx.query(&format!("select * from {}.{t}", a.schema), &[]).await, "42501", None, t);
        drop(tx);
        // owner of A with B's context, or with no shop: zero rows
        let tx = c.transaction().await.unwrap();
        set_ctx(&tx, Some(b.id), Some(a.owner), &r.owner).await;
        let n = tx.query(&format!("select * from {}.{t}", a.schema), &[]).await.unwrap().len();
        assert_eq!(n, 0, "{t} seen from another shop's context");
        drop(tx);
        let tx = c.transaction().await.unwrap();
        set_ctx(&tx, None, Some(a.owner), &r.owner).await;
        let n = tx.query(&format!("select * from {}.{t}", a.schema), &[]).await.unwrap().len();
        assert_eq!(n, 0, "{t} seen with no shop in context");
        drop(tx);
        // the login role itself holds nothing
        assert_refused(c.query(&format!("select * from {}.{t}", a.schema), &[]).await, "42501", None, t);
    }
    // staff cannot write either
    for sql in [
        "insert into suppliers (name) values ('x')".to_string(),
        format!("insert into purchase_payments (invoice_id, method, amount) values ({inv}, 'cash', 1)"),
        format!("update purchase_invoices set note = 'x' where id = {inv}"),
    ] {
        let tx = as_role(&mut c, &a, a.staff, &r.staff).await;
        assert_refused(tx.execute(&sql, &[]).await, "42501", None, &sql);
    }
    // a payment from another shop's context finds no invoice and writes nothing
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(b.id), Some(a.owner), &r.owner).await;
    assert_refused(
        tx.execute(
            &format!(
                "insert into {}.purchase_payments (invoice_id, method, amount) values ($1, 'cash', 1)",
                a.schema
            ),
            &[&inv],
        )
        .await,
        "23503",
        None,
        "pay another shop's invoice",
    );
    drop(tx);
    let admin = db.admin().await;
    let n: i64 = one(&admin, &format!("select count(*) from {}.purchase_payments", a.schema), &[]).await;
    assert_eq!(n, 0);
    let _ = (a.admin, b.staff);
}

/// `due_invoices` (for the dashboard) through the app's own pool, as the app runs it: received
/// invoices not fully paid, due within the window or overdue, soonest first; paid invoices,
/// drafts, corrections and later ones are left out; staff are refused by the database.
#[tokio::test]
async fn due_invoices_lists_what_falls_due() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "Vencimientos", "dv", 0).await;
    let p = shop.products.0;
    let admin = db.admin().await;
    let s = shop.schema.clone();
    let overdue = received_invoice(&db, &shop, "V-OLD", &[(p, "1", "100")]).await;
    let soon = received_invoice(&db, &shop, "V-SOON", &[(p, "1", "200")]).await;
    let later = received_invoice(&db, &shop, "V-LATER", &[(p, "1", "300")]).await;
    let paid = received_invoice(&db, &shop, "V-PAID", &[(p, "1", "400")]).await;
    // dates are moved by the superuser (the trigger refuses it to every app role)
    admin
        .batch_execute(&format!("alter table {s}.purchase_invoices disable trigger purchase_invoices_change"))
        .await
        .unwrap();
    for (id, due) in [(overdue, -3), (soon, 5), (later, 40), (paid, 1)] {
        admin
            .execute(
                &format!("update {s}.purchase_invoices set invoice_date = current_date - 60, due_date = current_date + $2::int where id = $1"),
                &[&id, &due],
            )
            .await
            .unwrap();
    }
    admin
        .batch_execute(&format!("alter table {s}.purchase_invoices enable trigger purchase_invoices_change"))
        .await
        .unwrap();
    let mut c = db.app_login().await;
    let tx = as_role(&mut c, &shop, shop.owner, &roles().owner).await;
    tx.execute(
        "insert into purchase_payments (invoice_id, method, amount) values ($1, 'cash', 400)",
        &[&paid],
    )
    .await
    .unwrap();
    tx.execute(
        "insert into purchase_payments (invoice_id, method, amount) values ($1, 'cash', 50)",
        &[&soon],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let mut obj = pool.get().await.expect("conn");
    let today: chrono::NaiveDate = one(&admin, "select current_date", &[]).await;
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(shop.owner), &roles().owner).await;
    let due = stock::domain::purchases::due_invoices(&tx, today, 7, 10).await.expect("due invoices");
    let got: Vec<(i64, Decimal, bool)> = due.iter().map(|d| (d.id, d.due, d.overdue)).collect();
    assert_eq!(got, vec![(overdue, dec("100.00"), true), (soon, dec("150.00"), false)]);
    assert_eq!(due[0].supplier, "Distribuidora Norte");
    let one_only = stock::domain::purchases::due_invoices(&tx, today, 60, 1).await.expect("limit");
    assert_eq!(one_only.len(), 1);
    // the dashboard's single statement lists the same invoices for the shop's own today
    let shop_today: chrono::NaiveDate =
        tx.query_one("select (now() at time zone time_zone)::date from settings", &[]).await.unwrap().get(0);
    let want = stock::domain::purchases::due_invoices(&tx, shop_today, 7, 10).await.expect("due invoices");
    let dash =
        stock::domain::dashboard::load(&tx, shop.id, true, chrono::Utc::now()).await.expect("dashboard");
    let key = |d: &stock::domain::purchases::DueInvoice| {
        (d.id, d.supplier_id, d.supplier.clone(), d.number.clone(), d.due_date, d.due, d.overdue)
    };
    assert_eq!(
        dash.due.as_deref().map(|v| v.iter().map(key).collect::<Vec<_>>()),
        Some(want.iter().map(key).collect::<Vec<_>>()),
        "the dashboard's invoices due"
    );
    drop(tx);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(shop.staff), &roles().staff).await;
    assert!(
        stock::domain::purchases::due_invoices(&tx, today, 7, 10).await.is_err(),
        "staff read no invoices"
    );
    drop(tx);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(shop.id), Some(shop.staff), &roles().staff).await;
    let dash = stock::domain::dashboard::load(&tx, shop.id, false, chrono::Utc::now())
        .await
        .expect("staff dashboard");
    assert!(dash.due.is_none() && dash.today.is_none(), "staff see neither money nor invoices");
    drop(tx);
    let html = stock::views::purchases::due_invoices_card(stock::i18n::Locale::Es, &due).into_string();
    assert!(html.contains("V-OLD") && html.contains("vencida") && html.contains("150,00"), "{html}");
}
