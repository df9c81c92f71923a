//! The `stock` command: serve, migrate, and operator tasks. Scriptable without prompts: passwords
//! come from an environment variable or standard input, never from the command line.

mod admin;
mod backup;
mod demo;
mod demo_money;
mod demo_purchases;
mod policies;
mod tenant;

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::migrate;
use crate::domain::auth::Password;

#[derive(Parser, Debug)]
#[command(
    name = "stock",
    version,
    about = "Stock: a multi-tenant stock and sales service for small shops",
    long_about = "Stock: a multi-tenant stock and sales service for small shops.\n\n\
        Configuration comes from the environment: DATABASE_URL (administrative connection; the \
        database is created when missing), STOCK_LISTEN (default 127.0.0.1:8080), STOCK_SECRET_KEY \
        (32+ characters), STOCK_COOKIE_SECURE, STOCK_ROLE_PREFIX (default stock), STOCK_POOL_SIZE, \
        STOCK_SESSION_TTL_MINUTES, STOCK_LOG_FORMAT (text|json), STOCK_METRICS_TOKEN, \
        STOCK_SHUTDOWN_TIMEOUT_SECONDS (default 25), STOCK_DB_UNNAMED_STATEMENTS, STOCK_SPARE_SHOPS \
        (default 2), RUST_LOG."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web application on STOCK_LISTEN until SIGINT/SIGTERM (requests in flight finish,
    /// within STOCK_SHUTDOWN_TIMEOUT_SECONDS).
    Serve,
    /// Create roles, migrate the shared schema, then every shop schema (bounded parallelism,
    /// resumable: each shop migrates in its own transaction).
    Migrate {
        /// List each shop schema's migration version instead of migrating.
        #[arg(long)]
        status: bool,
    },
    /// Shops (tenants).
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// People and their roles in shops.
    #[command(subcommand)]
    User(tenant::UserCommand),
    /// Create (or refresh) the demo shop with owner@demo.test, admin@demo.test and
    /// staff@demo.test. Password from STOCK_DEMO_PASSWORD (default demo-password).
    Demo,
    /// Row level security, policies and privileges: show them, or check them against policies/.
    #[command(subcommand)]
    Policies(policies::PoliciesCommand),
    /// Backups of every shop (`stock tenant backup` does one).
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// The operator's super-admin accounts (the panel at /admin).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

/// Runs the command line: reads the configuration, builds the async runtime it asks for
/// (`Config::worker_threads`) and runs the command on it. The exit code is non-zero on any
/// failure, with the reason on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads())
        .enable_all()
        .build();
    match runtime {
        Ok(rt) => rt.block_on(run(cli, config)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: Config) -> ExitCode {
    crate::telemetry::init(config.log_json);
    match dispatch(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate { status: true } => {
            let (app_version, shops) = migrate::status(&config).await.map_err(|e| e.to_string())?;
            let latest = migrate::latest_tenant_version();
            println!(
                "shared schema: version {app_version} (binary expects {})",
                migrate::expected_app_version()
            );
            println!("{:<8} {:<24} {:<18} {:>7} {:>7}", "id", "slug", "schema", "version", "latest");
            for s in &shops {
                let mark = if s.version < latest { "  behind" } else { "" };
                println!(
                    "{:<8} {:<24} {:<18} {:>7} {:>7}{mark}",
                    s.tenant_id, s.slug, s.schema_name, s.version, latest
                );
            }
            Ok(())
        }
        Command::Migrate { status: false } => {
            let started = std::time::Instant::now();
            let report = migrate::migrate(&config).await.map_err(|e| e.to_string())?;
            println!(
                "shared schema: {} migration(s) applied; shops migrated: {}; took {:.2}s",
                report.app_applied,
                report.tenants_migrated,
                started.elapsed().as_secs_f64()
            );
            if report.tenants_failed.is_empty() {
                Ok(())
            } else {
                for (id, e) in &report.tenants_failed {
                    eprintln!("shop {id}: {e}");
                }
                Err(format!(
                    "{} shop(s) failed to migrate; fix and run `stock migrate` again",
                    report.tenants_failed.len()
                ))
            }
        }
        Command::Tenant(cmd) => tenant::run_tenant(cmd, &config).await,
        Command::User(cmd) => tenant::run_user(cmd, &config).await,
        Command::Demo => demo::run(&config).await,
        Command::Policies(cmd) => policies::run(cmd, &config).await,
        Command::Backup(cmd) => backup::run(cmd, &config).await,
        Command::Admin(cmd) => admin::run(cmd, &config).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    if config.uses_default_secret() {
        tracing::warn!("STOCK_SECRET_KEY is not set: using the development key; set it in production");
    }
    let listen = config.listen;
    let grace = config.shutdown_timeout;
    let app = crate::http::App::new(config).map_err(|e| e.to_string())?;
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    };
    let (addr, server) = crate::http::bind(app.clone(), listen, signal)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%addr, "listening");
    crate::db::spares::spawn_refill(&app.config);
    println!("Stock is serving on http://{addr}");
    // After the signal the listener is closed at once (new connections are refused) and the
    // requests in flight get `grace` to finish; idle keep-alive connections are closed.
    let deadline = async move {
        if stopping.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let finished = tokio::select! {
        () = server => true,
        () = deadline => false,
    };
    app.pools.close();
    if finished {
        tracing::info!("stopped");
        Ok(())
    } else {
        tracing::error!(
            grace_seconds = grace.as_secs(),
            "requests still running after the grace period were cut off"
        );
        Err(format!("shut down with requests still running after {}s", grace.as_secs()))
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A password from the named environment variable, or from standard input when asked.
pub(crate) fn read_password(env_var: &str, from_stdin: bool) -> Result<Password, String> {
    let raw = if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        std::env::var(env_var).map_err(|_| format!("set {env_var} or pass --password-stdin"))?
    };
    Password::new_password(&raw).map_err(|key| {
        format!("the password is not acceptable: {}", crate::i18n::t(crate::i18n::Locale::En, key))
    })
}
