//! Purchase invoices (owner and admin): list, new draft, the invoice page with its product search,
//! lines, receive, payments and corrections. Every form works without JavaScript; a refused form
//! shows the page again with the message next to the field, and nothing was written (the
//! request's transaction is rolled back).

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::suppliers::unprocessable;
use super::{form, form_with, page, page_with, seg, seg2};
use crate::db::tx::{Access, Tx};
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::member::Permission;
use crate::domain::purchases::{self, HeaderFields, InvoiceQuery, Kind, LineFields, Show};
use crate::domain::suppliers;
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::purchases::{DetailView, ListView, NewView, Refused, Submitted};

const NEED: Permission = Permission::ManagePurchasing;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id = || warp::path!("purchases" / i64).boxed();
    let id_and = |tail: &'static str| {
        warp::path("purchases").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    let line_delete = warp::path!("purchases" / i64 / "lines" / i64 / "delete").map(|i, l| (i, l)).boxed();
    page(app, seg("purchases"), list)
        .or(page(app, seg2("purchases", "new"), new_form))
        .unify()
        .or(form(app, seg("purchases"), create))
        .unify()
        .or(page_with(app, id(), show))
        .unify()
        .or(form_with(app, id_and("header"), |a, r, id, f| write(a, r, id, f, Op::Header)))
        .unify()
        .or(form_with(app, id_and("lines"), |a, r, id, f| write(a, r, id, f, Op::AddLine)))
        .unify()
        .or(form_with(app, line_delete, |a, r, (id, line), f| write(a, r, id, f, Op::DeleteLine(line))))
        .unify()
        .or(form_with(app, id_and("receive"), |a, r, id, f| write(a, r, id, f, Op::Receive)))
        .unify()
        .or(form_with(app, id_and("delete"), |a, r, id, f| write(a, r, id, f, Op::Delete)))
        .unify()
        .or(form_with(app, id_and("payments"), |a, r, id, f| write(a, r, id, f, Op::Payment)))
        .unify()
        .or(form_with(app, id_and("corrections"), |a, r, id, f| write(a, r, id, f, Op::Correction)))
        .unify()
        .boxed()
}

/// GET /purchases (?q, show, supplier, page)
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    let f = req.query_form();
    let query = InvoiceQuery {
        q: f.get("q").trim().chars().take(100).collect(),
        show: Show::parse(f.get("show")),
        supplier_id: f.get("supplier").parse::<i64>().ok(),
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    };
    let found = purchases::list(&tx, &query).await?;
    tx.commit().await?;
    let v = ListView { query: &query, items: &found.items, has_next: found.has_next };
    Ok(finish(&req, html(views::purchases::list(&page_for(&req, Some(&ctx)), &v)), None))
}

fn header_from(form: &Form) -> HeaderFields {
    let g = |k: &str| form.get(k).to_string();
    HeaderFields {
        supplier_id: g("supplier_id"),
        number: g("number"),
        invoice_date: g("invoice_date"),
        due_date: g("due_date"),
        note: g("note"),
    }
}

async fn render_new(
    app: &App,
    req: &Req,
    fields: &HeaderFields,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    let options = suppliers::options(&tx).await?;
    tx.commit().await?;
    let v = NewView { fields, errors, suppliers: &options };
    let r = html(views::purchases::new_form(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /purchases/new (?supplier)
async fn new_form(app: App, req: Req) -> Result<Response, AppError> {
    let today = chrono::Local::now().date_naive();
    let fields = HeaderFields {
        supplier_id: req.query_form().get("supplier").to_string(),
        invoice_date: today.format("%Y-%m-%d").to_string(),
        due_date: (today + chrono::Days::new(30)).format("%Y-%m-%d").to_string(),
        ..Default::default()
    };
    render_new(&app, &req, &fields, &FieldErrors::new()).await
}

/// POST /purchases: creates a draft and opens it.
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let fields = header_from(&form);
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, NEED).await?;
        let result = match fields.parse(Kind::Invoice) {
            Ok(h) => purchases::create_invoice(&tx, &h).await,
            Err(errors) => Err(WriteError::Field(errors)),
        };
        match result {
            Ok(id) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect(&format!("/purchases/{id}")), "flash.saved"));
            }
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    render_new(&app, &req, &fields, &errors).await
}

/// Shows the invoice page in a fresh read-only transaction; `q` is a draft's product search.
async fn render_detail(
    app: &App,
    req: &Req,
    id: i64,
    q: &str,
    refused: &Refused,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, NEED).await?;
    let invoice = purchases::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    let lines = purchases::lines(&tx, id).await?;
    let payments = purchases::payments(&tx, id).await?;
    let corrections = purchases::corrections(&tx, id).await?;
    let hits = if invoice.received { Vec::new() } else { purchases::search_products(&tx, q).await? };
    let refused_product = match refused {
        Refused::Line(s) => match s.get("product_id").parse::<i64>() {
            Ok(pid) => tx
                .query_opt("select name from products where id = $1", &[&pid])
                .await?
                .map(|r| r.get::<_, String>(0)),
            Err(_) => None,
        },
        _ => None,
    };
    tx.commit().await?;
    let v = DetailView {
        invoice: &invoice,
        lines: &lines,
        payments: &payments,
        corrections: &corrections,
        q,
        hits: &hits,
        refused_product,
        refused,
    };
    let r = html(views::purchases::detail(&page_for(req, Some(&ctx)), &v));
    Ok(if matches!(refused, Refused::Nothing) { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /purchases/{id} (?q: product search of a draft)
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let q: String = req.query_form().get("q").trim().chars().take(100).collect();
    render_detail(&app, &req, id, &q, &Refused::Nothing).await
}

#[derive(Clone, Copy)]
enum Op {
    Header,
    AddLine,
    DeleteLine(i64),
    Receive,
    Delete,
    Payment,
    Correction,
}

/// Where a successful write leads.
enum Done {
    Invoice(i64),
    List,
}

async fn run(
    tx: &Tx<'_>,
    locale: crate::i18n::Locale,
    id: i64,
    form: &Form,
    op: Op,
) -> Result<Done, WriteError> {
    let invoice = purchases::by_id(tx, id)
        .await
        .map_err(WriteError::Other)?
        .ok_or(WriteError::Other(AppError::NotFound))?;
    let ok =
        |found: bool| if found { Ok(Done::Invoice(id)) } else { Err(WriteError::Other(AppError::NotFound)) };
    match op {
        Op::Header => {
            let h = header_from(form).parse(invoice.kind).map_err(WriteError::Field)?;
            ok(purchases::update_header(tx, id, &h).await?)
        }
        Op::AddLine => {
            let fields = LineFields {
                product_id: form.get("product_id").to_string(),
                quantity: form.get("quantity").to_string(),
                unit_cost: form.get("unit_cost").to_string(),
            };
            // an unknown product (another shop's id, say) is refused by the line's foreign key
            let divisible = match form.get("product_id").trim().parse::<i64>() {
                Ok(pid) => {
                    purchases::product_divisible(tx, pid).await.map_err(WriteError::Other)?.unwrap_or(true)
                }
                Err(_) => true,
            };
            let line = fields.parse(locale, divisible, invoice.kind).map_err(WriteError::Field)?;
            purchases::add_line(tx, id, &line).await?;
            Ok(Done::Invoice(id))
        }
        Op::DeleteLine(line) => ok(purchases::delete_line(tx, id, line).await?),
        Op::Receive => {
            if invoice.received {
                return Err(WriteError::Field(vec![("form", "purchase.error_received_fixed")]));
            }
            ok(purchases::receive(tx, id).await?)
        }
        Op::Delete => {
            purchases::delete_draft(tx, id).await?;
            Ok(Done::List)
        }
        Op::Payment => {
            let p =
                purchases::parse_payment(form.get("method"), form.get("amount"), form.get("note"), locale)
                    .map_err(WriteError::Field)?;
            purchases::record_payment(tx, id, &p).await?;
            Ok(Done::Invoice(id))
        }
        Op::Correction => {
            let h = header_from(form).parse(Kind::Correction).map_err(WriteError::Field)?;
            Ok(Done::Invoice(purchases::create_correction(tx, id, &h).await?))
        }
    }
}

/// POST /purchases/{id}/header | lines | lines/{line}/delete | receive | delete | payments |
/// corrections: one write in the request's transaction; a refusal rolls it back and shows the
/// invoice page with the message next to the field.
async fn write(app: App, req: Req, id: i64, form: Form, op: Op) -> Result<Response, AppError> {
    let errors = {
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, NEED).await?;
        match run(&tx, req.locale_for(&ctx), id, &form, op).await {
            Ok(done) => {
                tx.commit().await?;
                return Ok(match done {
                    Done::Invoice(to) => {
                        with_flash(&req, redirect(&format!("/purchases/{to}")), "flash.saved")
                    }
                    Done::List => with_flash(&req, redirect("/purchases"), "flash.deleted"),
                });
            }
            Err(WriteError::Field(errors)) => {
                tx.rollback().await?;
                errors
            }
            Err(WriteError::Other(e)) => return Err(e),
        }
    };
    let submitted = Submitted {
        values: form
            .pairs()
            .filter(|(k, _)| *k != "csrf")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        errors,
    };
    let refused = match op {
        Op::Header => Refused::Header(submitted),
        Op::AddLine => Refused::Line(submitted),
        Op::Payment => Refused::Payment(submitted),
        Op::Correction => Refused::Correction(submitted),
        Op::DeleteLine(_) | Op::Receive | Op::Delete => Refused::Invoice(submitted.errors),
    };
    render_detail(&app, &req, id, "", &refused).await
}
