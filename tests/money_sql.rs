//! The money ledger's rules in PostgreSQL, connected as the app's login role exactly as requests
//! are: staff never read the ledger or the expense categories; no context or another shop's
//! context reads nothing; an expense names an active category of the shop; manual amounts carry
//! the sign of their side; a reversal books the exact opposite of a manual entry, once; the
//! ledger is append-only. Each refusal leaves nothing written.
mod common;

use std::str::FromStr;

use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use tokio_postgres::{Client, Row};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

struct Shop {
    id: i64,
    schema: String,
    owner: i64,
    admin: i64,
    staff: i64,
}

async fn shop(db: &TestDb, name: &str, tag: &str) -> Shop {
    let (id, schema) = db.create_shop(name).await;
    let owner = db.add_member(id, &format!("owner-{tag}@example.com"), "owner").await;
    let admin = db.add_member(id, &format!("admin-{tag}@example.com"), "admin").await;
    let staff = db.add_member(id, &format!("staff-{tag}@example.com"), "staff").await;
    Shop { id, schema, owner, admin, staff }
}

#[derive(Clone, Copy)]
enum Who {
    Owner,
    Admin,
    Staff,
}

impl Shop {
    fn user(&self, who: Who) -> (i64, String) {
        let r = roles();
        match who {
            Who::Owner => (self.owner, r.owner),
            Who::Admin => (self.admin, r.admin),
            Who::Staff => (self.staff, r.staff),
        }
    }
}

/// Runs `sql` in `shop`'s context as `who` (or in `ctx_shop`'s context when given), commits on
/// success; the error's SQLSTATE and constraint otherwise.
async fn run(c: &mut Client, shop: &Shop, who: Who, sql: &str) -> Result<Vec<Row>, (String, String)> {
    let (uid, role) = shop.user(who);
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(shop.id), Some(uid), &role).await;
    match tx.query(sql, &[]).await {
        Ok(rows) => {
            tx.commit().await.expect("commit");
            Ok(rows)
        }
        Err(e) => {
            let db = e.as_db_error().expect("a database error");
            Err((db.code().code().to_string(), db.constraint().unwrap_or("").to_string()))
        }
    }
}

async fn count(admin: &Client, sql: &str) -> i64 {
    admin.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

fn denied(r: &Result<Vec<Row>, (String, String)>) -> bool {
    matches!(r, Err((code, _)) if code == "42501")
}

#[tokio::test]
async fn staff_reads_no_money_and_other_shops_read_nothing() {
    let db = TestDb::new().await;
    let a = shop(&db, "Kiosco A", "a").await;
    let b = shop(&db, "Kiosco B", "b").await;
    let mut c = db.app_login().await;
    let r = run(
        &mut c,
        &a,
        Who::Owner,
        "insert into money_ledger (kind, method, amount, description) values ('other_income', 'cash', 100, 'alquiler cobrado')",
    )
    .await;
    assert!(r.is_ok(), "owner books other income: {r:?}");

    for sql in [
        "select * from money_ledger",
        "select sum(amount) from money_ledger",
        "select * from expense_categories",
        "select count(*) from expense_categories",
    ] {
        assert!(denied(&run(&mut c, &a, Who::Staff, sql).await), "staff ran {sql}");
    }
    for sql in [
        "insert into expense_categories (name) values ('Fletes')",
        "update expense_categories set name = 'x'",
        "insert into money_ledger (kind, method, amount, category) values ('other_expense', 'cash', -5, 'Limpieza')",
    ] {
        assert!(denied(&run(&mut c, &a, Who::Staff, sql).await), "staff ran {sql}");
    }
    // nobody deletes a category: it is deactivated
    for who in [Who::Owner, Who::Admin] {
        assert!(denied(&run(&mut c, &a, who, "delete from expense_categories").await));
    }

    // shop B's owner naming shop A's tables sees nothing and writes nothing there
    let sa = &a.schema;
    let rows = run(&mut c, &b, Who::Owner, &format!("select count(*) from {sa}.money_ledger"))
        .await
        .expect("select");
    assert_eq!(rows[0].get::<_, i64>(0), 0);
    let rows = run(&mut c, &b, Who::Owner, &format!("select count(*) from {sa}.expense_categories"))
        .await
        .expect("select");
    assert_eq!(rows[0].get::<_, i64>(0), 0);
    let rows = run(
        &mut c,
        &b,
        Who::Owner,
        &format!("update {sa}.expense_categories set active = false returning id"),
    )
    .await
    .expect("update");
    assert!(rows.is_empty());
    let r = run(
        &mut c,
        &b,
        Who::Owner,
        &format!("insert into {sa}.money_ledger (kind, method, amount) values ('other_income', 'cash', 5)"),
    )
    .await;
    assert!(denied(&r), "cross-shop insert: {r:?}");

    // no context at all: zero rows even with the owner's role
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, None, None, &roles().owner).await;
    let n: i64 = tx
        .query_one(&format!("select count(*) from {sa}.money_ledger"), &[])
        .await
        .expect("select without context")
        .get(0);
    assert_eq!(n, 0);
    drop(tx);

    let admin = db.admin().await;
    assert_eq!(count(&admin, &format!("select count(*) from {sa}.money_ledger")).await, 1);
    assert_eq!(count(&admin, &format!("select count(*) from {}.money_ledger", b.schema)).await, 0);
    assert_eq!(count(&admin, &format!("select count(*) from {sa}.expense_categories where active")).await, 7);
}

#[tokio::test]
async fn an_expense_names_an_active_category_and_amounts_carry_their_sign() {
    let db = TestDb::new().await;
    let a = shop(&db, "Ferretería", "a").await;
    let mut c = db.app_login().await;
    let admin = db.admin().await;
    let s = &a.schema;
    let cat = count(&admin, &format!("select id from {s}.expense_categories where name = 'Alquiler'")).await;

    let refusals = [
        ("insert into money_ledger (kind, method, amount) values ('other_expense', 'cash', -10)", "money_ledger_expense_category"),
        (
            "insert into money_ledger (kind, method, amount, category) values ('other_expense', 'cash', -10, 'Sobornos')",
            "money_ledger_expense_category",
        ),
        (
            "insert into money_ledger (kind, method, amount, category_id) values ('other_expense', 'cash', -10, 999999)",
            "money_ledger_expense_category",
        ),
        (
            "insert into money_ledger (kind, method, amount, category_id) values ('other_income', 'cash', 10, 1)",
            "money_ledger_expense_category",
        ),
        ("insert into money_ledger (kind, method, amount) values ('other_income', 'cash', -10)", "money_ledger_manual_sign"),
        ("insert into money_ledger (kind, method, amount) values ('other_income', 'cash', 0)", "money_ledger_amount_check"),
        ("insert into money_ledger (kind, method, amount) values ('other_income', 'account', 10)", "money_ledger_method_check"),
    ];
    for (sql, constraint) in refusals {
        let r = run(&mut c, &a, Who::Admin, sql).await;
        assert!(matches!(&r, Err((code, con)) if code == "23514" && con == constraint), "{sql}: {r:?}");
    }
    let positive_expense =
        format!("insert into money_ledger (kind, method, amount, category_id) values ('other_expense', 'cash', 10, {cat})");
    let r = run(&mut c, &a, Who::Owner, &positive_expense).await;
    assert!(matches!(&r, Err((code, con)) if code == "23514" && con == "money_ledger_manual_sign"), "{r:?}");
    assert_eq!(count(&admin, &format!("select count(*) from {s}.money_ledger")).await, 0, "nothing written");

    // by id or by name (case and accents folded): the row keeps the category's name
    let by_id = format!(
        "insert into money_ledger (kind, method, amount, category_id, user_id)
         values ('other_expense', 'transfer', -1500.50, {cat}, app.current_user_id()) returning category, amount"
    );
    let rows = run(&mut c, &a, Who::Owner, &by_id).await.expect("by id");
    assert_eq!(rows[0].get::<_, String>(0), "Alquiler");
    assert_eq!(rows[0].get::<_, Decimal>(1), dec("-1500.50"));
    let rows = run(
        &mut c,
        &a,
        Who::Admin,
        "insert into money_ledger (kind, method, amount, category) values ('other_expense', 'cash', -20, 'LIMPIEZA') returning category_id, category",
    )
    .await
    .expect("by name");
    assert_eq!(rows[0].get::<_, String>(1), "Limpieza");

    // a deactivated category takes no new expenses; renaming keeps booked rows readable
    run(&mut c, &a, Who::Admin, &format!("update expense_categories set active = false where id = {cat}"))
        .await
        .expect("deactivate");
    let r = run(&mut c, &a, Who::Owner, &by_id).await;
    assert!(
        matches!(&r, Err((code, con)) if code == "23514" && con == "money_ledger_expense_category"),
        "{r:?}"
    );
    run(
        &mut c,
        &a,
        Who::Owner,
        &format!("update expense_categories set name = 'Local', active = true where id = {cat}"),
    )
    .await
    .expect("rename and reactivate");
    let r = run(&mut c, &a, Who::Owner, "insert into expense_categories (name) values ('local')").await;
    assert!(
        matches!(&r, Err((code, con)) if code == "23505" && con == "expense_categories_name_key"),
        "{r:?}"
    );
    assert_eq!(count(&admin, &format!("select count(*) from {s}.money_ledger")).await, 2);
}

#[tokio::test]
async fn a_reversal_books_the_exact_opposite_once() {
    let db = TestDb::new().await;
    let a = shop(&db, "Librería", "a").await;
    let mut c = db.app_login().await;
    let admin = db.admin().await;
    let s = &a.schema;
    let rows = run(
        &mut c,
        &a,
        Who::Owner,
        "insert into money_ledger (kind, method, amount, category, description) values ('other_expense', 'card', -300, 'Servicios', 'luz') returning id",
    )
    .await
    .expect("expense");
    let expense: i64 = rows[0].get(0);

    // whatever the client sends, the trigger copies kind, method, category and negates the amount
    let rows = run(
        &mut c,
        &a,
        Who::Admin,
        &format!(
            "insert into money_ledger (kind, method, amount, reverses_id, description)
             values ('other_income', 'cash', 999, {expense}, 'error de carga')
             returning kind, method, amount, category, category_id is not null, id"
        ),
    )
    .await
    .expect("reversal");
    assert_eq!(rows[0].get::<_, String>(0), "other_expense");
    assert_eq!(rows[0].get::<_, String>(1), "card");
    assert_eq!(rows[0].get::<_, Decimal>(2), dec("300"));
    assert_eq!(rows[0].get::<_, String>(3), "Servicios");
    assert!(rows[0].get::<_, bool>(4));
    let reversal: i64 = rows[0].get(5);
    let total = format!("select coalesce(sum(amount), 0)::text from {s}.money_ledger");
    assert_eq!(admin.query_one(&total, &[]).await.expect("sum").get::<_, String>(0), "0.00");

    // once: a second reversal, a reversal of the reversal, of a sale, of nothing: refused
    let again = format!(
        "insert into money_ledger (kind, method, amount, reverses_id) values ('other_expense', 'card', 300, {expense})"
    );
    let r = run(&mut c, &a, Who::Owner, &again).await;
    assert!(matches!(&r, Err((code, con)) if code == "23505" && con == "money_ledger_reverses_key"), "{r:?}");
    let twice = format!(
        "insert into money_ledger (kind, method, amount, reverses_id) values ('other_expense', 'card', -300, {reversal})"
    );
    let r = run(&mut c, &a, Who::Owner, &twice).await;
    assert!(
        matches!(&r, Err((code, con)) if code == "23514" && con == "money_ledger_reversal_manual_only"),
        "{r:?}"
    );
    let payment = {
        admin
            .query_one(
                &format!(
                    "insert into {s}.money_ledger (kind, method, amount) values ('customer_payment', 'cash', 50) returning id"
                ),
                &[],
            )
            .await
            .expect("payment row")
            .get::<_, i64>(0)
    };
    let r = run(
        &mut c,
        &a,
        Who::Owner,
        &format!("insert into money_ledger (kind, method, amount, reverses_id) values ('other_income', 'cash', 1, {payment})"),
    )
    .await;
    assert!(
        matches!(&r, Err((code, con)) if code == "23514" && con == "money_ledger_reversal_manual_only"),
        "{r:?}"
    );
    let r = run(
        &mut c,
        &a,
        Who::Owner,
        "insert into money_ledger (kind, method, amount, reverses_id) values ('other_income', 'cash', 1, 987654)",
    )
    .await;
    assert!(matches!(&r, Err((code, _)) if code == "23503"), "{r:?}");
    // staff cannot reverse
    let r = run(&mut c, &a, Who::Staff, &again).await;
    assert!(denied(&r), "{r:?}");
    // append-only, for everyone
    for who in [Who::Owner, Who::Admin] {
        assert!(denied(&run(&mut c, &a, who, "update money_ledger set amount = 1").await));
        assert!(denied(&run(&mut c, &a, who, "delete from money_ledger").await));
    }
    assert_eq!(count(&admin, &format!("select count(*) from {s}.money_ledger")).await, 3);
}
