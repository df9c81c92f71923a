//! HTTP plumbing: application state, the route table, security headers, and the one place where
//! results become responses.

pub mod cookies;
pub mod csrf;
pub mod request;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use deadpool_postgres::Pool;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::config::Config;
use crate::db::roles::RoleNames;
use crate::db::tx::{self, Conn};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::{routes, views};
pub use request::{Form, Req};

/// Shared, immutable application state (cheap to clone).
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub pool: Pool,
    pub roles: RoleNames,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    pub fn new(config: Config) -> Result<App, AppError> {
        let roles = RoleNames::new(&config.role_prefix).map_err(AppError::Internal)?;
        let pool = crate::db::app_pool(&config, &roles)?;
        Ok(App(Arc::new(AppInner { config, pool, roles })))
    }

    pub async fn conn(&self) -> Result<Conn, AppError> {
        Ok(tx::conn(&self.pool).await?)
    }
}

/// Largest form body accepted.
pub const FORM_LIMIT: u64 = 64 * 1024;

/// Every route of the service.
pub fn routes(app: App) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let fallback = request::req(app.clone())
        .and(warp::path::full())
        .then(|req: Req, _path| async move { respond(&req, Err::<Response, _>(AppError::NotFound)) });
    routes::all(app.clone())
        // body refusals must be answered before the catch-all 404 swallows them
        .recover(body_rejections)
        .unify()
        .or(fallback)
        .unify()
        .recover(recover)
        .unify()
        .map(with_security_headers)
        .with(warp::log::custom(|info| {
            tracing::info!(
                method = %info.method(),
                path = %info.path(),
                status = info.status().as_u16(),
                latency_ms = info.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        }))
}

/// Turns a handler's result into the response; errors become pages in the request's language.
pub fn respond(req: &Req, result: Result<Response, AppError>) -> Response {
    match result {
        Ok(r) => r,
        Err(AppError::SignInRequired) => redirect("/login"),
        Err(AppError::NoShop) => redirect("/dashboard"),
        Err(e) => {
            let status = match &e {
                AppError::NotFound => StatusCode::NOT_FOUND,
                AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
                AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
                AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status.is_server_error() {
                tracing::error!(error = %e, "request failed");
            }
            let mut r = html(views::errors::render(req.locale, &e));
            *r.status_mut() = status;
            r
        }
    }
}

/// A form or upload route refused its body: too large, or without a length.
async fn body_rejections(rej: Rejection) -> Result<Response, Rejection> {
    let e = if rej.find::<warp::reject::PayloadTooLarge>().is_some() {
        AppError::TooLarge
    } else if rej.find::<warp::reject::LengthRequired>().is_some() {
        AppError::BadRequest("error.bad_form")
    } else {
        return Err(rej);
    };
    Ok(respond(&Req::fallback(Locale::Es), Err(e)))
}

/// Rejections warp raises before a handler runs (oversized bodies, wrong methods).
async fn recover(rej: Rejection) -> Result<Response, Infallible> {
    let e = if rej.find::<warp::reject::PayloadTooLarge>().is_some() {
        AppError::TooLarge
    } else if rej.find::<warp::reject::LengthRequired>().is_some() {
        AppError::BadRequest("error.bad_form")
    } else if rej.is_not_found() || rej.find::<warp::reject::MethodNotAllowed>().is_some() {
        AppError::NotFound
    } else {
        AppError::Internal(format!("unhandled rejection: {rej:?}"))
    };
    let req = Req::fallback(Locale::Es);
    Ok(respond(&req, Err(e)))
}

fn with_security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    r
}

pub fn html(markup: maud::Markup) -> Response {
    warp::reply::html(markup.into_string()).into_response()
}

/// 303 See Other to a local path (POST → redirect → GET).
pub fn redirect(path: &str) -> Response {
    let mut r = Response::default();
    *r.status_mut() = StatusCode::SEE_OTHER;
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/"));
    r.headers_mut().insert(header::LOCATION, location);
    r
}

/// Binds the listener (port 0 picks a free one) and returns the bound address and the server.
pub async fn bind(
    app: App,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let server = warp::serve(routes(app)).incoming(listener).graceful(shutdown).run();
    Ok((local, server))
}
