//! The dashboard: today's money (owner/admin only), active products, what to reorder, the latest
//! sales. "Today" is the shop's day in its time zone.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;

use crate::db::tx::Tx;
use crate::error::AppError;

#[derive(Clone, Debug, Default)]
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
    pub total: Decimal,
    pub voided: bool,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    /// None for roles that may not see money.
    pub today: Option<Money>,
    pub active_products: i64,
    pub low: Vec<Low>,
    pub latest: Vec<Latest>,
}

/// Income counts sales (net of voids and returns), customer payments and other income; expenses
/// count invoice payments and other expenses, for the shop's current day.
const TODAY_MONEY: &str = "
    select coalesce(sum(amount) filter (where kind in ('sale', 'sale_void', 'sale_return', 'customer_payment', 'other_income')), 0),
           coalesce(-sum(amount) filter (where kind in ('invoice_payment', 'other_expense')), 0)
      from money_ledger
     where at >= (select date_trunc('day', now() at time zone time_zone) at time zone time_zone from settings)";

pub async fn load(tx: &Tx<'_>, with_money: bool) -> Result<Dashboard, AppError> {
    let today = if with_money {
        let r = tx.query_one(TODAY_MONEY, &[]).await?;
        Some(Money { income: r.get(0), expenses: r.get(1) })
    } else {
        None
    };
    let active_products: i64 = tx.query_one("select count(*) from products where active", &[]).await?.get(0);
    let low = tx
        .query(
            "select p.id, p.name, p.stock, p.min_stock, u.code from products p join units u on u.id = p.unit_id
              where p.active and p.track_stock and p.stock <= p.min_stock
              order by p.stock - p.min_stock, p.id limit 10",
            &[],
        )
        .await?
        .iter()
        .map(|r| Low { id: r.get(0), name: r.get(1), stock: r.get(2), min_stock: r.get(3), unit: r.get(4) })
        .collect();
    let latest = tx
        .query(
            "select s.id, s.created_at at time zone (select time_zone from settings), c.name, s.total, s.status = 'voided'
               from sales s join customers c on c.id = s.customer_id order by s.id desc limit 10",
            &[],
        )
        .await?
        .iter()
        .map(|r| Latest { id: r.get(0), at: r.get(1), customer: r.get(2), total: r.get(3), voided: r.get(4) })
        .collect();
    Ok(Dashboard { today, active_products, low, latest })
}
