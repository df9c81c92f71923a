//! Spare shops (issue 8, sql/app/V23): sign-up claims a shop made ahead instead of creating its
//! schema in the request. A claimed shop is the same as one created directly and works end to end;
//! concurrent sign-ups take different spares; without spares sign-up still works; a spare is
//! nobody's (invisible to every request role, to the panel and to the CLI, no login reaches it);
//! `stock migrate` keeps spares current; the trial starts at the claim; `stock serve`'s refill
//! task tops the stock up after a claim.
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{client, roles, set_ctx, spawn_app_on, TestApp, TestDb, PASSWORD};
use tokio_postgres::Client;

async fn make_spares(db: &TestDb, keep: usize) -> Vec<i64> {
    let mut admin = db.admin().await;
    stock::db::spares::top_up(&mut admin, keep, true).await.expect("provision spares");
    spare_ids(&admin).await
}

async fn spare_ids(admin: &Client) -> Vec<i64> {
    admin
        .query("select id from app.tenants where status = 'spare' order by id", &[])
        .await
        .expect("spares")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn tenant_of(admin: &Client, name: &str) -> i64 {
    admin.query_one("select id from app.tenants where name = $1", &[&name]).await.expect("shop").get(0)
}

fn stock_cli(db: &TestDb, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stock"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", common::PREFIX)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run stock");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// What a shop consists of, minus its id and the instants of its making: compared between a
/// claimed spare and a shop created directly.
async fn shape(admin: &Client, id: i64) -> Vec<String> {
    let s = format!("tenant_{id}");
    let mut out = Vec::new();
    for sql in [
        format!(
            "select concat_ws('|', currency, time_zone, locale, allow_negative_stock, receipt_header,
                               receipt_footer, quote_validity_days) from {s}.settings"
        ),
        format!("select concat_ws('|', id, active_products) from {s}.shop_counters"),
        format!("select count(*)::text from {s}.audit_log"),
        format!("select string_agg(code, ',' order by code) from {s}.units"),
        format!("select string_agg(name, ',' order by name) from {s}.customers"),
        format!("select string_agg(name, ',' order by name) from {s}.expense_categories"),
        format!(
            "select concat_ws('|', status, locale, schema_version, slug ~ '^spare', created_at > now() - interval '1 minute')
               from app.tenants where id = {id}"
        ),
        format!(
            "select concat_ws('|', plan_code, status, trial_ends_on - (now() at time zone 'UTC')::date)
               from app.subscriptions where tenant_id = {id}"
        ),
        format!(
            "select string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, '-'), ',' order by c.relname)
               from pg_class c where c.relnamespace = '{s}'::regnamespace"
        ),
        format!("select count(*)::text from pg_policies where schemaname = '{s}'"),
        format!("select coalesce(nspacl::text, '-') from pg_namespace where nspname = '{s}'"),
    ] {
        let v: Option<String> = admin.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0);
        out.push(v.unwrap_or_default());
    }
    out
}

async fn signup(app: &TestApp, shop: &str, email: &str) -> reqwest::Client {
    let http = client();
    let p = app.signup_with(&http, shop, email).await;
    assert_eq!(p.status, 303, "{}", p.body);
    http
}

#[tokio::test]
async fn signup_claims_a_spare_identical_to_a_fresh_shop_and_it_works() {
    let app = spawn_app_on(TestDb::new().await).await;
    let admin = app.db.admin().await;
    // a shop created directly (no spares yet) to compare with
    let fresh_http = signup(&app, "Fresca", "fresh@example.com").await;
    let fresh = tenant_of(&admin, "Fresca").await;
    let spares = make_spares(&app.db, 2).await;
    assert_eq!(spares.len(), 2);
    assert!(spares.iter().all(|s| *s > fresh));
    // a spare has no subscription until it is claimed
    let subs: i64 = admin
        .query_one("select count(*) from app.subscriptions where tenant_id = any($1)", &[&spares])
        .await
        .unwrap()
        .get(0);
    assert_eq!(subs, 0);

    let http = signup(&app, "Almacén Reservado", "owner@example.com").await;
    let claimed = tenant_of(&admin, "Almacén Reservado").await;
    assert_eq!(claimed, spares[0], "sign-up took the oldest spare");
    assert_eq!(spare_ids(&admin).await, vec![spares[1]]);
    let slug: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&claimed]).await.unwrap().get(0);
    assert_eq!(slug, "almacen-reservado");
    assert_eq!(shape(&admin, claimed).await, shape(&admin, fresh).await);

    // end to end: the dashboard, a product through the form, the settings page
    for client in [&http, &fresh_http] {
        let home = app.get_with(client, "/dashboard").await;
        assert_eq!(home.status, 200, "{}", home.body);
    }
    let unit: i64 = admin
        .query_one(&format!("select id from tenant_{claimed}.units where code = 'u'"), &[])
        .await
        .unwrap()
        .get(0);
    let unit = unit.to_string();
    let p = app
        .submit_with(
            &http,
            "/products/new",
            "/products",
            &[
                ("sku", "RES-1"),
                ("barcode", ""),
                ("name", "Yerba"),
                ("description", ""),
                ("category_id", ""),
                ("unit_id", &unit),
                ("price", "100"),
                ("cost", ""),
                ("min_stock", ""),
                ("opening_stock", "5"),
                ("track_stock", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let (stock, active): (rust_decimal::Decimal, i64) = {
        let r = admin
            .query_one(
                &format!(
                    "select p.stock, c.active_products from tenant_{claimed}.products p, tenant_{claimed}.shop_counters c"
                ),
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((stock, active), (rust_decimal::Decimal::from(5), 1));
    let settings = app.get_with(&http, "/settings").await;
    assert!(settings.status == 200 && settings.body.contains("Almacén Reservado"), "{}", settings.body);
    // the other shop sees none of it
    let list = app.get_with(&fresh_http, "/products").await;
    assert!(!list.body.contains("Yerba"));
}

#[tokio::test]
async fn concurrent_signups_claim_different_spares() {
    let db = TestDb::new().await;
    let spares = make_spares(&db, 2).await;
    let both_claimed = Arc::new(tokio::sync::Barrier::new(2));
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for i in 0..2 {
        let mut c = db.app_login().await;
        let (both_claimed, start) = (both_claimed.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let tx = c.transaction().await.expect("begin");
            set_ctx(&tx, None, None, &roles().anon).await;
            start.wait().await;
            let id: i64 = tx
                .query_one(
                    "select app_private.sign_up($1, $2, $3, 'Persona', 'x', 'es', $4, interval '1 hour', null, 'test')",
                    &[&format!("Tienda {i}"), &format!("tienda-{i}"), &format!("p{i}@example.com"), &vec![i as u8; 32]],
                )
                .await
                .expect("sign up")
                .get(0);
            // both hold their claim (row lock) before either commits: the second did not wait
            both_claimed.wait().await;
            tx.commit().await.expect("commit");
            id
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(tokio::time::timeout(Duration::from_secs(30), t).await.expect("no deadlock").expect("task"));
    }
    got.sort();
    assert_eq!(got, spares);
    assert!(spare_ids(&db.admin().await).await.is_empty());
}

#[tokio::test]
async fn without_spares_signup_creates_the_shop_in_the_request() {
    let mut db = TestDb::new().await;
    db.config.spare_shops = 0;
    let app = spawn_app_on(db).await;
    let http = signup(&app, "Sin Reserva", "none@example.com").await;
    let admin = app.db.admin().await;
    let id = tenant_of(&admin, "Sin Reserva").await;
    let (status, version): (String, i32) = {
        let r = admin
            .query_one("select status, schema_version from app.tenants where id = $1", &[&id])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((status.as_str(), version), ("active", stock::db::migrate::latest_tenant_version()));
    assert_eq!(app.get_with(&http, "/dashboard").await.status, 200);
    // a spare behind the latest migration is not claimed either
    let lagging = lagging_spare(&admin).await;
    signup(&app, "Otra", "other@example.com").await;
    assert_ne!(tenant_of(&admin, "Otra").await, lagging);
    assert_eq!(spare_ids(&admin).await, vec![lagging]);
}

/// A spare at the previous tenant migration, as after a deploy before `stock migrate`.
async fn lagging_spare(admin: &Client) -> i64 {
    let old = stock::db::migrate::latest_tenant_version() - 1;
    let id: i64 = admin
        .query_one("select nextval(pg_get_serial_sequence('app.tenants', 'id'))", &[])
        .await
        .unwrap()
        .get(0);
    admin
        .execute(
            "insert into app.tenants (id, slug, name, schema_name, status)
             values ($1, 'spare--old', 'Spare shop', 'tenant_' || $1::bigint, 'spare')",
            &[&id],
        )
        .await
        .expect("lagging spare row");
    admin
        .execute("select app_private.create_tenant_schema_at($1, $2)", &[&id, &old])
        .await
        .expect("old schema");
    id
}

#[tokio::test]
async fn stock_migrate_brings_a_lagging_spare_to_the_latest_version() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let lagging = lagging_spare(&admin).await;
    let report = stock::db::migrate::migrate(&db.config).await.expect("migrate");
    assert!(report.tenants_failed.is_empty(), "{:?}", report.tenants_failed);
    let version: i32 = admin
        .query_one("select schema_version from app.tenants where id = $1", &[&lagging])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, stock::db::migrate::latest_tenant_version());
    // still nobody's: the re-applied templates left its schema closed to every request role
    let acl: Option<String> = admin
        .query_one(
            "select nspacl::text from pg_namespace where nspname = $1",
            &[&format!("tenant_{lagging}")],
        )
        .await
        .unwrap()
        .get(0);
    let r = roles();
    for role in [&r.owner, &r.admin, &r.staff, &r.support] {
        assert!(!acl.clone().unwrap_or_default().contains(&format!("{role}=U")), "{role} has usage: {acl:?}");
    }
    // and now a sign-up claims it
    let app = spawn_app_on(db).await;
    signup(&app, "Puesta al día", "late@example.com").await;
    assert_eq!(tenant_of(&admin, "Puesta al día").await, lagging);
}

#[tokio::test]
async fn the_trial_starts_at_the_claim_not_at_provisioning() {
    let db = TestDb::new().await;
    let spares = make_spares(&db, 1).await;
    let admin = db.admin().await;
    // provisioned long ago
    admin
        .execute(
            "update app.tenants set created_at = now() - interval '40 days' where id = $1",
            &[&spares[0]],
        )
        .await
        .unwrap();
    let app = spawn_app_on(db).await;
    signup(&app, "Prueba", "trial@example.com").await;
    let r = admin
        .query_one(
            "select s.plan_code, s.status, s.trial_ends_on - (now() at time zone 'UTC')::date,
                    t.created_at > now() - interval '1 minute'
               from app.subscriptions s join app.tenants t on t.id = s.tenant_id where t.id = $1",
            &[&spares[0]],
        )
        .await
        .unwrap();
    let (plan, status, days, new): (String, String, i32, bool) = (r.get(0), r.get(1), r.get(2), r.get(3));
    assert_eq!((plan.as_str(), status.as_str(), days, new), ("PRO", "trialing", 30, true));
}

/// Runs `sql` as `role` with the given context; rows, or the SQLSTATE.
async fn rows_as(
    c: &mut Client,
    tenant: Option<i64>,
    admin_id: Option<i64>,
    role: &str,
    sql: &str,
) -> Result<Vec<i64>, String> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, tenant, None, role).await;
    if let Some(a) = admin_id {
        tx.execute("select set_config('app.admin_id', $1, true)", &[&a.to_string()]).await.expect("admin id");
    }
    let r = tx.query(sql, &[]).await;
    drop(tx);
    r.map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .map_err(|e| e.code().map(|c| c.code().to_string()).unwrap_or_else(|| e.to_string()))
}

#[tokio::test]
async fn a_spare_is_invisible_to_every_request_role_in_every_context() {
    let db = TestDb::new().await;
    let (shop, _) = db.create_shop("Visible").await;
    let spare = make_spares(&db, 1).await[0];
    let admin = db.admin().await;
    let pw =
        stock::domain::auth::hash_password(&stock::domain::auth::Password::new_password(PASSWORD).unwrap())
            .await
            .unwrap();
    let ops: i64 = admin
        .query_one("select app_private.add_super_admin('ops@example.com', 'Ops', $1)", &[&pw])
        .await
        .unwrap()
        .get(0);
    let r = roles();
    let mut c = db.app_login().await;
    let tenants = "select id from app.tenants";
    let spare_settings = format!("select 1::bigint from tenant_{spare}.settings");
    for tenant in [None, Some(shop), Some(spare)] {
        for role in [&r.owner, &r.admin, &r.staff, &r.anon, &r.superadmin, &r.support, &r.app] {
            for admin_id in [None, Some(ops)] {
                let what = format!("{role} tenant {tenant:?} admin {admin_id:?}");
                if let Ok(ids) = rows_as(&mut c, tenant, admin_id, role, tenants).await {
                    assert!(!ids.contains(&spare), "{what} sees the spare's row");
                }
                match rows_as(&mut c, tenant, admin_id, role, &spare_settings).await {
                    Err(code) => assert_eq!(code, "42501", "{what}"),
                    Ok(rows) => panic!("{what} reads the spare's schema: {rows:?}"),
                }
            }
        }
    }
    // the panel's functions: not in the usage list, no detail, no status change, no "view as"
    let usage = "select tenant_id from app_private.admin_shop_usage(null, null, 1000, 0)";
    let ids = rows_as(&mut c, None, Some(ops), &r.superadmin, usage).await.expect("usage");
    assert!(ids.contains(&shop) && !ids.contains(&spare), "{ids:?}");
    let one = format!("select tenant_id from app_private.admin_shop_usage(null, {spare}, 10, 0)");
    assert_eq!(rows_as(&mut c, None, Some(ops), &r.superadmin, &one).await, Ok(vec![]));
    let activate = format!("with u as (update app.tenants set status = 'active' where id = {spare} returning id) select id from u");
    assert_eq!(rows_as(&mut c, None, Some(ops), &r.superadmin, &activate).await, Ok(vec![]));
    let status: String =
        admin.query_one("select status from app.tenants where id = $1", &[&spare]).await.unwrap().get(0);
    assert_eq!(status, "spare");
}

#[tokio::test]
async fn a_spare_cannot_be_logged_into_nor_listed_by_the_panel_or_the_cli() {
    let db = TestDb::new().await;
    let spare = make_spares(&db, 1).await[0];
    let admin = db.admin().await;
    let slug: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&spare]).await.unwrap().get(0);
    let app = spawn_app_on(db).await;
    let http = signup(&app, "Con Dueño", "owner@example.com").await;
    assert!(spare_ids(&admin).await.is_empty(), "the sign-up claimed it");
    let spare = make_spares(&app.db, 1).await[0];
    let slug2: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&spare]).await.unwrap().get(0);
    assert_ne!(slug, slug2);

    // no member can be added to it from the CLI, nor is it listed, backed up or cloned
    let (ok, out) = stock_cli(&app.db, &["tenant", "list"]);
    assert!(ok && out.contains("con-dueno") && !out.contains(&slug2), "{out}");
    let (ok, out) =
        stock_cli(&app.db, &["user", "add", "--shop", &slug2, "--email", "x@example.com", "--role", "owner"]);
    assert!(!ok, "{out}");
    let (ok, out) = stock_cli(&app.db, &["tenant", "backup", &spare.to_string(), "-o", "/dev/null"]);
    assert!(!ok, "{out}");
    let members: i64 = admin
        .query_one("select count(*) from app.memberships where tenant_id = $1", &[&spare])
        .await
        .unwrap()
        .get(0);
    assert_eq!(members, 0);

    // switching to it: refused; a session forged to point at it resolves to no shop role
    let token = vec![7u8; 32];
    admin
        .execute(
            "insert into app.sessions (token_hash, user_id, tenant_id, expires_at)
             select $1, id, $2, now() + interval '1 hour' from app.users where email = 'owner@example.com'",
            &[&token, &spare],
        )
        .await
        .unwrap();
    let row = admin
        .query_one("select member_role, db_role from app_private.resolve_session($1)", &[&token])
        .await
        .unwrap();
    let (member_role, db_role): (Option<String>, String) = (row.get(0), row.get(1));
    assert_eq!((member_role, db_role), (None, roles().anon));
    let switched: bool =
        admin.query_one("select app_private.switch_shop($1, $2)", &[&token, &spare]).await.unwrap().get(0);
    assert!(!switched);

    // the panel: not in the list, no detail page
    stock::domain::admin::add_account(
        &admin,
        &stock::domain::auth::Email::try_from("ops@example.com").unwrap(),
        &stock::domain::text::Name::parse("Ops", 120).unwrap(),
        &stock::domain::auth::hash_password(&stock::domain::auth::Password::new_password(PASSWORD).unwrap())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let ops = client();
    let p = app
        .submit_with(
            &ops,
            "/admin/login",
            "/admin/login",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let list = app.get_with(&ops, "/admin/shops").await;
    assert!(list.body.contains("Con Dueño") && !list.body.contains(&slug2), "{}", list.body);
    assert_eq!(app.get_with(&ops, &format!("/admin/shops/{spare}")).await.status, 404);
    drop(http);
}

#[tokio::test]
async fn the_refill_task_keeps_the_stock_and_tops_it_up_after_a_claim() {
    let mut db = TestDb::new().await;
    db.config.spare_shops = 2;
    stock::db::spares::spawn_refill(&db.config);
    let admin = db.admin().await;
    let wait_for = |n: usize| {
        let admin = &admin;
        async move {
            for _ in 0..300 {
                if spare_ids(admin).await.len() == n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("never reached {n} spares");
        }
    };
    wait_for(2).await;
    let before = spare_ids(&admin).await;
    let app = spawn_app_on(db).await;
    signup(&app, "Reposición", "refill@example.com").await;
    // the claim's notification wakes the task (well before its once-a-minute check)
    wait_for(2).await;
    let after = spare_ids(&admin).await;
    assert_eq!(after[0], before[1]);
    assert!(after[1] > before[1]);
    // the CLI keeps a larger stock on demand
    let (ok, out) = stock_cli(&app.db, &["tenant", "spares", "--keep", "3"]);
    assert!(ok && out.contains("3 ready"), "{out}");
}
