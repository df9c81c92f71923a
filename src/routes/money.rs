//! Money (owner and admin): the ledger with filters and totals, other income and expenses, the
//! reversal of a mistaken manual entry, expense categories, and the balance by period.

use chrono::{NaiveDate, Utc};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, seg, seg2};
use crate::db::tx::{Access, SessionCtx, Tx};
use crate::domain::balance::{self, Grouping, Range};
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::member::Permission;
use crate::domain::money_ledger::{self as ledger, EntryFields, LedgerQuery, KINDS};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::money::{BalanceView, CategoriesView, LedgerView};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let reverse = warp::path("money").and(warp::path::param::<i64>()).and(warp::path("reverse")).boxed();
    let category = || warp::path!("money" / "categories" / i64).boxed();
    let category_active = warp::path("money")
        .and(warp::path("categories"))
        .and(warp::path::param::<i64>())
        .and(warp::path("active"))
        .boxed();
    page(app, seg("money"), list)
        .or(form(app, seg("money"), record))
        .unify()
        .or(form_with(app, reverse, reverse_entry))
        .unify()
        .or(page(app, seg2("money", "categories"), categories))
        .unify()
        .or(form(app, seg2("money", "categories"), create_category))
        .unify()
        .or(form_with(app, category(), rename_category))
        .unify()
        .or(form_with(app, category_active, set_category_active))
        .unify()
        .or(page(app, seg("balance"), balance_page))
        .unify()
        .boxed()
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// A day from a date input (yyyy-mm-dd) or as people type it (dd/mm/yyyy); None when empty.
fn parse_day(raw: &str) -> Result<Option<NaiveDate>, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| "money.error_date")
}

/// The range of a filter form: this month of the shop's calendar by default; errors name the field.
fn parse_range(f: &Form, today: NaiveDate, errors: &mut FieldErrors) -> Range {
    let month = Range::month_of(today);
    let mut day = |k: &'static str, default: NaiveDate| match parse_day(f.get(k)) {
        Ok(d) => d.unwrap_or(default),
        Err(e) => {
            errors.push((k, e));
            default
        }
    };
    let (from, to) = (day("from", month.from), day("to", month.to));
    Range::new(from, to).unwrap_or_else(|e| {
        errors.push(("to", e));
        month
    })
}

fn ledger_query(f: &Form, today: NaiveDate, errors: &mut FieldErrors) -> LedgerQuery {
    let range = parse_range(f, today, errors);
    let kind = f.get("kind");
    let method = f.get("method");
    LedgerQuery {
        from: range.from,
        to: range.to,
        kind: if kind == "income" || kind == "expense" || KINDS.contains(&kind) {
            kind.into()
        } else {
            String::new()
        },
        method: if ["cash", "card", "transfer"].contains(&method) { method.into() } else { String::new() },
        category_id: f.get("category").parse::<i64>().ok(),
        q: f.get("q").trim().chars().take(100).collect(),
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 100_000),
    }
}

fn entry_fields(f: &Form) -> EntryFields {
    let g = |k: &str| f.get(k).to_string();
    EntryFields {
        direction: g("direction"),
        amount: g("amount"),
        method: g("method"),
        category: g("category"),
        description: g("description"),
    }
}

/// The ledger page in `tx`, with the entry form as sent and its errors (after a refusal).
async fn ledger_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    entry: &EntryFields,
    entry_errors: &FieldErrors,
) -> Result<Response, AppError> {
    let today = balance::shop_today(tx, Utc::now()).await?;
    let mut filter_errors = FieldErrors::new();
    let query = ledger_query(&req.query_form(), today, &mut filter_errors);
    let found = ledger::list(tx, &query).await?;
    let categories = ledger::categories(tx).await?;
    let v = LedgerView {
        query: &query,
        page: &found,
        categories: &categories,
        filter_errors: &filter_errors,
        entry,
        entry_errors,
    };
    let r = html(views::money::ledger(&page_for(req, Some(ctx)), &v));
    Ok(if entry_errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

async fn render_ledger(
    app: &App,
    req: &Req,
    entry: &EntryFields,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewMoney).await?;
    let r = ledger_page(&tx, req, &ctx, entry, errors).await?;
    tx.commit().await?;
    Ok(r)
}

/// GET /money?from&to&kind&method&category&q&page: the ledger, 50 a page, with the filter's totals.
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    render_ledger(&app, &req, &EntryFields::default(), &FieldErrors::new()).await
}

/// Runs a write in its own transaction: commit and redirect with `flash` on success; on a field
/// error roll back (nothing written) and return the errors.
async fn write<T, F>(app: &App, req: &Req, op: F) -> Result<Result<T, FieldErrors>, AppError>
where
    F: for<'t> FnOnce(
        &'t Tx<'t>,
        &'t SessionCtx,
    ) -> futures_util::future::BoxFuture<'t, Result<T, WriteError>>,
{
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ViewMoney).await?;
    match op(&tx, &ctx).await {
        Ok(v) => {
            tx.commit().await?;
            Ok(Ok(v))
        }
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            Ok(Err(errors))
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// POST /money (direction, amount, method, category, description): other income or expense.
async fn record(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let fields = entry_fields(&form);
    let result = write(&app, &req, |tx, ctx| {
        let parsed = fields.parse(req.locale_for(ctx));
        Box::pin(async move {
            match parsed {
                Ok(entry) => ledger::record(tx, &entry).await,
                Err(errors) => Err(WriteError::Field(errors)),
            }
        })
    })
    .await?;
    match result {
        Ok(_) => Ok(with_flash(&req, redirect("/money"), "flash.money_recorded")),
        Err(errors) => render_ledger(&app, &req, &fields, &errors).await,
    }
}

/// POST /money/{id}/reverse: books the opposite of a manual entry, once.
async fn reverse_entry(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let result = write(&app, &req, |tx, _| Box::pin(async move { ledger::reverse(tx, id).await })).await?;
    match result {
        Ok(Some(_)) => Ok(with_flash(&req, redirect("/money"), "flash.money_reversed")),
        Ok(None) => Err(AppError::NotFound),
        Err(errors) => render_ledger(&app, &req, &EntryFields::default(), &errors).await,
    }
}

async fn render_categories(
    app: &App,
    req: &Req,
    refused: Option<(Option<i64>, &str, &FieldErrors)>,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewMoney).await?;
    let list = ledger::categories(&tx).await?;
    tx.commit().await?;
    let v = CategoriesView { categories: &list, refused };
    let r = html(views::money::categories(&page_for(req, Some(&ctx)), &v));
    Ok(if refused.is_none() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /money/categories
async fn categories(app: App, req: Req) -> Result<Response, AppError> {
    render_categories(&app, &req, None).await
}

/// Creates (id None) or renames a category; errors show the page again next to its field.
async fn save_category(app: &App, req: &Req, form: &Form, id: Option<i64>) -> Result<Response, AppError> {
    let raw = form.get("name");
    let name = match ledger::parse_category_name(raw) {
        Ok(name) => name,
        Err(errors) => return render_categories(app, req, Some((id, raw, &errors))).await,
    };
    let result = write(app, req, |tx, _| {
        Box::pin(async move {
            match id {
                None => ledger::create_category(tx, &name).await.map(|_| true),
                Some(id) => ledger::rename_category(tx, id, &name).await,
            }
        })
    })
    .await?;
    match result {
        Ok(true) => Ok(with_flash(req, redirect("/money/categories"), "flash.saved")),
        Ok(false) => Err(AppError::NotFound),
        Err(errors) => render_categories(app, req, Some((id, raw, &errors))).await,
    }
}

/// POST /money/categories (name)
async fn create_category(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    save_category(&app, &req, &form, None).await
}

/// POST /money/categories/{id} (name)
async fn rename_category(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    save_category(&app, &req, &form, Some(id)).await
}

/// POST /money/categories/{id}/active (active = yes | no)
async fn set_category_active(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let active = form.get("active") == "yes";
    let result =
        write(&app, &req, |tx, _| Box::pin(async move { ledger::set_category_active(tx, id, active).await }))
            .await?;
    match result {
        Ok(true) => Ok(with_flash(&req, redirect("/money/categories"), "flash.saved")),
        Ok(false) => Err(AppError::NotFound),
        Err(errors) => render_categories(&app, &req, Some((Some(id), "", &errors))).await,
    }
}

/// GET /balance?from&to&group: income, expenses and net per day, week or month (this month by
/// default), with the chart and the same numbers in a table.
async fn balance_page(app: App, req: Req) -> Result<Response, AppError> {
    let f = req.query_form();
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewMoney).await?;
    let today = balance::shop_today(&tx, Utc::now()).await?;
    let mut errors = FieldErrors::new();
    let range = parse_range(&f, today, &mut errors);
    let chosen = Grouping::parse(f.get("group"));
    let grouping = chosen.map_or(Grouping::for_days(range.days()), |g| g.bounded(range.days()));
    let buckets = balance::buckets(&tx, range, grouping).await?;
    let time_zone: String = tx.query_one("select time_zone from settings", &[]).await?.get(0);
    tx.commit().await?;
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let (from, to) = if errors.is_empty() {
        (iso(range.from), iso(range.to))
    } else {
        (f.get("from").to_string(), f.get("to").to_string())
    };
    let v = BalanceView {
        from: &from,
        to: &to,
        errors: &errors,
        range,
        chosen: chosen.map_or("", |g| g.code()),
        grouping,
        buckets: &buckets,
        time_zone: &time_zone,
    };
    let r = html(views::money::balance(&page_for(&req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(&req, r, None) } else { unprocessable(r) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_come_from_date_inputs_or_as_typed() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 29);
        assert_eq!(parse_day("2026-03-29"), Ok(d));
        assert_eq!(parse_day(" 29/03/2026 "), Ok(d));
        assert_eq!(parse_day(""), Ok(None));
        assert_eq!(parse_day("31/02/2026"), Err("money.error_date"));
    }
}
