//! PostgreSQL role names of one install. They carry a prefix so several installs (and the test
//! suite) can share one cluster; the prefix is checked once, so names are safe to quote into SQL.

use crate::domain::member::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleNames {
    /// Owns every schema and table; migrations run as it. Never used by the web app.
    pub schema_owner: String,
    /// The web app's login: NOSUPERUSER NOBYPASSRLS NOINHERIT, owns nothing.
    pub app: String,
    pub owner: String,
    pub admin: String,
    pub staff: String,
    /// Signed-out requests (login, sign-up).
    pub anon: String,
    /// The operator's super-admin panel (an admin session resolved); never a shop role.
    pub superadmin: String,
    /// "View as" a shop for support: SELECT only, in READ ONLY transactions.
    pub support: String,
}

pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "role prefix {prefix:?} must be 1-40 characters of a-z, 0-9 and _, starting with a letter"
        ))
    }
}

impl RoleNames {
    pub fn new(prefix: &str) -> Result<Self, String> {
        check_prefix(prefix)?;
        Ok(RoleNames {
            schema_owner: format!("{prefix}_schema_owner"),
            app: format!("{prefix}_app"),
            owner: format!("{prefix}_shop_owner"),
            admin: format!("{prefix}_shop_admin"),
            staff: format!("{prefix}_shop_staff"),
            anon: format!("{prefix}_anon"),
            superadmin: format!("{prefix}_superadmin"),
            support: format!("{prefix}_support"),
        })
    }

    pub fn for_member(&self, role: Role) -> &str {
        match role {
            Role::Owner => &self.owner,
            Role::Admin => &self.admin,
            Role::Staff => &self.staff,
        }
    }

    /// `(config key, role name)` pairs stored in app_private.config for policy rendering.
    pub fn config_entries(&self) -> [(&'static str, &str); 8] {
        [
            ("role_schema_owner", &self.schema_owner),
            ("role_app", &self.app),
            ("role_owner", &self.owner),
            ("role_admin", &self.admin),
            ("role_staff", &self.staff),
            ("role_anon", &self.anon),
            ("role_superadmin", &self.superadmin),
            ("role_support", &self.support),
        ]
    }
}

/// Double-quotes an identifier (only ever used on checked names).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_checked() {
        assert!(RoleNames::new("stock").is_ok());
        assert!(RoleNames::new("stock_test2").is_ok());
        for bad in ["", "Stock", "1abc", "a-b", "a;drop", "a\"b"] {
            assert!(RoleNames::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
