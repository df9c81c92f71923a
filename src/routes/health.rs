//! `/health` (the process answers) and `/ready` (database reachable, migrations current).

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::db::migrate::{expected_app_version, latest_tenant_version};
use crate::http::App;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    let health = warp::get().and(warp::path!("health")).map(|| "ok".into_response());
    let ready = warp::get().and(warp::path!("ready")).then(move || {
        let app = app.clone();
        async move { ready(&app).await }
    });
    health.or(ready).unify().boxed()
}

/// GET /ready
async fn ready(app: &App) -> Response {
    let status = match app.conn().await {
        Ok(mut conn) => conn.migration_status().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let (code, text) = match status {
        Ok((app_v, tenant_v, behind)) if app_v == expected_app_version() && tenant_v == latest_tenant_version() && behind == 0 => {
            (StatusCode::OK, "ready".to_string())
        }
        Ok((app_v, tenant_v, behind)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("migrations pending: shared schema at {app_v}, tenant set at {tenant_v}, {behind} shops behind; run `stock migrate`"),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_string())
        }
    };
    warp::reply::with_status(text, code).into_response()
}
