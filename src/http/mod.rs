//! HTTP plumbing: application state, the route table, security headers, and the one place where
//! results become responses.

pub mod cookies;
pub mod csrf;
pub mod hints;
pub mod metrics;
pub mod request;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use warp::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::config::Config;
use crate::db::roles::RoleNames;
use crate::db::tx::{self, Conn};
use crate::db::DbError;
use crate::error::AppError;
use crate::i18n::Locale;
use crate::{routes, views};
pub use request::{Form, LogCtx, Req};

/// Shared, immutable application state (cheap to clone).
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub pools: crate::db::AppPools,
    pub roles: RoleNames,
    pub metrics: metrics::Metrics,
    /// The shop each session was last seen in (GET /dashboard's one flush; never data).
    pub shop_hints: hints::ShopHints,
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
        let pools = crate::db::AppPools::new(&config, &roles)?;
        Ok(App(Arc::new(AppInner {
            config,
            pools,
            roles,
            metrics: Default::default(),
            shop_hints: Default::default(),
        })))
    }

    pub async fn conn(&self) -> Result<Conn, AppError> {
        Ok(tx::conn(&self.pools, self.config.unnamed_statements))
    }
}

/// Largest form body accepted.
pub const FORM_LIMIT: u64 = 64 * 1024;

/// Every route of the service, wrapped so that each request gets a request id, one log line and
/// its metrics.
pub fn routes(app: App) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let fallback = request::req(app.clone()).and(warp::path::full()).then(|req: Req, _path| async move {
        unmatched(respond(&req, Err::<Response, _>(AppError::NotFound)))
    });
    let inner = routes::all(app.clone())
        // body refusals must be answered before the catch-all 404 swallows them
        .recover(body_rejections)
        .unify()
        .or(metrics::route(&app))
        .unify()
        .or(fallback)
        .unify()
        .recover(recover)
        .unify();
    let arrival = {
        let app = app.clone();
        warp::any().and(warp::method()).and(warp::path::full()).and(warp::header::headers_cloned()).map(
            move |method: Method, path: warp::path::FullPath, headers: HeaderMap| Arrival {
                start: Instant::now(),
                method,
                path: path.as_str().to_string(),
                request_id: headers
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| sane_request_id(v))
                    .map(str::to_string)
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
                _in_flight: metrics::Metrics::start(&app),
            },
        )
    };
    arrival.and(inner).map(move |a: Arrival, r: Response| finish(&app, a, r)).map(with_security_headers)
}

/// What the outer filter knows of a request when it arrives.
struct Arrival {
    start: Instant,
    method: Method,
    path: String,
    request_id: String,
    _in_flight: metrics::InFlight,
}

/// What `respond` tells the request log line: who asked, and why a request failed.
#[derive(Clone, Debug, Default)]
struct ResponseLog {
    who: LogCtx,
    unmatched: bool,
    /// The cause of a 5xx.
    error: Option<String>,
    /// SQLSTATE class of a database error that failed the request.
    db_error_class: Option<&'static str>,
}

/// An incoming X-Request-Id is kept when it is short and plain; otherwise a new one is made.
fn sane_request_id(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn unmatched(mut r: Response) -> Response {
    r.extensions_mut().get_or_insert_default::<ResponseLog>().unmatched = true;
    r
}

/// One log line and the metrics of a finished request; the request id goes back in a header.
/// The line names the route pattern, never the raw path or query (they may hold tokens), and
/// no header or body.
fn finish(app: &App, a: Arrival, mut r: Response) -> Response {
    let elapsed = a.start.elapsed();
    let log = r.extensions_mut().remove::<ResponseLog>().unwrap_or_default();
    let route = if log.unmatched { metrics::UNMATCHED.to_string() } else { metrics::route_pattern(&a.path) };
    let method = match a.method {
        Method::GET
        | Method::POST
        | Method::HEAD
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::OPTIONS => a.method.as_str(),
        _ => "OTHER",
    };
    let status = r.status().as_u16();
    app.metrics.observe(&route, method, status, elapsed);
    if let Some(class) = log.db_error_class {
        app.metrics.db_error(class);
    }
    if let Ok(v) = HeaderValue::from_str(&a.request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                request_id = %a.request_id,
                method,
                route = %route,
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                user_id = log.who.user_id,
                tenant_id = log.who.tenant_id,
                shop = log.who.shop.as_deref(),
                error = log.error.as_deref(),
                "request"
            )
        };
    }
    if status >= 500 {
        line!(error);
    } else {
        line!(info);
    }
    r
}

/// Turns a handler's result into the response; errors become pages in the request's language.
pub fn respond(req: &Req, result: Result<Response, AppError>) -> Response {
    let mut log = ResponseLog { who: req.log_ctx(), ..Default::default() };
    let mut r = match result {
        Ok(r) => r,
        Err(AppError::SignInRequired) => redirect("/login"),
        Err(AppError::NoShop) => redirect("/dashboard"),
        Err(e) => {
            let status = match &e {
                AppError::NotFound => StatusCode::NOT_FOUND,
                AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
                AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
                AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                AppError::PlanLimit(_) => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status.is_server_error() {
                // logged on the request's line by `finish`
                log.error = Some(e.to_string());
                log.db_error_class = db_error_class(&e);
            }
            let mut r = html(views::errors::render(req.locale, &e));
            *r.status_mut() = status;
            r
        }
    };
    r.extensions_mut().insert(log);
    r
}

/// The SQLSTATE class of a database error ("pool" when no connection came in time).
fn db_error_class(e: &AppError) -> Option<&'static str> {
    let AppError::Db(e) = e else { return None };
    Some(match e {
        DbError::Pg(pg) => match pg.code().map(|c| c.code()) {
            Some(code) => sqlstate_class(code),
            None => "connection",
        },
        DbError::Connect(_) => "08",
        DbError::Pool(_) => "pool",
        DbError::BadUrl(_) | DbError::Other(_) => "other",
    })
}

/// Names a SQLSTATE class by its two characters, from a fixed list (so labels stay bounded).
fn sqlstate_class(code: &str) -> &'static str {
    const CLASSES: &[&str] = &[
        "08", "09", "0A", "0B", "0F", "0L", "0P", "0Z", "20", "21", "22", "23", "24", "25", "26", "27", "28",
        "2B", "2D", "2F", "34", "38", "39", "3B", "3D", "3F", "40", "42", "44", "53", "54", "55", "57", "58",
        "72", "F0", "HV", "P0", "XX",
    ];
    CLASSES.iter().copied().find(|c| code.starts_with(c)).unwrap_or("other")
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
    Ok(unmatched(respond(&req, Err(e))))
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
