//! Domain types (parsed once at the edge) and the SQL that acts on them.

pub mod auth;
pub mod member;
pub mod shop;
pub mod text;
