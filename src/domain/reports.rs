//! Reports for owner and admin: sales by day, week or month; best sellers; margin by product or
//! category; stock valuation at cost. Every query reads the shop's report views
//! (`report_sales`, `report_line_events`, `report_stock_valuation`, sql/tenant/V9), which only
//! owner and admin may read; days, weeks and months are cut in SQL at the shop's time zone.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use tokio_postgres::Row;

use super::catalog::{take, FieldErrors};
use crate::db::tx::Tx;
use crate::error::AppError;

/// Longest range any report covers (about ten years).
pub const MAX_RANGE_DAYS: i64 = 3660;
/// Longest range shown day by day (one row a day).
pub const MAX_DAILY_DAYS: i64 = 366;
pub const TOP_MAX: i64 = 100;
pub const TOP_DEFAULT: i64 = 10;
pub const PAGE_SIZE: i64 = 50;
/// A CSV export holds at most this many rows.
pub const CSV_MAX_ROWS: i64 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Sales,
    BestSellers,
    Margin,
    Valuation,
}

impl Report {
    pub fn slug(self) -> &'static str {
        match self {
            Report::Sales => "sales",
            Report::BestSellers => "best-sellers",
            Report::Margin => "margin",
            Report::Valuation => "stock-valuation",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Day,
    Week,
    Month,
}

impl Grouping {
    /// The `date_trunc` field; never user text.
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }
}

/// What best sellers are ranked by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    Quantity,
    Amount,
}

/// One row per product or per category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakdown {
    Product,
    Category,
}

/// Both ends included, as local dates of the shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The filters as typed (echoed back into the form).
#[derive(Clone, Debug, Default)]
pub struct RawFilters {
    pub from: String,
    pub to: String,
    pub group: String,
    pub by: String,
    pub top: String,
    pub category: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filters {
    pub range: Range,
    pub group: Grouping,
    pub rank: Rank,
    pub breakdown: Breakdown,
    pub top: i64,
    pub category: Option<i64>,
}

/// A date as the date input sends it (`2024-03-31`) or as people write it here (`31/03/2024`);
/// empty is `None`.
pub fn parse_date(raw: &str) -> Result<Option<NaiveDate>, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| "report.error_date")
}

fn choice<T: Copy>(
    raw: &str,
    default: T,
    options: &[(&str, T)],
    error: &'static str,
) -> Result<T, &'static str> {
    match raw.trim() {
        "" => Ok(default),
        s => options.iter().find(|(k, _)| *k == s).map(|(_, v)| *v).ok_or(error),
    }
}

impl RawFilters {
    /// Parses the fields `report` uses (the others keep their defaults), collecting every error.
    /// Without dates the range is the current month up to `today` (the shop's local date).
    pub fn parse(&self, report: Report, today: NaiveDate) -> Result<Filters, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let month_start = today.with_day(1).unwrap_or(today);
        let mut f = Filters {
            range: Range { from: month_start, to: today },
            group: Grouping::Day,
            rank: Rank::Quantity,
            breakdown: Breakdown::Product,
            top: TOP_DEFAULT,
            category: None,
        };
        if report != Report::Valuation {
            let from = take(e, "from", parse_date(&self.from));
            let to = take(e, "to", parse_date(&self.to));
            if let (Some(from), Some(to)) = (from, to) {
                f.range = Range { from: from.unwrap_or(month_start), to: to.unwrap_or(today) };
                let days = (f.range.to - f.range.from).num_days() + 1;
                if f.range.to < f.range.from {
                    e.push(("to", "report.error_reversed"));
                } else if days > MAX_RANGE_DAYS {
                    e.push(("to", "report.error_range_too_long"));
                }
            }
        }
        match report {
            Report::Sales => {
                let g = [("day", Grouping::Day), ("week", Grouping::Week), ("month", Grouping::Month)];
                if let Some(g) =
                    take(e, "group", choice(&self.group, Grouping::Day, &g, "report.error_group"))
                {
                    f.group = g;
                }
                let days = (f.range.to - f.range.from).num_days() + 1;
                if f.group == Grouping::Day && days > MAX_DAILY_DAYS && e.is_empty() {
                    e.push(("group", "report.error_too_many_days"));
                }
            }
            Report::BestSellers => {
                let r = [("quantity", Rank::Quantity), ("amount", Rank::Amount)];
                if let Some(r) = take(e, "by", choice(&self.by, Rank::Quantity, &r, "report.error_rank")) {
                    f.rank = r;
                }
                let top = match self.top.trim() {
                    "" => Ok(TOP_DEFAULT),
                    s => {
                        s.parse::<i64>().ok().filter(|n| (1..=TOP_MAX).contains(n)).ok_or("report.error_top")
                    }
                };
                if let Some(top) = take(e, "top", top) {
                    f.top = top;
                }
            }
            Report::Margin | Report::Valuation => {
                let b = [("product", Breakdown::Product), ("category", Breakdown::Category)];
                if let Some(b) =
                    take(e, "by", choice(&self.by, Breakdown::Product, &b, "report.error_breakdown"))
                {
                    f.breakdown = b;
                }
            }
        }
        if report != Report::Sales {
            let category = match self.category.trim() {
                "" => Ok(None),
                s => s.parse::<i64>().map(Some).map_err(|_| "report.error_category"),
            };
            if let Some(c) = take(e, "category", category) {
                f.category = c;
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(errors)
        }
    }
}

impl Filters {
    /// The filters as the form shows them back (defaults filled in, dates as the date input
    /// writes them).
    pub fn echo(&self, report: Report) -> RawFilters {
        let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let mut r = RawFilters {
            category: self.category.map(|c| c.to_string()).unwrap_or_default(),
            ..Default::default()
        };
        if report != Report::Valuation {
            r.from = iso(self.range.from);
            r.to = iso(self.range.to);
        }
        match report {
            Report::Sales => r.group = self.group.as_str().into(),
            Report::BestSellers => {
                r.by = match self.rank {
                    Rank::Quantity => "quantity".into(),
                    Rank::Amount => "amount".into(),
                };
                r.top = self.top.to_string();
            }
            Report::Margin | Report::Valuation => {
                r.by = match self.breakdown {
                    Breakdown::Product => "product".into(),
                    Breakdown::Category => "category".into(),
                };
            }
        }
        r
    }
}

/// `numerator / denominator` as a percentage with two decimals; `None` when nothing was sold.
pub fn percent(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    Some(
        (numerator * Decimal::ONE_HUNDRED / denominator)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    )
}

/// Today in the shop's time zone.
pub async fn shop_today(tx: &Tx<'_>) -> Result<NaiveDate, AppError> {
    let row = tx.query_one("select (now() at time zone time_zone)::date from settings", &[]).await?;
    Ok(row.get(0))
}

/// `lo`/`hi`: the instants where the range's first day starts and the day after its last starts,
/// at the shop's time zone (a DST day is 23 or 25 hours long; `at time zone` knows).
const BOUNDS: &str = "st as (select time_zone as tz from settings),
     b as (select ($1::date)::timestamp at time zone st.tz as lo,
                  ($2::date + 1)::timestamp at time zone st.tz as hi from st)";

// ------------------------------------------------------------------------------------------
// sales by period

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeriodRow {
    /// First local day of the period (a week starts on Monday; the first and last may be cut
    /// by the range).
    pub start: NaiveDate,
    pub sales: i64,
    pub gross: Decimal,
    pub returns: Decimal,
    pub net: Decimal,
    pub voided: i64,
    pub voided_amount: Decimal,
}

pub async fn sales_by_period(tx: &Tx<'_>, range: Range, group: Grouping) -> Result<Vec<PeriodRow>, AppError> {
    let sql = format!(
        "with {BOUNDS},
         periods as (
             select g::date as start
               from generate_series(date_trunc($3::text, $1::date::timestamp), $2::date::timestamp,
                                    ('1 ' || $3::text)::interval) g),
         s as (
             select date_trunc($3::text, r.local_at)::date as start,
                    count(*) filter (where r.status = 'completed') as n,
                    coalesce(sum(r.total) filter (where r.status = 'completed'), 0) as gross,
                    count(*) filter (where r.status = 'voided') as voided,
                    coalesce(sum(r.total) filter (where r.status = 'voided'), 0) as voided_amount
               from report_sales r cross join b
              where r.at >= b.lo and r.at < b.hi
              group by 1),
         ret as (
             select date_trunc($3::text, e.local_at)::date as start, -sum(e.amount) as returns
               from report_line_events e cross join b
              where e.kind = 'return' and e.at >= b.lo and e.at < b.hi
              group by 1)
         select p.start, coalesce(s.n, 0), coalesce(s.gross, 0), coalesce(ret.returns, 0),
                coalesce(s.voided, 0), coalesce(s.voided_amount, 0)
           from periods p left join s using (start) left join ret using (start)
          order by p.start"
    );
    let rows = tx.query(&sql, &[&range.from, &range.to, &group.as_str()]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (gross, returns): (Decimal, Decimal) = (r.get(2), r.get(3));
            PeriodRow {
                start: r.get(0),
                sales: r.get(1),
                gross,
                returns,
                net: gross - returns,
                voided: r.get(4),
                voided_amount: r.get(5),
            }
        })
        .collect())
}

/// Column sums of the period rows.
pub fn period_totals(rows: &[PeriodRow]) -> PeriodRow {
    rows.iter().fold(PeriodRow::default(), |mut t, r| {
        t.sales += r.sales;
        t.gross += r.gross;
        t.returns += r.returns;
        t.net += r.net;
        t.voided += r.voided;
        t.voided_amount += r.voided_amount;
        t
    })
}

// ------------------------------------------------------------------------------------------
// best sellers

#[derive(Clone, Debug, PartialEq)]
pub struct BestRow {
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub quantity: Decimal,
    pub amount: Decimal,
}

/// The top `top` products by net quantity or net amount in the range (returns in the range
/// subtracted); only products with a positive net quantity.
pub async fn best_sellers(tx: &Tx<'_>, f: &Filters) -> Result<Vec<BestRow>, AppError> {
    let sql = format!(
        "with {BOUNDS}
         select p.id, p.sku, p.name, c.name, sum(e.quantity), sum(e.amount)
           from report_line_events e cross join b
           join products p on p.id = e.product_id
           left join categories c on c.id = p.category_id
          where e.at >= b.lo and e.at < b.hi and ($3::bigint is null or p.category_id = $3)
          group by p.id, p.sku, p.name, c.name
         having sum(e.quantity) > 0
          order by case when $4::text = 'amount' then sum(e.amount) else sum(e.quantity) end desc,
                   case when $4::text = 'amount' then sum(e.quantity) else sum(e.amount) end desc, p.name, p.id
          limit $5"
    );
    let rank = match f.rank {
        Rank::Quantity => "quantity",
        Rank::Amount => "amount",
    };
    let rows = tx.query(&sql, &[&f.range.from, &f.range.to, &f.category, &rank, &f.top]).await?;
    Ok(rows
        .iter()
        .map(|r| BestRow {
            product_id: r.get(0),
            sku: r.get(1),
            name: r.get(2),
            category: r.get(3),
            quantity: r.get(4),
            amount: r.get(5),
        })
        .collect())
}

// ------------------------------------------------------------------------------------------
// margin

#[derive(Clone, Debug, PartialEq)]
pub struct MarginRow {
    /// Product id, or category id (`None`: products without a category).
    pub id: Option<i64>,
    pub sku: String,
    /// Product name, or category name (`None`: without a category).
    pub name: Option<String>,
    pub category: Option<String>,
    pub quantity: Decimal,
    pub revenue: Decimal,
    pub cost: Decimal,
    pub margin: Decimal,
    pub margin_percent: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarginTotals {
    pub revenue: Decimal,
    pub cost: Decimal,
    pub margin: Decimal,
    pub margin_percent: Option<Decimal>,
}

fn margin_row(r: &Row) -> MarginRow {
    let (revenue, cost): (Decimal, Decimal) = (r.get(5), r.get(6));
    MarginRow {
        id: r.get(0),
        sku: r.get(1),
        name: r.get(2),
        category: r.get(3),
        quantity: r.get(4),
        revenue,
        cost,
        margin: revenue - cost,
        margin_percent: percent(revenue - cost, revenue),
    }
}

/// Revenue (net of returns) minus the cost of the goods sold (each line at its cost at the time
/// of sale), per product or category, best margin first. `page` None: every row (CSV).
pub async fn margin(
    tx: &Tx<'_>,
    f: &Filters,
    page: Option<i64>,
) -> Result<(Vec<MarginRow>, bool, MarginTotals), AppError> {
    let from = format!(
        "with {BOUNDS}, m as (
             select {cols}, e.quantity, e.amount, e.cost
               from report_line_events e cross join b
               join products p on p.id = e.product_id
               left join categories c on c.id = p.category_id
              where e.at >= b.lo and e.at < b.hi and ($3::bigint is null or p.category_id = $3))",
        cols = label_columns(f.breakdown)
    );
    let (limit, offset) = match page {
        Some(p) => (PAGE_SIZE + 1, p.max(0) * PAGE_SIZE),
        None => (CSV_MAX_ROWS, 0),
    };
    let sql = format!(
        "{from}
         select id, sku, name, c_name, sum(quantity), sum(amount), round(sum(cost), 2)
           from m group by id, sku, name, c_name
          order by sum(amount) - round(sum(cost), 2) desc, name nulls last, id nulls last
          limit $4 offset $5"
    );
    let rows = tx.query(&sql, &[&f.range.from, &f.range.to, &f.category, &limit, &offset]).await?;
    let items: Vec<MarginRow> = rows.iter().map(margin_row).collect();
    let (items, more) = match page {
        Some(_) => super::split_page(items, PAGE_SIZE),
        None => (items, false),
    };
    let totals_sql =
        format!("{from} select coalesce(sum(amount), 0), coalesce(round(sum(cost), 2), 0) from m");
    let t = tx.query_one(&totals_sql, &[&f.range.from, &f.range.to, &f.category]).await?;
    let (revenue, cost): (Decimal, Decimal) = (t.get(0), t.get(1));
    let totals = MarginTotals {
        revenue,
        cost,
        margin: revenue - cost,
        margin_percent: percent(revenue - cost, revenue),
    };
    Ok((items, more, totals))
}

fn label_columns(b: Breakdown) -> &'static str {
    match b {
        Breakdown::Product => "p.id as id, p.sku as sku, p.name as name, c.name as c_name",
        Breakdown::Category => "c.id as id, ''::text as sku, c.name as name, c.name as c_name",
    }
}

// ------------------------------------------------------------------------------------------
// stock valuation

#[derive(Clone, Debug, PartialEq)]
pub struct ValuationRow {
    /// Product id, or category id (`None`: products without a category).
    pub id: Option<i64>,
    pub sku: String,
    pub name: Option<String>,
    pub category: Option<String>,
    /// Per product: its stock and cost. Per category: the number of products in `stock`.
    pub stock: Decimal,
    pub cost: Decimal,
    /// Per product: stock × cost (negative for negative stock). Per category: the counted value.
    pub value: Decimal,
    /// Per product: the stock is negative. Per category: products with negative stock.
    pub negative: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValuationTotals {
    pub products: i64,
    /// Products with stock above zero, valued at cost; negative stock counts as zero.
    pub value: Decimal,
    pub negative: i64,
}

pub async fn stock_valuation(
    tx: &Tx<'_>,
    f: &Filters,
    page: Option<i64>,
) -> Result<(Vec<ValuationRow>, bool, ValuationTotals), AppError> {
    let (limit, offset) = match page {
        Some(p) => (PAGE_SIZE + 1, p.max(0) * PAGE_SIZE),
        None => (CSV_MAX_ROWS, 0),
    };
    let sql = match f.breakdown {
        Breakdown::Product => {
            "select product_id, sku, name, category, stock, cost, value, (case when negative then 1 else 0 end)::int8
               from report_stock_valuation
              where $1::bigint is null or category_id = $1
              order by value desc, name, product_id
              limit $2 offset $3"
        }
        Breakdown::Category => {
            "select category_id, '', category, category, count(*)::numeric, 0::numeric, sum(counted_value),
                    count(*) filter (where negative)
               from report_stock_valuation
              where $1::bigint is null or category_id = $1
              group by category_id, category
              order by sum(counted_value) desc, category nulls last
              limit $2 offset $3"
        }
    };
    let rows = tx.query(sql, &[&f.category, &limit, &offset]).await?;
    let items: Vec<ValuationRow> = rows
        .iter()
        .map(|r| ValuationRow {
            id: r.get(0),
            sku: r.get(1),
            name: r.get(2),
            category: r.get(3),
            stock: r.get(4),
            cost: r.get(5),
            value: r.get(6),
            negative: r.get(7),
        })
        .collect();
    let (items, more) = match page {
        Some(_) => super::split_page(items, PAGE_SIZE),
        None => (items, false),
    };
    let t = tx
        .query_one(
            "select count(*), coalesce(sum(counted_value), 0), count(*) filter (where negative)
               from report_stock_valuation where $1::bigint is null or category_id = $1",
            &[&f.category],
        )
        .await?;
    Ok((items, more, ValuationTotals { products: t.get(0), value: t.get(1), negative: t.get(2) }))
}

/// Categories for the filter: (id, name).
pub async fn categories(tx: &Tx<'_>) -> Result<Vec<(i64, String)>, AppError> {
    let rows = tx.query("select id, name from categories order by name, id", &[]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(from: &str, to: &str) -> RawFilters {
        RawFilters { from: from.into(), to: to.into(), ..Default::default() }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn dates_in_both_spellings_and_the_month_by_default() {
        let today = d(2024, 3, 31);
        let f = raw("", "").parse(Report::Sales, today).expect("defaults");
        assert_eq!(f.range, Range { from: d(2024, 3, 1), to: today });
        let f = raw("01/02/2024", "2024-02-29").parse(Report::Sales, today).expect("both spellings");
        assert_eq!(f.range, Range { from: d(2024, 2, 1), to: d(2024, 2, 29) });
    }

    #[test]
    fn bad_input_names_the_field() {
        let today = d(2024, 3, 31);
        let err = |r: RawFilters, rep| r.parse(rep, today).expect_err("refused");
        assert_eq!(err(raw("2024-02-30", ""), Report::Sales), vec![("from", "report.error_date")]);
        assert_eq!(
            err(raw("2024-03-10", "2024-03-01"), Report::Margin),
            vec![("to", "report.error_reversed")]
        );
        assert_eq!(
            err(raw("2000-01-01", "2024-01-01"), Report::Margin),
            vec![("to", "report.error_range_too_long")]
        );
        assert_eq!(
            err(raw("2022-01-01", "2024-01-01"), Report::Sales),
            vec![("group", "report.error_too_many_days")]
        );
        let mut r = raw("", "");
        r.group = "year".into();
        assert_eq!(err(r, Report::Sales), vec![("group", "report.error_group")]);
        let mut r = raw("", "");
        r.top = "0".into();
        r.by = "profit".into();
        assert_eq!(
            err(r, Report::BestSellers),
            vec![("by", "report.error_rank"), ("top", "report.error_top")]
        );
        // fields a report does not use are ignored
        let mut r = raw("nonsense", "");
        r.group = "year".into();
        assert!(r.parse(Report::Valuation, today).is_ok());
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        assert_eq!(percent(Decimal::new(1, 0), Decimal::new(3, 0)), Some(Decimal::new(3333, 2)));
        assert_eq!(percent(Decimal::new(1, 0), Decimal::ZERO), None);
        assert_eq!(percent(Decimal::new(-1, 0), Decimal::new(8, 0)), Some(Decimal::new(-1250, 2)));
    }
}
