//! What a DBA would check in the system catalogs, as the superuser, in a database with two shops:
//! forced RLS everywhere, pinned search_path on every SECURITY DEFINER function, a login role that
//! owns and holds nothing, no grant to PUBLIC, and isolation policies naming their own shop's id.
//! Each check is a function returning its findings; `the_audit_catches_planted_weaknesses` plants
//! one weakness per check in a throwaway database to prove the check can fail.
mod common;

use std::collections::BTreeSet;

use common::{roles, TestDb};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

const TENANT_SCHEMAS: &str = "n.nspname ~ '^tenant_[0-9]+$'";

async fn two_shops() -> (TestDb, Client, [i64; 2]) {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Catálogo A").await;
    let (b, _) = db.create_shop("Catálogo B").await;
    db.add_member(a, "owner-a@example.com", "owner").await;
    db.add_member(b, "owner-b@example.com", "owner").await;
    let admin = db.admin().await;
    (db, admin, [a, b])
}

async fn strings(c: &Client, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Vec<String> {
    c.query(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).iter().map(|r| r.get(0)).collect()
}

fn app_side_roles() -> Vec<String> {
    let r = roles();
    vec![r.app, r.owner, r.admin, r.staff, r.anon, r.superadmin, r.support]
}

#[track_caller]
fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{} finding(s):\n{}", problems.len(), problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// checks

/// Every table of `app` and of every shop schema has RLS enabled and forced; every shop table has
/// a permissive (isolation) policy; nothing there escapes RLS (views without security_invoker,
/// materialized views, foreign tables).
async fn rls_findings(admin: &Client) -> Vec<String> {
    let mut out = strings(
        admin,
        &format!(
            "select format('%I.%I: rls=%s force=%s', n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity)
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p') and ({TENANT_SCHEMAS} or n.nspname = 'app')
                and not (c.relrowsecurity and c.relforcerowsecurity) order by 1"
        ),
        &[],
    )
    .await;
    out.extend(
        strings(
            admin,
            &format!(
                "select format('%I.%I: no permissive (isolation) policy', n.nspname, c.relname)
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where c.relkind in ('r', 'p') and {TENANT_SCHEMAS}
                    and not exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polpermissive)
                  order by 1"
            ),
            &[],
        )
        .await,
    );
    out.extend(
        strings(
            admin,
            &format!(
                "select format('%I.%I: relkind %s escapes RLS', n.nspname, c.relname, c.relkind)
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where ({TENANT_SCHEMAS} or n.nspname = 'app')
                    and (c.relkind in ('m', 'f')
                         or (c.relkind = 'v' and not coalesce('security_invoker=true' = any(c.reloptions), false)))
                  order by 1"
            ),
            &[],
        )
        .await,
    );
    out
}

/// Every SECURITY DEFINER function in a non-system schema pins a search_path made only of
/// pg_catalog, pg_temp (not first) and schemas no app-side role can create objects in.
async fn definer_findings(admin: &Client) -> Vec<String> {
    let rows = admin
        .query(
            "select p.oid::regprocedure::text, (select c from unnest(p.proconfig) c where c like 'search_path=%')
               from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'
              order by 1",
            &[],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in &rows {
        let name: String = r.get(0);
        let Some(path) = r.get::<_, Option<String>>(1) else {
            out.push(format!("{name}: SECURITY DEFINER without a pinned search_path"));
            continue;
        };
        let entries: Vec<String> = path
            .trim_start_matches("search_path=")
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect();
        if entries.first().map(String::as_str) == Some("pg_temp") {
            out.push(format!("{name}: pg_temp first in search_path"));
        }
        for schema in entries.iter().filter(|s| *s != "pg_temp" && *s != "pg_catalog") {
            if schema.is_empty() || schema.starts_with('$') {
                out.push(format!("{name}: search_path entry {schema:?}"));
                continue;
            }
            for role in app_side_roles() {
                let writable = admin
                    .query_opt(
                        "select 1 from pg_namespace where nspname = $2 and has_schema_privilege($1, oid, 'create')",
                        &[&role, schema],
                    )
                    .await
                    .unwrap()
                    .is_some();
                if writable {
                    out.push(format!("{name}: search_path schema {schema} is writable by {role}"));
                }
            }
        }
    }
    out
}

/// No object of this database is owned by an app-side role; app, app_private and the shop
/// schemas (and everything in them) belong to the schema owner.
async fn ownership_findings(admin: &Client) -> Vec<String> {
    let mut out = strings(
        admin,
        "with r as (select oid, rolname from pg_roles where rolname = any($1))
         select 'class ' || c.oid::regclass::text || ' owned by ' || r.rolname from pg_class c join r on r.oid = c.relowner
         union all
         select 'schema ' || n.nspname || ' owned by ' || r.rolname from pg_namespace n join r on r.oid = n.nspowner
         union all
         select 'function ' || p.oid::regprocedure::text || ' owned by ' || r.rolname
           from pg_proc p join r on r.oid = p.proowner
         union all
         select 'type ' || t.oid::regtype::text || ' owned by ' || r.rolname from pg_type t join r on r.oid = t.typowner
         union all
         select 'database ' || d.datname || ' owned by ' || r.rolname from pg_database d join r on r.oid = d.datdba
         union all
         select 'event trigger ' || e.evtname || ' owned by ' || r.rolname
           from pg_event_trigger e join r on r.oid = e.evtowner
         union all
         select 'default privileges of ' || r.rolname from pg_default_acl a join r on r.oid = a.defaclrole",
        &[&app_side_roles()],
    )
    .await;
    out.extend(
        strings(
            admin,
            &format!(
                "select 'schema ' || n.nspname || ' owned by ' || pg_get_userbyid(n.nspowner) from pg_namespace n
                  where ({TENANT_SCHEMAS} or n.nspname in ('app', 'app_private')) and pg_get_userbyid(n.nspowner) <> $1
                 union all
                 select 'class ' || c.oid::regclass::text || ' owned by ' || pg_get_userbyid(c.relowner)
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where ({TENANT_SCHEMAS} or n.nspname in ('app', 'app_private')) and pg_get_userbyid(c.relowner) <> $1
                 union all
                 select 'function ' || p.oid::regprocedure::text || ' owned by ' || pg_get_userbyid(p.proowner)
                   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                  where ({TENANT_SCHEMAS} or n.nspname in ('app', 'app_private')) and pg_get_userbyid(p.proowner) <> $1"
            ),
            &[&roles().schema_owner],
        )
        .await,
    );
    out
}

/// PUBLIC holds nothing on app, app_private and the shop schemas, their relations and the
/// app_private functions (a NULL proacl is the default: EXECUTE for PUBLIC); and SECURITY DEFINER
/// functions live only in app_private, where they are revoked and granted by name.
async fn public_findings(admin: &Client) -> Vec<String> {
    let schemas = strings(
        admin,
        &format!(
            "select n.nspname::text from pg_namespace n where {TENANT_SCHEMAS} or n.nspname in ('app', 'app_private')"
        ),
        &[],
    )
    .await;
    let mut out = strings(
        admin,
        "select 'schema ' || nspname || ' open to PUBLIC' from pg_namespace where nspname = any($1)
            and (has_schema_privilege('public', oid, 'usage') or has_schema_privilege('public', oid, 'create'))",
        &[&schemas],
    )
    .await;
    out.extend(
        strings(
            admin,
            "select 'relation ' || c.oid::regclass::text || ' (' || c.relkind::text || ') grants to PUBLIC'
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
                and (exists (select 1 from aclexplode(c.relacl) a where a.grantee = 0)
                     or (c.relkind = 'S' and has_sequence_privilege('public', c.oid, 'usage, select, update'))
                     or (c.relkind <> 'S' and (has_table_privilege('public', c.oid,
                             'select, insert, update, delete, truncate, references, trigger')
                          or has_any_column_privilege('public', c.oid, 'select, insert, update, references'))))
              order by 1",
            &[&schemas],
        )
        .await,
    );
    out.extend(
        strings(
            admin,
            "select 'function ' || p.oid::regprocedure::text || ' executable by PUBLIC'
               from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'app_private' and has_function_privilege('public', p.oid, 'execute') order by 1",
            &[],
        )
        .await,
    );
    out.extend(
        strings(
            admin,
            "select 'SECURITY DEFINER function ' || p.oid::regprocedure::text || ' outside app_private'
               from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where p.prosecdef and n.nspname <> 'app_private'
                and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_' order by 1",
            &[],
        )
        .await,
    );
    out
}

/// Every permissive policy of a shop table compares the request's tenant with that schema's own
/// id, with no OR beside it and no other shop's id in it. Restrictive policies only narrow.
/// Returns the findings and the shop ids whose schemas have policies at all.
async fn policy_findings(admin: &Client) -> (Vec<String>, BTreeSet<i64>) {
    let rows = admin
        .query(
            "select schemaname::text, tablename::text, policyname::text, permissive::text, qual, with_check
               from pg_policies where schemaname ~ '^tenant_[0-9]+$' order by 1, 2, 3",
            &[],
        )
        .await
        .unwrap();
    let all_ids: BTreeSet<i64> = strings(
        admin,
        &format!("select substr(n.nspname, 8) from pg_namespace n where {TENANT_SCHEMAS}"),
        &[],
    )
    .await
    .iter()
    .map(|s| s.parse().expect("id"))
    .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in &rows {
        let (schema, table, policy, permissive): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let id: i64 = schema.trim_start_matches("tenant_").parse().expect("id in schema name");
        seen.insert(id);
        if permissive != "PERMISSIVE" {
            continue;
        }
        let what = format!("{schema}.{table} policy {policy}");
        let own = format!("( SELECT app.current_tenant_id() AS current_tenant_id) = {id})");
        let exprs: Vec<String> = [r.get::<_, Option<String>>(4), r.get::<_, Option<String>>(5)]
            .into_iter()
            .flatten()
            .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if exprs.is_empty() {
            out.push(format!("{what}: no expression"));
        }
        for e in &exprs {
            if !e.contains(&own) {
                out.push(format!("{what}: does not compare the request's tenant with {id}: {e}"));
            }
            if e.contains(" OR ") {
                out.push(format!("{what}: OR in a permissive policy: {e}"));
            }
            for other in all_ids.iter().filter(|o| **o != id) {
                if e.contains(&format!("= {other})")) || e.contains(&format!("tenant_{other}.")) {
                    out.push(format!("{what}: mentions shop {other}: {e}"));
                }
            }
        }
    }
    (out, seen)
}

// ---------------------------------------------------------------------------------------------
// tests

#[tokio::test]
async fn every_shop_and_shared_table_enables_and_forces_rls() {
    let (_db, admin, shops) = two_shops().await;
    let tables = strings(
        &admin,
        &format!(
            "select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p') and ({TENANT_SCHEMAS} or n.nspname = 'app') order by 1"
        ),
        &[],
    )
    .await;
    for t in shops {
        for name in ["settings", "audit_log"] {
            assert!(
                tables.contains(&format!("tenant_{t}.{name}")),
                "tenant_{t}.{name} missing from {tables:?}"
            );
        }
    }
    for name in ["tenants", "users", "memberships", "sessions", "login_failures"] {
        assert!(tables.contains(&format!("app.{name}")), "app.{name} missing");
    }
    assert_none(rls_findings(&admin).await);
}

#[tokio::test]
async fn security_definer_functions_pin_a_safe_search_path() {
    let (_db, admin, _) = two_shops().await;
    let n: i64 = admin
        .query_one(
            "select count(*) from pg_proc where prosecdef and pronamespace = 'app_private'::regnamespace",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(n >= 10, "expected the app_private definer functions, found {n}");
    assert_none(definer_findings(&admin).await);
}

#[tokio::test]
async fn the_login_role_and_the_shop_roles_hold_no_power_of_their_own() {
    let (_db, admin, _) = two_shops().await;
    let r = roles();
    let row = admin
        .query_one(
            "select rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication
               from pg_roles where rolname = $1",
            &[&r.app],
        )
        .await
        .expect("login role exists");
    let attrs: [bool; 7] = std::array::from_fn(|i| row.get(i));
    assert_eq!(
        attrs,
        [false, false, false, false, false, true, false],
        "{}: rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication",
        r.app
    );
    for role in [&r.owner, &r.admin, &r.staff, &r.anon, &r.schema_owner] {
        let row = admin
            .query_one(
                "select rolsuper or rolbypassrls or rolcreaterole or rolcreatedb or rolreplication, rolcanlogin
                   from pg_roles where rolname = $1",
                &[role],
            )
            .await
            .unwrap_or_else(|_| panic!("role {role} exists"));
        assert_eq!((row.get::<_, bool>(0), row.get::<_, bool>(1)), (false, false), "{role}: powers or LOGIN");
    }
    // nobody on the app side can become the schema owner, a superuser or a predefined pg_* role
    for role in app_side_roles() {
        let reach = strings(
            &admin,
            "select b.rolname::text from pg_roles b
              where b.rolname <> $1 and pg_has_role($1, b.oid, 'member')
                and (b.rolname = $2 or b.rolname like 'pg\\_%' or b.rolsuper or b.rolbypassrls)",
            &[&role, &r.schema_owner],
        )
        .await;
        assert!(reach.is_empty(), "{role} can become {reach:?}");
    }
    // the login role reaches exactly the request roles
    let members = strings(
        &admin,
        "select b.rolname::text from pg_roles b where b.rolname <> $1 and pg_has_role($1, b.oid, 'member') order by 1",
        &[&r.app],
    )
    .await;
    let mut want = vec![
        r.admin.clone(),
        r.anon.clone(),
        r.owner.clone(),
        r.staff.clone(),
        r.superadmin.clone(),
        r.support.clone(),
    ];
    want.sort();
    assert_eq!(members, want);
}

#[tokio::test]
async fn the_app_side_owns_no_object() {
    let (_db, admin, _) = two_shops().await;
    assert_none(ownership_findings(&admin).await);
}

#[tokio::test]
async fn nothing_is_granted_to_public() {
    let (_db, admin, shops) = two_shops().await;
    let schemas: i64 = admin
        .query_one(
            &format!(
                "select count(*) from pg_namespace n where {TENANT_SCHEMAS} or n.nspname in ('app', 'app_private')"
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(schemas, 2 + shops.len() as i64);
    let functions: i64 = admin
        .query_one("select count(*) from pg_proc where pronamespace = 'app_private'::regnamespace", &[])
        .await
        .unwrap()
        .get(0);
    assert!(functions >= 10, "app_private has only {functions} functions");
    assert_none(public_findings(&admin).await);
}

#[tokio::test]
async fn the_login_role_itself_holds_only_the_session_paths() {
    let (_db, admin, _) = two_shops().await;
    let r = roles();
    // NOINHERIT: these are the only things it can do before a request switches role
    let exec = strings(
        &admin,
        "select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'app_private' and has_function_privilege($1, p.oid, 'execute') order by 1",
        &[&r.app],
    )
    .await;
    // the session resolvers: shop sessions, and the operator's panel (admin session, "view as")
    assert_eq!(exec, ["migration_status", "resolve_admin_session", "resolve_admin_view", "resolve_session"]);
    let tables = strings(
        &admin,
        &format!(
            "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where ({TENANT_SCHEMAS} or n.nspname in ('app', 'app_private', 'public'))
                and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
                and (has_table_privilege($1, c.oid, 'select, insert, update, delete, truncate, references, trigger')
                     or has_any_column_privilege($1, c.oid, 'select, insert, update, references'))"
        ),
        &[&r.app],
    )
    .await;
    assert!(tables.is_empty(), "the login role holds table privileges: {tables:?}");
    for role in app_side_roles() {
        // nobody on the app side reads or writes the private tables (config, migrations, templates)
        let private = strings(
            &admin,
            "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'app_private' and c.relkind in ('r', 'p', 'v', 'm', 'S')
                and (has_table_privilege($1, c.oid, 'select, insert, update, delete, truncate')
                     or has_any_column_privilege($1, c.oid, 'select, insert, update'))",
            &[&role],
        )
        .await;
        assert!(private.is_empty(), "{role} reaches {private:?}");
        // nor CREATE in any schema, nor CREATE / TEMPORARY on the database
        let create = strings(
            &admin,
            "select nspname::text from pg_namespace
              where nspname !~ '^pg_' and nspname <> 'information_schema' and has_schema_privilege($1, oid, 'create')",
            &[&role],
        )
        .await;
        assert!(create.is_empty(), "{role} may create in {create:?}");
        let db: bool = admin
            .query_one(
                "select has_database_privilege($1, current_database(), 'create')
                     or has_database_privilege($1, current_database(), 'temporary')",
                &[&role],
            )
            .await
            .unwrap()
            .get(0);
        assert!(!db, "{role} may create schemas or temporary tables in the database");
    }
}

#[tokio::test]
async fn every_shop_policy_names_its_own_shop() {
    let (_db, admin, shops) = two_shops().await;
    let (findings, seen) = policy_findings(&admin).await;
    assert_none(findings);
    for s in shops {
        assert!(seen.contains(&s), "no policies in tenant_{s}");
    }
    // every shop schema belongs to a row of app.tenants and the other way round
    let orphans = strings(
        &admin,
        &format!(
            "select n.nspname::text from pg_namespace n where {TENANT_SCHEMAS}
               and not exists (select 1 from app.tenants t where t.schema_name = n.nspname)
             union all
             select t.schema_name from app.tenants t
              where not exists (select 1 from pg_namespace n where n.nspname = t.schema_name)"
        ),
        &[],
    )
    .await;
    assert!(orphans.is_empty(), "{orphans:?}");
    // the audit log of every shop is append-only by trigger, not only by missing grants
    let unguarded = strings(
        &admin,
        &format!(
            "select n.nspname::text from pg_namespace n where {TENANT_SCHEMAS}
               and (select count(*) from pg_trigger g join pg_proc p on p.oid = g.tgfoid
                     where g.tgrelid = format('%I.audit_log', n.nspname)::regclass
                       and p.proname = 'refuse_change' and g.tgenabled <> 'D') < 2"
        ),
        &[],
    )
    .await;
    assert!(unguarded.is_empty(), "audit logs without the update/delete and truncate guards: {unguarded:?}");
}

/// Each check above, run against a database where one weakness of its kind was planted, reports
/// exactly that object: the checks can fail.
#[tokio::test]
async fn the_audit_catches_planted_weaknesses() {
    let (_db, admin, [a, b]) = two_shops().await;
    let r = roles();
    assert_none(rls_findings(&admin).await);
    assert_none(definer_findings(&admin).await);
    assert_none(ownership_findings(&admin).await);
    assert_none(public_findings(&admin).await);
    assert_none(policy_findings(&admin).await.0);

    #[track_caller]
    fn reports(findings: &[String], needle: &str) {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "expected a finding about {needle}, got {findings:?}"
        );
    }

    admin
        .batch_execute(&format!("alter table tenant_{a}.settings no force row level security"))
        .await
        .unwrap();
    admin.batch_execute("alter table app.sessions disable row level security").await.unwrap();
    admin.batch_execute(&format!("create table tenant_{b}.leak (i int)")).await.unwrap();
    admin
        .batch_execute(&format!(
            "create materialized view tenant_{b}.cache as select * from tenant_{b}.settings"
        ))
        .await
        .unwrap();
    let f = rls_findings(&admin).await;
    reports(&f, &format!("tenant_{a}.settings: rls=t force=f"));
    reports(&f, "app.sessions: rls=f");
    reports(&f, &format!("tenant_{b}.leak: rls=f"));
    reports(&f, &format!("tenant_{b}.leak: no permissive"));
    reports(&f, &format!("tenant_{b}.cache: relkind m"));

    admin
        .batch_execute(
            "create function app_private.planted_open() returns int language sql security definer as 'select 1';
             create function app_private.planted_temp() returns int language sql security definer
                 set search_path = pg_temp, pg_catalog as 'select 1';
             create function app.planted_public() returns int language sql security definer
                 set search_path = public as 'select 1';",
        )
        .await
        .unwrap();
    admin.batch_execute(&format!("grant create on schema public to {}", r.staff)).await.unwrap();
    let f = definer_findings(&admin).await;
    reports(&f, "app_private.planted_open(): SECURITY DEFINER without a pinned search_path");
    reports(&f, "app_private.planted_temp(): pg_temp first");
    reports(&f, &format!("app.planted_public(): search_path schema public is writable by {}", r.staff));
    let f = public_findings(&admin).await;
    reports(&f, "function app_private.planted_open() executable by PUBLIC");
    reports(&f, "SECURITY DEFINER function app.planted_public() outside app_private");

    admin.batch_execute(&format!("grant select on tenant_{a}.audit_log to public")).await.unwrap();
    admin.batch_execute(&format!("grant usage on schema tenant_{b} to public")).await.unwrap();
    admin.batch_execute("grant update (display_name) on app.users to public").await.unwrap();
    let f = public_findings(&admin).await;
    reports(&f, &format!("relation tenant_{a}.audit_log (r) grants to PUBLIC"));
    reports(&f, &format!("schema tenant_{b} open to PUBLIC"));
    reports(&f, "relation app.users (r) grants to PUBLIC");

    admin.batch_execute(&format!("alter table tenant_{a}.audit_log owner to {}", r.app)).await.unwrap();
    admin
        .batch_execute(&format!("alter function app_private.planted_open() owner to {}", r.staff))
        .await
        .unwrap();
    let f = ownership_findings(&admin).await;
    reports(&f, &format!("class tenant_{a}.audit_log owned by {}", r.app));
    reports(&f, &format!("function app_private.planted_open() owned by {}", r.staff));

    admin
        .batch_execute(&format!(
            "alter policy tenant_isolation on tenant_{a}.settings using ((select app.current_tenant_id()) = {b});
             create policy planted_or on tenant_{b}.settings
                 using ((select app.current_tenant_id()) = {b} or current_user = 'x');
             create policy planted_open on tenant_{b}.audit_log for select using (true);"
        ))
        .await
        .unwrap();
    let (f, _) = policy_findings(&admin).await;
    reports(
        &f,
        &format!(
            "tenant_{a}.settings policy tenant_isolation: does not compare the request's tenant with {a}"
        ),
    );
    reports(&f, &format!("tenant_{a}.settings policy tenant_isolation: mentions shop {b}"));
    reports(&f, &format!("tenant_{b}.settings policy planted_or: OR in a permissive policy"));
    reports(&f, &format!("tenant_{b}.audit_log policy planted_open: does not compare"));
}
