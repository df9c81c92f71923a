//! CSRF tokens: an HMAC of the session token (signed in) or of the anonymous cookie (signed out)
//! under the secret key. Nothing is stored; a token is only valid with the cookie it was made for.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &str, purpose: &str, value: &str) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(key.as_bytes()).ok()?;
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(value.as_bytes());
    Some(m)
}

pub fn token(key: &str, purpose: &str, value: &str) -> String {
    mac(key, purpose, value)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Constant-time check of a submitted token.
pub fn verify(key: &str, purpose: &str, value: &str, submitted: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(submitted) else {
        return false;
    };
    mac(key, purpose, value).is_some_and(|m| m.verify_slice(&bytes).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_their_cookie_and_key() {
        let t = token("k1", "s", "cookie-a");
        assert!(verify("k1", "s", "cookie-a", &t));
        assert!(!verify("k1", "s", "cookie-b", &t));
        assert!(!verify("k2", "s", "cookie-a", &t));
        assert!(!verify("k1", "a", "cookie-a", &t));
        assert!(!verify("k1", "s", "cookie-a", ""));
        assert!(!verify("k1", "s", "cookie-a", "%%%"));
    }
}
