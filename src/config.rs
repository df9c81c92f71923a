//! Runtime configuration: one typed struct built from defaults, then `STOCK_*` / `DATABASE_URL`
//! environment variables. Secrets are wrapped so they never show in logs or `Debug` output.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Administrative connection (migrations, provisioning from the CLI). Holds credentials.
    pub database_url: Secret,
    /// The web app's own login; derived from `database_url` with the app role when unset.
    pub app_database_url: Option<Secret>,
    /// Password of the app login role, set by `stock migrate` when given.
    pub app_db_password: Option<Secret>,
    pub listen: SocketAddr,
    /// Key for CSRF tokens and signed links.
    pub secret_key: Secret,
    /// Whether cookies carry `Secure` (on behind TLS, off for plain-http development).
    pub cookie_secure: bool,
    pub cookie_name: String,
    pub session_ttl: Duration,
    /// Prefix of every PostgreSQL role this install creates, so installs can share a cluster.
    pub role_prefix: String,
    pub pool_size: usize,
    /// Threads of the async runtime (`STOCK_WORKER_THREADS`); 0 = the default, half the CPUs
    /// and at least one (see `worker_threads`).
    pub worker_threads: usize,
    /// Tenant schemas migrated at once by `stock migrate`.
    pub migrate_parallelism: usize,
    pub log_json: bool,
    /// Bearer token that opens `/metrics` from anywhere; without one, only loopback peers that
    /// were not forwarded by a proxy may read it.
    pub metrics_token: Option<Secret>,
    /// How long `stock serve` waits for requests in flight after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// Per-request context statements as unnamed statements instead of cached named ones: for
    /// PgBouncer older than 1.21 (or without `max_prepared_statements`) in transaction mode.
    pub unnamed_statements: bool,
    /// Outgoing mail server (`STOCK_SMTP_URL`); none in development: mail then goes to the log and
    /// to `mail_dir`.
    pub smtp: Option<SmtpSettings>,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<Secret>,
    /// The From: of every message (`STOCK_MAIL_FROM`).
    pub mail_from: String,
    /// Where development mail is written as `.eml` files when no SMTP server is configured.
    pub mail_dir: std::path::PathBuf,
    /// The address people use to reach the service, for links in e-mails (`STOCK_PUBLIC_URL`);
    /// `http://<listen>` when unset.
    pub public_url: Option<String>,
    /// How long a pooled database connection lives before it is closed and replaced
    /// (`STOCK_POOL_MAX_LIFETIME_SECONDS`, default 600; 0 = forever): bounds the catalog caches a
    /// backend accumulates across shop schemas.
    pub pool_max_lifetime: Option<Duration>,
    /// How many requests a pooled connection serves before it is replaced (`STOCK_POOL_MAX_USES`,
    /// default 0 = no limit).
    pub pool_max_uses: Option<usize>,
    /// Prepared statements a pooled connection keeps cached (`STOCK_DB_STATEMENT_CACHE_MAX`,
    /// default 1000; 0 = no bound): past it the connection's cache is emptied when it is next taken.
    /// It must exceed what one connection keeps in steady use, its share of the shops times the
    /// statements each shop has of its own (dashboard, product list, categories: 250 × 3 with
    /// 1,000 shops in 4 shards), or the cache empties itself over and over: at 500, /products
    /// under random access fell to 0.66 of one shop against 0.81 above it (docs/BENCHMARKS.md,
    /// "Many shops", sixth session).
    pub statement_cache_max: usize,
    /// Shards the app's pool is split into, picked by the session (`STOCK_POOL_SHARDS`; 0, the
    /// default, means `STOCK_POOL_SIZE / 4` between 1 and 4, so that each shard keeps at least four
    /// connections: a few handlers hold two at once; set explicitly, at most `STOCK_POOL_SIZE`):
    /// see `db::AppPools` and `Config::shards`.
    pub pool_shards: usize,
    /// Spare shops `stock serve` keeps made ahead for sign-up (`STOCK_SPARE_SHOPS`, default 2;
    /// 0 = none: sign-up then creates the shop's schema in the request). See docs/SCALING.md §3.1.
    pub spare_shops: usize,
}

/// How to reach the mail server, from `smtp://host:port` (plain), `smtp://host:port?tls=starttls`
/// or `smtps://host:port` (TLS from the first byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Wrapper,
}

impl SmtpSettings {
    pub fn parse(raw: &str) -> Result<SmtpSettings, String> {
        let u = url::Url::parse(raw).map_err(|e| e.to_string())?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(
                "put the credentials in STOCK_SMTP_USER and STOCK_SMTP_PASSWORD, not in the URL".into()
            );
        }
        let host = u.host_str().filter(|h| !h.is_empty()).ok_or("the URL has no host")?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let mut starttls = false;
        for (k, v) in u.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "starttls") => starttls = true,
                ("tls", "none") => starttls = false,
                _ => return Err(format!("unknown option {k}={v} (expected tls=starttls)")),
            }
        }
        let (tls, default_port) = match u.scheme() {
            "smtp" if starttls => (SmtpTls::StartTls, 587),
            "smtp" => (SmtpTls::None, 25),
            "smtps" if !starttls => (SmtpTls::Wrapper, 465),
            "smtps" => return Err("smtps:// is TLS already; use smtp://…?tls=starttls for STARTTLS".into()),
            other => return Err(format!("unknown scheme {other}: expected smtp or smtps")),
        };
        Ok(SmtpSettings { host, port: u.port().unwrap_or(default_port), tls })
    }
}

pub const DEFAULT_SECRET: &str = "insecure-development-key-change-me-0123456789";

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: Secret::new("postgres://postgres@127.0.0.1:5432/stock"),
            app_database_url: None,
            app_db_password: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secret_key: Secret::new(DEFAULT_SECRET),
            cookie_secure: false,
            cookie_name: "stock_session".into(),
            session_ttl: Duration::from_secs(12 * 3600),
            role_prefix: "stock".into(),
            pool_size: 16,
            worker_threads: 0,
            migrate_parallelism: 4,
            log_json: false,
            metrics_token: None,
            shutdown_timeout: Duration::from_secs(25),
            unnamed_statements: false,
            smtp: None,
            smtp_user: None,
            smtp_password: None,
            mail_from: "Stock <no-reply@localhost>".into(),
            mail_dir: "target/mail".into(),
            public_url: None,
            pool_max_lifetime: Some(Duration::from_secs(600)),
            pool_max_uses: None,
            statement_cache_max: 1000,
            pool_shards: 0,
            spare_shops: 2,
        }
    }
}

impl Config {
    /// How many shards the app's pool has (see `pool_shards`).
    pub fn shards(&self) -> usize {
        match self.pool_shards {
            0 => (self.pool_size / 4).clamp(1, 4),
            k => k.min(self.pool_size.max(1)),
        }
    }

    /// Threads of the async runtime: `STOCK_WORKER_THREADS`, or half the CPUs (at least one).
    /// The server shares its machine with PostgreSQL in the recommended deployment, and its share
    /// of a request's CPU is a fraction of the database's: on 2 CPUs one thread served the
    /// dashboard with 14 % less server CPU per request than two (fewer cross-thread wake-ups;
    /// docs/BENCHMARKS.md, "Dashboard"). Password hashing and image processing run on tokio's
    /// separate blocking pool whatever this is.
    pub fn worker_threads(&self) -> usize {
        match self.worker_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        }
    }

    /// Defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        if let Some(v) = get("DATABASE_URL") {
            c.database_url = Secret::new(v);
        }
        c.app_database_url = get("STOCK_APP_DATABASE_URL").map(Secret::new);
        c.app_db_password = get("STOCK_APP_DB_PASSWORD").map(Secret::new);
        if let Some(v) = get("STOCK_LISTEN") {
            c.listen = v.parse().map_err(|e| invalid("STOCK_LISTEN", e))?;
        }
        if let Some(v) = get("STOCK_SECRET_KEY") {
            if v.len() < 32 {
                return Err(invalid("STOCK_SECRET_KEY", "must be at least 32 characters"));
            }
            c.secret_key = Secret::new(v);
        }
        if let Some(v) = get("STOCK_COOKIE_SECURE") {
            c.cookie_secure =
                parse_bool(&v).ok_or_else(|| invalid("STOCK_COOKIE_SECURE", "expected true or false"))?;
        }
        if let Some(v) = get("STOCK_COOKIE_NAME") {
            if v.is_empty() || !v.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
                return Err(invalid("STOCK_COOKIE_NAME", "letters, digits, '-' and '_' only"));
            }
            c.cookie_name = v;
        }
        if let Some(v) = get("STOCK_SESSION_TTL_MINUTES") {
            let minutes: u64 = v.parse().map_err(|e| invalid("STOCK_SESSION_TTL_MINUTES", e))?;
            if minutes == 0 {
                return Err(invalid("STOCK_SESSION_TTL_MINUTES", "must be positive"));
            }
            c.session_ttl = Duration::from_secs(minutes * 60);
        }
        if let Some(v) = get("STOCK_ROLE_PREFIX") {
            crate::db::roles::check_prefix(&v).map_err(|e| invalid("STOCK_ROLE_PREFIX", e))?;
            c.role_prefix = v;
        }
        if let Some(v) = get("STOCK_POOL_SIZE") {
            c.pool_size = parse_positive("STOCK_POOL_SIZE", &v)?;
        }
        if let Some(v) = get("STOCK_POOL_SHARDS") {
            c.pool_shards = parse_positive("STOCK_POOL_SHARDS", &v)?;
            if c.pool_shards > c.pool_size {
                return Err(invalid(
                    "STOCK_POOL_SHARDS",
                    "must not exceed STOCK_POOL_SIZE (each shard needs a connection)",
                ));
            }
        }
        if let Some(v) = get("STOCK_WORKER_THREADS") {
            c.worker_threads = parse_positive("STOCK_WORKER_THREADS", &v)?;
        }
        if let Some(v) = get("STOCK_MIGRATE_PARALLELISM") {
            c.migrate_parallelism = parse_positive("STOCK_MIGRATE_PARALLELISM", &v)?;
        }
        if let Some(v) = get("STOCK_LOG_FORMAT") {
            c.log_json = match v.as_str() {
                "json" => true,
                "text" => false,
                _ => return Err(invalid("STOCK_LOG_FORMAT", "expected json or text")),
            };
        }
        if let Some(v) = get("STOCK_METRICS_TOKEN") {
            if v.len() < 16 {
                return Err(invalid("STOCK_METRICS_TOKEN", "must be at least 16 characters"));
            }
            c.metrics_token = Some(Secret::new(v));
        }
        if let Some(v) = get("STOCK_SHUTDOWN_TIMEOUT_SECONDS") {
            let secs: u64 = v.parse().map_err(|e| invalid("STOCK_SHUTDOWN_TIMEOUT_SECONDS", e))?;
            c.shutdown_timeout = Duration::from_secs(secs);
        }
        if let Some(v) = get("STOCK_DB_UNNAMED_STATEMENTS") {
            c.unnamed_statements = parse_bool(&v)
                .ok_or_else(|| invalid("STOCK_DB_UNNAMED_STATEMENTS", "expected true or false"))?;
        }
        if let Some(v) = get("STOCK_SMTP_URL").filter(|v| !v.is_empty()) {
            c.smtp = Some(SmtpSettings::parse(&v).map_err(|e| invalid("STOCK_SMTP_URL", e))?);
        }
        c.smtp_user = get("STOCK_SMTP_USER").filter(|v| !v.is_empty());
        c.smtp_password = get("STOCK_SMTP_PASSWORD").filter(|v| !v.is_empty()).map(Secret::new);
        if c.smtp_user.is_some() != c.smtp_password.is_some() {
            return Err(invalid("STOCK_SMTP_USER", "set STOCK_SMTP_USER and STOCK_SMTP_PASSWORD together"));
        }
        if let Some(v) = get("STOCK_MAIL_FROM") {
            v.parse::<lettre::message::Mailbox>().map_err(|e| invalid("STOCK_MAIL_FROM", e))?;
            c.mail_from = v;
        }
        if let Some(v) = get("STOCK_MAIL_DIR").filter(|v| !v.is_empty()) {
            c.mail_dir = v.into();
        }
        if let Some(v) = get("STOCK_PUBLIC_URL").filter(|v| !v.is_empty()) {
            let u = url::Url::parse(&v).map_err(|e| invalid("STOCK_PUBLIC_URL", e))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(invalid("STOCK_PUBLIC_URL", "expected http(s)://host[:port][/path]"));
            }
            c.public_url = Some(v.trim_end_matches('/').to_string());
        }
        if let Some(v) = get("STOCK_POOL_MAX_LIFETIME_SECONDS") {
            let secs: u64 = v.parse().map_err(|e| invalid("STOCK_POOL_MAX_LIFETIME_SECONDS", e))?;
            c.pool_max_lifetime = (secs > 0).then(|| Duration::from_secs(secs));
        }
        if let Some(v) = get("STOCK_POOL_MAX_USES") {
            let uses: usize = v.parse().map_err(|e| invalid("STOCK_POOL_MAX_USES", e))?;
            c.pool_max_uses = (uses > 0).then_some(uses);
        }
        if let Some(v) = get("STOCK_DB_STATEMENT_CACHE_MAX") {
            c.statement_cache_max = v.parse().map_err(|e| invalid("STOCK_DB_STATEMENT_CACHE_MAX", e))?;
        }
        if let Some(v) = get("STOCK_SPARE_SHOPS") {
            c.spare_shops = v.parse().map_err(|e| invalid("STOCK_SPARE_SHOPS", e))?;
        }
        Ok(c)
    }

    /// The base of links in e-mails, without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.clone(),
            None if self.listen.ip().is_unspecified() => format!("http://127.0.0.1:{}", self.listen.port()),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn uses_default_secret(&self) -> bool {
        self.secret_key.expose() == DEFAULT_SECRET
    }
}

fn invalid(name: &'static str, reason: impl ToString) -> ConfigError {
    ConfigError::Invalid { name, reason: reason.to_string() }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_positive(name: &'static str, v: &str) -> Result<usize, ConfigError> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(name, "must be a positive whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = from(&[
            ("DATABASE_URL", "postgres://u:hunter2pass@h/db"),
            ("STOCK_SECRET_KEY", "a-very-secret-key-that-is-long-enough-1234"),
        ])
        .expect("config");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2pass"), "{shown}");
        assert!(!shown.contains("a-very-secret-key"), "{shown}");
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = from(&[("STOCK_LISTEN", "0.0.0.0:9000"), ("STOCK_COOKIE_SECURE", "true")]).expect("config");
        assert_eq!(c.listen.port(), 9000);
        assert!(c.cookie_secure);
        assert_eq!(Config::default().listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn spare_shops_default_to_two_and_zero_turns_them_off() {
        assert_eq!(from(&[]).expect("config").spare_shops, 2);
        assert_eq!(from(&[("STOCK_SPARE_SHOPS", "0")]).expect("config").spare_shops, 0);
        let e = from(&[("STOCK_SPARE_SHOPS", "-1")]).expect_err("negative");
        assert!(e.to_string().contains("STOCK_SPARE_SHOPS"));
    }

    #[test]
    fn worker_threads_default_to_half_the_cpus_and_at_least_one() {
        let c = from(&[]).expect("config");
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(c.worker_threads(), (cpus / 2).max(1));
        assert_eq!(from(&[("STOCK_WORKER_THREADS", "3")]).expect("config").worker_threads(), 3);
        let e = from(&[("STOCK_WORKER_THREADS", "0")]).expect_err("zero threads");
        assert!(e.to_string().contains("STOCK_WORKER_THREADS"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = from(&[("STOCK_LISTEN", "nowhere")]).expect_err("bad listen");
        assert!(e.to_string().contains("STOCK_LISTEN"));
        let e = from(&[("STOCK_SECRET_KEY", "short")]).expect_err("short key");
        assert!(e.to_string().contains("STOCK_SECRET_KEY"));
        let e = from(&[("STOCK_ROLE_PREFIX", "Bad Prefix")]).expect_err("prefix");
        assert!(e.to_string().contains("STOCK_ROLE_PREFIX"));
    }

    #[test]
    fn smtp_urls_say_host_port_and_tls() {
        let s = |u| SmtpSettings::parse(u);
        assert_eq!(
            s("smtp://mail.example.com:2525"),
            Ok(SmtpSettings { host: "mail.example.com".into(), port: 2525, tls: SmtpTls::None })
        );
        assert_eq!(
            s("smtp://mx.example.com?tls=starttls").map(|x| (x.port, x.tls)),
            Ok((587, SmtpTls::StartTls))
        );
        assert_eq!(s("smtps://mx.example.com").map(|x| (x.port, x.tls)), Ok((465, SmtpTls::Wrapper)));
        assert!(s("smtp://user:pw@mx.example.com").is_err());
        assert!(s("http://mx.example.com").is_err());
        assert!(s("smtp://mx.example.com?tls=maybe").is_err());
        let e = from(&[("STOCK_SMTP_URL", "ftp://x")]).expect_err("bad smtp");
        assert!(e.to_string().contains("STOCK_SMTP_URL"));
        let e = from(&[("STOCK_MAIL_FROM", "not an address")]).expect_err("bad from");
        assert!(e.to_string().contains("STOCK_MAIL_FROM"));
        let e = from(&[("STOCK_SMTP_USER", "ana")]).expect_err("user without password");
        assert!(e.to_string().contains("STOCK_SMTP_USER"));
    }

    #[test]
    fn smtp_password_is_hidden_and_links_have_a_base() {
        let c = from(&[
            ("STOCK_SMTP_URL", "smtp://127.0.0.1:2525"),
            ("STOCK_SMTP_USER", "mailer"),
            ("STOCK_SMTP_PASSWORD", "smtp-hunter2"),
            ("STOCK_PUBLIC_URL", "https://stock.example.com/"),
        ])
        .expect("config");
        assert!(!format!("{c:?}").contains("smtp-hunter2"));
        assert_eq!(c.public_base(), "https://stock.example.com");
        let c = from(&[("STOCK_LISTEN", "0.0.0.0:9000")]).expect("config");
        assert_eq!(c.public_base(), "http://127.0.0.1:9000");
    }

    #[test]
    fn pool_limits_default_on_and_zero_turns_them_off() {
        let c = from(&[]).expect("config");
        assert_eq!(c.pool_max_lifetime, Some(Duration::from_secs(600)));
        assert_eq!(c.pool_max_uses, None);
        let c = from(&[("STOCK_POOL_MAX_LIFETIME_SECONDS", "0"), ("STOCK_POOL_MAX_USES", "500")])
            .expect("config");
        assert_eq!(c.pool_max_lifetime, None);
        assert_eq!(c.pool_max_uses, Some(500));
        let e = from(&[("STOCK_POOL_MAX_LIFETIME_SECONDS", "ten")]).expect_err("bad lifetime");
        assert!(e.to_string().contains("STOCK_POOL_MAX_LIFETIME_SECONDS"));
        let e = from(&[("STOCK_POOL_MAX_USES", "-1")]).expect_err("bad uses");
        assert!(e.to_string().contains("STOCK_POOL_MAX_USES"));
        assert_eq!(c.statement_cache_max, 1000);
        assert_eq!(c.shards(), 4);
        assert_eq!(from(&[("STOCK_POOL_SIZE", "4")]).expect("small pool").shards(), 1);
        assert_eq!(from(&[("STOCK_POOL_SIZE", "8")]).expect("pool of 8").shards(), 2);
        assert_eq!(from(&[("STOCK_POOL_SIZE", "64")]).expect("large pool").shards(), 4);
        assert_eq!(from(&[("STOCK_POOL_SHARDS", "3")]).expect("shards").shards(), 3);
        let e = from(&[("STOCK_POOL_SHARDS", "0")]).expect_err("no shard");
        assert!(e.to_string().contains("STOCK_POOL_SHARDS"));
        let e = from(&[("STOCK_POOL_SIZE", "2"), ("STOCK_POOL_SHARDS", "3")])
            .expect_err("more shards than connections");
        assert!(e.to_string().contains("must not exceed STOCK_POOL_SIZE"));
        let e = from(&[("STOCK_DB_STATEMENT_CACHE_MAX", "lots")]).expect_err("bad cache size");
        assert!(e.to_string().contains("STOCK_DB_STATEMENT_CACHE_MAX"));
    }
}
