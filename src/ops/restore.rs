//! `stock tenant restore` / `clone` / `drop`. A restore verifies the whole archive first, then
//! in ONE transaction: creates the shop's schema at the archive's migration version, loads every
//! table with triggers off (`session_replication_role = replica`: stock, ledgers and audit are
//! loaded as archived, never posted again), checks each table's checksum after the load, brings
//! in the members, migrates the schema forward, applies the policies of its own tenant id and
//! writes a 'restore' audit entry.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek};

use bytes::Bytes;
use futures_util::{pin_mut, SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, Transaction};

use super::archive::{self, hex, open_entry, Verified};
use super::dump::{ArchivedMembership, ArchivedUser, MEMBERSHIPS_ENTRY, USERS_ENTRY};
use super::{
    find_shop, qualified_columns, require_superuser, shop_tables, OpsError, Progress, Shop,
    STABLE_TEXT_SETTINGS,
};
use crate::db::roles::quote_ident;
use crate::domain::shop::TenantSlug;

/// Where an archive goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// The archive's own slug; an existing shop with it is replaced only when `replace`.
    InPlace { replace: bool },
    /// A new shop (new id and schema) with this slug, next to the original.
    As(TenantSlug),
}

#[derive(Debug)]
pub struct RestoreReport {
    pub tenant_id: i64,
    pub slug: String,
    pub schema_name: String,
    pub replaced: bool,
    pub archive_version: i32,
    pub schema_version: i32,
    pub tables: usize,
    pub rows: u64,
    /// E-mails of accounts that already existed here and were reused as they are.
    pub reused_users: Vec<String>,
    pub created_users: Vec<String>,
    pub archive_sha256: String,
}

fn refused(msg: impl Into<String>) -> OpsError {
    OpsError::Refused(msg.into())
}

/// Verifies `file` completely, then restores it (see the module doc).
pub async fn restore<R: Read + Seek>(
    client: &mut Client,
    file: &mut R,
    target: Target,
    progress: Progress,
) -> Result<RestoreReport, OpsError> {
    progress.step("verifying the archive");
    let verified = archive::verify(&mut *file)?;
    let users: Vec<ArchivedUser> = read_json(file, &verified, USERS_ENTRY)?;
    let memberships: Vec<ArchivedMembership> = read_json(file, &verified, MEMBERSHIPS_ENTRY)?;
    for m in &memberships {
        if !users.iter().any(|u| u.id == m.user_id) {
            return Err(archive::ArchiveError(format!(
                "a membership names user {} who is not in the archive",
                m.user_id
            ))
            .into());
        }
    }
    require_superuser(client, "restore").await?;
    let tx = client.transaction().await?;
    tx.query_one(STABLE_TEXT_SETTINGS, &[]).await?;
    check_migrations(&tx, &verified).await?;
    let m = &verified.manifest;
    let (shop, replaced) = prepare_tenant(&tx, &verified, &target).await?;

    progress.step(&format!("restore {}: creating the schema at version {}", shop.slug, m.schema_version));
    tx.execute("select app_private.create_tenant_schema_at($1, $2)", &[&shop.id, &m.schema_version]).await?;
    let schema = shop.schema_name.clone();
    check_tables(&tx, &schema, &verified).await?;

    // Triggers off for the load: nothing is posted twice, append-only guards and commit-time
    // checks (deferred constraint triggers are never queued) stay out of the way, and so do
    // foreign keys; the data comes from one consistent snapshot and is checked below.
    tx.batch_execute("set local session_replication_role = replica").await?;
    let all: Vec<String> =
        m.tables.iter().map(|t| format!("{}.{}", quote_ident(&schema), quote_ident(&t.name))).collect();
    // rows the migrations seeded (settings, units, the final consumer) give way to the archive's
    tx.batch_execute(&format!("truncate {}", all.join(", "))).await?;
    let mut rows = 0u64;
    for (i, t) in m.tables.iter().enumerate() {
        progress.step(&format!("restore {}: table {}/{} {}", shop.slug, i + 1, m.tables.len(), t.name));
        let entry = verified.entry(&t.entry)?;
        let sql = format!("copy {} from stdin", qualified_columns(&schema, &t.name, &t.columns));
        let sink = tx.copy_in(sql.as_str()).await?;
        pin_mut!(sink);
        let mut reader = open_entry(file, entry)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read_some(&mut buf)?;
            if n == 0 {
                break;
            }
            sink.send(Bytes::copy_from_slice(&buf[..n])).await?;
        }
        if reader.finish()? != entry.info {
            return Err(archive::ArchiveError(format!(
                "table {} changed in the file while it was restored",
                t.name
            ))
            .into());
        }
        let loaded = sink.finish().await?;
        if loaded != t.rows {
            return Err(refused(format!(
                "table {}: loaded {loaded} rows, the archive holds {}",
                t.name, t.rows
            )));
        }
        rows += loaded;
    }
    set_identity_sequences(&tx, &schema).await?;
    progress.step(&format!("restore {}: checking what was loaded", shop.slug));
    check_loaded(&tx, &schema, &verified).await?;
    tx.batch_execute("set local session_replication_role = origin").await?;

    let (map, reused_users, created_users) = bring_users(&tx, &users).await?;
    for mb in &memberships {
        tx.execute(
            "insert into app.memberships (tenant_id, user_id, role, created_at)
             values ($1, $2, $3, $4::text::timestamptz)",
            &[&shop.id, &map[&mb.user_id], &mb.role, &mb.created_at],
        )
        .await?;
    }
    remap_user_columns(&tx, &schema, &map).await?;

    progress.step(&format!("restore {}: migrating and applying policies", shop.slug));
    let version: i32 = tx.query_one("select app_private.migrate_tenant($1)", &[&shop.id]).await?.get(0);
    let note = serde_json::json!({
        "archive_sha256": verified.sha256,
        "archived_at": m.created_at,
        "from_shop": { "id": m.tenant.id, "slug": m.tenant.slug },
        "archive_version": m.schema_version,
        "schema_version": version,
        "replaced": replaced,
    });
    tx.query_one("select set_config('app.tenant_id', $1, true)", &[&shop.id.to_string()]).await?;
    // the shop's language as restored (its settings row was loaded with triggers off)
    tx.execute(
        &format!(
            "update app.tenants set locale = (select locale from {}.settings) where id = $1",
            quote_ident(&schema)
        ),
        &[&shop.id],
    )
    .await?;
    tx.execute(
        "select app_private.write_audit($1, 'restore', 'shop', $2, null, $3, null)",
        &[&shop.id, &shop.id.to_string(), &note],
    )
    .await?;
    tx.query_one("select set_config('app.tenant_id', '', true)", &[]).await?;
    tx.commit().await?;
    progress.done();
    Ok(RestoreReport {
        tenant_id: shop.id,
        slug: shop.slug,
        schema_name: schema,
        replaced,
        archive_version: m.schema_version,
        schema_version: version,
        tables: m.tables.len(),
        rows,
        reused_users,
        created_users,
        archive_sha256: verified.sha256.clone(),
    })
}

fn read_json<T: serde::de::DeserializeOwned, R: Read + Seek>(
    file: &mut R,
    v: &Verified,
    name: &str,
) -> Result<T, OpsError> {
    let bytes = archive::entry_bytes(file, v.entry(name)?)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| archive::ArchiveError(format!("entry {name:?} cannot be read: {e}")).into())
}

/// The archive's migrations must be the ones registered here, and not newer.
async fn check_migrations(tx: &Transaction<'_>, v: &Verified) -> Result<(), OpsError> {
    let m = &v.manifest;
    let latest: i32 = tx
        .query_one("select coalesce(max(version), 0)::int from app_private.tenant_migrations", &[])
        .await?
        .get(0);
    if m.schema_version > latest {
        return Err(refused(format!(
            "the archive is at shop migration version {}, this database knows only up to {latest}: \
             run `stock migrate` with a newer stock first",
            m.schema_version
        )));
    }
    let here: BTreeMap<i32, String> = tx
        .query(
            "select version, checksum from app_private.tenant_migrations where version <= $1",
            &[&m.schema_version],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let archived: BTreeMap<i32, String> =
        m.migrations.iter().map(|x| (x.version, x.checksum.clone())).collect();
    if archived.len() != m.schema_version as usize || here != archived {
        let differing = (1..=m.schema_version).find(|n| here.get(n) != archived.get(n)).unwrap_or(0);
        return Err(refused(format!(
            "the archive was taken with a different shop migration V{differing} than this database has: \
             it belongs to another build of stock"
        )));
    }
    Ok(())
}

/// Finds or creates the app.tenants row the archive goes into. Replacing drops the old schema
/// and memberships inside this transaction: other sessions see the old shop until commit.
async fn prepare_tenant(
    tx: &Transaction<'_>,
    v: &Verified,
    target: &Target,
) -> Result<(Shop, bool), OpsError> {
    let m = &v.manifest;
    let slug = match target {
        Target::As(s) => s.as_str().to_string(),
        Target::InPlace { .. } => m.tenant.slug.clone(),
    };
    let existing = find_shop(tx, &slug).await?.filter(|s| s.slug == slug);
    match (target, existing) {
        (Target::As(_), Some(_)) => Err(refused(format!("a shop with slug {slug:?} already exists"))),
        (Target::InPlace { replace: false }, Some(s)) => Err(refused(format!(
            "shop {} (id {}) exists: pass --replace to replace it with the archive, or --as NEW_SLUG to restore next to it",
            s.slug, s.id
        ))),
        (Target::InPlace { replace: true }, Some(s)) => {
            tx.query_one("select 1 from app.tenants where id = $1 for update", &[&s.id]).await?;
            tx.batch_execute(&format!("drop schema {} cascade", quote_ident(&s.schema_name))).await?;
            tx.execute("delete from app.memberships where tenant_id = $1", &[&s.id]).await?;
            tx.execute(
                "update app.tenants set name = $2, status = $3, schema_version = 0 where id = $1",
                &[&s.id, &m.tenant.name, &m.tenant.status],
            )
            .await?;
            let shop = find_shop(tx, &s.id.to_string()).await?.ok_or_else(|| refused("the shop vanished"))?;
            Ok((shop, true))
        }
        (_, None) => {
            let status = match target {
                Target::As(_) => "active",
                Target::InPlace { .. } => m.tenant.status.as_str(),
            };
            // the archive's own id when it is free here (the same shop coming back), else a new one
            let want_own = matches!(target, Target::InPlace { .. });
            let id: i64 = tx
                .query_one(
                    "select case when $2 and not exists (select 1 from app.tenants where id = $1::bigint)
                                  and not exists (select 1 from pg_namespace where nspname = 'tenant_' || $1::bigint)
                             then $1::bigint else nextval(pg_get_serial_sequence('app.tenants', 'id')) end",
                    &[&m.tenant.id, &want_own],
                )
                .await?
                .get(0);
            tx.execute(
                "insert into app.tenants (id, slug, name, schema_name, status) values ($1::bigint, $2, $3, 'tenant_' || $1::bigint, $4)",
                &[&id, &slug, &m.tenant.name, &status],
            )
            .await?;
            // an explicit id must not be handed out again by the sequence
            tx.execute(
                "select setval(s, $1) from pg_get_serial_sequence('app.tenants', 'id') s
                  where $1 > coalesce(pg_sequence_last_value(s), 0)",
                &[&id],
            )
            .await?;
            let shop = find_shop(tx, &id.to_string()).await?.ok_or_else(|| refused("the new shop vanished"))?;
            Ok((shop, false))
        }
    }
}

/// The schema built at the archive's version must have exactly the archive's tables and columns.
async fn check_tables(tx: &Transaction<'_>, schema: &str, v: &Verified) -> Result<(), OpsError> {
    let here: BTreeMap<String, Vec<String>> = shop_tables(tx, schema).await?.into_iter().collect();
    let archived: BTreeMap<String, Vec<String>> =
        v.manifest.tables.iter().map(|t| (t.name.clone(), t.columns.clone())).collect();
    for (name, cols) in &archived {
        match here.get(name) {
            None => {
                return Err(refused(format!(
                    "the archive has a table {name} that the shop schema at its version lacks"
                )))
            }
            Some(h) => {
                let (mut a, mut b) = (cols.clone(), h.clone());
                a.sort();
                b.sort();
                if a != b {
                    return Err(refused(format!(
                        "table {name}: the archive's columns ({}) differ from the schema's ({})",
                        cols.join(", "),
                        h.join(", ")
                    )));
                }
            }
        }
    }
    if let Some(missing) = here.keys().find(|k| !archived.contains_key(*k)) {
        return Err(refused(format!("the shop schema has a table {missing} that the archive lacks")));
    }
    Ok(())
}

/// Identity sequences continue after the largest id loaded.
async fn set_identity_sequences(tx: &Transaction<'_>, schema: &str) -> Result<(), OpsError> {
    let rows = tx
        .query(
            "select c.relname::text, a.attname::text
               from pg_namespace n
               join pg_depend d on d.refclassid = 'pg_namespace'::regclass and d.refobjid = n.oid
                               and d.classid = 'pg_class'::regclass and d.objsubid = 0
               join pg_class c on c.oid = d.objid and c.relkind = 'r'
               join pg_attribute a on a.attrelid = c.oid and a.attidentity <> '' and not a.attisdropped
              where n.nspname = $1",
            &[&schema],
        )
        .await?;
    for r in rows {
        let (table, column): (String, String) = (r.get(0), r.get(1));
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(&table));
        tx.query_one(
            &format!(
                "select setval(pg_get_serial_sequence($1, $2), coalesce(max({col}), 0) + 1, false) from {qualified}",
                col = quote_ident(&column)
            ),
            &[&qualified, &column],
        )
        .await?;
    }
    Ok(())
}

/// Reads every table back and compares its checksum with the archive's: nothing was lost,
/// changed by a trigger or rendered differently.
async fn check_loaded(tx: &Transaction<'_>, schema: &str, v: &Verified) -> Result<(), OpsError> {
    for t in &v.manifest.tables {
        let entry = v.entry(&t.entry)?;
        let sql = format!("copy {} to stdout", qualified_columns(schema, &t.name, &t.columns));
        let stream = tx.copy_out(sql.as_str()).await?;
        pin_mut!(stream);
        let mut hash = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hash.update(&chunk?);
        }
        let got = hex(&hash.finalize());
        if got != entry.info.sha256 {
            return Err(refused(format!(
                "table {} does not read back as archived (checksum {got}, archive {}); nothing was restored",
                t.name, entry.info.sha256
            )));
        }
    }
    Ok(())
}

type UserMap = HashMap<i64, i64>;

/// Archived members: an account with the same e-mail here is reused as it is (its password is
/// not touched); others are created with their archived password hash.
async fn bring_users(
    tx: &Transaction<'_>,
    users: &[ArchivedUser],
) -> Result<(UserMap, Vec<String>, Vec<String>), OpsError> {
    let (mut map, mut reused, mut created) = (HashMap::new(), Vec::new(), Vec::new());
    for u in users {
        let found = tx.query_opt("select id from app.users where email = $1", &[&u.email]).await?;
        let id: i64 = match found {
            Some(r) => {
                reused.push(u.email.clone());
                r.get(0)
            }
            None => {
                created.push(u.email.clone());
                // the archived id when it is free here (a dropped shop coming back keeps its data
                // identical), else a new one and the shop's references are remapped
                let free = tx.query_opt("select 1 from app.users where id = $1", &[&u.id]).await?.is_none();
                let id: i64 = tx
                    .query_one(
                        "insert into app.users (id, email, display_name, password_hash, locale, created_at)
                         overriding system value
                         values (case when $6 then $1 else nextval(pg_get_serial_sequence('app.users', 'id')) end,
                                 $2, $3, $4, $5, $7::text::timestamptz)
                         returning id",
                        &[&u.id, &u.email, &u.display_name, &u.password_hash, &u.locale, &free, &u.created_at],
                    )
                    .await?
                    .get(0);
                tx.execute(
                    "select setval(s, $1) from pg_get_serial_sequence('app.users', 'id') s
                      where $1 > coalesce(pg_sequence_last_value(s), 0)",
                    &[&id],
                )
                .await?;
                id
            }
        };
        map.insert(u.id, id);
    }
    Ok((map, reused, created))
}

/// When members got other ids here (another database), the shop's references to them follow:
/// by convention, bigint columns named `user_id` or `*_by` (docs/BACKUP.md).
async fn remap_user_columns(tx: &Transaction<'_>, schema: &str, map: &UserMap) -> Result<(), OpsError> {
    let moved: Vec<(i64, i64)> = map.iter().filter(|(a, b)| a != b).map(|(a, b)| (*a, *b)).collect();
    if moved.is_empty() {
        return Ok(());
    }
    tx.batch_execute("create temp table restore_user_map (old_id bigint primary key, new_id bigint not null) on commit drop")
        .await?;
    for (old, new) in &moved {
        tx.execute("insert into restore_user_map values ($1, $2)", &[old, new]).await?;
    }
    let cols = tx
        .query(
            "select c.relname::text, a.attname::text
               from pg_namespace n
               join pg_depend d on d.refclassid = 'pg_namespace'::regclass and d.refobjid = n.oid
                               and d.classid = 'pg_class'::regclass and d.objsubid = 0
               join pg_class c on c.oid = d.objid and c.relkind = 'r'
               join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                                  and a.atttypid = 'bigint'::regtype
                                  and (a.attname = 'user_id' or a.attname like '%\\_by')
              where n.nspname = $1",
            &[&schema],
        )
        .await?;
    // the ledgers are append-only: the rewrite runs with their guards off, like the load
    tx.batch_execute("set local session_replication_role = replica").await?;
    for r in cols {
        let (table, column): (String, String) = (r.get(0), r.get(1));
        tx.batch_execute(&format!(
            "update {s}.{t} x set {c} = m.new_id from pg_temp.restore_user_map m where x.{c} = m.old_id",
            s = quote_ident(schema),
            t = quote_ident(&table),
            c = quote_ident(&column)
        ))
        .await?;
    }
    tx.batch_execute("set local session_replication_role = origin; drop table pg_temp.restore_user_map")
        .await?;
    Ok(())
}

#[derive(Debug)]
pub struct DropReport {
    pub shop: Shop,
    pub removed_accounts: u64,
}

/// Suspends the shop (committed, so its members are refused at once), then drops its schema, its
/// app.tenants row and memberships, and the accounts that belonged to no other shop.
pub async fn drop_shop(client: &mut Client, key: &str) -> Result<DropReport, OpsError> {
    require_superuser(client, "drop").await?;
    let shop =
        find_shop(&*client, key).await?.ok_or_else(|| refused(format!("no shop with slug or id {key:?}")))?;
    client.execute("update app.tenants set status = 'suspended' where id = $1", &[&shop.id]).await?;
    let tx = client.transaction().await?;
    tx.query_one("select 1 from app.tenants where id = $1 for update", &[&shop.id]).await?;
    let members: Vec<i64> = tx
        .query("select user_id from app.memberships where tenant_id = $1", &[&shop.id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.batch_execute(&format!("drop schema if exists {} cascade", quote_ident(&shop.schema_name))).await?;
    tx.execute("delete from app.tenants where id = $1", &[&shop.id]).await?;
    let removed_accounts = tx
        .execute(
            "delete from app.users u where u.id = any($1)
                and not exists (select 1 from app.memberships m where m.user_id = u.id)",
            &[&members],
        )
        .await?;
    tx.commit().await?;
    Ok(DropReport { shop, removed_accounts })
}
