//! Per-shop backup, restore, clone, drop and verify, through the real `stock` binary against a
//! real PostgreSQL: identical data after a round trip, isolation of restored and cloned shops,
//! members signing in over HTTP, older archives migrated forward, and damaged, truncated,
//! tampered or foreign archives refused with the database unchanged.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{roles, set_ctx, spawn_app_on, TestDb, PASSWORD, PREFIX};
use stock::ops::archive::{self, ArchiveWriter};
use tokio_postgres::Client;

async fn stock(db: &TestDb, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_stock"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", PREFIX)
        .env("STOCK_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run stock")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn ok(db: &TestDb, args: &[&str]) -> String {
    let o = stock(db, args).await;
    assert!(o.status.success(), "stock {args:?} failed:\n{}", text(&o));
    text(&o)
}

async fn refused(db: &TestDb, args: &[&str]) -> String {
    let o = stock(db, args).await;
    assert!(!o.status.success(), "stock {args:?} should have failed:\n{}", text(&o));
    text(&o)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stock_backup_test_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

async fn tenant(db: &Client, slug: &str) -> (i64, String) {
    let r = db
        .query_one("select id, schema_name from app.tenants where slug = $1", &[&slug])
        .await
        .unwrap_or_else(|e| panic!("shop {slug}: {e}"));
    (r.get(0), r.get(1))
}

async fn tables(db: &Client, schema: &str) -> Vec<String> {
    db.query(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relkind = 'r' order by 1",
        &[&schema],
    )
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Every row of every table of the shop (the restore's own audit entry left out).
async fn snapshot(db: &Client, schema: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for t in tables(db, schema).await {
        let filter = if t == "audit_log" { "where action <> 'restore'" } else { "" };
        let rows = db
            .query(&format!("select to_jsonb(t)::text from \"{schema}\".\"{t}\" t {filter} order by 1"), &[])
            .await
            .expect("rows")
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.insert(t, rows);
    }
    out
}

/// Like `snapshot`, with only the columns that the same table has in `old_schema`: a later
/// migration may add columns (tenant V14 added the generated `products.low_stock_gap`).
async fn snapshot_with_columns_of(
    db: &Client,
    schema: &str,
    old_schema: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for t in tables(db, schema).await {
        let filter = if t == "audit_log" { "where action <> 'restore'" } else { "" };
        let rows = db
            .query(
                &format!(
                    "select (to_jsonb(t) - coalesce((select array_agg(n.column_name::text)
                                                      from information_schema.columns n
                                                     where n.table_schema = $1 and n.table_name = $3
                                                       and not exists (select from information_schema.columns o
                                                                        where o.table_schema = $2 and o.table_name = $3
                                                                          and o.column_name = n.column_name)),
                                                    '{{}}'))::text
                       from \"{schema}\".\"{t}\" t {filter} order by 1"
                ),
                &[&schema, &old_schema, &t],
            )
            .await
            .expect("rows")
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.insert(t, rows);
    }
    out
}

/// Compares two snapshots table by table, naming the first difference.
#[track_caller]
fn assert_same(got: &BTreeMap<String, Vec<String>>, want: &BTreeMap<String, Vec<String>>) {
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "tables");
    for (t, rows) in want {
        let g = &got[t];
        assert_eq!(g.len(), rows.len(), "rows in {t}");
        for (a, b) in g.iter().zip(rows) {
            assert_eq!(a, b, "a row of {t}");
        }
    }
}

async fn stock_levels(db: &Client, schema: &str) -> Vec<(i64, String)> {
    db.query(&format!("select id, stock::text from \"{schema}\".products order by id"), &[])
        .await
        .expect("stock")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The demo shop (catalog, customers, two weeks of sales) plus, written as the shop's owner, the
/// rest: an audited price change and adjustment, a quote, a cart, a return, an import, an image.
async fn shop_with_data(db: &TestDb) -> (i64, String) {
    ok(db, &["demo"]).await;
    let mut admin = db.admin().await;
    let (id, schema) = tenant(&admin, "demo").await;
    let owner: i64 = admin
        .query_one("select id from app.users where email = 'owner@demo.test'", &[])
        .await
        .expect("owner")
        .get(0);
    let tx = admin.transaction().await.expect("tx");
    set_ctx(&tx, Some(id), Some(owner), &roles().owner).await;
    tx.batch_execute(&format!(
        "update products set price = price + 1 where id = (select min(id) from products);
         insert into stock_movements (product_id, kind, quantity, reason)
             select min(id), 'adjustment', 2, 'found two' from products;
         insert into quotes (customer_id, user_id, valid_until, total, note)
             select min(id), {owner}, current_date + 15, 20.00, 'test' from customers;
         insert into quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
             select (select max(id) from quotes), 1, min(id), 'line', 2, 10.00, 0, 20.00 from products;
         insert into sale_drafts (user_id) values ({owner});
         insert into sale_draft_lines (draft_id, product_id, quantity, unit_price)
             select (select max(id) from sale_drafts), min(id), 1, 5.00 from products;
         insert into product_imports (filename, content, delimiter, row_count, created_by)
             values ('a.csv', 'sku;name', ';', 1, {owner});
         insert into product_images (product_id, content_type, image, thumb, width, height)
             select min(id), 'image/png', '\\x89504e470d0a1a0a00ff'::bytea, '\\x0102'::bytea, 1, 1 from products;
         insert into sale_returns (sale_id, method, reason)
             select min(s.id), 'cash', 'broken' from sales s where s.status = 'completed'
                and exists (select 1 from sale_payments p where p.sale_id = s.id and p.method = 'cash');"
    ))
    .await
    .expect("extra data as the owner");
    tx.batch_execute(
        "insert into sale_return_lines (return_id, sale_line_id, quantity)
             select r.id, min(l.id), 1 from sale_returns r join sale_lines l on l.sale_id = r.sale_id group by r.id",
    )
    .await
    .expect("return line");
    tx.commit().await.expect("commit");
    let snap = snapshot(&admin, &schema).await;
    for (t, rows) in &snap {
        assert!(!rows.is_empty(), "the fixture leaves table {t} empty");
    }
    (id, schema)
}

#[tokio::test]
async fn backup_drop_restore_gives_the_same_shop_and_replace_needs_consent() {
    let db = TestDb::new().await;
    let (id, schema) = shop_with_data(&db).await;
    let admin = db.admin().await;
    let before = snapshot(&admin, &schema).await;
    let stock_before = stock_levels(&admin, &schema).await;
    let file = scratch("demo.stockbak");
    let f = file.to_str().expect("path");
    let out = ok(&db, &["tenant", "backup", "demo", "-o", f]).await;
    assert!(out.contains("backed up shop demo"), "{out}");
    assert!(!out.contains("argon2"), "a password hash was printed: {out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the archive holds password hashes");
    }
    let out = ok(&db, &["tenant", "verify", f]).await;
    assert!(out.contains("intact") && out.contains("stock_movements"), "{out}");

    // drop asks for consent
    let out = refused(&db, &["tenant", "drop", "demo"]).await;
    assert!(out.contains("--yes"), "{out}");
    assert_eq!(tables(&admin, &schema).await.len(), before.len());
    ok(&db, &["tenant", "drop", "demo", "--yes"]).await;
    assert!(tables(&admin, &schema).await.is_empty(), "schema dropped");
    let left: i64 = admin
        .query_one("select count(*) from app.memberships where tenant_id = $1", &[&id])
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0);

    let out = ok(&db, &["tenant", "restore", f]).await;
    assert!(out.contains("restored shop demo"), "{out}");
    let (id2, schema2) = tenant(&admin, "demo").await;
    assert_eq!((id2, schema2.as_str()), (id, schema.as_str()), "the same shop comes back under its id");
    assert_same(&snapshot(&admin, &schema).await, &before);
    assert_eq!(stock_levels(&admin, &schema).await, stock_before, "stock not posted twice");
    let members: i64 = admin
        .query_one("select count(*) from app.memberships where tenant_id = $1", &[&id])
        .await
        .expect("members")
        .get(0);
    assert_eq!(members, 3);
    let restores: i64 = admin
        .query_one(&format!("select count(*) from {schema}.audit_log where action = 'restore'"), &[])
        .await
        .expect("audit")
        .get(0);
    assert_eq!(restores, 1, "a restore writes one audit entry");
    // movements still post after a restore: the triggers are back on
    admin
        .batch_execute(&format!(
            "begin; select set_config('app.tenant_id', '{id}', true);
             insert into {schema}.stock_movements (product_id, kind, quantity, reason)
                 select min(id), 'purchase', 1, 'after restore' from {schema}.products;
             commit;"
        ))
        .await
        .expect("movement after restore");
    assert_ne!(stock_levels(&admin, &schema).await, stock_before);

    // in place over an existing shop needs --replace; then the archive wins, atomically
    let out = refused(&db, &["tenant", "restore", f]).await;
    assert!(out.contains("--replace"), "{out}");
    let out = ok(&db, &["tenant", "restore", f, "--replace"]).await;
    assert!(out.contains("replaced shop demo"), "{out}");
    assert_same(&snapshot(&admin, &schema).await, &before);
    assert_eq!(stock_levels(&admin, &schema).await, stock_before);
}

#[tokio::test]
async fn restore_as_new_and_clone_are_isolated_like_any_shop() {
    let db = TestDb::new().await;
    let (id, schema) = shop_with_data(&db).await;
    let admin = db.admin().await;
    let before = snapshot(&admin, &schema).await;
    let file = scratch("demo.stockbak");
    let f = file.to_str().expect("path");
    ok(&db, &["tenant", "backup", "demo", "-o", f]).await;
    let out = ok(&db, &["tenant", "restore", f, "--as", "demo-copy"]).await;
    assert!(out.contains("reused the existing account owner@demo.test"), "{out}");
    let out = refused(&db, &["tenant", "restore", f, "--as", "demo-copy"]).await;
    assert!(out.contains("already exists"), "{out}");
    ok(&db, &["tenant", "clone", "demo", "demo-clone"]).await;
    let out = refused(&db, &["tenant", "clone", "demo", "Bad Slug"]).await;
    assert!(out.contains("slug"), "{out}");

    let (copy_id, copy_schema) = tenant(&admin, "demo-copy").await;
    let (clone_id, clone_schema) = tenant(&admin, "demo-clone").await;
    assert!(copy_id != id && clone_id != id && copy_id != clone_id);
    assert_same(&snapshot(&admin, &copy_schema).await, &before);
    assert_same(&snapshot(&admin, &clone_schema).await, &before);

    // as the app's login role: each shop's context sees its own rows only
    let owner: i64 = admin
        .query_one("select id from app.users where email = 'owner@demo.test'", &[])
        .await
        .expect("owner")
        .get(0);
    let shops = [(id, &schema), (copy_id, &copy_schema), (clone_id, &clone_schema)];
    let mut app = db.app_login().await;
    for (ctx_id, _) in shops {
        for (other_id, other_schema) in shops {
            let tx = app.transaction().await.expect("tx");
            set_ctx(&tx, Some(ctx_id), Some(owner), &roles().owner).await;
            let n: i64 = tx
                .query_one(&format!("select count(*) from {other_schema}.products"), &[])
                .await
                .expect("count")
                .get(0);
            if ctx_id == other_id {
                assert_eq!(n as usize, before["products"].len(), "shop {ctx_id} sees its own products");
            } else {
                assert_eq!(n, 0, "shop {ctx_id} sees shop {other_id}'s products");
                let w = tx
                    .execute(&format!("update {other_schema}.products set name = 'x'"), &[])
                    .await
                    .expect("update");
                assert_eq!(w, 0, "shop {ctx_id} changed shop {other_id}'s products");
            }
            tx.rollback().await.expect("rollback");
        }
        // no context at all: nothing
        let tx = app.transaction().await.expect("tx");
        set_ctx(&tx, None, Some(owner), &roles().owner).await;
        let n: i64 = tx
            .query_one(&format!("select count(*) from {clone_schema}.sales"), &[])
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        assert_eq!(n, 0);
        tx.rollback().await.expect("rollback");
    }
    // the clone's policies carry its own id, not the original's
    let policy: String = admin
        .query_one(
            "select qual from pg_policies where schemaname = $1 and tablename = 'products' and policyname = 'tenant_isolation'",
            &[&clone_schema],
        )
        .await
        .expect("policy")
        .get(0);
    assert!(policy.contains(&clone_id.to_string()) && !policy.contains(&format!("= {id})")), "{policy}");
}

#[tokio::test]
async fn members_sign_in_to_a_shop_restored_into_another_database() {
    let source = TestDb::new().await;
    let (_, schema) = shop_with_data(&source).await;
    let before = snapshot(&source.admin().await, &schema).await;
    let file = scratch("demo.stockbak");
    let f = file.to_str().expect("path");
    ok(&source, &["tenant", "backup", "demo", "-o", f]).await;

    let target = TestDb::new().await;
    // someone already in the target database, so ids differ from the source's
    let (other, _) = target.create_shop("Other").await;
    target.add_member(other, "someone@else.test", "owner").await;
    target.add_member(other, "staff@demo.test", "staff").await;
    let out = ok(&target, &["tenant", "restore", f]).await;
    assert!(out.contains("created the account owner@demo.test"), "{out}");
    assert!(out.contains("reused the existing account staff@demo.test"), "{out}");
    let admin = target.admin().await;
    let (_, schema2) = tenant(&admin, "demo").await;
    let after = snapshot(&admin, &schema2).await;
    assert_eq!(after["products"], before["products"]);
    assert_eq!(after["stock_movements"].len(), before["stock_movements"].len());
    // the shop's references to people follow their accounts here (ids differ from the source's)
    let sellers = |schema: &str| {
        format!("select string_agg(distinct u.email, ',') from {schema}.sales s join app.users u on u.id = s.user_id")
    };
    let source_sellers: String =
        source.admin().await.query_one(&sellers(&schema), &[]).await.expect("sellers").get(0);
    let target_sellers: String = admin.query_one(&sellers(&schema2), &[]).await.expect("sellers").get(0);
    assert_eq!(target_sellers, source_sellers);
    let ids_moved: bool = admin
        .query_one(
            "select id <> $1 from app.users where email = 'staff@demo.test'",
            &[&staff_source_id(&source).await],
        )
        .await
        .expect("ids")
        .get(0);
    assert!(ids_moved, "the test should exercise remapping");

    let app = spawn_app_on(target).await;
    let page = app.login("owner@demo.test", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let home = app.get("/dashboard").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Almacén Demo"), "{}", home.body);
    // the staff account kept its own password here, not the archived one (same here anyway)
    let staff_client = common::client();
    assert_eq!(app.login_with(&staff_client, "staff@demo.test", PASSWORD).await.status, 303);
}

async fn staff_source_id(db: &TestDb) -> i64 {
    db.admin()
        .await
        .query_one("select id from app.users where email = 'staff@demo.test'", &[])
        .await
        .expect("id")
        .get(0)
}

#[tokio::test]
async fn an_archive_from_an_older_migration_version_is_migrated_forward() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let latest: i32 = admin
        .query_one("select max(version) from app_private.tenant_migrations", &[])
        .await
        .expect("latest")
        .get(0);
    let old = latest - 1;
    // a shop really built at the previous version, then given data through its triggers
    let id: i64 = admin
        .query_one("select nextval(pg_get_serial_sequence('app.tenants', 'id'))", &[])
        .await
        .expect("id")
        .get(0);
    admin
        .execute(
            "insert into app.tenants (id, slug, name, schema_name) values ($1, 'old-shop', 'Old', 'tenant_' || $1::bigint)",
            &[&id],
        )
        .await
        .expect("tenant");
    admin
        .execute("select app_private.create_tenant_schema_at($1, $2)", &[&id, &old])
        .await
        .expect("old schema");
    let schema = format!("tenant_{id}");
    db.add_member(id, "old-owner@test.test", "owner").await;
    admin
        .batch_execute(&format!(
            "begin; select set_config('app.tenant_id', '{id}', true);
             insert into {schema}.categories (name) values ('Bebidas');
             insert into {schema}.products (sku, name, unit_id, price, category_id)
                 select 'SKU-' || g, 'Producto ' || g, 1, g, 1 from generate_series(1, 5) g;
             insert into {schema}.stock_movements (product_id, kind, quantity, reason)
                 select id, 'opening', id * 3, '' from {schema}.products;
             commit;"
        ))
        .await
        .expect("old data");
    let before = snapshot(&admin, &schema).await;
    let stock_before = stock_levels(&admin, &schema).await;
    assert!(stock_before.iter().all(|(_, s)| s != "0.000"));

    let file = scratch("old.stockbak");
    let f = file.to_str().expect("path");
    ok(&db, &["tenant", "backup", "old-shop", "-o", f]).await;
    let out = ok(&db, &["tenant", "verify", f]).await;
    assert!(out.contains(&format!("shop migration version {old};")), "{out}");
    let out = ok(&db, &["tenant", "restore", f, "--as", "old-shop-now"]).await;
    assert!(out.contains(&format!("archive version {old}, now version {latest}")), "{out}");
    let (new_id, new_schema) = tenant(&admin, "old-shop-now").await;
    let version: i32 = admin
        .query_one("select schema_version from app.tenants where id = $1", &[&new_id])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, latest);
    let after = snapshot_with_columns_of(&admin, &new_schema, &schema).await;
    for (t, rows) in &before {
        assert_eq!(&after[t], rows, "table {t}");
    }
    assert!(after.len() >= before.len());
    assert_eq!(stock_levels(&admin, &new_schema).await, stock_before);
    // the migrated shop has its policies: a stranger's context sees nothing
    let mut app = db.app_login().await;
    let tx = app.transaction().await.expect("tx");
    set_ctx(&tx, Some(id), None, &roles().owner).await;
    let n: i64 = tx
        .query_one(&format!("select count(*) from {new_schema}.products"), &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}

/// Everything a restore could touch, to show a refused archive changed nothing.
async fn fingerprint(db: &Client) -> String {
    let mut s: String = db
        .query_one(
            "select (select string_agg(to_jsonb(t)::text, ',' order by id) from app.tenants t)
                 || (select string_agg(to_jsonb(m)::text, ',' order by tenant_id, user_id) from app.memberships m)
                 || (select string_agg(email, ',' order by id) from app.users)
                 || (select string_agg(nspname, ',' order by nspname) from pg_namespace where nspname like 'tenant_%')",
            &[],
        )
        .await
        .expect("fingerprint")
        .get(0);
    let (_, schema) = tenant(db, "demo").await;
    s.push_str(&format!("{:?}", snapshot(db, &schema).await));
    s
}

#[tokio::test]
async fn damaged_truncated_tampered_or_foreign_archives_are_refused_before_anything_changes() {
    let db = TestDb::new().await;
    ok(&db, &["demo"]).await;
    let admin = db.admin().await;
    let good = scratch("demo.stockbak");
    ok(&db, &["tenant", "backup", "demo", "-o", good.to_str().expect("path")]).await;
    let bytes = std::fs::read(&good).expect("read");
    let before = fingerprint(&admin).await;
    let dir = good.parent().expect("dir").to_path_buf();

    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x20;
    cases.push(("flipped", flipped, "damaged"));
    cases.push(("truncated", bytes[..bytes.len() * 2 / 3].to_vec(), "truncated"));
    cases.push(("last-byte-gone", bytes[..bytes.len() - 1].to_vec(), "truncated"));
    cases.push(("tampered", tampered(&good), "does not match its checksum"));
    cases.push(("foreign-product", foreign_product(&good), "not by Stock"));
    cases.push(("zip", b"PK\x03\x04\x14\x00\x00\x00 some zip".to_vec(), "not a Stock shop archive"));
    cases.push(("empty", Vec::new(), "not a Stock shop archive"));
    for (name, content, expect) in cases {
        let path = dir.join(format!("{name}.stockbak"));
        std::fs::write(&path, &content).expect("write case");
        let p = path.to_str().expect("path");
        for args in [
            vec!["tenant", "verify", p],
            vec!["tenant", "restore", p, "--replace"],
            vec!["tenant", "restore", p, "--as", "demo-bad"],
        ] {
            let out = refused(&db, &args).await;
            assert!(out.contains("archive refused") && out.contains(expect), "{name} {args:?}: {out}");
        }
    }
    // well-formed, but from a newer build of stock, or one whose migrations differ from ours
    let newer = rewrite(&good, |_, data, m| {
        if m.migrations.len() == m.schema_version as usize {
            m.schema_version += 1;
            m.migrations.push(archive::MigrationInfo { version: m.schema_version, checksum: "0".repeat(64) });
        }
        data
    });
    let other_build = rewrite(&good, |_, data, m| {
        m.migrations[0].checksum = "f".repeat(64);
        data
    });
    for (name, content, expect) in
        [("newer", newer, "newer stock"), ("other-build", other_build, "another build")]
    {
        let path = dir.join(format!("{name}.stockbak"));
        std::fs::write(&path, &content).expect("write case");
        let p = path.to_str().expect("path");
        ok(&db, &["tenant", "verify", p]).await;
        let out = refused(&db, &["tenant", "restore", p, "--as", "demo-bad"]).await;
        assert!(out.contains(expect), "{name}: {out}");
    }
    assert_eq!(fingerprint(&admin).await, before, "a refused archive changed the database");
    assert!(refused(&db, &["tenant", "restore", "/nonexistent/x.stockbak"]).await.contains("cannot open"));
    ok(&db, &["tenant", "verify", good.to_str().expect("path")]).await;
}

/// The products table with a price changed, written into a well-formed archive that keeps the
/// manifest's old checksum (the trailer is recomputed, so only the table checksum can tell).
fn tampered(good: &Path) -> Vec<u8> {
    rewrite(good, |name, data, _| {
        if name == "tables/products.copy" {
            let text = String::from_utf8(data).expect("utf8");
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[0] = lines[0].replacen("\t", "\t9", 1);
            lines.join("\n") + "\n"
        } else {
            String::from_utf8(data).expect("utf8")
        }
        .into_bytes()
    })
}

fn foreign_product(good: &Path) -> Vec<u8> {
    rewrite(good, |_, data, m| {
        m.product = "other-tool".into();
        data
    })
}

fn rewrite(good: &Path, mut edit: impl FnMut(&str, Vec<u8>, &mut archive::Manifest) -> Vec<u8>) -> Vec<u8> {
    let mut f = std::fs::File::open(good).expect("open");
    let v = archive::verify(&mut f).expect("verify good");
    let mut manifest = v.manifest.clone();
    let mut w = ArchiveWriter::new(Vec::new()).expect("writer");
    for e in &v.manifest.entries {
        let data = archive::entry_bytes(&mut f, v.entry(&e.name).expect("entry")).expect("bytes");
        let data = edit(&e.name, data, &mut manifest);
        w.entry_bytes(&e.name, &data).expect("write");
    }
    w.finish(&manifest).expect("finish").0
}

#[tokio::test]
async fn backup_all_keeps_the_newest_archives_per_shop() {
    let db = TestDb::new().await;
    ok(&db, &["demo"]).await;
    db.create_shop("Second").await;
    let dir = scratch("all").parent().expect("dir").join("all");
    let d = dir.to_str().expect("dir");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), "keep me").expect("note");
    for _ in 0..3 {
        ok(&db, &["backup", "all", "--dir", d, "--keep", "2"]).await;
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let demo: Vec<_> = names.iter().filter(|n| n.starts_with("demo-2")).collect();
    let second: Vec<_> = names.iter().filter(|n| n.starts_with("shop") && n.ends_with(".stockbak")).collect();
    assert_eq!(demo.len(), 2, "{names:?}");
    assert_eq!(second.len(), 2, "{names:?}");
    assert!(names.contains(&"notes.txt".to_string()));
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
    for n in demo.iter().chain(second.iter()) {
        ok(&db, &["tenant", "verify", dir.join(n).to_str().expect("path")]).await;
    }
    assert!(refused(&db, &["backup", "all", "--dir", d, "--keep", "0"]).await.contains("--keep"));
}
