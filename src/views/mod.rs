//! maud views. Each takes display-ready data and a `Page` (language, CSRF token, who is signed
//! in); every page goes through `layout::page`.

pub mod admin;
pub mod admin_view;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod chart;
pub mod customers;
pub mod dashboard;
pub mod errors;
pub mod imports;
pub mod invitations;
pub mod layout;
pub mod members;
pub mod money;
pub mod password;
pub mod purchases;
pub mod quotes;
pub mod reports;
pub mod sales;
pub mod settings;
pub mod shops;
pub mod stock;
pub mod suppliers;

pub use layout::Page;
