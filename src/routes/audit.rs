//! The audit log page (owner and admin): filters, newest first, a page at a time.

use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::auth::{finish, page_for};
use super::{page, seg};
use crate::db::tx::Access;
use crate::domain::audit::{self, AuditQuery};
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::http::{html, App, Req};
use crate::views;
use crate::views::audit::ListView;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    page(app, seg("audit"), list)
}

/// GET /audit?from=&to=&action=&user=&entity=&q=&page=
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let form = req.query_form();
    let (query, errors) = AuditQuery::parse(|k| form.get(k));
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewAudit).await?;
    let found = audit::list(&tx, &query).await?;
    let choices = audit::filter_choices(&tx).await?;
    tx.commit().await?;
    let v = ListView {
        query: &query,
        errors: &errors,
        items: &found.items,
        has_next: found.has_next,
        choices: &choices,
    };
    Ok(finish(&req, html(views::audit::list(&page_for(&req, Some(&ctx)), &v)), None))
}
