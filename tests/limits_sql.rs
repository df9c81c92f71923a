//! Plan limits at the SQL level, connected as the web app's login role with real request contexts:
//! members, active products (single inserts, multi-row imports, reactivation, upserts) and sales
//! per calendar month are refused beyond the plan with SQLSTATE LM001 and nothing written; a shop
//! above a lowered limit keeps its rows; a shop without limits takes no lock; racing connections
//! never exceed a limit; restore and clone keep working and leave every shop with a subscription.
mod common;

use std::process::Stdio;
use std::sync::Arc;

use common::{set_ctx, TestDb, PASSWORD, PREFIX};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

/// A query parameter (the first one of a list names the type of the rest).
type P<'a> = &'a (dyn ToSql + Sync);

/// A plan of our own with small limits, and the shop moved onto it.
async fn small_plan(admin: &Client, tenant: i64, members: i32, products: i32, sales: i32) {
    admin
        .execute(
            "insert into app.plans (code, name, max_members, max_products, max_monthly_sales)
             values ('TINY', 'Tiny', $1, $2, $3)
             on conflict (code) do update set max_members = $1, max_products = $2, max_monthly_sales = $3",
            &[&members, &products, &sales],
        )
        .await
        .expect("plan");
    admin
        .execute("update app.subscriptions set plan_code = 'TINY' where tenant_id = $1", &[&tenant])
        .await
        .expect("subscription");
}

/// A transaction of the app's login role in the shop's context with this role.
async fn as_role<'a>(
    c: &'a mut Client,
    tenant: i64,
    user: i64,
    role: &str,
) -> tokio_postgres::Transaction<'a> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(tenant), Some(user), &format!("{PREFIX}_shop_{role}")).await;
    tx
}

const INSERT_PRODUCT: &str = "insert into products (sku, name, unit_id, price, active)
     values ($1, $1, (select id from units where code = 'u'), 10, $2)";

const INSERT_SALE: &str = "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
     values (gen_random_uuid(), (select id from customers where is_final_consumer), $1, 0, 0, 0)";

fn limit_of(e: &tokio_postgres::Error) -> serde_json::Value {
    let d = e.as_db_error().unwrap_or_else(|| panic!("not a database error: {e:?}"));
    assert_eq!(d.code().code(), "LM001", "{d:?}");
    serde_json::from_str(d.detail().expect("detail")).expect("detail is JSON")
}

async fn count(admin: &Client, sql: &str) -> i64 {
    admin.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

async fn products(admin: &Client, schema: &str) -> i64 {
    count(admin, &format!("select count(*) from {schema}.products where active")).await
}

#[tokio::test]
async fn products_beyond_the_plan_are_refused_and_nothing_is_written() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Chico").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    small_plan(&admin, tenant, 5, 3, 100).await;
    let mut app = db.app_login().await;

    let tx = as_role(&mut app, tenant, owner, "owner").await;
    for sku in ["A1", "A2", "A3"] {
        tx.execute(INSERT_PRODUCT, &[&sku as P, &true]).await.unwrap_or_else(|e| panic!("{sku}: {e}"));
    }
    tx.commit().await.expect("commit");

    // the fourth active product is refused, with the limit, plan and numbers in the error
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let e = tx.execute(INSERT_PRODUCT, &[&"A4" as P, &true]).await.expect_err("over the limit");
    let detail = limit_of(&e);
    assert_eq!(detail["limit"], "products");
    assert_eq!(detail["plan"], "TINY");
    assert_eq!(detail["plan_name"], "Tiny");
    assert_eq!(detail["max"], 3);
    assert_eq!(detail["count"], 4);
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("plan_limit_products"));
    drop(tx);
    assert_eq!(products(&admin, &schema).await, 3);

    // an inactive product does not count; making it active does
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute(INSERT_PRODUCT, &[&"OFF1" as P, &false]).await.expect("inactive product");
    tx.commit().await.expect("commit");
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let e = tx
        .execute("update products set active = true where sku = 'OFF1'", &[])
        .await
        .expect_err("reactivation");
    assert_eq!(limit_of(&e)["limit"], "products");
    drop(tx);

    // deactivating one frees a place; editing prices never counts
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute("update products set active = false where sku = 'A1'", &[]).await.expect("deactivate");
    tx.execute("update products set price = 12", &[]).await.expect("price change");
    tx.execute("update products set active = true where sku = 'OFF1'", &[]).await.expect("reactivate");
    tx.commit().await.expect("commit");
    assert_eq!(products(&admin, &schema).await, 3);

    // a multi-row insert (a CSV import's chunk) that would end above the limit is refused whole
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute("update products set active = false where sku = 'A2'", &[]).await.expect("deactivate");
    let many = "insert into products (sku, name, unit_id, price)
                select 'M' || i, 'M' || i, (select id from units where code = 'u'), 1 from generate_series(1, 5) i";
    let e = tx.execute(many, &[]).await.expect_err("five more");
    assert_eq!(limit_of(&e)["count"], 7);
    drop(tx);
    assert_eq!(
        count(&admin, &format!("select count(*) from {schema}.products where sku like 'M%'")).await,
        0
    );

    // the import's upsert: reactivating through ON CONFLICT DO UPDATE is counted too
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let upsert = "insert into products as p (sku, name, unit_id, price, active)
                  values ('A1', 'A1', (select id from units where code = 'u'), 10, true)
                  on conflict (sku) do update set active = excluded.active";
    let e = tx.execute(upsert, &[]).await.expect_err("upsert reactivation");
    assert_eq!(limit_of(&e)["limit"], "products");
    drop(tx);
    assert_eq!(products(&admin, &schema).await, 3);
}

#[tokio::test]
async fn a_lowered_limit_keeps_the_rows_and_refuses_only_new_ones() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Grande").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let staff = db.add_member(tenant, "staff@example.com", "staff").await;
    let admin = db.admin().await;
    let mut app = db.app_login().await;
    // on the PRO trial: no limit
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    for i in 0..6 {
        tx.execute(INSERT_PRODUCT, &[&format!("P{i}") as P, &true]).await.expect("product");
    }
    for _ in 0..4 {
        tx.execute(INSERT_SALE, &[&owner]).await.expect("sale");
    }
    tx.commit().await.expect("commit");

    // the operator moves the shop to a plan below what it has
    small_plan(&admin, tenant, 1, 3, 2).await;
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute("update products set price = 11, name = name || ' x'", &[]).await.expect("edits still work");
    tx.execute("update products set active = true", &[]).await.expect("setting active on active rows");
    tx.commit().await.expect("commit");
    assert_eq!(products(&admin, &schema).await, 6);
    assert_eq!(count(&admin, &format!("select count(*) from {schema}.sales")).await, 4);
    assert_eq!(
        count(&admin, &format!("select count(*) from app.memberships where tenant_id = {tenant}")).await,
        2
    );

    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let e = tx.execute(INSERT_PRODUCT, &[&"NEW" as P, &true]).await.expect_err("new product");
    assert_eq!(limit_of(&e)["count"], 7);
    drop(tx);
    let tx = as_role(&mut app, tenant, staff, "staff").await;
    let e = tx.execute(INSERT_SALE, &[&staff]).await.expect_err("new sale");
    let d = limit_of(&e);
    assert_eq!(
        (d["limit"].as_str(), d["max"].as_i64(), d["count"].as_i64()),
        (Some("monthly_sales"), Some(2), Some(5))
    );
    drop(tx);
    assert_eq!(count(&admin, &format!("select count(*) from {schema}.sales")).await, 4);
}

#[tokio::test]
async fn monthly_sales_count_the_shop_calendar_month_only() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Mensual").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    small_plan(&admin, tenant, 5, 10, 2).await;
    // last month's sales (loaded as superuser, whose sessions are not limited) do not count
    {
        let tx_sql = format!(
            "begin;
             select set_config('app.tenant_id', '{tenant}', true), set_config('app.user_id', '{owner}', true);
             insert into {schema}.sales (idempotency_key, customer_id, user_id, total, tendered, change, created_at)
             select gen_random_uuid(), c.id, {owner}, 0, 0, 0,
                    app_private.month_start(s.time_zone) - interval '1 minute'
               from {schema}.customers c, {schema}.settings s, generate_series(1, 5)
              where c.is_final_consumer;
             commit;"
        );
        admin.batch_execute(&tx_sql).await.expect("last month's sales");
    }
    let mut app = db.app_login().await;
    for _ in 0..2 {
        let tx = as_role(&mut app, tenant, owner, "owner").await;
        tx.execute(INSERT_SALE, &[&owner]).await.expect("this month's sale");
        tx.commit().await.expect("commit");
    }
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let e = tx.execute(INSERT_SALE, &[&owner]).await.expect_err("third sale this month");
    assert_eq!(limit_of(&e)["count"], 3);
    drop(tx);
    // a voided sale still counts: voiding does not give the sale back
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute("update sales set status = 'voided' where id = (select max(id) from sales)", &[])
        .await
        .expect("void");
    tx.commit().await.expect("commit");
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    assert_eq!(limit_of(&tx.execute(INSERT_SALE, &[&owner]).await.expect_err("still used up"))["count"], 3);
    drop(tx);
    // the month starts in the shop's time zone: the usage the owner sees agrees with the trigger
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    let r = tx
        .query_one(
            "select plan_code, monthly_sales, max_monthly_sales, products from app_private.shop_plan_usage()",
            &[],
        )
        .await
        .expect("usage");
    assert_eq!(
        (r.get::<_, String>(0), r.get::<_, i64>(1), r.get::<_, Option<i32>>(2)),
        ("TINY".into(), 2, Some(2))
    );
}

#[tokio::test]
async fn a_shop_without_limits_takes_no_lock() {
    let db = TestDb::new().await;
    let (tenant, _) = db.create_shop("Kiosco Libre").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let mut app = db.app_login().await;
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute(INSERT_PRODUCT, &[&"F1" as P, &true]).await.expect("product");
    tx.execute(INSERT_SALE, &[&owner]).await.expect("sale");
    let locks: i64 = tx
        .query_one(
            "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("locks")
        .get(0);
    assert_eq!(locks, 0, "a shop on an unlimited plan must not serialize its writers");
    drop(tx);
    // with a limit, the same writes hold the shop's advisory locks until commit
    small_plan(&db.admin().await, tenant, 5, 10, 10).await;
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute(INSERT_PRODUCT, &[&"F2" as P, &true]).await.expect("product");
    tx.execute(INSERT_SALE, &[&owner]).await.expect("sale");
    let locks: i64 = tx
        .query_one(
            "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("locks")
        .get(0);
    assert_eq!(locks, 2);
}

/// `n` connections of the login role, each in its own request context, run `sql` at the same
/// moment (a barrier after BEGIN and the context) and commit; returns how many succeeded.
async fn race(
    db: &TestDb,
    n: usize,
    tenant: i64,
    user: i64,
    role: &'static str,
    sql: &'static str,
) -> (usize, usize) {
    let barrier = Arc::new(Barrier::new(n));
    let mut set = JoinSet::new();
    for i in 0..n {
        let mut c = db.app_login().await;
        let barrier = barrier.clone();
        set.spawn(async move {
            let tx = as_role(&mut c, tenant, user, role).await;
            barrier.wait().await;
            let sku = format!("R{i}");
            let result = if sql.contains("$2") {
                tx.execute(sql, &[&sku as P, &true]).await
            } else {
                tx.execute(sql, &[&user]).await
            };
            match result {
                Ok(_) => {
                    tx.commit().await.expect("commit");
                    Ok(())
                }
                Err(e) => {
                    let _ = limit_of(&e);
                    Err(())
                }
            }
        });
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r.expect("task") {
            Ok(()) => ok += 1,
            Err(()) => refused += 1,
        }
    }
    (ok, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_connections_never_exceed_a_limit() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Carrera").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    small_plan(&admin, tenant, 5, 3, 2).await;
    let (ok, refused) = race(&db, 8, tenant, owner, "admin", INSERT_PRODUCT).await;
    assert_eq!((ok, refused), (3, 5));
    assert_eq!(products(&admin, &schema).await, 3);
    let (ok, refused) = race(&db, 8, tenant, owner, "staff", INSERT_SALE).await;
    assert_eq!((ok, refused), (2, 6));
    assert_eq!(count(&admin, &format!("select count(*) from {schema}.sales")).await, 2);
}

/// Invitations created by the operator (a superuser session, not limited) and accepted at the
/// same moment by new people through the anon role, as the accept page does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_beyond_the_plan_are_refused_even_when_accepting_at_once() {
    let db = TestDb::new().await;
    let (tenant, _) = db.create_shop("Kiosco Equipo").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    small_plan(&admin, tenant, 3, 10, 10).await;
    // early refusal: members + open invitations + the new one may not exceed 3
    let mut app = db.app_login().await;
    let invite = "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
                  values ($1, $2, 'staff', $3, sha256(convert_to($2, 'UTF8')))";
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    tx.execute(invite, &[&tenant as P, &"a@example.com", &owner]).await.expect("first invitation");
    tx.execute(invite, &[&tenant as P, &"b@example.com", &owner]).await.expect("second invitation");
    let e =
        tx.execute(invite, &[&tenant as P, &"c@example.com", &owner]).await.expect_err("third invitation");
    assert_eq!(limit_of(&e)["limit"], "members");
    assert_eq!(limit_of(&e)["count"], 4);
    drop(tx);
    // the operator invites beyond it anyway; the memberships trigger is the guarantee
    let mut invitations = Vec::new();
    for email in ["a@example.com", "b@example.com", "c@example.com", "d@example.com"] {
        let id: i64 = admin
            .query_one(
                "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
                 values ($1, $2, 'staff', $3, sha256(convert_to($2, 'UTF8'))) returning id",
                &[&tenant, &email, &owner],
            )
            .await
            .expect("operator's invitation")
            .get(0);
        invitations.push((id, email));
    }
    let anon = format!("{PREFIX}_anon");
    let barrier = Arc::new(Barrier::new(invitations.len()));
    let mut set = JoinSet::new();
    for (id, email) in invitations {
        let mut c = db.app_login().await;
        let (barrier, anon) = (barrier.clone(), anon.clone());
        set.spawn(async move {
            let tx = c.transaction().await.expect("begin");
            set_ctx(&tx, None, None, &anon).await;
            let token: [u8; 32] = rand::random();
            barrier.wait().await;
            let r = tx
                .query_one(
                    "select app_private.accept_invitation_new($1, $2, $3, sha256(convert_to($3, 'UTF8')), 'New Person',
                            'x', 'es', null, sha256($4), interval '1 hour', null, null)",
                    &[&id, &tenant, &email, &token.to_vec()],
                )
                .await;
            match r {
                Ok(_) => tx.commit().await.map(|_| true).map_err(|e| e.to_string()),
                Err(e) => {
                    assert_eq!(limit_of(&e)["limit"], "members");
                    Ok(false)
                }
            }
        });
    }
    let mut accepted = 0;
    while let Some(r) = set.join_next().await {
        if r.expect("task").expect("commit") {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 2, "one owner plus two new members fill a plan of three");
    assert_eq!(
        count(&admin, &format!("select count(*) from app.memberships where tenant_id = {tenant}")).await,
        3
    );
}

#[tokio::test]
async fn plan_and_usage_are_the_owners_and_only_for_the_shop_in_context() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Tienda A").await;
    let (b, _) = db.create_shop("Tienda B").await;
    let owner_a = db.add_member(a, "owner-a@example.com", "owner").await;
    let staff_a = db.add_member(a, "staff-a@example.com", "staff").await;
    let admin = db.admin().await;
    small_plan(&admin, b, 5, 5, 5).await;
    let mut app = db.app_login().await;
    let usage = "select plan_code, members from app_private.shop_plan_usage()";

    let tx = as_role(&mut app, a, owner_a, "owner").await;
    let rows = tx.query(usage, &[]).await.expect("owner reads the plan");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].get::<_, String>(0), rows[0].get::<_, i64>(1)), ("PRO".into(), 2));
    drop(tx);
    // staff and admin may not call it; the login role alone neither
    for role in ["staff", "admin"] {
        let tx = as_role(&mut app, a, staff_a, role).await;
        let e = tx.query(usage, &[]).await.expect_err("not the owner");
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{role}");
        drop(tx);
    }
    let e = app.query(usage, &[]).await.expect_err("login role without context");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
    // an owner's role with no shop in context reads nothing
    let tx = app.transaction().await.expect("begin");
    set_ctx(&tx, None, Some(owner_a), &format!("{PREFIX}_shop_owner")).await;
    assert!(tx.query(usage, &[]).await.expect("no context").is_empty());
    drop(tx);
    // nobody reads the plans or subscriptions tables directly
    let tx = as_role(&mut app, a, owner_a, "owner").await;
    let e = tx.query("select * from app.subscriptions", &[]).await.expect_err("no grant");
    assert_eq!(e.code().map(|c| c.code()), Some("42501"));
}

async fn stock_cli(db: &TestDb, args: &[&str]) -> String {
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_stock"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", PREFIX)
        .env("STOCK_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run stock");
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "stock {args:?} failed:\n{text}");
    text
}

#[tokio::test]
async fn restore_and_clone_of_a_shop_above_its_limits_work_and_every_shop_has_a_subscription() {
    let db = TestDb::new().await;
    let (tenant, schema) = db.create_shop("Kiosco Archivo").await;
    let owner = db.add_member(tenant, "owner@example.com", "owner").await;
    db.add_member(tenant, "staff1@example.com", "staff").await;
    db.add_member(tenant, "staff2@example.com", "staff").await;
    let admin = db.admin().await;
    let mut app = db.app_login().await;
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    for i in 0..4 {
        tx.execute(INSERT_PRODUCT, &[&format!("K{i}") as P, &true]).await.expect("product");
        tx.execute(INSERT_SALE, &[&owner]).await.expect("sale");
    }
    tx.commit().await.expect("commit");
    // downgraded below everything it has
    small_plan(&admin, tenant, 1, 1, 1).await;
    let slug: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&tenant]).await.expect("slug").get(0);
    let file =
        std::env::temp_dir().join(format!("limits_{}_{}.stock", std::process::id(), rand::random::<u32>()));
    let f = file.to_str().expect("path");
    stock_cli(&db, &["tenant", "backup", &slug, "-o", f]).await;
    stock_cli(&db, &["tenant", "restore", f, "--replace"]).await;
    stock_cli(&db, &["tenant", "clone", &slug, "limits-clone"]).await;
    let _ = std::fs::remove_file(&file);

    // restored in place: same rows, same plan, still refusing new ones
    assert_eq!(products(&admin, &schema).await, 4);
    assert_eq!(
        count(&admin, &format!("select count(*) from app.memberships where tenant_id = {tenant}")).await,
        3
    );
    let plan: String = admin
        .query_one("select plan_code from app.subscriptions where tenant_id = $1", &[&tenant])
        .await
        .expect("subscription kept")
        .get(0);
    assert_eq!(plan, "TINY");
    let tx = as_role(&mut app, tenant, owner, "owner").await;
    assert_eq!(
        limit_of(&tx.execute(INSERT_PRODUCT, &[&"K9" as P, &true]).await.expect_err("still limited"))
            ["count"],
        5
    );
    drop(tx);
    // the clone is a new shop: a new subscription (the PRO trial every new shop starts on)
    let without: i64 = count(
        &admin,
        "select count(*) from app.tenants t where not exists (select 1 from app.subscriptions s where s.tenant_id = t.id)",
    )
    .await;
    assert_eq!(without, 0, "every shop has a subscription");
    let (clone_id, clone_plan): (i64, String) = {
        let r = admin
            .query_one(
                "select t.id, s.plan_code from app.tenants t join app.subscriptions s on s.tenant_id = t.id
                  where t.slug = 'limits-clone'",
                &[],
            )
            .await
            .expect("clone");
        (r.get(0), r.get(1))
    };
    assert_ne!(clone_id, tenant);
    assert_eq!(clone_plan, "PRO");
}
