//! `/`, the dashboard, the language switch and the stylesheet.

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::{page, root, seg};
use tokio_postgres::types::ToSql;

use crate::db::tx::{Access, SessionCtx, ShopStatement, Tx};
use crate::domain::dashboard;
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::http::cookies::{self, LANG_COOKIE};
use crate::http::hints::ShopHint;
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

/// GET /dashboard. The page is one statement, sent in the same flush as BEGIN and the session
/// statement when the session's shop and role are known from its last request (`ShopHints`):
/// one round trip to PostgreSQL. Its rows are used only when the session statement confirms that
/// shop and role; otherwise the page runs as any other, in a fresh transaction if the guessed
/// statement failed.
async fn dashboard(app: App, req: Req) -> Result<Response, AppError> {
    let hash = req.session_hash().ok_or(AppError::SignInRequired)?;
    let now = chrono::Utc::now();
    let mut conn = app.conn().await?;
    let guessed = match app.shop_hints.get(&hash) {
        Some(hint) => {
            let money = hint.role.can(Permission::ViewMoney);
            let params: [&(dyn ToSql + Sync); 1] = [&now];
            let then = ShopStatement {
                tenant_id: hint.tenant_id,
                sql: dashboard::statement(money),
                params: &params,
            };
            let opened = req.signed_in_then(&mut conn, Access::ReadOnly, &hash, &then).await;
            if opened.is_err() {
                app.shop_hints.set(&hash, None); // signed out or expired: forget the session
            }
            let (tx, ctx, rows) = opened?;
            // the statement the page needs is the one that was sent
            let confirmed = active_shop(&ctx).map(|h| (h.tenant_id, h.role.can(Permission::ViewMoney)))
                == Some((hint.tenant_id, money));
            match rows {
                Some(Ok(rows)) if confirmed => {
                    let data = dashboard::from_rows(&rows, money);
                    tx.commit().await?;
                    Some((ctx, Some(data)))
                }
                // the page's own statement failed in the page's own context: a real error
                Some(Err(e)) if confirmed => return Err(e.into()),
                // a stale guess whose statement failed (a role that may not run it): start over
                Some(Err(_)) => {
                    tx.rollback().await?;
                    None
                }
                // a stale guess that ran (its rows are not this page's), or not sent
                _ => {
                    let data = load(&tx, &ctx, now).await?;
                    tx.commit().await?;
                    Some((ctx, data))
                }
            }
        }
        None => None,
    };
    let (ctx, data) = match guessed {
        Some(done) => done,
        None => {
            let (tx, ctx) = req.signed_in(&mut conn, Access::ReadOnly).await?;
            let data = load(&tx, &ctx, now).await?;
            tx.commit().await?;
            (ctx, data)
        }
    };
    app.shop_hints.set(&hash, active_shop(&ctx));
    let p = super::auth::page_for(&req, Some(&ctx));
    let body =
        views::dashboard::render(&p, &ctx, data.as_ref(), data.as_ref().and_then(|d| d.due.as_deref()));
    Ok(super::auth::finish(&req, html(body), None))
}

/// The session's shop and role when it is in an active shop: what decides which dashboard
/// statement the page runs, and what the next request guesses.
fn active_shop(ctx: &SessionCtx) -> Option<ShopHint> {
    ctx.shop.as_ref().filter(|s| s.active).map(|s| ShopHint { tenant_id: s.tenant_id, role: s.role })
}

/// The dashboard of the session's shop, if it is in an active one; owner and admin (who may see
/// money) also get the invoices due, in the same statement.
async fn load(
    tx: &Tx<'_>,
    ctx: &SessionCtx,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<dashboard::Dashboard>, AppError> {
    Ok(match active_shop(ctx) {
        Some(shop) => {
            let money = shop.role.can(Permission::ViewMoney);
            Some(dashboard::load(tx, shop.tenant_id, money, now).await?)
        }
        None => None,
    })
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
