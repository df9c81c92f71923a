//! What the database says about row level security and privileges, and how it differs from what
//! `policies/` would produce: snapshots of the catalog (RLS flags, `pg_policies`, ACLs exploded
//! with `aclexplode`) for `stock policies show` and `stock policies check`.
//!
//! The expected state is never written by hand: it is what PostgreSQL itself makes of the policy
//! templates, read back from the catalog inside a transaction that is rolled back. For the shared
//! schema the live `app` tables are first stripped (policies dropped, RLS off, privileges revoked)
//! and `policies/app.sql` applied; for shops a scratch shop is created by `create_tenant` and the
//! tenant templates applied to it. Both sides then go through the same normalization
//! (`pg_get_expr` text, sorted role lists), so comparing them is comparing like with like.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tokio_postgres::{Client, GenericClient};

use super::migrate::{APP_POLICIES, TENANT_POLICIES};
use super::DbError;

/// One privilege held by one role on a table, a column or a schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Grant {
    pub grantee: String,
    pub privilege: String,
    /// `None`: the whole table (or the schema).
    pub column: Option<String>,
    pub grantable: bool,
}

/// One row of `pg_policies`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub name: String,
    /// PERMISSIVE or RESTRICTIVE.
    pub permissive: String,
    /// ALL, SELECT, INSERT, UPDATE or DELETE.
    pub command: String,
    /// Sorted; `public` when the policy names no role.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableState {
    pub name: String,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// By policy name.
    pub policies: Vec<Policy>,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaState {
    pub schema: String,
    /// Privileges on the schema itself (USAGE, CREATE).
    pub grants: Vec<Grant>,
    /// By table name.
    pub tables: Vec<TableState>,
}

/// The template's rendering for a scratch shop, with what is needed to map it onto a real one.
#[derive(Clone, Debug)]
pub struct TenantTemplate {
    pub state: SchemaState,
    pub tenant_id: i64,
    /// The tenant migration version the scratch shop reached.
    pub version: i32,
}

/// One difference between the database and `policies/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// `schema` or `schema.table`.
    pub object: String,
    pub message: String,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.message)
    }
}

const TABLES: &str = "
    select n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname::text = any($1::text[]) and c.relkind in ('r', 'p')";

const POLICIES: &str = "
    select schemaname::text, tablename::text, policyname::text, permissive, cmd,
           roles::text[], qual, with_check
      from pg_policies
     where schemaname::text = any($1::text[])";

// A NULL ACL means the default one (the owner holds everything): acldefault makes it explicit so
// a table that was never granted on compares equal to one whose grants were reset.
const TABLE_GRANTS: &str = "
    select n.nspname::text, c.relname::text, null::text,
           case a.grantee when 0 then 'PUBLIC' else pg_get_userbyid(a.grantee)::text end,
           a.privilege_type, a.is_grantable
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
           cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
     where n.nspname::text = any($1::text[]) and c.relkind in ('r', 'p')
    union all
    select n.nspname::text, c.relname::text, att.attname::text,
           case a.grantee when 0 then 'PUBLIC' else pg_get_userbyid(a.grantee)::text end,
           a.privilege_type, a.is_grantable
      from pg_attribute att join pg_class c on c.oid = att.attrelid
           join pg_namespace n on n.oid = c.relnamespace
           cross join lateral aclexplode(att.attacl) a
     where n.nspname::text = any($1::text[]) and c.relkind in ('r', 'p')
       and att.attnum > 0 and not att.attisdropped and att.attacl is not null";

const SCHEMA_GRANTS: &str = "
    select n.nspname::text,
           case a.grantee when 0 then 'PUBLIC' else pg_get_userbyid(a.grantee)::text end,
           a.privilege_type, a.is_grantable
      from pg_namespace n
           cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
     where n.nspname::text = any($1::text[])";

/// The catalog state of the given schemas (each listed, even when it does not exist).
pub async fn snapshot(client: &impl GenericClient, schemas: &[String]) -> Result<Vec<SchemaState>, DbError> {
    let mut by_schema: BTreeMap<String, (BTreeSet<Grant>, BTreeMap<String, TableState>)> =
        schemas.iter().map(|s| (s.clone(), Default::default())).collect();
    for r in client.query(TABLES, &[&schemas]).await? {
        let entry = by_schema.entry(r.get(0)).or_default();
        let name: String = r.get(1);
        entry.1.insert(
            name.clone(),
            TableState {
                name,
                rls_enabled: r.get(2),
                rls_forced: r.get(3),
                policies: Vec::new(),
                grants: Vec::new(),
            },
        );
    }
    for r in client.query(POLICIES, &[&schemas]).await? {
        let schema: String = r.get(0);
        let table: String = r.get(1);
        let mut roles: Vec<String> = r.get(5);
        roles.sort();
        let policy = Policy {
            name: r.get(2),
            permissive: r.get(3),
            command: r.get(4),
            roles,
            using: r.get(6),
            with_check: r.get(7),
        };
        if let Some(t) = by_schema.get_mut(&schema).and_then(|s| s.1.get_mut(&table)) {
            t.policies.push(policy);
        }
    }
    for r in client.query(TABLE_GRANTS, &[&schemas]).await? {
        let schema: String = r.get(0);
        let table: String = r.get(1);
        let grant = Grant { column: r.get(2), grantee: r.get(3), privilege: r.get(4), grantable: r.get(5) };
        if let Some(t) = by_schema.get_mut(&schema).and_then(|s| s.1.get_mut(&table)) {
            t.grants.push(grant);
        }
    }
    for r in client.query(SCHEMA_GRANTS, &[&schemas]).await? {
        let schema: String = r.get(0);
        let grant = Grant { grantee: r.get(1), privilege: r.get(2), column: None, grantable: r.get(3) };
        if let Some(s) = by_schema.get_mut(&schema) {
            s.0.insert(grant);
        }
    }
    Ok(by_schema
        .into_iter()
        .map(|(schema, (grants, tables))| SchemaState {
            schema,
            grants: grants.into_iter().collect(),
            tables: tables
                .into_values()
                .map(|mut t| {
                    t.policies.sort_by(|a, b| a.name.cmp(&b.name));
                    t.grants.sort();
                    t.grants.dedup();
                    t
                })
                .collect(),
        })
        .collect())
}

async fn schema_owner_role(client: &impl GenericClient) -> Result<String, DbError> {
    client
        .query_opt("select value from app_private.config where key = 'role_schema_owner'", &[])
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| DbError::Other("the database is not migrated: run `stock migrate` first".into()))
}

// Strips the shared schema to a clean slate, so that whatever `policies/app.sql` does not
// recreate (a hand-made policy, a grant to another role) shows up as a difference.
const STRIP_APP: &str = "
do $$
declare
    r record;
begin
    for r in select c.oid::regclass as tbl from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'app' and c.relkind in ('r', 'p') loop
        execute format('alter table %s no force row level security, disable row level security', r.tbl);
    end loop;
    for r in select schemaname, tablename, policyname from pg_policies where schemaname = 'app' loop
        execute format('drop policy %I on %I.%I', r.policyname, r.schemaname, r.tablename);
    end loop;
    for r in select distinct c.oid::regclass as tbl, g.grantee
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    cross join lateral (
                        select a.grantee from aclexplode(c.relacl) a
                        union
                        select a.grantee from pg_attribute att cross join lateral aclexplode(att.attacl) a
                         where att.attrelid = c.oid and att.attnum > 0
                    ) g
              where n.nspname = 'app' and c.relkind in ('r', 'p') and g.grantee <> c.relowner loop
        execute format('revoke all on %s from %s', r.tbl,
                       case r.grantee when 0 then 'public' else quote_ident(pg_get_userbyid(r.grantee)) end);
    end loop;
    for r in select distinct a.grantee from pg_namespace n cross join lateral aclexplode(n.nspacl) a
              where n.nspname = 'app' and a.grantee <> n.nspowner loop
        execute format('revoke all on schema app from %s',
                       case r.grantee when 0 then 'public' else quote_ident(pg_get_userbyid(r.grantee)) end);
    end loop;
end $$";

/// The shared schema as `policies/app.sql` (the text this binary embeds) makes it from a clean
/// slate. Takes brief exclusive locks on the `app` tables; everything is rolled back.
pub async fn expected_app(client: &mut Client) -> Result<SchemaState, DbError> {
    let owner = schema_owner_role(client).await?;
    let tx = client.transaction().await?;
    tx.batch_execute("set local lock_timeout = '10s'").await?;
    tx.batch_execute(STRIP_APP).await?;
    let rendered: String =
        tx.query_one("select app_private.render($1, null)", &[&APP_POLICIES]).await?.get(0);
    tx.query_one("select set_config('role', $1, true)", &[&owner]).await?;
    tx.batch_execute(&rendered).await?;
    tx.batch_execute("reset role").await?;
    let state = snapshot(&tx, &["app".to_string()]).await?;
    tx.rollback().await?;
    state.into_iter().next().ok_or_else(|| DbError::Other("no schema app".into()))
}

/// A scratch shop made by `app_private.create_tenant` (the registered migrations and policy
/// templates) with this binary's tenant templates applied on top, read back and rolled back.
/// The rollback leaves one unused value of the tenant id sequence.
pub async fn expected_tenant(client: &mut Client) -> Result<TenantTemplate, DbError> {
    let owner = schema_owner_role(client).await?;
    let tx = client.transaction().await?;
    tx.batch_execute("set local lock_timeout = '10s'").await?;
    let tenant_id: i64 = tx
        .query_one(
            "select app_private.create_tenant('policies check (rolled back)',
                                              app_private.unique_slug('policies-check-scratch'))",
            &[],
        )
        .await?
        .get(0);
    let row = tx
        .query_one("select schema_name, schema_version from app.tenants where id = $1", &[&tenant_id])
        .await?;
    let (schema, version): (String, i32) = (row.get(0), row.get(1));
    tx.query_one("select set_config('role', $1, true)", &[&owner]).await?;
    for (_, template) in TENANT_POLICIES {
        let rendered: String =
            tx.query_one("select app_private.render($1, $2)", &[template, &tenant_id]).await?.get(0);
        tx.batch_execute(&rendered).await?;
    }
    tx.batch_execute("reset role").await?;
    let state = snapshot(&tx, &[schema]).await?;
    tx.rollback().await?;
    let state =
        state.into_iter().next().ok_or_else(|| DbError::Other("scratch shop has no schema".into()))?;
    Ok(TenantTemplate { state, tenant_id, version })
}

impl TenantTemplate {
    /// The template as it should look in the shop `schema` with id `tenant_id`.
    pub fn for_shop(&self, schema: &str, tenant_id: &str) -> SchemaState {
        let from_schema = self.state.schema.as_str();
        let from_id = self.tenant_id.to_string();
        let map = |text: &Option<String>| {
            text.as_ref().map(|t| replace_word(&replace_word(t, from_schema, schema), &from_id, tenant_id))
        };
        SchemaState {
            schema: schema.to_string(),
            grants: self.state.grants.clone(),
            tables: self
                .state
                .tables
                .iter()
                .map(|t| TableState {
                    policies: t
                        .policies
                        .iter()
                        .map(|p| Policy { using: map(&p.using), with_check: map(&p.with_check), ..p.clone() })
                        .collect(),
                    ..t.clone()
                })
                .collect(),
        }
    }
}

/// Replaces `needle` where it stands as a whole identifier or number (not inside a longer one).
pub fn replace_word(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        // the character before the match: in `rest`, or (at its start) the last one written
        let before = if at == 0 { out.chars().next_back() } else { rest[..at].chars().next_back() };
        let before_ok = !before.is_some_and(is_word);
        let after = &rest[at + needle.len()..];
        let after_ok = !after.chars().next().is_some_and(is_word);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { with } else { needle });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Every difference between `expected` and `actual` (the same schema), named precisely.
pub fn diff(expected: &SchemaState, actual: &SchemaState) -> Vec<Drift> {
    let mut out = Vec::new();
    let schema = &actual.schema;
    grant_drift(&mut out, schema, &expected.grants, &actual.grants);
    let actual_tables: BTreeMap<&str, &TableState> =
        actual.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let expected_tables: BTreeMap<&str, &TableState> =
        expected.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    for (name, want) in &expected_tables {
        let object = format!("{schema}.{name}");
        let Some(have) = actual_tables.get(name) else {
            out.push(Drift { object, message: "table is missing".into() });
            continue;
        };
        table_drift(&mut out, &object, want, have);
    }
    for name in actual_tables.keys().filter(|n| !expected_tables.contains_key(*n)) {
        out.push(Drift {
            object: format!("{schema}.{name}"),
            message: "table is not in the policy templates (extra table)".into(),
        });
    }
    out
}

fn table_drift(out: &mut Vec<Drift>, object: &str, want: &TableState, have: &TableState) {
    let mut push = |message: String| out.push(Drift { object: object.to_string(), message });
    if want.rls_enabled && !have.rls_enabled {
        push("row level security is disabled".into());
    } else if !want.rls_enabled && have.rls_enabled {
        push("row level security is enabled but the templates do not enable it".into());
    }
    if want.rls_forced && !have.rls_forced {
        push("row level security is not forced".into());
    } else if !want.rls_forced && have.rls_forced {
        push("row level security is forced but the templates do not force it".into());
    }
    for p in &want.policies {
        match have.policies.iter().find(|h| h.name == p.name) {
            None => push(format!("policy {} is missing", p.name)),
            Some(h) if h != p => push(format!("policy {} changed: {}", p.name, policy_changes(p, h))),
            Some(_) => {}
        }
    }
    for h in have.policies.iter().filter(|h| !want.policies.iter().any(|p| p.name == h.name)) {
        push(format!(
            "extra policy {} ({} {} to {}; using {}; with check {})",
            h.name,
            h.permissive,
            h.command,
            h.roles.join(", "),
            h.using.as_deref().unwrap_or("-"),
            h.with_check.as_deref().unwrap_or("-")
        ));
    }
    grant_drift(out, object, &want.grants, &have.grants);
}

fn policy_changes(want: &Policy, have: &Policy) -> String {
    let mut parts = Vec::new();
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "(none)".into());
    if want.permissive != have.permissive {
        parts.push(format!("{} instead of {}", have.permissive, want.permissive));
    }
    if want.command != have.command {
        parts.push(format!("command {} instead of {}", have.command, want.command));
    }
    if want.roles != have.roles {
        parts.push(format!("roles {} instead of {}", have.roles.join(", "), want.roles.join(", ")));
    }
    if want.using != have.using {
        parts.push(format!("USING {} instead of {}", opt(&have.using), opt(&want.using)));
    }
    if want.with_check != have.with_check {
        parts.push(format!("WITH CHECK {} instead of {}", opt(&have.with_check), opt(&want.with_check)));
    }
    parts.join("; ")
}

fn grant_drift(out: &mut Vec<Drift>, object: &str, want: &[Grant], have: &[Grant]) {
    let want: BTreeSet<&Grant> = want.iter().collect();
    let have: BTreeSet<&Grant> = have.iter().collect();
    for (kind, set) in [("extra", have.difference(&want)), ("missing", want.difference(&have))] {
        for (grantee, privilege, columns) in group_grants(set.copied()) {
            let what =
                if columns.is_empty() { privilege } else { format!("{privilege} ({})", columns.join(", ")) };
            out.push(Drift {
                object: object.to_string(),
                message: format!("{kind} grant {what} to {grantee}"),
            });
        }
    }
}

/// Groups grants into (grantee, privilege [WITH GRANT OPTION], columns) for display; an empty
/// column list means the whole table. Table-wide privileges come before column ones.
pub fn group_grants<'a>(grants: impl Iterator<Item = &'a Grant>) -> Vec<(String, String, Vec<String>)> {
    let mut grouped: BTreeMap<(String, bool, usize, String), Vec<String>> = BTreeMap::new();
    for g in grants {
        let privilege =
            if g.grantable { format!("{} WITH GRANT OPTION", g.privilege) } else { g.privilege.clone() };
        let key = (g.grantee.clone(), g.column.is_some(), privilege_rank(&g.privilege), privilege);
        let cols = grouped.entry(key).or_default();
        if let Some(c) = &g.column {
            cols.push(c.clone());
        }
    }
    grouped.into_iter().map(|((grantee, _, _, privilege), cols)| (grantee, privilege, cols)).collect()
}

fn privilege_rank(p: &str) -> usize {
    const ORDER: [&str; 9] =
        ["USAGE", "CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];
    ORDER.iter().position(|o| *o == p).unwrap_or(ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_words_only() {
        assert_eq!(
            replace_word("(x = 12) and y = 123 and tenant_12.a", "12", "7"),
            "(x = 7) and y = 123 and tenant_12.a"
        );
        assert_eq!(
            replace_word("tenant_12.a, tenant_123.b", "tenant_12", "tenant_3"),
            "tenant_3.a, tenant_123.b"
        );
        assert_eq!(replace_word("12", "12", "{{tenant_id}}"), "{{tenant_id}}");
        assert_eq!(replace_word("a12 12a 12", "12", "x"), "a12 12a x");
    }

    fn grant(grantee: &str, privilege: &str, column: Option<&str>) -> Grant {
        Grant {
            grantee: grantee.into(),
            privilege: privilege.into(),
            column: column.map(Into::into),
            grantable: false,
        }
    }

    #[test]
    fn drift_names_table_role_and_privilege() {
        let table = |grants: Vec<Grant>, forced: bool| SchemaState {
            schema: "tenant_1".into(),
            grants: vec![],
            tables: vec![TableState {
                name: "products".into(),
                rls_enabled: true,
                rls_forced: forced,
                policies: vec![],
                grants,
            }],
        };
        let want = table(vec![grant("staff", "SELECT", None)], true);
        let have =
            table(vec![grant("staff", "SELECT", None), grant("staff", "UPDATE", Some("stock"))], false);
        let messages: Vec<String> = diff(&want, &have).iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "tenant_1.products: row level security is not forced",
                "tenant_1.products: extra grant UPDATE (stock) to staff"
            ]
        );
        assert!(diff(&want, &want).is_empty());
    }
}
