//! Operator tasks on one shop at a time: backup into an archive, verify, restore (in place or as
//! a new shop), clone and drop. Format and guarantees: docs/BACKUP.md.

pub mod archive;
pub mod dump;
pub mod restore;

use std::io::{IsTerminal, Write};

use tokio_postgres::Client;

use crate::db::roles::quote_ident;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The archive is not ours, or damaged, truncated or changed. Nothing was changed.
    #[error("archive refused: {0}")]
    Archive(#[from] archive::ArchiveError),
    /// The operation is not possible as asked (missing shop, name taken, missing privilege...).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for OpsError {
    fn from(e: tokio_postgres::Error) -> Self {
        OpsError::Db(DbError::Pg(e))
    }
}

impl From<std::io::Error> for OpsError {
    fn from(e: std::io::Error) -> Self {
        OpsError::Io(e.to_string())
    }
}

/// Progress lines on stderr, only when it is a terminal (cron and tests stay quiet).
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn on_terminal() -> Self {
        Progress { enabled: std::io::stderr().is_terminal() }
    }

    pub fn quiet() -> Self {
        Progress { enabled: false }
    }

    pub fn step(&self, msg: &str) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{msg}");
            let _ = err.flush();
        }
    }

    pub fn done(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

/// A shop row of app.tenants.
#[derive(Clone, Debug)]
pub struct Shop {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub schema_name: String,
    pub status: String,
    pub schema_version: i32,
}

/// Finds a shop by slug or id; never a spare (nothing to back up, clone or drop there).
pub async fn find_shop(
    client: &impl tokio_postgres::GenericClient,
    key: &str,
) -> Result<Option<Shop>, OpsError> {
    let row = client
        .query_opt(
            "select id, slug, name, schema_name, status, schema_version from app.tenants
              where (slug = $1 or id::text = $1) and status <> 'spare' order by (slug = $1) desc limit 1",
            &[&key],
        )
        .await?;
    Ok(row.map(|r| Shop {
        id: r.get(0),
        slug: r.get(1),
        name: r.get(2),
        schema_name: r.get(3),
        status: r.get(4),
        schema_version: r.get(5),
    }))
}

/// Backup and restore read and write past row level security (every shop table has it forced):
/// they need a superuser, like `pg_dump`/`pg_restore --disable-triggers`.
pub async fn require_superuser(client: &Client, what: &str) -> Result<(), OpsError> {
    let su: bool =
        client.query_one("select rolsuper from pg_roles where rolname = current_user", &[]).await?.get(0);
    if su {
        Ok(())
    } else {
        Err(OpsError::Refused(format!(
            "{what} needs a superuser DATABASE_URL: shop tables force row level security and restore \
             loads them with triggers off (session_replication_role = replica)"
        )))
    }
}

/// Session settings that make COPY's text output the same on every server and session, so a
/// table's checksum after a restore can be compared with the archive's.
pub const STABLE_TEXT_SETTINGS: &str = "select set_config('timezone', 'UTC', true),
        set_config('datestyle', 'ISO, MDY', true), set_config('intervalstyle', 'postgres', true),
        set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true),
        set_config('synchronize_seqscans', 'off', true), set_config('client_encoding', 'UTF8', true)";

/// A shop's tables (kind 'r') with their stored columns (not generated ones), from the catalog.
pub async fn shop_tables(
    client: &impl tokio_postgres::GenericClient,
    schema: &str,
) -> Result<Vec<(String, Vec<String>)>, OpsError> {
    let rows = client
        .query(
            // pg_depend's reference index reaches the schema's own relations: the cost does not
            // grow with the other shops' relations the way a scan of pg_class would
            "select c.relname::text,
                    (select array_agg(a.attname::text order by a.attnum) from pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                        and a.attgenerated = '')
               from pg_namespace n
               join pg_depend d on d.refclassid = 'pg_namespace'::regclass and d.refobjid = n.oid
                               and d.classid = 'pg_class'::regclass and d.objsubid = 0
               join pg_class c on c.oid = d.objid and c.relkind = 'r'
              where n.nspname = $1
              order by c.relname",
            &[&schema],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, Option<Vec<String>>>(1).unwrap_or_default()))
        .collect())
}

/// `"schema"."table" ("a", "b")` from catalog names.
pub fn qualified_columns(schema: &str, table: &str, columns: &[String]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    format!("{}.{} ({})", quote_ident(schema), quote_ident(table), cols.join(", "))
}
