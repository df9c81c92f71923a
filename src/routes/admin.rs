//! The operator's super-admin panel under `/admin`: its own login and cookie (`stock_admin`,
//! HttpOnly, SameSite=Strict, Path=/admin), CSRF on every form (bound to the admin cookie, or to
//! the anonymous cookie on the login form), and every request in one transaction whose first
//! statement resolves the admin session and switches to the super-admin role.

use std::future::Future;

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Filter;

use crate::db::tx::{Access, AdminCtx, Tx};
use crate::domain::admin::{self as dom, AdminLoginOutcome};
use crate::domain::auth::{Email, Password, SessionToken};
use crate::error::AppError;
use crate::http::cookies::{self, ANON_COOKIE};
use crate::http::{csrf, html, redirect, request, respond, App, Form, Req};
use crate::i18n::{t, tf, Locale};
use crate::views::admin as v;

pub const ADMIN_COOKIE: &str = "stock_admin";

/// A request to the panel: the common request plus the admin cookie.
#[derive(Clone, Debug)]
pub struct AdminReq {
    pub req: Req,
    pub token: Option<SessionToken>,
    secret: String,
}

impl AdminReq {
    pub fn locale(&self) -> Locale {
        self.req.locale
    }

    fn client_ip(&self) -> Option<String> {
        self.req.client.ip.map(|ip| ip.to_string())
    }

    /// The CSRF token for this page's forms: bound to the admin cookie when signed in.
    pub fn csrf_token(&self) -> String {
        match (&self.token, &self.req.anon) {
            (Some(tok), _) => csrf::token(&self.secret, "admin", tok.expose()),
            (None, Some(a)) => csrf::token(&self.secret, "anon", a),
            (None, None) => String::new(),
        }
    }

    fn check_csrf(&self, form: &Form, signed_in: bool) -> Result<(), AppError> {
        let submitted = form.get("csrf");
        let ok = if signed_in {
            self.token
                .as_ref()
                .is_some_and(|tok| csrf::verify(&self.secret, "admin", tok.expose(), submitted))
        } else {
            self.req.anon.as_ref().is_some_and(|a| csrf::verify(&self.secret, "anon", a, submitted))
        };
        if ok {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    /// Opens the request transaction of a signed-in super-admin (or sends them to the login).
    pub async fn admin_tx<'c>(
        &self,
        conn: &'c mut crate::db::tx::Conn,
        access: Access,
    ) -> Result<(Tx<'c>, AdminCtx), AppError> {
        let token = self.token.as_ref().ok_or(AppError::SignInRequired)?;
        conn.admin_tx(&token.hash(), self.client_ip(), access).await?.ok_or(AppError::SignInRequired)
    }

    pub fn page<'a>(&self, admin: Option<&'a AdminCtx>) -> v::AdminPage<'a> {
        v::AdminPage { locale: self.locale(), csrf: self.csrf_token(), admin, flash: self.req.flash }
    }

    /// The login page's context: its token is bound to the anonymous cookie, even when a stale
    /// admin cookie is still around.
    fn login_page(&self) -> v::AdminPage<'static> {
        let csrf = self.req.anon.as_ref().map(|a| csrf::token(&self.secret, "anon", a)).unwrap_or_default();
        v::AdminPage { locale: self.locale(), csrf, admin: None, flash: self.req.flash }
    }
}

fn admin_req(app: &App) -> impl Filter<Extract = (AdminReq,), Error = warp::Rejection> + Clone {
    let secret = app.config.secret_key.expose().to_string();
    request::req(app.clone()).and(warp::header::optional::<String>("cookie")).map(
        move |req: Req, cookie: Option<String>| AdminReq {
            req,
            token: cookies::get(cookie.as_deref(), ADMIN_COOKIE).and_then(SessionToken::from_cookie),
            secret: secret.clone(),
        },
    )
}

/// Errors become pages as everywhere; a missing admin session goes to the admin login.
fn finish(r: &AdminReq, result: Result<Response, AppError>) -> Response {
    match result {
        Err(AppError::SignInRequired) => respond(&r.req, Ok(redirect("/admin/login"))),
        other => respond(&r.req, other),
    }
}

/// GET `path` (extracting `T`) → `handler(app, req, T)`.
pub(super) fn get<T, H, Fut>(app: &App, path: BoxedFilter<(T,)>, handler: H) -> BoxedFilter<(Response,)>
where
    T: Send + 'static,
    H: Fn(App, AdminReq, T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::get()
        .and(path)
        .and(warp::path::end())
        .and(admin_req(&app))
        .then(move |param: T, r: AdminReq| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = handler(app, r.clone(), param).await;
                finish(&r, result)
            }
        })
        .boxed()
}

/// POST `path` (extracting `T`) with a form → CSRF bound to the admin cookie → handler.
pub(super) fn post<T, H, Fut>(app: &App, path: BoxedFilter<(T,)>, handler: H) -> BoxedFilter<(Response,)>
where
    T: Send + 'static,
    H: Fn(App, AdminReq, T, Form) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, AppError>> + Send + 'static,
{
    let app = app.clone();
    warp::post()
        .and(path)
        .and(warp::path::end())
        .and(admin_req(&app))
        .and(request::form_body())
        .then(move |param: T, r: AdminReq, body: bytes::Bytes| {
            let (app, handler) = (app.clone(), handler.clone());
            async move {
                let result = match Form::parse(&body).and_then(|f| r.check_csrf(&f, true).map(|()| f)) {
                    Ok(f) => handler(app, r.clone(), param, f).await,
                    Err(e) => Err(e),
                };
                finish(&r, result)
            }
        })
        .boxed()
}

fn path0(p: &'static str) -> BoxedFilter<((),)> {
    warp::path("admin").and(warp::path(p)).map(|| ()).boxed()
}

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let login_post = {
        let app = app.clone();
        warp::post()
            .and(warp::path!("admin" / "login"))
            .and(admin_req(&app))
            .and(request::form_body())
            .then(move |r: AdminReq, body: bytes::Bytes| {
                let app = app.clone();
                async move {
                    let result = match Form::parse(&body).and_then(|f| r.check_csrf(&f, false).map(|()| f)) {
                        Ok(f) => login(app, r.clone(), f).await,
                        Err(e) => Err(e),
                    };
                    finish(&r, result)
                }
            })
            .boxed()
    };
    let home = warp::get().and(warp::path("admin")).and(warp::path::end()).map(|| redirect("/admin/shops"));
    get(app, path0("login"), |a, r, ()| login_form(a, r))
        .or(login_post)
        .unify()
        .or(home)
        .unify()
        .or(post(app, path0("logout"), |a, r, (), f| logout(a, r, f)))
        .unify()
        .or(get(app, path0("shops"), |a, r, ()| shops(a, r)))
        .unify()
        .or(get(app, warp::path!("admin" / "shops" / i64).boxed(), shop))
        .unify()
        .or(post(app, warp::path!("admin" / "shops" / i64 / "suspend").boxed(), |a, r, id, f| {
            set_active(a, r, id, f, false)
        }))
        .unify()
        .or(post(app, warp::path!("admin" / "shops" / i64 / "reactivate").boxed(), |a, r, id, f| {
            set_active(a, r, id, f, true)
        }))
        .unify()
        .or(post(app, warp::path!("admin" / "shops" / i64 / "subscription").boxed(), save_subscription))
        .unify()
        .or(post(app, warp::path!("admin" / "shops" / i64 / "payments").boxed(), record_payment))
        .unify()
        .or(get(app, path0("plans"), |a, r, ()| plans(a, r)))
        .unify()
        .or(post(app, path0("plans"), |a, r, (), f| create_plan(a, r, f)))
        .unify()
        .or(post(app, warp::path!("admin" / "plans" / String).boxed(), update_plan))
        .unify()
        .or(get(app, path0("audit"), |a, r, ()| audit(a, r)))
        .unify()
        .or(super::admin_view::routes(app))
        .unify()
        .boxed()
}

/// Sets the admin cookie: HttpOnly, SameSite=Strict, only sent to /admin.
pub fn set_admin_cookie(r: &mut Response, value: &str, max_age: u64, secure: bool) {
    let mut c = format!("{ADMIN_COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

pub fn see_other_with_flash(r: &AdminReq, path: &str, key: &'static str) -> Response {
    let mut resp = redirect(path);
    cookies::set(&mut resp, cookies::FLASH_COOKIE, key, Some(60), r.req.secure_cookies());
    resp
}

/// Clears a flash message once shown.
pub fn shown(r: &AdminReq, mut resp: Response) -> Response {
    if r.req.flash.is_some() {
        cookies::clear(&mut resp, cookies::FLASH_COOKIE, r.req.secure_cookies());
    }
    resp
}

/// GET /admin/login
async fn login_form(_app: App, mut r: AdminReq) -> Result<Response, AppError> {
    let anon = r.req.ensure_anon();
    let mut resp = html(v::login(&r.login_page(), "", None));
    if let Some(a) = anon {
        cookies::set(&mut resp, ANON_COOKIE, &a, None, r.req.secure_cookies());
    }
    Ok(resp)
}

/// POST /admin/login: throttled like shop logins; a success sets the admin cookie.
async fn login(app: App, r: AdminReq, form: Form) -> Result<Response, AppError> {
    let l = r.locale();
    let failed = |message: String, status| {
        with_status(html(v::login(&r.login_page(), form.get("email"), Some(&message))), status)
    };
    let (Ok(email), Ok(password)) =
        (Email::try_from(form.get("email")), Password::offered(form.get("password")))
    else {
        return Ok(failed(t(l, "sa.login_failed").into(), StatusCode::UNAUTHORIZED));
    };
    let token = SessionToken::generate();
    let ttl = app.config.session_ttl;
    let mut conn = app.conn().await?;
    let tx = conn.anon_tx(&app.roles, Access::ReadWrite).await?;
    let outcome = dom::login(&tx, &email, &password, r.token.as_ref(), &token, ttl, &r.req.client).await?;
    tx.commit().await?;
    Ok(match outcome {
        AdminLoginOutcome::Ok => {
            let mut resp = redirect("/admin/shops");
            set_admin_cookie(&mut resp, token.expose(), ttl.as_secs(), r.req.secure_cookies());
            resp
        }
        AdminLoginOutcome::WrongCredentials => {
            failed(t(l, "sa.login_failed").into(), StatusCode::UNAUTHORIZED)
        }
        AdminLoginOutcome::Throttled { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60).max(1).to_string();
            failed(tf(l, "login.throttled", &[("minutes", &minutes)]), StatusCode::TOO_MANY_REQUESTS)
        }
    })
}

/// POST /admin/logout
async fn logout(app: App, r: AdminReq, _form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    if let (Ok((tx, _)), Some(token)) = (r.admin_tx(&mut conn, Access::ReadWrite).await, &r.token) {
        dom::logout(&tx, token).await?;
        tx.commit().await?;
    }
    let mut resp = redirect("/admin/login");
    set_admin_cookie(&mut resp, "", 0, r.req.secure_cookies());
    Ok(resp)
}

fn page_number(form: &Form) -> i64 {
    form.get("page").parse::<i64>().ok().filter(|p| (1..=100_000).contains(p)).unwrap_or(1)
}

/// GET /admin/shops?q=&page=
async fn shops(app: App, r: AdminReq) -> Result<Response, AppError> {
    let q = r.req.query_form();
    let page = page_number(&q);
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadOnly).await?;
    let (list, more) = dom::shops(&tx, q.get("q"), page).await?;
    tx.commit().await?;
    Ok(shown(&r, html(v::shops(&r.page(Some(&admin)), q.get("q"), &list, page, more))))
}

/// GET /admin/shops/{id}
async fn shop(app: App, r: AdminReq, id: i64) -> Result<Response, AppError> {
    shop_page(&app, &r, id, v::ShopForms::default(), StatusCode::OK).await
}

async fn shop_page(
    app: &App,
    r: &AdminReq,
    id: i64,
    forms: v::ShopForms<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadOnly).await?;
    let shop = dom::shop(&tx, id).await?.ok_or(AppError::NotFound)?;
    let detail = v::ShopDetail {
        members: dom::members(&tx, id).await?,
        subscription: dom::subscription(&tx, id).await?,
        payments: dom::payments(&tx, id).await?,
        plans: dom::plans(&tx).await?,
        audit: dom::audit(&tx, Some(id), 1).await?.0,
        shop,
    };
    tx.commit().await?;
    let today = chrono::Utc::now().date_naive();
    Ok(with_status(shown(r, html(v::shop(&r.page(Some(&admin)), &detail, &forms, today))), status))
}

/// POST /admin/shops/{id}/suspend and /reactivate
async fn set_active(app: App, r: AdminReq, id: i64, _form: Form, active: bool) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    if !dom::set_active(&tx, id, active).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(see_other_with_flash(&r, &format!("/admin/shops/{id}"), "flash.saved"))
}

/// POST /admin/shops/{id}/subscription
async fn save_subscription(app: App, r: AdminReq, id: i64, form: Form) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, _) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    let plans = dom::plans(&tx).await?;
    let parsed = dom::parse_subscription(
        form.get("plan"),
        form.get("status"),
        form.get("trial_ends_on"),
        form.get("renews_on"),
        &plans,
    );
    match parsed {
        Ok(input) => {
            if !dom::save_subscription(&tx, id, &input).await? {
                return Err(AppError::NotFound);
            }
            tx.commit().await?;
            Ok(see_other_with_flash(&r, &format!("/admin/shops/{id}"), "flash.saved"))
        }
        Err(errors) => {
            drop(tx);
            drop(conn);
            let forms = v::ShopForms { subscription: Some((&form, errors)), ..Default::default() };
            shop_page(&app, &r, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// POST /admin/shops/{id}/payments
async fn record_payment(app: App, r: AdminReq, id: i64, form: Form) -> Result<Response, AppError> {
    let today = chrono::Utc::now().date_naive();
    let parsed = dom::parse_payment(
        form.get("amount"),
        form.get("paid_on"),
        form.get("method"),
        form.get("reference"),
        r.locale(),
        today,
    );
    let input = match parsed {
        Ok(input) => input,
        Err(errors) => {
            let forms = v::ShopForms { payment: Some((&form, errors)), ..Default::default() };
            return shop_page(&app, &r, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    dom::shop(&tx, id).await?.ok_or(AppError::NotFound)?;
    dom::record_payment(&tx, id, admin.admin_id, &input).await?;
    tx.commit().await?;
    Ok(see_other_with_flash(&r, &format!("/admin/shops/{id}"), "flash.saved"))
}

/// GET /admin/plans
async fn plans(app: App, r: AdminReq) -> Result<Response, AppError> {
    plans_page(&app, &r, v::PlanForm::default(), StatusCode::OK).await
}

async fn plans_page(
    app: &App,
    r: &AdminReq,
    form: v::PlanForm<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadOnly).await?;
    let list = dom::plans(&tx).await?;
    tx.commit().await?;
    Ok(with_status(shown(r, html(v::plans(&r.page(Some(&admin)), &list, &form))), status))
}

fn parse_plan_form(r: &AdminReq, form: &Form, code: &str) -> Result<dom::PlanInput, dom::PlanErrors> {
    dom::parse_plan(
        code,
        form.get("name"),
        form.get("max_members"),
        form.get("max_products"),
        form.get("max_monthly_sales"),
        form.get("monthly_price"),
        r.locale(),
    )
}

/// POST /admin/plans: a new plan.
async fn create_plan(app: App, r: AdminReq, form: Form) -> Result<Response, AppError> {
    let input = match parse_plan_form(&r, &form, form.get("code")) {
        Ok(i) => i,
        Err(errors) => {
            let f = v::PlanForm { editing: None, form: Some(&form), errors };
            return plans_page(&app, &r, f, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let mut conn = app.conn().await?;
    let (tx, _) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    if dom::create_plan(&tx, &input).await?.is_err() {
        drop(tx);
        drop(conn);
        let errors = dom::PlanErrors { code: Some("sa.error_plan_taken"), ..Default::default() };
        let f = v::PlanForm { editing: None, form: Some(&form), errors };
        return plans_page(&app, &r, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    tx.commit().await?;
    Ok(see_other_with_flash(&r, "/admin/plans", "flash.saved"))
}

/// POST /admin/plans/{code}: new name, limits and price.
async fn update_plan(app: App, r: AdminReq, code: String, form: Form) -> Result<Response, AppError> {
    let code = dom::plan_code(&code).map_err(|_| AppError::NotFound)?;
    let input = match parse_plan_form(&r, &form, &code) {
        Ok(i) => i,
        Err(errors) => {
            let f = v::PlanForm { editing: Some(code.as_str()), form: Some(&form), errors };
            return plans_page(&app, &r, f, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let mut conn = app.conn().await?;
    let (tx, _) = r.admin_tx(&mut conn, Access::ReadWrite).await?;
    if !dom::update_plan(&tx, &code, &input).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(see_other_with_flash(&r, "/admin/plans", "flash.saved"))
}

/// GET /admin/audit?shop=&page=
async fn audit(app: App, r: AdminReq) -> Result<Response, AppError> {
    let q = r.req.query_form();
    let page = page_number(&q);
    let shop = q.get("shop").trim().parse::<i64>().ok();
    let mut conn = app.conn().await?;
    let (tx, admin) = r.admin_tx(&mut conn, Access::ReadOnly).await?;
    let (list, more) = dom::audit(&tx, shop, page).await?;
    tx.commit().await?;
    Ok(html(v::audit(&r.page(Some(&admin)), &list, shop, page, more)))
}
