//! Password reset by e-mail (request, link, new password) and password change for a signed-in
//! person.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for, with_flash};
use super::{form, page, seg2};
use crate::db::tx::Access;
use crate::domain::auth::{Email, Password};
use crate::domain::password::{self, ChangeOutcome, ResetRequest, ResetToken};
use crate::error::AppError;
use crate::http::cookies;
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::tf;
use crate::mail;
use crate::views;
use crate::views::password::PasswordErrors;

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    page(app, seg2("password", "forgot"), forgot_form)
        .or(form(app, seg2("password", "forgot"), forgot))
        .unify()
        .or(page(app, seg2("password", "reset"), reset_form))
        .unify()
        .or(form(app, seg2("password", "reset"), reset))
        .unify()
        .or(page(app, seg2("password", "change"), change_form))
        .unify()
        .or(form(app, seg2("password", "change"), change))
        .unify()
        .boxed()
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// GET /password/forgot
async fn forgot_form(_app: App, mut req: Req) -> Result<Response, AppError> {
    let anon = req.ensure_anon();
    let r = html(views::password::forgot(&page_for(&req, None), "", None, None));
    Ok(finish(&req, r, anon))
}

/// POST /password/forgot: the same answer whether the e-mail has an account or not; the e-mail
/// goes out in the background, so the answer takes the same time either way.
async fn forgot(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let p = page_for(&req, None);
    let email = match Email::try_from(form.get("email")) {
        Ok(e) => e,
        Err(e) => {
            let r = html(views::password::forgot(&p, form.get("email"), Some(e), None));
            return Ok(with_status(r, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let token = ResetToken::generate();
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    let outcome = password::request_reset(&tx, &email, &token, &req.client).await?;
    tx.commit().await?;
    match outcome {
        ResetRequest::Throttled { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60).max(1).to_string();
            let message = tf(req.locale, "password.throttled", &[("minutes", &minutes)]);
            let r = html(views::password::forgot(&p, email.as_str(), None, Some(message)));
            return Ok(with_status(r, StatusCode::TOO_MANY_REQUESTS));
        }
        ResetRequest::Send { display_name, locale } => {
            let link = format!("{}/password/reset?token={}", app.config.public_base(), token.expose());
            let m = views::password::reset_mail(
                locale.unwrap_or(req.locale),
                email.as_str(),
                &display_name,
                &link,
            );
            let config = app.config.clone();
            tokio::spawn(async move {
                if let Err(e) = mail::send(&config, &m).await {
                    tracing::warn!(error = %e, "password reset e-mail not sent");
                }
            });
        }
        ResetRequest::NoAccount => {}
    }
    Ok(html(views::password::sent(&p, email.as_str())))
}

/// GET /password/reset?token=…
async fn reset_form(app: App, mut req: Req) -> Result<Response, AppError> {
    let anon = req.ensure_anon();
    let raw = req.query_form().get("token").to_string();
    let r = render_reset(&app, &req, &raw, &PasswordErrors::default()).await?;
    Ok(finish(&req, r, anon))
}

async fn render_reset(
    app: &App,
    req: &Req,
    raw: &str,
    errors: &PasswordErrors,
) -> Result<Response, AppError> {
    let p = page_for(req, None);
    let Some(token) = ResetToken::parse(raw) else {
        return Ok(with_status(html(views::password::link_invalid(&p)), StatusCode::GONE));
    };
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadOnly).await?;
    let email = password::reset_target(&tx, &token).await?;
    tx.commit().await?;
    Ok(match email {
        None => with_status(html(views::password::link_invalid(&p)), StatusCode::GONE),
        Some(email) => {
            let r = html(views::password::reset(&p, token.expose(), &email, errors));
            if errors.any() {
                with_status(r, StatusCode::UNPROCESSABLE_ENTITY)
            } else {
                r
            }
        }
    })
}

fn new_password(form: &Form) -> (Option<Password>, PasswordErrors) {
    let password = Password::new_password(form.get("password"));
    let mismatch = form.get("password") != form.get("password_confirm");
    let errors = PasswordErrors {
        current: None,
        password: password.as_ref().err().copied(),
        password_confirm: (password.is_ok() && mismatch).then_some("error.password_mismatch"),
    };
    (password.ok().filter(|_| !errors.any()), errors)
}

/// POST /password/reset: the new password; every session of the account ends, this one too.
async fn reset(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let raw = form.get("token");
    let (Some(token), (Some(new), _)) = (ResetToken::parse(raw), new_password(&form)) else {
        let (_, errors) = new_password(&form);
        return render_reset(&app, &req, raw, &errors).await;
    };
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    if !password::reset(&tx, &token, &new).await? {
        drop(tx);
        return Ok(with_status(html(views::password::link_invalid(&page_for(&req, None))), StatusCode::GONE));
    }
    tx.commit().await?;
    let mut r = redirect("/login");
    cookies::clear(&mut r, &app.config.cookie_name, req.secure_cookies());
    Ok(with_flash(&req, r, "flash.password_reset"))
}

/// GET /password/change
async fn change_form(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.signed_in(&mut conn, Access::ReadOnly).await?;
    tx.commit().await?;
    let r = html(views::password::change(&page_for(&req, Some(&ctx)), &PasswordErrors::default()));
    Ok(finish(&req, r, None))
}

/// POST /password/change: current password required; the person's other sessions end.
async fn change(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let session = req.session.clone().ok_or(AppError::SignInRequired)?;
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.signed_in(&mut conn, Access::ReadWrite).await?;
    let current = Password::offered(form.get("current_password"));
    let (new, mut errors) = new_password(&form);
    errors.current = current.as_ref().err().copied();
    let outcome = match (current, new) {
        (Ok(current), Some(new)) => password::change(&tx, &session, &current, &new).await?,
        _ => ChangeOutcome::WrongCurrent,
    };
    if outcome == ChangeOutcome::WrongCurrent {
        drop(tx);
        if !errors.any() {
            errors.current = Some("error.current_password_wrong");
        }
        let r = html(views::password::change(&page_for(&req, Some(&ctx)), &errors));
        return Ok(with_status(r, StatusCode::UNPROCESSABLE_ENTITY));
    }
    tx.commit().await?;
    Ok(with_flash(&req, redirect("/dashboard"), "flash.password_changed"))
}
