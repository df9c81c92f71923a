//! `stock demo`: the demo shop a newcomer sees working at once. Safe to run again.

use crate::config::Config;
use crate::db::connect_admin;
use crate::domain::auth::{hash_password, Email, Password};
use crate::domain::member::Role;
use crate::domain::shop::{self, shop_name, TenantSlug};
use crate::domain::text::Name;

pub const DEMO_SLUG: &str = "demo";

pub async fn run(config: &Config) -> Result<(), String> {
    let raw = std::env::var("STOCK_DEMO_PASSWORD").unwrap_or_else(|_| "demo-password".into());
    let password = Password::new_password(&raw)
        .map_err(|_| "STOCK_DEMO_PASSWORD must be 8 to 200 characters".to_string())?;
    let mut client = connect_admin(config).await.map_err(|e| e.to_string())?;
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    let tenant_id = match shop::find_tenant(&tx, DEMO_SLUG).await.map_err(|e| e.to_string())? {
        Some((id, _)) => id,
        None => {
            let name = shop_name("Almacén Demo").map_err(|e| e.to_string())?;
            let slug = TenantSlug::try_from(DEMO_SLUG)?;
            shop::create_tenant(&tx, &name, Some(&slug)).await.map_err(|e| e.to_string())?.0
        }
    };
    let hash = hash_password(&password).await.map_err(|e| e.to_string())?;
    let people = [
        ("owner@demo.test", "Olga Dueña", Role::Owner),
        ("admin@demo.test", "Adrián Admin", Role::Admin),
        ("staff@demo.test", "Sofía Staff", Role::Staff),
    ];
    for (email, name, role) in people {
        let email = Email::try_from(email).map_err(|e| e.to_string())?;
        let name = Name::parse(name, 120).map_err(|e| e.to_string())?;
        tx.query_one(
            "select app_private.add_member($1, $2, $3, $4, $5)",
            &[&tenant_id, &email.as_str(), &name.as_str(), &hash, &role.as_str()],
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    println!("Demo shop ready (slug {DEMO_SLUG}). Log in with any of:");
    for (email, _, role) in people {
        println!("  {email:<18} {role:<6} password: {raw}");
    }
    Ok(())
}
