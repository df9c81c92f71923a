//! Logging: human-readable by default, JSON when STOCK_LOG_FORMAT=json (one object per line,
//! event fields at the top level); level from RUST_LOG. Every request writes one line (message
//! "request", see `http::finish`) with its request id, route pattern, method, status, latency and
//! the user and shop it ran as. Nothing logs cookies, passwords, tokens, query strings or bodies.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,refinery_core=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // a second init (tests) is harmless
    let _ = if json {
        builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
}
