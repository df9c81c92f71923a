//! `stock migrate`: roles, the shared schema (refinery), the tenant migration set and policy
//! templates registered in the database, then every shop schema brought up to date with bounded
//! parallelism. Each shop migrates in its own transaction, so a failed run resumes where it stopped.

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::roles::{quote_ident, RoleNames};
use super::{connect_admin, DbError};
use crate::config::Config;

mod embedded {
    refinery::embed_migrations!("sql/app");
}

/// A tenant migration: version, name, SQL. Appended to, never edited once released.
pub const TENANT_MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "settings_and_audit", include_str!("../../sql/tenant/V1__settings_and_audit.sql")),
    (2, "catalog_and_stock", include_str!("../../sql/tenant/V2__catalog_and_stock.sql")),
    (3, "imports_and_images", include_str!("../../sql/tenant/V3__imports_and_images.sql")),
    (4, "sales_customers_quotes", include_str!("../../sql/tenant/V4__sales_customers_quotes.sql")),
    (5, "sale_returns", include_str!("../../sql/tenant/V5__sale_returns.sql")),
    (6, "purchases", include_str!("../../sql/tenant/V6__purchases.sql")),
    (7, "money", include_str!("../../sql/tenant/V7__money.sql")),
    (8, "team", include_str!("../../sql/tenant/V8__team.sql")),
    (9, "reports", include_str!("../../sql/tenant/V9__reports.sql")),
    (10, "shop_language", include_str!("../../sql/tenant/V10__shop_language.sql")),
    (11, "plan_limits", include_str!("../../sql/tenant/V11__plan_limits.sql")),
    (12, "database_rules", include_str!("../../sql/tenant/V12__database_rules.sql")),
    (13, "shop_counters", include_str!("../../sql/tenant/V13__shop_counters.sql")),
    (14, "hot_stock_updates", include_str!("../../sql/tenant/V14__hot_stock_updates.sql")),
    (
        15,
        "whole_units_check_only_when_needed",
        include_str!("../../sql/tenant/V15__whole_units_check_only_when_needed.sql"),
    ),
    (16, "sale_stock_per_statement", include_str!("../../sql/tenant/V16__sale_stock_per_statement.sql")),
    (17, "sale_path_fewer_calls", include_str!("../../sql/tenant/V17__sale_path_fewer_calls.sql")),
];

/// Policy templates: name (applied in name order), SQL.
pub const APP_POLICIES: &str = include_str!("../../policies/app.sql");
pub const TENANT_POLICIES: &[(&str, &str)] = &[
    ("00_base", include_str!("../../policies/tenant/00_base.sql")),
    ("10_catalog", include_str!("../../policies/tenant/10_catalog.sql")),
    ("20_imports_images", include_str!("../../policies/tenant/20_imports_images.sql")),
    ("30_sales", include_str!("../../policies/tenant/30_sales.sql")),
    ("40_purchases", include_str!("../../policies/tenant/40_purchases.sql")),
    ("50_money", include_str!("../../policies/tenant/50_money.sql")),
    ("60_reports", include_str!("../../policies/tenant/60_reports.sql")),
    ("70_team", include_str!("../../policies/tenant/70_team.sql")),
    ("80_support", include_str!("../../policies/tenant/80_support.sql")),
    ("90_counters", include_str!("../../policies/tenant/90_counters.sql")),
];

pub fn latest_tenant_version() -> i32 {
    TENANT_MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

pub fn checksum(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn tenant_policies_checksum() -> String {
    let all: String = TENANT_POLICIES.iter().map(|(n, s)| format!("{n}\n{s}\n")).collect();
    checksum(&all)
}

#[derive(Debug, Default)]
pub struct MigrateReport {
    pub app_applied: usize,
    pub tenants_migrated: usize,
    pub tenants_failed: Vec<(i64, String)>,
}

/// Runs the whole migration. Returns an error only when the shared part fails; shop failures are
/// listed in the report (the caller exits non-zero on any).
pub async fn migrate(config: &Config) -> Result<MigrateReport, DbError> {
    let roles = RoleNames::new(&config.role_prefix).map_err(DbError::Other)?;
    let mut client = connect_admin(config).await?;
    ensure_roles(&client, &roles, config).await?;
    let app_applied = migrate_shared(&mut client, &roles).await?;
    let stale_policies = register_tenant_set(&client).await?;
    let ids = tenants_to_migrate(&client, stale_policies).await?;
    let mut report = MigrateReport { app_applied, ..Default::default() };
    for (id, r) in migrate_tenants(config, ids).await {
        match r {
            Ok(()) => report.tenants_migrated += 1,
            Err(e) => report.tenants_failed.push((id, e.to_string())),
        }
    }
    if report.tenants_failed.is_empty() {
        client
            .execute(
                "insert into app_private.config (key, value) values ('tenant_policies_checksum', $1)
                 on conflict (key) do update set value = excluded.value",
                &[&tenant_policies_checksum()],
            )
            .await?;
    }
    Ok(report)
}

async fn ensure_roles(client: &Client, roles: &RoleNames, config: &Config) -> Result<(), DbError> {
    let nologin = [
        &roles.schema_owner,
        &roles.owner,
        &roles.admin,
        &roles.staff,
        &roles.anon,
        &roles.superadmin,
        &roles.support,
    ];
    for name in nologin.iter().map(|s| s.as_str()).chain([roles.app.as_str()]) {
        let attrs = if name == roles.app {
            "login nosuperuser nobypassrls noinherit nocreatedb nocreaterole"
        } else {
            "nologin nosuperuser nobypassrls noinherit nocreatedb nocreaterole"
        };
        // roles are cluster-wide: tolerate a concurrent creator
        let sql = format!(
            "do $$ begin
                 if not exists (select 1 from pg_roles where rolname = '{name}') then
                     create role {q} {attrs};
                 end if;
             exception when duplicate_object or unique_violation then null;
             end $$;
             alter role {q} {attrs};",
            q = quote_ident(name)
        );
        client.batch_execute(&sql).await?;
    }
    if let Some(pw) = &config.app_db_password {
        let stmt: String = client
            .query_one(
                "select format('alter role %I password %L', $1::text, $2::text)",
                &[&roles.app, &pw.expose()],
            )
            .await?
            .get(0);
        client.batch_execute(&stmt).await?;
    }
    let member_roles =
        [&roles.owner, &roles.admin, &roles.staff, &roles.anon, &roles.superadmin, &roles.support];
    let grants: Vec<String> = member_roles.iter().map(|r| quote_ident(r)).collect();
    client
        .batch_execute(&format!(
            "grant {members} to {app}; grant {owner} to current_user;",
            members = grants.join(", "),
            app = quote_ident(&roles.app),
            owner = quote_ident(&roles.schema_owner),
        ))
        .await?;
    grant_database(client, roles).await
}

/// Database-level privileges. They live in the cluster catalog, so a database cloned from a
/// template does not inherit them: call this again on every clone.
pub async fn grant_database(client: &Client, roles: &RoleNames) -> Result<(), DbError> {
    let db: String = client.query_one("select current_database()", &[]).await?.get(0);
    client
        .batch_execute(&format!(
            "revoke create, temporary on database {db} from public;
             grant create, connect, temporary on database {db} to {owner};
             grant connect on database {db} to {app};",
            app = quote_ident(&roles.app),
            owner = quote_ident(&roles.schema_owner),
            db = quote_ident(&db),
        ))
        .await?;
    Ok(())
}

async fn as_schema_owner(client: &Client, roles: &RoleNames) -> Result<(), DbError> {
    // a dedicated, unpooled admin connection: the session-level role lasts for the migration only
    client.execute("select set_config('role', $1, false)", &[&roles.schema_owner]).await?;
    Ok(())
}

async fn migrate_shared(client: &mut Client, roles: &RoleNames) -> Result<usize, DbError> {
    as_schema_owner(client, roles).await?;
    client
        .batch_execute(
            "create schema if not exists app; create schema if not exists app_private;
             select set_config('search_path', 'app_private', false);",
        )
        .await?;
    let report = embedded::migrations::runner()
        .run_async(client)
        .await
        .map_err(|e| DbError::Other(format!("shared schema migration failed: {e}")))?;
    for (key, value) in roles.config_entries() {
        client
            .execute(
                "insert into app_private.config (key, value) values ($1, $2)
                 on conflict (key) do update set value = excluded.value",
                &[&key, &value],
            )
            .await?;
    }
    let rendered: String =
        client.query_one("select app_private.render($1, null)", &[&APP_POLICIES]).await?.get(0);
    client.batch_execute(&rendered).await?;
    Ok(report.applied_migrations().len())
}

/// Registers the tenant migrations and policy templates; refuses a released migration whose text
/// changed. Returns whether the tenant policies differ from those last applied to every shop.
async fn register_tenant_set(client: &Client) -> Result<bool, DbError> {
    for (version, name, sql) in TENANT_MIGRATIONS {
        let sum = checksum(sql);
        let row = client
            .query_opt("select checksum from app_private.tenant_migrations where version = $1", &[version])
            .await?;
        match row {
            Some(r) if r.get::<_, String>(0) != sum => {
                return Err(DbError::Other(format!(
                    "tenant migration V{version}__{name} differs from the one already applied; add a new migration instead"
                )))
            }
            Some(_) => {}
            None => {
                client
                    .execute(
                        "insert into app_private.tenant_migrations (version, name, sql, checksum) values ($1, $2, $3, $4)",
                        &[version, name, sql, &sum],
                    )
                    .await?;
            }
        }
    }
    client.execute("delete from app_private.policy_templates where scope = 'tenant'", &[]).await?;
    for (name, sql) in TENANT_POLICIES {
        client
            .execute(
                "insert into app_private.policy_templates (name, scope, sql, checksum) values ($1, 'tenant', $2, $3)",
                &[name, sql, &checksum(sql)],
            )
            .await?;
    }
    client
        .execute(
            "insert into app_private.policy_templates (name, scope, sql, checksum) values ('app', 'app', $1, $2)
             on conflict (name) do update set sql = excluded.sql, checksum = excluded.checksum",
            &[&APP_POLICIES, &checksum(APP_POLICIES)],
        )
        .await?;
    let applied = client
        .query_opt("select value from app_private.config where key = 'tenant_policies_checksum'", &[])
        .await?
        .map(|r| r.get::<_, String>(0));
    Ok(applied.as_deref() != Some(tenant_policies_checksum().as_str()))
}

async fn tenants_to_migrate(client: &Client, all: bool) -> Result<Vec<i64>, DbError> {
    let rows = client
        .query(
            "select id from app.tenants where $1 or schema_version < $2 order by id",
            &[&all, &latest_tenant_version()],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Migrates the shops on `migrate_parallelism` connections, each shop in its own transaction.
/// A connection serves shop after shop: a new backend per shop paid its start-up, a cold catalog
/// cache and the compilation of the migration functions every time (about half of the time per
/// shop with 1,000 shops, see docs/BENCHMARKS.md).
async fn migrate_tenants(config: &Config, ids: Vec<i64>) -> Vec<(i64, Result<(), DbError>)> {
    let queue = std::sync::Mutex::new(ids.into_iter());
    let next = || queue.lock().ok().and_then(|mut q| q.next());
    let workers = (0..config.migrate_parallelism.max(1)).map(|_| async {
        let mut done = Vec::new();
        let mut client: Option<Client> = None;
        while let Some(id) = next() {
            if client.as_ref().is_none_or(Client::is_closed) {
                match connect_admin(config).await {
                    Ok(c) => client = Some(c),
                    Err(e) => {
                        done.push((id, Err(e)));
                        continue;
                    }
                }
            }
            if let Some(c) = client.as_mut() {
                done.push((id, migrate_one(c, id).await));
            }
        }
        done
    });
    futures_util::future::join_all(workers).await.into_iter().flatten().collect()
}

async fn migrate_one(client: &mut Client, tenant_id: i64) -> Result<(), DbError> {
    let tx = client.transaction().await?;
    tx.query_one("select app_private.migrate_tenant($1)", &[&tenant_id]).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug)]
pub struct SchemaStatus {
    pub tenant_id: i64,
    pub slug: String,
    pub schema_name: String,
    pub version: i32,
}

/// `stock migrate --status`: each shop schema's version.
pub async fn status(config: &Config) -> Result<(i32, Vec<SchemaStatus>), DbError> {
    let client = connect_admin(config).await?;
    let app: i32 = client
        .query_one("select coalesce(max(version), 0)::int from app_private.refinery_schema_history", &[])
        .await?
        .get(0);
    let rows = client
        .query("select id, slug, schema_name, schema_version from app.tenants order by id", &[])
        .await?;
    let list = rows
        .iter()
        .map(|r| SchemaStatus {
            tenant_id: r.get(0),
            slug: r.get(1),
            schema_name: r.get(2),
            version: r.get(3),
        })
        .collect();
    Ok((app, list))
}

/// The shared schema version this binary expects.
pub fn expected_app_version() -> i32 {
    embedded::migrations::runner().get_migrations().iter().map(|m| m.version() as i32).max().unwrap_or(0)
}
