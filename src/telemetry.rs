//! Logging: human-readable by default, JSON when STOCK_LOG_FORMAT=json; level from RUST_LOG.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,refinery_core=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // a second init (tests) is harmless
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
