//! Products: list and search, low-stock list, create, edit, delete, page with history, adjust.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, page_with, seg, seg2, upload_with};
use crate::db::tx::{Access, Conn, Tx};
use crate::domain::catalog::{
    self, take, FieldErrors, Product, ProductFields, ProductQuery, Sort, WriteError,
};
use crate::domain::images;
use crate::domain::limits::PlanLimit;
use crate::domain::member::Permission;
use crate::domain::money::{input_value, Quantity};
use crate::domain::stock::{self, StockRefusal};
use crate::error::AppError;
use crate::http::request::Upload;
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::Locale;
use crate::views;
use crate::views::catalog::{DetailView, FormView, ListView};
use warp::http::{header, HeaderValue};
use warp::Reply;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id = || warp::path!("products" / i64).boxed();
    let id_and = |tail: &'static str| {
        warp::path("products").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("products"), list)
        .or(page(app, seg2("stock", "low"), low_stock))
        .unify()
        .or(page(app, seg2("products", "new"), new_form))
        .unify()
        .or(form(app, seg("products"), create))
        .unify()
        .or(page_with(app, id(), show))
        .unify()
        .or(page_with(app, id_and("edit"), edit_form))
        .unify()
        .or(form_with(app, id(), update))
        .unify()
        .or(form_with(app, id_and("adjust"), adjust))
        .unify()
        .or(form_with(app, id_and("delete"), delete))
        .unify()
        .or(upload_with(app, id_and("image"), images::UPLOAD_LIMIT, upload_image))
        .unify()
        .or(form_with(app, warp::path!("products" / i64 / "image" / "delete").boxed(), delete_image))
        .unify()
        .or(page_with(app, id_and("image"), |app, req, id| serve_image(app, req, id, false)))
        .unify()
        .or(page_with(app, id_and("thumb"), |app, req, id| serve_image(app, req, id, true)))
        .unify()
        .boxed()
}

/// POST /products/{id}/image (multipart: csrf, image)
async fn upload_image(app: App, req: Req, id: i64, up: Upload) -> Result<Response, AppError> {
    // who may, and which product, before spending CPU on decoding anything
    {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
        catalog::product_by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
    }
    let bytes = up.file("image").map(|f| f.bytes.clone());
    let processed = match bytes {
        Some(b) => images::process_blocking(b).await?.map_err(|e| e.key()),
        None => Err("error.image_missing"),
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    catalog::product_by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    match processed {
        Ok(p) => {
            images::save(&tx, id, &p).await?;
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/products/{id}")), "flash.saved"))
        }
        Err(key) => detail_page(&tx, &req, &ctx, id, None, &vec![("image", key)]).await,
    }
}

/// POST /products/{id}/image/delete
async fn delete_image(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    images::remove(&tx, id).await?;
    tx.commit().await?;
    Ok(with_flash(&req, redirect(&format!("/products/{id}")), "flash.deleted"))
}

/// GET /products/{id}/image and /products/{id}/thumb
async fn serve_image(app: App, req: Req, id: i64, thumb: bool) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewCatalog).await?;
    let (content_type, bytes) = images::load(&tx, id, thumb).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/jpeg")),
    );
    // private: the image belongs to one shop and must never sit in a shared cache
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    Ok(r)
}

fn status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

fn product_query(f: &Form, low_default: bool) -> ProductQuery {
    ProductQuery {
        q: f.get("q").trim().chars().take(100).collect(),
        category_id: f.get("category").parse().ok(),
        active: match f.get("active") {
            "no" => Some(false),
            "all" => None,
            _ => Some(true),
        },
        low_stock: low_default || f.get("low") == "on",
        sort: if f.get("sort").is_empty() && low_default {
            Sort::StockAsc
        } else {
            Sort::parse(f.get("sort"))
        },
        page: f.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000),
    }
}

async fn render_list(app: App, req: Req, low: bool) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewCatalog).await?;
    let query = product_query(&req.query_form(), low);
    let tenant_id = ctx.tenant_id().ok_or(AppError::NoShop)?;
    // both reads go out at once (one round trip): tokio-postgres pipelines concurrent requests
    let (found, categories) = futures_util::future::try_join(
        catalog::list_products(&tx, tenant_id, &query),
        catalog::category_options(&tx, tenant_id),
    )
    .await?;
    tx.commit().await?;
    let can_manage = ctx.shop.as_ref().is_some_and(|s| s.role.can(Permission::ManageCatalog));
    let (title_key, action) =
        if low { ("nav.low_stock", "/stock/low") } else { ("nav.products", "/products") };
    let v = ListView {
        query: &query,
        categories: &categories,
        items: &found.items,
        has_next: found.has_next,
        can_manage,
        title_key,
        action,
    };
    Ok(finish(&req, html(views::catalog::list(&page_for(&req, Some(&ctx)), &v)), None))
}

/// GET /products
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    render_list(app, req, false).await
}

/// GET /stock/low: products at or below their minimum stock.
async fn low_stock(app: App, req: Req) -> Result<Response, AppError> {
    render_list(app, req, true).await
}

fn fields_from(form: &Form) -> ProductFields {
    let g = |k: &str| form.get(k).to_string();
    ProductFields {
        sku: g("sku"),
        barcode: g("barcode"),
        name: g("name"),
        description: g("description"),
        category_id: g("category_id"),
        unit_id: g("unit_id"),
        price: g("price"),
        cost: g("cost"),
        min_stock: g("min_stock"),
        opening_stock: g("opening_stock"),
        track_stock: form.get("track_stock") == "on",
        active: form.get("active") == "on",
    }
}

fn fields_of(p: &Product, l: Locale) -> ProductFields {
    ProductFields {
        sku: p.sku.clone(),
        barcode: p.barcode.clone().unwrap_or_default(),
        name: p.name.clone(),
        description: p.description.clone(),
        category_id: p.category_id.map(|c| c.to_string()).unwrap_or_default(),
        unit_id: p.unit_id.to_string(),
        price: input_value(p.price, l),
        cost: input_value(p.cost, l),
        min_stock: input_value(p.min_stock, l),
        opening_stock: String::new(),
        track_stock: p.track_stock,
        active: p.active,
    }
}

/// Renders the product form (new when `id` is None) with its choices.
async fn form_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &crate::db::tx::SessionCtx,
    fields: &ProductFields,
    errors: &FieldErrors,
    id: Option<i64>,
) -> Result<Response, AppError> {
    let categories = catalog::category_options(tx, ctx.tenant_id().ok_or(AppError::NoShop)?).await?;
    let units = catalog::units(tx).await?;
    let v = FormView { fields, errors, categories: &categories, units: &units, product_id: id };
    let r = html(views::catalog::form(&page_for(req, Some(ctx)), &v));
    Ok(if errors.is_empty() { r } else { status(r, StatusCode::UNPROCESSABLE_ENTITY) })
}

/// The product form again with the plan limit that refused it (409); nothing was written.
/// Re-rendered on the request's own connection (after its write was rolled back).
async fn limit_form_page(
    conn: &mut Conn,
    req: &Req,
    fields: &ProductFields,
    id: Option<i64>,
    limit: &PlanLimit,
) -> Result<Response, AppError> {
    let (tx, ctx) = req.shop_tx(conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let categories = catalog::category_options(&tx, ctx.tenant_id().ok_or(AppError::NoShop)?).await?;
    let units = catalog::units(&tx).await?;
    let errors = FieldErrors::new();
    let v = FormView { fields, errors: &errors, categories: &categories, units: &units, product_id: id };
    let mut p = page_for(req, Some(&ctx));
    p.alert = Some(limit.message(p.locale));
    Ok(status(html(views::catalog::form(&p, &v)), StatusCode::CONFLICT))
}

/// GET /products/new
async fn new_form(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let units = catalog::units(&tx).await?;
    let fields = ProductFields {
        unit_id: units.iter().find(|u| u.code == "u").map(|u| u.id.to_string()).unwrap_or_default(),
        track_stock: true,
        active: true,
        ..Default::default()
    };
    form_page(&tx, &req, &ctx, &fields, &FieldErrors::new(), None).await
}

/// Parses the product form against the chosen unit; all field errors at once.
async fn parse_product(
    tx: &Tx<'_>,
    fields: &ProductFields,
    l: Locale,
    is_new: bool,
) -> Result<Result<catalog::ProductInput, FieldErrors>, AppError> {
    let unit = fields.unit_id.parse::<i64>().ok();
    let divisible = match unit {
        Some(u) => catalog::unit_divisible(tx, u).await?,
        None => None,
    };
    let parsed = fields.parse(l, divisible.unwrap_or(false), is_new);
    Ok(match (parsed, divisible) {
        (Ok(_), None) => Err(vec![("unit_id", "error.choose_option")]),
        (r, _) => r,
    })
}

/// POST /products
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    let fields = fields_from(&form);
    let input = match parse_product(&tx, &fields, req.locale_for(&ctx), true).await? {
        Ok(i) => i,
        Err(errors) => return form_page(&tx, &req, &ctx, &fields, &errors, None).await,
    };
    match catalog::create_product(&tx, &input).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/products/{id}")), "flash.saved"))
        }
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            // the same connection: taking a second one while this one is held could wait on the pool
            let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
            form_page(&tx, &req, &ctx, &fields, &errors, None).await
        }
        Err(WriteError::Other(AppError::PlanLimit(limit))) => {
            tx.rollback().await?;
            limit_form_page(&mut conn, &req, &fields, None, &limit).await
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

async fn detail_page(
    tx: &Tx<'_>,
    req: &Req,
    ctx: &crate::db::tx::SessionCtx,
    id: i64,
    form: Option<&Form>,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let product = catalog::product_by_id(tx, id).await?.ok_or(AppError::NotFound)?;
    let movements = stock::movements(tx, id, 100).await?;
    let can_manage = ctx.shop.as_ref().is_some_and(|s| s.role.can(Permission::ManageCatalog));
    let v = DetailView {
        product: &product,
        movements: &movements,
        can_manage,
        adjust_qty: form.map(|f| f.get("quantity")).unwrap_or(""),
        adjust_reason: form.map(|f| f.get("reason")).unwrap_or(""),
        adjust_errors: errors,
    };
    let r = html(views::catalog::detail(&page_for(req, Some(ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { status(r, StatusCode::UNPROCESSABLE_ENTITY) })
}

/// GET /products/{id}
async fn show(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewCatalog).await?;
    detail_page(&tx, &req, &ctx, id, None, &FieldErrors::new()).await
}

/// GET /products/{id}/edit
async fn edit_form(app: App, req: Req, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
    let product = catalog::product_by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    form_page(&tx, &req, &ctx, &fields_of(&product, req.locale_for(&ctx)), &FieldErrors::new(), Some(id))
        .await
}

/// POST /products/{id}
async fn update(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    let fields = fields_from(&form);
    let input = match parse_product(&tx, &fields, req.locale_for(&ctx), false).await? {
        Ok(i) => i,
        Err(errors) => return form_page(&tx, &req, &ctx, &fields, &errors, Some(id)).await,
    };
    match catalog::update_product(&tx, id, &input).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(with_flash(&req, redirect(&format!("/products/{id}")), "flash.saved"))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            // the same connection: taking a second one while this one is held could wait on the pool
            let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
            form_page(&tx, &req, &ctx, &fields, &errors, Some(id)).await
        }
        Err(WriteError::Other(AppError::PlanLimit(limit))) => {
            tx.rollback().await?;
            limit_form_page(&mut conn, &req, &fields, Some(id), &limit).await
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// POST /products/{id}/adjust: a signed quantity and a reason.
async fn adjust(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    let l = req.locale_for(&ctx);
    let product = catalog::product_by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let qty = take(&mut errors, "quantity", Quantity::parse(form.get("quantity"), l, product.divisible));
    let reason = take(&mut errors, "reason", stock::reason(form.get("reason")));
    if let (Some(q), Some(r)) = (qty, reason.as_deref()) {
        match stock::adjust(&tx, id, q, r).await? {
            Ok(_) => {
                tx.commit().await?;
                return Ok(with_flash(&req, redirect(&format!("/products/{id}")), "flash.stock_adjusted"));
            }
            Err(StockRefusal::WouldGoNegative { .. }) => errors.push(("quantity", "error.stock_negative")),
            Err(StockRefusal::Untracked) => errors.push(("form", "error.untracked")),
        }
        // the refused insert aborted the transaction: render from a fresh one
        tx.rollback().await?;
        let mut conn = app.conn().await?;
        let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
        return detail_page(&tx, &req, &ctx, id, Some(&form), &errors).await;
    }
    detail_page(&tx, &req, &ctx, id, Some(&form), &errors).await
}

/// POST /products/{id}/delete: only a product without history (otherwise: deactivate it).
async fn delete(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageCatalog).await?;
    match catalog::delete_product(&tx, id).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(with_flash(&req, redirect("/products"), "flash.deleted"))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            // the same connection: taking a second one while this one is held could wait on the pool
            let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageCatalog).await?;
            detail_page(&tx, &req, &ctx, id, None, &errors).await
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}
