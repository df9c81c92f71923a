//! Customers and their accounts: the customer form, list and search, history (sales, quotes,
//! account entries), and the two account entries people record by hand — opening balances and
//! payments on account. Balances move only through `customer_ledger` rows (a database trigger
//! applies each one and refuses payments above what is owed); a payment is also income in the
//! money ledger, in the same transaction.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::auth::Email;
use super::catalog::{take, FieldErrors, WriteError};
use super::money::Money;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

pub const PAGE_SIZE: i64 = 50;

/// Free text of an optional field: trimmed, at most `max` characters; line breaks only when
/// `multiline`, no other control characters.
fn optional_text(raw: &str, max: usize, multiline: bool) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err("error.too_long");
    }
    if s.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err("error.control_chars");
    }
    Ok(s.to_string())
}

fn optional_email(raw: &str) -> Result<String, &'static str> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    Email::try_from(raw).map(|e| e.as_str().to_string())
}

/// The raw fields of the customer form, as typed.
#[derive(Clone, Debug, Default)]
pub struct CustomerFields {
    pub name: String,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
}

#[derive(Clone, Debug)]
pub struct CustomerInput {
    pub name: Name,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
}

impl CustomerFields {
    /// Parses every field, collecting all errors at once.
    pub fn parse(&self) -> Result<CustomerInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let name = take(e, "name", Name::parse(&self.name, 200));
        let tax_id = take(e, "tax_id", optional_text(&self.tax_id, 20, false));
        let email = take(e, "email", optional_email(&self.email));
        let phone = take(e, "phone", optional_text(&self.phone, 40, false));
        let address = take(e, "address", optional_text(&self.address, 300, false));
        let notes = take(e, "notes", optional_text(&self.notes, 1000, true));
        match (name, tax_id, email, phone, address, notes) {
            (Some(name), Some(tax_id), Some(email), Some(phone), Some(address), Some(notes)) => {
                Ok(CustomerInput { name, tax_id, email, phone, address, notes })
            }
            _ => Err(errors),
        }
    }
}

/// The money ledger's methods for collecting a debt ("on account" is not one: it is the debt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    Cash,
    Card,
    Transfer,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 3] = [PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Transfer];

    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "transfer",
        }
    }

    pub fn parse(raw: &str) -> Result<PaymentMethod, &'static str> {
        PaymentMethod::ALL.into_iter().find(|m| m.code() == raw.trim()).ok_or("error.choose_option")
    }
}

/// A positive amount and a note: what an opening balance or a payment records.
#[derive(Clone, Debug)]
pub struct AccountEntry {
    pub amount: Money,
    pub note: String,
}

fn positive_money(raw: &str, locale: Locale) -> Result<Money, &'static str> {
    let m = Money::parse(raw, locale)?;
    if m.value().is_zero() {
        return Err("payment.error_positive");
    }
    Ok(m)
}

impl AccountEntry {
    pub fn parse(amount: &str, note: &str, locale: Locale) -> Result<AccountEntry, FieldErrors> {
        let mut errors = FieldErrors::new();
        let amount = take(&mut errors, "amount", positive_money(amount, locale));
        let note = take(&mut errors, "note", optional_text(note, 500, false));
        match (amount, note) {
            (Some(amount), Some(note)) => Ok(AccountEntry { amount, note }),
            _ => Err(errors),
        }
    }
}

/// Parses the payment form: method, amount, note.
pub fn parse_payment(
    method: &str,
    amount: &str,
    note: &str,
    locale: Locale,
) -> Result<(PaymentMethod, AccountEntry), FieldErrors> {
    let mut errors = FieldErrors::new();
    let method = take(&mut errors, "method", PaymentMethod::parse(method));
    let entry = AccountEntry::parse(amount, note, locale).map_err(|e| errors.extend(e)).ok();
    match (method, entry) {
        (Some(m), Some(entry)) if errors.is_empty() => Ok((m, entry)),
        _ => Err(errors),
    }
}

/// A refused customer write (named constraint or trigger refusal) as a field error.
fn write_error(e: tokio_postgres::Error) -> WriteError {
    let field = match violated_constraint(&e) {
        Some("customers_final_consumer_kept") => Some(("customer", "customer.error_final_consumer_kept")),
        Some("sales_customer_id_fkey" | "quotes_customer_id_fkey" | "customer_ledger_customer_id_fkey") => {
            Some(("customer", "customer.error_has_history"))
        }
        Some("customer_payment_exceeds_debt") => Some(("amount", "payment.error_exceeds_debt")),
        Some("customer_ledger_final_consumer") => Some(("form", "payment.error_final_consumer")),
        Some("customer_ledger_amount_check" | "money_ledger_amount_check") => {
            Some(("amount", "payment.error_positive"))
        }
        Some("customer_ledger_note_check" | "money_ledger_description_check") => {
            Some(("note", "error.too_long"))
        }
        Some("customers_name_check") => Some(("name", "error.too_long")),
        Some("customers_tax_id_check") => Some(("tax_id", "error.too_long")),
        Some("customers_email_check") => Some(("email", "error.too_long")),
        Some("customers_phone_check") => Some(("phone", "error.too_long")),
        Some("customers_address_check") => Some(("address", "error.too_long")),
        Some("customers_notes_check") => Some(("notes", "error.too_long")),
        Some(c) if c.ends_with("_check") => Some(("form", "error.value_out_of_range")),
        _ => None,
    };
    match field {
        Some(f) => WriteError::Field(vec![f]),
        None => WriteError::Other(e.into()),
    }
}

#[derive(Clone, Debug)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
    pub is_final_consumer: bool,
    pub active: bool,
    /// What the customer owes (negative: credit in their favour).
    pub balance: Decimal,
}

impl Customer {
    pub fn fields(&self) -> CustomerFields {
        CustomerFields {
            name: self.name.clone(),
            tax_id: self.tax_id.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            notes: self.notes.clone(),
        }
    }
}

const CUSTOMER_COLUMNS: &str = "c.id, c.name, c.tax_id, c.email, c.phone, c.address, c.notes,
       c.is_final_consumer, c.active, c.balance from customers c";

fn customer(r: &Row) -> Customer {
    Customer {
        id: r.get(0),
        name: r.get(1),
        tax_id: r.get(2),
        email: r.get(3),
        phone: r.get(4),
        address: r.get(5),
        notes: r.get(6),
        is_final_consumer: r.get(7),
        active: r.get(8),
        balance: r.get(9),
    }
}

pub async fn by_id(tx: &Tx<'_>, id: i64) -> Result<Option<Customer>, AppError> {
    let sql = format!("select {CUSTOMER_COLUMNS} where c.id = $1");
    Ok(tx.query_opt(&sql, &[&id]).await?.as_ref().map(customer))
}

#[derive(Clone, Debug, Default)]
pub struct CustomerQuery {
    pub q: String,
    /// None: all; Some(true): active only; Some(false): inactive only.
    pub active: Option<bool>,
    pub page: i64,
}

pub struct CustomerPage {
    pub items: Vec<Customer>,
    pub has_next: bool,
}

fn escape_like(q: &str) -> String {
    q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn like_pattern(q: &str) -> String {
    format!("%{}%", escape_like(q))
}

/// A tax id as digits and letters only, so "20-12345678-3" finds "20123456783" and back.
fn bare_tax_id(q: &str) -> String {
    q.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Matches a customer by name (case- and accent-insensitive, parts of words; trigram index on
/// app.fold(name)) or by tax id written with or without separators. $1 the name pattern, $2 the
/// bare tax id pattern (never empty: '' disables it), $3 the bare tax id for an exact match.
const MATCHES: &str = "(app.fold(c.name) like app.fold($1)
        or ($3 <> '' and regexp_replace(c.tax_id, '[^[:alnum:]]', '', 'g') like $2))";
const EXACT_FIRST: &str = "($3 <> '' and regexp_replace(c.tax_id, '[^[:alnum:]]', '', 'g') = $3) desc";

/// One page of customers, by name; an exact tax id match first.
pub async fn list(tx: &Tx<'_>, query: &CustomerQuery) -> Result<CustomerPage, AppError> {
    let q = query.q.trim();
    let bare = bare_tax_id(q);
    let sql = format!(
        "select {CUSTOMER_COLUMNS}
          where ($4 = '' or {MATCHES}) and ($5::boolean is null or c.active = $5)
          order by {EXACT_FIRST}, app.fold(c.name), c.id limit $6 offset $7"
    );
    let offset = query.page.max(0) * PAGE_SIZE;
    let rows = tx
        .query(
            &sql,
            &[&like_pattern(q), &like_pattern(&bare), &bare, &q, &query.active, &(PAGE_SIZE + 1), &offset],
        )
        .await?;
    let items: Vec<Customer> = rows.iter().map(customer).collect();
    let (items, has_next) = super::split_page(items, PAGE_SIZE);
    Ok(CustomerPage { items, has_next })
}

/// A customer found by the counter's search: (id, name, tax id, balance).
pub type Hit = (i64, String, String, Decimal);

/// Active customers whose name or tax id matches `q`, best first (exact tax id, then names that
/// start with it, then by name); at most `limit` (1..=50).
pub async fn search(tx: &Tx<'_>, q: &str, limit: i64) -> Result<Vec<Hit>, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let bare = bare_tax_id(q);
    let prefix = format!("{}%", escape_like(q));
    let sql = format!(
        "select c.id, c.name, c.tax_id, c.balance from customers c
          where c.active and {MATCHES}
          order by {EXACT_FIRST}, (app.fold(c.name) like app.fold($4)) desc, app.fold(c.name), c.id
          limit $5"
    );
    let rows = tx
        .query(&sql, &[&like_pattern(q), &like_pattern(&bare), &bare, &prefix, &limit.clamp(1, 50)])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect())
}

pub async fn create(tx: &Tx<'_>, c: &CustomerInput) -> Result<i64, WriteError> {
    let row = tx
        .query_one(
            "insert into customers (name, tax_id, email, phone, address, notes)
             values ($1, $2, $3, $4, $5, $6) returning id",
            &[&c.name.as_str(), &c.tax_id, &c.email, &c.phone, &c.address, &c.notes],
        )
        .await
        .map_err(write_error)?;
    Ok(row.get(0))
}

/// Updates a customer's details (never its balance nor its mark as the final consumer).
pub async fn update(tx: &Tx<'_>, id: i64, c: &CustomerInput) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "update customers set name = $2, tax_id = $3, email = $4, phone = $5, address = $6, notes = $7
              where id = $1",
            &[&id, &c.name.as_str(), &c.tax_id, &c.email, &c.phone, &c.address, &c.notes],
        )
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// Activates or deactivates a customer. The final consumer stays active: the counter sells to it
/// whenever no customer is chosen.
pub async fn set_active(tx: &Tx<'_>, id: i64, active: bool) -> Result<bool, WriteError> {
    let updated = tx
        .query_opt(
            "update customers set active = $2 where id = $1 and ($2 or not is_final_consumer) returning id",
            &[&id, &active],
        )
        .await
        .map_err(write_error)?;
    if updated.is_some() {
        return Ok(true);
    }
    match by_id(tx, id).await? {
        Some(c) if c.is_final_consumer => {
            Err(WriteError::Field(vec![("customer", "customer.error_final_consumer_kept")]))
        }
        _ => Ok(false),
    }
}

/// Deletes a customer without history; one with sales, quotes or account entries is refused by
/// its foreign keys (deactivate it instead), the final consumer by its trigger.
pub async fn delete(tx: &Tx<'_>, id: i64) -> Result<bool, WriteError> {
    Ok(tx.execute("delete from customers where id = $1", &[&id]).await.map_err(write_error)? == 1)
}

/// Loads what the customer owed before the shop used this service, as the account's first entry.
pub async fn record_opening(tx: &Tx<'_>, id: i64, entry: &AccountEntry) -> Result<(), WriteError> {
    // lock the customer so that two openings cannot both find the account empty
    tx.query_opt("select 1 from customers where id = $1 for update", &[&id]).await.map_err(write_error)?;
    let has_entries: bool = tx
        .query_one("select exists (select 1 from customer_ledger where customer_id = $1)", &[&id])
        .await?
        .get(0);
    if has_entries {
        return Err(WriteError::Field(vec![("amount", "customer.error_opening_not_first")]));
    }
    tx.execute(
        "insert into customer_ledger (customer_id, kind, amount, note) values ($1, 'opening', $2, $3)",
        &[&id, &entry.amount.value(), &entry.note],
    )
    .await
    .map_err(write_error)?;
    Ok(())
}

/// Records a payment on account: the account goes down (the trigger refuses more than what is
/// owed) and the money ledger gets the income, described by the note or else the customer's name.
/// Returns the balance left.
pub async fn record_payment(
    tx: &Tx<'_>,
    id: i64,
    method: PaymentMethod,
    entry: &AccountEntry,
) -> Result<Decimal, WriteError> {
    let amount = entry.amount.value();
    let balance: Decimal = tx
        .query_one(
            "insert into customer_ledger (customer_id, kind, amount, note) values ($1, 'payment', $2, $3)
             returning balance_after",
            &[&id, &(-amount), &entry.note],
        )
        .await
        .map_err(write_error)?
        .get(0);
    tx.execute(
        "insert into money_ledger (kind, method, amount, customer_id, description, user_id)
         values ('customer_payment', $1, $2, $3,
                 coalesce(nullif($4, ''), (select name from customers where id = $3)), app.current_user_id())",
        &[&method.code(), &amount, &id, &entry.note],
    )
    .await
    .map_err(write_error)?;
    Ok(balance)
}

#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub id: i64,
    /// In the shop's time zone.
    pub at: NaiveDateTime,
    pub kind: String,
    pub amount: Decimal,
    pub balance_after: Decimal,
    pub sale_id: Option<i64>,
    pub note: String,
    pub user_name: Option<String>,
}

/// The newest account entries of a customer, each with the balance it left.
pub async fn ledger(tx: &Tx<'_>, id: i64, limit: i64) -> Result<Vec<LedgerEntry>, AppError> {
    let rows = tx
        .query(
            "select l.id, l.at at time zone (select time_zone from settings), l.kind, l.amount, l.balance_after,
                    l.sale_id, l.note, u.display_name
               from customer_ledger l left join app.users u on u.id = l.user_id
              where l.customer_id = $1 order by l.id desc limit $2",
            &[&id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| LedgerEntry {
            id: r.get(0),
            at: r.get(1),
            kind: r.get(2),
            amount: r.get(3),
            balance_after: r.get(4),
            sale_id: r.get(5),
            note: r.get(6),
            user_name: r.get(7),
        })
        .collect())
}

#[derive(Clone, Debug)]
pub struct SaleSummary {
    pub id: i64,
    pub at: NaiveDateTime,
    pub total: Decimal,
    pub status: String,
}

/// The customer's newest sales.
pub async fn sales(tx: &Tx<'_>, id: i64, limit: i64) -> Result<Vec<SaleSummary>, AppError> {
    let rows = tx
        .query(
            "select s.id, s.created_at at time zone (select time_zone from settings), s.total, s.status
               from sales s where s.customer_id = $1 order by s.id desc limit $2",
            &[&id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SaleSummary { id: r.get(0), at: r.get(1), total: r.get(2), status: r.get(3) })
        .collect())
}

#[derive(Clone, Debug)]
pub struct QuoteSummary {
    pub id: i64,
    pub at: NaiveDateTime,
    pub valid_until: NaiveDate,
    pub status: String,
    /// Draft or sent, and past its date in the shop's time zone.
    pub expired: bool,
    pub total: Decimal,
}

/// The customer's newest quotes.
pub async fn quotes(tx: &Tx<'_>, id: i64, limit: i64) -> Result<Vec<QuoteSummary>, AppError> {
    let rows = tx
        .query(
            "select q.id, q.created_at at time zone st.time_zone, q.valid_until, q.status,
                    q.status in ('draft', 'sent') and q.valid_until < (now() at time zone st.time_zone)::date,
                    q.total
               from quotes q cross join settings st
              where q.customer_id = $1 order by q.id desc limit $2",
            &[&id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| QuoteSummary {
            id: r.get(0),
            at: r.get(1),
            valid_until: r.get(2),
            status: r.get(3),
            expired: r.get(4),
            total: r.get(5),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn fields(name: &str) -> CustomerFields {
        CustomerFields { name: name.into(), ..Default::default() }
    }

    #[test]
    fn customer_form_collects_every_error() {
        let f = CustomerFields {
            name: "  ".into(),
            tax_id: "1".repeat(21),
            email: "no-at-sign".into(),
            phone: "1".repeat(41),
            address: "a".repeat(301),
            notes: "n".repeat(1001),
        };
        let errors = f.parse().expect_err("all invalid");
        assert_eq!(
            errors,
            vec![
                ("name", "error.required"),
                ("tax_id", "error.too_long"),
                ("email", "error.email_invalid"),
                ("phone", "error.too_long"),
                ("address", "error.too_long"),
                ("notes", "error.too_long"),
            ]
        );
        assert_eq!(fields(&"x".repeat(201)).parse().map(|_| ()), Err(vec![("name", "error.too_long")]));
    }

    #[test]
    fn customer_form_trims_and_allows_blank_optionals() {
        let c = CustomerFields {
            name: "  Ferretería Ñandú ".into(),
            email: " Compras@Example.COM ".into(),
            notes: "línea 1\nlínea 2".into(),
            ..Default::default()
        }
        .parse()
        .expect("valid");
        assert_eq!(c.name.as_str(), "Ferretería Ñandú");
        assert_eq!(c.email, "compras@example.com");
        assert_eq!(c.tax_id, "");
        assert_eq!(
            CustomerFields { name: "x".into(), phone: "11\u{7}22".into(), ..Default::default() }
                .parse()
                .map(|_| ()),
            Err(vec![("phone", "error.control_chars")])
        );
    }

    #[test]
    fn payments_need_a_method_and_a_positive_amount() {
        let (m, e) = parse_payment("transfer", "1.234,50", " cuota ", Locale::Es).expect("valid");
        assert_eq!(m, PaymentMethod::Transfer);
        assert_eq!(e.amount.value(), Decimal::from_str("1234.50").expect("dec"));
        assert_eq!(e.note, "cuota");
        assert_eq!(
            parse_payment("account", "0", "", Locale::Es).map(|_| ()),
            Err(vec![("method", "error.choose_option"), ("amount", "payment.error_positive")])
        );
        assert_eq!(
            parse_payment("cash", "-5", "", Locale::Es).map(|_| ()),
            Err(vec![("amount", "error.negative")])
        );
        assert_eq!(
            AccountEntry::parse("", "", Locale::En).map(|_| ()),
            Err(vec![("amount", "error.required")])
        );
    }

    #[test]
    fn tax_ids_match_without_separators() {
        assert_eq!(bare_tax_id("20-12345678-3"), "20123456783");
        assert_eq!(bare_tax_id(" 30.123 "), "30123");
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
