//! Database access: the web app's pool (as the login role), the administrative connection used by
//! migrations and the CLI, and the one-transaction-per-request helpers in `tx`.

pub mod inspect;
pub mod migrate;
pub mod roles;
pub mod spares;
pub mod tx;

use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::{Duration, Instant};

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Metrics, Pool, RecyclingMethod};
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

/// The web app's connections, split into `STOCK_POOL_SHARDS` pools that share
/// `STOCK_POOL_SIZE` between them. A signed-in request takes its connection from the shard its
/// session's token hash picks, so one person's requests (and so their shop's) keep landing on
/// the same few backends. Each backend then caches the catalog and the per-shop statements of
/// about 1/K of the shops instead of all of them (docs/SCALING.md §3): less memory in
/// PostgreSQL, and fewer re-plannings with many shops. A busy shard cannot borrow another's idle
/// connections, so K stays small. With one shard this is the plain pool.
#[derive(Clone)]
pub struct AppPools(std::sync::Arc<[Pool]>);

impl AppPools {
    pub fn new(config: &Config, roles: &RoleNames) -> Result<AppPools, DbError> {
        let k = config.shards().max(1);
        let shards = (0..k)
            .map(|i| {
                app_pool_of_size(config, roles, config.pool_size / k + usize::from(i < config.pool_size % k))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AppPools(shards.into()))
    }

    /// The pool for a session's token hash; without one (signed-out requests, probes), the shard
    /// with the most idle connections.
    pub fn shard(&self, key: Option<&[u8]>) -> &Pool {
        let k = self.0.len();
        let i = match key {
            Some(hash) if k > 1 => {
                let mut b = [0u8; 8];
                b.iter_mut().zip(hash).for_each(|(d, s)| *d = *s);
                usize::try_from(u64::from_le_bytes(b) % k as u64).unwrap_or(0)
            }
            _ if k > 1 => (0..k).max_by_key(|&i| self.0[i].status().available).unwrap_or(0),
            _ => 0,
        };
        &self.0[i]
    }

    pub fn shards(&self) -> usize {
        self.0.len()
    }

    /// The shards' figures added up.
    pub fn status(&self) -> deadpool_postgres::Status {
        let mut total = deadpool_postgres::Status { max_size: 0, size: 0, available: 0, waiting: 0 };
        for p in self.0.iter() {
            let s = p.status();
            total.max_size += s.max_size;
            total.size += s.size;
            total.available += s.available;
            total.waiting += s.waiting;
        }
        total
    }

    pub fn close(&self) {
        self.0.iter().for_each(Pool::close);
    }
}

/// One shard: an existing pool.
impl From<Pool> for AppPools {
    fn from(pool: Pool) -> AppPools {
        AppPools(vec![pool].into())
    }
}

/// One pool of `STOCK_POOL_SIZE` connections as the web app's login role.
pub fn app_pool(config: &Config, roles: &RoleNames) -> Result<Pool, DbError> {
    app_pool_of_size(config, roles, config.pool_size)
}

fn app_pool_of_size(config: &Config, roles: &RoleNames, size: usize) -> Result<Pool, DbError> {
    let cfg = app_pg_config(config, roles)?;
    let mgr = Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let mut builder = Pool::builder(mgr)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)));
    let limits = ConnLimits { max_lifetime: config.pool_max_lifetime, max_uses: config.pool_max_uses };
    let max_statements = config.statement_cache_max;
    // checked when a connection is taken: a spent one is closed and another taken or opened
    builder = builder.pre_recycle(Hook::sync_fn(move |client, metrics| {
        if limits.spent(metrics) {
            return Err(HookError::message("connection reached its lifetime or use limit"));
        }
        // statements whose text names a shop's schema would otherwise pile up, one per shop the
        // connection served; dropping the handles closes them on the server
        if max_statements > 0 && client.statement_cache.size() > max_statements {
            client.statement_cache.clear();
        }
        Ok(())
    }));
    let pool = builder.build().map_err(|e| DbError::Pool(e.to_string()))?;
    if let Some(lifetime) = limits.max_lifetime {
        close_idle_spent(&pool, limits, lifetime);
    }
    Ok(pool)
}

/// When a pooled connection is closed and replaced. Each backend keeps in its catalog caches
/// every shop schema it has touched and a plan for every prepared statement, so with many shops a
/// long-lived connection's memory grows with the number of shops it served; a bounded lifetime
/// (or number of uses) starts it over with empty caches. See docs/SCALING.md.
#[derive(Clone, Copy, Debug)]
struct ConnLimits {
    max_lifetime: Option<Duration>,
    max_uses: Option<usize>,
}

impl ConnLimits {
    fn spent(&self, metrics: &Metrics) -> bool {
        let too_old = self.max_lifetime.is_some_and(|max| metrics.age() >= jittered(max, metrics.created));
        // recycle_count is 0 on the connection's second use: after `max` uses it is max - 1
        let too_used = self.max_uses.is_some_and(|max| metrics.recycle_count + 1 >= max);
        too_old || too_used
    }
}

/// The lifetime less up to a fifth, fixed per connection by its creation instant: connections
/// opened together (a pool filling at start-up) are then not all closed in the same second.
fn jittered(max: Duration, created: Instant) -> Duration {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    created.hash(&mut h);
    let fifth = max / 5;
    let nanos = u64::try_from(fifth.as_nanos()).unwrap_or(u64::MAX).max(1);
    max - Duration::from_nanos(h.finish() % nanos)
}

/// Idle connections are only looked at when taken, so a quiet pool would keep spent ones (and
/// their memory in PostgreSQL) forever: sweep them every quarter lifetime. The task holds only a
/// weak handle and ends with the pool. Without a tokio runtime (some CLI paths) nothing is swept.
fn close_idle_spent(pool: &Pool, limits: ConnLimits, lifetime: Duration) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = pool.weak();
    let every = (lifetime / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    rt.spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(pool) = weak.upgrade() else {
                break;
            };
            let closed = pool.retain(|_, metrics| !limits.spent(&metrics)).removed.len();
            if closed > 0 {
                tracing::debug!(closed, "closed idle database connections past their lifetime");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(age: Duration, uses: usize) -> Metrics {
        let now = Instant::now();
        Metrics { created: now.checked_sub(age).unwrap_or(now), recycled: None, recycle_count: uses }
    }

    #[test]
    fn lifetime_is_jittered_within_a_fifth() {
        let max = Duration::from_secs(600);
        let start = Instant::now();
        for i in 0..50 {
            let j = jittered(max, start + Duration::from_millis(i * 37));
            assert!(j <= max && j >= max - max / 5, "{j:?}");
        }
    }

    #[test]
    fn a_connection_is_spent_by_age_or_by_uses() {
        let both = ConnLimits { max_lifetime: Some(Duration::from_secs(600)), max_uses: Some(100) };
        assert!(!both.spent(&metrics(Duration::from_secs(10), 5)));
        assert!(both.spent(&metrics(Duration::from_secs(601), 5)));
        assert!(both.spent(&metrics(Duration::from_secs(10), 99)));
        assert!(!both.spent(&metrics(Duration::from_secs(10), 98)));
        let none = ConnLimits { max_lifetime: None, max_uses: None };
        assert!(!none.spent(&metrics(Duration::from_secs(601), 1_000_000)));
    }
}
