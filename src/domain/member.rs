//! Shop roles and what each may do: the permission table of docs/PERMISSIONS.md in code. The
//! database enforces the same table with grants and policies; this copy only decides what the
//! menu shows and which pages say "not for your role" before asking the database.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Staff,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }

    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match p {
            ViewCatalog | RegisterSales | CreateQuotes => true,
            ManageCatalog | VoidSales | ViewMoney | ManagePurchasing | ConvertQuotes | ViewAudit => {
                matches!(self, Role::Owner | Role::Admin)
            }
            ManageMembers | ChangeSettings => self == Role::Owner,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown role {0:?}: expected owner, admin or staff")]
pub struct UnknownRole(pub String);

impl TryFrom<&str> for Role {
    type Error = UnknownRole;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "staff" => Ok(Role::Staff),
            _ => Err(UnknownRole(s.to_string())),
        }
    }
}

/// One row of the permission table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    ManageMembers,
    ManageCatalog,
    ViewCatalog,
    RegisterSales,
    VoidSales,
    ViewMoney,
    ManagePurchasing,
    CreateQuotes,
    ConvertQuotes,
    ViewAudit,
    ChangeSettings,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::ManageMembers,
        Permission::ManageCatalog,
        Permission::ViewCatalog,
        Permission::RegisterSales,
        Permission::VoidSales,
        Permission::ViewMoney,
        Permission::ManagePurchasing,
        Permission::CreateQuotes,
        Permission::ConvertQuotes,
        Permission::ViewAudit,
        Permission::ChangeSettings,
    ];

    /// The row's wording in docs/PERMISSIONS.md.
    pub fn action(self) -> &'static str {
        match self {
            Permission::ManageMembers => "invite users, change roles, remove members",
            Permission::ManageCatalog => "manage products, categories, stock adjustments",
            Permission::ViewCatalog => "view catalog and stock",
            Permission::RegisterSales => "register sales",
            Permission::VoidSales => "void a sale / record a return",
            Permission::ViewMoney => "view balance, money ledger, reports",
            Permission::ManagePurchasing => "manage suppliers and purchase invoices",
            Permission::CreateQuotes => "create quotes",
            Permission::ConvertQuotes => "convert quotes into sales",
            Permission::ViewAudit => "view the audit log",
            Permission::ChangeSettings => "change shop settings",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_and_refuses_others() {
        assert_eq!(Role::try_from("Admin"), Ok(Role::Admin));
        assert!(Role::try_from("superuser").is_err());
        assert!(Role::try_from("").is_err());
    }

    /// The code's table must be the docs' table, row by row.
    #[test]
    fn matches_the_documented_permission_table() {
        let doc = include_str!("../../docs/PERMISSIONS.md");
        for p in Permission::ALL {
            let row = doc
                .lines()
                .find(|l| l.starts_with('|') && l.split('|').nth(1).map(str::trim) == Some(p.action()))
                .unwrap_or_else(|| panic!("no row for {:?} in docs/PERMISSIONS.md", p));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            for (i, role) in Role::ALL.iter().enumerate() {
                let documented = cells[2 + i] == "✓";
                assert_eq!(role.can(p), documented, "{role} / {}", p.action());
            }
        }
    }
}
