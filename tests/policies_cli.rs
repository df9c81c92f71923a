//! `stock policies show|check`, running the real binary against a database of its own: a clean
//! database passes, and each kind of drift a DBA (or an attacker with DDL rights) could introduce
//! is named precisely with a non-zero exit; --tenant limits the scope.
mod common;

use std::process::{Command, Output};

use common::{roles, TestDb};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn stock(db: &TestDb, args: &[&str]) -> Run {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_stock"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", common::PREFIX)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run stock");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[track_caller]
fn assert_clean(db: &TestDb, args: &[&str]) -> Run {
    let run = stock(db, args);
    assert_eq!(run.code, Some(0), "expected a clean check for {args:?}:\n{}", run.all());
    assert!(run.stdout.contains("policies check: clean"), "{}", run.all());
    assert!(!run.stdout.contains("DRIFT"), "{}", run.all());
    run
}

#[track_caller]
fn assert_drift(db: &TestDb, args: &[&str], expected: &str) -> Run {
    let run = stock(db, args);
    assert_eq!(run.code, Some(1), "expected exit 1 for {args:?}:\n{}", run.all());
    assert!(
        run.stdout.lines().any(|l| l.starts_with("DRIFT ") && l.contains(expected)),
        "expected a DRIFT line containing {expected:?}:\n{}",
        run.all()
    );
    assert!(run.stderr.contains("difference(s) from policies/"), "{}", run.all());
    run
}

#[tokio::test]
async fn a_freshly_migrated_database_is_clean_and_show_lists_it() {
    let db = TestDb::new().await;
    let (shop, schema) = db.create_shop("Clean").await;
    db.create_shop("Other").await;
    let run = assert_clean(&db, &["policies", "check"]);
    assert!(run.stdout.contains("2 shop(s)"), "{}", run.stdout);

    // a suspended shop's roles lose USAGE on its schema on purpose: still clean, and a grant
    // given back by hand while it is suspended is drift
    let admin = db.admin().await;
    admin
        .execute("update app.tenants set status = 'suspended' where id = $1", &[&shop])
        .await
        .expect("suspend");
    assert_clean(&db, &["policies", "check"]);
    admin
        .batch_execute(&format!("grant usage on schema {schema} to {}", roles().staff))
        .await
        .expect("grant");
    assert_drift(&db, &["policies", "check"], &schema);
    admin
        .execute("update app.tenants set status = 'active' where id = $1", &[&shop])
        .await
        .expect("reactivate");
    assert_clean(&db, &["policies", "check"]);

    let staff = roles().staff;
    let show = stock(&db, &["policies", "show", "--tenant", &shop.to_string()]);
    assert_eq!(show.code, Some(0), "{}", show.all());
    let out = &show.stdout;
    assert!(out.contains(&format!("{schema}.products  (RLS enabled: yes, forced: yes)")), "{out}");
    assert!(out.contains("app.memberships  (RLS enabled: yes, forced: yes)"), "{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().take(2).eq(["tenant_isolation", "PERMISSIVE"])),
        "{out}"
    );
    assert!(out.contains(&format!("= {shop})")), "the shop's own constant in its policies:\n{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().take(4).eq(["manual_kinds", "RESTRICTIVE", "INSERT", "to"])),
        "{out}"
    );
    // staff reads products but holds no column privilege there; the owner updates named columns
    let products = out.split(&format!("{schema}.products ")).nth(1).expect("products section");
    let products = products.split("\n\n").next().expect("section");
    assert!(
        products.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == [staff.as_str(), "SELECT"]),
        "{products}"
    );
    assert!(products.contains("UPDATE (active, barcode"), "{products}");

    // without --tenant: the template with placeholders, once
    let show = stock(&db, &["policies", "show"]);
    assert_eq!(show.code, Some(0), "{}", show.all());
    assert!(show.stdout.contains("== tenant template (every one of the 2 shop schemas"), "{}", show.stdout);
    assert!(show.stdout.contains("{{schema}}.sale_drafts"), "{}", show.stdout);
    assert!(show.stdout.contains("= {{tenant_id}})"), "{}", show.stdout);
    assert!(!show.stdout.contains(&format!("{schema}.")), "no real shop without --tenant");

    let json =
        stock(&db, &["policies", "show", "--tenant", &schema.replace("tenant_", ""), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("show --format json is JSON");
    let schemas = v["schemas"].as_array().expect("schemas");
    assert_eq!(schemas.len(), 2);
    let audit = schemas[1]["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == "audit_log")
        .expect("audit_log");
    assert_eq!(audit["rls_forced"], true);
    let policies = audit["policies"].as_array().expect("policies");
    assert!(policies.iter().any(|p| p["name"] == "tenant_isolation"), "{policies:?}");

    let json = stock(&db, &["policies", "check", "--format", "json"]);
    assert_eq!(json.code, Some(0), "{}", json.all());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("check --format json is JSON");
    assert_eq!(v["clean"], true);
    assert_eq!(v["shops_checked"], 2);
}

#[tokio::test]
async fn every_kind_of_drift_is_named_and_fails_the_check() {
    let db = TestDb::new().await;
    let (shop, s) = db.create_shop("Drifting").await;
    let admin = db.admin().await;
    let r = roles();
    let (staff, owner) = (r.staff.as_str(), r.owner.as_str());
    let reapply = format!("select app_private.apply_tenant_policies({shop})");
    // (what, drift SQL, expected message, SQL that repairs it)
    let cases: Vec<(&str, String, String, String)> = vec![
        (
            "RLS disabled",
            format!("alter table {s}.products disable row level security"),
            format!("{s}.products: row level security is disabled"),
            reapply.clone(),
        ),
        (
            "RLS not forced",
            format!("alter table {s}.settings no force row level security"),
            format!("{s}.settings: row level security is not forced"),
            reapply.clone(),
        ),
        (
            "policy dropped",
            format!("drop policy manual_kinds on {s}.money_ledger"),
            format!("{s}.money_ledger: policy manual_kinds is missing"),
            reapply.clone(),
        ),
        (
            "policy expression changed",
            format!("alter policy tenant_isolation on {s}.customers using (true)"),
            format!("{s}.customers: policy tenant_isolation changed: USING true instead of"),
            reapply.clone(),
        ),
        (
            "policy roles changed",
            format!("alter policy manual_kinds on {s}.stock_movements to {owner}"),
            format!("{s}.stock_movements: policy manual_kinds changed: roles {owner} instead of"),
            reapply.clone(),
        ),
        (
            "extra policy",
            format!("create policy peek on {s}.sales for select to {staff} using (true)"),
            format!("{s}.sales: extra policy peek (PERMISSIVE SELECT to {staff}; using true"),
            format!("drop policy peek on {s}.sales"),
        ),
        (
            "extra table privilege for staff",
            format!("grant select on {s}.money_ledger to {staff}"),
            format!("{s}.money_ledger: extra grant SELECT to {staff}"),
            reapply.clone(),
        ),
        (
            "extra column privilege for staff",
            format!("grant update (stock, price) on {s}.products to {staff}"),
            format!("{s}.products: extra grant UPDATE (price, stock) to {staff}"),
            reapply.clone(),
        ),
        (
            "revoked privilege",
            format!("revoke select on {s}.units from {staff}"),
            format!("{s}.units: missing grant SELECT to {staff}"),
            reapply.clone(),
        ),
        (
            "revoked column privilege",
            format!("revoke update (receipt_footer) on {s}.settings from {owner}"),
            format!("{s}.settings: missing grant UPDATE (receipt_footer) to {owner}"),
            reapply.clone(),
        ),
        (
            "schema privilege",
            format!("grant usage on schema {s} to {}", r.anon),
            format!("{s}: extra grant USAGE to {}", r.anon),
            format!("revoke usage on schema {s} from {}", r.anon),
        ),
        (
            "privilege on a shared table",
            format!("grant select on app.sessions to {staff}"),
            format!("app.sessions: extra grant SELECT to {staff}"),
            format!("revoke select on app.sessions from {staff}"),
        ),
        (
            "shared table not forced",
            "alter table app.users no force row level security".into(),
            "app.users: row level security is not forced".into(),
            "alter table app.users force row level security".into(),
        ),
        (
            "extra policy on a shared table",
            format!("create policy everyone on app.users for select to {} using (true)", r.anon),
            format!("app.users: extra policy everyone (PERMISSIVE SELECT to {}", r.anon),
            "drop policy everyone on app.users".into(),
        ),
    ];
    for (what, drift, expected, repair) in &cases {
        admin.batch_execute(drift).await.unwrap_or_else(|e| panic!("{what}: {drift}: {e}"));
        assert_drift(&db, &["policies", "check"], expected);
        admin.batch_execute(repair).await.unwrap_or_else(|e| panic!("{what}: {repair}: {e}"));
        assert_clean(&db, &["policies", "check"]);
    }

    // several at once: each is listed, the JSON says so too
    admin
        .batch_execute(&format!(
            "alter table {s}.sales no force row level security; grant delete on {s}.audit_log to {staff};"
        ))
        .await
        .expect("drift");
    let run =
        assert_drift(&db, &["policies", "check"], &format!("{s}.audit_log: extra grant DELETE to {staff}"));
    assert!(
        run.stdout.contains(&format!("DRIFT {s}.sales: row level security is not forced")),
        "{}",
        run.stdout
    );
    let json = stock(&db, &["policies", "check", "--format", "json"]);
    assert_eq!(json.code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["clean"], false);
    assert_eq!(v["drift"].as_array().map(Vec::len), Some(2), "{}", json.stdout);
}

#[tokio::test]
async fn tenant_limits_the_scope_to_one_shop() {
    let db = TestDb::new().await;
    let (a, sa) = db.create_shop("Shop A").await;
    let (b, sb) = db.create_shop("Shop B").await;
    let admin = db.admin().await;
    let slug_a: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&a]).await.expect("slug").get(0);
    admin
        .batch_execute(&format!("grant update on {sb}.products to {}", roles().staff))
        .await
        .expect("drift in shop B");

    let run = assert_clean(&db, &["policies", "check", "--tenant", &slug_a]);
    assert!(run.stdout.contains(&format!("shop {sa}")), "{}", run.stdout);
    let run =
        assert_drift(&db, &["policies", "check", "--tenant", &b.to_string()], &format!("{sb}.products"));
    assert!(!run.stdout.contains(&format!("{sa}.")), "only shop B is checked:\n{}", run.stdout);
    assert_drift(&db, &["policies", "check"], &format!("{sb}.products: extra grant UPDATE to"));

    let run = stock(&db, &["policies", "check", "--tenant", "no-such-shop"]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("no shop with slug or id \"no-such-shop\""), "{}", run.all());

    // a shop whose schema lost a table is reported, not skipped
    admin.batch_execute(&format!("drop table {sa}.missing_products")).await.expect("drop");
    assert_drift(
        &db,
        &["policies", "check", "--tenant", &a.to_string()],
        &format!("{sa}.missing_products: table is missing"),
    );
}
