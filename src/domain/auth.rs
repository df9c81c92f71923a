//! Accounts and sessions: e-mail and password types, argon2id hashing off the async workers,
//! sign-up (user + shop + owner membership + session in one transaction) and throttled login.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::shop::TenantSlug;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};

#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl TryFrom<&str> for Email {
    type Error = &'static str;
    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("error.required");
        }
        if s.len() > 254 {
            return Err("error.too_long");
        }
        let mut parts = s.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(l), Some(d), None) => (l, d),
            _ => return Err("error.email_invalid"),
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("error.email_invalid");
        }
        Ok(Email(s))
    }
}

/// A password as typed; never printed.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// A new password: 8 to 200 characters.
    pub fn new_password(raw: &str) -> Result<Password, &'static str> {
        match raw.chars().count() {
            0 => Err("error.required"),
            1..=7 => Err("error.password_short"),
            8..=200 => Ok(Password(raw.to_string())),
            _ => Err("error.password_long"),
        }
    }

    /// A password offered at login: anything non-empty up to the length limit.
    pub fn offered(raw: &str) -> Result<Password, &'static str> {
        match raw.chars().count() {
            0 => Err("error.required"),
            1..=200 => Ok(Password(raw.to_string())),
            _ => Err("error.password_long"),
        }
    }
}

/// Hashes with argon2id on the blocking pool, so password work never stalls the async workers.
pub async fn hash_password(pw: &Password) -> Result<String, AppError> {
    let pw = pw.0.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
}

/// Verifies on the blocking pool. With no stored hash it verifies against a fixed dummy, so an
/// unknown address costs the same time as a wrong password.
pub async fn verify_password(pw: &Password, stored: Option<String>) -> Result<bool, AppError> {
    let pw = pw.0.clone();
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && known
    })
    .await
    .map_err(|e| AppError::Internal(format!("verify task: {e}")))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not-a-real-password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// The random value in the session cookie. Only its SHA-256 reaches the database.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

impl SessionToken {
    pub fn generate() -> SessionToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A cookie value that has the shape of a token (anything else is ignored).
    pub fn from_cookie(value: &str) -> Option<SessionToken> {
        let ok =
            value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionToken(value.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

/// Where a request came from, for throttling and the session record.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

pub struct SignUp {
    pub shop_name: Name,
    pub display_name: Name,
    pub email: Email,
    pub password: Password,
    pub locale: &'static str,
}

#[derive(Debug)]
pub enum SignUpError {
    EmailTaken,
    Other(AppError),
}

/// Creates the user, the shop (schema, tables, policies), the owner membership and the session in
/// the caller's transaction: if any step fails, the rollback leaves nothing behind.
pub async fn sign_up(
    tx: &Tx<'_>,
    form: &SignUp,
    token: &SessionToken,
    ttl: Duration,
    client: &ClientInfo,
) -> Result<i64, SignUpError> {
    let hash = hash_password(&form.password).await.map_err(SignUpError::Other)?;
    let ttl_secs = ttl.as_secs_f64();
    let r = tx
        .query_one(
            "select app_private.sign_up($1, $2, $3, $4, $5, $6, $7, make_interval(secs => $8), $9, $10)",
            &[
                &form.shop_name.as_str(),
                &TenantSlug::base_from_name(form.shop_name.as_str()),
                &form.email.as_str(),
                &form.display_name.as_str(),
                &hash,
                &form.locale,
                &token.hash(),
                &ttl_secs,
                &client.ip,
                &client.user_agent,
            ],
        )
        .await;
    match r {
        Ok(row) => Ok(row.get(0)),
        Err(e) if violated_constraint(&e) == Some("users_email_key") => Err(SignUpError::EmailTaken),
        Err(e) => Err(SignUpError::Other(e.into())),
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in; the shop the session starts in, if the person has one.
    Ok(Option<i64>),
    WrongCredentials,
    Throttled {
        retry_after: Duration,
    },
}

/// Checks the throttle first (per address and per client IP), then the password; records a
/// failure or opens a fresh session (dropping the one the old cookie named).
pub async fn login(
    tx: &Tx<'_>,
    email: &Email,
    password: &Password,
    old: Option<&SessionToken>,
    new: &SessionToken,
    ttl: Duration,
    client: &ClientInfo,
) -> Result<LoginOutcome, AppError> {
    let row = tx
        .query_one(
            "select user_id, password_hash, retry_after_seconds from app_private.begin_login($1, $2)",
            &[&email.as_str(), &client.ip],
        )
        .await?;
    let retry: i32 = row.get(2);
    if retry > 0 {
        return Ok(LoginOutcome::Throttled { retry_after: Duration::from_secs(retry as u64) });
    }
    let user_id: Option<i64> = row.get(0);
    let ok = verify_password(password, row.get(1)).await?;
    let tenant: Option<i64> = tx
        .query_one(
            "select app_private.finish_login($1, $2, $3, $4, $5, $6, make_interval(secs => $7), $8)",
            &[
                &email.as_str(),
                &client.ip,
                &user_id,
                &ok,
                &old.map(SessionToken::hash),
                &new.hash(),
                &ttl.as_secs_f64(),
                &client.user_agent,
            ],
        )
        .await?
        .get(0);
    Ok(if ok { LoginOutcome::Ok(tenant) } else { LoginOutcome::WrongCredentials })
}

pub async fn logout(tx: &Tx<'_>, token: &SessionToken) -> Result<(), AppError> {
    tx.execute("select app_private.end_session($1)", &[&token.hash()]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::try_from("  Ana@Example.COM ").map(|e| e.0), Ok("ana@example.com".into()));
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "a@b@c.com", "ana@x..com"] {
            assert!(Email::try_from(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::try_from(format!("{}@x.com", "a".repeat(260)).as_str()), Err("error.too_long"));
    }

    #[test]
    fn passwords_have_bounds_and_hide_in_debug() {
        assert_eq!(Password::new_password("short").err(), Some("error.password_short"));
        assert!(Password::new_password("long enough").is_ok());
        assert_eq!(Password::new_password(&"x".repeat(201)).err(), Some("error.password_long"));
        let p = Password::new_password("hunter2hunter2").expect("valid");
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn tokens_are_random_and_shaped() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert!(SessionToken::from_cookie(a.expose()).is_some());
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"x".repeat(42).replace('x', "%")).is_none());
        assert_eq!(a.hash().len(), 32);
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_pass() {
        let p = Password::new_password("correct horse").expect("valid");
        let h = hash_password(&p).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&p, Some(h.clone())).await.expect("verify"));
        let wrong = Password::offered("wrong horse").expect("valid");
        assert!(!verify_password(&wrong, Some(h)).await.expect("verify"));
        assert!(!verify_password(&p, None).await.expect("verify"));
    }
}
