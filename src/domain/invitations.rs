//! Invitations: the owner invites a person by e-mail as admin or staff; the link is a signed token
//! (HS256, key derived from STOCK_SECRET_KEY) naming the invitation, the shop, the e-mail, a random
//! nonce and an expiry. The database keeps only the nonce's SHA-256: a resend replaces it (the old
//! link dies), accepting or revoking closes the invitation, so a link works once.

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::auth::{ClientInfo, Email, SessionToken};
use super::member::Role;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

/// How long a link is valid; the database applies the same rule to `expires_at`.
pub const VALID_DAYS: i64 = 7;

/// The role an invitation may carry: admin or staff. An owner is never invited.
pub fn invite_role(raw: &str) -> Result<Role, &'static str> {
    match raw {
        "admin" => Ok(Role::Admin),
        "staff" => Ok(Role::Staff),
        "" => Err("error.required"),
        _ => Err("error.invite_role"),
    }
}

/// The random part of a link; only its SHA-256 is stored.
pub struct Nonce(String);

impl Nonce {
    pub fn generate() -> Nonce {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Nonce(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The invitation's id.
    pub jti: String,
    /// The shop's id.
    pub shop: i64,
    pub email: String,
    pub nonce: String,
    pub iat: i64,
    pub exp: i64,
}

/// What a verified link names.
#[derive(Clone, Debug)]
pub struct Link {
    pub id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub nonce_hash: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not a token we signed, or altered.
    Invalid,
    Expired,
}

/// A key of its own, derived from the secret key, so an invitation token can never pass for any
/// other value the service signs (CSRF tokens use the key through HMAC with their own purpose).
fn signing_key(secret: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"stock/invitation-token/v1\0");
    h.update(secret.as_bytes());
    h.finalize().to_vec()
}

/// Signs a link for invitation `id` of shop `tenant_id`, expiring at `expires_at`.
pub fn issue(
    secret: &str,
    id: i64,
    tenant_id: i64,
    email: &str,
    nonce: &Nonce,
    expires_at: DateTime<Utc>,
) -> Result<String, AppError> {
    let claims = Claims {
        jti: id.to_string(),
        shop: tenant_id,
        email: email.to_string(),
        nonce: nonce.0.clone(),
        iat: Utc::now().timestamp(),
        exp: expires_at.timestamp(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&signing_key(secret)),
    )
    .map_err(|e| AppError::Internal(format!("signing an invitation: {e}")))
}

/// Checks the signature (HS256 only) and the expiry, with no leeway.
pub fn verify(secret: &str, token: &str) -> Result<Link, LinkError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "jti"]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&signing_key(secret)), &v)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => LinkError::Expired,
            _ => LinkError::Invalid,
        })?;
    let c = data.claims;
    let id = c.jti.parse::<i64>().map_err(|_| LinkError::Invalid)?;
    Ok(Link { id, tenant_id: c.shop, email: c.email, nonce_hash: Nonce(c.nonce).hash() })
}

/// An open invitation as the owner sees it.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub send_count: i32,
}

impl Invitation {
    pub fn expired(&self) -> bool {
        self.expires_at <= Utc::now()
    }
}

const SELECT_OPEN: &str = "\
select i.id, i.email, i.role, u.display_name, i.created_at, i.expires_at, i.last_sent_at, i.send_count
  from app.invitations i left join app.users u on u.id = i.invited_by
 where i.tenant_id = app.current_tenant_id() and i.accepted_at is null and i.revoked_at is null";

fn from_row(r: &tokio_postgres::Row) -> Result<Invitation, AppError> {
    let role: String = r.get(2);
    Ok(Invitation {
        id: r.get(0),
        email: r.get(1),
        role: Role::try_from(role.as_str()).map_err(|e| AppError::Internal(e.to_string()))?,
        invited_by: r.get(3),
        created_at: r.get(4),
        expires_at: r.get(5),
        last_sent_at: r.get(6),
        send_count: r.get(7),
    })
}

/// The shop's open invitations (pending or expired), newest first.
pub async fn list_open(tx: &Tx<'_>) -> Result<Vec<Invitation>, AppError> {
    let rows =
        tx.query(&format!("{SELECT_OPEN} order by i.created_at desc, i.id desc limit 500"), &[]).await?;
    rows.iter().map(from_row).collect()
}

pub async fn open_by_id(tx: &Tx<'_>, id: i64) -> Result<Option<Invitation>, AppError> {
    let row = tx.query_opt(&format!("{SELECT_OPEN} and i.id = $1"), &[&id]).await?;
    row.as_ref().map(from_row).transpose()
}

#[derive(Debug)]
pub enum InviteError {
    AlreadyMember,
    AlreadyInvited,
    Other(AppError),
}

impl From<AppError> for InviteError {
    fn from(e: AppError) -> Self {
        InviteError::Other(e)
    }
}

/// Records an invitation of the shop in context, by the signed-in owner. Refuses a person who is
/// already a member, and a second open invitation for the same e-mail.
pub async fn create(
    tx: &Tx<'_>,
    email: &Email,
    role: Role,
    nonce: &Nonce,
) -> Result<Invitation, InviteError> {
    let member: bool = tx
        .query_one(
            "select exists (select 1 from app.memberships m join app.users u on u.id = m.user_id
                             where m.tenant_id = app.current_tenant_id() and u.email = $1)",
            &[&email.as_str()],
        )
        .await
        .map_err(AppError::from)?
        .get(0);
    if member {
        return Err(InviteError::AlreadyMember);
    }
    let r = tx
        .query_one(
            "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
             values (app.current_tenant_id(), $1, $2, app.current_user_id(), $3) returning id",
            &[&email.as_str(), &role.as_str(), &nonce.hash()],
        )
        .await;
    let id: i64 = match r {
        Ok(row) => row.get(0),
        Err(e) if violated_constraint(&e) == Some("invitations_one_open_key") => {
            return Err(InviteError::AlreadyInvited)
        }
        Err(e) => return Err(InviteError::Other(e.into())),
    };
    open_by_id(tx, id).await?.ok_or(InviteError::Other(AppError::NotFound))
}

/// A new link for an open invitation (the previous one stops working); `None` when the
/// invitation is not open in this shop.
pub async fn renew(tx: &Tx<'_>, id: i64, nonce: &Nonce) -> Result<Option<Invitation>, AppError> {
    let n = tx
        .execute(
            "update app.invitations set nonce_hash = $2
              where id = $1 and accepted_at is null and revoked_at is null",
            &[&id, &nonce.hash()],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    open_by_id(tx, id).await
}

/// Closes an open invitation; false when there was none to close.
pub async fn revoke(tx: &Tx<'_>, id: i64) -> Result<bool, AppError> {
    let n = tx
        .execute(
            "update app.invitations set revoked_at = now()
              where id = $1 and accepted_at is null and revoked_at is null",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}

/// Records a successful hand-over to the mail server.
pub async fn mark_sent(tx: &Tx<'_>, id: i64) -> Result<(), AppError> {
    tx.execute(
        "update app.invitations set last_sent_at = now(), send_count = send_count + 1
          where id = $1 and accepted_at is null and revoked_at is null",
        &[&id],
    )
    .await?;
    Ok(())
}

/// The language of the shop in context (its e-mails are written in it).
pub async fn shop_locale(tx: &Tx<'_>) -> Result<Locale, AppError> {
    let code: String = tx.query_one("select locale from settings", &[]).await?.get(0);
    Ok(Locale::parse(&code).unwrap_or(Locale::Es))
}

/// Where a link stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Pending,
    Expired,
    Accepted,
    Revoked,
    /// An older link of an invitation that was sent again.
    Replaced,
    /// Unknown invitation, or one that does not match the link's shop and e-mail.
    Invalid,
}

impl LinkState {
    fn parse(s: &str) -> LinkState {
        match s {
            "pending" => LinkState::Pending,
            "expired" => LinkState::Expired,
            "accepted" => LinkState::Accepted,
            "revoked" => LinkState::Revoked,
            "replaced" => LinkState::Replaced,
            _ => LinkState::Invalid,
        }
    }
}

/// What the accept page shows.
#[derive(Clone, Debug)]
pub struct Preview {
    pub state: LinkState,
    pub shop_name: String,
    pub email: String,
    pub role: Option<Role>,
    pub account_exists: bool,
    pub shop_locale: Option<Locale>,
}

pub async fn preview(tx: &Tx<'_>, link: &Link) -> Result<Preview, AppError> {
    let row = tx
        .query_opt(
            "select status, shop_name, email, role, account_exists, shop_locale
               from app_private.invitation_preview($1, $2, $3, $4)",
            &[&link.id, &link.tenant_id, &link.email, &link.nonce_hash],
        )
        .await?;
    let Some(r) = row else {
        return Ok(Preview {
            state: LinkState::Invalid,
            shop_name: String::new(),
            email: String::new(),
            role: None,
            account_exists: false,
            shop_locale: None,
        });
    };
    let status: String = r.get(0);
    Ok(Preview {
        state: LinkState::parse(&status),
        shop_name: r.get::<_, Option<String>>(1).unwrap_or_default(),
        email: r.get::<_, Option<String>>(2).unwrap_or_default(),
        role: r.get::<_, Option<String>>(3).and_then(|s| Role::try_from(s.as_str()).ok()),
        account_exists: r.get::<_, Option<bool>>(4).unwrap_or(false),
        shop_locale: r.get::<_, Option<String>>(5).as_deref().and_then(Locale::parse),
    })
}

#[derive(Debug)]
pub enum AcceptError {
    /// The link can no longer be used (the state says why).
    Closed(LinkState),
    /// The invited e-mail has an account, and the session is not that account's.
    WrongAccount,
    /// The invited e-mail got an account since the page was shown.
    AccountExists,
    Other(AppError),
}

fn accept_error(e: tokio_postgres::Error) -> AcceptError {
    if violated_constraint(&e) == Some("users_email_key") {
        return AcceptError::AccountExists;
    }
    let hint =
        e.as_db_error().filter(|d| matches!(d.code().code(), "P0001" | "P0002")).and_then(|d| d.hint());
    match hint {
        Some("wrong_account") => AcceptError::WrongAccount,
        Some("invalid") => AcceptError::Closed(LinkState::Invalid),
        Some(s) => AcceptError::Closed(LinkState::parse(s)),
        None => AcceptError::Other(e.into()),
    }
}

/// The new person's account details.
pub struct NewAccount {
    pub display_name: Name,
    pub password_hash: String,
    pub locale: &'static str,
}

/// Accepts as a new person: account, membership and a first session, atomically. Returns the shop.
pub async fn accept_as_new(
    tx: &Tx<'_>,
    link: &Link,
    account: &NewAccount,
    old: Option<&SessionToken>,
    new: &SessionToken,
    ttl: std::time::Duration,
    client: &ClientInfo,
) -> Result<i64, AcceptError> {
    tx.query_one(
        "select app_private.accept_invitation_new($1, $2, $3, $4, $5, $6, $7, $8, $9, make_interval(secs => $10), $11, $12)",
        &[
            &link.id,
            &link.tenant_id,
            &link.email,
            &link.nonce_hash,
            &account.display_name.as_str(),
            &account.password_hash,
            &account.locale,
            &old.map(SessionToken::hash),
            &new.hash(),
            &ttl.as_secs_f64(),
            &client.ip,
            &client.user_agent,
        ],
    )
    .await
    .map(|r| r.get(0))
    .map_err(accept_error)
}

/// Accepts for the signed-in person, who must be the invited e-mail's account. Returns the shop.
pub async fn accept_for_session(
    tx: &Tx<'_>,
    link: &Link,
    session: &SessionToken,
) -> Result<i64, AcceptError> {
    tx.query_one(
        "select app_private.accept_invitation_for_session($1, $2, $3, $4, $5)",
        &[&link.id, &link.tenant_id, &link.email, &link.nonce_hash, &session.hash()],
    )
    .await
    .map(|r| r.get(0))
    .map_err(accept_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "test-secret-key-0123456789-abcdefghijklmnop";

    #[test]
    fn roles_are_admin_or_staff_only() {
        assert_eq!(invite_role("admin"), Ok(Role::Admin));
        assert_eq!(invite_role("staff"), Ok(Role::Staff));
        assert_eq!(invite_role("owner"), Err("error.invite_role"));
        assert_eq!(invite_role("Admin "), Err("error.invite_role"));
        assert_eq!(invite_role(""), Err("error.required"));
    }

    #[test]
    fn links_verify_and_refuse_tampering_other_keys_and_expiry() {
        let nonce = Nonce::generate();
        let exp = Utc::now() + chrono::Duration::days(VALID_DAYS);
        let token = issue(KEY, 7, 3, "ana@example.com", &nonce, exp).expect("issue");
        let link = verify(KEY, &token).expect("verify");
        assert_eq!((link.id, link.tenant_id, link.email.as_str()), (7, 3, "ana@example.com"));
        assert_eq!(link.nonce_hash, nonce.hash());

        assert_eq!(
            verify("another-secret-key-0123456789-abcdefghijk", &token).err(),
            Some(LinkError::Invalid)
        );
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let forged = Claims {
            jti: "7".into(),
            shop: 4,
            email: "ana@example.com".into(),
            nonce: "x".into(),
            iat: 0,
            exp: exp.timestamp(),
        };
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&forged).expect("json"));
        assert_eq!(verify(KEY, &parts.join(".")).err(), Some(LinkError::Invalid));
        assert_eq!(verify(KEY, "not.a.token").err(), Some(LinkError::Invalid));

        let old = issue(KEY, 7, 3, "ana@example.com", &nonce, Utc::now() - chrono::Duration::seconds(5))
            .expect("issue");
        assert_eq!(verify(KEY, &old).err(), Some(LinkError::Expired));
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_refused() {
        let claims = Claims {
            jti: "1".into(),
            shop: 1,
            email: "a@b.co".into(),
            nonce: "n".into(),
            iat: 0,
            exp: Utc::now().timestamp() + 3600,
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&signing_key(KEY)),
        )
        .expect("encode");
        assert_eq!(verify(KEY, &t).err(), Some(LinkError::Invalid));
    }
}
