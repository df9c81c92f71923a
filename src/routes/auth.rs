//! Sign-up, login, logout.

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::{form, page, seg};
use crate::db::tx::{Access, SessionCtx};
use crate::domain::auth::{self, Email, LoginOutcome, Password, SessionToken, SignUp, SignUpError};
use crate::domain::shop::shop_name;
use crate::domain::text::Name;
use crate::error::AppError;
use crate::http::cookies::{self, ANON_COOKIE, FLASH_COOKIE};
use crate::http::{html, redirect, App, Form, Req};
use crate::i18n::{t, tf};
use crate::views::auth::{LoginForm, SignUpErrors, SignUpForm};
use crate::views::{self, Page};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    page(app, seg("login"), login_form)
        .or(form(app, seg("login"), login))
        .unify()
        .or(page(app, seg("signup"), signup_form))
        .unify()
        .or(form(app, seg("signup"), signup))
        .unify()
        .or(form(app, seg("logout"), logout))
        .unify()
        .boxed()
}

/// The page context for a request (signed in or not).
pub fn page_for<'a>(req: &Req, session: Option<&'a SessionCtx>) -> Page<'a> {
    Page {
        locale: session.map(|s| req.locale_for(s)).unwrap_or(req.locale),
        csrf: req.csrf_token(),
        session,
        flash: req.flash,
        alert: None,
    }
}

/// Sets a fresh anonymous cookie when one was made, and clears a flash message once shown.
pub fn finish(req: &Req, mut r: Response, anon: Option<String>) -> Response {
    if let Some(a) = anon {
        cookies::set(&mut r, ANON_COOKIE, &a, None, req.secure_cookies());
    }
    if req.flash.is_some() {
        cookies::clear(&mut r, FLASH_COOKIE, req.secure_cookies());
    }
    r
}

pub fn with_flash(req: &Req, mut r: Response, key: &'static str) -> Response {
    cookies::set(&mut r, FLASH_COOKIE, key, Some(60), req.secure_cookies());
    r
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// GET /login
async fn login_form(_app: App, mut req: Req) -> Result<Response, AppError> {
    let anon = req.ensure_anon();
    let r = html(views::auth::login(&page_for(&req, None), &LoginForm::default()));
    Ok(finish(&req, r, anon))
}

/// POST /login
async fn login(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let l = req.locale;
    let failed = |message: String, status| {
        let f = LoginForm { email: form.get("email"), message: Some(message) };
        with_status(html(views::auth::login(&page_for(&req, None), &f)), status)
    };
    let (Ok(email), Ok(password)) =
        (Email::try_from(form.get("email")), Password::offered(form.get("password")))
    else {
        return Ok(failed(t(l, "login.failed").into(), StatusCode::UNAUTHORIZED));
    };
    let token = SessionToken::generate();
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    let ttl = app.config.session_ttl;
    let outcome = auth::login(&tx, &email, &password, req.session.as_ref(), &token, ttl, &req.client).await?;
    tx.commit().await?;
    Ok(match outcome {
        LoginOutcome::Ok(_) => {
            let mut r = redirect("/dashboard");
            cookies::set(
                &mut r,
                &app.config.cookie_name,
                token.expose(),
                Some(ttl.as_secs()),
                req.secure_cookies(),
            );
            r
        }
        LoginOutcome::WrongCredentials => failed(t(l, "login.failed").into(), StatusCode::UNAUTHORIZED),
        LoginOutcome::Throttled { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60).max(1).to_string();
            failed(tf(l, "login.throttled", &[("minutes", &minutes)]), StatusCode::TOO_MANY_REQUESTS)
        }
    })
}

/// GET /signup
async fn signup_form(_app: App, mut req: Req) -> Result<Response, AppError> {
    let anon = req.ensure_anon();
    let r = html(views::auth::signup(&page_for(&req, None), &SignUpForm::default()));
    Ok(finish(&req, r, anon))
}

/// POST /signup: a new shop with its owner; on any error the form comes back with the input kept.
async fn signup(app: App, req: Req, form: Form) -> Result<Response, AppError> {
    let (parsed, errors) = parse_signup(&req, &form);
    let again = |errors: SignUpErrors| {
        let f = SignUpForm {
            shop_name: form.get("shop_name"),
            display_name: form.get("display_name"),
            email: form.get("email"),
            errors,
        };
        with_status(html(views::auth::signup(&page_for(&req, None), &f)), StatusCode::UNPROCESSABLE_ENTITY)
    };
    let Some(signup) = parsed else {
        return Ok(again(errors));
    };
    let token = SessionToken::generate();
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    match auth::sign_up(&tx, &signup, &token, app.config.session_ttl, &req.client).await {
        Ok(_) => {
            tx.commit().await?;
            let mut r = redirect("/dashboard");
            let ttl = app.config.session_ttl.as_secs();
            cookies::set(&mut r, &app.config.cookie_name, token.expose(), Some(ttl), req.secure_cookies());
            Ok(with_flash(&req, r, "flash.welcome"))
        }
        Err(SignUpError::EmailTaken) => {
            Ok(again(SignUpErrors { email: Some("error.email_taken"), ..Default::default() }))
        }
        Err(SignUpError::Other(e)) => Err(e),
    }
}

fn parse_signup(req: &Req, form: &Form) -> (Option<SignUp>, SignUpErrors) {
    let shop = shop_name(form.get("shop_name"));
    let name = Name::parse(form.get("display_name"), 120);
    let email = Email::try_from(form.get("email"));
    let password = Password::new_password(form.get("password"));
    let confirm = (form.get("password") != form.get("password_confirm")).then_some("error.password_mismatch");
    let errors = SignUpErrors {
        shop_name: shop.as_ref().err().copied(),
        display_name: name.as_ref().err().copied(),
        email: email.as_ref().err().copied(),
        password: password.as_ref().err().copied(),
        password_confirm: if password.is_ok() { confirm } else { None },
    };
    match (shop, name, email, password, errors.any()) {
        (Ok(shop_name), Ok(display_name), Ok(email), Ok(password), false) => {
            (Some(SignUp { shop_name, display_name, email, password, locale: req.locale.code() }), errors)
        }
        _ => (None, errors),
    }
}

/// POST /logout
async fn logout(app: App, req: Req, _form: Form) -> Result<Response, AppError> {
    if let Some(token) = &req.session {
        let mut conn = app.conn().await?;
        let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
        auth::logout(&tx, token).await?;
        tx.commit().await?;
    }
    let mut r = redirect("/login");
    cookies::clear(&mut r, &app.config.cookie_name, req.secure_cookies());
    Ok(with_flash(&req, r, "flash.logged_out"))
}
