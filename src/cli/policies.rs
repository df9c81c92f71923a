//! `stock policies show|check`: row level security, policies and privileges as the database has
//! them, and their drift from `policies/` (see `db::inspect` for how the expected state is made).

use std::collections::BTreeMap;

use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use tokio_postgres::Client;

use crate::config::Config;
use crate::db::inspect::{self, group_grants, Drift, Grant, SchemaState, TableState};
use crate::db::{connect_admin, DbError};
use crate::domain::shop;

#[derive(Subcommand, Debug)]
pub enum PoliciesCommand {
    /// Print, per table, whether RLS is enabled and forced, each policy and the privileges per
    /// role, as they are in the database: the shared `app` tables, then the shop's tables with
    /// --tenant, or else the tenant template as rendered for a scratch shop (rolled back).
    Show {
        /// Shop slug or id.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compare the database with policies/ (the templates this binary embeds): RLS off or not
    /// forced, missing, changed or extra policies, missing or extra privileges, in the shared
    /// schema and every shop (or only the one given). Exits 1 on any drift.
    Check {
        /// Shop slug or id: check only this shop (and the shared schema).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub async fn run(cmd: PoliciesCommand, config: &Config) -> Result<(), String> {
    let mut client = connect_admin(config).await.map_err(|e| e.to_string())?;
    match cmd {
        PoliciesCommand::Show { tenant, format } => show(&mut client, tenant.as_deref(), format).await,
        PoliciesCommand::Check { tenant, format } => check(&mut client, tenant.as_deref(), format).await,
    }
}

struct Shop {
    id: i64,
    slug: String,
    schema: String,
    version: i32,
    /// A suspended shop's roles have lost USAGE on its schema on purpose (sql/app/V25).
    suspended: bool,
}

async fn shops(client: &Client, key: Option<&str>) -> Result<Vec<Shop>, String> {
    let only = match key {
        Some(k) => Some(
            shop::find_tenant(client, k)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("--tenant: no shop with slug or id {k:?}"))?
                .0,
        ),
        None => None,
    };
    let rows = client
        .query(
            // spares are left out: their schema privileges are revoked on purpose until a claim
            // (sql/app/V23), and `stock migrate` applies the same templates to them
            "select id, slug, schema_name, schema_version, status = 'suspended' from app.tenants
              where ($1::bigint is null or id = $1) and status <> 'spare' order by id",
            &[&only],
        )
        .await
        .map_err(|e| DbError::from(e).to_string())?;
    Ok(rows
        .iter()
        .map(|r| Shop {
            id: r.get(0),
            slug: r.get(1),
            schema: r.get(2),
            version: r.get(3),
            suspended: r.get(4),
        })
        .collect())
}

#[derive(Serialize)]
struct ShowJson<'a> {
    schemas: &'a [SchemaState],
    /// Without --tenant: the tenant template, `{{schema}}` and `{{tenant_id}}` standing for each shop.
    tenant_template: Option<&'a SchemaState>,
    shops: usize,
}

async fn show(client: &mut Client, tenant: Option<&str>, format: Format) -> Result<(), String> {
    let err = |e: DbError| e.to_string();
    let all = shops(client, None).await?;
    let (schemas, template) = match tenant {
        Some(key) => {
            let shop = shops(client, Some(key)).await?.into_iter().next().ok_or("no such shop")?;
            (inspect::snapshot(&*client, &["app".into(), shop.schema]).await.map_err(err)?, None)
        }
        None => {
            let app = inspect::snapshot(&*client, &["app".into()]).await.map_err(err)?;
            let template = inspect::expected_tenant(client).await.map_err(err)?;
            (app, Some(template.for_shop("{{schema}}", "{{tenant_id}}")))
        }
    };
    match format {
        Format::Json => {
            let json = ShowJson { schemas: &schemas, tenant_template: template.as_ref(), shops: all.len() };
            emit(&(serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n"))?;
        }
        Format::Text => {
            let mut out: String =
                schemas.iter().map(|s| render_schema(s, &format!("schema {}", s.schema))).collect();
            if let Some(t) = &template {
                let title = format!(
                    "tenant template (every one of the {} shop schemas; {{{{schema}}}} and {{{{tenant_id}}}} \
                     stand for each shop's; use --tenant to see one shop as it is)",
                    all.len()
                );
                out.push_str(&render_schema(t, &title));
            }
            emit(&out)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct CheckJson<'a> {
    clean: bool,
    shops_checked: usize,
    drift: &'a [Drift],
}

async fn check(client: &mut Client, tenant: Option<&str>, format: Format) -> Result<(), String> {
    let err = |e: DbError| e.to_string();
    let shops = shops(client, tenant).await?;
    let mut drift = Vec::new();

    let want_app = inspect::expected_app(client).await.map_err(err)?;
    let have_app = inspect::snapshot(&*client, &["app".into()]).await.map_err(err)?;
    for have in &have_app {
        drift.extend(inspect::diff(&want_app, have));
    }

    let app_drift = drift.len();

    let template = inspect::expected_tenant(client).await.map_err(err)?;
    let names: Vec<String> = shops.iter().map(|s| s.schema.clone()).collect();
    let actual: BTreeMap<String, SchemaState> = inspect::snapshot(&*client, &names)
        .await
        .map_err(err)?
        .into_iter()
        .map(|s| (s.schema.clone(), s))
        .collect();
    // the shop roles a suspension closes the schema to (app_private.suspended_schema_roles)
    let closed_roles: Vec<String> = client
        .query(
            "select value from app_private.config where key in ('role_owner', 'role_admin', 'role_staff')",
            &[],
        )
        .await
        .map_err(|e| err(e.into()))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut drifted_shops = 0;
    for shop in &shops {
        let Some(have) = actual.get(&shop.schema) else { continue };
        let before = drift.len();
        if shop.version < template.version {
            drift.push(Drift {
                object: shop.schema.clone(),
                message: format!(
                    "shop {} ({}) is at tenant migration {}, the latest is {}: run `stock migrate`",
                    shop.id, shop.slug, shop.version, template.version
                ),
            });
        }
        let mut want = template.for_shop(&shop.schema, &shop.id.to_string());
        if shop.suspended {
            want.grants.retain(|g| !(g.privilege == "USAGE" && closed_roles.contains(&g.grantee)));
        }
        drift.extend(inspect::diff(&want, have));
        if drift.len() > before {
            drifted_shops += 1;
        }
    }

    match format {
        Format::Json => {
            let json = CheckJson { clean: drift.is_empty(), shops_checked: shops.len(), drift: &drift };
            emit(&(serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n"))?;
        }
        Format::Text => {
            emit(&drift.iter().map(|d| format!("DRIFT {}\n", one_line(&d.to_string()))).collect::<String>())?
        }
    }
    let scope = match tenant {
        Some(_) => format!("the shared schema and shop {}", names.join(", ")),
        None => format!("the shared schema and {} shop(s)", shops.len()),
    };
    if drift.is_empty() {
        if format == Format::Text {
            emit(&format!(
                "policies check: clean: {scope} match policies/ ({} shared tables, {} tables per shop)\n",
                want_app.tables.len(),
                template.state.tables.len()
            ))?;
        }
        Ok(())
    } else {
        Err(format!(
            "policies check: {} difference(s) from policies/ ({app_drift} in the shared schema, the rest in \
             {drifted_shops} of {} shop(s))",
            drift.len(),
            shops.len()
        ))
    }
}

/// One schema as aligned plain text.
fn render_schema(s: &SchemaState, title: &str) -> String {
    let mut out = format!("== {title} ==\n");
    if !s.grants.is_empty() {
        out.push_str(&format!("schema {} privileges\n", s.schema));
        out.push_str(&render_grants(&s.grants, "  "));
    }
    for t in &s.tables {
        out.push('\n');
        out.push_str(&render_table(&s.schema, t));
    }
    out.push('\n');
    out
}

fn render_table(schema: &str, t: &TableState) -> String {
    let flag = |on: bool| if on { "yes" } else { "NO" };
    let mut out = format!(
        "{schema}.{}  (RLS enabled: {}, forced: {})\n",
        t.name,
        flag(t.rls_enabled),
        flag(t.rls_forced)
    );
    if t.policies.is_empty() {
        out.push_str("  policies: none\n");
    } else {
        out.push_str("  policies\n");
        let w_name = t.policies.iter().map(|p| p.name.len()).max().unwrap_or(0).max(10);
        let w_kind = "RESTRICTIVE".len();
        let w_cmd = "SELECT".len();
        for p in &t.policies {
            out.push_str(&format!(
                "    {:<w_name$}  {:<w_kind$}  {:<w_cmd$}  to {}\n",
                p.name,
                p.permissive,
                p.command,
                p.roles.join(", ")
            ));
            let indent = " ".repeat(4 + w_name + 2);
            if let Some(u) = &p.using {
                out.push_str(&format!("{indent}using       {}\n", one_line(u)));
            }
            if let Some(c) = &p.with_check {
                out.push_str(&format!("{indent}with check  {}\n", one_line(c)));
            }
        }
    }
    if t.grants.is_empty() {
        out.push_str("  grants: none\n");
    } else {
        out.push_str("  grants\n");
        out.push_str(&render_grants(&t.grants, "    "));
    }
    out
}

/// One line per role: `SELECT, UPDATE (name), DELETE`.
fn render_grants(grants: &[Grant], indent: &str) -> String {
    let mut per_role: Vec<(String, Vec<String>)> = Vec::new();
    for (grantee, privilege, cols) in group_grants(grants.iter()) {
        let item = if cols.is_empty() { privilege } else { format!("{privilege} ({})", cols.join(", ")) };
        match per_role.last_mut() {
            Some((g, items)) if *g == grantee => items.push(item),
            _ => per_role.push((grantee, vec![item])),
        }
    }
    let width = per_role.iter().map(|(g, _)| g.len()).max().unwrap_or(0);
    per_role.iter().map(|(g, items)| format!("{indent}{g:<width$}  {}\n", items.join(", "))).collect()
}

/// `pg_get_expr` breaks long expressions over lines; a terminal listing reads better on one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes to standard output; a closed pipe (`| head`) ends the listing quietly.
fn emit(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("cannot write the output: {e}")),
        _ => Ok(()),
    }
}
