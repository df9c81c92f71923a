//! The counter: a per-person cart (server-side draft), recording a sale in one transaction,
//! listing, detail and voiding. Totals are computed here in decimal and checked again by the
//! database; stock, money and account effects are posted by database triggers.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::money::Money;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Cash,
    Card,
    Transfer,
    Account,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Cash, Method::Card, Method::Transfer, Method::Account];

    pub fn code(self) -> &'static str {
        match self {
            Method::Cash => "cash",
            Method::Card => "card",
            Method::Transfer => "transfer",
            Method::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == s)
    }
}

/// A line's total: quantity × price − discount, by the one rounding rule.
pub fn line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal {
    Money::round(quantity * unit_price - discount)
}

#[derive(Clone, Debug)]
pub struct CartLine {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub divisible: bool,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub stock: Decimal,
    pub track_stock: bool,
}

impl CartLine {
    pub fn total(&self) -> Decimal {
        line_total(self.quantity, self.unit_price, self.discount)
    }
}

#[derive(Clone, Debug)]
pub struct Cart {
    pub id: i64,
    pub idempotency_key: Uuid,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub lines: Vec<CartLine>,
}

impl Cart {
    pub fn total(&self) -> Decimal {
        self.lines.iter().map(CartLine::total).sum()
    }
}

/// The person's cart, created empty when they have none (write transactions).
pub async fn cart(tx: &Tx<'_>, user_id: i64) -> Result<Cart, AppError> {
    if let Some(cart) = current_cart(tx, user_id).await? {
        return Ok(cart);
    }
    let stmt = tx
        .prepare_cached("insert into sale_drafts (user_id) values ($1) on conflict (user_id) do nothing")
        .await?;
    tx.execute(&stmt, &[&user_id]).await?;
    current_cart(tx, user_id).await?.ok_or_else(|| AppError::Internal("cart vanished".into()))
}

/// The draft and its lines in one statement (one row per line; one row with no line columns for
/// an empty cart).
const CURRENT_CART: &str = "\
select d.id, d.idempotency_key, d.customer_id, c.name,
       l.id, l.product_id, p.sku, p.name, u.code, u.divisible, l.quantity, l.unit_price, l.discount,
       p.stock, p.track_stock
  from sale_drafts d
  left join customers c on c.id = d.customer_id
  left join (sale_draft_lines l join products p on p.id = l.product_id join units u on u.id = p.unit_id)
    on l.draft_id = d.id
 where d.user_id = $1
 order by l.id";

/// The person's cart if they have one (read-only).
pub async fn current_cart(tx: &Tx<'_>, user_id: i64) -> Result<Option<Cart>, AppError> {
    let stmt = tx.prepare_cached(CURRENT_CART).await?;
    let rows = tx.query(&stmt, &[&user_id]).await?;
    let Some(d) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Cart {
        id: d.get(0),
        idempotency_key: d.get(1),
        customer_id: d.get(2),
        customer_name: d.get(3),
        lines: rows
            .iter()
            .filter(|r| r.get::<_, Option<i64>>(4).is_some())
            .map(|r| CartLine {
                id: r.get(4),
                product_id: r.get(5),
                sku: r.get(6),
                name: r.get(7),
                unit: r.get(8),
                divisible: r.get(9),
                quantity: r.get(10),
                unit_price: r.get(11),
                discount: r.get(12),
                stock: r.get(13),
                track_stock: r.get(14),
            })
            .collect(),
    }))
}

#[derive(Clone, Debug)]
pub struct Found {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price: Decimal,
    pub stock: Decimal,
    pub unit: String,
    pub track_stock: bool,
}

/// Counter search: an exact barcode or SKU first; then names, ranked by units sold in the last
/// 30 days.
pub async fn counter_search(tx: &Tx<'_>, q: &str, limit: i64) -> Result<Vec<Found>, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = tx
        .query(
            "select p.id, p.sku, p.barcode, p.name, p.price, p.stock, u.code, p.track_stock
               from products p join units u on u.id = p.unit_id
               left join lateral (
                    select sum(l.quantity) as sold from sale_lines l join sales s on s.id = l.sale_id
                     where l.product_id = p.id and s.created_at > now() - interval '30 days'
               ) recent on true
              where p.active and (p.barcode = $1 or p.sku = $1 or p.name_search like app.fold($2))
              order by (p.barcode = $1 or p.sku = $1) desc, coalesce(recent.sold, 0) desc, p.name_search, p.id
              limit $3",
            &[&q, &pattern, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Found {
            id: r.get(0),
            sku: r.get(1),
            barcode: r.get(2),
            name: r.get(3),
            price: r.get(4),
            stock: r.get(5),
            unit: r.get(6),
            track_stock: r.get(7),
        })
        .collect())
}

/// The product whose barcode or SKU is exactly `code`, if any (a scanner's Enter adds it at once).
pub async fn exact_code(tx: &Tx<'_>, code: &str) -> Result<Option<i64>, AppError> {
    let stmt = tx
        .prepare_cached("select id from products where active and (barcode = $1 or sku = $1) limit 1")
        .await?;
    Ok(tx.query_opt(&stmt, &[&code.trim()]).await?.map(|r| r.get(0)))
}

/// Adds a product to the cart at its current price; adding it again adds one more.
pub async fn add_to_cart(
    tx: &Tx<'_>,
    cart_id: i64,
    product_id: i64,
    quantity: Decimal,
) -> Result<bool, AppError> {
    // the scanner's hot path: cached statements, one round trip each
    let more = tx
        .prepare_cached(
            "update sale_draft_lines set quantity = quantity + $3 where draft_id = $1 and product_id = $2",
        )
        .await?;
    if tx.execute(&more, &[&cart_id, &product_id, &quantity]).await? > 0 {
        return Ok(true);
    }
    let add = tx
        .prepare_cached(
            "with line as (
                 insert into sale_draft_lines (draft_id, product_id, quantity, unit_price)
                 select $1, p.id, $3, p.price from products p where p.id = $2 and p.active
                 returning 1
             ), touched as (
                 update sale_drafts set updated_at = now() where id = $1
             )
             select count(*) from line",
        )
        .await?;
    let n: i64 = tx.query_one(&add, &[&cart_id, &product_id, &quantity]).await?.get(0);
    Ok(n == 1)
}

pub async fn update_line(
    tx: &Tx<'_>,
    cart_id: i64,
    line_id: i64,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
) -> Result<bool, AppError> {
    let n = tx
        .execute(
            "update sale_draft_lines set quantity = $3, unit_price = $4, discount = $5 where id = $2 and draft_id = $1",
            &[&cart_id, &line_id, &quantity, &unit_price, &discount],
        )
        .await?;
    Ok(n == 1)
}

pub async fn remove_line(tx: &Tx<'_>, cart_id: i64, line_id: i64) -> Result<bool, AppError> {
    Ok(tx
        .execute("delete from sale_draft_lines where id = $2 and draft_id = $1", &[&cart_id, &line_id])
        .await?
        == 1)
}

pub async fn set_customer(tx: &Tx<'_>, cart_id: i64, customer_id: Option<i64>) -> Result<bool, AppError> {
    if let Some(c) = customer_id {
        let ok = tx.query_opt("select 1 from customers where id = $1 and active", &[&c]).await?.is_some();
        if !ok {
            return Ok(false);
        }
    }
    tx.execute(
        "update sale_drafts set customer_id = $2, updated_at = now() where id = $1",
        &[&cart_id, &customer_id],
    )
    .await?;
    Ok(true)
}

pub async fn clear_cart(tx: &Tx<'_>, cart_id: i64) -> Result<(), AppError> {
    // a new draft (new id, new one-time key) instead of deleting the lines of the same one: a busy
    // till would otherwise read its cart through every line it ever deleted until vacuum runs.
    // A checkout does the same inside RECORD_SALE (`SaleInput::cart_id`).
    let stmt = tx
        .prepare_cached(
            "with gone as (delete from sale_drafts where id = $1 returning user_id)
             insert into sale_drafts (user_id) select user_id from gone",
        )
        .await?;
    tx.execute(&stmt, &[&cart_id]).await?;
    Ok(())
}

/// One line of a sale to record.
#[derive(Clone, Debug)]
pub struct LineInput {
    pub product_id: i64,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
}

#[derive(Clone, Debug)]
pub struct SaleInput {
    pub idempotency_key: Uuid,
    /// None: the final consumer.
    pub customer_id: Option<i64>,
    pub lines: Vec<LineInput>,
    /// What was handed over, per method (cash may exceed what it must cover: change).
    pub payments: Vec<(Method, Decimal)>,
    pub quote_id: Option<i64>,
    /// The counter's cart this sale checks out: when the sale is recorded, the same statement
    /// replaces it with a new empty cart (new id, new one-time key), as `clear_cart` does. A
    /// replayed key or a refused sale leaves it alone.
    pub cart_id: Option<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SaleRefusal {
    Empty,
    /// A line's discount is larger than its amount.
    DiscountTooLarge {
        position: usize,
    },
    /// Payments do not cover the total.
    Underpaid {
        missing: Decimal,
    },
    /// Only cash gives change: non-cash payments exceed the total.
    Overpaid,
    /// On account needs a real customer.
    AccountNeedsCustomer,
    /// Not enough stock for this line.
    NotEnoughStock {
        product_id: i64,
        description: String,
        available: Decimal,
    },
    UnknownCustomer,
    UnknownProduct,
    /// A fraction of a product whose unit was made whole after it went into the cart (the
    /// database refuses the line: `sale_lines_quantity_whole`).
    WholeUnits {
        description: String,
    },
}

#[derive(Debug)]
pub struct Recorded {
    pub sale_id: i64,
    /// The key had already been used: this is the sale recorded then (a double click, a retry).
    pub replayed: bool,
    pub change: Decimal,
}

/// What a set of payments settles: the amount each method covers, what was handed over, change.
#[derive(Debug, PartialEq, Eq)]
pub struct Settlement {
    pub applied: Vec<(Method, Decimal)>,
    pub tendered: Decimal,
    pub change: Decimal,
}

/// Works out what each payment method covers and the change (only cash gives change).
pub fn settle(total: Decimal, payments: &[(Method, Decimal)]) -> Result<Settlement, SaleRefusal> {
    let tendered: Decimal = payments.iter().map(|(_, a)| *a).sum();
    if tendered < total {
        return Err(SaleRefusal::Underpaid { missing: total - tendered });
    }
    let non_cash: Decimal = payments.iter().filter(|(m, _)| *m != Method::Cash).map(|(_, a)| *a).sum();
    if non_cash > total {
        return Err(SaleRefusal::Overpaid);
    }
    let change = tendered - total;
    let mut applied: Vec<(Method, Decimal)> = Vec::new();
    for (m, a) in payments {
        let amount = if *m == Method::Cash { *a - change.min(*a) } else { *a };
        if amount > Decimal::ZERO {
            match applied.iter_mut().find(|(x, _)| x == m) {
                Some((_, sum)) => *sum += amount,
                None => applied.push((*m, amount)),
            }
        }
    }
    // change comes out of cash only; if cash is smaller than the change, refuse
    let cash: Decimal = payments.iter().filter(|(m, _)| *m == Method::Cash).map(|(_, a)| *a).sum();
    if change > cash {
        return Err(SaleRefusal::Overpaid);
    }
    Ok(Settlement { applied, tendered, change })
}

/// One statement records the whole sale (issue 8): the customer check, the sale, its lines in
/// ascending product id (the stock triggers lock product rows in that order, so two sales cannot
/// deadlock), its payments and, at the counter, the emptied cart ($17: the cart is replaced by a
/// new empty one, as `clear_cart` does). Data-modifying CTEs always run to completion; the line,
/// payment and cart statements read the new sale's id from `s`, so nothing is inserted or deleted
/// when the sale is not (unknown or inactive customer, final consumer on account, or the key
/// already used).
const RECORD_SALE: &str = "\
with c as (
    select id, is_final_consumer from customers
     where active and id = coalesce($2::bigint, (select f.id from customers f where f.is_final_consumer))
), s as (
    insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, quote_id)
    select $1::uuid, c.id, $3::bigint, $4::numeric, $5::numeric, $6::numeric, $7::bigint from c
     where not (c.is_final_consumer and 'account' = any($15::text[]))
    on conflict (idempotency_key) do nothing
    returning id
), l as (
    insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
    select s.id, x.position, x.product_id, x.description, x.quantity, x.unit_price, x.discount, x.total
      from s cross join unnest($8::int[], $9::bigint[], $10::text[], $11::numeric[], $12::numeric[],
                               $13::numeric[], $14::numeric[])
           as x(position, product_id, description, quantity, unit_price, discount, total)
     order by x.product_id, x.position
), p as (
    insert into sale_payments (sale_id, method, amount)
    select s.id, y.method, y.amount from s cross join unnest($15::text[], $16::numeric[]) as y(method, amount)
), d as (
    delete from sale_drafts where id = $17::bigint and exists (select from s) returning user_id
), n as (
    insert into sale_drafts (user_id) select user_id from d
)
select (select id from s), (select is_final_consumer from c)";

const SALE_BY_KEY: &str = "select id, change from sales where idempotency_key = $1";

/// The sale already recorded under this key, if any.
async fn sale_by_key(tx: &Tx<'_>, key: &Uuid) -> Result<Option<Recorded>, AppError> {
    let stmt = tx.prepare_cached(SALE_BY_KEY).await?;
    Ok(tx.query_opt(&stmt, &[key]).await?.map(|r| Recorded {
        sale_id: r.get(0),
        replayed: true,
        change: r.get(1),
    }))
}

/// Records a sale in the caller's transaction: sale, lines (stock moves by trigger, products locked
/// in id order so concurrent sales cannot deadlock), payments (money ledger or customer account by
/// trigger), in one statement. A repeated idempotency key returns the sale recorded the first
/// time. On a refusal the caller must roll back.
pub async fn record_sale(
    tx: &Tx<'_>,
    user_id: i64,
    input: &SaleInput,
) -> Result<Result<Recorded, SaleRefusal>, AppError> {
    let checked = check_sale(input);
    let (total, Settlement { applied, tendered, change }) = match checked {
        Ok(x) => x,
        Err(refused) => {
            // a retry of a recorded sale is answered with that sale, whatever it sends now
            return Ok(match sale_by_key(tx, &input.idempotency_key).await? {
                Some(done) => Ok(done),
                None => Err(refused),
            });
        }
    };
    let positions: Vec<i32> = (1..=input.lines.len() as i32).collect();
    let products: Vec<i64> = input.lines.iter().map(|l| l.product_id).collect();
    let descriptions: Vec<&str> = input.lines.iter().map(|l| l.description.as_str()).collect();
    let quantities: Vec<Decimal> = input.lines.iter().map(|l| l.quantity).collect();
    let prices: Vec<Decimal> = input.lines.iter().map(|l| l.unit_price).collect();
    let discounts: Vec<Decimal> = input.lines.iter().map(|l| l.discount).collect();
    let totals: Vec<Decimal> =
        input.lines.iter().map(|l| line_total(l.quantity, l.unit_price, l.discount)).collect();
    let methods: Vec<&str> = applied.iter().map(|(m, _)| m.code()).collect();
    let amounts: Vec<Decimal> = applied.iter().map(|(_, a)| *a).collect();
    let stmt = tx.prepare_cached(RECORD_SALE).await?;
    // a concurrent request with the same key waits in the insert for the first to commit, then
    // inserts nothing
    let r = tx
        .query_one(
            &stmt,
            &[
                &input.idempotency_key,
                &input.customer_id,
                &user_id,
                &total,
                &tendered,
                &change,
                &input.quote_id,
                &positions,
                &products,
                &descriptions,
                &quantities,
                &prices,
                &discounts,
                &totals,
                &methods,
                &amounts,
                &input.cart_id,
            ],
        )
        .await;
    let row = match r {
        Ok(row) => row,
        Err(e) => return refusal_from_error(e, input).map(Err),
    };
    if let Some(sale_id) = row.get::<_, Option<i64>>(0) {
        return Ok(Ok(Recorded { sale_id, replayed: false, change }));
    }
    if let Some(done) = sale_by_key(tx, &input.idempotency_key).await? {
        return Ok(Ok(done));
    }
    Ok(Err(match row.get::<_, Option<bool>>(1) {
        None => SaleRefusal::UnknownCustomer,
        Some(true) => SaleRefusal::AccountNeedsCustomer,
        Some(false) => return Err(AppError::Internal("sale neither recorded nor refused".into())),
    }))
}

/// What the database can refuse about a sale's lines, as a refusal; anything else is an error.
fn refusal_from_error(e: tokio_postgres::Error, input: &SaleInput) -> Result<SaleRefusal, AppError> {
    match violated_constraint(&e) {
        Some("stock_not_negative") => {
            let db = e.as_db_error();
            let available = db.and_then(|d| d.detail()).and_then(|d| d.parse().ok()).unwrap_or_default();
            let product_id = db.and_then(|d| stock_error_product(d.message()));
            let line = input.lines.iter().find(|l| Some(l.product_id) == product_id);
            Ok(SaleRefusal::NotEnoughStock {
                product_id: product_id.unwrap_or_default(),
                description: line.map(|l| l.description.clone()).unwrap_or_default(),
                available,
            })
        }
        Some("sale_lines_product_id_fkey") | Some("stock_movements_product_id_fkey") => {
            Ok(SaleRefusal::UnknownProduct)
        }
        Some("sale_lines_quantity_whole") => {
            // the statement inserts every line at once: name the first line holding a fraction
            let line = input.lines.iter().find(|l| !l.quantity.fract().is_zero());
            Ok(SaleRefusal::WholeUnits {
                description: line.map(|l| l.description.clone()).unwrap_or_default(),
            })
        }
        _ => Err(e.into()),
    }
}

/// The product named by the stock trigger's refusal, "stock of product <id> would go below zero
/// (available …)" (app_private.apply_stock_movement).
fn stock_error_product(message: &str) -> Option<i64> {
    message.strip_prefix("stock of product ")?.split(' ').next()?.parse().ok()
}

/// The checks made before the database is asked: lines, discounts, payments against the total.
fn check_sale(input: &SaleInput) -> Result<(Decimal, Settlement), SaleRefusal> {
    if input.lines.is_empty() {
        return Err(SaleRefusal::Empty);
    }
    let mut total = Decimal::ZERO;
    for (i, l) in input.lines.iter().enumerate() {
        let t = line_total(l.quantity, l.unit_price, l.discount);
        if t < Decimal::ZERO {
            return Err(SaleRefusal::DiscountTooLarge { position: i + 1 });
        }
        total += t;
    }
    Ok((total, settle(total, &input.payments)?))
}

#[derive(Clone, Debug)]
pub struct SaleRow {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub customer: String,
    pub seller: Option<String>,
    pub total: Decimal,
    pub status: String,
    pub lines: i64,
}

#[derive(Clone, Debug, Default)]
pub struct SaleFilter {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub customer_id: Option<i64>,
    pub status: Option<String>,
    pub page: i64,
}

pub const SALES_PAGE: i64 = 50;

/// Sales, newest first, with dates in the shop's time zone.
pub async fn list_sales(tx: &Tx<'_>, f: &SaleFilter) -> Result<(Vec<SaleRow>, bool), AppError> {
    let offset = f.page.max(0) * SALES_PAGE;
    let rows = tx
        .query(
            "with tz as (select time_zone from settings)
             select s.id, s.created_at at time zone tz.time_zone, c.name, u.display_name, s.total, s.status,
                    (select count(*) from sale_lines l where l.sale_id = s.id)
               from sales s cross join tz join customers c on c.id = s.customer_id
               left join app.users u on u.id = s.user_id
              where ($1::date is null or s.created_at >= ($1::date::timestamp at time zone tz.time_zone))
                and ($2::date is null or s.created_at < (($2::date + 1)::timestamp at time zone tz.time_zone))
                and ($3::bigint is null or s.customer_id = $3)
                and ($4::text is null or s.status = $4)
              order by s.id desc limit $5 offset $6",
            &[&f.from, &f.to, &f.customer_id, &f.status, &(SALES_PAGE + 1), &offset],
        )
        .await?;
    let items: Vec<SaleRow> = rows
        .iter()
        .map(|r| SaleRow {
            id: r.get(0),
            created_at: r.get(1),
            customer: r.get(2),
            seller: r.get(3),
            total: r.get(4),
            status: r.get(5),
            lines: r.get(6),
        })
        .collect();
    let (items, more) = super::split_page(items, SALES_PAGE);
    Ok((items, more))
}

#[derive(Clone, Debug)]
pub struct SaleLineView {
    pub id: i64,
    pub returned: Decimal,
    pub divisible: bool,
    pub description: String,
    pub sku: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub total: Decimal,
}

#[derive(Clone, Debug)]
pub struct SaleDetail {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub customer_id: i64,
    pub customer: String,
    pub seller: Option<String>,
    pub status: String,
    pub total: Decimal,
    pub tendered: Decimal,
    pub change: Decimal,
    pub void_reason: Option<String>,
    pub voided_at: Option<NaiveDateTime>,
    pub lines: Vec<SaleLineView>,
    pub payments: Vec<(String, Decimal)>,
    pub receipt_header: String,
    pub receipt_footer: String,
}

pub async fn sale_detail(tx: &Tx<'_>, id: i64) -> Result<Option<SaleDetail>, AppError> {
    let Some(s) = tx
        .query_opt(
            "select s.id, s.created_at at time zone st.time_zone, s.customer_id, c.name, u.display_name, s.status, s.total,
                    s.tendered, s.change, s.void_reason, s.voided_at at time zone st.time_zone, st.receipt_header,
                    st.receipt_footer
               from sales s cross join settings st join customers c on c.id = s.customer_id
               left join app.users u on u.id = s.user_id
              where s.id = $1",
            &[&id],
        )
        .await?
    else {
        return Ok(None);
    };
    let lines = tx
        .query(
            "select l.description, p.sku, l.quantity, l.unit_price, l.discount, l.total, l.id, l.returned, u.divisible
               from sale_lines l join products p on p.id = l.product_id join units u on u.id = p.unit_id
              where l.sale_id = $1 order by l.position",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| SaleLineView {
            description: r.get(0),
            sku: r.get(1),
            quantity: r.get(2),
            unit_price: r.get(3),
            discount: r.get(4),
            total: r.get(5),
            id: r.get(6),
            returned: r.get(7),
            divisible: r.get(8),
        })
        .collect();
    let payments = tx
        .query("select method, amount from sale_payments where sale_id = $1 order by id", &[&id])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(Some(SaleDetail {
        id: s.get(0),
        created_at: s.get(1),
        customer_id: s.get(2),
        customer: s.get(3),
        seller: s.get(4),
        status: s.get(5),
        total: s.get(6),
        tendered: s.get(7),
        change: s.get(8),
        void_reason: s.get(9),
        voided_at: s.get(10),
        lines,
        payments,
        receipt_header: s.get(11),
        receipt_footer: s.get(12),
    }))
}

/// Voids a completed sale (owner/admin; the database refuses anyone else). Returns false when it
/// was not a completed sale.
pub async fn void_sale(tx: &Tx<'_>, id: i64, reason: &str) -> Result<bool, AppError> {
    let r = tx
        .execute(
            "update sales set status = 'voided', void_reason = $2 where id = $1 and status = 'completed'",
            &[&id, &reason],
        )
        .await;
    match r {
        Ok(n) => Ok(n == 1),
        Err(e) if violated_constraint(&e) == Some("sales_void_once") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReturnRefusal {
    Nothing,
    /// More than is left to return on this line (what is left).
    TooMany {
        description: String,
        left: Decimal,
    },
    NotCompleted,
    AccountNeedsCustomer,
}

/// Records a return of some units of some lines (owner/admin; the database refuses anyone else):
/// stock comes back and the refund (the lines' share at the original prices, computed by the
/// database) goes to the money ledger or the customer's account. Returns the refunded amount.
pub async fn record_return(
    tx: &Tx<'_>,
    sale_id: i64,
    lines: &[(i64, Decimal)],
    method: Method,
    reason: &str,
) -> Result<Result<Decimal, ReturnRefusal>, AppError> {
    let lines: Vec<&(i64, Decimal)> = lines.iter().filter(|(_, q)| *q > Decimal::ZERO).collect();
    if lines.is_empty() {
        return Ok(Err(ReturnRefusal::Nothing));
    }
    let Some(sale) =
        tx.query_opt("select s.status, c.is_final_consumer from sales s join customers c on c.id = s.customer_id where s.id = $1", &[&sale_id]).await?
    else {
        return Err(AppError::NotFound);
    };
    if sale.get::<_, String>(0) != "completed" {
        return Ok(Err(ReturnRefusal::NotCompleted));
    }
    if method == Method::Account && sale.get::<_, bool>(1) {
        return Ok(Err(ReturnRefusal::AccountNeedsCustomer));
    }
    // checked here for a clear message; the trigger checks again under the row lock
    let left: Vec<(i64, String, Decimal)> = tx
        .query("select id, description, quantity - returned from sale_lines where sale_id = $1", &[&sale_id])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for (line_id, qty) in &lines {
        match left.iter().find(|(id, _, _)| id == line_id) {
            None => return Err(AppError::NotFound),
            Some((_, description, l)) if qty > l => {
                return Ok(Err(ReturnRefusal::TooMany { description: description.clone(), left: *l }))
            }
            Some(_) => {}
        }
    }
    let return_id: i64 = tx
        .query_one(
            "insert into sale_returns (sale_id, method, reason) values ($1, $2, $3) returning id",
            &[&sale_id, &method.code(), &reason],
        )
        .await?
        .get(0);
    let mut refunded = Decimal::ZERO;
    let mut ordered = lines.clone();
    ordered.sort_by_key(|(id, _)| *id);
    for (line_id, qty) in ordered {
        let r = tx
            .query_one(
                "insert into sale_return_lines (return_id, sale_line_id, quantity) values ($1, $2, $3) returning amount",
                &[&return_id, line_id, qty],
            )
            .await;
        match r {
            Ok(row) => refunded += row.get::<_, Decimal>(0),
            Err(e) if violated_constraint(&e) == Some("sale_return_lines_too_many") => {
                // a concurrent return took the units between our check and the lock
                let left =
                    e.as_db_error().and_then(|d| d.detail()).and_then(|d| d.parse().ok()).unwrap_or_default();
                return Ok(Err(ReturnRefusal::TooMany { description: String::new(), left }));
            }
            Err(e) if violated_constraint(&e) == Some("sale_return_lines_sale_line_id_fkey") => {
                return Err(AppError::NotFound)
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(refunded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn line_totals_round_half_away_from_zero() {
        assert_eq!(line_total(d("3"), d("0.335"), d("0")), d("1.01"));
        assert_eq!(line_total(d("1.5"), d("10.01"), d("0")), d("15.02"));
        assert_eq!(line_total(d("2"), d("100"), d("15.50")), d("184.50"));
    }

    #[test]
    fn change_comes_only_from_cash() {
        let s = settle(d("800"), &[(Method::Cash, d("1000"))]).expect("ok");
        assert_eq!(
            s,
            Settlement { applied: vec![(Method::Cash, d("800"))], tendered: d("1000"), change: d("200") }
        );
        let s = settle(d("800"), &[(Method::Card, d("500")), (Method::Cash, d("400"))]).expect("ok");
        assert_eq!(s.applied, vec![(Method::Card, d("500")), (Method::Cash, d("300"))]);
        assert_eq!(s.change, d("100"));
        assert_eq!(settle(d("800"), &[(Method::Card, d("900"))]), Err(SaleRefusal::Overpaid));
        assert_eq!(
            settle(d("800"), &[(Method::Cash, d("700"))]),
            Err(SaleRefusal::Underpaid { missing: d("100") })
        );
    }
}
