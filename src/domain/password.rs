//! Password reset by e-mail and password change. A reset link carries 32 random bytes; only their
//! SHA-256 is stored, for one hour, usable once; using it ends every session of the account. A
//! change needs the current password and ends the person's other sessions. argon2 runs on the
//! blocking pool (`auth::hash_password` / `auth::verify_password`).

use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::auth::{hash_password, verify_password, ClientInfo, Email, Password, SessionToken};
use crate::db::tx::Tx;
use crate::error::AppError;
use crate::i18n::Locale;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(3600);

/// The secret in a reset link. Only its SHA-256 reaches the database.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetToken(String);

impl std::fmt::Debug for ResetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetToken(***)")
    }
}

impl ResetToken {
    pub fn generate() -> ResetToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        ResetToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A value from a link that has the shape of a token (anything else is no token at all).
    pub fn parse(raw: &str) -> Option<ResetToken> {
        let ok = raw.len() == 43 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| ResetToken(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

/// What a reset request leads to. The person asking is told the same in both non-throttled cases.
#[derive(Debug)]
pub enum ResetRequest {
    Throttled {
        retry_after: Duration,
    },
    /// An account has this e-mail: write to it in its language (when it chose one).
    Send {
        display_name: String,
        locale: Option<Locale>,
    },
    NoAccount,
}

/// Records the request (throttled per e-mail and per client address) and, when the e-mail has an
/// account, a one-hour token for it.
pub async fn request_reset(
    tx: &Tx<'_>,
    email: &Email,
    token: &ResetToken,
    client: &ClientInfo,
) -> Result<ResetRequest, AppError> {
    let r = tx
        .query_one(
            "select retry_after_seconds, user_id, display_name, locale
               from app_private.request_password_reset($1, $2, $3, make_interval(secs => $4))",
            &[&email.as_str(), &client.ip, &token.hash(), &RESET_TTL.as_secs_f64()],
        )
        .await?;
    let retry: i32 = r.get(0);
    if retry > 0 {
        return Ok(ResetRequest::Throttled { retry_after: Duration::from_secs(retry as u64) });
    }
    Ok(match r.get::<_, Option<i64>>(1) {
        Some(_) => ResetRequest::Send {
            display_name: r.get(2),
            locale: r.get::<_, Option<String>>(3).as_deref().and_then(Locale::parse),
        },
        None => ResetRequest::NoAccount,
    })
}

/// The e-mail a usable reset link is for; `None` when unknown, used or expired.
pub async fn reset_target(tx: &Tx<'_>, token: &ResetToken) -> Result<Option<String>, AppError> {
    Ok(tx.query_one("select app_private.password_reset_for($1)", &[&token.hash()]).await?.get(0))
}

/// Sets the new password through a reset link: false when the link is not usable (nothing changed).
pub async fn reset(tx: &Tx<'_>, token: &ResetToken, new: &Password) -> Result<bool, AppError> {
    if reset_target(tx, token).await?.is_none() {
        return Ok(false);
    }
    let hash = hash_password(new).await?;
    let user: Option<i64> =
        tx.query_one("select app_private.reset_password($1, $2)", &[&token.hash(), &hash]).await?.get(0);
    Ok(user.is_some())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed,
    WrongCurrent,
}

/// Changes the signed-in person's password after checking the current one; their other sessions end.
pub async fn change(
    tx: &Tx<'_>,
    session: &SessionToken,
    current: &Password,
    new: &Password,
) -> Result<ChangeOutcome, AppError> {
    let stored: Option<String> =
        tx.query_one("select app_private.session_password_hash($1)", &[&session.hash()]).await?.get(0);
    let Some(stored) = stored else {
        return Err(AppError::SignInRequired);
    };
    if !verify_password(current, Some(stored.clone())).await? {
        return Ok(ChangeOutcome::WrongCurrent);
    }
    let hash = hash_password(new).await?;
    let changed: bool = tx
        .query_one("select app_private.change_password($1, $2, $3)", &[&session.hash(), &stored, &hash])
        .await?
        .get(0);
    // a concurrent change in between: the password checked is no longer the current one
    Ok(if changed { ChangeOutcome::Changed } else { ChangeOutcome::WrongCurrent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_tokens_are_random_shaped_and_hidden() {
        let a = ResetToken::generate();
        assert_ne!(a, ResetToken::generate());
        assert_eq!(ResetToken::parse(a.expose()), Some(a.clone()));
        assert!(ResetToken::parse("short").is_none());
        assert!(ResetToken::parse(&"%".repeat(43)).is_none());
        assert_eq!(a.hash().len(), 32);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
