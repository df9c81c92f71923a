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
    seed_catalog(&tx, tenant_id).await.map_err(|e| format!("demo catalog: {}", crate::db::describe(&e)))?;
    seed_sales(&tx, tenant_id).await.map_err(|e| format!("demo sales: {}", crate::db::describe(&e)))?;
    super::demo_purchases::seed(&tx, tenant_id).await?;
    super::demo_money::seed(&tx, tenant_id)
        .await
        .map_err(|e| format!("demo money: {}", crate::db::describe(&e)))?;
    tx.commit().await.map_err(|e| e.to_string())?;
    println!("Demo shop ready (slug {DEMO_SLUG}). Log in with any of:");
    for (email, _, role) in people {
        println!("  {email:<18} {role:<6} password: {raw}");
    }
    Ok(())
}

/// (category, sku, barcode, name, unit, price, cost, min stock, opening stock)
type DemoProduct = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PRODUCTS: &[DemoProduct] = &[
    (
        "Almacén",
        "YER-001",
        "7790387000018",
        "Yerba mate Playadito 1 kg",
        "u",
        "4250.00",
        "3100.00",
        "6",
        "24",
    ),
    (
        "Almacén",
        "YER-002",
        "7790387000025",
        "Yerba mate Rosamonte 500 g",
        "u",
        "2190.00",
        "1600.00",
        "6",
        "4",
    ),
    ("Almacén", "AZU-001", "7790150000017", "Azúcar Ledesma 1 kg", "u", "1350.00", "980.00", "10", "30"),
    (
        "Almacén",
        "ARR-001",
        "7790070000011",
        "Arroz largo fino Gallo 1 kg",
        "u",
        "1890.00",
        "1400.00",
        "8",
        "12",
    ),
    (
        "Almacén",
        "FID-001",
        "7790070000028",
        "Fideos tirabuzón Matarazzo 500 g",
        "u",
        "1150.00",
        "820.00",
        "10",
        "9",
    ),
    (
        "Almacén",
        "ACE-001",
        "7790060000014",
        "Aceite de girasol Natura 1,5 l",
        "u",
        "3890.00",
        "2950.00",
        "5",
        "14",
    ),
    ("Almacén", "HAR-001", "7790080000019", "Harina 000 Pureza 1 kg", "u", "990.00", "700.00", "10", "3"),
    ("Bebidas", "GAS-001", "7790895000010", "Gaseosa cola 2,25 l", "u", "2600.00", "1850.00", "12", "36"),
    ("Bebidas", "AGU-001", "7790895000027", "Agua mineral sin gas 2 l", "u", "1200.00", "780.00", "12", "20"),
    (
        "Bebidas",
        "CER-001",
        "7790400000013",
        "Cerveza rubia lata 473 ml",
        "u",
        "1450.00",
        "1000.00",
        "24",
        "48",
    ),
    ("Bebidas", "VIN-001", "7790400000020", "Vino tinto Malbec 750 ml", "u", "5200.00", "3700.00", "4", "10"),
    (
        "Lácteos",
        "LEC-001",
        "7790742000016",
        "Leche entera La Serenísima 1 l",
        "u",
        "1300.00",
        "950.00",
        "12",
        "18",
    ),
    (
        "Lácteos",
        "YOG-001",
        "7790742000023",
        "Yogur bebible frutilla 1 l",
        "u",
        "1750.00",
        "1250.00",
        "6",
        "5",
    ),
    ("Lácteos", "QUE-001", "", "Queso cremoso", "kg", "8900.00", "6300.00", "2", "4.350"),
    ("Lácteos", "MAN-001", "7790742000030", "Manteca 200 g", "u", "2100.00", "1500.00", "6", "8"),
    ("Fiambrería", "JAM-001", "", "Jamón cocido", "kg", "14500.00", "10200.00", "1", "2.200"),
    ("Fiambrería", "SAL-001", "", "Salame milán", "kg", "16800.00", "12000.00", "1", "0.800"),
    ("Limpieza", "LAV-001", "7791290000012", "Lavandina 1 l", "u", "950.00", "620.00", "6", "15"),
    ("Limpieza", "DET-001", "7791290000029", "Detergente limón 750 ml", "u", "1600.00", "1100.00", "6", "11"),
    ("Limpieza", "PAP-001", "7791290000036", "Papel higiénico x4", "u", "2300.00", "1650.00", "8", "7"),
    ("Kiosco", "ALF-001", "7790580000015", "Alfajor triple chocolate", "u", "900.00", "560.00", "20", "60"),
    ("Kiosco", "CHI-001", "7790580000022", "Chicles menta", "u", "450.00", "280.00", "20", "35"),
    ("Kiosco", "GAL-001", "7790580000039", "Galletitas de agua 300 g", "u", "1100.00", "780.00", "10", "16"),
    ("Verdulería", "PAP-100", "", "Papa", "kg", "900.00", "550.00", "10", "25.500"),
    ("Verdulería", "TOM-100", "", "Tomate redondo", "kg", "2200.00", "1500.00", "5", "6.250"),
    ("Verdulería", "BAN-100", "", "Banana", "kg", "1900.00", "1300.00", "5", "3.100"),
];

/// A realistic starter catalog for the demo shop (only when it has no products yet).
async fn seed_catalog(
    tx: &tokio_postgres::Transaction<'_>,
    tenant_id: i64,
) -> Result<(), tokio_postgres::Error> {
    let schema = format!("tenant_{tenant_id}");
    let q = crate::db::roles::quote_ident(&schema);
    tx.execute("select set_config('app.tenant_id', $1, true)", &[&tenant_id.to_string()]).await?;
    let count: i64 = tx.query_one(&format!("select count(*) from {q}.products"), &[]).await?.get(0);
    if count > 0 {
        return Ok(());
    }
    for (category, sku, barcode, name, unit, price, cost, min, opening) in PRODUCTS {
        tx.execute(
            &format!("insert into {q}.categories (name) values ($1) on conflict do nothing"),
            &[category],
        )
        .await?;
        let id: i64 = tx
            .query_one(
                &format!(
                    "insert into {q}.products (sku, barcode, name, category_id, unit_id, price, cost, min_stock)
                     select $1, nullif($2, ''), $3, c.id, u.id, $5::text::numeric, $6::text::numeric, $7::text::numeric
                       from {q}.categories c, {q}.units u where app.fold(c.name) = app.fold($8) and u.code = $4
                     returning id"
                ),
                &[sku, barcode, name, unit, price, cost, min, category],
            )
            .await?
            .get(0);
        tx.execute(
            &format!(
                "insert into {q}.stock_movements (product_id, kind, quantity, reason)
                 values ($1, 'opening', $2::text::numeric, 'Stock inicial')"
            ),
            &[&id, opening],
        )
        .await?;
    }
    tx.execute(
        &format!(
            "insert into {q}.missing_products (name, requests, note) values
             ('Pilas AA', 3, 'Piden de a 4'), ('Yerba con palo 2 kg', 2, ''), ('Leche deslactosada', 1, '')"
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// Customers and two weeks of counter sales for the demo shop (only when it has no sales yet).
/// Deterministic, and recorded through the same tables and triggers as real sales.
async fn seed_sales(
    tx: &tokio_postgres::Transaction<'_>,
    tenant_id: i64,
) -> Result<(), tokio_postgres::Error> {
    let q = crate::db::roles::quote_ident(&format!("tenant_{tenant_id}"));
    let count: i64 = tx.query_one(&format!("select count(*) from {q}.sales"), &[]).await?.get(0);
    if count > 0 {
        return Ok(());
    }
    let staff: i64 =
        tx.query_one("select id from app.users where email = 'staff@demo.test'", &[]).await?.get(0);
    tx.execute("select set_config('app.user_id', $1, true)", &[&staff.to_string()]).await?;
    let customers = [
        ("Marta Giménez", "27-28123456-4", "11 4567-8901"),
        ("Club Atlético Unión", "30-71234567-8", "11 4444-1212"),
        ("Jorge Pereyra", "", "11 5555-0101"),
    ];
    let mut customer_ids = Vec::new();
    for (name, tax, phone) in customers {
        let id: i64 = tx
            .query_one(
                &format!("insert into {q}.customers (name, tax_id, phone) values ($1, $2, $3) returning id"),
                &[&name, &tax, &phone],
            )
            .await?
            .get(0);
        customer_ids.push(id);
    }
    tx.execute(
        &format!(
            "insert into {q}.customer_ledger (customer_id, kind, amount, note) values ($1, 'opening', 12500, 'Saldo anterior')"
        ),
        &[&customer_ids[0]],
    )
    .await?;
    let products: Vec<(i64, String, rust_decimal::Decimal)> = tx
        .query(
            &format!(
                "select id, name, price from {q}.products where track_stock and stock >= 10 order by id"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut left: std::collections::HashMap<i64, rust_decimal::Decimal> = tx
        .query(&format!("select id, stock from {q}.products"), &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if products.is_empty() {
        return Ok(());
    }
    let final_consumer: i64 =
        tx.query_one(&format!("select id from {q}.customers where is_final_consumer"), &[]).await?.get(0);
    let mut seed: u64 = 42;
    let mut next = move |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for i in 0..40 {
        let days_ago: i32 = 14 - (i * 14 / 40);
        let hour = 9 + next(10) as i32;
        let mut lines: Vec<(i64, String, rust_decimal::Decimal)> = Vec::new();
        for _ in 0..(1 + next(3)) {
            let p = &products[next(products.len())];
            let stock = left.entry(p.0).or_default();
            if !lines.iter().any(|l| l.0 == p.0) && *stock >= rust_decimal::Decimal::ONE {
                *stock -= rust_decimal::Decimal::ONE;
                lines.push(p.clone());
            }
        }
        if lines.is_empty() {
            continue;
        }
        lines.sort_by_key(|l| l.0);
        let total: rust_decimal::Decimal = lines.iter().map(|l| l.2).sum();
        let on_account = i == 37;
        let customer = if on_account { customer_ids[1] } else { final_consumer };
        let sale: i64 = tx
            .query_one(
                &format!(
                    "insert into {q}.sales (idempotency_key, customer_id, user_id, total, tendered, change, created_at)
                     values (gen_random_uuid(), $1, $2, $3, $3, 0,
                             date_trunc('day', now()) - make_interval(days => $4) + make_interval(hours => $5))
                     returning id"
                ),
                &[&customer, &staff, &total, &days_ago, &hour],
            )
            .await?
            .get(0);
        for (pos, (pid, name, price)) in lines.iter().enumerate() {
            tx.execute(
                &format!(
                    "insert into {q}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                     values ($1, $2, $3, $4, 1, $5, 0, $5)"
                ),
                &[&sale, &((pos + 1) as i32), pid, name, price],
            )
            .await?;
        }
        let method = if on_account {
            "account"
        } else if next(3) == 0 {
            "card"
        } else {
            "cash"
        };
        tx.execute(
            &format!("insert into {q}.sale_payments (sale_id, method, amount) values ($1, $2, $3)"),
            &[&sale, &method, &total],
        )
        .await?;
    }
    Ok(())
}
