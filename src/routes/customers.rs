//! Customers: list and search, create, edit, the customer page (account, sales, quotes), payments
//! on account and opening balances (owner and admin), deactivate and delete.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, page_with, seg, seg2};
use crate::db::tx::{Access, SessionCtx, Tx};
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::customers::{self, AccountEntry, CustomerFields, CustomerQuery};
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::customers::{DetailView, EntryForm, FormView, ListView};

/// How many sales, quotes and account entries the customer page shows.
const HISTORY: i64 = 100;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id = || warp::path!("customers" / i64).boxed();
    let id_and = |tail: &'static str| {
        warp::path("customers").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("customers"), list)
        .or(page(app, seg2("customers", "new"), new_form))
        .unify()
        .or(form(app, seg("customers"), create))
        .unify()
        .or(page_with(app, id(), show))
        .unify()
        .or(page_with(app, id_and("edit"), edit_form))
        .unify()
        .or(form_with(app, id(), update))
        .unify()
        .or(form_with(app, id_and("payment"), |app, req, id, f| {
            account_entry(app, req, id, f, Entry::Payment)
        }))
        .unify()
        .or(form_with(app, id_and("opening"), |app, req, id, f| {
            account_entry(app, req, id, f, Entry::Opening)
        }))
        .unify()
        .or(form_with(app, id_and("active"), set_active))
        .unify()
        .or(form_with(app, id_and("delete"), delete))
        .unify()
        .boxed()
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

fn customer_query(f: &Form) -> CustomerQuery {
    CustomerQuery {
        q: f.get("q").trim().chars().take(100).collect(),
        active: match f.get("active") {
            "no" => Some(false),
            "all" => None,
            _ => Some(true),
        },
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    }
}

/// GET /customers: search by name or tax id, active filter, 50 a page.
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    let query = customer_query(&req.query_form());
    let found = customers::list(&tx, &query).await?;
    tx.commit().await?;
    let v = ListView { query: &query, items: &found.items, has_next: found.has_next };
    Ok(finish(&req, html(views::customers::list(&page_for(&req, Some(&ctx)), &v)), None))
}

fn fields_from(form: &Form) -> CustomerFields {
    let g = |k: &str| form.get(k).to_string();
    CustomerFields {
        name: g("name"),
        tax_id: g("tax_id"),
        email: g("email"),
        phone: g("phone"),
        address: g("address"),
        notes: g("notes"),
    }
}

/// Renders the customer form (new when `id` is None) in a fresh read-only transaction.
async fn render_form(
    app: &App,
    req: &Req,
    fields: &CustomerFields,
    errors: &FieldErrors,
    id: Option<i64>,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    if let Some(id) = id {
        customers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    }
    tx.commit().await?;
    let v = FormView { fields, errors, customer_id: id };
    let r = html(views::customers::form(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /customers/new
async fn new_form(app: App, req: Req) -> Result<Response, AppError> {
    render_form(&app, &req, &CustomerFields::default(), &FieldErrors::new(), None).await
}

/// GET /customers/{id}/edit
async fn edit_form(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let fields = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
        customers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?.fields()
    };
    render_form(&app, &req, &fields, &FieldErrors::new(), Some(id)).await
}

/// Saves the customer form (a new customer when `id` is None); errors show the form again.
async fn save(app: &App, req: &Req, form: &Form, id: Option<i64>) -> Result<Response, AppError> {
    let fields = fields_from(form);
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let result = match (fields.parse(), id) {
        (Ok(input), None) => customers::create(&tx, &input).await,
        (Ok(input), Some(id)) => match customers::update(&tx, id, &input).await {
            Ok(true) => Ok(id),
            Ok(false) => return Err(AppError::NotFound),
            Err(e) => Err(e),
        },
        (Err(errors), _) => Err(WriteError::Field(errors)),
    };
    match result {
        Ok(saved) => {
            tx.commit().await?;
            Ok(with_flash(req, redirect(&format!("/customers/{saved}")), "flash.saved"))
        }
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            drop(conn);
            render_form(app, req, &fields, &errors, id).await
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// POST /customers
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    save(&app, &req, &form, None).await
}

/// POST /customers/{id}
async fn update(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    save(&app, &req, &form, Some(id)).await
}

/// A refused submission the customer page shows again, with its errors.
enum Refused<'a> {
    Nothing,
    Payment(&'a Form, FieldErrors),
    Opening(&'a Form, FieldErrors),
    /// Delete or deactivate.
    Customer(FieldErrors),
}

/// An account form as submitted (None: fresh).
fn entry<'a>(f: Option<&'a Form>, errors: &'a FieldErrors) -> EntryForm<'a> {
    EntryForm {
        method: f.map_or("cash", |f| f.get("method")),
        amount: f.map_or("", |f| f.get("amount")),
        note: f.map_or("", |f| f.get("note")),
        errors,
    }
}

async fn detail_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    id: i64,
    refused: &Refused<'_>,
) -> Result<Response, AppError> {
    let customer = customers::by_id(tx, id).await?.ok_or(AppError::NotFound)?;
    let ledger = customers::ledger(tx, id, HISTORY).await?;
    let sales = customers::sales(tx, id, HISTORY).await?;
    let quotes = customers::quotes(tx, id, HISTORY).await?;
    let none = FieldErrors::new();
    let (payment, opening, errors) = match refused {
        Refused::Nothing => (entry(None, &none), entry(None, &none), &none),
        Refused::Payment(f, e) => (entry(Some(f), e), entry(None, &none), &none),
        Refused::Opening(f, e) => (entry(None, &none), entry(Some(f), e), &none),
        Refused::Customer(e) => (entry(None, &none), entry(None, &none), e),
    };
    let v = DetailView {
        customer: &customer,
        ledger: &ledger,
        sales: &sales,
        quotes: &quotes,
        history_limit: HISTORY,
        can_manage_account: ctx.shop.as_ref().is_some_and(|s| s.role.can(Permission::ViewMoney)),
        payment,
        opening,
        errors,
    };
    let r = html(views::customers::detail(&page_for(req, Some(ctx)), &v));
    Ok(if matches!(refused, Refused::Nothing) { finish(req, r, None) } else { unprocessable(r) })
}

/// Shows the customer page in a fresh read-only transaction (after a refused write).
async fn render_detail(app: &App, req: &Req, id: i64, refused: &Refused<'_>) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    detail_page(&tx, req, &ctx, id, refused).await
}

/// GET /customers/{id}
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    render_detail(&app, &req, id, &Refused::Nothing).await
}

#[derive(Clone, Copy)]
enum Entry {
    Payment,
    Opening,
}

/// POST /customers/{id}/payment (method, amount, note) and POST /customers/{id}/opening (amount,
/// note): owner and admin only.
async fn account_entry(app: App, req: Req, id: i64, form: Form, kind: Entry) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ViewMoney).await?;
        customers::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
        let (l, f) = (req.locale_for(&ctx), |k| form.get(k));
        let result = match kind {
            Entry::Payment => match customers::parse_payment(f("method"), f("amount"), f("note"), l) {
                Ok((method, entry)) => customers::record_payment(&tx, id, method, &entry).await.map(|_| ()),
                Err(errors) => Err(WriteError::Field(errors)),
            },
            Entry::Opening => match AccountEntry::parse(f("amount"), f("note"), l) {
                Ok(entry) => customers::record_opening(&tx, id, &entry).await,
                Err(errors) => Err(WriteError::Field(errors)),
            },
        };
        match result {
            Ok(()) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect(&format!("/customers/{id}")), "flash.saved"));
            }
            // a refused entry aborted the transaction: nothing was written
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    let refused = match kind {
        Entry::Payment => Refused::Payment(&form, errors),
        Entry::Opening => Refused::Opening(&form, errors),
    };
    render_detail(&app, &req, id, &refused).await
}

/// POST /customers/{id}/active (active = yes | no): a customer with history is deactivated, not
/// deleted.
async fn set_active(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
        match customers::set_active(&tx, id, form.get("active") == "yes").await {
            Ok(true) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect(&format!("/customers/{id}")), "flash.saved"));
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_detail(&app, &req, id, &Refused::Customer(errors)).await
}

/// POST /customers/{id}/delete: owner and admin, only a customer without history.
async fn delete(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ViewMoney).await?;
        match customers::delete(&tx, id).await {
            Ok(true) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect("/customers"), "flash.deleted"));
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_detail(&app, &req, id, &Refused::Customer(errors)).await
}
