//! Suppliers (owner and admin): list and search, create, edit, the supplier page (invoices and
//! what is owed), deactivate and delete.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, page_with, seg, seg2};
use crate::db::tx::Access;
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::member::Permission;
use crate::domain::purchases;
use crate::domain::suppliers::{self, SupplierFields, SupplierQuery};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::suppliers::{DetailView, FormView, ListView};

/// How many invoices the supplier page shows.
const HISTORY: i64 = 100;
const NEED: Permission = Permission::ManagePurchasing;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id = || warp::path!("suppliers" / i64).boxed();
    let id_and = |tail: &'static str| {
        warp::path("suppliers").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("suppliers"), list)
        .or(page(app, seg2("suppliers", "new"), new_form))
        .unify()
        .or(form(app, seg("suppliers"), create))
        .unify()
        .or(page_with(app, id(), show))
        .unify()
        .or(page_with(app, id_and("edit"), edit_form))
        .unify()
        .or(form_with(app, id(), update))
        .unify()
        .or(form_with(app, id_and("active"), set_active))
        .unify()
        .or(form_with(app, id_and("delete"), delete))
        .unify()
        .boxed()
}

pub(super) fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// GET /suppliers (?q, active, page)
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    let f = req.query_form();
    let query = SupplierQuery {
        q: f.get("q").trim().chars().take(100).collect(),
        active: match f.get("active") {
            "no" => Some(false),
            "all" => None,
            _ => Some(true),
        },
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    };
    let found = suppliers::list(&tx, &query).await?;
    tx.commit().await?;
    let v = ListView { query: &query, items: &found.items, has_next: found.has_next };
    Ok(finish(&req, html(views::suppliers::list(&page_for(&req, Some(&ctx)), &v)), None))
}

fn fields_from(form: &Form) -> SupplierFields {
    let g = |k: &str| form.get(k).to_string();
    SupplierFields {
        name: g("name"),
        tax_id: g("tax_id"),
        email: g("email"),
        phone: g("phone"),
        address: g("address"),
        notes: g("notes"),
    }
}

async fn render_form(
    app: &App,
    req: &Req,
    fields: &SupplierFields,
    errors: &FieldErrors,
    id: Option<i64>,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    if let Some(id) = id {
        suppliers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    }
    tx.commit().await?;
    let v = FormView { fields, errors, supplier_id: id };
    let r = html(views::suppliers::form(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /suppliers/new
async fn new_form(app: App, req: Req) -> Result<Response, AppError> {
    render_form(&app, &req, &SupplierFields::default(), &FieldErrors::new(), None).await
}

/// GET /suppliers/{id}/edit
async fn edit_form(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let fields = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
        suppliers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?.fields()
    };
    render_form(&app, &req, &fields, &FieldErrors::new(), Some(id)).await
}

async fn save(app: &App, req: &Req, form: &Form, id: Option<i64>) -> Result<Response, AppError> {
    let fields = fields_from(form);
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, NEED).await?;
    let result = match (fields.parse(), id) {
        (Ok(input), None) => suppliers::create(&tx, &input).await,
        (Ok(input), Some(id)) => match suppliers::update(&tx, id, &input).await {
            Ok(true) => Ok(id),
            Ok(false) => return Err(AppError::NotFound),
            Err(e) => Err(e),
        },
        (Err(errors), _) => Err(WriteError::Field(errors)),
    };
    match result {
        Ok(saved) => {
            tx.commit().await?;
            Ok(with_flash(req, redirect(&format!("/suppliers/{saved}")), "flash.saved"))
        }
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            drop(conn);
            render_form(app, req, &fields, &errors, id).await
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// POST /suppliers
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    save(&app, &req, &form, None).await
}

/// POST /suppliers/{id}
async fn update(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    save(&app, &req, &form, Some(id)).await
}

async fn render_detail(app: &App, req: &Req, id: i64, errors: &FieldErrors) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    let supplier = suppliers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    let invoices = purchases::for_supplier(&tx, id, HISTORY).await?;
    tx.commit().await?;
    let v = DetailView { supplier: &supplier, invoices: &invoices, history_limit: HISTORY, errors };
    let r = html(views::suppliers::detail(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /suppliers/{id}
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    render_detail(&app, &req, id, &FieldErrors::new()).await
}

#[derive(Clone, Copy)]
enum Action {
    SetActive(bool),
    Delete,
}

/// Deactivates, reactivates or deletes a supplier; a refusal shows the supplier page with its
/// message.
async fn supplier_write(app: &App, req: &Req, id: i64, action: Action) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, NEED).await?;
        let result = match action {
            Action::SetActive(active) => suppliers::set_active(&tx, id, active).await,
            Action::Delete => suppliers::delete(&tx, id).await,
        };
        match result {
            Ok(true) => {
                tx.commit().await?;
                return Ok(match action {
                    Action::SetActive(_) => {
                        with_flash(req, redirect(&format!("/suppliers/{id}")), "flash.saved")
                    }
                    Action::Delete => with_flash(req, redirect("/suppliers"), "flash.deleted"),
                });
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_detail(app, req, id, &errors).await
}

/// POST /suppliers/{id}/active (active = yes | no): a supplier with invoices is deactivated.
async fn set_active(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    supplier_write(&app, &req, id, Action::SetActive(form.get("active") == "yes")).await
}

/// POST /suppliers/{id}/delete: only a supplier without invoices.
async fn delete(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    supplier_write(&app, &req, id, Action::Delete).await
}
