//! The operator's super-admin panel at the SQL level, connected as the web app's login role: shop
//! roles reach no super-admin table or function; the super-admin role reads nothing without a
//! resolved admin session; the audit trail is append-only for everyone; "view as" reads its shop
//! and cannot write, even in a read-write transaction; a suspended shop's context reads nothing.

mod common;

use common::{roles, session_hash, set_ctx, TestDb};
use sha2::{Digest, Sha256};
use stock::db::tx::{conn, Access};
use tokio_postgres::Client;

const ADMIN_TABLES: &[&str] = &[
    "app.super_admins",
    "app.admin_sessions",
    "app.admin_login_failures",
    "app.admin_audit",
    "app.plans",
    "app.subscriptions",
    "app.subscription_payments",
];

fn code(e: &tokio_postgres::Error) -> Option<&str> {
    e.code().map(|c| c.code())
}

async fn add_admin(admin: &Client, email: &str) -> i64 {
    admin
        .query_one("select app_private.add_super_admin($1, 'Operator', 'not-a-hash')", &[&email])
        .await
        .expect("add admin")
        .get(0)
}

async fn admin_session(admin: &Client, admin_id: i64) -> Vec<u8> {
    let token: [u8; 32] = rand::random();
    let hash = Sha256::digest(token).to_vec();
    admin
        .execute(
            "insert into app.admin_sessions (token_hash, admin_id, expires_at) values ($1, $2, now() + interval '1 hour')",
            &[&hash, &admin_id],
        )
        .await
        .expect("admin session");
    hash
}

/// Runs `sql` in a transaction with the given context, as the app login; returns the row count
/// or the SQLSTATE.
async fn try_as(
    c: &mut Client,
    tenant: Option<i64>,
    admin_id: Option<i64>,
    role: &str,
    sql: &str,
) -> Result<usize, String> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, tenant, None, role).await;
    if let Some(a) = admin_id {
        tx.execute("select set_config('app.admin_id', $1, true)", &[&a.to_string()]).await.expect("admin id");
    }
    let r = tx.query(sql, &[]).await;
    let out = match r {
        Ok(rows) => Ok(rows.len()),
        Err(e) => Err(code(&e).unwrap_or("?").to_string()),
    };
    tx.rollback().await.expect("rollback");
    out
}

#[tokio::test]
async fn shop_roles_reach_no_super_admin_table_or_function() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Panel A").await;
    let admin = db.admin().await;
    add_admin(&admin, "ops@example.com").await;
    let mut c = db.app_login().await;
    let r = roles();
    for role in [&r.owner, &r.admin, &r.staff, &r.anon, &r.support] {
        for table in ADMIN_TABLES {
            let got = try_as(&mut c, Some(a), None, role, &format!("select * from {table}")).await;
            assert_eq!(got, Err("42501".into()), "{role} read {table}");
        }
        for table in ["app.admin_audit", "app.super_admins"] {
            let got = try_as(&mut c, Some(a), None, role, &format!("delete from {table}")).await;
            assert_eq!(got, Err("42501".into()), "{role} deleted from {table}");
        }
        for call in [
            "select * from app_private.admin_shop_usage('', null, 10, 0)",
            "select * from app_private.admin_shop_members(1)",
            "select app_private.admin_start_view('x', 1)",
            "select app_private.end_admin_session('x')",
            "select app_private.add_super_admin('x@example.com', 'X', 'h')",
            "select app_private.disable_super_admin('ops@example.com')",
            "select app_private.write_admin_audit('x', null, null)",
        ] {
            let got = try_as(&mut c, Some(a), None, role, call).await;
            assert_eq!(got, Err("42501".into()), "{role}: {call}");
        }
    }
    // the login role itself only resolves sessions
    for table in ADMIN_TABLES {
        let e = c.query(&format!("select * from {table}"), &[]).await.expect_err("app login read");
        assert_eq!(code(&e), Some("42501"), "{table}");
    }
    let e =
        c.query("select * from app_private.admin_shop_usage('', null, 10, 0)", &[]).await.expect_err("usage");
    assert_eq!(code(&e), Some("42501"));
}

#[tokio::test]
async fn the_super_admin_role_reads_nothing_without_an_admin_session() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Panel B").await;
    let admin = db.admin().await;
    let ops = add_admin(&admin, "ops@example.com").await;
    let mut c = db.app_login().await;
    let r = roles();
    // with the admin id set (as the resolved statement does), the panel reads shops and plans
    assert!(try_as(&mut c, None, Some(ops), &r.superadmin, "select * from app.tenants").await.unwrap() >= 1);
    assert_eq!(try_as(&mut c, None, Some(ops), &r.superadmin, "select * from app.plans").await, Ok(3));
    assert_eq!(
        try_as(
            &mut c,
            None,
            Some(ops),
            &r.superadmin,
            "select * from app_private.admin_shop_usage('', null, 10, 0)"
        )
        .await,
        Ok(1)
    );
    // without it: zero rows, and the definer functions refuse
    for table in
        ["app.tenants", "app.plans", "app.subscriptions", "app.subscription_payments", "app.admin_audit"]
    {
        assert_eq!(
            try_as(&mut c, None, None, &r.superadmin, &format!("select * from {table}")).await,
            Ok(0),
            "{table}"
        );
    }
    assert_eq!(
        try_as(
            &mut c,
            None,
            None,
            &r.superadmin,
            "select * from app_private.admin_shop_usage('', null, 10, 0)"
        )
        .await,
        Err("42501".into())
    );
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, None, None, &r.superadmin).await;
    let n = tx.execute("update app.tenants set status = 'suspended' where id = $1", &[&a]).await.unwrap();
    assert_eq!(n, 0, "a super-admin role without a session suspended a shop");
    tx.rollback().await.unwrap();
    // nor does it ever read a shop's tables or password hashes
    for sql in [
        format!("select * from tenant_{a}.products"),
        "select password_hash from app.super_admins".to_string(),
        "select * from app.users".to_string(),
        "select * from app.sessions".to_string(),
        "select * from app.admin_sessions".to_string(),
    ] {
        assert_eq!(try_as(&mut c, None, Some(ops), &r.superadmin, &sql).await, Err("42501".into()), "{sql}");
    }
    // a payment recorded in another admin's name is refused
    let other = add_admin(&admin, "other@example.com").await;
    let sql = format!(
        "insert into app.subscription_payments (tenant_id, amount, paid_on, method, recorded_by)
         values ({a}, 10, current_date, 'cash', {other}) returning id"
    );
    assert_eq!(try_as(&mut c, None, Some(ops), &r.superadmin, &sql).await, Err("42501".into()));
}

#[tokio::test]
async fn the_audit_trail_is_append_only_for_everyone() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let ops = add_admin(&admin, "ops@example.com").await;
    let mut c = db.app_login().await;
    let r = roles();
    for sql in
        ["update app.admin_audit set action = 'x'", "delete from app.admin_audit", "truncate app.admin_audit"]
    {
        assert_eq!(try_as(&mut c, None, Some(ops), &r.superadmin, sql).await, Err("42501".into()), "{sql}");
        // even the superuser is refused by the trigger
        let e = admin.batch_execute(sql).await.expect_err("superuser changed the audit trail");
        assert_eq!(code(&e), Some("42501"), "{sql}");
    }
    let sql = "insert into app.admin_audit (admin_id, action) values (1, 'forged') returning id";
    assert_eq!(try_as(&mut c, None, Some(ops), &r.superadmin, sql).await, Err("42501".into()));
    let n: i64 = admin
        .query_one("select count(*) from app.admin_audit where action = 'admin.add'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test]
async fn panel_changes_are_recorded_by_the_database() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Panel C").await;
    let admin = db.admin().await;
    let ops = add_admin(&admin, "ops@example.com").await;
    let mut c = db.app_login().await;
    let r = roles();
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, None, None, &r.superadmin).await;
    tx.execute(
        "select set_config('app.admin_id', $1, true), set_config('app.client_ip', '10.0.0.9', true)",
        &[&ops.to_string()],
    )
    .await
    .unwrap();
    assert_eq!(
        tx.execute("update app.tenants set status = 'suspended' where id = $1", &[&a]).await.unwrap(),
        1
    );
    tx.execute("update app.plans set max_products = 250 where code = 'FREE'", &[]).await.unwrap();
    tx.execute(
        "update app.subscriptions set plan_code = 'BASIC', status = 'active' where tenant_id = $1",
        &[&a],
    )
    .await
    .unwrap();
    tx.execute(
        "insert into app.subscription_payments (tenant_id, amount, paid_on, method, recorded_by)
         values ($1, 19, current_date, 'transfer', $2)",
        &[&a, &ops],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let rows = admin
        .query(
            "select action, tenant_id, admin_id, host(ip), details from app.admin_audit where admin_id is not null order by id",
            &[],
        )
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        actions,
        ["tenants.update", "plans.update", "subscriptions.update", "subscription_payments.insert"]
    );
    assert!(rows
        .iter()
        .all(|r| r.get::<_, i64>(2) == ops && r.get::<_, Option<String>>(3).as_deref() == Some("10.0.0.9")));
    assert_eq!(rows[0].get::<_, Option<i64>>(1), Some(a));
    assert_eq!(rows[0].get::<_, serde_json::Value>(4)["new"]["status"], "suspended");
    assert_eq!(rows[1].get::<_, serde_json::Value>(4)["new"]["max_products"], 250);
    // a shop owner renaming their shop is not a super-admin action
    let n: i64 = admin.query_one("select count(*) from app.admin_audit", &[]).await.unwrap().get(0);
    let owner = db.add_member(a, "o@example.com", "owner").await;
    admin.execute("update app.tenants set status = 'active' where id = $1", &[&a]).await.unwrap();
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(a), Some(owner), &r.owner).await;
    tx.execute("update app.tenants set name = 'Renamed' where id = $1", &[&a]).await.unwrap();
    tx.commit().await.unwrap();
    let m: i64 = admin.query_one("select count(*) from app.admin_audit", &[]).await.unwrap().get(0);
    assert_eq!(m, n);
}

#[tokio::test]
async fn sessions_of_one_kind_never_open_the_other() {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Panel D").await;
    let owner = db.add_member(a, "o@example.com", "owner").await;
    let admin = db.admin().await;
    let ops = add_admin(&admin, "ops@example.com").await;
    let shop_hash = session_hash(&admin, owner, a).await;
    let admin_hash = admin_session(&admin, ops).await;
    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let mut c = conn(&pool.clone().into(), false);
    assert!(
        c.admin_tx(&shop_hash, None, Access::ReadOnly).await.unwrap().is_none(),
        "shop session opened the panel"
    );
    c = conn(&pool.clone().into(), false);
    assert!(
        c.tenant_tx(&admin_hash, Access::ReadOnly).await.unwrap().is_none(),
        "admin session opened a shop"
    );
    c = conn(&pool.clone().into(), false);
    assert!(c.view_as_tx(&admin_hash, a, None).await.unwrap().is_none(), "view as without an opening");
    c = conn(&pool.clone().into(), false);
    let (tx, ctx) = c.admin_tx(&admin_hash, None, Access::ReadOnly).await.unwrap().expect("admin session");
    assert_eq!(ctx.admin_id, ops);
    let row = tx
        .query_one("select current_user::text, app.current_tenant_id(), app.current_user_id()", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), roles().superadmin);
    assert_eq!(row.get::<_, Option<i64>>(1), None);
    assert_eq!(row.get::<_, Option<i64>>(2), None);
    drop(tx);
    // a disabled account's sessions end
    admin.execute("select app_private.disable_super_admin('ops@example.com')", &[]).await.unwrap();
    c = conn(&pool.clone().into(), false);
    assert!(c.admin_tx(&admin_hash, None, Access::ReadOnly).await.unwrap().is_none());
}

#[tokio::test]
async fn view_as_reads_its_shop_and_cannot_write() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Panel E").await;
    let (b, sb) = db.create_shop("Panel F").await;
    let admin = db.admin().await;
    admin.execute(&format!("insert into {sa}.categories (name) values ('Yerbas')"), &[]).await.ok();
    let ops = add_admin(&admin, "ops@example.com").await;
    let hash = admin_session(&admin, ops).await;
    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    let r = roles();
    // the opening is recorded, then view-as resolves for that shop only
    {
        let mut c = conn(&pool.clone().into(), false);
        let (tx, _) =
            c.admin_tx(&hash, Some("10.1.2.3".into()), Access::ReadWrite).await.unwrap().expect("admin");
        let ok: bool =
            tx.query_one("select app_private.admin_start_view($1, $2)", &[&hash, &a]).await.unwrap().get(0);
        assert!(ok);
        tx.commit().await.unwrap();
    }
    let opened: i64 = admin
        .query_one(
            "select count(*) from app.admin_audit where action = 'view_as.open' and tenant_id = $1 and admin_id = $2 and host(ip) = '10.1.2.3'",
            &[&a, &ops],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(opened, 1);
    let mut c = conn(&pool.clone().into(), false);
    assert!(c.view_as_tx(&hash, b, None).await.unwrap().is_none(), "view as a shop that was not opened");
    let mut c = conn(&pool.clone().into(), false);
    let (tx, ctx) = c.view_as_tx(&hash, a, None).await.unwrap().expect("view as");
    assert_eq!(ctx.tenant_id, a);
    let row = tx
        .query_one("select current_user::text, current_setting('transaction_read_only')", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), (r.support.clone(), "on".to_string()));
    let n = tx.query(&format!("select * from {sa}.settings"), &[]).await.unwrap().len();
    assert_eq!(n, 1, "support reads its shop");
    assert_eq!(
        tx.query(&format!("select * from {sb}.settings"), &[]).await.unwrap().len(),
        0,
        "another shop"
    );
    let e = tx.execute(&format!("update {sa}.settings set currency = 'USD'"), &[]).await.expect_err("wrote");
    assert_eq!(code(&e), Some("25006"), "read-only transaction");
    drop(tx);
    // even in a read-write transaction the role holds no write grant anywhere
    let mut raw = db.app_login().await;
    for sql in [
        format!("update {sa}.settings set currency = 'USD'"),
        format!("insert into {sa}.categories (name) values ('x')"),
        format!("delete from {sa}.products"),
        format!("truncate {sa}.audit_log"),
        "update app.tenants set status = 'suspended'".to_string(),
        "insert into app.admin_audit (action) values ('x')".to_string(),
        "select * from app.plans".to_string(),
    ] {
        assert_eq!(
            try_as(&mut raw, Some(a), Some(ops), &r.support, &sql).await,
            Err("42501".into()),
            "{sql}"
        );
    }
    // without the admin id, the support role reads nothing of the shop
    assert_eq!(
        try_as(&mut raw, Some(a), Some(ops), &r.support, &format!("select * from {sa}.settings")).await,
        Ok(1)
    );
    assert_eq!(
        try_as(&mut raw, Some(a), None, &r.support, &format!("select * from {sa}.settings")).await,
        Ok(0)
    );
    // closing ends it, recorded
    {
        let mut c = conn(&pool.clone().into(), false);
        let (tx, _) = c.admin_tx(&hash, None, Access::ReadWrite).await.unwrap().expect("admin");
        tx.query_one("select app_private.admin_start_view($1, null)", &[&hash]).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut c = conn(&pool.clone().into(), false);
    assert!(c.view_as_tx(&hash, a, None).await.unwrap().is_none(), "view as after closing");
    let closed: i64 = admin
        .query_one(
            "select count(*) from app.admin_audit where action = 'view_as.close' and tenant_id = $1",
            &[&a],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(closed, 1);
}

#[tokio::test]
async fn a_suspended_shops_context_reads_nothing() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Panel G").await;
    let owner = db.add_member(a, "o@example.com", "owner").await;
    let admin = db.admin().await;
    let hash = session_hash(&admin, owner, a).await;
    let pool = stock::db::app_pool(&db.config, &roles()).expect("pool");
    admin.execute("update app.tenants set status = 'suspended' where id = $1", &[&a]).await.unwrap();
    let mut c = conn(&pool.clone().into(), false);
    let (tx, ctx) = c.tenant_tx(&hash, Access::ReadWrite).await.unwrap().expect("session");
    assert!(ctx.shop.as_ref().is_some_and(|s| !s.active));
    let row = tx.query_one("select app.current_tenant_id(), current_user::text", &[]).await.unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), None);
    assert_eq!(row.get::<_, String>(1), roles().anon);
    let e = tx.query("select * from app.tenants", &[]).await.expect_err("suspended member read shops");
    assert_eq!(code(&e), Some("42501"));
    drop(tx);
    // each table in its own transaction (an error aborts the transaction)
    for table in ["settings", "products", "sales", "customers", "audit_log", "money_ledger"] {
        let mut c = conn(&pool.clone().into(), false);
        let (tx, _) = c.tenant_tx(&hash, Access::ReadOnly).await.unwrap().expect("session");
        let e = tx.query(&format!("select * from {sa}.{table}"), &[]).await.expect_err("suspended read");
        assert_eq!(code(&e), Some("42501"), "{table}");
    }

    // a context built by hand on the app's login connection (not through the session resolver):
    // the shop roles have lost USAGE on the schema, whatever `stock migrate` re-applies
    let by_hand = |role: String| {
        let (db, sa) = (&db, sa.clone());
        async move {
            let mut c = db.app_login().await;
            let tx = c.transaction().await.expect("begin");
            set_ctx(&tx, Some(a), Some(owner), &role).await;
            let got = tx.query_one(&format!("select count(*) from {sa}.settings"), &[]).await;
            got.map(|r| r.get::<_, i64>(0)).map_err(|e| code(&e).map(str::to_string))
        }
    };
    for role in [roles().owner, roles().admin, roles().staff] {
        assert_eq!(by_hand(role.clone()).await, Err(Some("42501".into())), "{role} read a suspended shop");
    }
    admin.execute("select app_private.apply_tenant_policies($1)", &[&a]).await.expect("re-apply policies");
    assert_eq!(by_hand(roles().owner).await, Err(Some("42501".into())), "policies re-applied opened it");
    // support keeps USAGE for "view as" a suspended shop (its rows still need an admin's view)
    assert!(by_hand(roles().support).await.is_ok(), "support lost its access to a suspended shop");
    // reactivated: the same hand-built context reads again, and so does the member's session
    admin.execute("update app.tenants set status = 'active' where id = $1", &[&a]).await.unwrap();
    assert_eq!(by_hand(roles().owner).await, Ok(1));
    let mut c = conn(&pool.clone().into(), false);
    let (tx, ctx) = c.tenant_tx(&hash, Access::ReadOnly).await.unwrap().expect("session");
    assert!(ctx.shop.as_ref().is_some_and(|s| s.active));
    assert_eq!(tx.query_one("select count(*) from settings", &[]).await.unwrap().get::<_, i64>(0), 1);
}

#[tokio::test]
async fn admin_logins_are_throttled_per_address() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    add_admin(&admin, "ops@example.com").await;
    let mut c = db.app_login().await;
    let r = roles();
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, None, None, &r.anon).await;
    for _ in 0..5 {
        let ok: bool = tx
            .query_one(
                "select app_private.admin_finish_login('ops@example.com', '10.9.9.9', null, false, null, 'x', interval '1 hour', null)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(!ok);
    }
    let row = tx
        .query_one("select admin_id, retry_after_seconds from app_private.admin_begin_login('ops@example.com', '10.9.9.8')", &[])
        .await
        .unwrap();
    assert!(row.get::<_, Option<i64>>(0).is_some());
    assert!(row.get::<_, i32>(1) > 0, "five failures must throttle the address");
    // the anon role cannot read the failures or the accounts directly
    let e = tx.query("select * from app.admin_login_failures", &[]).await.expect_err("anon read failures");
    assert_eq!(code(&e), Some("42501"));
}
