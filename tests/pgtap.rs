//! Runs the pgTAP suite (tests/pgtap/*.sql) with psql against a database of its own with two
//! shops, and fails on any "not ok", a missing plan, a count that does not match the plan, or a
//! psql error. scripts/pgtap.sh runs the same files with pg_prove.
//!
//! pgTAP must be installed on the server (`postgresql-<major>-pgtap`; scripts/test.sh installs
//! it). Without it this test fails, unless STOCK_SKIP_PGTAP=1 says to skip it.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{roles, TestDb, PREFIX};

struct Tap {
    planned: Option<usize>,
    ok: usize,
    not_ok: Vec<String>,
    output: String,
}

fn parse_tap(output: &str) -> Tap {
    let mut tap = Tap { planned: None, ok: 0, not_ok: Vec::new(), output: output.to_string() };
    for line in output.lines() {
        if let Some(n) = line.strip_prefix("1..") {
            tap.planned = n.trim().parse().ok();
        } else if line.starts_with("not ok") {
            tap.not_ok.push(line.to_string());
        } else if line.starts_with("ok ") {
            tap.ok += 1;
        }
    }
    tap
}

fn suite_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pgtap");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/pgtap")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .sql files in {}", dir.display());
    files
}

/// One file through psql, as a superuser, with the suite's variables.
fn run_file(db: &TestDb, file: &Path, shop: (i64, &str), other: (i64, &str)) -> Tap {
    let out = Command::new("psql")
        .arg("-X")
        .arg("-q")
        .args(["-d", &db.url()])
        .args(["-v", &format!("prefix={PREFIX}")])
        .args(["-v", &format!("schema={}", shop.1)])
        .args(["-v", &format!("tenant_id={}", shop.0)])
        .args(["-v", &format!("other_schema={}", other.1)])
        .args(["-v", &format!("other_id={}", other.0)])
        .arg("-f")
        .arg(file)
        .output()
        .expect("psql is needed to run the pgTAP suite");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "psql failed on {}:\n{stdout}\n{stderr}", file.display());
    parse_tap(&format!("{stdout}{stderr}"))
}

#[track_caller]
fn assert_passes(file: &Path, tap: &Tap) {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(tap.not_ok.is_empty(), "{name}: {} failed:\n{}", tap.not_ok.len(), tap.output);
    let planned = tap.planned.unwrap_or_else(|| panic!("{name}: no plan line:\n{}", tap.output));
    assert_eq!(tap.ok, planned, "{name}: {} ok of {planned} planned:\n{}", tap.ok, tap.output);
    assert!(planned > 0, "{name}: empty plan");
}

async fn pgtap_available(db: &TestDb) -> bool {
    let admin = db.admin().await;
    let available = admin
        .query_opt("select 1 from pg_available_extensions where name = 'pgtap'", &[])
        .await
        .expect("query")
        .is_some();
    if !available {
        assert!(
            std::env::var("STOCK_SKIP_PGTAP").as_deref() == Ok("1"),
            "pgTAP is not installed on the server: install postgresql-<major>-pgtap (scripts/test.sh does) \
             or set STOCK_SKIP_PGTAP=1 to skip the pgTAP suite"
        );
        eprintln!("STOCK_SKIP_PGTAP=1 and pgTAP is not installed: skipping the pgTAP suite");
    }
    available
}

#[tokio::test]
async fn pgtap_suite_passes_for_each_shop_and_catches_drift() {
    let db = TestDb::new().await;
    if !pgtap_available(&db).await {
        return;
    }
    let (a, sa) = db.create_shop("pgTAP A").await;
    let (b, sb) = db.create_shop("pgTAP B").await;
    let files = suite_files();
    for file in &files {
        assert_passes(file, &run_file(&db, file, (a, &sa), (b, &sb)));
        assert_passes(file, &run_file(&db, file, (b, &sb), (a, &sa)));
    }

    // the suite rolls everything back: no extension, no product left behind
    let admin = db.admin().await;
    let left: i64 = admin
        .query_one(
            &format!(
                "select (select count(*) from pg_extension where extname = 'pgtap')
                      + (select count(*) from {sa}.products)"
            ),
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "the suite must leave the database as it found it");

    // and it can fail: staff reading shop B's money ledger, RLS no longer forced on its products
    admin
        .batch_execute(&format!(
            "grant select on {sb}.money_ledger to {staff};
             alter table {sb}.products no force row level security;",
            staff = roles().staff
        ))
        .await
        .expect("drift");
    let structure = files.iter().find(|f| f.ends_with("00_structure.sql")).expect("00_structure.sql");
    let tap = run_file(&db, structure, (b, &sb), (a, &sa));
    assert!(
        tap.not_ok.iter().any(|l| l.contains("staff holds nothing on money_ledger")),
        "the grant is caught:\n{}",
        tap.output
    );
    assert!(
        tap.not_ok.iter().any(|l| l.contains("row level security enabled and forced")),
        "the unforced table is caught:\n{}",
        tap.output
    );
    let behaviour = files.iter().find(|f| f.ends_with("10_behaviour.sql")).expect("10_behaviour.sql");
    let tap = run_file(&db, behaviour, (b, &sb), (a, &sa));
    assert!(
        tap.not_ok.iter().any(|l| l.contains("staff cannot read money_ledger")),
        "the read is caught:\n{}",
        tap.output
    );
    // shop A is untouched and still passes
    assert_passes(structure, &run_file(&db, structure, (a, &sa), (b, &sb)));
}
