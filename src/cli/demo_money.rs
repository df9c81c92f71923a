//! `stock demo`, money part: four weeks of other income and expenses in the demo shop (rent,
//! utilities, wages, cleaning; a shop-window rental and a supplier refund as income), one mistaken
//! expense and its reversal. Only when the shop has no manual entries yet; written through the
//! ledger's own trigger, so every expense names one of the shop's categories.

use tokio_postgres::Transaction;

/// (days ago, hour, kind, method, amount, category, description)
type DemoEntry = (i32, i32, &'static str, &'static str, &'static str, &'static str, &'static str);

const ENTRIES: &[DemoEntry] = &[
    (27, 10, "other_expense", "transfer", "-350000.00", "Alquiler", "Alquiler del local"),
    (26, 18, "other_expense", "cash", "-8500.00", "Limpieza", "Artículos de limpieza"),
    (24, 11, "other_income", "transfer", "25000.00", "", "Alquiler de la vidriera"),
    (22, 9, "other_expense", "transfer", "-64300.50", "Servicios", "Luz (factura bimestral)"),
    (20, 17, "other_expense", "cash", "-12000.00", "Mantenimiento", "Arreglo de la heladera"),
    (19, 18, "other_expense", "cash", "-8200.00", "Limpieza", "Artículos de limpieza"),
    (17, 12, "other_income", "cash", "4800.00", "", "Reintegro de proveedor por faltante"),
    (15, 19, "other_expense", "transfer", "-420000.00", "Sueldos", "Sueldo quincenal"),
    (14, 10, "other_expense", "card", "-21999.90", "Servicios", "Internet y teléfono"),
    (12, 18, "other_expense", "cash", "-9100.00", "Limpieza", "Artículos de limpieza"),
    (10, 11, "other_income", "transfer", "25000.00", "", "Alquiler de la vidriera"),
    (8, 9, "other_expense", "transfer", "-38750.00", "Impuestos", "Ingresos brutos"),
    (5, 18, "other_expense", "cash", "-8700.00", "Limpieza", "Artículos de limpieza"),
    (3, 16, "other_expense", "cash", "-15000.00", "Otros gastos", "Fletes"),
    (1, 19, "other_expense", "transfer", "-420000.00", "Sueldos", "Sueldo quincenal"),
    (0, 9, "other_expense", "cash", "-3500.00", "Otros gastos", "Café y azúcar para el local"),
];

/// Seeds the demo shop's manual money entries (the caller's transaction already carries the
/// shop's `app.tenant_id`).
pub async fn seed(tx: &Transaction<'_>, tenant_id: i64) -> Result<(), tokio_postgres::Error> {
    let q = crate::db::roles::quote_ident(&format!("tenant_{tenant_id}"));
    tx.execute("select set_config('app.tenant_id', $1, true)", &[&tenant_id.to_string()]).await?;
    let manual: i64 = tx
        .query_one(
            &format!("select count(*) from {q}.money_ledger where kind in ('other_income', 'other_expense')"),
            &[],
        )
        .await?
        .get(0);
    if manual > 0 {
        return Ok(());
    }
    let owner: i64 =
        tx.query_one("select id from app.users where email = 'owner@demo.test'", &[]).await?.get(0);
    let insert = format!(
        "insert into {q}.money_ledger (at, kind, method, amount, category, description, user_id)
         values (date_trunc('day', now()) - make_interval(days => $1) + make_interval(hours => $2),
                 $3, $4, $5::text::numeric, $6, $7, $8)
         returning id"
    );
    for (days_ago, hour, kind, method, amount, category, description) in ENTRIES {
        tx.query_one(&insert, &[days_ago, hour, kind, method, amount, category, description, &owner]).await?;
    }
    // a freight booked twice by mistake, and its reversal (the trigger books the opposite)
    let twice: i64 = tx
        .query_one(
            &insert,
            &[
                &3,
                &16,
                &"other_expense",
                &"cash",
                &"-15000.00",
                &"Otros gastos",
                &"Fletes (cargado dos veces)",
                &owner,
            ],
        )
        .await?
        .get(0);
    tx.execute(
        &format!(
            "insert into {q}.money_ledger (at, kind, method, amount, reverses_id, description, user_id)
             values (date_trunc('day', now()) - interval '3 days' + interval '17 hours',
                     'other_expense', 'cash', 15000, $1, 'Cargado dos veces', $2)"
        ),
        &[&twice, &owner],
    )
    .await?;
    Ok(())
}
