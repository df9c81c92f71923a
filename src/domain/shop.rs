//! Shops (tenants): names, slugs, creation from the CLI, the shops a person belongs to.

use tokio_postgres::GenericClient;

use super::member::Role;
use super::text::Name;
use crate::db::tx::Tx;
use crate::db::DbError;

pub const SHOP_NAME_MAX: usize = 120;

pub fn shop_name(raw: &str) -> Result<Name, &'static str> {
    Name::parse(raw, SHOP_NAME_MAX)
}

/// A URL- and CLI-friendly shop handle: 3-40 of a-z, 0-9 and '-', not starting or ending in '-'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The base a new shop's slug is derived from (the database appends -2, -3… when taken).
    pub fn base_from_name(name: &str) -> String {
        let mut out = String::new();
        for c in name.chars() {
            let c = fold_accent(c).to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out: String = out.trim_matches('-').chars().take(34).collect();
        out.trim_end_matches('-').to_string()
    }
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'Á' | 'À' | 'Ä' | 'Â' => 'a',
        'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ò' | 'Ö' | 'Ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        other => other,
    }
}

impl TryFrom<&str> for TenantSlug {
    type Error = String;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        let ok = (3..=40).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(TenantSlug(s.to_string()))
        } else {
            Err(format!("shop slug {s:?} must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'"))
        }
    }
}

#[derive(Clone, Debug)]
pub struct MyShop {
    pub tenant_id: i64,
    pub name: String,
    pub slug: String,
    pub active: bool,
    pub role: Role,
}

/// The shops the session's person belongs to.
pub async fn my_shops(tx: &Tx<'_>, token_hash: &[u8]) -> Result<Vec<MyShop>, DbError> {
    let rows = tx
        .query(
            "select tenant_id, name, slug, status, member_role from app_private.my_shops($1)",
            &[&token_hash],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.get(4);
            Ok(MyShop {
                tenant_id: r.get(0),
                name: r.get(1),
                slug: r.get(2),
                active: r.get::<_, String>(3) == "active",
                role: Role::try_from(role.as_str()).map_err(|e| DbError::Other(e.to_string()))?,
            })
        })
        .collect()
}

/// Moves the session to another of the person's shops; false when they are not a member.
pub async fn switch_shop(tx: &Tx<'_>, token_hash: &[u8], tenant_id: i64) -> Result<bool, DbError> {
    Ok(tx.query_one("select app_private.switch_shop($1, $2)", &[&token_hash, &tenant_id]).await?.get(0))
}

/// A signed-in person opens another shop of which they are the owner.
pub async fn open_another_shop(tx: &Tx<'_>, token_hash: &[u8], name: &Name) -> Result<i64, DbError> {
    let base = TenantSlug::base_from_name(name.as_str());
    Ok(tx
        .query_one(
            "select app_private.create_shop_for_session($1, $2, $3)",
            &[&token_hash, &name.as_str(), &base],
        )
        .await?
        .get(0))
}

#[derive(Clone, Debug)]
pub struct ShopRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub schema_name: String,
    pub status: String,
    pub schema_version: i32,
    pub members: i64,
}

/// Operators: create a shop (no members yet).
pub async fn create_tenant(
    client: &impl GenericClient,
    name: &Name,
    slug: Option<&TenantSlug>,
) -> Result<(i64, String), DbError> {
    let id: i64 = client
        .query_one(
            "select app_private.create_tenant($1, coalesce($2, app_private.unique_slug($3)))",
            &[&name.as_str(), &slug.map(TenantSlug::as_str), &TenantSlug::base_from_name(name.as_str())],
        )
        .await?
        .get(0);
    let slug: String = client.query_one("select slug from app.tenants where id = $1", &[&id]).await?.get(0);
    Ok((id, slug))
}

/// Operators: every shop with its member count (spare shops are nobody's shop yet: not listed).
pub async fn list_tenants(client: &impl GenericClient) -> Result<Vec<ShopRow>, DbError> {
    let rows = client
        .query(
            "select t.id, t.slug, t.name, t.schema_name, t.status, t.schema_version,
                    (select count(*) from app.memberships m where m.tenant_id = t.id)
               from app.tenants t where t.status <> 'spare' order by t.id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ShopRow {
            id: r.get(0),
            slug: r.get(1),
            name: r.get(2),
            schema_name: r.get(3),
            status: r.get(4),
            schema_version: r.get(5),
            members: r.get(6),
        })
        .collect())
}

/// Operators: a shop by slug or numeric id (never a spare).
pub async fn find_tenant(client: &impl GenericClient, key: &str) -> Result<Option<(i64, String)>, DbError> {
    let id: Option<i64> = key.parse().ok();
    let row = client
        .query_opt(
            "select id, slug from app.tenants where (slug = $1 or id = $2) and status <> 'spare'",
            &[&key, &id],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_base_folds_accents_and_punctuation() {
        assert_eq!(TenantSlug::base_from_name("Almacén Don Ñato!"), "almacen-don-nato");
        assert_eq!(TenantSlug::base_from_name("<script>"), "script");
        assert_eq!(TenantSlug::base_from_name("***"), "");
    }

    #[test]
    fn slugs_are_checked() {
        assert!(TenantSlug::try_from("demo").is_ok());
        for bad in ["de", "-demo", "demo-", "Demo", "de mo", "tenant;drop"] {
            assert!(TenantSlug::try_from(bad).is_err(), "{bad}");
        }
    }
}
