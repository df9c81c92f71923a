//! "View as" a shop for support: `POST /admin/shops/{id}/view-as` records the opening in the audit
//! trail and binds it to the admin session; every `/admin/view/{id}/…` page then runs in a READ
//! ONLY transaction as the SELECT-only support role with that shop's tenant context, reusing the
//! shop's own domain loaders. Nothing here can write: the role holds no write grant anywhere.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use super::admin::{get, post, shown, AdminReq};
use crate::db::tx::{Access, Tx, ViewAsCtx};
use crate::domain::admin as dom;
use crate::domain::catalog::{self, ProductQuery};
use crate::domain::dashboard;
use crate::domain::sales::{self, SaleFilter};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form};
use crate::views::admin_view as v;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    post(app, warp::path!("admin" / "shops" / i64 / "view-as").boxed(), open)
        .or(post(app, warp::path!("admin" / "view" / "close").map(|| ()).boxed(), |a, r, (), f| {
            close(a, r, f)
        }))
        .unify()
        .or(get(app, warp::path!("admin" / "view" / i64).boxed(), dashboard))
        .unify()
        .or(get(app, warp::path!("admin" / "view" / i64 / "products").boxed(), products))
        .unify()
        .or(get(app, warp::path!("admin" / "view" / i64 / "stock").boxed(), low_stock))
        .unify()
        .or(get(app, warp::path!("admin" / "view" / i64 / "sales").boxed(), sales_list))
        .unify()
        .or(get(app, warp::path!("admin" / "view" / i64 / "sales" / i64).map(|a, b| (a, b)).boxed(), sale))
        .unify()
        .boxed()
}

/// POST /admin/shops/{id}/view-as: recorded, then the shop's read-only pages.
async fn open(app: App, r: AdminReq, id: i64, _form: Form) -> Result<Response, AppError> {
    let token = r.token.clone().ok_or(AppError::SignInRequired)?;
    let mut conn = app.conn().await?;
    let (tx, _) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    if !dom::set_view(&tx, &token, Some(id)).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(redirect(&format!("/admin/view/{id}")))
}

/// POST /admin/view/close
async fn close(app: App, r: AdminReq, _form: Form) -> Result<Response, AppError> {
    let token = r.token.clone().ok_or(AppError::SignInRequired)?;
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    dom::set_view(&tx, &token, None).await?;
    tx.commit().await?;
    Ok(redirect(&match admin.view_tenant_id {
        Some(id) => format!("/admin/shops/{id}"),
        None => "/admin/shops".into(),
    }))
}

/// The read-only transaction of a "view as" page; a shop this session did not open (or a
/// signed-out request) goes back to the shop's page in the panel.
async fn view_tx<'c>(
    r: &AdminReq,
    conn: &'c mut crate::db::tx::Conn,
    id: i64,
) -> Result<Result<(Tx<'c>, ViewAsCtx), Response>, AppError> {
    let Some(token) = &r.token else {
        return Err(AppError::SignInRequired);
    };
    let ip = r.req.client.ip.map(|ip| ip.to_string());
    Ok(conn.view_as_tx(&token.hash(), id, ip).await?.ok_or_else(|| redirect(&format!("/admin/shops/{id}"))))
}

/// GET /admin/view/{id}
async fn dashboard(app: App, r: AdminReq, id: i64) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = match view_tx(&r, &mut conn, id).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let data = dashboard::load(&tx, id, true, chrono::Utc::now()).await?;
    tx.commit().await?;
    Ok(shown(&r, html(v::dashboard(&r.page(Some(&ctx.admin)), &ctx, &data))))
}

/// GET /admin/view/{id}/products?q=&page=
async fn products(app: App, r: AdminReq, id: i64) -> Result<Response, AppError> {
    list(app, r, id, false).await
}

/// GET /admin/view/{id}/stock: products at or below their minimum.
async fn low_stock(app: App, r: AdminReq, id: i64) -> Result<Response, AppError> {
    list(app, r, id, true).await
}

async fn list(app: App, r: AdminReq, id: i64, low: bool) -> Result<Response, AppError> {
    let f = r.req.query_form();
    let page = f.get("page").parse::<i64>().ok().filter(|p| (0..=100_000).contains(p)).unwrap_or(0);
    let query = ProductQuery {
        q: f.get("q").chars().take(100).collect(),
        low_stock: low,
        active: low.then_some(true),
        page,
        ..Default::default()
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = match view_tx(&r, &mut conn, id).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let found = catalog::list_products(&tx, ctx.tenant_id, &query).await?;
    tx.commit().await?;
    Ok(html(v::products(&r.page(Some(&ctx.admin)), &ctx, &query, &found, low)))
}

/// GET /admin/view/{id}/sales?page=
async fn sales_list(app: App, r: AdminReq, id: i64) -> Result<Response, AppError> {
    let f = r.req.query_form();
    let page = f.get("page").parse::<i64>().ok().filter(|p| (0..=100_000).contains(p)).unwrap_or(0);
    let filter = SaleFilter { page, ..Default::default() };
    let mut conn = app.conn().await?;
    let (tx, ctx) = match view_tx(&r, &mut conn, id).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let (items, more) = sales::list_sales(&tx, &filter).await?;
    tx.commit().await?;
    Ok(html(v::sales(&r.page(Some(&ctx.admin)), &ctx, &items, page, more)))
}

/// GET /admin/view/{id}/sales/{sale}
async fn sale(app: App, r: AdminReq, (id, sale_id): (i64, i64)) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = match view_tx(&r, &mut conn, id).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let detail = sales::sale_detail(&tx, sale_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(html(v::sale(&r.page(Some(&ctx.admin)), &ctx, &detail)))
}
