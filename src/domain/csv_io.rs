//! Catalog CSV: export, and import in two steps (preview with row-by-row errors, then apply).
//! The file format is documented in docs/CSV.md. An export imports back unchanged.
//!
//! Import rules: rows match existing products by SKU (update) or create new ones; the stock of a
//! new product is posted as an `import` movement; the stock of an existing product is never
//! overwritten (use a stocktake for that), so importing an old export cannot undo sales.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::money::{parse_decimal, Money};
use crate::db::tx::Tx;
use crate::error::AppError;
use crate::i18n::Locale;

pub const COLUMNS: [&str; 12] = [
    "sku",
    "barcode",
    "name",
    "description",
    "category",
    "unit",
    "price",
    "cost",
    "min_stock",
    "stock",
    "track_stock",
    "active",
];
const REQUIRED: [&str; 3] = ["sku", "name", "price"];
pub const MAX_ROWS: usize = 100_000;
const BATCH: usize = 1000;

/// Why a whole file is refused (nothing is stored or changed).
#[derive(Debug, PartialEq, Eq)]
pub enum FileError {
    NotUtf8,
    Empty,
    MissingColumns(Vec<String>),
    UnknownColumns(Vec<String>),
    DuplicateColumns(Vec<String>),
    TooManyRows(usize),
    Malformed { line: u64, message: String },
}

#[derive(Clone, Debug)]
pub struct ImportRow {
    pub line: usize,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    pub unit: String,
    pub price: Decimal,
    pub cost: Decimal,
    pub min_stock: Decimal,
    pub stock: Option<Decimal>,
    pub track_stock: bool,
    pub active: bool,
}

/// An error of one cell: line number in the file, column, i18n key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: &'static str,
    pub key: &'static str,
}

#[derive(Debug)]
pub struct Parsed {
    pub delimiter: u8,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// The columns the file has: an absent column keeps an existing product's value.
    pub present: HashSet<&'static str>,
}

/// The text of an uploaded file: UTF-8 (a byte-order mark is dropped), or refused.
pub fn decode(bytes: &[u8]) -> Result<String, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    Ok(text.to_string())
}

/// ';' when the header uses it (spreadsheets in Spanish), else ','.
pub fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

fn number_locale(delimiter: u8) -> Locale {
    if delimiter == b';' {
        Locale::Es
    } else {
        Locale::En
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "" | "true" | "yes" | "si" | "sí" | "1" | "x" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Parses and checks every row against the shop's units (code → divisible). File-level problems
/// refuse the file; row problems are collected, all of them.
pub fn parse(text: &str, units: &HashMap<String, bool>) -> Result<Parsed, FileError> {
    let delimiter = detect_delimiter(text);
    let locale = number_locale(delimiter);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FileError::Malformed { line: 1, message: e.to_string() })?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let unknown: Vec<String> = headers.iter().filter(|h| !COLUMNS.contains(&h.as_str())).cloned().collect();
    if !unknown.is_empty() {
        return Err(FileError::UnknownColumns(unknown));
    }
    let mut seen = HashSet::new();
    let dups: Vec<String> = headers.iter().filter(|h| !seen.insert(h.as_str())).cloned().collect();
    if !dups.is_empty() {
        return Err(FileError::DuplicateColumns(dups));
    }
    let missing: Vec<String> =
        REQUIRED.iter().filter(|r| !headers.iter().any(|h| h == *r)).map(|r| r.to_string()).collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing));
    }
    let present: HashSet<&'static str> =
        COLUMNS.iter().copied().filter(|c| headers.iter().any(|h| h == c)).collect();
    let unit_given = present.contains("unit");
    let col = |name: &str| headers.iter().position(|h| h == name);
    let idx: HashMap<&str, Option<usize>> = COLUMNS.iter().map(|c| (*c, col(c))).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut skus: HashMap<String, usize> = HashMap::new();
    let mut barcodes: HashMap<String, usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if i >= MAX_ROWS {
            return Err(FileError::TooManyRows(MAX_ROWS));
        }
        let record = record.map_err(|e| FileError::Malformed {
            line: e.position().map(|p| p.line()).unwrap_or(line as u64),
            message: e.to_string(),
        })?;
        let get = |c: &str| idx.get(c).copied().flatten().and_then(|i| record.get(i)).unwrap_or("").trim();
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut err = |column: &'static str, key: &'static str| errors.push(RowError { line, column, key });
        let sku = get("sku");
        let sku_ok = !sku.is_empty()
            && sku.len() <= 40
            && sku.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && sku.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
        if !sku_ok {
            err("sku", if sku.is_empty() { "error.required" } else { "error.sku_invalid" });
        } else if let Some(first) = skus.insert(sku.to_string(), line) {
            let _ = first;
            err("sku", "error.sku_duplicated_in_file");
        }
        let barcode = get("barcode");
        if !barcode.is_empty() {
            if !(4..=40).contains(&barcode.len())
                || !barcode.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                err("barcode", "error.barcode_invalid");
            } else if barcodes.insert(barcode.to_string(), line).is_some() {
                err("barcode", "error.barcode_duplicated_in_file");
            }
        }
        let name = get("name");
        if name.is_empty() {
            err("name", "error.required");
        } else if name.chars().count() > 200 || name.chars().any(char::is_control) {
            err("name", "error.too_long");
        }
        let description = get("description");
        if description.chars().count() > 2000 {
            err("description", "error.too_long");
        }
        let category = get("category");
        if category.chars().count() > 80 {
            err("category", "error.too_long");
        }
        let unit = if get("unit").is_empty() { "u".to_string() } else { get("unit").to_lowercase() };
        // without a unit column the product's own unit decides later (in `plan`)
        let divisible = match units.get(&unit) {
            Some(d) => *d || !unit_given,
            None => {
                err("unit", "error.unit_unknown");
                false
            }
        };
        let money = |raw: &str, err: &mut dyn FnMut(&'static str, &'static str), column: &'static str| {
            if raw.is_empty() && column != "price" {
                return Decimal::ZERO;
            }
            match Money::parse(raw, locale) {
                Ok(m) => m.value(),
                Err(k) => {
                    err(column, k);
                    Decimal::ZERO
                }
            }
        };
        let price = money(get("price"), &mut err, "price");
        let cost = money(get("cost"), &mut err, "cost");
        let qty = |raw: &str,
                   err: &mut dyn FnMut(&'static str, &'static str),
                   column: &'static str|
         -> Option<Decimal> {
            if raw.is_empty() {
                return None;
            }
            match parse_decimal(raw, locale, if divisible { 3 } else { 0 }) {
                Ok(d) if d.is_sign_negative() && !d.is_zero() && column != "stock" => {
                    err(column, "error.negative");
                    None
                }
                Ok(d) if d >= Decimal::from(1_000_000_000i64) => {
                    err(column, "error.number_too_large");
                    None
                }
                Ok(d) => Some(d),
                Err(k) => {
                    err(column, k);
                    None
                }
            }
        };
        let min_stock = qty(get("min_stock"), &mut err, "min_stock").unwrap_or_default();
        let stock = qty(get("stock"), &mut err, "stock");
        let track_stock = parse_bool(get("track_stock")).unwrap_or_else(|| {
            err("track_stock", "error.yes_or_no");
            true
        });
        let active = parse_bool(get("active")).unwrap_or_else(|| {
            err("active", "error.yes_or_no");
            true
        });
        rows.push(ImportRow {
            line,
            sku: sku.to_string(),
            barcode: (!barcode.is_empty()).then(|| barcode.to_string()),
            name: name.to_string(),
            description: description.to_string(),
            category: (!category.is_empty()).then(|| category.to_string()),
            unit,
            price,
            cost,
            min_stock,
            stock,
            track_stock,
            active,
        });
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(Parsed { delimiter, rows, errors, present })
}

/// What applying the file would do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub new_products: usize,
    pub updated_products: usize,
    pub unchanged_products: usize,
    pub new_categories: usize,
    /// Existing products whose file stock differs from the current stock (kept, not overwritten).
    pub stock_kept: usize,
}

pub async fn units(tx: &Tx<'_>) -> Result<HashMap<String, bool>, AppError> {
    let rows = tx.query("select code, divisible from units", &[]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Checks the parsed rows against the shop's data (barcodes used by other products) and works out
/// the plan. Reads only.
pub async fn plan(tx: &Tx<'_>, parsed: &mut Parsed) -> Result<Plan, AppError> {
    let existing = tx
        .query(
            "select p.sku, p.barcode, p.name, p.description, c.name, u.code, p.price, p.cost, p.min_stock, p.stock,
                    p.track_stock, p.active
               from products p join units u on u.id = p.unit_id left join categories c on c.id = p.category_id",
            &[],
        )
        .await?;
    let mut by_sku: HashMap<String, &tokio_postgres::Row> = HashMap::with_capacity(existing.len());
    let mut barcode_owner: HashMap<String, String> = HashMap::new();
    for r in &existing {
        by_sku.insert(r.get(0), r);
        if let Some(b) = r.get::<_, Option<String>>(1) {
            barcode_owner.insert(b, r.get(0));
        }
    }
    let categories: HashSet<String> = tx
        .query("select app.fold(name) from categories", &[])
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    let divisible = units(tx).await?;
    let present = parsed.present.clone();
    let has = |c: &str| present.contains(c);
    let mut late_errors = Vec::new();
    for row in parsed.rows.iter_mut() {
        match by_sku.get(&row.sku) {
            Some(r) => {
                // absent columns keep what the product has
                if !has("barcode") {
                    row.barcode = r.get(1);
                }
                if !has("description") {
                    row.description = r.get(3);
                }
                if !has("category") {
                    row.category = r.get(4);
                }
                if !has("unit") {
                    row.unit = r.get(5);
                }
                if !has("cost") {
                    row.cost = r.get(7);
                }
                if !has("min_stock") {
                    row.min_stock = r.get(8);
                }
                if !has("track_stock") {
                    row.track_stock = r.get(10);
                }
                if !has("active") {
                    row.active = r.get(11);
                }
            }
            None => {
                if row.stock.is_some_and(|q| q.is_sign_negative() && !q.is_zero()) {
                    late_errors.push(RowError { line: row.line, column: "stock", key: "error.negative" });
                }
            }
        }
        if !divisible.get(&row.unit).copied().unwrap_or(true) {
            for (column, q) in [("min_stock", Some(row.min_stock)), ("stock", row.stock)] {
                if q.is_some_and(|q| q != q.trunc()) {
                    late_errors.push(RowError { line: row.line, column, key: "error.whole_number" });
                }
            }
        }
    }
    for e in late_errors {
        if !parsed.errors.contains(&e) {
            parsed.errors.push(e);
        }
    }
    let mut new_cats = HashSet::new();
    let mut plan = Plan::default();
    for row in &parsed.rows {
        if let Some(owner) = row.barcode.as_ref().and_then(|b| barcode_owner.get(b)) {
            if *owner != row.sku {
                parsed.errors.push(RowError {
                    line: row.line,
                    column: "barcode",
                    key: "error.barcode_taken",
                });
            }
        }
        if let Some(c) = &row.category {
            let folded = fold(c);
            if !categories.contains(&folded) {
                new_cats.insert(folded);
            }
        }
        match by_sku.get(&row.sku) {
            None => plan.new_products += 1,
            Some(r) => {
                let same = r.get::<_, Option<String>>(1) == row.barcode
                    && r.get::<_, String>(2) == row.name
                    && r.get::<_, String>(3) == row.description
                    && r.get::<_, Option<String>>(4).map(|c| fold(&c)) == row.category.as_deref().map(fold)
                    && r.get::<_, String>(5) == row.unit
                    && r.get::<_, Decimal>(6) == row.price
                    && r.get::<_, Decimal>(7) == row.cost
                    && r.get::<_, Decimal>(8) == row.min_stock
                    && r.get::<_, bool>(10) == row.track_stock
                    && r.get::<_, bool>(11) == row.active;
                if same {
                    plan.unchanged_products += 1;
                } else {
                    plan.updated_products += 1;
                }
                if row.stock.is_some_and(|s| s != r.get::<_, Decimal>(9)) {
                    plan.stock_kept += 1;
                }
            }
        }
    }
    parsed.errors.sort_by_key(|e| e.line);
    plan.new_categories = new_cats.len();
    Ok(plan)
}

/// Lowercase without accents, as app.fold does in the database (for matching category names).
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'Á' | 'À' | 'Ä' | 'Â' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ò' | 'Ö' | 'Ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
            'ñ' | 'Ñ' => 'n',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Stores an uploaded file for its preview; returns the import id.
pub async fn store(
    tx: &Tx<'_>,
    filename: &str,
    text: &str,
    parsed: &Parsed,
    user_id: i64,
) -> Result<i64, AppError> {
    let delimiter = (parsed.delimiter as char).to_string();
    let row_count = parsed.rows.len() as i32;
    let error_count = parsed.errors.len() as i32;
    let name: String = filename.chars().take(255).collect();
    Ok(tx
        .query_one(
            "insert into product_imports (filename, content, delimiter, row_count, error_count, created_by)
             values ($1, $2, $3, $4, $5, $6) returning id",
            &[&name, &text, &delimiter, &row_count, &error_count, &user_id],
        )
        .await?
        .get(0))
}

pub struct StoredImport {
    pub id: i64,
    pub filename: String,
    pub content: String,
    pub applied: bool,
}

pub async fn load(tx: &Tx<'_>, id: i64, lock: bool) -> Result<Option<StoredImport>, AppError> {
    let sql = if lock {
        "select id, filename, content, status from product_imports where id = $1 for update"
    } else {
        "select id, filename, content, status from product_imports where id = $1"
    };
    Ok(tx.query_opt(sql, &[&id]).await?.map(|r| StoredImport {
        id: r.get(0),
        filename: r.get(1),
        content: r.get(2),
        applied: r.get::<_, String>(3) == "applied",
    }))
}

/// Applies a previewed file in the caller's transaction: categories, products (upsert by SKU,
/// untouched when identical), then `import` movements for the stock of new products.
pub async fn apply(tx: &Tx<'_>, import_id: i64, rows: &[ImportRow], reason: &str) -> Result<Plan, AppError> {
    let cats: Vec<String> =
        rows.iter().filter_map(|r| r.category.clone()).collect::<HashSet<_>>().into_iter().collect();
    let new_categories = tx
        .execute(
            "insert into categories (name) select distinct on (app.fold(n)) n from unnest($1::text[]) as n
             on conflict (app.fold(name)) do nothing",
            &[&cats],
        )
        .await? as usize;
    let mut plan = Plan { new_categories, ..Plan::default() };
    for chunk in rows.chunks(BATCH) {
        let col = |f: fn(&ImportRow) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
        let skus = col(|r| Some(r.sku.clone()));
        let barcodes = col(|r| r.barcode.clone());
        let names = col(|r| Some(r.name.clone()));
        let descriptions = col(|r| Some(r.description.clone()));
        let categories = col(|r| r.category.clone());
        let units = col(|r| Some(r.unit.clone()));
        let prices: Vec<Decimal> = chunk.iter().map(|r| r.price).collect();
        let costs: Vec<Decimal> = chunk.iter().map(|r| r.cost).collect();
        let mins: Vec<Decimal> = chunk.iter().map(|r| r.min_stock).collect();
        let tracks: Vec<bool> = chunk.iter().map(|r| r.track_stock).collect();
        let actives: Vec<bool> = chunk.iter().map(|r| r.active).collect();
        let changed = tx
            .query(
                "insert into products as p (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock,
                                            track_stock, active)
                 select r.sku, r.barcode, r.name, r.description, c.id, u.id, r.price, r.cost, r.min_stock, r.track, r.active
                   from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[],
                               $8::numeric[], $9::numeric[], $10::bool[], $11::bool[])
                        as r(sku, barcode, name, description, category, unit, price, cost, min_stock, track, active)
                   join units u on u.code = r.unit
                   left join categories c on app.fold(c.name) = app.fold(r.category)
                 on conflict (sku) do update
                    set barcode = excluded.barcode, name = excluded.name, description = excluded.description,
                        category_id = excluded.category_id, unit_id = excluded.unit_id, price = excluded.price,
                        cost = excluded.cost, min_stock = excluded.min_stock, track_stock = excluded.track_stock,
                        active = excluded.active, updated_at = now()
                  where (p.barcode, p.name, p.description, p.category_id, p.unit_id, p.price, p.cost, p.min_stock,
                         p.track_stock, p.active)
                        is distinct from
                        (excluded.barcode, excluded.name, excluded.description, excluded.category_id, excluded.unit_id,
                         excluded.price, excluded.cost, excluded.min_stock, excluded.track_stock, excluded.active)
                 returning p.id, p.sku, (p.xmax = 0) as inserted",
                &[&skus, &barcodes, &names, &descriptions, &categories, &units, &prices, &costs, &mins, &tracks, &actives],
            )
            .await?;
        let stock_of: HashMap<&str, &ImportRow> = chunk.iter().map(|r| (r.sku.as_str(), r)).collect();
        let mut ids = Vec::new();
        let mut quantities = Vec::new();
        for r in &changed {
            let inserted: bool = r.get(2);
            if inserted {
                plan.new_products += 1;
                let sku: String = r.get(1);
                if let Some(row) = stock_of.get(sku.as_str()) {
                    if let Some(q) = row.stock.filter(|q| !q.is_zero() && row.track_stock) {
                        ids.push(r.get::<_, i64>(0));
                        quantities.push(q);
                    }
                }
            } else {
                plan.updated_products += 1;
            }
        }
        plan.unchanged_products += chunk.len() - changed.len();
        if !ids.is_empty() {
            tx.execute(
                "insert into stock_movements (product_id, kind, quantity, reason)
                 select id, 'import', q, $3 from unnest($1::bigint[], $2::numeric[]) as t(id, q)",
                &[&ids, &quantities, &reason],
            )
            .await?;
        }
    }
    tx.execute(
        "update product_imports set status = 'applied', applied_at = now() where id = $1",
        &[&import_id],
    )
    .await?;
    Ok(plan)
}

fn format_plain(d: Decimal) -> String {
    d.normalize().to_string()
}

/// The whole catalog as CSV (UTF-8 with a byte-order mark so spreadsheets detect it).
pub async fn export(tx: &Tx<'_>) -> Result<Vec<u8>, AppError> {
    let rows = tx
        .query(
            "select p.sku, p.barcode, p.name, p.description, c.name, u.code, p.price, p.cost, p.min_stock, p.stock,
                    p.track_stock, p.active
               from products p join units u on u.id = p.unit_id left join categories c on c.id = p.category_id
              order by p.sku",
            &[],
        )
        .await?;
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| AppError::Internal(format!("csv export: {e}"));
        w.write_record(COLUMNS).map_err(fail)?;
        for r in &rows {
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            w.write_record([
                r.get::<_, String>(0),
                r.get::<_, Option<String>>(1).unwrap_or_default(),
                r.get::<_, String>(2),
                r.get::<_, String>(3),
                r.get::<_, Option<String>>(4).unwrap_or_default(),
                r.get::<_, String>(5),
                format_plain(r.get(6)),
                format_plain(r.get(7)),
                format_plain(r.get(8)),
                format_plain(r.get(9)),
                yes_no(r.get(10)).to_string(),
                yes_no(r.get(11)).to_string(),
            ])
            .map_err(fail)?;
        }
        w.flush().map_err(|e| AppError::Internal(format!("csv export: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> HashMap<String, bool> {
        [("u".to_string(), false), ("kg".to_string(), true)].into_iter().collect()
    }

    #[test]
    fn refuses_bad_files_as_a_whole() {
        assert_eq!(decode(b"\xff\xfesku"), Err(FileError::NotUtf8));
        assert_eq!(decode(b"  \n"), Err(FileError::Empty));
        assert!(
            matches!(parse("sku,nombre,price\n", &units()), Err(FileError::UnknownColumns(c)) if c == ["nombre"])
        );
        assert!(
            matches!(parse("sku,price\nA,1\n", &units()), Err(FileError::MissingColumns(c)) if c == ["name"])
        );
        assert!(matches!(parse("sku,name,price,sku\n", &units()), Err(FileError::DuplicateColumns(_))));
        assert!(matches!(parse("sku,name,price\nA,B\n", &units()), Err(FileError::Malformed { .. })));
    }

    #[test]
    fn reports_every_bad_row() {
        let text =
            "sku,name,price,unit,stock\nA1,Uno,10.50,u,3\nA1,Dos,abc,u,1.5\n,Tres,1,zz,\nB2,,-1,kg,1.250\n";
        let p = parse(text, &units()).expect("parsed");
        let got: Vec<(usize, &str, &str)> = p.errors.iter().map(|e| (e.line, e.column, e.key)).collect();
        assert_eq!(
            got,
            vec![
                (3, "sku", "error.sku_duplicated_in_file"),
                (3, "price", "error.number_invalid"),
                (3, "stock", "error.whole_number"),
                (4, "sku", "error.required"),
                (4, "unit", "error.unit_unknown"),
                (5, "name", "error.required"),
                (5, "price", "error.negative"),
            ]
        );
        assert_eq!(p.rows[0].price, Decimal::new(1050, 2));
    }

    #[test]
    fn semicolon_files_use_decimal_commas() {
        let p = parse("sku;name;price\nA;Uno;1.234,50\nB;Dos;10,50\n", &units()).expect("parsed");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].price, Decimal::new(123450, 2));
        assert_eq!(p.rows[1].price, Decimal::new(1050, 2));
    }
}
