//! `/`, the dashboard, the language switch and the stylesheet.

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::{page, root, seg};
use crate::db::tx::Access;
use crate::domain::dashboard;
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::http::cookies::{self, LANG_COOKIE};
use crate::http::{html, redirect, App, Req};
use crate::i18n::Locale;
use crate::views;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let secure = app.config.cookie_secure;
    let lang =
        warp::get().and(warp::path!("lang" / String)).map(move |code: String| set_language(&code, secure));
    let css = warp::get().and(warp::path!("static" / "app.css")).map(stylesheet);
    let js = warp::get().and(warp::path!("static" / "app.js")).map(script);
    page(app, root(), home)
        .or(page(app, seg("dashboard"), dashboard))
        .unify()
        .or(lang)
        .unify()
        .or(css)
        .unify()
        .or(js)
        .unify()
        .boxed()
}

/// GET / → the dashboard when signed in, else the login page.
async fn home(_app: App, req: Req) -> Result<Response, AppError> {
    Ok(redirect(if req.session.is_some() { "/dashboard" } else { "/login" }))
}

/// GET /dashboard
async fn dashboard(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.signed_in(&mut conn, Access::ReadOnly).await?;
    let data = match &ctx.shop {
        Some(shop) if shop.active => {
            // owner and admin (who may see money) also get the invoices due: one statement
            let money = shop.role.can(Permission::ViewMoney);
            Some(dashboard::load(&tx, shop.tenant_id, money, chrono::Utc::now()).await?)
        }
        _ => None,
    };
    tx.commit().await?;
    let p = super::auth::page_for(&req, Some(&ctx));
    let body =
        views::dashboard::render(&p, &ctx, data.as_ref(), data.as_ref().and_then(|d| d.due.as_deref()));
    Ok(super::auth::finish(&req, html(body), None))
}

/// GET /lang/{es|en}: remembers the language in this browser.
fn set_language(code: &str, secure: bool) -> Response {
    let Some(l) = Locale::parse(code).filter(|l| l.code() == code) else {
        return redirect("/");
    };
    let mut r = redirect("/");
    cookies::set(&mut r, LANG_COOKIE, l.code(), Some(365 * 24 * 3600), secure);
    r
}

/// GET /static/app.css
fn stylesheet() -> Response {
    let mut r = include_str!("../../static/app.css").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// GET /static/app.js
fn script() -> Response {
    let mut r = include_str!("../../static/app.js").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}
