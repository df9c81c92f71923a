//! The dashboard: today's money (owner/admin only), active products, the products furthest below
//! their minimum stock, the latest sales. "Today" is the shop's day in its time zone at the
//! instant `now` the caller passes in (the route passes the clock; tests pass fixed instants).
//!
//! The page is the service's busiest: everything comes from ONE statement (one round trip, a
//! cached prepared statement), and roles that may not see money run a variant that never touches
//! the money ledger and returns no sale totals.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::db::tx::Tx;
use crate::domain::purchases::DueInvoice;
use crate::error::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Money {
    pub income: Decimal,
    pub expenses: Decimal,
}

impl Money {
    pub fn balance(&self) -> Decimal {
        self.income - self.expenses
    }
}

#[derive(Clone, Debug)]
pub struct Low {
    pub id: i64,
    pub name: String,
    pub stock: Decimal,
    pub min_stock: Decimal,
    pub unit: String,
}

#[derive(Clone, Debug)]
pub struct Latest {
    pub id: i64,
    pub at: NaiveDateTime,
    pub customer: String,
    /// None for roles that may not see money.
    pub total: Option<Decimal>,
    pub voided: bool,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    /// None for roles that may not see money.
    pub today: Option<Money>,
    pub active_products: i64,
    pub low: Vec<Low>,
    pub latest: Vec<Latest>,
    /// Received invoices due within a week or overdue (None for roles that may not see them).
    pub due: Option<Vec<DueInvoice>>,
}

/// The parts every role sees: 1 = active products (the per-shop counter kept by trigger, see
/// sql/app/V21), 2 = furthest below minimum (the partial index on `low_stock_gap`, which is
/// `stock - min_stock` at or below the minimum and null above it, sql/tenant/V14, reads at most
/// ten entries), 3 = latest sales. Columns: part, id, name, a, b, unit, at, voided. `$total` is
/// the sale total or null.
macro_rules! common_parts {
    ($total:literal) => {
        concat!(
            "
     union all
     select 1, active_products, null, null, null, null, null, null from shop_counters
     union all
     (select 2, p.id, p.name, p.stock, p.min_stock, u.code, null, null
        from products p join units u on u.id = p.unit_id
       where p.active and p.track_stock and p.low_stock_gap is not null
       order by p.low_stock_gap, p.id limit 10)
     union all
     (select 3, s.id, c.name, ",
            $total,
            ", null, null, s.created_at at time zone st.tz, s.status = 'voided'
        from sales s join customers c on c.id = s.customer_id cross join st
       order by s.id desc limit 10)"
        )
    };
}

/// Owner and admin: part 4 is the received invoices not fully paid that are due within a week of
/// the shop's today or overdue, soonest first (the partial index `purchase_invoices_due_idx`);
/// part 0 is today's income and expenses — the ledger between the shop's two
/// local midnights around `$1` (a day of 23 or 25 hours on a daylight-saving change). The bounds
/// are scalar subqueries, computed once (initPlans), so the `at` index finds today's rows.
const WITH_MONEY: &str = concat!(
    "with st as (select time_zone as tz from settings)
     select 0 as part, null::bigint as id, null::text as name,
            coalesce(sum(m.amount) filter (where m.kind in (",
    crate::income_kinds!(),
    ")), 0) as a,
            coalesce(-sum(m.amount) filter (where m.kind in (",
    crate::expense_kinds!(),
    ")), 0) as b,
            null::text as unit, null::timestamp as at, null::boolean as voided
       from money_ledger m
      where m.at >= (select (($1::timestamptz at time zone tz)::date)::timestamp at time zone tz from st)
        and m.at < (select (($1::timestamptz at time zone tz)::date + 1)::timestamp at time zone tz from st)",
    common_parts!("s.total"),
    "
     union all
     (select 4, i.id, s.name, i.total + i.credited - i.paid, i.supplier_id::numeric, i.number,
             i.due_date::timestamp,
             i.due_date < (select ($1::timestamptz at time zone tz)::date from st)
        from purchase_invoices i join suppliers s on s.id = i.supplier_id
       where i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
         and i.due_date <= (select ($1::timestamptz at time zone tz)::date + 7 from st)
       order by i.due_date, i.id limit 10)"
);

/// Staff: the same without money (the statement never reads money_ledger; no sale totals).
const WITHOUT_MONEY: &str = concat!(
    "with st as (select time_zone as tz from settings)
     select -1 as part, null::bigint as id, null::text as name, null::numeric as a, null::numeric as b,
            null::text as unit, null::timestamp as at, null::boolean as voided
      where $1::timestamptz is null",
    common_parts!("null")
);

/// The dashboard SQL for a role (`with_money`: owner and admin); the benchmark runs the same text.
pub fn statement(with_money: bool) -> &'static str {
    if with_money {
        WITH_MONEY
    } else {
        WITHOUT_MONEY
    }
}

/// Everything the dashboard shows, in one round trip, for the shop in context (`tenant_id`, the
/// same shop: it only names the cached statement, see `crate::db::tx::prepare_for_shop`).
pub async fn load(
    tx: &Tx<'_>,
    tenant_id: i64,
    with_money: bool,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    let stmt = crate::db::tx::prepare_for_shop(tx, tenant_id, statement(with_money)).await?;
    let rows = tx.query(&stmt, &[&now]).await?;
    Ok(from_rows(&rows, with_money))
}

/// The dashboard from the rows of `statement(with_money)` (run by `load`, or by the route in the
/// same flush as the session statement).
pub fn from_rows(rows: &[tokio_postgres::Row], with_money: bool) -> Dashboard {
    let mut d = Dashboard {
        today: None,
        active_products: 0,
        low: Vec::new(),
        latest: Vec::new(),
        due: with_money.then(Vec::new),
    };
    for r in rows {
        match r.get::<_, i32>(0) {
            0 => d.today = Some(Money { income: r.get(3), expenses: r.get(4) }),
            1 => d.active_products = r.get(1),
            2 => d.low.push(Low {
                id: r.get(1),
                name: r.get(2),
                stock: r.get(3),
                min_stock: r.get(4),
                unit: r.get(5),
            }),
            3 => d.latest.push(Latest {
                id: r.get(1),
                at: r.get(6),
                customer: r.get(2),
                total: if with_money { r.get(3) } else { None },
                voided: r.get(7),
            }),
            4 => {
                if let Some(due) = d.due.as_mut() {
                    let supplier: Decimal = r.get(4);
                    let at: NaiveDateTime = r.get(6);
                    due.push(DueInvoice {
                        id: r.get(1),
                        supplier_id: supplier.to_i64().unwrap_or_default(),
                        supplier: r.get(2),
                        number: r.get(5),
                        due_date: at.date(),
                        due: r.get(3),
                        overdue: r.get(7),
                    })
                }
            }
            _ => {}
        }
    }
    // the union's branches keep their own order in practice; sort so that never matters
    d.low.sort_by_key(|x| (x.stock - x.min_stock, x.id));
    d.latest.sort_by_key(|x| std::cmp::Reverse(x.id));
    if let Some(due) = d.due.as_mut() {
        due.sort_by_key(|x| (x.due_date, x.id));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::statement;

    /// scripts/bench/dashboard.py runs these statements through pgbench as the database-only
    /// ceiling of GET /dashboard: the file must hold exactly what the app runs. Rewrite it with
    /// `STOCK_WRITE_BENCH_SQL=1 cargo test --lib dashboard`.
    #[test]
    fn the_benchmark_runs_the_statements_the_app_runs() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench/dashboard.query.sql");
        let want = format!(
            "-- GET /dashboard, owner and admin (src/domain/dashboard.rs, WITH_MONEY)\n{};\n\
             -- GET /dashboard, staff (WITHOUT_MONEY)\n{};\n",
            statement(true),
            statement(false)
        );
        if std::env::var_os("STOCK_WRITE_BENCH_SQL").is_some() {
            std::fs::write(path, &want).expect("write the bench's copy");
        }
        let got = std::fs::read_to_string(path).unwrap_or_default();
        assert!(got == want, "{path} differs from the app's statements: run STOCK_WRITE_BENCH_SQL=1 cargo test --lib dashboard");
    }
}
