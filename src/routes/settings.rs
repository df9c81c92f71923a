//! The shop's settings page (owner only): name, currency, time zone, language, negative stock,
//! receipt texts, quote validity.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, page, seg};
use crate::db::tx::Access;
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::limits;
use crate::domain::member::Permission;
use crate::domain::settings::{self, SettingsFields};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::settings::FormView;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    page(app, seg("settings"), show).or(form(app, seg("settings"), save)).unify().boxed()
}

/// The form (as stored when `fields` is None) in a fresh read-only transaction.
async fn render(
    app: &App,
    req: &Req,
    fields: Option<&SettingsFields>,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ChangeSettings).await?;
    let stored = match fields {
        Some(_) => None,
        None => Some(SettingsFields::from(&settings::load(&tx).await?)),
    };
    let zones = settings::time_zones(&tx).await?;
    let plan = limits::usage(&tx).await?;
    tx.commit().await?;
    let fields = fields.or(stored.as_ref()).ok_or(AppError::Internal("no settings".into()))?;
    let v = FormView { fields, errors, time_zones: &zones, plan: plan.as_ref() };
    let r = html(views::settings::form(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() {
        finish(req, r, None)
    } else {
        let mut r = r;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    })
}

/// GET /settings
async fn show(app: App, req: Req) -> Result<Response, AppError> {
    render(&app, &req, None, &FieldErrors::new()).await
}

fn fields_from(f: &Form) -> SettingsFields {
    let g = |k: &str| f.get(k).to_string();
    SettingsFields {
        name: g("name"),
        currency: g("currency"),
        time_zone: g("time_zone"),
        locale: g("locale"),
        allow_negative_stock: f.get("allow_negative_stock") == "on",
        receipt_header: g("receipt_header"),
        receipt_footer: g("receipt_footer"),
        quote_validity_days: g("quote_validity_days"),
    }
}

/// POST /settings
async fn save(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let fields = fields_from(&form);
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ChangeSettings).await?;
        let zones = settings::time_zones(&tx).await?;
        let result = match fields.parse(&zones) {
            Ok(input) => settings::save(&tx, &input).await,
            Err(errors) => Err(WriteError::Field(errors)),
        };
        match result {
            Ok(()) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect("/settings"), "flash.saved"));
            }
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render(&app, &req, Some(&fields), &errors).await
}
