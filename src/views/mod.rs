//! maud views. Each takes display-ready data and a `Page` (language, CSRF token, who is signed
//! in); every page goes through `layout::page`.

pub mod auth;
pub mod catalog;
pub mod chart;
pub mod customers;
pub mod dashboard;
pub mod errors;
pub mod imports;
pub mod layout;
pub mod money;
pub mod quotes;
pub mod sales;
pub mod shops;
pub mod stock;

pub use layout::Page;
