//! Domain types (parsed once at the edge) and the SQL that acts on them.

pub mod auth;
pub mod catalog;
pub mod csv_io;
pub mod customers;
pub mod dashboard;
pub mod images;
pub mod member;
pub mod money;
pub mod quotes;
pub mod sales;
pub mod shop;
pub mod stock;
pub mod text;
