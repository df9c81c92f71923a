//! The balance: income, expenses and net per day, week or month of a date range, in the shop's
//! time zone. Every bucket is bounded by local midnights turned into instants in SQL
//! (`d::timestamp at time zone tz` on both ends), so a day around a daylight-saving change is 23
//! or 25 hours long and no entry falls between two days or into both. "Now" is passed in, so tests
//! can ask about any instant.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::db::tx::Tx;
use crate::error::AppError;

/// The longest range the balance page accepts (about ten years).
pub const MAX_DAYS: i64 = 3660;
/// Day buckets up to this many days; longer ranges are grouped by week or month.
pub const MAX_DAY_BUCKETS: i64 = 92;
/// Week buckets up to this many days; longer ranges by month.
pub const MAX_WEEK_DAYS: i64 = 731;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Day,
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 3] = [Grouping::Day, Grouping::Week, Grouping::Month];

    pub fn code(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    pub fn parse(raw: &str) -> Option<Grouping> {
        Grouping::ALL.into_iter().find(|g| g.code() == raw.trim())
    }

    /// What a range of `days` days is grouped by when nobody chose: days up to three months,
    /// weeks up to two years, then months.
    pub fn for_days(days: i64) -> Grouping {
        if days <= MAX_DAY_BUCKETS {
            Grouping::Day
        } else if days <= MAX_WEEK_DAYS {
            Grouping::Week
        } else {
            Grouping::Month
        }
    }

    /// The chosen grouping, made coarser when it would draw too many buckets.
    pub fn bounded(self, days: i64) -> Grouping {
        match self {
            Grouping::Day if days > MAX_DAY_BUCKETS * 4 => Grouping::for_days(days),
            Grouping::Week if days > MAX_WEEK_DAYS * 2 => Grouping::Month,
            g => g,
        }
    }

    fn interval(self) -> &'static str {
        match self {
            Grouping::Day => "1 day",
            Grouping::Week => "1 week",
            Grouping::Month => "1 month",
        }
    }
}

/// A checked range of local days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Range, &'static str> {
        if to < from {
            return Err("balance.error_range_order");
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err("balance.error_range_too_long");
        }
        Ok(Range { from, to })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The calendar month that holds `day`.
    pub fn month_of(day: NaiveDate) -> Range {
        let from = day.with_day(1).unwrap_or(day);
        let next = if from.month() == 12 {
            NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
        };
        let to = next.and_then(|n| n.pred_opt()).unwrap_or(day);
        Range { from, to }
    }
}

/// The shop's calendar day at the instant `now`.
pub async fn shop_today(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<NaiveDate, AppError> {
    Ok(tx
        .query_one("select ($1::timestamptz at time zone time_zone)::date from settings", &[&now])
        .await?
        .get(0))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// First and last local day of the bucket, inside the range.
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub income: Decimal,
    pub expenses: Decimal,
}

impl Bucket {
    pub fn net(&self) -> Decimal {
        self.income - self.expenses
    }
}

/// Buckets of the range: each one's local days turned into an instant range by the shop's time
/// zone, and the ledger summed inside it (the `at` index finds each bucket's rows).
const BUCKETS: &str = concat!(
    "with st as (select time_zone as tz from settings),
          b as (select greatest(g::date, $1::date) as first,
                       least((g + $3::text::interval)::date - 1, $2::date) as last
                  from generate_series(date_trunc($4::text, $1::date::timestamp), $2::date::timestamp,
                                       $3::text::interval) g)
     select b.first, b.last,
            coalesce(sum(m.amount) filter (where m.kind in (",
    crate::income_kinds!(),
    ")), 0),
            coalesce(-sum(m.amount) filter (where m.kind in (",
    crate::expense_kinds!(),
    ")), 0)
       from b cross join st
       left join money_ledger m
              on m.at >= (b.first::timestamp at time zone st.tz)
             and m.at < ((b.last + 1)::timestamp at time zone st.tz)
      group by b.first, b.last
      order by b.first"
);

/// Income, expenses and net per bucket of `range`, every bucket present (zero when empty).
pub async fn buckets(tx: &Tx<'_>, range: Range, grouping: Grouping) -> Result<Vec<Bucket>, AppError> {
    // date_trunc on a timestamp: 'day' keeps the day, 'week' goes back to Monday, 'month' to the 1st
    let rows = tx.query(BUCKETS, &[&range.from, &range.to, &grouping.interval(), &grouping.code()]).await?;
    Ok(rows
        .iter()
        .map(|r| Bucket { first: r.get(0), last: r.get(1), income: r.get(2), expenses: r.get(3) })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn months_end_on_their_last_day() {
        assert_eq!(Range::month_of(d(2026, 2, 14)), Range { from: d(2026, 2, 1), to: d(2026, 2, 28) });
        assert_eq!(Range::month_of(d(2026, 12, 31)), Range { from: d(2026, 12, 1), to: d(2026, 12, 31) });
    }

    #[test]
    fn ranges_are_ordered_and_bounded() {
        assert_eq!(Range::new(d(2026, 3, 2), d(2026, 3, 1)), Err("balance.error_range_order"));
        assert_eq!(Range::new(d(2000, 1, 1), d(2026, 1, 1)), Err("balance.error_range_too_long"));
        assert_eq!(Range::new(d(2026, 3, 1), d(2026, 3, 1)).map(|r| r.days()), Ok(1));
    }

    #[test]
    fn long_ranges_are_grouped_coarser() {
        assert_eq!(Grouping::for_days(31), Grouping::Day);
        assert_eq!(Grouping::for_days(200), Grouping::Week);
        assert_eq!(Grouping::for_days(1000), Grouping::Month);
        assert_eq!(Grouping::Day.bounded(3000), Grouping::Month);
        assert_eq!(Grouping::Day.bounded(100), Grouping::Day);
    }
}
