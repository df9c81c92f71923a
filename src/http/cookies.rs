//! Set-Cookie values. Every cookie is HttpOnly and SameSite=Lax; `Secure` follows the config.

use warp::http::{header, HeaderValue};
use warp::reply::Response;

pub const ANON_COOKIE: &str = "stock_anon";
pub const LANG_COOKIE: &str = "stock_lang";
pub const FLASH_COOKIE: &str = "stock_flash";

pub fn set(r: &mut Response, name: &str, value: &str, max_age: Option<u64>, secure: bool) {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn clear(r: &mut Response, name: &str, secure: bool) {
    set(r, name, "", Some(0), secure);
}

/// Reads one cookie from a Cookie header.
pub fn get<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_by_name() {
        let h = Some("a=1; stock_session=abc; b=2");
        assert_eq!(get(h, "stock_session"), Some("abc"));
        assert_eq!(get(h, "stock"), None);
        assert_eq!(get(None, "a"), None);
    }

    #[test]
    fn cookies_are_httponly_lax_and_optionally_secure() {
        let mut r = Response::default();
        set(&mut r, "s", "v", Some(60), true);
        let v = r.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(v, "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
    }
}
