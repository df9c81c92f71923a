//! The shop's people (owner only): the member list, role changes, removal with confirmation and
//! handing the shop over to another member. Invitations live in their own module
//! (/members/invite); this page links to it.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form_with, page, page_with, seg};
use crate::db::tx::{Access, Tx};
use crate::domain::catalog::{FieldErrors, WriteError};
use crate::domain::member::Permission;
use crate::domain::members;
use crate::error::AppError;
use crate::http::{html, redirect, App, Form, Req};
use crate::views;
use crate::views::members::{Confirm, ListView};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let id_and = |tail: &'static str| {
        warp::path("members").and(warp::path::param::<i64>()).and(warp::path(tail)).boxed()
    };
    page(app, seg("members"), list)
        .or(form_with(app, id_and("role"), change_role))
        .unify()
        .or(page_with(app, id_and("remove"), |app, req, id| confirm(app, req, id, Confirm::Remove)))
        .unify()
        .or(form_with(app, id_and("remove"), remove))
        .unify()
        .or(page_with(app, id_and("owner"), |app, req, id| confirm(app, req, id, Confirm::HandOver)))
        .unify()
        .or(form_with(app, id_and("owner"), hand_over))
        .unify()
        .boxed()
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// The member list in a fresh read-only transaction, with the errors of a refused change.
async fn render_list(app: &App, req: &Req, errors: &FieldErrors) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageMembers).await?;
    let items = members::list(&tx).await?;
    tx.commit().await?;
    let v = ListView { members: &items, me: ctx.user_id, errors };
    let r = html(views::members::list(&page_for(req, Some(&ctx)), &v));
    Ok(if errors.is_empty() { finish(req, r, None) } else { unprocessable(r) })
}

/// GET /members
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    render_list(&app, &req, &FieldErrors::new()).await
}

/// Commits a membership change, or rolls it back and keeps the refusal to show.
async fn settle(result: Result<bool, WriteError>, tx: Tx<'_>) -> Result<Option<FieldErrors>, AppError> {
    match result {
        Ok(true) => {
            tx.commit().await?;
            Ok(None)
        }
        Ok(false) => Err(AppError::NotFound),
        Err(WriteError::Field(errors)) => {
            tx.rollback().await?;
            Ok(Some(errors))
        }
        Err(WriteError::Other(e)) => Err(e),
    }
}

/// Redirects after a committed change; shows the list again (in a new transaction) after a refusal.
async fn answer(
    app: &App,
    req: &Req,
    refused: Option<FieldErrors>,
    to: &str,
    flash: &'static str,
) -> Result<Response, AppError> {
    match refused {
        None => Ok(with_flash(req, redirect(to), flash)),
        Some(errors) => render_list(app, req, &errors).await,
    }
}

/// POST /members/{user_id}/role (role = admin | staff)
async fn change_role(app: App, req: Req, id: i64, form: Form) -> Result<Response, AppError> {
    let role = match members::assignable_role(form.get("role")) {
        Ok(role) => role,
        Err(key) => return render_list(&app, &req, &vec![("role", key)]).await,
    };
    let refused = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
        settle(members::change_role(&tx, id, role).await, tx).await?
    };
    answer(&app, &req, refused, "/members", "flash.role_changed").await
}

/// GET /members/{user_id}/remove and /members/{user_id}/owner: the confirmation page.
async fn confirm(app: App, req: Req, id: i64, what: Confirm) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageMembers).await?;
    let member = members::by_id(&tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let r = html(views::members::confirm(&page_for(&req, Some(&ctx)), &member, what));
    Ok(finish(&req, r, None))
}

/// POST /members/{user_id}/remove
async fn remove(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let refused = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
        settle(members::remove(&tx, id).await, tx).await?
    };
    answer(&app, &req, refused, "/members", "flash.member_removed").await
}

/// POST /members/{user_id}/owner: the member becomes the owner, the requester an admin.
async fn hand_over(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let refused = {
        let mut conn = app.conn().await?;
        let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
        settle(members::hand_over(&tx, id).await, tx).await?
    };
    // the requester is an admin now: the member page is no longer theirs
    answer(&app, &req, refused, "/dashboard", "flash.ownership_handed_over").await
}
