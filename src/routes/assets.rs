//! Vendored front-end files. htmx 2 (BSD-2-Clause, from the npm registry, `static/htmx.min.js`)
//! enhances the counter: search as you type and adding lines without reloading the page. Every
//! page works the same without it.

use warp::filters::BoxedFilter;
use warp::http::header::{self, HeaderValue};
use warp::reply::{Reply, Response};
use warp::Filter;

use crate::http::App;

pub fn routes(_app: &App) -> BoxedFilter<(Response,)> {
    warp::get().and(warp::path!("static" / "htmx.min.js")).map(htmx).boxed()
}

/// GET /static/htmx.min.js
fn htmx() -> Response {
    let mut r = include_str!("../../static/htmx.min.js").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}
