//! The counter (POS) and sales: cart, scan/search, checkout, sale list, receipt, void.

use rust_decimal::Decimal;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, page_with, seg, seg2};
use crate::db::tx::{Access, SessionCtx, Tx};
use crate::domain::catalog::{self, take, FieldErrors};
use crate::domain::member::Permission;
use crate::domain::money::{Money, Quantity};
use crate::domain::sales::{self, LineInput, Method, SaleFilter, SaleInput, SaleRefusal};
use crate::domain::stock;
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::{tf, Locale};
use crate::views;
use crate::views::sales::PosView;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let line = |tail: &'static str| {
        warp::path!("pos" / "lines" / i64 / ..).and(warp::path(tail)).and(warp::path::end()).boxed()
    };
    page(app, seg("pos"), pos)
        .or(form(app, seg2("pos", "scan"), scan))
        .unify()
        .or(form(app, seg2("pos", "add"), add))
        .unify()
        .or(form_with(app, line("update"), update_line))
        .unify()
        .or(form_with(app, line("remove"), remove_line))
        .unify()
        .or(form(app, seg2("pos", "customer"), set_customer))
        .unify()
        .or(form(app, seg2("pos", "clear"), clear))
        .unify()
        .or(form(app, seg2("pos", "checkout"), checkout))
        .unify()
        .or(page(app, seg("sales"), list))
        .unify()
        .or(page_with(app, warp::path!("sales" / i64).boxed(), show))
        .unify()
        .or(form_with(app, warp::path!("sales" / i64 / "void").boxed(), void))
        .unify()
        .or(form_with(app, warp::path!("sales" / i64 / "return").boxed(), record_return))
        .unify()
        .boxed()
}

/// Renders the counter with the person's cart, search results and any error.
async fn render_pos(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    query: &str,
    error: Option<String>,
    payments: Option<&Form>,
) -> Result<Response, AppError> {
    let cart = sales::current_cart(tx, ctx.user_id).await?.unwrap_or_else(|| sales::Cart {
        id: 0,
        idempotency_key: uuid::Uuid::nil(),
        customer_id: None,
        customer_name: None,
        lines: Vec::new(),
    });
    let found = sales::counter_search(tx, query, 20).await?;
    let customers = tx
        .query(
            "select id, name from customers where active order by is_final_consumer desc, name limit 300",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
        .collect::<Vec<_>>();
    let v = PosView {
        cart: &cart,
        query,
        found: &found,
        customers: &customers,
        error: error.as_deref(),
        payments,
    };
    let r = html(views::sales::pos(&page_for(req, Some(ctx)), &v));
    Ok(if error.is_some() { status(r, StatusCode::UNPROCESSABLE_ENTITY) } else { finish(req, r, None) })
}

fn status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// GET /pos (?q= search)
async fn pos(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    // `code` is what the scan field sends when htmx searches as the person types
    let query = req.query_form();
    let raw = if query.get("q").is_empty() { query.get("code") } else { query.get("q") };
    let q = raw.trim().chars().take(100).collect::<String>();
    let r = render_pos(&tx, &req, &ctx, &q, None, None).await?;
    tx.commit().await?;
    Ok(r)
}

/// POST /pos/scan: an exact barcode or SKU (a scanner types it and presses Enter) goes straight
/// into the cart; anything else becomes a search.
async fn scan(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let code = form.get("code").trim().chars().take(100).collect::<String>();
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let Some(product) = sales::exact_code(&tx, &code).await? else {
        tx.commit().await?;
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("q", &code).finish();
        return Ok(redirect(&format!("/pos?{q}")));
    };
    let cart = sales::cart(&tx, ctx.user_id).await?;
    sales::add_to_cart(&tx, cart.id, product, Decimal::ONE).await?;
    tx.commit().await?;
    Ok(redirect("/pos"))
}

/// POST /pos/add (product_id, quantity)
async fn add(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let product: i64 = form.get("product_id").parse().map_err(|_| AppError::BadRequest("error.bad_form"))?;
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let divisible =
        catalog::divisibility(&tx, &[product]).await?.first().map(|(_, d)| *d).ok_or(AppError::NotFound)?;
    let raw = if form.get("quantity").trim().is_empty() { "1" } else { form.get("quantity") };
    let qty = match Quantity::parse(raw, req.locale_for(&ctx), divisible) {
        Ok(q) if q.value() > Decimal::ZERO => q,
        Ok(_) => {
            return render_pos(&tx, &req, &ctx, "", Some(t_err(&req, &ctx, "error.quantity_positive")), None)
                .await
        }
        Err(k) => return render_pos(&tx, &req, &ctx, "", Some(t_err(&req, &ctx, k)), None).await,
    };
    let cart = sales::cart(&tx, ctx.user_id).await?;
    if !sales::add_to_cart(&tx, cart.id, product, qty.value()).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(redirect("/pos"))
}

fn t_err(req: &Req, ctx: &SessionCtx, key: &'static str) -> String {
    crate::i18n::t(req.locale_for(ctx), key).to_string()
}

/// POST /pos/lines/{id}/update (quantity, unit_price, discount)
async fn update_line(app: App, req: Req, line: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let l = req.locale_for(&ctx);
    let cart = sales::cart(&tx, ctx.user_id).await?;
    let cl = cart.lines.iter().find(|x| x.id == line).ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let qty = take(&mut errors, "quantity", Quantity::parse(form.get("quantity"), l, cl.divisible));
    let price = take(&mut errors, "unit_price", Money::parse(form.get("unit_price"), l));
    let discount_raw = if form.get("discount").trim().is_empty() { "0" } else { form.get("discount") };
    let discount = take(&mut errors, "discount", Money::parse(discount_raw, l));
    let (Some(q), Some(p), Some(d)) = (qty, price, discount) else {
        let key = errors.first().map(|(_, k)| *k).unwrap_or("error.form_has_errors");
        return render_pos(
            &tx,
            &req,
            &ctx,
            "",
            Some(tf(l, "pos.line_error", &[("line", &cl.name), ("error", crate::i18n::t_dyn(l, key))])),
            None,
        )
        .await;
    };
    if q.value() <= Decimal::ZERO {
        return render_pos(&tx, &req, &ctx, "", Some(t_err(&req, &ctx, "error.quantity_positive")), None)
            .await;
    }
    if sales::line_total(q.value(), p.value(), d.value()) < Decimal::ZERO {
        return render_pos(&tx, &req, &ctx, "", Some(t_err(&req, &ctx, "error.discount_too_large")), None)
            .await;
    }
    sales::update_line(&tx, cart.id, line, q.value(), p.value(), d.value()).await?;
    tx.commit().await?;
    Ok(redirect("/pos"))
}

/// POST /pos/lines/{id}/remove
async fn remove_line(app: App, req: Req, line: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let cart = sales::cart(&tx, ctx.user_id).await?;
    sales::remove_line(&tx, cart.id, line).await?;
    tx.commit().await?;
    Ok(redirect("/pos"))
}

/// POST /pos/customer (customer_id; empty for the final consumer)
async fn set_customer(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let customer = match form.get("customer_id").trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| AppError::BadRequest("error.bad_form"))?),
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let cart = sales::cart(&tx, ctx.user_id).await?;
    if !sales::set_customer(&tx, cart.id, customer).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(redirect("/pos"))
}

/// POST /pos/clear: empties the cart.
async fn clear(app: App, req: Req, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let cart = sales::cart(&tx, ctx.user_id).await?;
    sales::clear_cart(&tx, cart.id).await?;
    tx.commit().await?;
    Ok(redirect("/pos"))
}

fn refusal_message(l: Locale, r: &SaleRefusal) -> String {
    use crate::domain::money::{format_money, format_qty};
    match r {
        SaleRefusal::Empty => crate::i18n::t(l, "pos.empty").into(),
        SaleRefusal::DiscountTooLarge { position } => {
            tf(l, "pos.discount_too_large", &[("line", &position.to_string())])
        }
        SaleRefusal::Underpaid { missing } => {
            tf(l, "pos.underpaid", &[("missing", &format_money(*missing, l))])
        }
        SaleRefusal::Overpaid => crate::i18n::t(l, "pos.overpaid").into(),
        SaleRefusal::AccountNeedsCustomer => crate::i18n::t(l, "pos.account_needs_customer").into(),
        SaleRefusal::NotEnoughStock { description, available, .. } => tf(
            l,
            "pos.not_enough_stock",
            &[("product", description), ("available", &format_qty(*available, l))],
        ),
        SaleRefusal::UnknownCustomer | SaleRefusal::UnknownProduct => crate::i18n::t(l, "pos.changed").into(),
        SaleRefusal::WholeUnits { description } => tf(l, "pos.whole_units", &[("product", description)]),
    }
}

/// POST /pos/checkout: payments per method and the cart's one-time key. A double click or a
/// retry with the same key shows the sale recorded the first time.
async fn checkout(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let key = uuid::Uuid::parse_str(form.get("key")).map_err(|_| AppError::BadRequest("error.bad_form"))?;
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
    let l = req.locale_for(&ctx);
    let mut payments = Vec::new();
    for m in Method::ALL {
        let raw = form.get(m.code()).trim();
        if raw.is_empty() {
            continue;
        }
        match Money::parse(raw, l) {
            Ok(a) if a.value() > Decimal::ZERO => payments.push((m, a.value())),
            Ok(_) => {}
            Err(k) => {
                let msg = tf(l, "pos.payment_error", &[("error", crate::i18n::t_dyn(l, k))]);
                return render_pos(&tx, &req, &ctx, "", Some(msg), Some(&form)).await;
            }
        }
    }
    let cart = sales::cart(&tx, ctx.user_id).await?;
    if cart.idempotency_key != key {
        // the cart was already sold (and renewed) or changed in another tab: show what happened
        if let Some(r) = tx.query_opt("select id from sales where idempotency_key = $1", &[&key]).await? {
            tx.commit().await?;
            return Ok(redirect(&format!("/sales/{}", r.get::<_, i64>(0))));
        }
    }
    if payments.is_empty() {
        payments.push((Method::Cash, cart.total()));
    }
    let input = SaleInput {
        idempotency_key: cart.idempotency_key,
        customer_id: cart.customer_id,
        lines: cart
            .lines
            .iter()
            .map(|c| LineInput {
                product_id: c.product_id,
                description: c.name.clone(),
                quantity: c.quantity,
                unit_price: c.unit_price,
                discount: c.discount,
            })
            .collect(),
        payments,
        quote_id: None,
        cart_id: Some(cart.id),
    };
    // a sale beyond the plan's monthly sales is refused by the database: shown like a refusal
    let recorded = match sales::record_sale(&tx, ctx.user_id, &input).await {
        Err(AppError::PlanLimit(limit)) => Err(limit.message(l)),
        other => other?.map_err(|r| refusal_message(l, &r)),
    };
    match recorded {
        Ok(done) => {
            // the cart was emptied by record_sale's own statement (unless the key was replayed)
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/sales/{}", done.sale_id)), "flash.sale_recorded"))
        }
        Err(message) => {
            tx.rollback().await?;
            let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::RegisterSales).await?;
            let r = render_pos(&tx, &req, &ctx, "", Some(message), Some(&form)).await?;
            tx.commit().await?;
            Ok(r)
        }
    }
}

fn sale_filter(f: &Form) -> SaleFilter {
    let date = |k: &str| chrono::NaiveDate::parse_from_str(f.get(k).trim(), "%Y-%m-%d").ok();
    SaleFilter {
        from: date("from"),
        to: date("to"),
        customer_id: f.get("customer").parse().ok(),
        status: match f.get("status") {
            s @ ("completed" | "voided") => Some(s.to_string()),
            _ => None,
        },
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    }
}

/// GET /sales (?from, to, status, page)
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    let filter = sale_filter(&req.query_form());
    let (items, more) = sales::list_sales(&tx, &filter).await?;
    tx.commit().await?;
    Ok(finish(&req, html(views::sales::list(&page_for(&req, Some(&ctx)), &filter, &items, more)), None))
}

async fn detail(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &SessionCtx,
    id: i64,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let sale = sales::sale_detail(tx, id).await?.ok_or(AppError::NotFound)?;
    let can_void = ctx.shop.as_ref().is_some_and(|s| s.role.can(Permission::VoidSales));
    let r = html(views::sales::detail(&page_for(req, Some(ctx)), &sale, can_void, errors));
    Ok(if errors.is_empty() { finish(req, r, None) } else { status(r, StatusCode::UNPROCESSABLE_ENTITY) })
}

/// GET /sales/{id}: detail and printable receipt.
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::RegisterSales).await?;
    detail(&tx, &req, &ctx, id, &FieldErrors::new()).await
}

/// POST /sales/{id}/void (reason): owner and admin; stock and money come back exactly once.
async fn void(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::VoidSales).await?;
    let reason = match stock::reason(form.get("reason")) {
        Ok(r) => r,
        Err(k) => return detail(&tx, &req, &ctx, id, &vec![("reason", k)]).await,
    };
    if !sales::void_sale(&tx, id, &reason).await? {
        return detail(&tx, &req, &ctx, id, &vec![("reason", "error.already_voided")]).await;
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect(&format!("/sales/{id}")), "flash.sale_voided"))
}

/// POST /sales/{id}/return (return_<line id> quantities, method, reason): owner and admin.
async fn record_return(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::VoidSales).await?;
    let l = req.locale_for(&ctx);
    let sale = sales::sale_detail(&tx, id).await?.ok_or(AppError::NotFound)?;
    let mut lines = Vec::new();
    for line in &sale.lines {
        let raw = form.get(&format!("return_{}", line.id)).trim().to_string();
        if raw.is_empty() {
            continue;
        }
        match Quantity::parse_non_negative(&raw, l, line.divisible) {
            Ok(q) => lines.push((line.id, q.value())),
            Err(k) => return detail(&tx, &req, &ctx, id, &vec![("return", k)]).await,
        }
    }
    let method = Method::parse(form.get("method")).ok_or(AppError::BadRequest("error.bad_form"))?;
    let reason = match stock::reason(form.get("reason")) {
        Ok(r) => r,
        Err(k) => return detail(&tx, &req, &ctx, id, &vec![("return", k)]).await,
    };
    match sales::record_return(&tx, id, &lines, method, &reason).await? {
        Ok(_) => {
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/sales/{id}")), "flash.return_recorded"))
        }
        Err(refusal) => {
            let key = match refusal {
                sales::ReturnRefusal::Nothing => "error.return_nothing",
                sales::ReturnRefusal::TooMany { .. } => "error.return_too_many",
                sales::ReturnRefusal::NotCompleted => "error.already_voided",
                sales::ReturnRefusal::AccountNeedsCustomer => "pos.account_needs_customer",
            };
            tx.rollback().await?;
            // the same connection: taking a second one while this one is held could wait on the pool
            let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::VoidSales).await?;
            detail(&tx, &req, &ctx, id, &vec![("return", key)]).await
        }
    }
}
