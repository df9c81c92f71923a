//! Memberships, the shop's name and its settings, enforced by PostgreSQL: exercised as the web
//! app's login role in a request context set exactly as the app sets it. Only the owner role
//! changes roles, removes members, renames the shop and changes settings, and only in its own
//! shop; admin and staff are refused; a missing context changes nothing; nobody inserts a
//! membership; the last owner is kept; a handover is one transaction; every change is audited;
//! a removed member's session no longer resolves to the shop.
mod common;

use common::{roles, set_ctx, TestDb};
use serde_json::{json, Value};
use stock::domain::catalog::WriteError;
use stock::domain::member::Role;
use stock::domain::members;
use tokio_postgres::{Client, Error};

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {} (constraint {:?})", d.code().code(), d.message(), d.constraint()),
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

struct Fixture {
    db: TestDb,
    admin: Client,
    a: i64,
    b: i64,
    /// shop A: owner, admin, staff, a second staff member
    a_owner: i64,
    a_admin: i64,
    a_staff: i64,
    a_staff2: i64,
    /// shop B: owner, staff
    b_owner: i64,
    b_staff: i64,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Tienda A").await;
    let (b, _) = db.create_shop("Tienda B").await;
    let f = Fixture {
        a_owner: db.add_member(a, "owner-a@example.com", "owner").await,
        a_admin: db.add_member(a, "admin-a@example.com", "admin").await,
        a_staff: db.add_member(a, "staff-a@example.com", "staff").await,
        a_staff2: db.add_member(a, "staff2-a@example.com", "staff").await,
        b_owner: db.add_member(b, "owner-b@example.com", "owner").await,
        b_staff: db.add_member(b, "staff-b@example.com", "staff").await,
        admin: db.admin().await,
        db,
        a,
        b,
    };
    f
}

impl Fixture {
    async fn role_of(&self, tenant: i64, user: i64) -> Option<String> {
        self.admin
            .query_opt(
                "select role from app.memberships where tenant_id = $1 and user_id = $2",
                &[&tenant, &user],
            )
            .await
            .expect("role")
            .map(|r| r.get(0))
    }

    async fn name_of(&self, tenant: i64) -> String {
        self.admin
            .query_one("select name from app.tenants where id = $1", &[&tenant])
            .await
            .expect("name")
            .get(0)
    }

    /// The shop's audit rows, oldest first: (user_id, action, entity, entity_id, old, new).
    async fn audit(
        &self,
        tenant: i64,
    ) -> Vec<(Option<i64>, String, String, Option<String>, Option<Value>, Option<Value>)> {
        self.admin
            .query(
                &format!(
                    "select user_id, action, entity, entity_id, old_values, new_values
                       from tenant_{tenant}.audit_log order by id"
                ),
                &[],
            )
            .await
            .expect("audit")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
            .collect()
    }
}

/// Runs `sql` as the login role in the given context, in a transaction that is rolled back (or
/// committed when `commit`). Returns rows affected.
async fn run(
    c: &mut Client,
    ctx: (Option<i64>, Option<i64>, &str),
    sql: &str,
    commit: bool,
) -> Result<u64, Error> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, ctx.0, ctx.1, ctx.2).await;
    let n = tx.execute(sql, &[]).await?;
    if commit {
        tx.commit().await?;
    }
    Ok(n)
}

#[tokio::test]
async fn only_the_owner_changes_roles_and_removes_members_in_its_own_shop() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let (a, b) = (f.a, f.b);
    let set_role = |t: i64, u: i64| {
        format!("update app.memberships set role = 'admin' where tenant_id = {t} and user_id = {u}")
    };
    let delete =
        |t: i64, u: i64| format!("delete from app.memberships where tenant_id = {t} and user_id = {u}");

    // admin and staff are refused, for role changes and removals alike
    for (who, role) in [(f.a_admin, &r.admin), (f.a_staff, &r.staff)] {
        let ctx = (Some(a), Some(who), role.as_str());
        assert_sqlstate(
            run(&mut c, ctx, &set_role(a, f.a_staff2), true).await,
            "42501",
            "non-owner role change",
        );
        assert_sqlstate(run(&mut c, ctx, &delete(a, f.a_staff2), true).await, "42501", "non-owner removal");
    }
    // the owner of A cannot reach B's memberships: zero rows, even naming B's tenant id
    let owner_a = (Some(a), Some(f.a_owner), r.owner.as_str());
    assert_eq!(run(&mut c, owner_a, &set_role(b, f.b_staff), true).await.expect("cross update"), 0);
    assert_eq!(run(&mut c, owner_a, &delete(b, f.b_staff), true).await.expect("cross delete"), 0);
    assert_eq!(
        run(
            &mut c,
            owner_a,
            &format!("update app.memberships set role = 'staff' where user_id = {}", f.b_owner),
            true
        )
        .await
        .expect("cross update by user id"),
        0
    );
    // a missing context changes nothing: no tenant -> zero rows; no role switch -> no privilege
    let no_tenant = (None, Some(f.a_owner), r.owner.as_str());
    assert_eq!(run(&mut c, no_tenant, &set_role(a, f.a_staff2), true).await.expect("no tenant"), 0);
    assert_eq!(run(&mut c, no_tenant, &delete(a, f.a_staff2), true).await.expect("no tenant"), 0);
    assert_sqlstate(c.execute(&set_role(a, f.a_staff2), &[]).await, "42501", "login role without a switch");
    assert_sqlstate(
        run(&mut c, (Some(a), Some(f.a_owner), r.anon.as_str()), &set_role(a, f.a_staff2), true).await,
        "42501",
        "anon",
    );
    // nobody inserts memberships directly, the owner included
    assert_sqlstate(
        run(
            &mut c,
            owner_a,
            &format!(
                "insert into app.memberships (tenant_id, user_id, role) values ({a}, {}, 'staff')",
                f.b_staff
            ),
            true,
        )
        .await,
        "42501",
        "owner insert",
    );
    assert_eq!(f.role_of(a, f.a_staff2).await.as_deref(), Some("staff"));
    assert_eq!(f.role_of(b, f.b_staff).await.as_deref(), Some("staff"));
    assert_eq!(f.role_of(b, f.b_owner).await.as_deref(), Some("owner"));
    assert!(f.audit(a).await.is_empty() && f.audit(b).await.is_empty(), "refusals leave no audit rows");

    // the owner does both in its own shop; each change is audited with who and the member's e-mail
    assert_eq!(run(&mut c, owner_a, &set_role(a, f.a_staff2), true).await.expect("owner update"), 1);
    assert_eq!(run(&mut c, owner_a, &delete(a, f.a_staff), true).await.expect("owner delete"), 1);
    assert_eq!(f.role_of(a, f.a_staff2).await.as_deref(), Some("admin"));
    assert_eq!(f.role_of(a, f.a_staff).await, None);
    let log = f.audit(a).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        log[0],
        (
            Some(f.a_owner),
            "role_change".into(),
            "member".into(),
            Some(f.a_staff2.to_string()),
            Some(json!({"member": "staff2-a@example.com", "role": "staff"})),
            Some(json!({"member": "staff2-a@example.com", "role": "admin"})),
        )
    );
    assert_eq!(
        log[1],
        (
            Some(f.a_owner),
            "member_removed".into(),
            "member".into(),
            Some(f.a_staff.to_string()),
            Some(json!({"member": "staff-a@example.com", "role": "staff"})),
            None,
        )
    );
}

#[tokio::test]
async fn the_last_owner_is_kept_and_a_handover_is_one_transaction() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let a = f.a;
    let owner_a = (Some(a), Some(f.a_owner), r.owner.as_str());

    // demoting or removing the only owner is refused at commit
    let demote = format!(
        "update app.memberships set role = 'admin' where tenant_id = {a} and user_id = {}",
        f.a_owner
    );
    let e = assert_sqlstate(run(&mut c, owner_a, &demote, true).await, "23514", "last owner demoted");
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("memberships_last_owner"));
    let remove = format!("delete from app.memberships where tenant_id = {a} and user_id = {}", f.a_owner);
    assert_sqlstate(run(&mut c, owner_a, &remove, true).await, "23514", "last owner removed");
    assert_eq!(f.role_of(a, f.a_owner).await.as_deref(), Some("owner"));
    assert!(f.audit(a).await.is_empty(), "a refused change leaves no audit row");

    // a plain UPDATE never makes an owner (policy owner_by_handover_only, tests/db_rules.rs)
    let promote = format!(
        "update app.memberships set role = 'owner' where tenant_id = {a} and user_id = {}",
        f.a_admin
    );
    assert_sqlstate(run(&mut c, owner_a, &promote, true).await, "42501", "plain update to owner");

    // the handover: the admin becomes owner, the owner an admin, together
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(f.a_owner), &r.owner).await;
    let done: bool =
        tx.query_one("select app_private.hand_over_shop($1)", &[&f.a_admin]).await.expect("handover").get(0);
    assert!(done, "handover");
    tx.commit().await.expect("commit handover");
    assert_eq!(f.role_of(a, f.a_admin).await.as_deref(), Some("owner"));
    assert_eq!(f.role_of(a, f.a_owner).await.as_deref(), Some("admin"));
    let log = f.audit(a).await;
    let actions: Vec<&str> = log.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(actions, ["ownership_handover", "role_change"]);
    assert_eq!(log[0].3.as_deref(), Some(f.a_admin.to_string().as_str()));
    assert!(log.iter().all(|e| e.0 == Some(f.a_owner)), "both written in the former owner's name");

    // the former owner is an admin now: the database refuses it further member changes
    let back = format!(
        "update app.memberships set role = 'owner' where tenant_id = {a} and user_id = {}",
        f.a_owner
    );
    assert_sqlstate(
        run(&mut c, (Some(a), Some(f.a_owner), r.admin.as_str()), &back, true).await,
        "42501",
        "ex-owner",
    );
}

/// The domain's functions through the app's own pool, as the app runs them: the refusals come
/// back as messages and nothing is written.
#[tokio::test]
async fn the_domain_turns_refusals_into_messages() {
    let f = fixture().await;
    let r = roles();
    let pool = stock::db::app_pool(&f.db.config, &r).expect("pool");
    let mut obj = pool.get().await.expect("conn");

    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(f.a), Some(f.a_owner), &r.owner).await;
    match members::change_role(&tx, f.a_owner, Role::Admin).await {
        Err(WriteError::Field(e)) => assert_eq!(e, vec![("member", "member.error_last_owner")]),
        other => panic!("demoting the last owner: {:?}", other.map_err(|_| "error")),
    }
    drop(tx);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(f.a), Some(f.a_owner), &r.owner).await;
    match members::remove(&tx, f.a_owner).await {
        Err(WriteError::Field(e)) => assert_eq!(e, vec![("member", "member.error_last_owner")]),
        other => panic!("removing the last owner: {:?}", other.map_err(|_| "error")),
    }
    drop(tx);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(f.a), Some(f.a_owner), &r.owner).await;
    assert!(
        matches!(members::change_role(&tx, f.b_staff, Role::Admin).await, Ok(false)),
        "another shop's member"
    );
    assert!(matches!(members::remove(&tx, f.b_staff).await, Ok(false)), "another shop's member");
    assert!(matches!(members::hand_over(&tx, f.b_staff).await, Ok(false)), "another shop's member");
    assert!(matches!(
        members::change_role(&tx, f.a_staff, Role::Owner).await,
        Err(WriteError::Field(e)) if e == vec![("member", "member.error_owner_by_handover")]
    ));
    drop(tx);
    let tx = stock::db::tx::Tx::begin(&mut obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
    set_ctx(&**tx, Some(f.a), Some(f.a_owner), &r.owner).await;
    assert!(members::hand_over(&tx, f.a_staff).await.unwrap_or(false), "handover");
    tx.commit().await.expect("commit");
    assert_eq!(f.role_of(f.a, f.a_staff).await.as_deref(), Some("owner"));
    assert_eq!(f.role_of(f.a, f.a_owner).await.as_deref(), Some("admin"));
    assert_eq!(f.role_of(f.b, f.b_staff).await.as_deref(), Some("staff"));
}

#[tokio::test]
async fn a_removed_members_session_no_longer_reaches_the_shop() {
    let f = fixture().await;
    let r = roles();
    let hash = vec![7u8; 32];
    f.admin
        .execute(
            "select app_private.create_session($1, $2, $3, interval '1 hour', null, null)",
            &[&f.a_staff, &f.a, &hash],
        )
        .await
        .expect("session");
    let c = f.db.app_login().await;
    let resolve = "select tenant_id, member_role, db_role from app_private.resolve_session($1)";
    let row = c.query_one(resolve, &[&hash]).await.expect("resolve");
    assert_eq!(row.get::<_, Option<i64>>(0), Some(f.a));
    assert_eq!(row.get::<_, String>(2), r.staff);
    let mut c2 = f.db.app_login().await;
    let owner_a = (Some(f.a), Some(f.a_owner), r.owner.as_str());
    let sql = format!("delete from app.memberships where tenant_id = {} and user_id = {}", f.a, f.a_staff);
    assert_eq!(run(&mut c2, owner_a, &sql, true).await.expect("remove"), 1);
    // the same cookie now resolves to no shop and the anonymous role: it reads nothing there
    let row = c.query_one(resolve, &[&hash]).await.expect("resolve after removal");
    assert_eq!(row.get::<_, Option<i64>>(0), None);
    assert_eq!(row.get::<_, Option<String>>(1), None);
    assert_eq!(row.get::<_, String>(2), r.anon);
}

#[tokio::test]
async fn only_the_owner_renames_the_shop_and_changes_settings_in_its_own_shop() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let (a, b) = (f.a, f.b);
    let rename = |t: i64| format!("update app.tenants set name = 'Otro nombre' where id = {t}");
    let settings =
        |t: i64| format!("update tenant_{t}.settings set currency = 'EUR', quote_validity_days = 30");

    for (who, role) in [(f.a_admin, &r.admin), (f.a_staff, &r.staff)] {
        let ctx = (Some(a), Some(who), role.as_str());
        assert_sqlstate(run(&mut c, ctx, &rename(a), true).await, "42501", "non-owner rename");
        assert_sqlstate(run(&mut c, ctx, &settings(a), true).await, "42501", "non-owner settings");
        for column in ["allow_negative_stock = true", "quote_validity_days = 3", "time_zone = 'UTC'"] {
            let sql = format!("update tenant_{a}.settings set {column}");
            assert_sqlstate(run(&mut c, ctx, &sql, true).await, "42501", column);
        }
    }
    let owner_a = (Some(a), Some(f.a_owner), r.owner.as_str());
    // another shop: its tenant row and its settings are out of reach (zero rows)
    assert_eq!(run(&mut c, owner_a, &rename(b), true).await.expect("cross rename"), 0);
    assert_eq!(run(&mut c, owner_a, &settings(b), true).await.expect("cross settings"), 0);
    // no tenant in context: zero rows
    let no_tenant = (None, Some(f.a_owner), r.owner.as_str());
    assert_eq!(run(&mut c, no_tenant, &rename(a), true).await.expect("no ctx rename"), 0);
    assert_eq!(run(&mut c, no_tenant, &settings(a), true).await.expect("no ctx settings"), 0);
    // nobody inserts or deletes the settings row
    assert_sqlstate(
        run(&mut c, owner_a, &format!("delete from tenant_{a}.settings"), true).await,
        "42501",
        "delete",
    );
    assert_eq!(f.name_of(b).await, "Tienda B");
    assert!(f.audit(a).await.is_empty() && f.audit(b).await.is_empty());

    // an unknown time zone is refused by the database itself
    let e = assert_sqlstate(
        run(&mut c, owner_a, &format!("update tenant_{a}.settings set time_zone = 'Mars/Olympus'"), true)
            .await,
        "23514",
        "unknown time zone",
    );
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("settings_time_zone_check"));

    // the owner does it, audited
    assert_eq!(run(&mut c, owner_a, &rename(a), true).await.expect("rename"), 1);
    assert_eq!(run(&mut c, owner_a, &settings(a), true).await.expect("settings"), 1);
    let sql = format!("update tenant_{a}.settings set time_zone = 'Europe/Madrid'");
    assert_eq!(run(&mut c, owner_a, &sql, true).await.expect("time zone"), 1);
    assert_eq!(f.name_of(a).await, "Otro nombre");
    let log = f.audit(a).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!((log[0].1.as_str(), log[0].2.as_str()), ("update", "shop"));
    assert_eq!(log[0].4, Some(json!({"name": "Tienda A"})));
    assert_eq!(log[0].5, Some(json!({"name": "Otro nombre"})));
    assert_eq!((log[1].1.as_str(), log[1].2.as_str()), ("update", "settings"));
    assert_eq!(log[1].4, Some(json!({"currency": "ARS", "quote_validity_days": 15})));
    assert_eq!(log[1].5, Some(json!({"currency": "EUR", "quote_validity_days": 30})));
    assert!(log.iter().all(|e| e.0 == Some(f.a_owner)));
}

#[tokio::test]
async fn a_sign_in_is_audited_in_the_shop_the_session_lands_on() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, None, None, &r.anon).await;
    let landed: Option<i64> = tx
        .query_one(
            "select app_private.finish_login($1, '203.0.113.9'::inet, $2, true, null, $3, interval '1 hour', 'TestAgent/1')",
            &[&"admin-a@example.com", &f.a_admin, &vec![9u8; 32]],
        )
        .await
        .expect("finish_login")
        .get(0);
    // a failed attempt is not a sign-in
    tx.query_one(
        "select app_private.finish_login($1, '203.0.113.9'::inet, $2, false, null, $3, interval '1 hour', null)",
        &[&"admin-a@example.com", &f.a_admin, &vec![8u8; 32]],
    )
    .await
    .expect("failed login");
    tx.commit().await.expect("commit");
    assert_eq!(landed, Some(f.a));
    let log = f.audit(f.a).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let (user, action, entity, id, old, new) = &log[0];
    assert_eq!((user, action.as_str(), entity.as_str()), (&Some(f.a_admin), "sign_in", "user"));
    assert_eq!(id.as_deref(), Some(f.a_admin.to_string().as_str()));
    assert_eq!(old, &None);
    assert_eq!(
        new,
        &Some(json!({"email": "admin-a@example.com", "ip": "203.0.113.9", "user_agent": "TestAgent/1"}))
    );
    assert!(f.audit(f.b).await.is_empty());
}
