//! Categories, units, stocktake and missing products.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, seg};
use crate::db::tx::Access;
use crate::domain::catalog::{self, take, FieldErrors, WriteError};
use crate::domain::member::Permission;
use crate::domain::money::Quantity;
use crate::domain::stock;
use crate::domain::text::Name;
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::stock::StocktakeView;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let with_tail = |head: &'static str, tail: &'static str| {
        warp::path(head).and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("categories"), categories)
        .or(form(app, seg("categories"), create_category))
        .unify()
        .or(form_with(app, with_tail("categories", "rename"), rename_category))
        .unify()
        .or(form_with(app, with_tail("categories", "delete"), delete_category))
        .unify()
        .or(page(app, seg("units"), units))
        .unify()
        .or(form(app, seg("units"), create_unit))
        .unify()
        .or(form_with(app, warp::path!("units" / i64).boxed(), update_unit))
        .unify()
        .or(form_with(app, with_tail("units", "delete"), delete_unit))
        .unify()
        .or(page(app, seg("stocktake"), stocktake))
        .unify()
        .or(form(app, seg("stocktake"), post_stocktake))
        .unify()
        .or(page(app, seg("missing"), missing))
        .unify()
        .or(form(app, seg("missing"), note_missing))
        .unify()
        .or(form_with(app, with_tail("missing", "delete"), remove_missing))
        .unify()
        .boxed()
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

async fn render_categories(
    app: &App,
    req: &Req,
    name: &str,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let list = catalog::categories(&tx).await?;
    tx.commit().await?;
    let r = html(views::stock::categories(&page_for(req, Some(&ctx)), &list, name, errors));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /categories
async fn categories(app: App, req: Req) -> Result<Response, AppError> {
    render_categories(&app, &req, "", &FieldErrors::new()).await
}

/// Runs a category/unit write; a field error re-renders the page (after the failed transaction).
async fn category_write(
    app: &App,
    req: &Req,
    form: &Form,
    write: CategoryWrite,
) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
        let name = Name::parse(form.get("name"), 80);
        let result = match (write, name) {
            (_, Err(e)) if !matches!(write, CategoryWrite::Delete(_)) => {
                Err(WriteError::Field(vec![("name", e)]))
            }
            (CategoryWrite::Create, Ok(n)) => catalog::create_category(&tx, &n).await.map(|_| true),
            (CategoryWrite::Rename(id), Ok(n)) => catalog::rename_category(&tx, id, &n).await,
            (CategoryWrite::Delete(id), _) => match catalog::delete_category(&tx, id).await? {
                Ok(found) => Ok(found),
                Err(_in_use) => Err(WriteError::Field(vec![("delete", "error.category_in_use")])),
            },
            (_, Err(_)) => Ok(false),
        };
        match result {
            Ok(true) => {
                tx.commit().await?;
                return Ok(with_flash(req, redirect("/categories"), "flash.saved"));
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WriteError::Field(errors)) => errors,
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_categories(app, req, form.get("name"), &errors).await
}

#[derive(Clone, Copy)]
enum CategoryWrite {
    Create,
    Rename(i64),
    Delete(i64),
}

/// POST /categories
async fn create_category(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    category_write(&app, &req, &form, CategoryWrite::Create).await
}

/// POST /categories/{id}/rename
async fn rename_category(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    category_write(&app, &req, &form, CategoryWrite::Rename(id)).await
}

/// POST /categories/{id}/delete: refused while products use it.
async fn delete_category(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    category_write(&app, &req, &form, CategoryWrite::Delete(id)).await
}

async fn render_units(app: &App, req: &Req, errors: &FieldErrors) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let list = catalog::units(&tx).await?;
    tx.commit().await?;
    let r = html(views::stock::units(&page_for(req, Some(&ctx)), &list, errors));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /units
async fn units(app: App, req: Req) -> Result<Response, AppError> {
    render_units(&app, &req, &FieldErrors::new()).await
}

async fn unit_write(
    app: &App,
    req: &Req,
    form: &Form,
    id: Option<i64>,
    delete: bool,
) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
        let divisible = form.get("divisible") == "on";
        let mut errors = FieldErrors::new();
        let result = if delete {
            match catalog::delete_unit(&tx, id.unwrap_or_default()).await? {
                Ok(found) => Ok(found),
                Err(_) => Err(WriteError::Field(vec![("delete", "error.unit_in_use")])),
            }
        } else {
            let name = take(&mut errors, "name", Name::parse(form.get("name"), 60));
            match (id, name) {
                (Some(id), Some(n)) => catalog::update_unit(&tx, id, &n, divisible).await,
                (None, Some(n)) => match take(&mut errors, "code", catalog::unit_code(form.get("code"))) {
                    Some(code) => catalog::create_unit(&tx, &code, &n, divisible).await.map(|_| true),
                    None => Err(WriteError::Field(errors.clone())),
                },
                _ => Err(WriteError::Field(errors.clone())),
            }
        };
        match result {
            Ok(true) => {
                tx.commit().await?;
                return Ok(with_flash(req, redirect("/units"), "flash.saved"));
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WriteError::Field(e)) => e,
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_units(app, req, &errors).await
}

/// POST /units
async fn create_unit(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    unit_write(&app, &req, &form, None, false).await
}

/// POST /units/{id}
async fn update_unit(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    unit_write(&app, &req, &form, Some(id), false).await
}

/// POST /units/{id}/delete
async fn delete_unit(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    unit_write(&app, &req, &form, Some(id), true).await
}

async fn render_stocktake(
    app: &App,
    req: &Req,
    category_id: Option<i64>,
    counts: &[(i64, String)],
    reason: &str,
    errors: &(FieldErrors, Vec<(i64, &'static str)>),
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let products = catalog::products_for_count(&tx, category_id).await?;
    let categories = catalog::category_options(&tx, ctx.tenant_id().ok_or(AppError::NoShop)?).await?;
    tx.commit().await?;
    let (field_errors, row_errors) = errors;
    let v = StocktakeView {
        products: &products,
        categories: &categories,
        category_id,
        errors: field_errors,
        row_errors,
        counts,
        reason,
    };
    let r = html(views::stock::stocktake(&page_for(req, Some(&ctx)), &v));
    Ok(if field_errors.is_empty() && row_errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /stocktake
async fn stocktake(app: App, req: Req) -> Result<Response, AppError> {
    let category = req.query_form().get("category").parse().ok();
    render_stocktake(&app, &req, category, &[], "", &(FieldErrors::new(), Vec::new())).await
}

/// POST /stocktake: fields count_<product id>; blank ones are not counted.
async fn post_stocktake(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let entered: Vec<(i64, String)> = form
        .pairs()
        .filter_map(|(k, v)| Some((k.strip_prefix("count_")?.parse::<i64>().ok()?, v.trim().to_string())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
        let l = req.locale_for(&ctx);
        let ids: Vec<i64> = entered.iter().map(|(id, _)| *id).collect();
        let divisible = catalog::divisibility(&tx, &ids).await?;
        let mut errors: FieldErrors = Vec::new();
        let mut row_errors: Vec<(i64, &'static str)> = Vec::new();
        let mut counts = Vec::new();
        for (id, raw) in &entered {
            let parsed = match divisible.iter().find(|(pid, _)| pid == id) {
                Some((_, div)) => Quantity::parse_non_negative(raw, l, *div),
                None => Err("error.choose_option"),
            };
            match parsed {
                Ok(q) => counts.push((*id, q)),
                Err(e) => row_errors.push((*id, e)),
            }
        }
        let reason = form.get("reason").trim();
        if reason.chars().count() > 500 {
            errors.push(("reason", "error.too_long"));
        }
        if entered.is_empty() {
            errors.push(("reason", "error.nothing_counted"));
        }
        if errors.is_empty() && row_errors.is_empty() {
            stock::post_stocktake(&tx, &counts, reason).await?;
            tx.commit().await?;
            return Ok(with_flash(&req, redirect("/stocktake"), "flash.stocktake_posted"));
        }
        (errors, row_errors)
    };
    let category = form.get("category").parse().ok();
    render_stocktake(&app, &req, category, &entered, form.get("reason"), &errors).await
}

async fn render_missing(
    app: &App,
    req: &Req,
    name: &str,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewCatalog).await?;
    let list = stock::missing_products(&tx).await?;
    tx.commit().await?;
    let can_remove = ctx.shop.as_ref().is_some_and(|s| s.role.can(Permission::ManageCatalog));
    let r = html(views::stock::missing(&page_for(req, Some(&ctx)), &list, can_remove, name, errors));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /missing
async fn missing(app: App, req: Req) -> Result<Response, AppError> {
    render_missing(&app, &req, "", &FieldErrors::new()).await
}

/// POST /missing: staff note an item a customer asked for.
async fn note_missing(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let name = take(&mut errors, "name", Name::parse(form.get("name"), 200));
    let note = form.get("note").trim();
    if note.chars().count() > 500 {
        errors.push(("note", "error.too_long"));
    }
    if let (Some(name), true) = (name, errors.is_empty()) {
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ViewCatalog).await?;
        match stock::note_missing(&tx, &name, note, ctx.user_id).await {
            Ok(_) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect("/missing"), "flash.missing_noted"));
            }
            Err(WriteError::Field(e)) => errors = e,
            Err(WriteError::Other(e)) => return Err(e),
        }
    }
    render_missing(&app, &req, form.get("name"), &errors).await
}

/// POST /missing/{id}/delete
async fn remove_missing(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    if !stock::remove_missing(&tx, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/missing"), "flash.deleted"))
}
