//! Tenant isolation at the SQL level, connected exactly as the web app's pool connects (the login
//! role), so every check here holds even when application code has a bug: a request for shop A
//! cannot read or change shop B, and nothing survives a transaction on a pooled connection.
mod common;

use common::{roles, set_ctx, TestDb};
use tokio_postgres::{Client, Error, Row};

// ---------------------------------------------------------------------------------------------
// helpers

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {}", d.code().code(), d.message()),
        None => format!("{e:?}"),
    }
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected SQLSTATE 42501, but it succeeded: {v:?}"),
        Err(e) => assert_eq!(
            e.code().map(|c| c.code()),
            Some("42501"),
            "{what}: expected SQLSTATE 42501, got {}",
            describe(&e)
        ),
    }
}

#[track_caller]
fn assert_error<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) -> String {
    match r {
        Ok(v) => panic!("{what}: expected an error, but it succeeded: {v:?}"),
        Err(e) => e.code().map(|c| c.code().to_string()).unwrap_or_else(|| describe(&e)),
    }
}

#[derive(Clone, Debug)]
struct Ctx {
    tenant: Option<i64>,
    user: Option<i64>,
    /// `None`: no set_config at all (the login role itself).
    role: Option<String>,
}

fn ctx(tenant: Option<i64>, user: Option<i64>, role: &str) -> Ctx {
    Ctx { tenant, user, role: Some(role.to_string()) }
}

fn bare() -> Ctx {
    Ctx { tenant: None, user: None, role: None }
}

/// Runs one query in a fresh transaction with the given context, then rolls back.
async fn query_in(c: &mut Client, cx: &Ctx, sql: &str) -> Result<Vec<Row>, Error> {
    let tx = c.transaction().await.expect("begin");
    if let Some(role) = &cx.role {
        set_ctx(&tx, cx.tenant, cx.user, role).await;
    }
    let r = tx.query(sql, &[]).await;
    drop(tx); // rollback
    r
}

/// Runs one statement in a fresh transaction with the given context, then rolls back.
async fn exec_in(c: &mut Client, cx: &Ctx, sql: &str) -> Result<u64, Error> {
    let tx = c.transaction().await.expect("begin");
    if let Some(role) = &cx.role {
        set_ctx(&tx, cx.tenant, cx.user, role).await;
    }
    let r = tx.execute(sql, &[]).await;
    drop(tx);
    r
}

async fn count_in(c: &mut Client, cx: &Ctx, sql: &str) -> Result<usize, Error> {
    query_in(c, cx, sql).await.map(|rows| rows.len())
}

/// Two shops, each with an owner, an admin and a staff member; B has one audit row so that
/// "zero rows from B" means something.
struct World {
    db: TestDb,
    a: i64,
    b: i64,
    a_owner: i64,
    a_admin: i64,
    a_staff: i64,
    b_owner: i64,
    b_staff: i64,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Kiosco A").await;
    let (b, _) = db.create_shop("Kiosco B").await;
    let a_owner = db.add_member(a, "owner-a@example.com", "owner").await;
    let a_admin = db.add_member(a, "admin-a@example.com", "admin").await;
    let a_staff = db.add_member(a, "staff-a@example.com", "staff").await;
    let b_owner = db.add_member(b, "owner-b@example.com", "owner").await;
    let b_staff = db.add_member(b, "staff-b@example.com", "staff").await;
    let admin = db.admin().await;
    admin
        .batch_execute(&format!(
            "begin;
             select set_config('app.tenant_id', '{b}', true), set_config('app.user_id', '{b_owner}', true);
             update tenant_{b}.settings set receipt_header = 'B header';
             commit;"
        ))
        .await
        .expect("seed B audit row");
    let n: i64 = admin
        .query_one(&format!("select count(*) from tenant_{b}.audit_log"), &[])
        .await
        .expect("count")
        .get(0);
    assert!(n >= 1, "seeding must have written an audit row in B");
    World { db, a, b, a_owner, a_admin, a_staff, b_owner, b_staff }
}

async fn settings_of(admin: &Client, tenant: i64) -> (String, String, String) {
    let r = admin
        .query_one(
            &format!("select currency, receipt_header, updated_at::text from tenant_{tenant}.settings"),
            &[],
        )
        .await
        .expect("read settings as superuser");
    (r.get(0), r.get(1), r.get(2))
}

// ---------------------------------------------------------------------------------------------
// shop tables

#[tokio::test]
async fn another_shops_tables_are_invisible_and_unwritable() {
    let w = world().await;
    let r = roles();
    let admin = w.db.admin().await;
    let mut c = w.db.app_login().await;
    let b = w.b;
    let before = settings_of(&admin, b).await;

    for (role, user) in [(&r.owner, w.a_owner), (&r.admin, w.a_admin), (&r.staff, w.a_staff)] {
        let a_ctx = ctx(Some(w.a), Some(user), role);
        // positive control: the own shop's row is there
        assert_eq!(
            count_in(&mut c, &a_ctx, &format!("select * from tenant_{}.settings", w.a)).await.unwrap(),
            1
        );
        assert_eq!(
            count_in(&mut c, &a_ctx, &format!("select * from tenant_{b}.settings")).await.unwrap(),
            0,
            "{role} of A reads B's settings"
        );
        // unqualified name: search_path is A's schema, so this is A's row, never B's
        let rows = query_in(&mut c, &a_ctx, "select receipt_header from settings").await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_ne!(rows[0].get::<_, String>(0), "B header");
    }

    let owner_a = ctx(Some(w.a), Some(w.a_owner), &r.owner);
    let admin_a = ctx(Some(w.a), Some(w.a_admin), &r.admin);
    for cx in [&owner_a, &admin_a] {
        assert_eq!(
            count_in(&mut c, cx, &format!("select * from tenant_{b}.audit_log")).await.unwrap(),
            0,
            "{cx:?} reads B's audit log"
        );
    }
    // staff has no SELECT on audit_log at all
    assert_denied(
        query_in(
            &mut c,
            &ctx(Some(w.a), Some(w.a_staff), &r.staff),
            &format!("select * from tenant_{b}.audit_log"),
        )
        .await,
        "staff of A reads B's audit log",
    );

    // the owner of A holds UPDATE on settings (in its own schema's grant too): RLS filters B's row
    assert_eq!(
        exec_in(&mut c, &owner_a, &format!("update tenant_{b}.settings set currency = 'USD'")).await.unwrap(),
        0,
        "owner of A updated B's settings"
    );
    // committed, to be sure nothing was written
    {
        let tx = c.transaction().await.unwrap();
        set_ctx(&tx, Some(w.a), Some(w.a_owner), &r.owner).await;
        let n = tx
            .execute(&format!("update tenant_{b}.settings set currency = 'USD', receipt_header = 'x'"), &[])
            .await
            .unwrap();
        assert_eq!(n, 0);
        tx.commit().await.unwrap();
    }
    assert_eq!(settings_of(&admin, b).await, before, "B's settings changed");

    assert_denied(
        exec_in(&mut c, &owner_a, &format!("delete from tenant_{b}.settings")).await,
        "owner of A deletes B's settings",
    );
    assert_denied(
        exec_in(&mut c, &owner_a, &format!("insert into tenant_{b}.settings (id) values (true)")).await,
        "owner of A inserts into B's settings",
    );
    for cx in [&owner_a, &admin_a, &ctx(Some(w.a), Some(w.a_staff), &r.staff)] {
        assert_denied(
            exec_in(
                &mut c,
                cx,
                &format!("insert into tenant_{b}.audit_log (action, entity) values ('forged', 'settings')"),
            )
            .await,
            "insert into B's audit log",
        );
    }
    let audit_b: i64 = admin
        .query_one(&format!("select count(*) from tenant_{b}.audit_log where action = 'forged'"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(audit_b, 0);
}

// ---------------------------------------------------------------------------------------------
// shared tables

fn ids(rows: &[Row], col: usize) -> Vec<i64> {
    let mut v: Vec<i64> = rows.iter().map(|r| r.get(col)).collect();
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn shared_tables_show_only_the_shop_in_context() {
    let w = world().await;
    let r = roles();
    let admin = w.db.admin().await;
    let mut c = w.db.app_login().await;
    let mut a_members = vec![w.a_owner, w.a_admin, w.a_staff];
    a_members.sort();

    for (role, user) in [(&r.owner, w.a_owner), (&r.admin, w.a_admin), (&r.staff, w.a_staff)] {
        let cx = ctx(Some(w.a), Some(user), role);
        let t = query_in(&mut c, &cx, "select id from app.tenants").await.unwrap();
        assert_eq!(ids(&t, 0), vec![w.a], "{role}: app.tenants");

        let m = query_in(&mut c, &cx, "select tenant_id, user_id from app.memberships").await.unwrap();
        assert_eq!(ids(&m, 0), vec![w.a], "{role}: app.memberships tenants");
        assert_eq!(ids(&m, 1), a_members, "{role}: app.memberships users");

        let u = query_in(&mut c, &cx, "select id, email from app.users").await.unwrap();
        assert_eq!(ids(&u, 0), a_members, "{role}: app.users");

        assert_denied(query_in(&mut c, &cx, "select password_hash from app.users").await, "password_hash");
        assert_denied(query_in(&mut c, &cx, "select * from app.users").await, "select * from app.users");
        assert_denied(
            query_in(&mut c, &cx, &format!("select password_hash from app.users where id = {user}")).await,
            "own password_hash",
        );
        assert_denied(query_in(&mut c, &cx, "select * from app.sessions").await, "app.sessions");
        assert_denied(
            query_in(&mut c, &cx, "select token_hash from app.sessions").await,
            "app.sessions token",
        );
        assert_denied(query_in(&mut c, &cx, "select * from app.login_failures").await, "app.login_failures");
        assert_denied(
            exec_in(&mut c, &cx, "insert into app.login_failures (email) values ('x@example.com')").await,
            "insert app.login_failures",
        );
        assert_denied(exec_in(&mut c, &cx, "delete from app.sessions").await, "delete app.sessions");
        assert_denied(query_in(&mut c, &cx, "select * from app_private.config").await, "app_private.config");
        assert_denied(
            query_in(&mut c, &cx, "select * from app_private.policy_templates").await,
            "app_private.policy_templates",
        );
    }

    // the owner of A writes memberships, but only A's
    let owner_a = ctx(Some(w.a), Some(w.a_owner), &r.owner);
    assert_eq!(
        exec_in(
            &mut c,
            &owner_a,
            &format!("update app.memberships set role = 'admin' where tenant_id = {}", w.b)
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        exec_in(&mut c, &owner_a, &format!("delete from app.memberships where tenant_id = {}", w.b))
            .await
            .unwrap(),
        0
    );
    assert_denied(
        exec_in(
            &mut c,
            &owner_a,
            &format!(
                "insert into app.memberships (tenant_id, user_id, role) values ({}, {}, 'owner')",
                w.b, w.a_owner
            ),
        )
        .await,
        "owner of A makes themselves owner of B",
    );
    assert_denied(
        exec_in(
            &mut c,
            &owner_a,
            &format!("update app.memberships set tenant_id = {} where tenant_id = {}", w.b, w.a),
        )
        .await,
        "moving A's memberships to B",
    );
    assert_eq!(
        exec_in(&mut c, &owner_a, &format!("update app.tenants set name = 'pwned' where id = {}", w.b))
            .await
            .unwrap(),
        0
    );
    let b_members: i64 = admin
        .query_one("select count(*) from app.memberships where tenant_id = $1 and role <> 'admin'", &[&w.b])
        .await
        .unwrap()
        .get(0);
    assert_eq!(b_members, 2, "B's memberships changed");
    let b_name: String =
        admin.query_one("select name from app.tenants where id = $1", &[&w.b]).await.unwrap().get(0);
    assert_eq!(b_name, "Kiosco B");
}

/// Adding someone to a shop must not be a way to read the e-mail address of any account in the
/// service (ids are sequential) or to put a stranger into a shop without their consent: a direct
/// INSERT into app.memberships followed by a read of app.users (member_read) would do both.
#[tokio::test]
async fn an_owner_cannot_attach_a_stranger_and_read_their_email() {
    let w = world().await;
    let r = roles();
    let mut c = w.db.app_login().await;
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(w.a), Some(w.a_owner), &r.owner).await;
    let visible_before: i64 =
        tx.query_one("select count(*) from app.users where id = $1", &[&w.b_staff]).await.unwrap().get(0);
    assert_eq!(visible_before, 0);
    let attached = tx
        .execute(
            "insert into app.memberships (tenant_id, user_id, role) values ($1, $2, 'staff')",
            &[&w.a, &w.b_staff],
        )
        .await;
    let leaked = match attached {
        Err(e) => {
            assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{}", describe(&e));
            None
        }
        Ok(_) => tx
            .query_opt("select email from app.users where id = $1", &[&w.b_staff])
            .await
            .unwrap()
            .map(|r| r.get::<_, String>(0)),
    };
    assert_eq!(leaked, None, "the owner of shop A read the e-mail of a member of shop B only");
}

// ---------------------------------------------------------------------------------------------
// no context

/// Every table in a shop schema, as the superuser sees it.
async fn shop_tables(admin: &Client, tenant: i64) -> Vec<String> {
    let rows = admin
        .query(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1",
            &[&format!("tenant_{tenant}")],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn without_a_context_shop_tables_are_refused_or_empty() {
    let w = world().await;
    let r = roles();
    let admin = w.db.admin().await;
    let mut c = w.db.app_login().await;
    let tables = shop_tables(&admin, w.a).await;
    assert!(tables.iter().any(|t| t == "settings") && tables.iter().any(|t| t == "audit_log"), "{tables:?}");

    // the login role itself: it holds nothing (NOINHERIT), not even USAGE on the schema
    for t in &tables {
        assert_denied(
            query_in(&mut c, &bare(), &format!("select * from tenant_{}.{t}", w.a)).await,
            &format!("login role reads tenant_{}.{t}", w.a),
        );
    }
    for t in ["tenants", "users", "memberships", "sessions", "login_failures"] {
        assert_denied(
            query_in(&mut c, &bare(), &format!("select * from app.{t}")).await,
            &format!("app.{t}"),
        );
    }
    // also outside any explicit transaction
    assert_denied(c.query(&format!("select * from tenant_{}.settings", w.a), &[]).await, "autocommit read");

    // a shop role but no tenant: zero rows wherever the role may read, 42501 where it may not
    for role in [&r.owner, &r.admin, &r.staff] {
        let cx = ctx(None, None, role);
        for t in &tables {
            let can: bool = admin
                .query_one(
                    "select has_table_privilege($1, format('%I.%I', $2::text, $3::text), 'select')",
                    &[role, &format!("tenant_{}", w.a), t],
                )
                .await
                .unwrap()
                .get(0);
            let res = count_in(&mut c, &cx, &format!("select * from tenant_{}.{t}", w.a)).await;
            if can {
                assert_eq!(res.unwrap(), 0, "{role} without tenant reads tenant_{}.{t}", w.a);
            } else {
                assert_denied(res, &format!("{role} without tenant reads tenant_{}.{t}", w.a));
            }
        }
        assert_eq!(count_in(&mut c, &cx, "select id from app.tenants").await.unwrap(), 0);
        assert_eq!(count_in(&mut c, &cx, "select user_id from app.memberships").await.unwrap(), 0);
        assert_eq!(count_in(&mut c, &cx, "select id from app.users").await.unwrap(), 0);
    }
    // and no write lands either
    let before = settings_of(&admin, w.a).await;
    assert_eq!(
        exec_in(
            &mut c,
            &ctx(None, None, &r.owner),
            &format!("update tenant_{}.settings set currency = 'USD'", w.a)
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(settings_of(&admin, w.a).await, before);
    // the user id alone does not open the shop either
    assert_eq!(
        count_in(
            &mut c,
            &ctx(None, Some(w.a_owner), &r.owner),
            &format!("select * from tenant_{}.settings", w.a)
        )
        .await
        .unwrap(),
        0
    );
}

async fn assert_clean(c: &Client, what: &str) {
    let row = c
        .query_one(
            "select current_setting('app.tenant_id', true), current_setting('app.user_id', true),
                    current_user::text, session_user::text, current_setting('search_path')",
            &[],
        )
        .await
        .unwrap();
    let tenant: Option<String> = row.get(0);
    let user: Option<String> = row.get(1);
    let current: String = row.get(2);
    let session: String = row.get(3);
    let path: String = row.get(4);
    assert!(tenant.as_deref().unwrap_or("").is_empty(), "{what}: app.tenant_id leaked: {tenant:?}");
    assert!(user.as_deref().unwrap_or("").is_empty(), "{what}: app.user_id leaked: {user:?}");
    assert_eq!(current, roles().app, "{what}: current_user");
    assert_eq!(session, roles().app, "{what}: session_user");
    assert!(!path.contains("tenant_"), "{what}: search_path leaked: {path}");
}

#[tokio::test]
async fn an_earlier_transaction_leaves_no_context_on_the_connection() {
    let w = world().await;
    let r = roles();
    let mut c = w.db.app_login().await;
    assert_clean(&c, "fresh connection").await;

    // committed
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(w.a), Some(w.a_owner), &r.owner).await;
    assert_eq!(tx.query(&format!("select * from tenant_{}.settings", w.a), &[]).await.unwrap().len(), 1);
    assert_eq!(tx.query("select * from settings", &[]).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
    assert_clean(&c, "after commit").await;
    // the next transaction, without context
    {
        let tx = c.transaction().await.unwrap();
        let v: Option<String> =
            tx.query_one("select current_setting('app.tenant_id', true)", &[]).await.unwrap().get(0);
        assert!(v.as_deref().unwrap_or("").is_empty(), "{v:?}");
        let me: String = tx.query_one("select current_user::text", &[]).await.unwrap().get(0);
        assert_eq!(me, r.app);
        assert_denied(tx.query(&format!("select * from tenant_{}.settings", w.a), &[]).await, "after commit");
    }
    // unqualified names no longer resolve to the shop
    assert_error(c.query("select * from settings", &[]).await, "unqualified settings after commit");
    // a role switch alone still shows nothing
    assert_eq!(
        count_in(&mut c, &ctx(None, None, &r.owner), &format!("select * from tenant_{}.settings", w.a))
            .await
            .unwrap(),
        0
    );

    // rolled back
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(w.b), Some(w.b_owner), &r.owner).await;
    assert_eq!(tx.query(&format!("select * from tenant_{}.settings", w.b), &[]).await.unwrap().len(), 1);
    tx.rollback().await.unwrap();
    assert_clean(&c, "after rollback").await;

    // aborted by an error, then dropped
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(w.a), Some(w.a_owner), &r.owner).await;
    assert_eq!(assert_error(tx.query("select 1 / 0", &[]).await, "division"), "22012");
    drop(tx);
    assert_clean(&c, "after an aborted transaction").await;

    // committed after an error (COMMIT of an aborted transaction rolls back)
    let tx = c.transaction().await.unwrap();
    set_ctx(&tx, Some(w.a), Some(w.a_owner), &r.owner).await;
    let _ = tx.query("select 1 / 0", &[]).await;
    let _ = tx.commit().await;
    assert_clean(&c, "after committing an aborted transaction").await;
    assert_denied(c.query(&format!("select * from tenant_{}.settings", w.a), &[]).await, "after all that");
}

// ---------------------------------------------------------------------------------------------
// escalation

#[tokio::test]
async fn the_login_role_cannot_escalate() {
    let w = world().await;
    let r = roles();
    let admin = w.db.admin().await;
    let mut c = w.db.app_login().await;
    let a = w.a;
    let owner_a = ctx(Some(a), Some(w.a_owner), &r.owner);
    let staff_a = ctx(Some(a), Some(w.a_staff), &r.staff);

    // becoming the schema owner (or a superuser)
    assert_denied(c.batch_execute(&format!("set role {}", r.schema_owner)).await, "set role schema_owner");
    assert_error(c.batch_execute("set role postgres").await, "set role postgres");
    assert_error(c.batch_execute("set session authorization postgres").await, "set session authorization");
    for cx in [bare(), owner_a.clone()] {
        assert_denied(
            query_in(&mut c, &cx, &format!("select set_config('role', '{}', true)", r.schema_owner)).await,
            "set_config role schema_owner",
        );
        assert_denied(
            exec_in(&mut c, &cx, &format!("set local role {}", r.schema_owner)).await,
            "set local role schema_owner",
        );
    }
    let me: String = c.query_one("select current_user::text", &[]).await.unwrap().get(0);
    assert_eq!(me, r.app);

    // turning RLS off, dropping policies, DDL
    for cx in [bare(), owner_a.clone()] {
        for stmt in [
            format!("alter table tenant_{a}.settings disable row level security"),
            format!("alter table tenant_{a}.settings no force row level security"),
            format!("drop policy tenant_isolation on tenant_{a}.settings"),
            format!("create policy open on tenant_{a}.settings using (true)"),
            format!("create table tenant_{a}.x (i int)"),
            "create table app.x (i int)".into(),
            "create table app_private.x (i int)".into(),
            "create table public.x (i int)".into(),
            "create temporary table x (i int)".into(),
            "create schema x".into(),
            format!("create function tenant_{a}.f() returns int language sql as 'select 1'"),
            "create function app.current_tenant_id(int) returns bigint language sql as 'select 1::bigint'"
                .into(),
            format!("truncate tenant_{a}.audit_log"),
            format!("alter table tenant_{a}.audit_log disable trigger audit_log_append_only"),
        ] {
            assert_denied(exec_in(&mut c, &cx, &stmt).await, &format!("{cx:?}: {stmt}"));
        }
    }
    let rls: (bool, bool) = {
        let row = admin
            .query_one(
                "select relrowsecurity, relforcerowsecurity from pg_class where oid = $1::text::regclass",
                &[&format!("tenant_{a}.settings")],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(rls, (true, true));

    // row_security = off never means "see everything": PostgreSQL raises 42501 whenever a policy
    // would apply (the role is neither owner nor BYPASSRLS, and the table forces RLS).
    for (cx, schema) in [
        (owner_a.clone(), format!("tenant_{a}")),
        (owner_a.clone(), format!("tenant_{}", w.b)),
        (ctx(None, None, &r.owner), format!("tenant_{a}")),
    ] {
        let tx = c.transaction().await.unwrap();
        set_ctx(&tx, cx.tenant, cx.user, cx.role.as_deref().unwrap()).await;
        tx.batch_execute("set local row_security = off").await.expect("row_security is settable");
        let res = tx.query(&format!("select * from {schema}.settings"), &[]).await;
        assert_denied(res, &format!("row_security=off read of {schema}"));
    }
    // session-level too, as the bare login role: still no privilege at all
    c.batch_execute("set row_security = off").await.unwrap();
    assert_denied(c.query(&format!("select * from tenant_{a}.settings"), &[]).await, "row_security off bare");
    c.batch_execute("reset row_security").await.unwrap();

    // app_private functions not granted: as the login role and as every shop role
    let calls = [
        "select app_private.create_tenant('x', 'xxx')".to_string(),
        format!("select app_private.migrate_tenant({a})"),
        format!("select app_private.apply_tenant_policies({a})"),
        format!("select app_private.add_member({a}, 'evil@example.com', 'Evil', 'h', 'owner')"),
        format!(
            "select app_private.create_session({}, {}, '\\x00'::bytea, interval '1 hour', null, null)",
            w.a_owner, w.b
        ),
        "select app_private.config_value('role_schema_owner')".into(),
        "select app_private.render('select 1', null)".into(),
        "select app_private.unique_slug('x')".into(),
    ];
    for cx in [bare(), owner_a.clone(), staff_a.clone(), ctx(None, None, &r.anon)] {
        for call in &calls {
            assert_denied(query_in(&mut c, &cx, call).await, &format!("{cx:?}: {call}"));
        }
    }
    // anon's narrow paths are not the login role's
    assert_denied(
        query_in(&mut c, &bare(), "select * from app_private.begin_login('owner-a@example.com', null)").await,
        "login role calls begin_login directly",
    );
    let shops: i64 = admin.query_one("select count(*) from app.tenants", &[]).await.unwrap().get(0);
    assert_eq!(shops, 2, "a shop was created");

    // a shop role cannot hand its privileges on: GRANT without grant option grants nothing
    {
        let tx = c.transaction().await.unwrap();
        set_ctx(&tx, Some(a), Some(w.a_owner), &r.owner).await;
        let res =
            tx.batch_execute(&format!("grant select, update on tenant_{a}.settings to {}", r.anon)).await;
        // PostgreSQL answers with a warning ("no privileges were granted"), not an error
        res.expect("grant without grant option is a warning");
        tx.commit().await.unwrap();
    }
    let anon_can: bool = admin
        .query_one(
            "select has_table_privilege($1, $2, 'select') or has_table_privilege($1, $2, 'update')",
            &[&r.anon, &format!("tenant_{a}.settings")],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!anon_can, "a shop role granted its privileges to anon");
}

#[tokio::test]
async fn the_context_decides_and_the_schema_must_match_it() {
    let w = world().await;
    let r = roles();
    let mut c = w.db.app_login().await;
    let a = w.a;
    // the owner of A (member of A only) with the tenant setting switched to B
    let switched = ctx(Some(w.b), Some(w.a_owner), &r.owner);
    assert_eq!(count_in(&mut c, &switched, &format!("select * from tenant_{a}.settings")).await.unwrap(), 0);
    assert_eq!(count_in(&mut c, &switched, &format!("select * from tenant_{a}.audit_log")).await.unwrap(), 0);
    assert_eq!(
        exec_in(&mut c, &switched, &format!("update tenant_{a}.settings set currency = 'USD'"))
            .await
            .unwrap(),
        0
    );
    let m = query_in(&mut c, &switched, "select tenant_id from app.memberships").await.unwrap();
    assert!(ids(&m, 0).iter().all(|t| *t == w.b), "memberships of another shop than the context");
    let t = query_in(&mut c, &switched, "select id from app.tenants").await.unwrap();
    assert_eq!(ids(&t, 0), vec![w.b]);

    // The database trusts the context: the tenant setting (put there only by tenant_tx from a
    // resolved session) decides what is visible. A request holding B's tenant id sees B's row.
    // This is the documented trust boundary, asserted so a change to it is noticed.
    assert_eq!(
        count_in(&mut c, &switched, &format!("select * from tenant_{}.settings", w.b)).await.unwrap(),
        1
    );
    // a garbage tenant id is an error, not a wildcard
    let tx = c.transaction().await.unwrap();
    tx.query_one(
        "select set_config('role', $1, true), set_config('app.tenant_id', '1 or true', true)",
        &[&r.owner],
    )
    .await
    .unwrap();
    let code =
        assert_error(tx.query(&format!("select * from tenant_{a}.settings"), &[]).await, "bad tenant id");
    assert_eq!(code, "22P02");
}
