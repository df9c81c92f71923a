//! `stock tenant backup|restore|clone|verify|drop` and `stock backup all`: parse, call `crate::ops`,
//! report. Archives hold password hashes: files are created readable by their owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Cursor, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::config::Config;
use crate::db::connect_admin;
use crate::domain::shop::TenantSlug;
use crate::ops::restore::{self, RestoreReport, Target};
use crate::ops::{archive, dump, Progress};

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Back up every shop into DIR as <slug>-<UTC time>.stockbak and keep the newest N per shop
    /// (for cron). Exits non-zero when any shop failed; the others are still backed up.
    All {
        #[arg(long)]
        dir: PathBuf,
        /// Archives kept per shop, the newest first (older ones of that shop are deleted).
        #[arg(long)]
        keep: usize,
    },
}

pub const EXTENSION: &str = "stockbak";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A new file readable by its owner only.
fn create_private(path: &Path) -> Result<File, String> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1_000_000.0)
}

/// Writes the archive next to `output` first and renames it at the end, so a failed run never
/// leaves a half-written file under the final name.
async fn backup_to_file(config: &Config, shop: &str, output: &Path) -> Result<dump::BackupReport, String> {
    let mut partial = output.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = create_private(&partial)?;
    let mut client = connect_admin(config).await.map_err(err)?;
    let result = dump::backup(&mut client, shop, BufWriter::new(file), Progress::on_terminal()).await;
    match result {
        Ok((mut w, report)) => {
            w.flush().map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
            let f = w.into_inner().map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
            f.sync_all().map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
            fs::rename(&partial, output)
                .map_err(|e| format!("cannot rename to {}: {e}", output.display()))?;
            Ok(report)
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(e.to_string())
        }
    }
}

pub async fn backup(config: &Config, shop: &str, output: &Path) -> Result<(), String> {
    let r = backup_to_file(config, shop, output).await?;
    println!(
        "backed up shop {} (id {}, migration version {}): {} tables, {} rows, {} of data -> {} ({})",
        r.shop.slug,
        r.shop.id,
        r.shop.schema_version,
        r.tables,
        r.rows,
        megabytes(r.data_bytes),
        output.display(),
        megabytes(r.size)
    );
    println!("sha256 {}", r.sha256);
    Ok(())
}

fn print_restore(r: &RestoreReport) {
    let how = if r.replaced { "replaced" } else { "restored" };
    println!(
        "{how} shop {} (id {}, schema {}): {} tables, {} rows; archive version {}, now version {}",
        r.slug, r.tenant_id, r.schema_name, r.tables, r.rows, r.archive_version, r.schema_version
    );
    for email in &r.reused_users {
        println!("reused the existing account {email} (its password and name were left as they are)");
    }
    for email in &r.created_users {
        println!("created the account {email} with its archived password");
    }
}

pub async fn restore(
    config: &Config,
    file: &Path,
    as_slug: Option<&str>,
    replace: bool,
) -> Result<(), String> {
    let target = match as_slug {
        Some(s) => {
            if replace {
                return Err("--replace and --as do not go together: --as always makes a new shop".into());
            }
            Target::As(TenantSlug::try_from(s).map_err(|e| format!("--as: {e}"))?)
        }
        None => Target::InPlace { replace },
    };
    let mut f = File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let mut client = connect_admin(config).await.map_err(err)?;
    let r = restore::restore(&mut client, &mut f, target, Progress::on_terminal()).await.map_err(err)?;
    print_restore(&r);
    Ok(())
}

pub async fn clone(config: &Config, shop: &str, new_slug: &str) -> Result<(), String> {
    let slug = TenantSlug::try_from(new_slug).map_err(|e| format!("new slug: {e}"))?;
    let mut client = connect_admin(config).await.map_err(err)?;
    let progress = Progress::on_terminal();
    let (buf, _) = dump::backup(&mut client, shop, Vec::new(), progress).await.map_err(err)?;
    let r = restore::restore(&mut client, &mut Cursor::new(buf), Target::As(slug), progress)
        .await
        .map_err(err)?;
    print_restore(&r);
    Ok(())
}

pub fn verify(file: &Path) -> Result<(), String> {
    let f = File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let v = archive::verify(f).map_err(|e| format!("archive refused: {e}"))?;
    let m = &v.manifest;
    println!("{}: a Stock shop archive, format {}, intact", file.display(), m.format);
    println!(
        "shop {} ({:?}, id {}, {}), taken {} by stock {} from PostgreSQL {}",
        m.tenant.slug,
        m.tenant.name,
        m.tenant.id,
        m.tenant.status,
        m.created_at,
        m.stock_version,
        m.server_version
    );
    println!("shop migration version {}; {} members, {} accounts", m.schema_version, m.memberships, m.users);
    let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
    println!("{} tables, {} rows; {} bytes; sha256 {}", m.tables.len(), rows, v.size, v.sha256);
    for t in &m.tables {
        println!("  {:<28} {:>10} rows", t.name, t.rows);
    }
    Ok(())
}

pub async fn drop_shop(config: &Config, shop: &str, yes: bool) -> Result<(), String> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(format!("refusing to drop shop {shop:?} without confirmation: pass --yes"));
        }
        eprint!("This deletes shop {shop:?} and all its data. Type its slug or id again to confirm: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map_err(|e| format!("cannot read the answer: {e}"))?;
        if answer.trim() != shop {
            return Err("not confirmed; nothing was changed".into());
        }
    }
    let mut client = connect_admin(config).await.map_err(err)?;
    let r = restore::drop_shop(&mut client, shop).await.map_err(err)?;
    println!(
        "dropped shop {} (id {}, schema {}); removed {} account(s) that belonged to no other shop",
        r.shop.slug, r.shop.id, r.shop.schema_name, r.removed_accounts
    );
    Ok(())
}

/// The name `stock backup all` gives an archive, and the parts it reads back when pruning.
pub fn archive_name(slug: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{slug}-{}.{EXTENSION}", at.format("%Y%m%dT%H%M%S%3fZ"))
}

const STAMP_LEN: usize = "20240101T000000000Z".len();

fn parse_archive_name(name: &str) -> Option<(&str, &str)> {
    let stem = name.strip_suffix(EXTENSION)?.strip_suffix('.')?;
    if stem.len() < STAMP_LEN + 2 {
        return None;
    }
    let (slug, stamp) = stem.split_at(stem.len() - STAMP_LEN);
    let slug = slug.strip_suffix('-')?;
    let ok = stamp.ends_with('Z')
        && stamp.as_bytes()[8] == b'T'
        && stamp.chars().enumerate().all(|(i, c)| i == 8 || i == STAMP_LEN - 1 || c.is_ascii_digit());
    ok.then_some((slug, stamp))
}

/// Deletes all but the newest `keep` archives of `slug` in `dir`; returns the deleted paths.
pub fn prune(dir: &Path, slug: &str, keep: usize) -> Result<Vec<PathBuf>, String> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((s, stamp)) = parse_archive_name(&name) {
            if s == slug {
                found.push((stamp.to_string(), entry.path()));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    let mut deleted = Vec::new();
    for (_, path) in found.into_iter().skip(keep) {
        fs::remove_file(&path).map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
        deleted.push(path);
    }
    Ok(deleted)
}

pub async fn run(cmd: BackupCommand, config: &Config) -> Result<(), String> {
    match cmd {
        BackupCommand::All { dir, keep } => {
            if keep == 0 {
                return Err("--keep must be at least 1".into());
            }
            fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let client = connect_admin(config).await.map_err(err)?;
            let slugs: Vec<String> = client
                .query("select slug from app.tenants where status <> 'spare' order by id", &[])
                .await
                .map_err(|e| crate::db::DbError::Pg(e).to_string())?
                .iter()
                .map(|r| r.get(0))
                .collect();
            drop(client);
            let mut failed = 0usize;
            for slug in &slugs {
                let path = dir.join(archive_name(slug, chrono::Utc::now()));
                match backup_to_file(config, slug, &path).await {
                    Ok(r) => {
                        println!("{slug}: {} rows -> {} ({})", r.rows, path.display(), megabytes(r.size));
                        for old in prune(&dir, slug, keep)? {
                            println!("{slug}: deleted {}", old.display());
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("{slug}: backup failed: {e}");
                    }
                }
            }
            if failed > 0 {
                return Err(format!("{failed} of {} shop backups failed", slugs.len()));
            }
            println!("backed up {} shops into {}", slugs.len(), dir.display());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_read_back() {
        let at = chrono::DateTime::parse_from_rfc3339("2024-03-05T10:20:30.456Z").expect("time").to_utc();
        let name = archive_name("my-shop-2", at);
        assert_eq!(name, "my-shop-2-20240305T102030456Z.stockbak");
        assert_eq!(parse_archive_name(&name), Some(("my-shop-2", "20240305T102030456Z")));
        assert_eq!(parse_archive_name("my-shop-2.stockbak"), None);
        assert_eq!(parse_archive_name("notes.txt"), None);
        assert_eq!(parse_archive_name("x-2024030XT102030456Z.stockbak"), None);
    }
}
