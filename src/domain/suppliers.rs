//! Suppliers: the supplier form, list and search, and what the shop owes each one (the sum of
//! what is still due on its received invoices). A supplier with invoices is deactivated, not
//! deleted: its invoices' foreign key refuses the delete. Owner and admin only (the database
//! grants nothing on these tables to staff).

use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::auth::Email;
use super::catalog::{take, FieldErrors, WriteError};
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};

pub const PAGE_SIZE: i64 = 50;

/// Free text of an optional field: trimmed, at most `max` characters; line breaks only when
/// `multiline`, no other control characters.
pub fn optional_text(raw: &str, max: usize, multiline: bool) -> Result<String, &'static str> {
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

/// The raw fields of the supplier form, as typed.
#[derive(Clone, Debug, Default)]
pub struct SupplierFields {
    pub name: String,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
}

#[derive(Clone, Debug)]
pub struct SupplierInput {
    pub name: Name,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
}

impl SupplierFields {
    /// Parses every field, collecting all errors at once.
    pub fn parse(&self) -> Result<SupplierInput, FieldErrors> {
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
                Ok(SupplierInput { name, tax_id, email, phone, address, notes })
            }
            _ => Err(errors),
        }
    }
}

/// A refused supplier write (named constraint) as a field error.
fn write_error(e: tokio_postgres::Error) -> WriteError {
    let field = match violated_constraint(&e) {
        Some("purchase_invoices_supplier_id_fkey") => Some(("supplier", "supplier.error_has_invoices")),
        Some("suppliers_name_check") => Some(("name", "error.too_long")),
        Some("suppliers_tax_id_check") => Some(("tax_id", "error.too_long")),
        Some("suppliers_email_check") => Some(("email", "error.too_long")),
        Some("suppliers_phone_check") => Some(("phone", "error.too_long")),
        Some("suppliers_address_check") => Some(("address", "error.too_long")),
        Some("suppliers_notes_check") => Some(("notes", "error.too_long")),
        _ => None,
    };
    match field {
        Some(f) => WriteError::Field(vec![f]),
        None => WriteError::Other(e.into()),
    }
}

#[derive(Clone, Debug)]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
    pub active: bool,
    /// What the shop still owes on this supplier's received invoices.
    pub owed: Decimal,
    /// How many invoices (drafts and corrections included) name this supplier.
    pub invoices: i64,
}

impl Supplier {
    pub fn fields(&self) -> SupplierFields {
        SupplierFields {
            name: self.name.clone(),
            tax_id: self.tax_id.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            notes: self.notes.clone(),
        }
    }
}

const SUPPLIER_COLUMNS: &str = "s.id, s.name, s.tax_id, s.email, s.phone, s.address, s.notes, s.active,
       coalesce((select sum(i.total + i.credited - i.paid) from purchase_invoices i
                  where i.supplier_id = s.id and i.kind = 'invoice' and i.status = 'received'), 0)::numeric(12, 2),
       (select count(*) from purchase_invoices i where i.supplier_id = s.id)
  from suppliers s";

fn supplier(r: &Row) -> Supplier {
    Supplier {
        id: r.get(0),
        name: r.get(1),
        tax_id: r.get(2),
        email: r.get(3),
        phone: r.get(4),
        address: r.get(5),
        notes: r.get(6),
        active: r.get(7),
        owed: r.get(8),
        invoices: r.get(9),
    }
}

pub async fn by_id(tx: &Tx<'_>, id: i64) -> Result<Option<Supplier>, AppError> {
    let sql = format!("select {SUPPLIER_COLUMNS} where s.id = $1");
    Ok(tx.query_opt(&sql, &[&id]).await?.as_ref().map(supplier))
}

#[derive(Clone, Debug, Default)]
pub struct SupplierQuery {
    pub q: String,
    /// None: all; Some(true): active only; Some(false): inactive only.
    pub active: Option<bool>,
    pub page: i64,
}

pub struct SupplierPage {
    pub items: Vec<Supplier>,
    pub has_next: bool,
}

fn like_pattern(q: &str) -> String {
    format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// A tax id as digits and letters only, so "30-71234567-8" finds "30712345678" and back.
fn bare_tax_id(q: &str) -> String {
    q.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// One page of suppliers by name, matching the name (case- and accent-insensitive) or the tax id
/// written with or without separators.
pub async fn list(tx: &Tx<'_>, query: &SupplierQuery) -> Result<SupplierPage, AppError> {
    let q = query.q.trim();
    let bare = bare_tax_id(q);
    let sql = format!(
        "select {SUPPLIER_COLUMNS}
          where ($1 = '' or app.fold(s.name) like app.fold($2)
                 or ($3 <> '' and regexp_replace(s.tax_id, '[^[:alnum:]]', '', 'g') like $4))
            and ($5::boolean is null or s.active = $5)
          order by app.fold(s.name), s.id limit $6 offset $7"
    );
    let offset = query.page.max(0) * PAGE_SIZE;
    let rows = tx
        .query(
            &sql,
            &[&q, &like_pattern(q), &bare, &like_pattern(&bare), &query.active, &(PAGE_SIZE + 1), &offset],
        )
        .await?;
    let items: Vec<Supplier> = rows.iter().map(supplier).collect();
    let (items, has_next) = super::split_page(items, PAGE_SIZE);
    Ok(SupplierPage { items, has_next })
}

/// Active suppliers as (id, name), for the invoice form's choice.
pub async fn options(tx: &Tx<'_>) -> Result<Vec<(i64, String)>, AppError> {
    let rows = tx
        .query("select id, name from suppliers where active order by app.fold(name), id limit 500", &[])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn create(tx: &Tx<'_>, s: &SupplierInput) -> Result<i64, WriteError> {
    let row = tx
        .query_one(
            "insert into suppliers (name, tax_id, email, phone, address, notes)
             values ($1, $2, $3, $4, $5, $6) returning id",
            &[&s.name.as_str(), &s.tax_id, &s.email, &s.phone, &s.address, &s.notes],
        )
        .await
        .map_err(write_error)?;
    Ok(row.get(0))
}

pub async fn update(tx: &Tx<'_>, id: i64, s: &SupplierInput) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "update suppliers set name = $2, tax_id = $3, email = $4, phone = $5, address = $6, notes = $7
              where id = $1",
            &[&id, &s.name.as_str(), &s.tax_id, &s.email, &s.phone, &s.address, &s.notes],
        )
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

pub async fn set_active(tx: &Tx<'_>, id: i64, active: bool) -> Result<bool, WriteError> {
    let n = tx
        .execute("update suppliers set active = $2 where id = $1", &[&id, &active])
        .await
        .map_err(write_error)?;
    Ok(n == 1)
}

/// Deletes a supplier without invoices; one with invoices is refused by the foreign key
/// (deactivate it instead).
pub async fn delete(tx: &Tx<'_>, id: i64) -> Result<bool, WriteError> {
    Ok(tx.execute("delete from suppliers where id = $1", &[&id]).await.map_err(write_error)? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplier_form_collects_every_error() {
        let f = SupplierFields {
            name: " ".into(),
            tax_id: "1".repeat(21),
            email: "nope".into(),
            phone: "1".repeat(41),
            address: "a".repeat(301),
            notes: "n".repeat(1001),
        };
        assert_eq!(
            f.parse().map(|_| ()),
            Err(vec![
                ("name", "error.required"),
                ("tax_id", "error.too_long"),
                ("email", "error.email_invalid"),
                ("phone", "error.too_long"),
                ("address", "error.too_long"),
                ("notes", "error.too_long"),
            ])
        );
        let ok =
            SupplierFields { name: " Distribuidora Sur ".into(), ..Default::default() }.parse().expect("ok");
        assert_eq!(ok.name.as_str(), "Distribuidora Sur");
    }

    #[test]
    fn tax_ids_match_without_separators() {
        assert_eq!(bare_tax_id("30-71234567-8"), "30712345678");
        assert_eq!(like_pattern("a_b%"), "%a\\_b\\%%");
    }
}
