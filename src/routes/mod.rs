//! The route table. `page` and `form` wrap handlers so that every form POST is size-limited,
//! parsed, and CSRF-checked before its handler runs, and every result goes through `respond`.

mod admin;
mod admin_view;
mod assets;
mod audit;
mod auth;
mod catalog;
mod customers;
mod health;
mod home;
mod imports;
mod invitations;
mod members;
mod money;
mod password;
mod purchases;
mod quotes;
mod reports;
mod sales;
mod settings;
mod shops;
mod stock;
mod suppliers;

use std::future::Future;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::error::AppError;
use crate::http::request::Upload;
use crate::http::{request, respond, App, Form, Req};

pub fn all(app: App) -> BoxedFilter<(Response,)> {
    home::routes(&app)
        .or(auth::routes(&app))
        .unify()
        .or(shops::routes(&app))
        .unify()
        .or(imports::routes(&app))
        .unify()
        .or(catalog::routes(&app))
        .unify()
        .or(stock::routes(&app))
        .unify()
        .or(sales::routes(&app))
        .unify()
        .or(customers::routes(&app))
        .unify()
        .or(quotes::routes(&app))
        .unify()
        .or(health::routes(&app))
        .unify()
        .or(assets::routes(&app))
        .unify()
        .or(reports::routes(&app))
        .unify()
        .or(invitations::routes(&app))
        .unify()
        .or(password::routes(&app))
        .unify()
        .or(members::routes(&app))
        .unify()
        .or(settings::routes(&app))
        .unify()
        .or(audit::routes(&app))
        .unify()
        .or(suppliers::routes(&app))
        .unify()
        .or(purchases::routes(&app))
        .unify()
        .or(money::routes(&app))
        .unify()
        .or(admin::routes(&app))
        .unify()
        .boxed()
}

/// GET `path` → `handler(app, req)`.
pub fn page<H, Fut>(app: &App, path: BoxedFilter<()>, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(App, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::get()
        .and(path)
        .and(warp::path::end())
        .and(request::req(app.clone()))
        .then(move |req: Req| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = handler(app, req.clone()).await;
                respond(&req, result)
            }
        })
        .boxed()
}

/// POST `path` with a form body → CSRF check → `handler(app, req, form)`.
pub fn form<H, Fut>(app: &App, path: BoxedFilter<()>, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(App, Req, Form) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::post()
        .and(path)
        .and(warp::path::end())
        .and(request::req(app.clone()))
        .and(request::form_body())
        .then(move |req: Req, body: bytes::Bytes| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = match Form::parse(&body).and_then(|f| req.check_csrf(&f).map(|()| f)) {
                    Ok(f) => handler(app, req.clone(), f).await,
                    Err(e) => Err(e),
                };
                respond(&req, result)
            }
        })
        .boxed()
}

/// GET with one path parameter → `handler(app, req, param)`.
pub fn page_with<T, H, Fut>(app: &App, path: BoxedFilter<(T,)>, handler: H) -> BoxedFilter<(Response,)>
where
    T: Send + 'static,
    H: Fn(App, Req, T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::get()
        .and(path)
        .and(warp::path::end())
        .and(request::req(app.clone()))
        .then(move |param: T, req: Req| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = handler(app, req.clone(), param).await;
                respond(&req, result)
            }
        })
        .boxed()
}

/// POST with one path parameter and a form body → CSRF check → `handler(app, req, param, form)`.
pub fn form_with<T, H, Fut>(app: &App, path: BoxedFilter<(T,)>, handler: H) -> BoxedFilter<(Response,)>
where
    T: Send + 'static,
    H: Fn(App, Req, T, Form) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::post()
        .and(path)
        .and(warp::path::end())
        .and(request::req(app.clone()))
        .and(request::form_body())
        .then(move |param: T, req: Req, body: bytes::Bytes| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = match Form::parse(&body).and_then(|f| req.check_csrf(&f).map(|()| f)) {
                    Ok(f) => handler(app, req.clone(), param, f).await,
                    Err(e) => Err(e),
                };
                respond(&req, result)
            }
        })
        .boxed()
}

/// POST `path` with a multipart body (at most `limit` bytes) → CSRF check → `handler(app, req, upload)`.
pub fn upload<H, Fut>(app: &App, path: BoxedFilter<()>, limit: u64, handler: H) -> BoxedFilter<(Response,)>
where
    H: Fn(App, Req, Upload) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    upload_with(app, path.map(|| ()).boxed(), limit, move |app, req, (), up| handler(app, req, up))
}

/// POST with one path parameter and a multipart body → CSRF check → `handler(app, req, param, upload)`.
pub fn upload_with<T, H, Fut>(
    app: &App,
    path: BoxedFilter<(T,)>,
    limit: u64,
    handler: H,
) -> BoxedFilter<(Response,)>
where
    T: Send + 'static,
    H: Fn(App, Req, T, Upload) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::post()
        .and(path)
        .and(warp::path::end())
        .and(request::req(app.clone()))
        .and(request::multipart_body(limit))
        .then(move |param: T, req: Req, body: Result<Upload, AppError>| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = match body.and_then(|u| req.check_csrf(&u.form).map(|()| u)) {
                    Ok(u) => handler(app, req.clone(), param, u).await,
                    Err(e) => Err(e),
                };
                respond(&req, result)
            }
        })
        .boxed()
}

/// A literal path segment as a boxed filter.
pub fn seg(s: &'static str) -> BoxedFilter<()> {
    warp::path(s).boxed()
}

pub fn seg2(a: &'static str, b: &'static str) -> BoxedFilter<()> {
    warp::path(a).and(warp::path(b)).boxed()
}

pub fn root() -> BoxedFilter<()> {
    warp::any().boxed()
}
