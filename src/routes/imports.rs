//! Catalog CSV: export, upload → preview (row-by-row errors, nothing changed) → apply.

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::auth::{finish, page_for, with_flash};
use super::{form_with, page, page_with, seg2, upload};
use crate::db::tx::Access;
use crate::domain::csv_io::{self, FileError};
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::http::request::Upload;
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::{t, tf};
use crate::views;
use crate::views::imports::PreviewView;

/// Largest CSV accepted (a 100,000-row catalog fits comfortably).
pub const CSV_LIMIT: u64 = 25 * 1024 * 1024;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id = || warp::path!("products" / "import" / i64).boxed();
    let apply_path = || warp::path!("products" / "import" / i64 / "apply").boxed();
    page(app, seg2("products", "export.csv"), export)
        .or(page(app, seg2("products", "import"), upload_form))
        .unify()
        .or(upload(app, seg2("products", "import"), CSV_LIMIT, receive))
        .unify()
        .or(page_with(app, id(), preview))
        .unify()
        .or(form_with(app, apply_path(), apply))
        .unify()
        .boxed()
}

/// GET /products/export.csv
async fn export(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let bytes = csv_io::export(&tx).await?;
    tx.commit().await?;
    let slug = ctx.shop.as_ref().map(|s| s.slug.as_str()).unwrap_or("shop");
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{slug}-products.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// GET /products/import
async fn upload_form(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    tx.commit().await?;
    Ok(finish(&req, html(views::imports::upload(&page_for(&req, Some(&ctx)), None)), None))
}

fn file_error_message(req: &Req, e: &FileError) -> String {
    let l = req.locale;
    match e {
        FileError::NotUtf8 => t(l, "error.csv_not_utf8").to_string(),
        FileError::Empty => t(l, "error.csv_empty").to_string(),
        FileError::MissingColumns(c) => tf(l, "error.csv_missing_columns", &[("columns", &c.join(", "))]),
        FileError::UnknownColumns(c) => tf(l, "error.csv_unknown_columns", &[("columns", &c.join(", "))]),
        FileError::DuplicateColumns(c) => tf(l, "error.csv_duplicate_columns", &[("columns", &c.join(", "))]),
        FileError::TooManyRows(max) => tf(l, "error.csv_too_many_rows", &[("max", &max.to_string())]),
        FileError::Malformed { line, .. } => tf(l, "error.csv_malformed", &[("line", &line.to_string())]),
    }
}

/// POST /products/import: checks the whole file and stores it for the preview (the catalog is
/// not touched).
async fn receive(app: App, req: Req, up: Upload) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    let refuse = |message: String| {
        let mut r = html(views::imports::upload(&page_for(&req, Some(&ctx)), Some(&message)));
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    };
    let Some(file) = up.file("file") else {
        return Ok(refuse(t(req.locale, "error.csv_no_file").to_string()));
    };
    let units = csv_io::units(&tx).await?;
    let parsed = csv_io::decode(&file.bytes).and_then(|text| csv_io::parse(&text, &units).map(|p| (text, p)));
    let (text, mut parsed) = match parsed {
        Ok(x) => x,
        Err(e) => return Ok(refuse(file_error_message(&req, &e))),
    };
    csv_io::plan(&tx, &mut parsed).await?;
    let id = csv_io::store(&tx, &file.filename, &text, &parsed, ctx.user_id).await?;
    tx.commit().await?;
    Ok(redirect(&format!("/products/import/{id}")))
}

/// Re-reads a stored file and checks it against the shop as it is now.
async fn check(
    tx: &crate::db::tx::Tx<'_>,
    content: &str,
) -> Result<(csv_io::Parsed, csv_io::Plan), AppError> {
    let units = csv_io::units(tx).await?;
    let mut parsed = csv_io::parse(content, &units).map_err(|_| AppError::BadRequest("error.csv_changed"))?;
    let plan = csv_io::plan(tx, &mut parsed).await?;
    Ok((parsed, plan))
}

/// GET /products/import/{id}: the dry run.
async fn preview(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let stored = csv_io::load(&tx, id, false).await?.ok_or(AppError::NotFound)?;
    let (parsed, plan) = check(&tx, &stored.content).await?;
    tx.commit().await?;
    let v = PreviewView {
        id,
        filename: &stored.filename,
        rows: parsed.rows.len(),
        plan: &plan,
        errors: &parsed.errors,
        applied: stored.applied,
    };
    Ok(finish(&req, html(views::imports::preview(&page_for(&req, Some(&ctx)), &v)), None))
}

/// POST /products/import/{id}/apply: only a file without errors, only once.
async fn apply(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    let stored = csv_io::load(&tx, id, true).await?.ok_or(AppError::NotFound)?;
    let (parsed, plan) = check(&tx, &stored.content).await?;
    if stored.applied || !parsed.errors.is_empty() {
        tx.rollback().await?;
        let v = PreviewView {
            id,
            filename: &stored.filename,
            rows: parsed.rows.len(),
            plan: &plan,
            errors: &parsed.errors,
            applied: stored.applied,
        };
        let mut r = html(views::imports::preview(&page_for(&req, Some(&ctx)), &v));
        *r.status_mut() = StatusCode::CONFLICT;
        return Ok(r);
    }
    let reason = format!("{} {}", t(req.locale_for(&ctx), "import.reason"), stored.filename);
    match csv_io::apply(&tx, id, &parsed.rows, &reason).await {
        Ok(_) => {}
        // more active products than the plan allows: the preview again, with the plan's limit;
        // the whole import is rolled back
        Err(AppError::PlanLimit(limit)) => {
            tx.rollback().await?;
            let v = PreviewView {
                id,
                filename: &stored.filename,
                rows: parsed.rows.len(),
                plan: &plan,
                errors: &parsed.errors,
                applied: false,
            };
            let mut p = page_for(&req, Some(&ctx));
            p.alert = Some(limit.message(p.locale));
            let mut r = html(views::imports::preview(&p, &v));
            *r.status_mut() = StatusCode::CONFLICT;
            return Ok(r);
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/products"), "flash.imported"))
}
