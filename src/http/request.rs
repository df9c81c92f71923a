//! What a handler knows about its request before touching the database: language, session and
//! anonymous cookies, client address; plus form parsing and the CSRF check.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use rand::RngCore;
use warp::Filter;

use super::cookies::{self, ANON_COOKIE, FLASH_COOKIE, LANG_COOKIE};
use super::{csrf, App};
use crate::db::tx::{Access, Conn, SessionCtx, ShopStatement, ThenRows, Tx};
use crate::domain::auth::{ClientInfo, SessionToken};
use crate::domain::member::Permission;
use crate::error::AppError;
use crate::i18n::Locale;

#[derive(Clone, Debug)]
pub struct Req {
    pub locale: Locale,
    /// The person chose this language with the switcher.
    pub chosen_locale: Option<Locale>,
    pub session: Option<SessionToken>,
    pub anon: Option<String>,
    pub client: ClientInfo,
    pub flash: Option<&'static str>,
    /// The raw query string ("" when none).
    pub query: String,
    secret: String,
    secure_cookies: bool,
    /// Who asked, for the request's log line (shared by the clones of this `Req`).
    log: Arc<Mutex<LogCtx>>,
}

/// The person and shop a request ran as, once its session resolved: ids and the shop's slug
/// only, never the cookie or anything the person typed.
#[derive(Clone, Debug, Default)]
pub struct LogCtx {
    pub user_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub shop: Option<String>,
}

/// Flash messages travel as a key from this list, never as user text.
const FLASH_KEYS: &[&str] = &[
    "flash.logged_out",
    "flash.welcome",
    "flash.switched",
    "flash.saved",
    "flash.deleted",
    "flash.stock_adjusted",
    "flash.stocktake_posted",
    "flash.missing_noted",
    "flash.imported",
    "flash.sale_recorded",
    "flash.sale_voided",
    "flash.return_recorded",
    "flash.invitation_sent",
    "flash.invitation_not_sent",
    "flash.invitation_revoked",
    "flash.invitation_accepted",
    "flash.password_changed",
    "flash.password_reset",
    "flash.role_changed",
    "flash.member_removed",
    "flash.ownership_handed_over",
    "flash.money_recorded",
    "flash.money_reversed",
];

/// Extracts a `Req` from the request headers.
pub fn req(app: App) -> impl Filter<Extract = (Req,), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("cookie")
        .and(warp::header::optional::<String>("accept-language"))
        .and(warp::header::optional::<String>("user-agent"))
        .and(warp::addr::remote())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .map(
            move |cookie: Option<String>,
                  accept: Option<String>,
                  ua: Option<String>,
                  addr: Option<SocketAddr>,
                  query: String| {
                let c = cookie.as_deref();
                let chosen_locale = cookies::get(c, LANG_COOKIE).and_then(Locale::parse);
                let locale = chosen_locale
                    .or_else(|| accept.as_deref().and_then(Locale::from_accept_language))
                    .unwrap_or(Locale::Es);
                Req {
                    locale,
                    chosen_locale,
                    session: cookies::get(c, &app.config.cookie_name).and_then(SessionToken::from_cookie),
                    anon: cookies::get(c, ANON_COOKIE)
                        .filter(|v| {
                            v.len() == 22
                                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                        })
                        .map(str::to_string),
                    client: ClientInfo {
                        ip: addr.map(|a| a.ip()),
                        user_agent: ua.map(|u| u.chars().take(300).collect()),
                    },
                    flash: cookies::get(c, FLASH_COOKIE)
                        .and_then(|k| FLASH_KEYS.iter().copied().find(|f| *f == k)),
                    query,
                    secret: app.config.secret_key.expose().to_string(),
                    secure_cookies: app.config.cookie_secure,
                    log: Arc::default(),
                }
            },
        )
}

impl Req {
    /// A context for errors raised before any header was read.
    pub fn fallback(locale: Locale) -> Req {
        Req {
            locale,
            chosen_locale: None,
            session: None,
            anon: None,
            client: ClientInfo::default(),
            flash: None,
            query: String::new(),
            secret: String::new(),
            secure_cookies: false,
            log: Arc::default(),
        }
    }

    /// Who this request ran as so far (for the log line).
    pub fn log_ctx(&self) -> LogCtx {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The query string as a form (for GET filters).
    pub fn query_form(&self) -> Form {
        Form::parse(self.query.as_bytes()).unwrap_or_default()
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// Opens the request transaction of a signed-in person, or asks them to sign in.
    pub async fn signed_in<'c>(
        &self,
        conn: &'c mut Conn,
        access: Access,
    ) -> Result<(Tx<'c>, SessionCtx), AppError> {
        let token = self.session.as_ref().ok_or(AppError::SignInRequired)?;
        let (tx, ctx) = conn.tenant_tx(&token.hash(), access).await?.ok_or(AppError::SignInRequired)?;
        self.log_session(&ctx);
        Ok((tx, ctx))
    }

    /// `signed_in`, with `then` (a statement of the shop the caller expects) sent in the same
    /// flush; see `Conn::tenant_tx_then` for when its rows may be used.
    pub async fn signed_in_then<'c>(
        &self,
        conn: &'c mut Conn,
        access: Access,
        token_hash: &[u8],
        then: &ShopStatement<'_>,
    ) -> Result<(Tx<'c>, SessionCtx, ThenRows), AppError> {
        let (tx, ctx, rows) =
            conn.tenant_tx_then(token_hash, access, then).await?.ok_or(AppError::SignInRequired)?;
        self.log_session(&ctx);
        Ok((tx, ctx, rows))
    }

    /// The session's token hash (`None`: signed out).
    pub fn session_hash(&self) -> Option<Vec<u8>> {
        self.session.as_ref().map(|t| t.hash())
    }

    fn log_session(&self, ctx: &SessionCtx) {
        if let Ok(mut log) = self.log.lock() {
            log.user_id = Some(ctx.user_id);
            log.tenant_id = ctx.shop.as_ref().map(|s| s.tenant_id);
            log.shop = ctx.shop.as_ref().map(|s| s.slug.clone());
        }
    }

    /// A signed-in request in an active shop whose role has `need` (403 otherwise; the database
    /// enforces the same rule again).
    pub async fn shop_tx<'c>(
        &self,
        conn: &'c mut Conn,
        access: Access,
        need: Permission,
    ) -> Result<(Tx<'c>, SessionCtx), AppError> {
        let (tx, ctx) = self.signed_in(conn, access).await?;
        match &ctx.shop {
            Some(s) if s.active && s.role.can(need) => Ok((tx, ctx)),
            Some(s) if s.active => Err(AppError::Forbidden),
            _ => Err(AppError::NoShop),
        }
    }

    /// The language for a signed-in person: their choice in this browser, their account, then the browser.
    pub fn locale_for(&self, ctx: &SessionCtx) -> Locale {
        // the person's choice in this browser, then their account's, then the shop's setting,
        // then the browser's Accept-Language
        self.chosen_locale
            .or_else(|| ctx.user_locale.as_deref().and_then(Locale::parse))
            .or_else(|| ctx.shop.as_ref().and_then(|s| Locale::parse(&s.locale)))
            .unwrap_or(self.locale)
    }

    /// The CSRF token to embed in this page's forms (empty when the page sets a fresh anon cookie).
    pub fn csrf_token(&self) -> String {
        match (&self.session, &self.anon) {
            (Some(s), _) => csrf::token(&self.secret, "session", s.expose()),
            (None, Some(a)) => csrf::token(&self.secret, "anon", a),
            (None, None) => String::new(),
        }
    }

    /// Checks the form's token against the session cookie or the anonymous cookie.
    pub fn check_csrf(&self, form: &Form) -> Result<(), AppError> {
        let submitted = form.get("csrf");
        let by_session = self
            .session
            .as_ref()
            .is_some_and(|s| csrf::verify(&self.secret, "session", s.expose(), submitted));
        let by_anon = self.anon.as_ref().is_some_and(|a| csrf::verify(&self.secret, "anon", a, submitted));
        if by_session || by_anon {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    /// For signed-out pages: a request without the anonymous cookie gets one, so its forms carry a
    /// token. Returns the cookie to set, and updates this request to use it.
    pub fn ensure_anon(&mut self) -> Option<String> {
        if self.anon.is_some() {
            return None;
        }
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let v = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        self.anon = Some(v.clone());
        Some(v)
    }
}

/// A parsed `application/x-www-form-urlencoded` body.
#[derive(Clone, Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Form, AppError> {
        if std::str::from_utf8(body).is_err() {
            return Err(AppError::BadRequest("error.bad_form"));
        }
        Ok(Form(url::form_urlencoded::parse(body).into_owned().collect()))
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of a field, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// A form body: bounded in size, parsed by hand so a malformed body gets our own 400 page.
pub fn form_body() -> impl Filter<Extract = (bytes::Bytes,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(super::FORM_LIMIT).and(warp::body::bytes())
}

/// A file sent in a multipart form.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A `multipart/form-data` body: its text fields (CSRF token included) and its files.
#[derive(Clone, Debug, Default)]
pub struct Upload {
    pub form: Form,
    pub files: Vec<UploadedFile>,
}

impl Upload {
    pub fn file(&self, field: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == field && !f.bytes.is_empty())
    }
}

/// Reads a multipart body of at most `limit` bytes in all.
pub fn multipart_body(
    limit: u64,
) -> impl Filter<Extract = (Result<Upload, AppError>,), Error = warp::Rejection> + Clone {
    warp::multipart::form().max_length(limit).then(|mut data: warp::multipart::FormData| async move {
        use futures_util::StreamExt;
        use warp::Buf;
        let mut upload = Upload::default();
        while let Some(part) = data.next().await {
            let part = part.map_err(|_| AppError::TooLarge)?;
            let field = part.name().to_string();
            let filename = part.filename().map(str::to_string);
            let content_type = part.content_type().map(str::to_string);
            let mut bytes = Vec::new();
            let mut stream = Box::pin(part.stream());
            while let Some(chunk) = stream.next().await {
                let mut chunk = chunk.map_err(|_| AppError::TooLarge)?;
                while chunk.has_remaining() {
                    let c = chunk.chunk();
                    bytes.extend_from_slice(c);
                    let n = c.len();
                    chunk.advance(n);
                }
            }
            match filename {
                Some(filename) => upload.files.push(UploadedFile { field, filename, content_type, bytes }),
                None => {
                    let value =
                        String::from_utf8(bytes).map_err(|_| AppError::BadRequest("error.bad_form"))?;
                    upload.form.0.push((field, value));
                }
            }
        }
        Ok(upload)
    })
}
