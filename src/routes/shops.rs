//! The shops a person belongs to: list, switch, open another.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, page, seg, seg2};
use crate::db::tx::Access;
use crate::domain::shop::{self, shop_name};
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    page(app, seg("shops"), list)
        .or(form(app, seg("shops"), create))
        .unify()
        .or(form(app, seg2("shops", "switch"), switch))
        .unify()
        .boxed()
}

/// GET /shops
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let token = req.session.clone().ok_or(AppError::SignInRequired)?;
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.signed_in(&mut conn, Access::ReadOnly).await?;
    let shops = shop::my_shops(&tx, &token.hash()).await?;
    tx.commit().await?;
    let current = ctx.shop.as_ref().map(|s| s.tenant_id);
    let p = page_for(&req, Some(&ctx));
    Ok(finish(&req, html(views::shops::render(&p, &shops, current, "", None)), None))
}

/// POST /shops/switch: only to a shop the person belongs to (else 404, revealing nothing).
async fn switch(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let token = req.session.clone().ok_or(AppError::SignInRequired)?;
    let tenant_id: i64 = form.get("tenant_id").parse().map_err(|_| AppError::BadRequest("error.bad_form"))?;
    let mut conn = app.conn().await?;
    let (tx, _ctx) = req.signed_in(&mut conn, Access::ReadWrite).await?;
    if !shop::switch_shop(&tx, &token.hash(), tenant_id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/dashboard"), "flash.switched"))
}

/// POST /shops: open another shop, owned by the signed-in person.
async fn create(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let token = req.session.clone().ok_or(AppError::SignInRequired)?;
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.signed_in(&mut conn, Access::ReadWrite).await?;
    let name = match shop_name(form.get("shop_name")) {
        Ok(n) => n,
        Err(e) => {
            let shops = shop::my_shops(&tx, &token.hash()).await?;
            let current = ctx.shop.as_ref().map(|s| s.tenant_id);
            let body = views::shops::render(
                &page_for(&req, Some(&ctx)),
                &shops,
                current,
                form.get("shop_name"),
                Some(e),
            );
            let mut r = html(body);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(r);
        }
    };
    shop::open_another_shop(&tx, &token.hash(), &name).await?;
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/dashboard"), "flash.welcome"))
}
