//! Suppliers and purchase invoices of the demo shop: four suppliers and eight invoices (paid,
//! partly paid, one overdue, one due in a few days, one still a draft) and a credit note, recorded
//! through the same tables and triggers as the pages use, as the owner. Only when the shop has no
//! suppliers yet, so running `stock demo` again changes nothing.

use rust_decimal::Decimal;
use tokio_postgres::Transaction;

/// (name, tax id, phone, email)
const SUPPLIERS: &[(&str, &str, &str, &str)] = &[
    ("Distribuidora Yerbatera del Litoral", "30-71111111-1", "0376 442-1100", "ventas@yerbatera.example"),
    ("Lácteos La Pradera S.A.", "30-72222222-2", "02345 43-2200", "pedidos@lapradera.example"),
    ("Mayorista Central", "30-73333333-3", "11 4300-3300", "compras@mayoristacentral.example"),
    ("Limpieza Total S.R.L.", "30-74444444-4", "11 4700-4400", ""),
];

/// How an invoice ends up.
#[derive(Clone, Copy)]
enum Pay {
    Draft,
    Unpaid,
    /// Paid in full, by this method.
    Full(&'static str),
    /// This much paid, by this method.
    Part(&'static str, &'static str),
}

/// (supplier index, number, invoice date in days ago, due date in days from today,
/// lines (sku, quantity, unit cost), payment)
type DemoInvoice =
    (usize, &'static str, i32, i32, &'static [(&'static str, &'static str, &'static str)], Pay);

const INVOICES: &[DemoInvoice] = &[
    (
        0,
        "A-0001-00001201",
        40,
        -10,
        &[("YER-001", "12", "3050"), ("YER-002", "12", "1580")],
        Pay::Full("transfer"),
    ),
    // overdue
    (0, "A-0001-00001245", 20, -5, &[("YER-001", "6", "3150")], Pay::Unpaid),
    // due in three days, partly paid (and corrected by a credit note below)
    (
        1,
        "B-0003-00045678",
        12,
        3,
        &[("LEC-001", "24", "960"), ("YOG-001", "12", "1260"), ("MAN-001", "10", "1510")],
        Pay::Part("cash", "15000"),
    ),
    (1, "B-0003-00045990", 5, 25, &[("QUE-001", "3.5", "6400")], Pay::Unpaid),
    (
        2,
        "A-0002-00000877",
        30,
        0,
        &[("AZU-001", "20", "990"), ("ARR-001", "10", "1420"), ("FID-001", "20", "830")],
        Pay::Full("card"),
    ),
    (
        2,
        "A-0002-00000901",
        8,
        6,
        &[("ACE-001", "12", "2980"), ("HAR-001", "20", "710")],
        Pay::Part("transfer", "25000"),
    ),
    (3, "C-0001-00000333", 15, 15, &[("LAV-001", "12", "630"), ("DET-001", "12", "1120")], Pay::Full("cash")),
    (3, "C-0001-00000350", 0, 30, &[("PAP-001", "16", "1680")], Pay::Draft),
];

/// Seeds the demo shop's purchases; the error names the database's complaint.
pub async fn seed(tx: &Transaction<'_>, tenant_id: i64) -> Result<(), String> {
    seed_purchases(tx, tenant_id).await.map_err(|e| format!("demo purchases: {}", crate::db::describe(&e)))
}

async fn seed_purchases(tx: &Transaction<'_>, tenant_id: i64) -> Result<(), tokio_postgres::Error> {
    let q = crate::db::roles::quote_ident(&format!("tenant_{tenant_id}"));
    let count: i64 = tx.query_one(&format!("select count(*) from {q}.suppliers"), &[]).await?.get(0);
    if count > 0 {
        return Ok(());
    }
    let owner: i64 =
        tx.query_one("select id from app.users where email = 'owner@demo.test'", &[]).await?.get(0);
    tx.execute(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&tenant_id.to_string(), &owner.to_string()],
    )
    .await?;
    let mut suppliers = Vec::new();
    for (name, tax_id, phone, email) in SUPPLIERS {
        let id: i64 = tx
            .query_one(
                &format!("insert into {q}.suppliers (name, tax_id, phone, email) values ($1, $2, $3, $4) returning id"),
                &[name, tax_id, phone, email],
            )
            .await?
            .get(0);
        suppliers.push(id);
    }
    let mut ids = Vec::new();
    for (supplier, number, days_ago, due_in, lines, pay) in INVOICES {
        let id: i64 = tx
            .query_one(
                &format!(
                    "insert into {q}.purchase_invoices (supplier_id, number, invoice_date, due_date)
                     values ($1, $2, current_date - $3::int, current_date + $4::int) returning id"
                ),
                &[&suppliers[*supplier], number, days_ago, due_in],
            )
            .await?
            .get(0);
        for (sku, qty, cost) in lines.iter() {
            tx.execute(
                &format!(
                    "insert into {q}.purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
                     select $1, id, $3::text::numeric, $4::text::numeric from {q}.products where sku = $2"
                ),
                &[&id, sku, qty, cost],
            )
            .await?;
        }
        ids.push(id);
        if matches!(pay, Pay::Draft) {
            continue;
        }
        tx.execute(&format!("update {q}.purchase_invoices set status = 'received' where id = $1"), &[&id])
            .await?;
        let payment = match pay {
            Pay::Full(method) => {
                let total: Decimal = tx
                    .query_one(&format!("select total from {q}.purchase_invoices where id = $1"), &[&id])
                    .await?
                    .get(0);
                Some((*method, total))
            }
            Pay::Part(method, amount) => Some((*method, amount.parse::<Decimal>().unwrap_or(Decimal::ONE))),
            Pay::Draft | Pay::Unpaid => None,
        };
        if let Some((method, amount)) = payment {
            tx.execute(
                &format!(
                    "insert into {q}.purchase_payments (invoice_id, method, amount) values ($1, $2, $3)"
                ),
                &[&id, &method, &amount],
            )
            .await?;
        }
    }
    // two yogurts came broken: a credit note against the dairy's partly paid invoice
    let corrected = ids[2];
    let note: i64 = tx
        .query_one(
            &format!(
                "insert into {q}.purchase_invoices (supplier_id, kind, corrects_id, number, invoice_date, note)
                 select supplier_id, 'correction', id, 'NC-0003-00000412', current_date - 10, 'Dos yogures rotos'
                   from {q}.purchase_invoices where id = $1 returning id"
            ),
            &[&corrected],
        )
        .await?
        .get(0);
    tx.execute(
        &format!(
            "insert into {q}.purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
             select $1, id, -2, 1260 from {q}.products where sku = 'YOG-001'"
        ),
        &[&note],
    )
    .await?;
    tx.execute(&format!("update {q}.purchase_invoices set status = 'received' where id = $1"), &[&note])
        .await?;
    Ok(())
}
