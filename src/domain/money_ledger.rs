//! The money ledger as people use it: the list with filters and totals, other income and other
//! expenses recorded by hand, the reversal of a mistaken manual entry, and the shop's expense
//! categories. Sign convention (docs/MONEY.md): `amount` is positive for money in and negative for
//! money out, for every kind; income and expenses are summed per kind, so a void or a reversal
//! lowers the side it corrects. Rows are append-only (a trigger refuses UPDATE and DELETE).

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::catalog::{take, FieldErrors, WriteError};
use super::customers::PaymentMethod;
use super::money::Money;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

pub const PAGE_SIZE: i64 = 50;

/// The kinds that count as income (sales net of voids and returns, collected debts, other income).
#[macro_export]
macro_rules! income_kinds {
    () => {
        "'sale', 'sale_void', 'sale_return', 'customer_payment', 'other_income'"
    };
}

/// The kinds that count as expenses (paid supplier invoices, other expenses).
#[macro_export]
macro_rules! expense_kinds {
    () => {
        "'invoice_payment', 'other_expense'"
    };
}

/// Every kind of the ledger, in the order the filter lists them.
pub const KINDS: [&str; 7] = [
    "sale",
    "sale_void",
    "sale_return",
    "customer_payment",
    "other_income",
    "invoice_payment",
    "other_expense",
];

/// Income or expense of a manual entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Income,
    Expense,
}

impl Direction {
    pub fn kind(self) -> &'static str {
        match self {
            Direction::Income => "other_income",
            Direction::Expense => "other_expense",
        }
    }

    pub fn parse(raw: &str) -> Result<Direction, &'static str> {
        match raw.trim() {
            "income" => Ok(Direction::Income),
            "expense" => Ok(Direction::Expense),
            _ => Err("error.choose_option"),
        }
    }
}

/// The manual entry form as typed.
#[derive(Clone, Debug, Default)]
pub struct EntryFields {
    pub direction: String,
    pub amount: String,
    pub method: String,
    pub category: String,
    pub description: String,
}

/// A parsed manual entry: a positive amount, booked with the sign of its direction.
#[derive(Clone, Debug)]
pub struct ManualEntry {
    pub direction: Direction,
    pub amount: Money,
    pub method: PaymentMethod,
    /// Required for an expense (the database checks it is an active category of the shop).
    pub category_id: Option<i64>,
    pub description: String,
}

impl ManualEntry {
    /// The signed amount the ledger stores.
    pub fn signed_amount(&self) -> Decimal {
        match self.direction {
            Direction::Income => self.amount.value(),
            Direction::Expense => -self.amount.value(),
        }
    }
}

fn positive_money(raw: &str, locale: Locale) -> Result<Money, &'static str> {
    let m = Money::parse(raw, locale)?;
    if m.value().is_zero() {
        return Err("money.error_positive");
    }
    Ok(m)
}

fn description(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.chars().count() > 500 {
        return Err("error.too_long");
    }
    if s.chars().any(char::is_control) {
        return Err("error.control_chars");
    }
    Ok(s.to_string())
}

impl EntryFields {
    /// Parses every field, collecting all errors at once. The amount is always typed positive.
    pub fn parse(&self, locale: Locale) -> Result<ManualEntry, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let direction = take(e, "direction", Direction::parse(&self.direction));
        let amount = take(e, "amount", positive_money(&self.amount, locale));
        let method = take(e, "method", PaymentMethod::parse(&self.method));
        let category = match (direction, self.category.trim()) {
            (Some(Direction::Expense), "") => take(e, "category", Err("money.error_category_required")),
            (Some(Direction::Expense), raw) => {
                take(e, "category", raw.parse::<i64>().map(Some).map_err(|_| "money.error_category_unknown"))
            }
            _ => Some(None),
        };
        let description = take(e, "description", description(&self.description));
        match (direction, amount, method, category, description) {
            (Some(direction), Some(amount), Some(method), Some(category_id), Some(description)) => {
                Ok(ManualEntry { direction, amount, method, category_id, description })
            }
            _ => Err(errors),
        }
    }
}

/// A refused ledger or category write (named constraint or trigger refusal) as a field error.
fn write_error(e: tokio_postgres::Error) -> WriteError {
    let field = match violated_constraint(&e) {
        Some("money_ledger_expense_category" | "money_ledger_category_id_fkey") => {
            Some(("category", "money.error_category_unknown"))
        }
        Some("money_ledger_amount_check" | "money_ledger_manual_sign") => {
            Some(("amount", "money.error_positive"))
        }
        Some("money_ledger_method_check") => Some(("method", "error.choose_option")),
        Some("money_ledger_description_check") => Some(("description", "error.too_long")),
        Some("money_ledger_reverses_key") => Some(("form", "money.error_already_reversed")),
        Some("money_ledger_reversal_manual_only") => Some(("form", "money.error_not_reversible")),
        Some("expense_categories_name_key") => Some(("name", "money.error_category_taken")),
        Some("expense_categories_name_check") => Some(("name", "error.too_long")),
        _ => None,
    };
    match field {
        Some(f) => WriteError::Field(vec![f]),
        None => WriteError::Other(e.into()),
    }
}

/// Books a manual income or expense now, in the name of the person in the request.
pub async fn record(tx: &Tx<'_>, entry: &ManualEntry) -> Result<i64, WriteError> {
    let row = tx
        .query_one(
            "insert into money_ledger (kind, method, amount, category_id, description, user_id)
             values ($1, $2, $3, $4, $5, app.current_user_id()) returning id",
            &[
                &entry.direction.kind(),
                &entry.method.code(),
                &entry.signed_amount(),
                &entry.category_id,
                &entry.description,
            ],
        )
        .await
        .map_err(write_error)?;
    Ok(row.get(0))
}

/// Corrects a mistaken manual entry with its opposite (the trigger copies kind, method, category
/// and the opposite amount from the original). Once per entry. `None` when there is no such entry.
pub async fn reverse(tx: &Tx<'_>, id: i64) -> Result<Option<i64>, WriteError> {
    let row = tx
        .query_opt(
            "insert into money_ledger (kind, method, amount, reverses_id, category_id, description, user_id)
             select kind, method, -amount, id, category_id, '', app.current_user_id() from money_ledger where id = $1
             returning id",
            &[&id],
        )
        .await
        .map_err(write_error)?;
    Ok(row.map(|r| r.get(0)))
}

// ---------------------------------------------------------------------------------------------
// the list

/// The list's filters. Dates are days in the shop's time zone, both ends included.
#[derive(Clone, Debug)]
pub struct LedgerQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// '' (all), 'income', 'expense', or one of `KINDS`.
    pub kind: String,
    /// '' or a method code.
    pub method: String,
    pub category_id: Option<i64>,
    pub q: String,
    pub page: i64,
}

#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub id: i64,
    /// In the shop's time zone.
    pub at: NaiveDateTime,
    pub kind: String,
    pub method: String,
    pub amount: Decimal,
    pub category: String,
    pub description: String,
    pub user_name: Option<String>,
    pub sale_id: Option<i64>,
    pub customer: Option<(i64, String)>,
    pub reverses_id: Option<i64>,
    pub reversed_by: Option<i64>,
}

impl LedgerRow {
    /// A manual entry that is not a reversal and has not been reversed yet.
    pub fn reversible(&self) -> bool {
        matches!(self.kind.as_str(), "other_income" | "other_expense")
            && self.reverses_id.is_none()
            && self.reversed_by.is_none()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub income: Decimal,
    pub expenses: Decimal,
}

impl Totals {
    pub fn net(&self) -> Decimal {
        self.income - self.expenses
    }
}

pub struct LedgerPage {
    pub rows: Vec<LedgerRow>,
    pub has_next: bool,
    pub totals: Totals,
}

/// The columns of a `LedgerRow`, from `money_ledger m`, `settings st`, `expense_categories ec`.
macro_rules! ledger_columns {
    () => {
        "select m.id, m.at at time zone st.time_zone, m.kind, m.method, m.amount,
                coalesce(ec.name, m.category), m.description,
                (select u.display_name from app.users u where u.id = m.user_id),
                m.sale_id, m.customer_id, (select c.name from customers c where c.id = m.customer_id),
                m.reverses_id, (select r.id from money_ledger r where r.reverses_id = m.id)
           from money_ledger m cross join settings st
           left join expense_categories ec on ec.id = m.category_id"
    };
}

/// The rows a query selects. $1 from, $2 to (local days, inclusive), $3 kind, $4 method, $5
/// category, $6 text (or ''), $7 its LIKE pattern. The day bounds are local midnights turned into
/// instants by the shop's time zone, so a day of 23 or 25 hours is counted whole.
macro_rules! ledger_filter {
    () => {
        concat!(
            "
          where m.at >= ($1::date::timestamp at time zone st.time_zone)
            and m.at < (($2::date + 1)::timestamp at time zone st.time_zone)
            and ($3 = ''
                 or ($3 = 'income' and m.kind in (",
            income_kinds!(),
            "))
                 or ($3 = 'expense' and m.kind in (",
            expense_kinds!(),
            "))
                 or m.kind = $3)
            and ($4 = '' or m.method = $4)
            and ($5::bigint is null or m.category_id = $5)
            and ($6 = '' or app.fold(m.description || ' ' || m.category) like app.fold($7))"
        )
    };
}

const LIST: &str =
    concat!(ledger_columns!(), ledger_filter!(), " order by m.at desc, m.id desc limit $8 offset $9");

const TOTALS: &str = concat!(
    "select coalesce(sum(m.amount) filter (where m.kind in (",
    income_kinds!(),
    ")), 0),
            coalesce(-sum(m.amount) filter (where m.kind in (",
    expense_kinds!(),
    ")), 0)
       from money_ledger m cross join settings st",
    ledger_filter!()
);

const BY_ID: &str = concat!(ledger_columns!(), " where m.id = $1");

fn ledger_row(r: &Row) -> LedgerRow {
    let customer = match (r.get::<_, Option<i64>>(9), r.get::<_, Option<String>>(10)) {
        (Some(id), Some(name)) => Some((id, name)),
        _ => None,
    };
    LedgerRow {
        id: r.get(0),
        at: r.get(1),
        kind: r.get(2),
        method: r.get(3),
        amount: r.get(4),
        category: r.get(5),
        description: r.get(6),
        user_name: r.get(7),
        sale_id: r.get(8),
        customer,
        reverses_id: r.get(11),
        reversed_by: r.get(12),
    }
}

fn like_pattern(q: &str) -> String {
    format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// One page of the ledger (newest first) and the totals of everything the filter selects.
pub async fn list(tx: &Tx<'_>, query: &LedgerQuery) -> Result<LedgerPage, AppError> {
    let q = query.q.trim();
    let pattern = like_pattern(q);
    let offset = query.page.max(0) * PAGE_SIZE;
    let rows = tx
        .query(
            LIST,
            &[
                &query.from,
                &query.to,
                &query.kind,
                &query.method,
                &query.category_id,
                &q,
                &pattern,
                &(PAGE_SIZE + 1),
                &offset,
            ],
        )
        .await?;
    let (rows, has_next) = super::split_page(rows.iter().map(ledger_row).collect(), PAGE_SIZE);
    let t = tx
        .query_one(
            TOTALS,
            &[&query.from, &query.to, &query.kind, &query.method, &query.category_id, &q, &pattern],
        )
        .await?;
    Ok(LedgerPage { rows, has_next, totals: Totals { income: t.get(0), expenses: t.get(1) } })
}

/// One entry, as the list shows it.
pub async fn by_id(tx: &Tx<'_>, id: i64) -> Result<Option<LedgerRow>, AppError> {
    Ok(tx.query_opt(BY_ID, &[&id]).await?.as_ref().map(ledger_row))
}

// ---------------------------------------------------------------------------------------------
// expense categories

#[derive(Clone, Debug)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub active: bool,
}

/// Every category, active first, by name.
pub async fn categories(tx: &Tx<'_>) -> Result<Vec<Category>, AppError> {
    let rows = tx
        .query("select id, name, active from expense_categories order by not active, app.fold(name), id", &[])
        .await?;
    Ok(rows.iter().map(|r| Category { id: r.get(0), name: r.get(1), active: r.get(2) }).collect())
}

pub fn parse_category_name(raw: &str) -> Result<Name, FieldErrors> {
    Name::parse(raw, 60).map_err(|e| vec![("name", e)])
}

pub async fn create_category(tx: &Tx<'_>, name: &Name) -> Result<i64, WriteError> {
    let row = tx
        .query_one("insert into expense_categories (name) values ($1) returning id", &[&name.as_str()])
        .await
        .map_err(write_error)?;
    Ok(row.get(0))
}

/// Renames a category (entries already booked keep the name they were booked with in `category`,
/// and are shown with the current name). False when there is no such category.
pub async fn rename_category(tx: &Tx<'_>, id: i64, name: &Name) -> Result<bool, WriteError> {
    let n = tx
        .execute("update expense_categories set name = $2 where id = $1", &[&id, &name.as_str()])
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// A deactivated category stays on the entries that used it and takes no new expenses.
pub async fn set_category_active(tx: &Tx<'_>, id: i64, active: bool) -> Result<bool, WriteError> {
    let n = tx
        .execute("update expense_categories set active = $2 where id = $1", &[&id, &active])
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn fields(direction: &str, amount: &str, method: &str, category: &str) -> EntryFields {
        EntryFields {
            direction: direction.into(),
            amount: amount.into(),
            method: method.into(),
            category: category.into(),
            description: String::new(),
        }
    }

    #[test]
    fn an_expense_is_booked_negative_and_needs_a_category() {
        let e = fields("expense", "1.234,50", "cash", "7").parse(Locale::Es).expect("valid");
        assert_eq!(e.signed_amount(), Decimal::from_str("-1234.50").expect("dec"));
        assert_eq!(e.category_id, Some(7));
        assert_eq!(
            fields("expense", "10", "cash", "").parse(Locale::Es).map(|_| ()),
            Err(vec![("category", "money.error_category_required")])
        );
        assert_eq!(
            fields("expense", "10", "cash", "Limpieza").parse(Locale::Es).map(|_| ()),
            Err(vec![("category", "money.error_category_unknown")])
        );
    }

    #[test]
    fn income_is_positive_and_ignores_the_category() {
        let e = fields("income", "10.50", "transfer", "3").parse(Locale::En).expect("valid");
        assert_eq!(e.signed_amount(), Decimal::from_str("10.50").expect("dec"));
        assert_eq!(e.category_id, None);
    }

    #[test]
    fn bad_input_names_each_field() {
        assert_eq!(
            fields("gift", "0", "", "").parse(Locale::Es).map(|_| ()),
            Err(vec![
                ("direction", "error.choose_option"),
                ("amount", "money.error_positive"),
                ("method", "error.choose_option")
            ])
        );
        assert_eq!(
            fields("income", "-5", "cash", "").parse(Locale::Es).map(|_| ()),
            Err(vec![("amount", "error.negative")])
        );
        assert_eq!(
            fields("income", "", "account", "").parse(Locale::Es).map(|_| ()),
            Err(vec![("amount", "error.required"), ("method", "error.choose_option")])
        );
    }
}
