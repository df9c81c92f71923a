//! Quote rules enforced by PostgreSQL itself, as the web app's login role in a shop's request
//! context: everyone creates quotes and moves their status, only owner and admin mark one converted
//! (with its sale), quote lines never change once written, a converted quote stays converted, and
//! one shop cannot see another's quotes.
mod common;

use common::{roles, set_ctx, TestDb};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Transaction};

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Staff,
}

struct Shop {
    id: i64,
    schema: String,
    admin: i64,
    staff: i64,
    product: i64,
}

impl Shop {
    async fn new(db: &TestDb, tag: &str) -> Shop {
        let (id, schema) = db.create_shop(&format!("Kiosco {tag}")).await;
        let admin = db.add_member(id, &format!("admin-{tag}@example.com"), "admin").await;
        let staff = db.add_member(id, &format!("staff-{tag}@example.com"), "staff").await;
        let mut c = db.admin().await;
        let tx = c.transaction().await.expect("begin");
        tx.query_one(
            "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
            &[&id.to_string(), &admin.to_string()],
        )
        .await
        .expect("context");
        let product: i64 = tx
            .query_one(
                &format!(
                    "insert into {schema}.products (sku, name, unit_id, price)
                     values ('AG', 'Agua', (select id from {schema}.units where code = 'u'), 10) returning id"
                ),
                &[],
            )
            .await
            .expect("product")
            .get(0);
        tx.execute(
            &format!(
                "insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', 5)"
            ),
            &[&product],
        )
        .await
        .expect("opening stock");
        tx.commit().await.expect("commit");
        Shop { id, schema, admin, staff, product }
    }

    async fn begin<'c>(&self, c: &'c mut Client, who: Who) -> Transaction<'c> {
        let tx = c.transaction().await.expect("begin");
        let r = roles();
        let (uid, role) = match who {
            Who::Admin => (self.admin, r.admin),
            Who::Staff => (self.staff, r.staff),
        };
        set_ctx(&tx, Some(self.id), Some(uid), &role).await;
        tx
    }

    /// Runs one statement as `who` and rolls it back.
    async fn try_exec(&self, c: &mut Client, who: Who, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let tx = self.begin(c, who).await;
        let r = tx.execute(sql, params).await;
        tx.rollback().await.expect("rollback");
        r
    }

    /// A draft quote of one line, written as `who` (committed).
    async fn quote(&self, c: &mut Client, who: Who) -> i64 {
        let tx = self.begin(c, who).await;
        let uid = if who == Who::Admin { self.admin } else { self.staff };
        let q: i64 = tx
            .query_one(
                "insert into quotes (customer_id, user_id, valid_until, total)
                 values ((select id from customers where is_final_consumer), $1, current_date + 15, 10) returning id",
                &[&uid],
            )
            .await
            .expect("insert quote")
            .get(0);
        tx.execute(
            "insert into quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
             values ($1, 1, $2, 'Agua', 1, 10, 0, 10)",
            &[&q, &self.product],
        )
        .await
        .expect("insert quote line");
        tx.commit().await.expect("commit");
        q
    }
}

#[track_caller]
fn assert_sqlstate<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected SQLSTATE {code}, but it succeeded: {v:?}"),
        Err(e) => assert_eq!(
            e.code().map(|c| c.code()),
            Some(code),
            "{what}: {:?}",
            e.as_db_error().map(|d| d.message().to_string())
        ),
    }
}

/// A completed sale of one unit of the shop's product, recorded as admin in `tx`.
async fn sale_in(tx: &Transaction<'_>, shop: &Shop, quote: i64) -> i64 {
    let sale: i64 = tx
        .query_one(
            "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, quote_id)
             values (gen_random_uuid(), (select id from customers where is_final_consumer), $1, 10, 10, 0, $2)
             returning id",
            &[&shop.admin, &quote],
        )
        .await
        .expect("sale")
        .get(0);
    tx.execute(
        "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
         values ($1, 1, $2, 'Agua', 1, 10, 0, 10)",
        &[&sale, &shop.product],
    )
    .await
    .expect("sale line");
    tx.execute("insert into sale_payments (sale_id, method, amount) values ($1, 'cash', 10)", &[&sale])
        .await
        .expect("payment");
    sale
}

#[tokio::test]
async fn staff_moves_status_but_cannot_mark_a_quote_converted() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "a").await;
    let mut c = db.app_login().await;
    let q = shop.quote(&mut c, Who::Staff).await;

    {
        let tx = shop.begin(&mut c, Who::Staff).await;
        let n = tx
            .execute("update quotes set status = 'sent' where id = $1", &[&q])
            .await
            .expect("staff sets sent");
        assert_eq!(n, 1);
        tx.commit().await.expect("commit");
    }

    // a real sale for the quote, so only the permission can refuse
    let sale = {
        let tx = shop.begin(&mut c, Who::Admin).await;
        let s = sale_in(&tx, &shop, q).await;
        tx.commit().await.expect("commit sale");
        s
    };
    assert_sqlstate(
        shop.try_exec(
            &mut c,
            Who::Staff,
            "update quotes set status = 'converted', converted_sale_id = $2, converted_at = now() where id = $1",
            &[&q, &sale],
        )
        .await,
        "42501",
        "staff marks converted with a sale",
    );
    assert_sqlstate(
        shop.try_exec(&mut c, Who::Staff, "update quotes set status = 'converted' where id = $1", &[&q])
            .await,
        "42501",
        "staff sets status converted",
    );
    assert_sqlstate(
        shop.try_exec(&mut c, Who::Staff, "update quotes set converted_at = now() where id = $1", &[&q])
            .await,
        "42501",
        "staff sets converted_at",
    );
    for (sql, what) in [
        ("update quote_lines set unit_price = 1 where quote_id = $1", "staff edits a line"),
        ("delete from quote_lines where quote_id = $1", "staff deletes lines"),
        ("delete from quotes where id = $1", "staff deletes a quote"),
        ("update quotes set total = 1 where id = $1", "staff changes a total"),
    ] {
        assert_sqlstate(shop.try_exec(&mut c, Who::Staff, sql, &[&q]).await, "42501", what);
    }
    for (sql, what) in [
        ("update quote_lines set unit_price = 1 where quote_id = $1", "admin edits a line"),
        ("delete from quotes where id = $1", "admin deletes a quote"),
    ] {
        assert_sqlstate(shop.try_exec(&mut c, Who::Admin, sql, &[&q]).await, "42501", what);
    }
    let admin = db.admin().await;
    let status: String = admin
        .query_one(&format!("select status from {}.quotes where id = $1", shop.schema), &[&q])
        .await
        .expect("status")
        .get(0);
    assert_eq!(status, "sent");
}

#[tokio::test]
async fn admin_converts_and_a_converted_quote_stays_converted() {
    let db = TestDb::new().await;
    let shop = Shop::new(&db, "b").await;
    let mut c = db.app_login().await;
    let q = shop.quote(&mut c, Who::Staff).await;
    {
        let tx = shop.begin(&mut c, Who::Admin).await;
        tx.query_one("select id from quotes where id = $1 for update", &[&q]).await.expect("lock");
        let sale = sale_in(&tx, &shop, q).await;
        let n = tx
            .execute(
                "update quotes set status = 'converted', converted_sale_id = $2, converted_at = now()
                  where id = $1 and status <> 'converted'",
                &[&q, &sale],
            )
            .await
            .expect("admin converts");
        assert_eq!(n, 1);
        tx.commit().await.expect("commit");
    }
    // staff cannot even reach a converted quote to reopen it; admin is stopped by the check
    let n =
        shop.try_exec(&mut c, Who::Staff, "update quotes set status = 'draft' where id = $1", &[&q]).await;
    assert_eq!(n.expect("staff update runs"), 0);
    assert_sqlstate(
        shop.try_exec(&mut c, Who::Admin, "update quotes set status = 'draft' where id = $1", &[&q]).await,
        "23514",
        "admin reopens a converted quote",
    );
}

#[tokio::test]
async fn a_shop_cannot_see_another_shops_quotes() {
    let db = TestDb::new().await;
    let (a, b) = (Shop::new(&db, "c").await, Shop::new(&db, "d").await);
    let mut c = db.app_login().await;
    let qa = a.quote(&mut c, Who::Staff).await;
    let qb = b.quote(&mut c, Who::Staff).await;
    // numbered per shop: each schema starts at 1
    assert_eq!((qa, qb), (1, 1));
    // row level security: in shop b's context, shop a's rows do not exist
    let tx = b.begin(&mut c, Who::Admin).await;
    let seen: i64 =
        tx.query_one(&format!("select count(*) from {}.quotes", a.schema), &[]).await.expect("count").get(0);
    assert_eq!(seen, 0);
    let moved = tx
        .execute(&format!("update {}.quotes set status = 'sent'", a.schema), &[])
        .await
        .expect("update runs");
    assert_eq!(moved, 0);
    tx.rollback().await.expect("rollback");
}
