//! `stock tenant …` and `stock user …`.

use clap::Subcommand;

use crate::config::Config;
use crate::db::{connect_admin, spares};
use crate::domain::auth::{hash_password, Email};
use crate::domain::member::Role;
use crate::domain::shop::{self, shop_name, TenantSlug};
use crate::domain::text::Name;

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a shop (schema, tables, policies) with no members yet; prints its id and slug.
    Create {
        /// The shop's display name.
        #[arg(long)]
        name: String,
        /// Handle used by the CLI (3-40 of a-z, 0-9, '-'); derived from the name when omitted.
        #[arg(long)]
        slug: Option<String>,
    },
    /// List every shop with its schema, status, migration version and member count.
    List,
    /// Write one shop's archive (its schema's data, members and their accounts, migration version,
    /// checksums) to FILE, from one consistent snapshot. See docs/BACKUP.md.
    Backup {
        /// Shop slug or id.
        shop: String,
        /// The archive to write (created readable by its owner only: it holds password hashes).
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
    /// Restore an archive (verified completely first): as the shop it was taken from, or as a new
    /// shop with --as. An archive from an older migration version is migrated forward.
    Restore {
        file: std::path::PathBuf,
        /// Restore as a new shop with this slug (new id and schema; the same members).
        #[arg(long = "as", value_name = "NEW_SLUG")]
        as_slug: Option<String>,
        /// Replace the shop when it exists (atomically: one transaction).
        #[arg(long)]
        replace: bool,
    },
    /// Copy a shop into a new one with its own id, schema and slug (the same members).
    Clone {
        /// Shop slug or id.
        shop: String,
        new_slug: String,
    },
    /// Delete a shop: suspend it, then drop its schema, memberships and the accounts that belong
    /// to no other shop. Asks on a terminal; elsewhere needs --yes.
    Drop {
        /// Shop slug or id.
        shop: String,
        #[arg(long)]
        yes: bool,
    },
    /// Check an archive (structure, manifest, checksums) without a database, and summarize it.
    Verify { file: std::path::PathBuf },
    /// Make spare shops ahead (fully migrated, nobody's yet) until KEEP exist at the latest
    /// migration, so sign-up claims one instead of creating a schema. `stock serve` also keeps
    /// STOCK_SPARE_SHOPS of them. See docs/RUNBOOK.md.
    Spares {
        /// How many to keep (default STOCK_SPARE_SHOPS, 2).
        #[arg(long)]
        keep: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a person to a shop with a role (creating the account when the e-mail is new; an
    /// existing member gets the new role). Password from STOCK_USER_PASSWORD or --password-stdin;
    /// required for a new account, and replaces the password of an existing one when given.
    Add {
        /// Shop slug or id.
        #[arg(long)]
        shop: String,
        #[arg(long)]
        email: String,
        /// Display name (for a new account).
        #[arg(long)]
        name: Option<String>,
        /// owner, admin or staff.
        #[arg(long)]
        role: String,
        /// Read the password from standard input instead of STOCK_USER_PASSWORD.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run_tenant(cmd: TenantCommand, config: &Config) -> Result<(), String> {
    match cmd {
        TenantCommand::Create { name, slug } => {
            let name = shop_name(&name)
                .map_err(|k| format!("--name: {}", crate::i18n::t(crate::i18n::Locale::En, k)))?;
            let slug =
                slug.as_deref().map(TenantSlug::try_from).transpose().map_err(|e| format!("--slug: {e}"))?;
            let mut client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let tx = client.transaction().await.map_err(|e| e.to_string())?;
            let (id, slug) = shop::create_tenant(&tx, &name, slug.as_ref()).await.map_err(|e| match e {
                crate::db::DbError::Pg(pg)
                    if crate::error::violated_constraint(&pg) == Some("tenants_slug_key") =>
                {
                    "--slug: a shop with this slug already exists".to_string()
                }
                other => other.to_string(),
            })?;
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("created shop {id} ({slug})");
            Ok(())
        }
        TenantCommand::List => {
            let client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let shops = shop::list_tenants(&client).await.map_err(|e| e.to_string())?;
            println!(
                "{:<8} {:<24} {:<18} {:<10} {:>7} {:>7}  name",
                "id", "slug", "schema", "status", "version", "members"
            );
            for s in shops {
                println!(
                    "{:<8} {:<24} {:<18} {:<10} {:>7} {:>7}  {}",
                    s.id, s.slug, s.schema_name, s.status, s.schema_version, s.members, s.name
                );
            }
            Ok(())
        }
        TenantCommand::Backup { shop, output } => super::backup::backup(config, &shop, &output).await,
        TenantCommand::Restore { file, as_slug, replace } => {
            super::backup::restore(config, &file, as_slug.as_deref(), replace).await
        }
        TenantCommand::Clone { shop, new_slug } => super::backup::clone(config, &shop, &new_slug).await,
        TenantCommand::Drop { shop, yes } => super::backup::drop_shop(config, &shop, yes).await,
        TenantCommand::Verify { file } => super::backup::verify(&file),
        TenantCommand::Spares { keep } => {
            let keep = keep.unwrap_or(config.spare_shops);
            let mut client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let started = std::time::Instant::now();
            let made = spares::top_up(&mut client, keep, true).await.map_err(|e| e.to_string())?;
            let have = spares::count(&client).await.map_err(|e| e.to_string())?;
            println!(
                "spare shops: {have} ready (keep {keep}); made {made} in {:.2}s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

pub async fn run_user(cmd: UserCommand, config: &Config) -> Result<(), String> {
    match cmd {
        UserCommand::Add { shop, email, name, role, password_stdin } => {
            let email = Email::try_from(email.as_str())
                .map_err(|_| format!("--email: {email:?} is not a valid e-mail address"))?;
            let role = Role::try_from(role.as_str()).map_err(|e| format!("--role: {e}"))?;
            let name = name
                .as_deref()
                .map(|n| Name::parse(n, 120))
                .transpose()
                .map_err(|k| format!("--name: {}", crate::i18n::t(crate::i18n::Locale::En, k)))?;
            let has_password = password_stdin || std::env::var_os("STOCK_USER_PASSWORD").is_some();
            let password = if has_password {
                Some(super::read_password("STOCK_USER_PASSWORD", password_stdin)?)
            } else {
                None
            };
            let client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let (tenant_id, slug) = shop::find_tenant(&client, &shop)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("--shop: no shop with slug or id {shop:?}"))?;
            let hash = match &password {
                Some(p) => Some(hash_password(p).await.map_err(|e| e.to_string())?),
                None => None,
            };
            add_member(&client, tenant_id, &email, name.as_ref(), hash.as_deref(), role).await?;
            println!("{} is now {} of {slug}", email.as_str(), role);
            Ok(())
        }
    }
}

pub(crate) async fn add_member(
    client: &tokio_postgres::Client,
    tenant_id: i64,
    email: &Email,
    name: Option<&Name>,
    hash: Option<&str>,
    role: Role,
) -> Result<i64, String> {
    let exists = client
        .query_opt("select 1 from app.users where email = $1", &[&email.as_str()])
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    if !exists && (hash.is_none() || name.is_none()) {
        return Err(format!(
            "{} has no account yet: give --name and a password (STOCK_USER_PASSWORD or --password-stdin)",
            email.as_str()
        ));
    }
    let display = name.map(Name::as_str).unwrap_or("");
    let row = client
        .query_one(
            "select app_private.add_member($1, $2, $3, $4, $5)",
            &[&tenant_id, &email.as_str(), &display, &hash, &role.as_str()],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}
