//! Database access: the web app's pool (as the login role), the administrative connection used by
//! migrations and the CLI, and the one-transaction-per-request helpers in `tx`.

pub mod inspect;
pub mod migrate;
pub mod roles;
pub mod tx;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{Client, NoTls};

use crate::config::Config;
use roles::{quote_ident, RoleNames};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL is not valid: {0}")]
    BadUrl(String),
    #[error("cannot reach the database: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("{}", describe(.0))]
    Pg(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("{0}")]
    Other(String),
}

/// The server's own message (and detail) of a database error; `Display` of the driver's error
/// says only "db error".
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({}): {detail}", d.message(), d.code().code()),
            None => format!("{} ({})", d.message(), d.code().code()),
        },
        None => e.to_string(),
    }
}

pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, DbError> {
    // the error text of a bad URL may echo the URL; keep credentials out of it
    tokio_postgres::Config::from_str(url)
        .map_err(|_| DbError::BadUrl("cannot parse the connection string".into()))
}

pub fn database_name(cfg: &tokio_postgres::Config) -> String {
    cfg.get_dbname()
        .map(str::to_string)
        .or_else(|| cfg.get_user().map(str::to_string))
        .unwrap_or_else(|| "postgres".into())
}

pub async fn connect(cfg: &tokio_postgres::Config) -> Result<Client, DbError> {
    let mut cfg = cfg.clone();
    // idempotent DDL ("drop policy if exists") would otherwise fill the log with notices
    cfg.options("-c client_min_messages=warning");
    let (client, conn) = cfg.connect(NoTls).await.map_err(DbError::Connect)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "admin connection closed");
        }
    });
    Ok(client)
}

/// Connects with `DATABASE_URL`, creating the database first when it does not exist.
pub async fn connect_admin(config: &Config) -> Result<Client, DbError> {
    let cfg = parse_url(config.database_url.expose())?;
    match connect(&cfg).await {
        Ok(c) => Ok(c),
        Err(DbError::Connect(e)) if e.as_db_error().map(|d| d.code().code()) == Some("3D000") => {
            let name = database_name(&cfg);
            let mut maintenance = cfg.clone();
            maintenance.dbname("postgres");
            let admin = connect(&maintenance).await?;
            let create = format!("create database {}", quote_ident(&name));
            if let Err(e) = admin.batch_execute(&create).await {
                // another process may have created it in the meantime
                if e.code().map(|c| c.code()) != Some("42P04") {
                    return Err(e.into());
                }
            }
            tracing::info!(database = %name, "created database");
            connect(&cfg).await
        }
        Err(e) => Err(e),
    }
}

/// The connection settings of the web app's login role.
pub fn app_pg_config(config: &Config, roles: &RoleNames) -> Result<tokio_postgres::Config, DbError> {
    if let Some(url) = &config.app_database_url {
        return parse_url(url.expose());
    }
    let mut cfg = parse_url(config.database_url.expose())?;
    cfg.user(&roles.app);
    match &config.app_db_password {
        Some(p) => cfg.password(p.expose()),
        None => cfg.password(""),
    };
    cfg.application_name("stock");
    Ok(cfg)
}

pub fn app_pool(config: &Config, roles: &RoleNames) -> Result<Pool, DbError> {
    let cfg = app_pg_config(config, roles)?;
    let mgr = Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(mgr)
        .max_size(config.pool_size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}
