//! Day boundaries follow the shop's time zone: ledger rows with explicit instants around local
//! midnight and around daylight-saving changes (Europe/Madrid on 2026-03-29, a 23-hour day, and
//! 2026-10-25, a 25-hour day; Buenos Aires without DST; Santiago, whose clocks change at
//! midnight) fall into the right day of the balance, the ledger's date filter and the
//! dashboard's "today", called through the domain with fixed instants as "now".
mod common;

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use common::{roles, set_ctx, TestDb};
use rust_decimal::Decimal;
use stock::domain::balance::{self, Grouping, Range};
use stock::domain::dashboard;
use stock::domain::money_ledger::{self, LedgerQuery};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

struct Shop {
    db: TestDb,
    id: i64,
    schema: String,
    owner: i64,
}

/// A shop in `tz` with an owner, and ledger rows (instant, kind, amount) written with those
/// instants (as the superuser, in the shop's context so the ledger's trigger finds categories).
async fn shop(tz: &str, rows: &[(&str, &str, &str)]) -> Shop {
    let db = TestDb::new().await;
    let (id, schema) = db.create_shop("Reloj").await;
    let owner = db.add_member(id, "owner@example.com", "owner").await;
    let mut admin = db.admin().await;
    let tx = admin.transaction().await.expect("begin");
    tx.execute("select set_config('app.tenant_id', $1, true)", &[&id.to_string()]).await.expect("ctx");
    tx.execute(&format!("update {schema}.settings set time_zone = $1"), &[&tz]).await.expect("tz");
    for (at, kind, amount) in rows {
        tx.execute(
            &format!(
                "insert into {schema}.money_ledger (at, kind, method, amount, category)
                 values ($1::text::timestamptz, $2, 'cash', $3::text::numeric,
                         case when $2 = 'other_expense' then 'Servicios' else '' end)"
            ),
            &[at, kind, amount],
        )
        .await
        .unwrap_or_else(|e| panic!("insert {at}: {e}"));
    }
    tx.commit().await.expect("commit");
    Shop { db, id, schema, owner }
}

impl Shop {
    /// Runs `f` on a request-like transaction of the owner, through the app's own pool.
    async fn pool(&self) -> deadpool_postgres::Pool {
        stock::db::app_pool(&self.db.config, &roles()).expect("pool")
    }
}

macro_rules! owner_tx {
    ($shop:expr, $obj:ident, $tx:ident) => {
        let pool = $shop.pool().await;
        let mut $obj = pool.get().await.expect("conn");
        let $tx = stock::db::tx::Tx::begin(&mut $obj, stock::db::tx::Access::ReadWrite).await.expect("begin");
        set_ctx(&**$tx, Some($shop.id), Some($shop.owner), &roles().owner).await;
    };
}

/// Madrid, spring forward: 2026-03-29 runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z (23 h).
/// With a fixed +01:00 offset the last two rows of the 29th would land on the wrong days.
const MADRID_MARCH: &[(&str, &str, &str)] = &[
    ("2026-03-28T22:59:59Z", "other_income", "1"), // 23:59:59 CET on the 28th
    ("2026-03-28T23:00:00Z", "other_income", "10"), // 00:00 on the 29th
    ("2026-03-29T00:59:59Z", "other_income", "20"), // 01:59:59 CET, just before the change
    ("2026-03-29T01:00:00Z", "other_expense", "-5"), // 03:00 CEST, just after it
    ("2026-03-29T21:59:59Z", "other_income", "100"), // 23:59:59 CEST on the 29th
    ("2026-03-29T22:00:00Z", "other_income", "1000"), // 00:00 on the 30th
];

/// Madrid, fall back: 2026-10-25 runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z (25 h).
const MADRID_OCTOBER: &[(&str, &str, &str)] = &[
    ("2026-10-24T21:59:59Z", "other_income", "1"), // 23:59:59 CEST on the 24th
    ("2026-10-24T22:00:00Z", "other_income", "10"), // 00:00 on the 25th
    ("2026-10-25T00:30:00Z", "other_income", "20"), // 02:30 CEST, the first time
    ("2026-10-25T01:30:00Z", "other_expense", "-7"), // 02:30 CET, the second time
    ("2026-10-25T22:59:59Z", "other_income", "100"), // 23:59:59 CET on the 25th
    ("2026-10-25T23:00:00Z", "other_income", "1000"), // 00:00 on the 26th
];

fn daily(buckets: &[balance::Bucket]) -> Vec<(NaiveDate, Decimal, Decimal)> {
    buckets.iter().map(|b| (b.first, b.income, b.expenses)).collect()
}

#[tokio::test]
async fn the_23_hour_day_of_march_in_madrid() {
    let shop = shop("Europe/Madrid", MADRID_MARCH).await;
    owner_tx!(shop, obj, tx);
    let range = Range::new(day("2026-03-28"), day("2026-03-30")).expect("range");
    let got = balance::buckets(&tx, range, Grouping::Day).await.expect("buckets");
    assert_eq!(
        daily(&got),
        vec![
            (day("2026-03-28"), dec("1"), dec("0")),
            (day("2026-03-29"), dec("130"), dec("5")),
            (day("2026-03-30"), dec("1000"), dec("0")),
        ]
    );
    assert_eq!(got[1].net(), dec("125"));

    // the ledger's date filter uses the same bounds
    let q = LedgerQuery {
        from: day("2026-03-29"),
        to: day("2026-03-29"),
        kind: String::new(),
        method: String::new(),
        category_id: None,
        q: String::new(),
        page: 0,
    };
    let page = money_ledger::list(&tx, &q).await.expect("list");
    assert_eq!(page.rows.len(), 4);
    assert_eq!((page.totals.income, page.totals.expenses), (dec("130"), dec("5")));
    let expense = page.rows.iter().find(|r| r.kind == "other_expense").expect("expense row");
    assert_eq!(expense.at.to_string(), "2026-03-29 03:00:00", "shown in local time, after the change");

    // "today" at instants either side of local midnight and of the change
    for (now, today, income, expenses) in [
        ("2026-03-28T22:59:59Z", "2026-03-28", "1", "0"),
        ("2026-03-28T23:00:00Z", "2026-03-29", "130", "5"),
        ("2026-03-29T01:30:00Z", "2026-03-29", "130", "5"),
        ("2026-03-29T21:59:59Z", "2026-03-29", "130", "5"),
        ("2026-03-29T22:00:00Z", "2026-03-30", "1000", "0"),
    ] {
        let now = instant(now);
        assert_eq!(balance::shop_today(&tx, now).await.expect("today"), day(today), "{now}");
        let d = dashboard::load(&tx, shop.id, true, now).await.expect("dashboard");
        let m = d.today.expect("owner sees money");
        assert_eq!((m.income, m.expenses), (dec(income), dec(expenses)), "today at {now}");
    }
}

#[tokio::test]
async fn the_25_hour_day_of_october_in_madrid() {
    let shop = shop("Europe/Madrid", MADRID_OCTOBER).await;
    owner_tx!(shop, obj, tx);
    let range = Range::new(day("2026-10-24"), day("2026-10-26")).expect("range");
    let got = balance::buckets(&tx, range, Grouping::Day).await.expect("buckets");
    assert_eq!(
        daily(&got),
        vec![
            (day("2026-10-24"), dec("1"), dec("0")),
            (day("2026-10-25"), dec("130"), dec("7")),
            (day("2026-10-26"), dec("1000"), dec("0")),
        ]
    );
    for (now, income) in [
        ("2026-10-24T21:59:59Z", "1"),
        ("2026-10-24T22:00:00Z", "130"),
        ("2026-10-25T22:59:59Z", "130"),
        ("2026-10-25T23:00:00Z", "1000"),
    ] {
        let d = dashboard::load(&tx, shop.id, true, instant(now)).await.expect("dashboard");
        assert_eq!(d.today.expect("money").income, dec(income), "today at {now}");
    }
    // staff's variant of the same statement carries no money
    let d = dashboard::load(&tx, shop.id, false, instant("2026-10-25T12:00:00Z")).await.expect("dashboard");
    assert!(d.today.is_none());

    // a week and a month add up to the days they hold, each row counted once
    let month = Range::new(day("2026-10-01"), day("2026-10-31")).expect("range");
    let weeks = balance::buckets(&tx, month, Grouping::Week).await.expect("weeks");
    assert_eq!(weeks.first().map(|b| (b.first, b.last)), Some((day("2026-10-01"), day("2026-10-04"))));
    assert_eq!(weeks.last().map(|b| (b.first, b.last)), Some((day("2026-10-26"), day("2026-10-31"))));
    let wk = weeks.iter().find(|b| b.first == day("2026-10-19")).expect("week of the change");
    assert_eq!((wk.last, wk.income, wk.expenses), (day("2026-10-25"), dec("131"), dec("7")));
    let months = balance::buckets(&tx, month, Grouping::Month).await.expect("months");
    assert_eq!(daily(&months), vec![(day("2026-10-01"), dec("1131"), dec("7"))]);
}

#[tokio::test]
async fn local_midnight_in_buenos_aires_and_monthly_buckets() {
    let shop = shop(
        "America/Argentina/Buenos_Aires",
        &[
            ("2026-05-01T02:59:59Z", "other_income", "1"), // 23:59:59 on April 30th
            ("2026-05-01T03:00:00Z", "other_income", "10"), // 00:00 on May 1st
            ("2026-06-01T02:59:59Z", "other_income", "100"), // 23:59:59 on May 31st
            ("2026-06-15T15:00:00Z", "other_expense", "-40"),
        ],
    )
    .await;
    owner_tx!(shop, obj, tx);
    let range = Range::new(day("2026-04-20"), day("2026-06-20")).expect("range");
    let got = balance::buckets(&tx, range, Grouping::Month).await.expect("months");
    assert_eq!(
        got.iter().map(|b| (b.first, b.last, b.income, b.expenses)).collect::<Vec<_>>(),
        vec![
            (day("2026-04-20"), day("2026-04-30"), dec("1"), dec("0")),
            (day("2026-05-01"), day("2026-05-31"), dec("110"), dec("0")),
            (day("2026-06-01"), day("2026-06-20"), dec("0"), dec("40")),
        ]
    );
    let d = dashboard::load(&tx, shop.id, true, instant("2026-05-01T02:59:59Z")).await.expect("dashboard");
    assert_eq!(d.today.expect("money").income, dec("1"));
    let d = dashboard::load(&tx, shop.id, true, instant("2026-05-01T03:00:00Z")).await.expect("dashboard");
    assert_eq!(d.today.expect("money").income, dec("10"));
    // an empty range still has every day, at zero
    let empty = Range::new(day("2027-01-01"), day("2027-01-03")).expect("range");
    let got = balance::buckets(&tx, empty, Grouping::Day).await.expect("days");
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|b| b.income.is_zero() && b.expenses.is_zero()));
}

/// Santiago's clocks change at local midnight (a local 00:00 that never happens, or happens
/// twice): whatever the day lengths, the days of a range tile it, so every row of every hour
/// around both changes is counted exactly once.
#[tokio::test]
async fn every_row_counted_once_around_santiagos_midnight_changes() {
    let mut rows: Vec<(String, &str, &str)> = Vec::new();
    for (start, hours) in [("2026-04-04T00:00:00Z", 72), ("2026-09-05T00:00:00Z", 72)] {
        let t0 = instant(start);
        for h in 0..hours {
            rows.push(((t0 + chrono::Duration::minutes(h * 60 + 30)).to_rfc3339(), "other_income", "1"));
        }
    }
    let refs: Vec<(&str, &str, &str)> = rows.iter().map(|(a, k, m)| (a.as_str(), *k, *m)).collect();
    let shop = shop("America/Santiago", &refs).await;
    owner_tx!(shop, obj, tx);
    for (from, to) in [("2026-04-01", "2026-04-08"), ("2026-09-02", "2026-09-09")] {
        let range = Range::new(day(from), day(to)).expect("range");
        let days = balance::buckets(&tx, range, Grouping::Day).await.expect("days");
        let total: Decimal = days.iter().map(|b| b.income).sum();
        assert_eq!(total, dec("72"), "{from}..{to}: {:?}", daily(&days));
        assert!(
            days.iter().any(|b| b.income == dec("23") || b.income == dec("25")),
            "a short or long day: {:?}",
            daily(&days)
        );
    }
    let admin = shop.db.admin().await;
    let n: i64 = admin
        .query_one(&format!("select count(*) from {}.money_ledger", shop.schema), &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 144);
}
