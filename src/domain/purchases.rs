//! Purchase invoices: a draft gets its header and lines, then is received; a received invoice is
//! fixed and gets payments and corrections. Everything that moves stock, costs or money happens
//! in database triggers (sql/app/V8__purchase_triggers.sql): receiving posts the lines' stock
//! movements and weighted-average costs, a payment posts one money_ledger row and is refused
//! beyond what is owed, a received correction lowers (or raises) what its invoice owes. This
//! module parses the forms, runs the statements and maps the triggers' named refusals to fields.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::catalog::{take, FieldErrors, WriteError};
use super::customers::PaymentMethod;
use super::money::{parse_decimal, Money};
use super::suppliers::optional_text;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

pub const PAGE_SIZE: i64 = 50;

/// A date as a date input sends it (2025-03-31) or as people write it here (31/03/2025).
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("error.required");
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| "purchase.error_date")
}

fn invoice_number(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("error.required");
    }
    if s.chars().count() > 40 {
        return Err("error.too_long");
    }
    if s.chars().any(char::is_control) {
        return Err("error.control_chars");
    }
    Ok(s.to_string())
}

fn id_choice(raw: &str) -> Result<i64, &'static str> {
    raw.trim().parse::<i64>().map_err(|_| "error.choose_option")
}

/// Invoice or correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    Correction,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        if s == "correction" {
            Kind::Correction
        } else {
            Kind::Invoice
        }
    }
}

/// The raw fields of an invoice header, as typed.
#[derive(Clone, Debug, Default)]
pub struct HeaderFields {
    pub supplier_id: String,
    pub number: String,
    pub invoice_date: String,
    pub due_date: String,
    pub note: String,
}

#[derive(Clone, Debug)]
pub struct HeaderInput {
    pub supplier_id: i64,
    pub number: String,
    pub invoice_date: NaiveDate,
    /// None only on a correction.
    pub due_date: Option<NaiveDate>,
    pub note: String,
}

impl HeaderFields {
    /// Parses the header of an invoice (`Kind::Invoice`: due date required and not before the
    /// date) or of a correction (no due date, no supplier: it is the corrected invoice's).
    pub fn parse(&self, kind: Kind) -> Result<HeaderInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let supplier_id = match kind {
            Kind::Invoice => take(e, "supplier_id", id_choice(&self.supplier_id)),
            Kind::Correction => Some(0),
        };
        let number = take(e, "number", invoice_number(&self.number));
        let invoice_date = take(e, "invoice_date", parse_date(&self.invoice_date));
        let due_date = match kind {
            Kind::Invoice => take(e, "due_date", parse_date(&self.due_date)).map(Some),
            Kind::Correction => Some(None),
        };
        let note = take(e, "note", optional_text(&self.note, 500, false));
        if let (Some(d), Some(Some(due))) = (invoice_date, due_date) {
            if due < d {
                e.push(("due_date", "purchase.error_due_before_date"));
            }
        }
        match (supplier_id, number, invoice_date, due_date, note) {
            (Some(supplier_id), Some(number), Some(invoice_date), Some(due_date), Some(note))
                if errors.is_empty() =>
            {
                Ok(HeaderInput { supplier_id, number, invoice_date, due_date, note })
            }
            _ => Err(errors),
        }
    }
}

/// A line as typed: product id (from the search results), quantity and unit cost.
#[derive(Clone, Debug, Default)]
pub struct LineFields {
    pub product_id: String,
    pub quantity: String,
    pub unit_cost: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    pub product_id: i64,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

impl LineFields {
    /// Parses a line with the locale's number format. `divisible`: the product's unit allows
    /// fractions (three decimals), otherwise whole units. An invoice's line brings units in
    /// (quantity > 0); a correction's may take them back (any quantity but zero).
    pub fn parse(&self, locale: Locale, divisible: bool, kind: Kind) -> Result<LineInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let product_id = take(e, "product_id", id_choice(&self.product_id));
        let quantity = take(
            e,
            "quantity",
            parse_decimal(&self.quantity, locale, if divisible { 3 } else { 0 }).and_then(|q| {
                if q.is_zero() {
                    Err("purchase.error_quantity_zero")
                } else if q.is_sign_negative() && kind == Kind::Invoice {
                    Err("error.negative")
                } else if q.abs() >= Decimal::from(1_000_000_000i64) {
                    Err("error.number_too_large")
                } else {
                    Ok(q)
                }
            }),
        );
        let unit_cost = take(e, "unit_cost", Money::parse(&self.unit_cost, locale).map(Money::value));
        match (product_id, quantity, unit_cost) {
            (Some(product_id), Some(quantity), Some(unit_cost)) => {
                Ok(LineInput { product_id, quantity, unit_cost })
            }
            _ => Err(errors),
        }
    }
}

/// A payment as parsed from its form.
#[derive(Clone, Debug)]
pub struct PaymentInput {
    pub method: PaymentMethod,
    pub amount: Decimal,
    pub note: String,
}

/// Parses the payment form; the amount with the one locale-aware parser, greater than zero.
pub fn parse_payment(
    method: &str,
    amount: &str,
    note: &str,
    locale: Locale,
) -> Result<PaymentInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let e = &mut errors;
    let method = take(e, "method", PaymentMethod::parse(method));
    let amount = take(
        e,
        "amount",
        Money::parse(amount, locale).and_then(|m| {
            if m.value().is_zero() {
                Err("purchase.error_payment_positive")
            } else {
                Ok(m.value())
            }
        }),
    );
    let note = take(e, "note", optional_text(note, 200, false));
    match (method, amount, note) {
        (Some(method), Some(amount), Some(note)) => Ok(PaymentInput { method, amount, note }),
        _ => Err(errors),
    }
}

/// A refused write (named constraint or trigger refusal) as a field error.
fn write_error(e: tokio_postgres::Error) -> WriteError {
    let field = match violated_constraint(&e) {
        Some("purchase_invoices_number_key") => Some(("number", "purchase.error_number_taken")),
        Some("purchase_invoices_number_check") => Some(("number", "error.too_long")),
        Some("purchase_invoices_supplier_id_fkey") => Some(("supplier_id", "error.choose_option")),
        Some("purchase_invoices_due_check") => Some(("due_date", "purchase.error_due_before_date")),
        Some("purchase_invoices_due_required") => Some(("due_date", "error.required")),
        Some("purchase_invoices_note_check") => Some(("note", "error.too_long")),
        Some("purchase_invoice_lines_product_id_fkey") => {
            Some(("product_id", "purchase.error_unknown_product"))
        }
        Some("purchase_invoice_lines_positive" | "purchase_invoice_lines_quantity_check") => {
            Some(("quantity", "purchase.error_quantity_positive"))
        }
        Some("purchase_invoice_lines_unit_cost_check") => Some(("unit_cost", "error.negative")),
        Some("purchase_invoices_received_fixed") => Some(("form", "purchase.error_received_fixed")),
        Some("purchase_invoices_empty") => Some(("form", "purchase.error_empty")),
        Some("purchase_invoices_corrects_received") => Some(("form", "purchase.error_corrects_received")),
        // a received correction that would take off more than is still owed
        Some("purchase_invoices_paid_check") => Some(("form", "purchase.error_correction_exceeds")),
        Some("stock_not_negative") => Some(("form", "purchase.error_stock_negative")),
        Some("purchase_payment_exceeds_due") => Some(("amount", "purchase.error_exceeds_due")),
        Some("purchase_payments_amount_check") => Some(("amount", "purchase.error_payment_positive")),
        Some("purchase_payments_received_only") => Some(("form", "purchase.error_not_received")),
        Some("purchase_payments_note_check") => Some(("note", "error.too_long")),
        // rules kept by the database (sql/app/V20__database_rules.sql)
        Some("purchase_invoices_supplier_active") => {
            Some(("supplier_id", "purchase.error_supplier_inactive"))
        }
        Some("purchase_invoice_lines_product_active") => {
            Some(("product_id", "purchase.error_product_inactive"))
        }
        Some("purchase_invoice_lines_quantity_whole") => Some(("quantity", "error.whole_number")),
        _ => None,
    };
    match field {
        Some(f) => WriteError::Field(vec![f]),
        None => WriteError::Other(e.into()),
    }
}

#[derive(Clone, Debug)]
pub struct Invoice {
    pub id: i64,
    pub supplier_id: i64,
    pub supplier: String,
    pub kind: Kind,
    pub corrects_id: Option<i64>,
    pub corrects_number: Option<String>,
    pub number: String,
    pub invoice_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub received: bool,
    pub total: Decimal,
    pub credited: Decimal,
    pub paid: Decimal,
    /// unpaid, partial or paid (computed by the database from the payments).
    pub payment_status: String,
    pub note: String,
    /// In the shop's time zone.
    pub received_at: Option<NaiveDateTime>,
    /// Received, unpaid or partly paid, and due before the shop's today.
    pub overdue: bool,
}

impl Invoice {
    /// What is still owed: the total, plus received corrections, less payments.
    pub fn due(&self) -> Decimal {
        self.total + self.credited - self.paid
    }
}

const INVOICE_COLUMNS: &str = "i.id, i.supplier_id, s.name, i.kind, i.corrects_id, c.number, i.number,
       i.invoice_date, i.due_date, i.status = 'received', i.total, i.credited, i.paid, i.payment_status, i.note,
       i.received_at at time zone st.time_zone,
       i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
           and i.due_date < (now() at time zone st.time_zone)::date
  from purchase_invoices i join suppliers s on s.id = i.supplier_id
  left join purchase_invoices c on c.id = i.corrects_id
  cross join settings st";

fn invoice(r: &Row) -> Invoice {
    Invoice {
        id: r.get(0),
        supplier_id: r.get(1),
        supplier: r.get(2),
        kind: Kind::parse(r.get(3)),
        corrects_id: r.get(4),
        corrects_number: r.get(5),
        number: r.get(6),
        invoice_date: r.get(7),
        due_date: r.get(8),
        received: r.get(9),
        total: r.get(10),
        credited: r.get(11),
        paid: r.get(12),
        payment_status: r.get(13),
        note: r.get(14),
        received_at: r.get(15),
        overdue: r.get(16),
    }
}

pub async fn by_id(tx: &Tx<'_>, id: i64) -> Result<Option<Invoice>, AppError> {
    let sql = format!("select {INVOICE_COLUMNS} where i.id = $1");
    Ok(tx.query_opt(&sql, &[&id]).await?.as_ref().map(invoice))
}

/// Which invoices a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Show {
    #[default]
    All,
    Drafts,
    /// Received, not fully paid.
    Open,
    Overdue,
    Paid,
}

impl Show {
    pub const ALL: [Show; 5] = [Show::All, Show::Drafts, Show::Open, Show::Overdue, Show::Paid];

    pub fn code(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Drafts => "drafts",
            Show::Open => "open",
            Show::Overdue => "overdue",
            Show::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Show {
        Show::ALL.into_iter().find(|x| x.code() == s).unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default)]
pub struct InvoiceQuery {
    pub q: String,
    pub show: Show,
    pub supplier_id: Option<i64>,
    pub page: i64,
}

pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub has_next: bool,
}

/// One page of invoices and corrections, newest first; `q` matches the number or the supplier.
pub async fn list(tx: &Tx<'_>, query: &InvoiceQuery) -> Result<InvoicePage, AppError> {
    let q = query.q.trim();
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let sql = format!(
        "select {INVOICE_COLUMNS}
          where ($1 = '' or i.number ilike $2 or app.fold(s.name) like app.fold($2))
            and ($3::bigint is null or i.supplier_id = $3)
            and case $4::text
                  when 'drafts' then i.status = 'draft'
                  when 'open' then i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
                  when 'overdue' then i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
                                      and i.due_date < (now() at time zone st.time_zone)::date
                  when 'paid' then i.kind = 'invoice' and i.status = 'received' and i.payment_status = 'paid'
                  else true end
          order by i.invoice_date desc, i.id desc limit $5 offset $6"
    );
    let offset = query.page.max(0) * PAGE_SIZE;
    let rows = tx
        .query(&sql, &[&q, &pattern, &query.supplier_id, &query.show.code(), &(PAGE_SIZE + 1), &offset])
        .await?;
    let items: Vec<Invoice> = rows.iter().map(invoice).collect();
    let (items, has_next) = super::split_page(items, PAGE_SIZE);
    Ok(InvoicePage { items, has_next })
}

/// A supplier's newest invoices and corrections.
pub async fn for_supplier(tx: &Tx<'_>, supplier_id: i64, limit: i64) -> Result<Vec<Invoice>, AppError> {
    let sql = format!(
        "select {INVOICE_COLUMNS} where i.supplier_id = $1 order by i.invoice_date desc, i.id desc limit $2"
    );
    Ok(tx.query(&sql, &[&supplier_id, &limit]).await?.iter().map(invoice).collect())
}

/// The corrections of an invoice, drafts included.
pub async fn corrections(tx: &Tx<'_>, invoice_id: i64) -> Result<Vec<Invoice>, AppError> {
    let sql = format!("select {INVOICE_COLUMNS} where i.corrects_id = $1 order by i.id");
    Ok(tx.query(&sql, &[&invoice_id]).await?.iter().map(invoice).collect())
}

/// Creates a draft invoice; returns its id. A duplicate number for the supplier is refused by the
/// unique constraint `purchase_invoices_number_key`.
pub async fn create_invoice(tx: &Tx<'_>, h: &HeaderInput) -> Result<i64, WriteError> {
    let row = tx
        .query_one(
            "insert into purchase_invoices (supplier_id, number, invoice_date, due_date, note)
             values ($1, $2, $3, $4, $5) returning id",
            &[&h.supplier_id, &h.number, &h.invoice_date, &h.due_date, &h.note],
        )
        .await
        .map_err(write_error)?;
    Ok(row.get(0))
}

/// Creates a draft correction of a received invoice (same supplier); returns its id.
pub async fn create_correction(tx: &Tx<'_>, invoice_id: i64, h: &HeaderInput) -> Result<i64, WriteError> {
    let row = tx
        .query_opt(
            "insert into purchase_invoices (supplier_id, kind, corrects_id, number, invoice_date, note)
             select supplier_id, 'correction', id, $2, $3, $4 from purchase_invoices
              where id = $1 and kind = 'invoice' and status = 'received'
             returning id",
            &[&invoice_id, &h.number, &h.invoice_date, &h.note],
        )
        .await
        .map_err(write_error)?;
    match row {
        Some(r) => Ok(r.get(0)),
        None => Err(WriteError::Field(vec![("form", "purchase.error_corrects_received")])),
    }
}

/// Changes a draft's number, dates and note (a received invoice is refused by its trigger).
pub async fn update_header(tx: &Tx<'_>, id: i64, h: &HeaderInput) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "update purchase_invoices set number = $2, invoice_date = $3, due_date = $4, note = $5 where id = $1",
            &[&id, &h.number, &h.invoice_date, &h.due_date, &h.note],
        )
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// Deletes a draft with its lines (a received invoice is refused by its trigger).
pub async fn delete_draft(tx: &Tx<'_>, id: i64) -> Result<bool, WriteError> {
    Ok(tx.execute("delete from purchase_invoices where id = $1", &[&id]).await.map_err(write_error)? == 1)
}

/// Whether the product's unit allows fractions; None when no such product exists in this shop.
pub async fn product_divisible(tx: &Tx<'_>, product_id: i64) -> Result<Option<bool>, AppError> {
    Ok(tx
        .query_opt(
            "select u.divisible from products p join units u on u.id = p.unit_id where p.id = $1",
            &[&product_id],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Adds a line to a draft. The product must exist in this shop's `products` (its foreign key:
/// another shop's ids are simply not there).
pub async fn add_line(tx: &Tx<'_>, invoice_id: i64, line: &LineInput) -> Result<(), WriteError> {
    tx.execute(
        "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ($1, $2, $3, $4)",
        &[&invoice_id, &line.product_id, &line.quantity, &line.unit_cost],
    )
    .await
    .map_err(write_error)?;
    Ok(())
}

pub async fn delete_line(tx: &Tx<'_>, invoice_id: i64, line_id: i64) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "delete from purchase_invoice_lines where id = $1 and invoice_id = $2",
            &[&line_id, &invoice_id],
        )
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// Receives a draft: its trigger posts stock and costs (and, for a correction, what the invoice
/// owes). False when there is no such draft.
pub async fn receive(tx: &Tx<'_>, id: i64) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "update purchase_invoices set status = 'received' where id = $1 and status = 'draft'",
            &[&id],
        )
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// Records a payment; the trigger refuses it beyond what is owed and posts the money.
pub async fn record_payment(tx: &Tx<'_>, invoice_id: i64, p: &PaymentInput) -> Result<(), WriteError> {
    tx.execute(
        "insert into purchase_payments (invoice_id, method, amount, note) values ($1, $2, $3, $4)",
        &[&invoice_id, &p.method.code(), &p.amount, &p.note],
    )
    .await
    .map_err(write_error)?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Line {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub total: Decimal,
}

pub async fn lines(tx: &Tx<'_>, invoice_id: i64) -> Result<Vec<Line>, AppError> {
    let rows = tx
        .query(
            "select l.id, l.product_id, p.sku, p.name, u.code, l.quantity, l.unit_cost, l.total
               from purchase_invoice_lines l join products p on p.id = l.product_id join units u on u.id = p.unit_id
              where l.invoice_id = $1 order by l.id",
            &[&invoice_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Line {
            id: r.get(0),
            product_id: r.get(1),
            sku: r.get(2),
            name: r.get(3),
            unit: r.get(4),
            quantity: r.get(5),
            unit_cost: r.get(6),
            total: r.get(7),
        })
        .collect())
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub at: NaiveDateTime,
    pub method: String,
    pub amount: Decimal,
    pub note: String,
    pub user_name: Option<String>,
}

pub async fn payments(tx: &Tx<'_>, invoice_id: i64) -> Result<Vec<Payment>, AppError> {
    let rows = tx
        .query(
            "select p.at at time zone (select time_zone from settings), p.method, p.amount, p.note, u.display_name
               from purchase_payments p left join app.users u on u.id = p.user_id
              where p.invoice_id = $1 order by p.id",
            &[&invoice_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Payment {
            at: r.get(0),
            method: r.get(1),
            amount: r.get(2),
            note: r.get(3),
            user_name: r.get(4),
        })
        .collect())
}

/// A product offered for a line: (id, sku, name, unit code, current cost).
pub type ProductHit = (i64, String, String, String, Decimal);

/// Active products whose name, SKU or barcode matches `q`, exact codes first; at most 20.
pub async fn search_products(tx: &Tx<'_>, q: &str) -> Result<Vec<ProductHit>, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = tx
        .query(
            "select p.id, p.sku, p.name, u.code, p.cost from products p join units u on u.id = p.unit_id
              where p.active and (p.sku = $1 or p.barcode = $1 or p.name_search like app.fold($2) or p.sku ilike $2)
              order by (p.sku = $1 or p.barcode = $1) desc, p.name_search, p.id limit 20",
            &[&q, &pattern],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect())
}

/// An invoice for the dashboard: received, not fully paid, due soon or overdue.
#[derive(Clone, Debug)]
pub struct DueInvoice {
    pub id: i64,
    pub supplier_id: i64,
    pub supplier: String,
    pub number: String,
    pub due_date: NaiveDate,
    /// What is still owed.
    pub due: Decimal,
    /// Due before `today`.
    pub overdue: bool,
}

/// Received invoices still unpaid or partly paid whose due date is at most `within_days` after
/// `today` (overdue ones included), soonest first, at most `limit`.
pub async fn due_invoices(
    tx: &Tx<'_>,
    today: NaiveDate,
    within_days: i32,
    limit: i64,
) -> Result<Vec<DueInvoice>, AppError> {
    due_invoices_on(tx, Some(today), within_days, limit).await
}

async fn due_invoices_on(
    tx: &Tx<'_>,
    today: Option<NaiveDate>,
    within_days: i32,
    limit: i64,
) -> Result<Vec<DueInvoice>, AppError> {
    let rows = tx
        .query(
            "with today as (
                 select coalesce($1::date, (select (now() at time zone time_zone)::date from settings)) as d)
             select i.id, i.supplier_id, s.name, i.number, i.due_date, i.total + i.credited - i.paid,
                    i.due_date < today.d
               from purchase_invoices i join suppliers s on s.id = i.supplier_id, today
              where i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
                and i.due_date <= today.d + $2::int
              order by i.due_date, i.id limit $3",
            &[&today, &within_days, &limit.clamp(0, 500)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DueInvoice {
            id: r.get(0),
            supplier_id: r.get(1),
            supplier: r.get(2),
            number: r.get(3),
            due_date: r.get(4),
            due: r.get(5),
            overdue: r.get(6),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn line(q: &str, c: &str) -> LineFields {
        LineFields { product_id: "7".into(), quantity: q.into(), unit_cost: c.into() }
    }

    #[test]
    fn amounts_are_ten_and_a_half_with_either_separator() {
        for l in [Locale::Es, Locale::En] {
            for raw in ["10.50", "10,50"] {
                let p = parse_payment("cash", raw, "", l).expect("valid");
                assert_eq!(p.amount, d("10.50"), "{raw} {l:?}");
                let li = line("2", raw).parse(l, false, Kind::Invoice).expect("valid");
                assert_eq!(li.unit_cost, d("10.50"), "{raw} {l:?}");
            }
        }
    }

    #[test]
    fn lines_follow_the_unit_and_the_kind() {
        assert_eq!(
            line("1,5", "1").parse(Locale::Es, false, Kind::Invoice),
            Err(vec![("quantity", "error.whole_number")])
        );
        assert_eq!(line("1,5", "1").parse(Locale::Es, true, Kind::Invoice).map(|l| l.quantity), Ok(d("1.5")));
        assert_eq!(
            line("-2", "1").parse(Locale::Es, false, Kind::Invoice),
            Err(vec![("quantity", "error.negative")])
        );
        assert_eq!(
            line("-2", "1").parse(Locale::Es, false, Kind::Correction).map(|l| l.quantity),
            Ok(d("-2"))
        );
        assert_eq!(
            line("0", "-1").parse(Locale::Es, false, Kind::Correction),
            Err(vec![("quantity", "purchase.error_quantity_zero"), ("unit_cost", "error.negative")])
        );
        let no_product = LineFields { product_id: "x".into(), quantity: "1".into(), unit_cost: "1".into() };
        assert_eq!(
            no_product.parse(Locale::En, false, Kind::Invoice),
            Err(vec![("product_id", "error.choose_option")])
        );
    }

    #[test]
    fn payments_must_be_positive() {
        assert_eq!(
            parse_payment("cash", "-5", "", Locale::Es).map(|_| ()),
            Err(vec![("amount", "error.negative")])
        );
        assert_eq!(
            parse_payment("cheque", "0", "", Locale::Es).map(|_| ()),
            Err(vec![("method", "error.choose_option"), ("amount", "purchase.error_payment_positive")])
        );
        assert_eq!(parse_payment("transfer", "1.234,50", "", Locale::Es).map(|p| p.amount), Ok(d("1234.50")));
    }

    #[test]
    fn headers_need_a_number_and_sane_dates() {
        let h = HeaderFields {
            supplier_id: "3".into(),
            number: " A-0001-00001234 ".into(),
            invoice_date: "31/03/2025".into(),
            due_date: "2025-04-30".into(),
            note: String::new(),
        };
        let ok = h.parse(Kind::Invoice).expect("valid");
        assert_eq!(ok.number, "A-0001-00001234");
        assert_eq!(ok.due_date, NaiveDate::from_ymd_opt(2025, 4, 30));
        let bad = HeaderFields { due_date: "2025-03-01".into(), ..h.clone() };
        assert_eq!(
            bad.parse(Kind::Invoice).map(|_| ()),
            Err(vec![("due_date", "purchase.error_due_before_date")])
        );
        let empty = HeaderFields::default();
        assert_eq!(
            empty.parse(Kind::Invoice).map(|_| ()),
            Err(vec![
                ("supplier_id", "error.choose_option"),
                ("number", "error.required"),
                ("invoice_date", "error.required"),
                ("due_date", "error.required"),
            ])
        );
        let corr = HeaderFields { supplier_id: String::new(), due_date: String::new(), ..h };
        assert_eq!(corr.parse(Kind::Correction).map(|c| c.due_date), Ok(None));
        assert_eq!(parse_date("32/01/2025"), Err("purchase.error_date"));
    }
}
