//! customers pages (being written).

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::http::App;

pub fn routes(_app: &App) -> BoxedFilter<(Response,)> {
    warp::any().and_then(|| async { Err::<Response, _>(warp::reject::not_found()) }).boxed()
}
