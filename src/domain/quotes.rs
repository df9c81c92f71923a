//! Quotes (presupuestos): parsing the new-quote form line by line, numbering (the row id in the
//! shop's schema), validity computed in the shop's time zone, the draft → sent → accepted moves,
//! and converting a quote into a sale exactly once through `sales::record_sale`. "Expired" is never
//! stored: it is an open quote whose `valid_until` is before today in the shop's time zone.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::catalog::{take, FieldErrors};
use super::money::{Money, Quantity};
use super::sales::{self, line_total, LineInput, Method, SaleInput, SaleRefusal};
use crate::db::tx::Tx;
use crate::error::AppError;
use crate::i18n::Locale;

/// Rows the new-quote form accepts (and at most shows).
pub const MAX_LINES: usize = 50;
pub const PAGE_SIZE: i64 = 50;
const NOTE_MAX: usize = 1000;

/// "Today" for the shop: its own calendar day, not the server's.
const TODAY: &str = "(now() at time zone st.time_zone)::date";

/// What a quote is, as shown and filtered: its stored status, or `Expired` (computed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Draft,
    Sent,
    Accepted,
    Converted,
    Expired,
}

impl State {
    pub const ALL: [State; 5] =
        [State::Draft, State::Sent, State::Accepted, State::Converted, State::Expired];

    pub fn code(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Sent => "sent",
            State::Accepted => "accepted",
            State::Converted => "converted",
            State::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.code() == s)
    }

    /// The state of a stored row: an open quote past its date is expired.
    pub fn of(status: &str, expired: bool) -> State {
        match State::parse(status) {
            Some(State::Converted) => State::Converted,
            _ if expired => State::Expired,
            Some(s) => s,
            None => State::Draft,
        }
    }

    /// The stored statuses a person may move a quote from into `self` (converting is separate).
    fn moves_from(self) -> &'static [&'static str] {
        match self {
            State::Sent => &["draft"],
            State::Accepted => &["draft", "sent"],
            _ => &[],
        }
    }

    /// Where a person may move a quote in this state by hand.
    pub fn next(self) -> &'static [State] {
        match self {
            State::Draft => &[State::Sent, State::Accepted],
            State::Sent => &[State::Accepted],
            _ => &[],
        }
    }

    /// Draft, sent or accepted, and not expired.
    pub fn convertible(self) -> bool {
        matches!(self, State::Draft | State::Sent | State::Accepted)
    }
}

/// One row of the new-quote form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineFields {
    pub code: String,
    pub quantity: String,
    pub price: String,
    pub discount: String,
}

impl LineFields {
    pub fn is_blank(&self) -> bool {
        [&self.code, &self.quantity, &self.price, &self.discount].iter().all(|s| s.trim().is_empty())
    }
}

/// The new-quote form as typed: fields `customer_id`, `note`, and per row `code_N`, `quantity_N`,
/// `price_N`, `discount_N` (N from 0).
#[derive(Clone, Debug, Default)]
pub struct QuoteFields {
    pub customer_id: String,
    pub note: String,
    pub lines: Vec<LineFields>,
}

impl QuoteFields {
    /// Reads the form's pairs; rows past `MAX_LINES` are ignored, trailing blank rows dropped.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> QuoteFields {
        let mut f = QuoteFields::default();
        for (k, v) in pairs {
            match k {
                "customer_id" => f.customer_id = v.to_string(),
                "note" => f.note = v.to_string(),
                _ => {
                    let Some((col, i)) = k.rsplit_once('_') else { continue };
                    let Some(i) = i.parse::<usize>().ok().filter(|i| *i < MAX_LINES) else { continue };
                    if f.lines.len() <= i {
                        f.lines.resize(i + 1, LineFields::default());
                    }
                    let line = &mut f.lines[i];
                    match col {
                        "code" => line.code = v.to_string(),
                        "quantity" => line.quantity = v.to_string(),
                        "price" => line.price = v.to_string(),
                        "discount" => line.discount = v.to_string(),
                        _ => {}
                    }
                }
            }
        }
        while f.lines.last().is_some_and(LineFields::is_blank) {
            f.lines.pop();
        }
        f
    }
}

/// Errors of single rows: (row index, column, i18n key).
pub type LineErrors = Vec<(usize, &'static str, &'static str)>;

#[derive(Clone, Debug, Default)]
pub struct QuoteErrors {
    pub form: FieldErrors,
    pub lines: LineErrors,
}

impl QuoteErrors {
    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.lines.is_empty()
    }
}

/// A product a row's code named.
#[derive(Clone, Debug)]
pub struct ProductRef {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price: Decimal,
    pub divisible: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteLine {
    pub product_id: i64,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
}

impl QuoteLine {
    pub fn total(&self) -> Decimal {
        line_total(self.quantity, self.unit_price, self.discount)
    }
}

/// A quote ready to store.
#[derive(Clone, Debug)]
pub struct QuoteInput {
    pub customer_id: i64,
    pub note: String,
    pub lines: Vec<QuoteLine>,
}

impl QuoteInput {
    pub fn total(&self) -> Decimal {
        self.lines.iter().map(QuoteLine::total).sum()
    }
}

/// Parses one non-blank row against the product its code named. A blank quantity is one; a blank
/// price is the product's price; a blank discount is none.
pub fn parse_line(
    raw: &LineFields,
    product: Option<&ProductRef>,
    l: Locale,
) -> Result<QuoteLine, FieldErrors> {
    let mut errors = FieldErrors::new();
    if raw.code.trim().is_empty() {
        errors.push(("code", "error.required"));
    } else if product.is_none() {
        errors.push(("code", "quote.error.unknown_product"));
    }
    // without a product the unit is unknown: still report what is wrong with the number itself
    let divisible = product.is_none_or(|p| p.divisible);
    let quantity = match raw.quantity.trim() {
        "" => Some(Decimal::ONE),
        q => take(
            &mut errors,
            "quantity",
            Quantity::parse_non_negative(q, l, divisible).map(Quantity::value).and_then(|q| {
                if q > Decimal::ZERO {
                    Ok(q)
                } else {
                    Err("quote.error.positive")
                }
            }),
        ),
    };
    let price = match raw.price.trim() {
        "" => product.map(|p| p.price),
        s => take(&mut errors, "price", Money::parse(s, l).map(Money::value)),
    };
    let discount = match raw.discount.trim() {
        "" => Some(Decimal::ZERO),
        s => take(&mut errors, "discount", Money::parse(s, l).map(Money::value)),
    };
    match (product, quantity, price, discount) {
        (Some(p), Some(quantity), Some(unit_price), Some(discount)) if errors.is_empty() => {
            let line =
                QuoteLine { product_id: p.id, description: p.name.clone(), quantity, unit_price, discount };
            if line.total() < Decimal::ZERO {
                return Err(vec![("discount", "quote.error.discount_too_large")]);
            }
            Ok(line)
        }
        _ => Err(errors),
    }
}

fn parse_note(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.chars().count() > NOTE_MAX {
        return Err("error.too_long");
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("error.control_chars");
    }
    Ok(s.to_string())
}

/// Active products whose SKU or barcode is one of `codes`.
pub async fn products_by_code(tx: &Tx<'_>, codes: &[String]) -> Result<Vec<ProductRef>, AppError> {
    let rows = tx
        .query(
            "select p.id, p.sku, p.barcode, p.name, p.price, u.divisible
               from products p join units u on u.id = p.unit_id
              where p.active and (p.sku = any($1) or p.barcode = any($1))",
            &[&codes],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ProductRef {
            id: r.get(0),
            sku: r.get(1),
            barcode: r.get(2),
            name: r.get(3),
            price: r.get(4),
            divisible: r.get(5),
        })
        .collect())
}

/// The customer a quote is for: the one chosen (active), or the final consumer when none was.
async fn resolve_customer(tx: &Tx<'_>, raw: &str) -> Result<Result<i64, &'static str>, AppError> {
    let row = match raw.trim() {
        "" => tx.query_opt("select id from customers where is_final_consumer", &[]).await?,
        s => match s.parse::<i64>() {
            Ok(id) => tx.query_opt("select id from customers where id = $1 and active", &[&id]).await?,
            Err(_) => None,
        },
    };
    Ok(row.map(|r| r.get(0)).ok_or("error.choose_option"))
}

/// Parses the whole form; every error at once (form-level and per row).
pub async fn parse_quote(
    tx: &Tx<'_>,
    fields: &QuoteFields,
    l: Locale,
) -> Result<Result<QuoteInput, QuoteErrors>, AppError> {
    let mut errors = QuoteErrors::default();
    let customer = take(&mut errors.form, "customer_id", resolve_customer(tx, &fields.customer_id).await?);
    let note = take(&mut errors.form, "note", parse_note(&fields.note));
    let codes: Vec<String> = fields.lines.iter().map(|r| r.code.trim().to_string()).collect();
    let products = products_by_code(tx, &codes).await?;
    let mut lines = Vec::new();
    for (i, raw) in fields.lines.iter().enumerate().filter(|(_, r)| !r.is_blank()) {
        let code = raw.code.trim();
        // a SKU names a product before a barcode does
        let product = products
            .iter()
            .find(|p| p.sku == code)
            .or_else(|| products.iter().find(|p| p.barcode.as_deref() == Some(code)));
        match parse_line(raw, product, l) {
            Ok(line) => lines.push(line),
            Err(e) => errors.lines.extend(e.into_iter().map(|(col, key)| (i, col, key))),
        }
    }
    if lines.is_empty() && errors.lines.is_empty() {
        errors.form.push(("lines", "quote.error.no_lines"));
    }
    Ok(match (customer, note) {
        (Some(customer_id), Some(note)) if errors.is_empty() => Ok(QuoteInput { customer_id, note, lines }),
        _ => Err(errors),
    })
}

/// Stores a quote; its number is its id, its validity today (in the shop's time zone) plus the
/// shop's `quote_validity_days`.
pub async fn create_quote(tx: &Tx<'_>, user_id: i64, q: &QuoteInput) -> Result<i64, AppError> {
    let id: i64 = tx
        .query_one(
            &format!(
                "insert into quotes (customer_id, user_id, valid_until, total, note)
                 select $1, $2, {TODAY} + st.quote_validity_days, $3, $4 from settings st returning id"
            ),
            &[&q.customer_id, &user_id, &q.total(), &q.note],
        )
        .await?
        .get(0);
    let stmt = tx
        .prepare(
            "insert into quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    for (i, l) in q.lines.iter().enumerate() {
        let position = (i + 1) as i32;
        tx.execute(
            &stmt,
            &[
                &id,
                &position,
                &l.product_id,
                &l.description,
                &l.quantity,
                &l.unit_price,
                &l.discount,
                &l.total(),
            ],
        )
        .await?;
    }
    Ok(id)
}

/// How many days a new quote stays valid in this shop.
pub async fn validity_days(tx: &Tx<'_>) -> Result<i32, AppError> {
    Ok(tx.query_one("select quote_validity_days from settings", &[]).await?.get(0))
}

/// Customers to choose from (the final consumer first), plus `selected` even when inactive.
pub async fn customer_choices(tx: &Tx<'_>, selected: Option<i64>) -> Result<Vec<(i64, String)>, AppError> {
    let rows = tx
        .query(
            "select id, name from customers where active or id = $1
              order by is_final_consumer desc, app.fold(name), id limit 1000",
            &[&selected],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[derive(Clone, Debug)]
pub struct QuoteRow {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub customer: String,
    pub valid_until: NaiveDate,
    pub state: State,
    pub total: Decimal,
}

#[derive(Clone, Debug, Default)]
pub struct QuoteFilter {
    pub state: Option<State>,
    pub page: i64,
}

/// One page of quotes, newest first; filtering by `Expired` or by a stored status excluding the
/// expired ones (so each quote shows under exactly one state).
pub async fn list_quotes(tx: &Tx<'_>, f: &QuoteFilter) -> Result<(Vec<QuoteRow>, bool), AppError> {
    let offset = f.page.max(0) * PAGE_SIZE;
    let state = f.state.map(State::code);
    let rows = tx
        .query(
            &format!(
                "select q.id, q.created_at at time zone st.time_zone, c.name, q.valid_until, q.status,
                        q.status <> 'converted' and q.valid_until < {TODAY}, q.total
                   from quotes q cross join settings st join customers c on c.id = q.customer_id
                  where case coalesce($1::text, '')
                          when '' then true
                          when 'expired' then q.status <> 'converted' and q.valid_until < {TODAY}
                          when 'converted' then q.status = 'converted'
                          else q.status = $1 and q.valid_until >= {TODAY}
                        end
                  order by q.id desc limit $2 offset $3"
            ),
            &[&state, &(PAGE_SIZE + 1), &offset],
        )
        .await?;
    let items: Vec<QuoteRow> = rows
        .iter()
        .map(|r| QuoteRow {
            id: r.get(0),
            created_at: r.get(1),
            customer: r.get(2),
            valid_until: r.get(3),
            state: State::of(r.get(4), r.get(5)),
            total: r.get(6),
        })
        .collect();
    let (items, more) = super::split_page(items, PAGE_SIZE);
    Ok((items, more))
}

#[derive(Clone, Debug)]
pub struct QuoteLineView {
    pub sku: String,
    pub description: String,
    pub unit: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub total: Decimal,
}

#[derive(Clone, Debug)]
pub struct QuoteDetail {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub valid_until: NaiveDate,
    pub state: State,
    pub customer_id: i64,
    pub customer: String,
    pub customer_tax_id: String,
    pub is_final_consumer: bool,
    pub seller: Option<String>,
    pub total: Decimal,
    pub note: String,
    pub converted_sale_id: Option<i64>,
    pub converted_at: Option<NaiveDateTime>,
    pub lines: Vec<QuoteLineView>,
}

pub async fn quote_detail(tx: &Tx<'_>, id: i64) -> Result<Option<QuoteDetail>, AppError> {
    let Some(q) = tx
        .query_opt(
            &format!(
                "select q.id, q.created_at at time zone st.time_zone, q.valid_until, q.status,
                        q.status <> 'converted' and q.valid_until < {TODAY}, q.customer_id, c.name, c.tax_id,
                        c.is_final_consumer, u.display_name, q.total, q.note, q.converted_sale_id,
                        q.converted_at at time zone st.time_zone
                   from quotes q cross join settings st join customers c on c.id = q.customer_id
                   left join app.users u on u.id = q.user_id
                  where q.id = $1"
            ),
            &[&id],
        )
        .await?
    else {
        return Ok(None);
    };
    let lines = tx
        .query(
            "select p.sku, l.description, u.code, l.quantity, l.unit_price, l.discount, l.total
               from quote_lines l join products p on p.id = l.product_id join units u on u.id = p.unit_id
              where l.quote_id = $1 order by l.position",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| QuoteLineView {
            sku: r.get(0),
            description: r.get(1),
            unit: r.get(2),
            quantity: r.get(3),
            unit_price: r.get(4),
            discount: r.get(5),
            total: r.get(6),
        })
        .collect();
    Ok(Some(QuoteDetail {
        id: q.get(0),
        created_at: q.get(1),
        valid_until: q.get(2),
        state: State::of(q.get(3), q.get(4)),
        customer_id: q.get(5),
        customer: q.get(6),
        customer_tax_id: q.get(7),
        is_final_consumer: q.get(8),
        seller: q.get(9),
        total: q.get(10),
        note: q.get(11),
        converted_sale_id: q.get(12),
        converted_at: q.get(13),
        lines,
    }))
}

/// Moves a quote to `to` (sent or accepted) when its status allows it and it has not expired.
/// Returns false otherwise (also when there is no such quote). One statement: two people moving
/// the same quote cannot both pass a stale check.
pub async fn set_status(tx: &Tx<'_>, id: i64, to: State) -> Result<bool, AppError> {
    let from: Vec<&str> = to.moves_from().to_vec();
    if from.is_empty() {
        return Ok(false);
    }
    let n = tx
        .execute(
            &format!(
                "update quotes q set status = $2 from settings st
                  where q.id = $1 and q.status = any($3) and q.valid_until >= {TODAY}"
            ),
            &[&id, &to.code(), &from],
        )
        .await?;
    Ok(n == 1)
}

/// The payment taken when converting: one method, an amount (cash may exceed the total).
pub fn parse_payment(method: &str, amount: &str, l: Locale) -> Result<(Method, Decimal), FieldErrors> {
    let mut errors = FieldErrors::new();
    let m = take(&mut errors, "method", Method::parse(method).ok_or("error.choose_option"));
    let a = take(&mut errors, "amount", Money::parse(amount, l).map(Money::value));
    match (m, a) {
        (Some(m), Some(a)) if a > Decimal::ZERO => Ok((m, a)),
        (Some(_), Some(_)) => Err(vec![("amount", "quote.error.positive")]),
        _ => Err(errors),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConvertRefusal {
    AlreadyConverted,
    Expired,
    /// The idempotency key belongs to another sale (a form reused across quotes).
    KeyUsed,
    Sale(SaleRefusal),
}

/// Converts a quote into a sale at the quoted prices, in the caller's transaction: the quote row is
/// locked first, so of two concurrent conversions one waits and then sees it converted. Returns
/// the sale; a repeat of a conversion that already succeeded with the same key returns the same
/// sale. On a refusal the caller must roll back (a stock refusal has aborted the transaction).
pub async fn convert(
    tx: &Tx<'_>,
    user_id: i64,
    id: i64,
    key: Uuid,
    payment: (Method, Decimal),
) -> Result<Result<i64, ConvertRefusal>, AppError> {
    let q = tx
        .query_opt(
            &format!(
                "select q.status, q.valid_until < {TODAY}, q.converted_sale_id, q.customer_id, c.is_final_consumer
                   from quotes q cross join settings st join customers c on c.id = q.customer_id
                  where q.id = $1 for update of q"
            ),
            &[&id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, expired, converted): (String, bool, Option<i64>) = (q.get(0), q.get(1), q.get(2));
    if let Some(sale_id) = converted {
        let same = tx
            .query_opt("select 1 from sales where id = $1 and idempotency_key = $2", &[&sale_id, &key])
            .await?
            .is_some();
        return Ok(if same { Ok(sale_id) } else { Err(ConvertRefusal::AlreadyConverted) });
    }
    if !State::of(&status, expired).convertible() {
        return Ok(Err(ConvertRefusal::Expired));
    }
    let lines = tx
        .query(
            "select product_id, description, quantity, unit_price, discount from quote_lines
              where quote_id = $1 order by position",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| LineInput {
            product_id: r.get(0),
            description: r.get(1),
            quantity: r.get(2),
            unit_price: r.get(3),
            discount: r.get(4),
        })
        .collect();
    let final_consumer: bool = q.get(4);
    let input = SaleInput {
        idempotency_key: key,
        customer_id: (!final_consumer).then(|| q.get::<_, i64>(3)),
        lines,
        payments: vec![payment],
        quote_id: Some(id),
        cart_id: None,
    };
    let recorded = match sales::record_sale(tx, user_id, &input).await? {
        Ok(r) if r.replayed => return Ok(Err(ConvertRefusal::KeyUsed)),
        Ok(r) => r,
        Err(refusal) => return Ok(Err(ConvertRefusal::Sale(refusal))),
    };
    let n = tx
        .execute(
            "update quotes set status = 'converted', converted_sale_id = $2, converted_at = now()
              where id = $1 and status <> 'converted'",
            &[&id, &recorded.sale_id],
        )
        .await?;
    if n != 1 {
        return Err(AppError::Internal(format!("quote {id} changed while locked for conversion")));
    }
    Ok(Ok(recorded.sale_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn product(divisible: bool) -> ProductRef {
        ProductRef {
            id: 7,
            sku: "A-1".into(),
            barcode: Some("7790001".into()),
            name: "Yerba 1 kg".into(),
            price: d("2500"),
            divisible,
        }
    }

    fn raw(code: &str, quantity: &str, price: &str, discount: &str) -> LineFields {
        LineFields {
            code: code.into(),
            quantity: quantity.into(),
            price: price.into(),
            discount: discount.into(),
        }
    }

    #[test]
    fn rows_are_read_by_index_and_trailing_blanks_dropped() {
        let pairs = [
            ("csrf", "x"),
            ("customer_id", "3"),
            ("code_0", "A-1"),
            ("quantity_0", "2"),
            ("code_2", "B"),
            ("code_3", ""),
            ("price_4", " "),
            ("code_99", "ignored"),
        ];
        let f = QuoteFields::from_pairs(pairs.into_iter());
        assert_eq!(f.customer_id, "3");
        assert_eq!(f.lines.len(), 3);
        assert_eq!(f.lines[0], raw("A-1", "2", "", ""));
        assert!(f.lines[1].is_blank());
        assert_eq!(f.lines[2].code, "B");
    }

    #[test]
    fn blanks_take_the_product_price_one_unit_and_no_discount() {
        let p = product(false);
        let line = parse_line(&raw("A-1", "", "", ""), Some(&p), Locale::Es).expect("line");
        assert_eq!(
            line,
            QuoteLine {
                product_id: 7,
                description: "Yerba 1 kg".into(),
                quantity: d("1"),
                unit_price: d("2500"),
                discount: d("0")
            }
        );
        let line = parse_line(&raw("A-1", "3", "1.234,50", "100"), Some(&p), Locale::Es).expect("line");
        assert_eq!(line.total(), d("3603.50"));
    }

    #[test]
    fn bad_rows_name_their_column() {
        let (u, kg) = (product(false), product(true));
        let err = |r: LineFields, p: Option<&ProductRef>| parse_line(&r, p, Locale::Es).expect_err("refused");
        assert_eq!(err(raw("", "1", "", ""), None), vec![("code", "error.required")]);
        assert_eq!(err(raw("NOPE", "1", "", ""), None), vec![("code", "quote.error.unknown_product")]);
        assert_eq!(err(raw("A-1", "0", "", ""), Some(&u)), vec![("quantity", "quote.error.positive")]);
        assert_eq!(err(raw("A-1", "-2", "", ""), Some(&u)), vec![("quantity", "error.negative")]);
        assert_eq!(err(raw("A-1", "1,5", "", ""), Some(&u)), vec![("quantity", "error.whole_number")]);
        assert!(parse_line(&raw("A-1", "1,5", "", ""), Some(&kg), Locale::Es).is_ok());
        assert_eq!(err(raw("A-1", "1", "10,555", ""), Some(&u)), vec![("price", "error.too_many_decimals")]);
        assert_eq!(err(raw("A-1", "1", "", "-1"), Some(&u)), vec![("discount", "error.negative")]);
        assert_eq!(
            err(raw("A-1", "1", "10", "11"), Some(&u)),
            vec![("discount", "quote.error.discount_too_large")]
        );
    }

    #[test]
    fn expiry_is_computed_and_only_open_quotes_convert() {
        assert_eq!(State::of("sent", true), State::Expired);
        assert_eq!(State::of("converted", true), State::Converted);
        assert_eq!(State::of("accepted", false), State::Accepted);
        assert!(State::Accepted.convertible() && State::Draft.convertible());
        assert!(!State::Expired.convertible() && !State::Converted.convertible());
        assert!(State::Sent.moves_from().contains(&"draft"));
        assert!(State::Converted.moves_from().is_empty() && State::Expired.moves_from().is_empty());
    }

    #[test]
    fn payments_need_a_method_and_a_positive_amount() {
        assert_eq!(parse_payment("cash", "1.000", Locale::Es), Ok((Method::Cash, d("1000"))));
        assert_eq!(parse_payment("gold", "10", Locale::Es), Err(vec![("method", "error.choose_option")]));
        assert_eq!(parse_payment("card", "0", Locale::Es), Err(vec![("amount", "quote.error.positive")]));
        assert_eq!(
            parse_payment("card", "1,001", Locale::Es),
            Err(vec![("amount", "error.too_many_decimals")])
        );
    }
}
