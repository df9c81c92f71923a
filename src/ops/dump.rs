//! `stock tenant backup`: one shop's schema data, its shared rows and its migration version,
//! read in one REPEATABLE READ READ ONLY transaction (one snapshot), written as an archive.

use std::io::Write;

use futures_util::{pin_mut, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, IsolationLevel};

use super::archive::{
    ArchiveWriter, EntryInfo, Manifest, MigrationInfo, TableInfo, TenantInfo, FORMAT, KIND, PRODUCT,
};
use super::{
    find_shop, qualified_columns, require_superuser, shop_tables, OpsError, Progress, Shop,
    STABLE_TEXT_SETTINGS,
};
use crate::db::roles::quote_ident;

pub const USERS_ENTRY: &str = "shared/users.json";
pub const MEMBERSHIPS_ENTRY: &str = "shared/memberships.json";

/// A member's account as archived (with its password hash, so members can sign in after a
/// restore into another database; never printed).
#[derive(Clone, Serialize, Deserialize)]
pub struct ArchivedUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub locale: Option<String>,
    pub created_at: String,
}

impl std::fmt::Debug for ArchivedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchivedUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchivedMembership {
    pub user_id: i64,
    pub role: String,
    pub created_at: String,
}

#[derive(Debug)]
pub struct BackupReport {
    pub shop: Shop,
    pub tables: usize,
    pub rows: u64,
    /// Uncompressed bytes of table data.
    pub data_bytes: u64,
    /// Size of the archive.
    pub size: u64,
    pub sha256: String,
}

/// Writes the archive of shop `key` (slug or id) into `out`.
pub async fn backup<W: Write>(
    client: &mut Client,
    key: &str,
    out: W,
    progress: Progress,
) -> Result<(W, BackupReport), OpsError> {
    require_superuser(client, "backup").await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    tx.query_one(STABLE_TEXT_SETTINGS, &[]).await?;
    let shop = find_shop(&tx, key)
        .await?
        .ok_or_else(|| OpsError::Refused(format!("no shop with slug or id {key:?}")))?;
    let tables = shop_tables(&tx, &shop.schema_name).await?;
    if tables.is_empty() {
        return Err(OpsError::Refused(format!(
            "shop {} has no tables in schema {}",
            shop.slug, shop.schema_name
        )));
    }
    // keep DDL (a migration, a drop) away until every table has been read
    let names: Vec<String> = tables
        .iter()
        .map(|(t, _)| format!("{}.{}", quote_ident(&shop.schema_name), quote_ident(t)))
        .collect();
    tx.batch_execute(&format!("lock table {} in access share mode", names.join(", "))).await?;

    let users: Vec<ArchivedUser> = tx
        .query(
            "select u.id, u.email, u.display_name, u.password_hash, u.locale, u.created_at::text
               from app.memberships m join app.users u on u.id = m.user_id
              where m.tenant_id = $1 order by u.id",
            &[&shop.id],
        )
        .await?
        .iter()
        .map(|r| ArchivedUser {
            id: r.get(0),
            email: r.get(1),
            display_name: r.get(2),
            password_hash: r.get(3),
            locale: r.get(4),
            created_at: r.get(5),
        })
        .collect();
    let memberships: Vec<ArchivedMembership> = tx
        .query(
            "select user_id, role, created_at::text from app.memberships where tenant_id = $1 order by user_id",
            &[&shop.id],
        )
        .await?
        .iter()
        .map(|r| ArchivedMembership { user_id: r.get(0), role: r.get(1), created_at: r.get(2) })
        .collect();
    let migrations: Vec<MigrationInfo> = tx
        .query(
            "select version, checksum from app_private.tenant_migrations where version <= $1 order by version",
            &[&shop.schema_version],
        )
        .await?
        .iter()
        .map(|r| MigrationInfo { version: r.get(0), checksum: r.get(1) })
        .collect();
    let server_version: String = tx.query_one("select current_setting('server_version')", &[]).await?.get(0);

    let mut w = ArchiveWriter::new(out)?;
    let mut entries: Vec<EntryInfo> = Vec::new();
    let mut table_infos: Vec<TableInfo> = Vec::new();
    let (mut rows, mut data_bytes) = (0u64, 0u64);
    for (i, (table, columns)) in tables.iter().enumerate() {
        progress.step(&format!("backup {}: table {}/{} {table}", shop.slug, i + 1, tables.len()));
        let entry_name = format!("tables/{table}.copy");
        let mut e = w.entry(&entry_name)?;
        let sql = format!("copy {} to stdout", qualified_columns(&shop.schema_name, table, columns));
        let stream = tx.copy_out(sql.as_str()).await?;
        pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            e.write_payload(&chunk?)?;
        }
        let info = e.finish()?;
        rows += info.lines;
        data_bytes += info.bytes;
        table_infos.push(TableInfo {
            name: table.clone(),
            columns: columns.clone(),
            rows: info.lines,
            entry: entry_name,
        });
        entries.push(info);
    }
    let users_json = serde_json::to_vec(&users).map_err(std::io::Error::other)?;
    entries.push(w.entry_bytes(USERS_ENTRY, &users_json)?);
    let memberships_json = serde_json::to_vec(&memberships).map_err(std::io::Error::other)?;
    entries.push(w.entry_bytes(MEMBERSHIPS_ENTRY, &memberships_json)?);
    tx.commit().await?;

    let manifest = Manifest {
        product: PRODUCT.into(),
        kind: KIND.into(),
        format: FORMAT,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        stock_version: env!("CARGO_PKG_VERSION").into(),
        server_version,
        tenant: TenantInfo {
            id: shop.id,
            slug: shop.slug.clone(),
            name: shop.name.clone(),
            schema_name: shop.schema_name.clone(),
            status: shop.status.clone(),
        },
        schema_version: shop.schema_version,
        migrations,
        tables: table_infos,
        users: users.len(),
        memberships: memberships.len(),
        entries,
    };
    let (out, sha256, size) = w.finish(&manifest)?;
    progress.done();
    Ok((out, BackupReport { shop, tables: tables.len(), rows, data_bytes, size, sha256 }))
}
