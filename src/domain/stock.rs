//! The stock ledger: movement history, adjustments, stocktake, and the missing-products list.
//! Every change is an inserted movement; the database trigger locks the product, applies the
//! quantity and refuses to go below zero unless the shop allows it.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use super::catalog::WriteError;
use super::money::Quantity;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};

#[derive(Clone, Debug)]
pub struct Movement {
    pub id: i64,
    /// In the shop's time zone.
    pub at: NaiveDateTime,
    pub kind: String,
    pub quantity: Decimal,
    pub stock_after: Decimal,
    pub reason: String,
    pub user_name: Option<String>,
}

/// The newest movements of a product (who, when, why).
pub async fn movements(tx: &Tx<'_>, product_id: i64, limit: i64) -> Result<Vec<Movement>, AppError> {
    let rows = tx
        .query(
            "select m.id, m.at at time zone (select time_zone from settings), m.kind, m.quantity, m.stock_after, m.reason, u.display_name
               from stock_movements m left join app.users u on u.id = m.user_id
              where m.product_id = $1 order by m.id desc limit $2",
            &[&product_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Movement {
            id: r.get(0),
            at: r.get(1),
            kind: r.get(2),
            quantity: r.get(3),
            stock_after: r.get(4),
            reason: r.get(5),
            user_name: r.get(6),
        })
        .collect())
}

/// Why a movement was refused.
#[derive(Debug)]
pub enum StockRefusal {
    /// It would take stock below zero; the stock available now.
    WouldGoNegative {
        available: Decimal,
    },
    Untracked,
}

fn refusal(e: &tokio_postgres::Error) -> Option<StockRefusal> {
    match violated_constraint(e) {
        Some("stock_not_negative") => {
            let available =
                e.as_db_error().and_then(|d| d.detail()).and_then(|d| d.parse().ok()).unwrap_or_default();
            Some(StockRefusal::WouldGoNegative { available })
        }
        Some("stock_movements_untracked") => Some(StockRefusal::Untracked),
        _ => None,
    }
}

pub fn reason(raw: &str) -> Result<String, &'static str> {
    let r = raw.trim();
    if r.is_empty() {
        Err("error.reason_required")
    } else if r.chars().count() > 500 {
        Err("error.too_long")
    } else {
        Ok(r.to_string())
    }
}

/// Posts an adjustment (positive or negative) with its reason; returns the new stock.
pub async fn adjust(
    tx: &Tx<'_>,
    product_id: i64,
    quantity: Quantity,
    reason: &str,
) -> Result<Result<Decimal, StockRefusal>, AppError> {
    if quantity.value().is_zero() {
        return Ok(Ok(Decimal::ZERO));
    }
    let r = tx
        .query_one(
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'adjustment', $2, $3)
             returning stock_after",
            &[&product_id, &quantity.value(), &reason],
        )
        .await;
    match r {
        Ok(row) => Ok(Ok(row.get(0))),
        Err(e) => match refusal(&e) {
            Some(refused) => Ok(Err(refused)),
            None => Err(e.into()),
        },
    }
}

/// Posts a stocktake: for each (product, counted) the difference from the stock at this moment
/// becomes a `stocktake` movement (computed under the row lock, so a sale in between is kept).
/// Returns how many products changed.
pub async fn post_stocktake(
    tx: &Tx<'_>,
    counts: &[(i64, Quantity)],
    reason: &str,
) -> Result<usize, AppError> {
    let stmt = tx
        .prepare(
            "insert into stock_movements (product_id, kind, quantity, counted, reason)
             values ($1, 'stocktake', 1, $2, $3) returning id",
        )
        .await?;
    let mut changed = 0;
    for (product_id, counted) in counts {
        // the trigger replaces the placeholder quantity by counted - stock, or skips the row
        let rows = tx.query(&stmt, &[product_id, &counted.value(), &reason]).await?;
        changed += rows.len();
    }
    Ok(changed)
}

#[derive(Clone, Debug)]
pub struct Missing {
    pub id: i64,
    pub name: String,
    pub requests: i32,
    pub note: String,
    pub last_requested_at: DateTime<Utc>,
}

pub async fn missing_products(tx: &Tx<'_>) -> Result<Vec<Missing>, AppError> {
    let rows = tx
        .query(
            "select id, name, requests, note, last_requested_at from missing_products
              order by requests desc, last_requested_at desc limit 500",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Missing {
            id: r.get(0),
            name: r.get(1),
            requests: r.get(2),
            note: r.get(3),
            last_requested_at: r.get(4),
        })
        .collect())
}

/// Notes a request for something the shop does not carry; the same name (ignoring case and
/// accents) counts up instead of adding a row.
pub async fn note_missing(tx: &Tx<'_>, name: &Name, note: &str, user_id: i64) -> Result<i32, WriteError> {
    let row = tx
        .query_one(
            "insert into missing_products as m (name, note, created_by) values ($1, $2, $3)
             on conflict (app.fold(name)) do update
                set requests = m.requests + 1, last_requested_at = now(),
                    note = case when excluded.note = '' then m.note else excluded.note end
             returning requests",
            &[&name.as_str(), &note, &user_id],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn remove_missing(tx: &Tx<'_>, id: i64) -> Result<bool, AppError> {
    Ok(tx.execute("delete from missing_products where id = $1", &[&id]).await? == 1)
}
