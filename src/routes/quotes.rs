//! Quotes: list, new (or a copy of another), the printable quote page, status moves, and
//! converting a quote into a sale (owner and admin).

use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, page_with, seg, seg2};
use crate::db::tx::{Access, SessionCtx, Tx};
use crate::domain::member::Permission;
use crate::domain::money::input_value;
use crate::domain::quotes::{self, LineFields, QuoteDetail, QuoteErrors, QuoteFields, QuoteFilter, State};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::Locale;
use crate::views;
use crate::views::quotes::{ConvertForm, DetailView, FormView, ListView};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id_and = |tail: &'static str| {
        warp::path("quotes").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("quotes"), list)
        .or(page(app, seg2("quotes", "new"), new_form))
        .unify()
        .or(form(app, seg("quotes"), create))
        .unify()
        .or(page_with(app, warp::path!("quotes" / i64).boxed(), show))
        .unify()
        .or(form_with(app, id_and("status"), change_status))
        .unify()
        .or(form_with(app, id_and("convert"), convert))
        .unify()
        .boxed()
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// GET /quotes?status=draft|sent|accepted|converted|expired&page=N
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let q = req.query_form();
    let filter = QuoteFilter {
        state: State::parse(q.get("status")),
        page: q.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::CreateQuotes).await?;
    let (items, has_next) = quotes::list_quotes(&tx, &filter).await?;
    tx.commit().await?;
    let v = ListView { filter: &filter, items: &items, has_next };
    Ok(finish(&req, html(views::quotes::list(&page_for(&req, Some(&ctx)), &v)), None))
}

/// Renders the new-quote form with its choices (422 when it carries errors).
async fn form_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    fields: &QuoteFields,
    errors: &QuoteErrors,
) -> Result<Response, AppError> {
    let customers = quotes::customer_choices(tx, fields.customer_id.parse().ok()).await?;
    let validity_days = quotes::validity_days(tx).await?;
    let v = FormView { fields, errors, customers: &customers, validity_days };
    let r = html(views::quotes::form(&page_for(req, Some(ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// A quote's lines as form rows, for "duplicate as a new quote".
fn fields_of(q: &QuoteDetail, l: Locale) -> QuoteFields {
    let lines = q
        .lines
        .iter()
        .map(|line| LineFields {
            code: line.sku.clone(),
            quantity: input_value(line.quantity, l),
            price: input_value(line.unit_price, l),
            discount: if line.discount.is_zero() { String::new() } else { input_value(line.discount, l) },
        })
        .collect();
    QuoteFields { customer_id: q.customer_id.to_string(), note: q.note.clone(), lines }
}

/// GET /quotes/new?customer={id} or ?from={quote id} (a copy of that quote's lines).
async fn new_form(app: App, req: Req) -> Result<Response, AppError> {
    let q = req.query_form();
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::CreateQuotes).await?;
    let fields = match q.get("from").parse::<i64>() {
        Ok(from) => {
            let quote = quotes::quote_detail(&tx, from).await?.ok_or(AppError::NotFound)?;
            fields_of(&quote, req.locale_for(&ctx))
        }
        Err(_) => QuoteFields { customer_id: q.get("customer").to_string(), ..Default::default() },
    };
    form_page(&tx, &req, &ctx, &fields, &QuoteErrors::default()).await
}

/// POST /quotes: customer_id, note, and rows code_N, quantity_N, price_N, discount_N.
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let fields = QuoteFields::from_pairs(form.pairs());
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::CreateQuotes).await?;
    match quotes::parse_quote(&tx, &fields, req.locale_for(&ctx)).await? {
        Ok(input) => {
            let id = quotes::create_quote(&tx, ctx.user_id, &input).await?;
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/quotes/{id}")), "flash.saved"))
        }
        Err(errors) => form_page(&tx, &req, &ctx, &fields, &errors).await,
    }
}

/// Renders the quote page; `convert` carries a refused conversion back, `status_error` a refused move.
async fn detail_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    id: i64,
    convert: Option<ConvertForm>,
    status_error: Option<&'static str>,
) -> Result<Response, AppError> {
    let quote = quotes::quote_detail(tx, id).await?.ok_or(AppError::NotFound)?;
    let shop = ctx.shop.as_ref().ok_or(AppError::NoShop)?;
    let refused = convert.is_some() || status_error.is_some();
    let convert = convert.unwrap_or_else(|| ConvertForm {
        key: Uuid::new_v4().to_string(),
        method: "cash".into(),
        amount: input_value(quote.total, req.locale_for(ctx)),
        errors: Vec::new(),
        refusal: None,
    });
    let v = DetailView {
        quote: &quote,
        shop_name: &shop.name,
        can_convert: shop.role.can(Permission::ConvertQuotes),
        convert: &convert,
        status_error,
    };
    let r = html(views::quotes::detail(&page_for(req, Some(ctx)), &v));
    Ok(if refused { unprocessable(r) } else { finish(req, r, None) })
}

/// GET /quotes/{id}
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::CreateQuotes).await?;
    detail_page(&tx, &req, &ctx, id, None, None).await
}

/// POST /quotes/{id}/status (status = sent | accepted): forward only, never once expired or converted.
async fn change_status(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let to = match State::parse(form.get("status")) {
        Some(s @ (State::Sent | State::Accepted)) => s,
        _ => return Err(AppError::BadRequest("error.bad_form")),
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::CreateQuotes).await?;
    if quotes::set_status(&tx, id, to).await? {
        tx.commit().await?;
        return Ok(with_flash(&req, redirect(&format!("/quotes/{id}")), "flash.saved"));
    }
    detail_page(&tx, &req, &ctx, id, None, Some("quote.error.status")).await
}

/// POST /quotes/{id}/convert (idempotency_key, method, amount): owner and admin. Redirects to the
/// sale; a refusal writes nothing and shows the quote again with the reason.
async fn convert(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let key =
        Uuid::parse_str(form.get("idempotency_key")).map_err(|_| AppError::BadRequest("error.bad_form"))?;
    let (errors, refusal) = {
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ConvertQuotes).await?;
        let l = req.locale_for(&ctx);
        match quotes::parse_payment(form.get("method"), form.get("amount"), l) {
            Err(errors) => (errors, None),
            Ok(payment) => match quotes::convert(&tx, ctx.user_id, id, key, payment).await? {
                Ok(sale_id) => {
                    tx.commit().await?;
                    return Ok(with_flash(&req, redirect(&format!("/sales/{sale_id}")), "flash.saved"));
                }
                Err(r) => {
                    tx.rollback().await?;
                    (Vec::new(), Some(views::quotes::refusal_message(l, &r)))
                }
            },
        }
    };
    let kept = ConvertForm {
        key: key.to_string(),
        method: form.get("method").to_string(),
        amount: form.get("amount").to_string(),
        errors,
        refusal,
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ConvertQuotes).await?;
    detail_page(&tx, &req, &ctx, id, Some(kept), None).await
}
