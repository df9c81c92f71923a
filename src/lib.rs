//! Stock: a multi-tenant stock and sales service. The library holds everything so the binary,
//! the CLI and the tests share one code path.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod i18n;
pub mod mail;
pub mod ops;
pub mod routes;
pub mod telemetry;
pub mod views;
