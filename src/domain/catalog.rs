//! Products, categories and units: parsing of their forms, named constraints turned into field
//! errors, and the product list (search, filters, sort, pages) built from fixed SQL fragments.

use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::money::{Money, Quantity};
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

pub const PAGE_SIZE: i64 = 50;

/// Field name → error key.
pub type FieldErrors = Vec<(&'static str, &'static str)>;

pub fn error_for<'a>(errors: &'a FieldErrors, field: &str) -> Option<&'a str> {
    errors.iter().find(|(f, _)| *f == field).map(|(_, e)| *e)
}

fn sku(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("error.required");
    }
    let ok = s.len() <= 40
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err("error.sku_invalid")
    }
}

fn barcode(raw: &str) -> Result<Option<String>, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = (4..=40).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(Some(s.to_string()))
    } else {
        Err("error.barcode_invalid")
    }
}

/// Keeps a parsed value, or records its error against the field.
pub fn take<T>(errors: &mut FieldErrors, field: &'static str, r: Result<T, &'static str>) -> Option<T> {
    r.map_err(|e| errors.push((field, e))).ok()
}

fn optional_id(raw: &str) -> Result<Option<i64>, &'static str> {
    match raw.trim() {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| "error.choose_option"),
    }
}

/// The raw fields of the product form, as typed.
#[derive(Clone, Debug, Default)]
pub struct ProductFields {
    pub sku: String,
    pub barcode: String,
    pub name: String,
    pub description: String,
    pub category_id: String,
    pub unit_id: String,
    pub price: String,
    pub cost: String,
    pub min_stock: String,
    pub opening_stock: String,
    pub track_stock: bool,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct ProductInput {
    pub sku: String,
    pub barcode: Option<String>,
    pub name: Name,
    pub description: String,
    pub category_id: Option<i64>,
    pub unit_id: i64,
    pub price: Money,
    pub cost: Money,
    pub min_stock: Quantity,
    pub opening_stock: Option<Quantity>,
    pub track_stock: bool,
    pub active: bool,
}

impl ProductFields {
    /// Parses every field, collecting all errors at once. `divisible` says whether the chosen
    /// unit allows fractions (looked up by the caller).
    pub fn parse(&self, locale: Locale, divisible: bool, is_new: bool) -> Result<ProductInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let sku = take(e, "sku", sku(&self.sku));
        let barcode = take(e, "barcode", barcode(&self.barcode));
        let name = take(e, "name", Name::parse(&self.name, 200));
        let description = take(
            e,
            "description",
            if self.description.chars().count() > 2000 {
                Err("error.too_long")
            } else {
                Ok(self.description.trim().to_string())
            },
        );
        let category_id = take(e, "category_id", optional_id(&self.category_id));
        let unit_id = take(e, "unit_id", optional_id(&self.unit_id).and_then(|u| u.ok_or("error.required")));
        let price = take(e, "price", Money::parse(&self.price, locale));
        let cost = take(
            e,
            "cost",
            if self.cost.trim().is_empty() { Ok(Money::ZERO) } else { Money::parse(&self.cost, locale) },
        );
        let min_stock = take(
            e,
            "min_stock",
            if self.min_stock.trim().is_empty() {
                Quantity::parse_non_negative("0", locale, divisible)
            } else {
                Quantity::parse_non_negative(&self.min_stock, locale, divisible)
            },
        );
        let opening_stock = take(
            e,
            "opening_stock",
            if !is_new || self.opening_stock.trim().is_empty() {
                Ok(None)
            } else {
                Quantity::parse_non_negative(&self.opening_stock, locale, divisible).map(Some)
            },
        );
        match (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock, opening_stock) {
            (
                Some(sku),
                Some(barcode),
                Some(name),
                Some(description),
                Some(category_id),
                Some(unit_id),
                Some(price),
                Some(cost),
                Some(min_stock),
                Some(opening_stock),
            ) if errors.is_empty() => Ok(ProductInput {
                sku,
                barcode,
                name,
                description,
                category_id,
                unit_id,
                price,
                cost,
                min_stock,
                opening_stock,
                track_stock: self.track_stock,
                active: self.active,
            }),
            _ => Err(errors),
        }
    }
}

/// A write refused by a named constraint, as a field error; anything else stays an error.
pub enum WriteError {
    Field(FieldErrors),
    Other(AppError),
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> Self {
        let field = match violated_constraint(&e) {
            Some("products_sku_key") => Some(("sku", "error.sku_taken")),
            Some("products_barcode_key") => Some(("barcode", "error.barcode_taken")),
            Some("products_sku_check") => Some(("sku", "error.sku_invalid")),
            Some("products_barcode_check") => Some(("barcode", "error.barcode_invalid")),
            Some("products_category_id_fkey") => Some(("category_id", "error.choose_option")),
            Some("products_unit_id_fkey") => Some(("unit_id", "error.choose_option")),
            Some("categories_name_key") | Some("units_code_key") => Some(("name", "error.name_taken")),
            Some("stock_movements_product_id_fkey") => Some(("product", "error.product_has_history")),
            // rules kept by the database (sql/app/V20__database_rules.sql)
            Some("products_min_stock_whole") => Some(("min_stock", "error.whole_number")),
            Some("products_stock_whole") => Some(("unit_id", "error.unit_has_fractions")),
            Some("units_whole_products") => Some(("divisible", "error.unit_has_fractions")),
            Some(c) if c.ends_with("_check") => Some(("form", "error.value_out_of_range")),
            _ => None,
        };
        match field {
            Some(f) => WriteError::Field(vec![f]),
            None => WriteError::Other(e.into()),
        }
    }
}

impl From<AppError> for WriteError {
    fn from(e: AppError) -> Self {
        WriteError::Other(e)
    }
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub divisible: bool,
    pub products: i64,
}

#[derive(Clone, Debug)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub products: i64,
}

pub async fn units(tx: &Tx<'_>) -> Result<Vec<Unit>, AppError> {
    let rows = tx
        .query(
            "select u.id, u.code, u.name, u.divisible, (select count(*) from products p where p.unit_id = u.id)
               from units u order by u.name, u.id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Unit {
            id: r.get(0),
            code: r.get(1),
            name: r.get(2),
            divisible: r.get(3),
            products: r.get(4),
        })
        .collect())
}

pub async fn unit_divisible(tx: &Tx<'_>, unit_id: i64) -> Result<Option<bool>, AppError> {
    Ok(tx.query_opt("select divisible from units where id = $1", &[&unit_id]).await?.map(|r| r.get(0)))
}

pub async fn categories(tx: &Tx<'_>) -> Result<Vec<Category>, AppError> {
    let rows = tx
        .query(
            "select c.id, c.name, (select count(*) from products p where p.category_id = c.id)
               from categories c order by app.fold(c.name), c.id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| Category { id: r.get(0), name: r.get(1), products: r.get(2) }).collect())
}

/// Category names for a dropdown (no counting: that would read every product). A statement of the
/// shop's own (`crate::db::tx::prepare_for_shop`).
pub async fn category_options(tx: &Tx<'_>, tenant_id: i64) -> Result<Vec<Category>, AppError> {
    let stmt = crate::db::tx::prepare_for_shop(
        tx,
        tenant_id,
        "select c.id, c.name from categories c order by app.fold(c.name), c.id",
    )
    .await?;
    let rows = tx.query(&stmt, &[]).await?;
    Ok(rows.iter().map(|r| Category { id: r.get(0), name: r.get(1), products: 0 }).collect())
}

pub async fn create_category(tx: &Tx<'_>, name: &Name) -> Result<i64, WriteError> {
    Ok(tx
        .query_one("insert into categories (name) values ($1) returning id", &[&name.as_str()])
        .await?
        .get(0))
}

pub async fn rename_category(tx: &Tx<'_>, id: i64, name: &Name) -> Result<bool, WriteError> {
    Ok(tx.execute("update categories set name = $2 where id = $1", &[&id, &name.as_str()]).await? == 1)
}

/// Deletes a category nobody uses; one in use is refused with the number of products in it.
pub async fn delete_category(tx: &Tx<'_>, id: i64) -> Result<Result<bool, i64>, AppError> {
    let used: i64 =
        tx.query_one("select count(*) from products where category_id = $1", &[&id]).await?.get(0);
    if used > 0 {
        return Ok(Err(used));
    }
    // a product added since the count still makes the foreign key refuse: "in use" as well
    match tx.execute("delete from categories where id = $1", &[&id]).await {
        Ok(n) => Ok(Ok(n == 1)),
        Err(e) if violated_constraint(&e) == Some("products_category_id_fkey") => Ok(Err(1)),
        Err(e) => Err(e.into()),
    }
}

pub fn unit_code(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() {
        return Err("error.required");
    }
    if s.len() <= 10 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        Ok(s)
    } else {
        Err("error.unit_code_invalid")
    }
}

pub async fn create_unit(tx: &Tx<'_>, code: &str, name: &Name, divisible: bool) -> Result<i64, WriteError> {
    Ok(tx
        .query_one(
            "insert into units (code, name, divisible) values ($1, $2, $3) returning id",
            &[&code, &name.as_str(), &divisible],
        )
        .await?
        .get(0))
}

/// Renames a unit. Making a unit with fractional stock indivisible is refused.
pub async fn update_unit(tx: &Tx<'_>, id: i64, name: &Name, divisible: bool) -> Result<bool, WriteError> {
    if !divisible {
        let fractional: bool = tx
            .query_one(
                "select exists (select 1 from products
                  where unit_id = $1 and (stock <> trunc(stock) or min_stock <> trunc(min_stock)))",
                &[&id],
            )
            .await?
            .get(0);
        if fractional {
            return Err(WriteError::Field(vec![("divisible", "error.unit_has_fractions")]));
        }
    }
    Ok(tx
        .execute(
            "update units set name = $2, divisible = $3 where id = $1",
            &[&id, &name.as_str(), &divisible],
        )
        .await?
        == 1)
}

pub async fn delete_unit(tx: &Tx<'_>, id: i64) -> Result<Result<bool, i64>, AppError> {
    let used: i64 = tx.query_one("select count(*) from products where unit_id = $1", &[&id]).await?.get(0);
    if used > 0 {
        return Ok(Err(used));
    }
    match tx.execute("delete from units where id = $1", &[&id]).await {
        Ok(n) => Ok(Ok(n == 1)),
        Err(e) if violated_constraint(&e) == Some("products_unit_id_fkey") => Ok(Err(1)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Clone, Debug)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: String,
    pub category_id: Option<i64>,
    pub category: Option<String>,
    pub unit_id: i64,
    pub unit: String,
    pub divisible: bool,
    pub price: Decimal,
    pub cost: Decimal,
    pub min_stock: Decimal,
    pub stock: Decimal,
    pub track_stock: bool,
    pub active: bool,
    pub has_image: bool,
}

impl Product {
    pub fn low(&self) -> bool {
        self.track_stock && self.active && self.stock <= self.min_stock
    }
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.sku, p.barcode, p.name, p.description, p.category_id, c.name, p.unit_id, u.code,
       u.divisible, p.price, p.cost, p.min_stock, p.stock, p.track_stock, p.active,
       exists (select 1 from product_images i where i.product_id = p.id)
  from products p join units u on u.id = p.unit_id left join categories c on c.id = p.category_id";

fn product(r: &Row) -> Product {
    Product {
        id: r.get(0),
        sku: r.get(1),
        barcode: r.get(2),
        name: r.get(3),
        description: r.get(4),
        category_id: r.get(5),
        category: r.get(6),
        unit_id: r.get(7),
        unit: r.get(8),
        divisible: r.get(9),
        price: r.get(10),
        cost: r.get(11),
        min_stock: r.get(12),
        stock: r.get(13),
        track_stock: r.get(14),
        active: r.get(15),
        has_image: r.get(16),
    }
}

pub async fn product_by_id(tx: &Tx<'_>, id: i64) -> Result<Option<Product>, AppError> {
    let sql = format!("select {PRODUCT_COLUMNS} where p.id = $1");
    Ok(tx.query_opt(&sql, &[&id]).await?.as_ref().map(product))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    Sku,
    PriceAsc,
    PriceDesc,
    StockAsc,
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 6] =
        [Sort::Name, Sort::Sku, Sort::PriceAsc, Sort::PriceDesc, Sort::StockAsc, Sort::Newest];

    pub fn parse(s: &str) -> Sort {
        Sort::ALL.into_iter().find(|x| x.code() == s).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Sku => "sku",
            Sort::PriceAsc => "price",
            Sort::PriceDesc => "-price",
            Sort::StockAsc => "stock",
            Sort::Newest => "-created",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Name => "p.name_search, p.id",
            Sort::Sku => "p.sku, p.id",
            Sort::PriceAsc => "p.price, p.id",
            Sort::PriceDesc => "p.price desc, p.id",
            Sort::StockAsc => "p.stock - p.min_stock, p.id",
            Sort::Newest => "p.id desc",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ProductQuery {
    pub q: String,
    pub category_id: Option<i64>,
    /// None: all; Some(true): active only; Some(false): inactive only.
    pub active: Option<bool>,
    pub low_stock: bool,
    pub sort: Sort,
    pub page: i64,
}

pub struct ProductPage {
    pub items: Vec<Product>,
    pub has_next: bool,
}

fn like_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of products. An exact SKU or barcode match comes first (a separate index lookup, so the
/// name page can walk the `(name_search, id)` index and stop after a page); the name search is
/// case- and accent-insensitive and matches parts of words (trigram index on `name_search`).
/// Without a search term each variant of the statement (filters, sort) is prepared once per
/// connection under a text of the shop's own (`crate::db::tx::prepare_for_shop`, `tenant_id` is
/// the shop in context); the offset is a parameter. Values are always parameters, never text.
pub async fn list_products(
    tx: &Tx<'_>,
    tenant_id: i64,
    query: &ProductQuery,
) -> Result<ProductPage, AppError> {
    let q = query.q.trim().to_string();
    let pattern = like_pattern(&q);
    let mut filters = String::new();
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
    if let Some(c) = &query.category_id {
        params.push(c);
        filters.push_str(&format!(" and p.category_id = ${}", params.len()));
    }
    if let Some(a) = &query.active {
        params.push(a);
        filters.push_str(&format!(" and p.active = ${}", params.len()));
    }
    if query.low_stock {
        filters.push_str(" and p.track_stock and p.active and p.stock <= p.min_stock");
    }
    let mut items = Vec::new();
    let mut sql = format!("select {PRODUCT_COLUMNS} where true{filters}");
    if !q.is_empty() {
        let n = params.len();
        if query.page == 0 {
            let mut exact_params = params.clone();
            exact_params.push(&q);
            let exact = format!(
                "select {PRODUCT_COLUMNS} where (p.sku = ${k} or p.barcode = ${k}){filters} order by p.id",
                k = n + 1
            );
            let stmt = crate::db::tx::prepare_for_shop(tx, tenant_id, &exact).await?;
            items.extend(tx.query(&stmt, &exact_params).await?.iter().map(product));
        }
        params.push(&q);
        params.push(&pattern);
        sql.push_str(&format!(
            " and p.name_search like app.fold(${pat}) and p.sku <> ${k} and p.barcode is distinct from ${k}",
            k = n + 1,
            pat = n + 2
        ));
    }
    let offset = query.page.max(0) * PAGE_SIZE;
    // With three letters or more the trigram index finds the matches directly; sorting by an
    // expression stops the planner from walking the whole name index instead (its estimates for
    // trigram matches are far off). Shorter terms cannot use trigrams: walking the name index in
    // order and stopping after a page is then the fast path.
    let order = match query.sort {
        Sort::Name if q.chars().count() >= 3 => "p.name_search || '', p.id",
        s => s.order_by(),
    };
    params.push(&offset);
    sql.push_str(&format!(" order by {order} limit {} offset ${}", PAGE_SIZE + 1, params.len()));
    let rows = if q.is_empty() {
        let stmt = crate::db::tx::prepare_for_shop(tx, tenant_id, &sql).await?;
        tx.query(&stmt, &params).await?
    } else {
        // a name search stays a one-shot statement, planned with the search term itself: a cached
        // generic plan cannot tell a term the trigram index finds from one it cannot use
        tx.query(&sql, &params).await?
    };
    let page: Vec<Product> = rows.iter().map(product).collect();
    let (page, has_next) = super::split_page(page, PAGE_SIZE);
    items.extend(page);
    Ok(ProductPage { items, has_next })
}

/// Creates a product; its opening stock, if any, is posted as an `opening` movement.
/// Active, stock-tracked products to count, optionally of one category (at most 500 per sheet).
pub async fn products_for_count(tx: &Tx<'_>, category_id: Option<i64>) -> Result<Vec<Product>, AppError> {
    let sql = format!(
        "select {PRODUCT_COLUMNS} where p.active and p.track_stock and ($1::bigint is null or p.category_id = $1)
          order by p.name_search, p.id limit 500"
    );
    Ok(tx.query(&sql, &[&category_id]).await?.iter().map(product).collect())
}

/// Whether each of these products' units allows fractions.
pub async fn divisibility(tx: &Tx<'_>, ids: &[i64]) -> Result<Vec<(i64, bool)>, AppError> {
    let rows = tx
        .query(
            "select p.id, u.divisible from products p join units u on u.id = p.unit_id where p.id = any($1)",
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn create_product(tx: &Tx<'_>, p: &ProductInput) -> Result<i64, WriteError> {
    let id: i64 = tx
        .query_one(
            "insert into products (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock,
                                   track_stock, active)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id",
            &[
                &p.sku,
                &p.barcode,
                &p.name.as_str(),
                &p.description,
                &p.category_id,
                &p.unit_id,
                &p.price.value(),
                &p.cost.value(),
                &p.min_stock.value(),
                &p.track_stock,
                &p.active,
            ],
        )
        .await?
        .get(0);
    if let Some(q) = p.opening_stock.filter(|q| !q.value().is_zero() && p.track_stock) {
        tx.execute(
            "insert into stock_movements (product_id, kind, quantity, reason) values ($1, 'opening', $2, '')",
            &[&id, &q.value()],
        )
        .await?;
    }
    Ok(id)
}

/// Updates a product's descriptive fields and prices (never its stock).
pub async fn update_product(tx: &Tx<'_>, id: i64, p: &ProductInput) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "update products set sku = $2, barcode = $3, name = $4, description = $5, category_id = $6, unit_id = $7,
                    price = $8, cost = $9, min_stock = $10, track_stock = $11, active = $12, updated_at = now()
              where id = $1",
            &[
                &id,
                &p.sku,
                &p.barcode,
                &p.name.as_str(),
                &p.description,
                &p.category_id,
                &p.unit_id,
                &p.price.value(),
                &p.cost.value(),
                &p.min_stock.value(),
                &p.track_stock,
                &p.active,
            ],
        )
        .await?;
    Ok(n == 1)
}

pub async fn delete_product(tx: &Tx<'_>, id: i64) -> Result<bool, WriteError> {
    Ok(tx.execute("delete from products where id = $1", &[&id]).await? == 1)
}
