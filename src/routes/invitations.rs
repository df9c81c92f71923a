//! Invitations: the owner's list, invite, send again and revoke (Permission::ManageMembers), and
//! the page an invitation link opens, where a new person creates an account or an existing one
//! joins. The invitation row is committed before the e-mail goes out: a mail server that is down
//! loses nothing, the owner is told and can send it again.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, form_with, page, seg2};
use crate::db::tx::{Access, SessionCtx};
use crate::domain::auth::{hash_password, Email, Password, SessionToken};
use crate::domain::invitations::{
    self as inv, AcceptError, Invitation, InviteError, Link, LinkError, LinkState,
};
use crate::domain::member::Permission;
use crate::domain::text::Name;
use crate::error::AppError;
use crate::http::cookies;
use crate::http::{html, redirect, App, Form, Req};
use crate::mail;
use crate::views;
use crate::views::invitations::{AcceptErrors, AcceptMode, AcceptView, InviteForm};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let action = |tail: &'static str| {
        warp::path("members")
            .and(warp::path("invitations"))
            .and(warp::path::param::<i64>())
            .and(warp::path(tail))
            .boxed()
    };
    page(app, seg2("members", "invitations"), list)
        .or(page(app, seg2("members", "invite"), invite_form))
        .unify()
        .or(form(app, seg2("members", "invite"), invite))
        .unify()
        .or(form_with(app, action("resend"), resend))
        .unify()
        .or(form_with(app, action("revoke"), revoke))
        .unify()
        .or(page(app, seg2("invite", "accept"), accept_page))
        .unify()
        .or(form(app, seg2("invite", "accept"), accept))
        .unify()
        .boxed()
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// GET /members/invitations: the open invitations (pending or expired).
async fn list(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageMembers).await?;
    let items = inv::list_open(&tx).await?;
    tx.commit().await?;
    Ok(finish(&req, html(views::invitations::list(&page_for(&req, Some(&ctx)), &items)), None))
}

/// GET /members/invite
async fn invite_form(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ManageMembers).await?;
    tx.commit().await?;
    let shop = ctx.shop.as_ref().map(|s| s.name.as_str()).unwrap_or_default();
    let body = views::invitations::invite_form(&page_for(&req, Some(&ctx)), shop, &InviteForm::default());
    Ok(finish(&req, html(body), None))
}

/// POST /members/invite: e-mail and role (admin or staff); errors come back next to the fields
/// with nothing written.
async fn invite(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let email = Email::try_from(form.get("email"));
    let role = inv::invite_role(form.get("role"));
    let again = |ctx: &SessionCtx, email_error, role_error| {
        let f = InviteForm { email: form.get("email"), role: form.get("role"), email_error, role_error };
        let shop = ctx.shop.as_ref().map(|s| s.name.as_str()).unwrap_or_default();
        let body = views::invitations::invite_form(&page_for(&req, Some(ctx)), shop, &f);
        Ok(with_status(html(body), StatusCode::UNPROCESSABLE_ENTITY))
    };
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
    let (email, role) = match (email, role) {
        (Ok(e), Ok(r)) => (e, r),
        (e, r) => return again(&ctx, e.err(), r.err()),
    };
    let nonce = inv::Nonce::generate();
    let invitation = match inv::create(&tx, &email, role, &nonce).await {
        Ok(i) => i,
        Err(InviteError::AlreadyMember) => return again(&ctx, Some("error.already_member"), None),
        Err(InviteError::AlreadyInvited) => return again(&ctx, Some("error.already_invited"), None),
        // the plan's members are reached (members and open invitations): the form says which
        Err(InviteError::Other(AppError::PlanLimit(limit))) => {
            let f = InviteForm {
                email: form.get("email"),
                role: form.get("role"),
                email_error: None,
                role_error: None,
            };
            let shop = ctx.shop.as_ref().map(|s| s.name.as_str()).unwrap_or_default();
            let mut p = page_for(&req, Some(&ctx));
            p.alert = Some(limit.message(p.locale));
            return Ok(with_status(
                html(views::invitations::invite_form(&p, shop, &f)),
                StatusCode::CONFLICT,
            ));
        }
        Err(InviteError::Other(e)) => return Err(e),
    };
    let locale = inv::shop_locale(&tx).await?;
    tx.commit().await?;
    drop(conn);
    let sent = deliver(&app, &req, &ctx, &invitation, &nonce, locale).await?;
    Ok(after_send(&req, sent))
}

/// POST /members/invitations/{id}/resend: a new link (the old one stops working), mailed again.
async fn resend(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
    let nonce = inv::Nonce::generate();
    let invitation = inv::renew(&tx, id, &nonce).await?.ok_or(AppError::NotFound)?;
    let locale = inv::shop_locale(&tx).await?;
    tx.commit().await?;
    drop(conn);
    let sent = deliver(&app, &req, &ctx, &invitation, &nonce, locale).await?;
    Ok(after_send(&req, sent))
}

/// POST /members/invitations/{id}/revoke
async fn revoke(app: App, req: Req, id: i64, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _ctx) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
    if !inv::revoke(&tx, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/members/invitations"), "flash.invitation_revoked"))
}

fn after_send(req: &Req, sent: bool) -> Response {
    let key = if sent { "flash.invitation_sent" } else { "flash.invitation_not_sent" };
    with_flash(req, redirect("/members/invitations"), key)
}

/// Mails the link of a committed invitation; on success records the delivery. A failure is logged
/// and reported as `false`: the invitation stays, and can be sent again.
async fn deliver(
    app: &App,
    req: &Req,
    ctx: &SessionCtx,
    invitation: &Invitation,
    nonce: &inv::Nonce,
    locale: crate::i18n::Locale,
) -> Result<bool, AppError> {
    let Some(shop) = &ctx.shop else { return Err(AppError::NoShop) };
    let token = inv::issue(
        app.config.secret_key.expose(),
        invitation.id,
        shop.tenant_id,
        &invitation.email,
        nonce,
        invitation.expires_at,
    )?;
    let link = format!("{}/invite/accept?token={token}", app.config.public_base());
    let mail = views::invitations::invitation_mail(
        locale,
        &invitation.email,
        &shop.name,
        &ctx.display_name,
        invitation.role,
        &link,
        invitation.expires_at,
    );
    if let Err(e) = mail::send(&app.config, &mail).await {
        tracing::warn!(invitation = invitation.id, error = %e, "invitation e-mail not sent");
        return Ok(false);
    }
    let mut conn = app.conn().await?;
    let (tx, _) = req.shop_tx(&mut conn, Access::ReadWrite, Permission::ManageMembers).await?;
    inv::mark_sent(&tx, invitation.id).await?;
    tx.commit().await?;
    Ok(true)
}

/// The signed-in person of this request, if the cookie names a live session.
async fn who(app: &App, req: &Req) -> Result<Option<SessionCtx>, AppError> {
    let Some(token) = &req.session else { return Ok(None) };
    let mut conn = app.conn().await?;
    if let Some((tx, ctx)) = conn.tenant_tx(&token.hash(), Access::ReadOnly).await? {
        tx.commit().await?;
        return Ok(Some(ctx));
    }
    Ok(None)
}

fn link_error_page(req: &Req, ctx: Option<&SessionCtx>, state: LinkState) -> Response {
    let status = match state {
        LinkState::Invalid | LinkState::Pending => StatusCode::BAD_REQUEST,
        _ => StatusCode::GONE,
    };
    with_status(html(views::invitations::closed(&page_for(req, ctx), state)), status)
}

fn verify_link(app: &App, token: &str) -> Result<Link, LinkState> {
    inv::verify(app.config.secret_key.expose(), token).map_err(|e| match e {
        LinkError::Invalid => LinkState::Invalid,
        LinkError::Expired => LinkState::Expired,
    })
}

/// Renders the accept page for a pending invitation (or why the link cannot be used).
async fn render_accept(
    app: &App,
    req: &Req,
    ctx: Option<&SessionCtx>,
    token: &str,
    display_name: &str,
    errors: &AcceptErrors,
) -> Result<Response, AppError> {
    let link = match verify_link(app, token) {
        Ok(l) => l,
        Err(state) => return Ok(link_error_page(req, ctx, state)),
    };
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadOnly).await?;
    let preview = inv::preview(&tx, &link).await?;
    tx.commit().await?;
    let Some(role) = preview.role.filter(|_| preview.state == LinkState::Pending) else {
        return Ok(link_error_page(req, ctx, preview.state));
    };
    let mode = match ctx {
        Some(me) if me.email == preview.email => AcceptMode::Join,
        _ if !preview.account_exists => AcceptMode::NewAccount { display_name, errors },
        Some(me) => AcceptMode::LogInFirst { signed_in_as: Some(me.email.as_str()) },
        None => AcceptMode::LogInFirst { signed_in_as: None },
    };
    let v = AcceptView { token, shop_name: &preview.shop_name, email: &preview.email, role, mode };
    let r = html(views::invitations::accept(&page_for(req, ctx), &v));
    Ok(if errors.any() { with_status(r, StatusCode::UNPROCESSABLE_ENTITY) } else { r })
}

/// GET /invite/accept?token=…: the shop and role, read-only, and how to accept.
async fn accept_page(app: App, mut req: Req) -> Result<Response, AppError> {
    let anon = req.ensure_anon();
    let token = req.query_form().get("token").to_string();
    let ctx = who(&app, &req).await?;
    let r = render_accept(&app, &req, ctx.as_ref(), &token, "", &AcceptErrors::default()).await?;
    Ok(finish(&req, r, anon))
}

/// POST /invite/accept: creates the account (new e-mail) or adds the membership to the signed-in
/// invited account; then the person is in the shop. A link that cannot be used changes nothing.
async fn accept(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let token = form.get("token");
    let ctx = who(&app, &req).await?;
    let link = match verify_link(&app, token) {
        Ok(l) => l,
        Err(state) => return Ok(link_error_page(&req, ctx.as_ref(), state)),
    };
    let joins_as_self = ctx.as_ref().is_some_and(|me| me.email == link.email);
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    let result = match (&req.session, joins_as_self) {
        (Some(session), true) => inv::accept_for_session(&tx, &link, session).await.map(|_| None),
        _ => {
            let (parsed, errors) = parse_account(&form);
            let Some((name, password)) = parsed else {
                drop(tx);
                return render_accept(&app, &req, ctx.as_ref(), token, form.get("display_name"), &errors)
                    .await;
            };
            let account = inv::NewAccount {
                display_name: name,
                password_hash: hash_password(&password).await?,
                locale: req.locale.code(),
            };
            let new = SessionToken::generate();
            let ttl = app.config.session_ttl;
            inv::accept_as_new(&tx, &link, &account, req.session.as_ref(), &new, ttl, &req.client)
                .await
                .map(|_| Some(new))
        }
    };
    match result {
        Ok(new_session) => {
            tx.commit().await?;
            let mut r = redirect("/dashboard");
            if let Some(token) = new_session {
                let ttl = app.config.session_ttl.as_secs();
                cookies::set(
                    &mut r,
                    &app.config.cookie_name,
                    token.expose(),
                    Some(ttl),
                    req.secure_cookies(),
                );
            }
            Ok(with_flash(&req, r, "flash.invitation_accepted"))
        }
        Err(AcceptError::Closed(state)) => Ok(link_error_page(&req, ctx.as_ref(), state)),
        // the account appeared, or the session is someone else's: show the page as it now stands
        Err(AcceptError::WrongAccount | AcceptError::AccountExists) => {
            drop(tx);
            let r = render_accept(&app, &req, ctx.as_ref(), token, "", &AcceptErrors::default()).await?;
            Ok(with_status(r, StatusCode::CONFLICT))
        }
        Err(AcceptError::Other(e)) => Err(e),
    }
}

fn parse_account(form: &Form) -> (Option<(Name, Password)>, AcceptErrors) {
    let name = Name::parse(form.get("display_name"), 120);
    let password = Password::new_password(form.get("password"));
    let mismatch = form.get("password") != form.get("password_confirm");
    let errors = AcceptErrors {
        display_name: name.as_ref().err().copied(),
        password: password.as_ref().err().copied(),
        password_confirm: (password.is_ok() && mismatch).then_some("error.password_mismatch"),
    };
    match (name, password, errors.any()) {
        (Ok(n), Ok(p), false) => (Some((n, p)), errors),
        _ => (None, errors),
    }
}
