//! `stock admin add|list|disable`: the operator's super-admin accounts. They are not shop
//! accounts and reach no shop; passwords come from STOCK_ADMIN_PASSWORD or standard input,
//! never from the command line. Every change is recorded in the panel's audit trail.

use clap::Subcommand;

use crate::config::Config;
use crate::db::connect_admin;
use crate::domain::admin;
use crate::domain::auth::{hash_password, Email};
use crate::domain::text::Name;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a super-admin account (or re-enable one with a new name and password). The password
    /// comes from STOCK_ADMIN_PASSWORD, or else from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List the super-admin accounts.
    List,
    /// Disable an account: its sessions end at once; the audit trail keeps naming it.
    Disable {
        #[arg(long)]
        email: String,
    },
}

fn email(raw: &str) -> Result<Email, String> {
    Email::try_from(raw).map_err(|_| format!("--email: {raw:?} is not a valid e-mail address"))
}

pub async fn run(cmd: AdminCommand, config: &Config) -> Result<(), String> {
    match cmd {
        AdminCommand::Add { email: raw, name } => {
            let email = email(&raw)?;
            let name = Name::parse(&name, 120)
                .map_err(|k| format!("--name: {}", crate::i18n::t(crate::i18n::Locale::En, k)))?;
            let from_env = std::env::var_os("STOCK_ADMIN_PASSWORD").is_some();
            let password = super::read_password("STOCK_ADMIN_PASSWORD", !from_env)?;
            let hash = hash_password(&password).await.map_err(|e| e.to_string())?;
            let client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let id = admin::add_account(&client, &email, &name, &hash).await.map_err(|e| e.to_string())?;
            println!("super-admin {} (id {id}) can sign in at /admin/login", email.as_str());
            Ok(())
        }
        AdminCommand::List => {
            let client = connect_admin(config).await.map_err(|e| e.to_string())?;
            let list = admin::accounts(&client).await.map_err(|e| e.to_string())?;
            println!("{:<6} {:<32} {:<24} {:<10} created", "id", "email", "name", "status");
            for a in list {
                let status = if a.disabled_at.is_some() { "disabled" } else { "enabled" };
                println!(
                    "{:<6} {:<32} {:<24} {:<10} {}",
                    a.id,
                    a.email,
                    a.display_name,
                    status,
                    a.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
            Ok(())
        }
        AdminCommand::Disable { email: raw } => {
            let email = email(&raw)?;
            let client = connect_admin(config).await.map_err(|e| e.to_string())?;
            if admin::disable_account(&client, &email).await.map_err(|e| e.to_string())? {
                println!("super-admin {} is disabled", email.as_str());
                Ok(())
            } else {
                Err(format!("no enabled super-admin with e-mail {}", email.as_str()))
            }
        }
    }
}
