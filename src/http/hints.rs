//! Which shop and role a session was last seen in, so that a page of one statement can send that
//! statement in the same flush as BEGIN and the session statement (`Conn::tenant_tx_then`): one
//! round trip to PostgreSQL instead of two for GET /dashboard (issue 8).
//!
//! A hint is only a guess about which statement to send. It never decides what anyone may see:
//! the statement runs in the context the session statement set (user, shop, role, search_path,
//! so the policies and grants of the session's own shop and role apply), and the page uses the
//! rows only when the session statement's row confirms the shop and the role. A stale hint (the
//! person switched shops, their role changed, they signed out) costs the old two round trips,
//! once. No shop data is kept here: a session token's hash, a shop id and a role.
//!
//! Bounded: past `MAX` sessions the map is emptied and fills again from the next requests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::member::Role;

/// Sessions remembered before the map is emptied.
const MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopHint {
    pub tenant_id: i64,
    pub role: Role,
}

#[derive(Default)]
pub struct ShopHints {
    map: Mutex<HashMap<Vec<u8>, ShopHint>>,
}

impl ShopHints {
    /// The shop and role the session with this token hash was last seen in.
    pub fn get(&self, token_hash: &[u8]) -> Option<ShopHint> {
        self.map.lock().ok().and_then(|m| m.get(token_hash).copied())
    }

    /// Remembers what the session statement said (`None`: no active shop, forget the session).
    pub fn set(&self, token_hash: &[u8], hint: Option<ShopHint>) {
        let Ok(mut m) = self.map.lock() else {
            return;
        };
        match hint {
            Some(h) => {
                if m.get(token_hash) == Some(&h) {
                    return;
                }
                if m.len() >= MAX {
                    m.clear();
                }
                m.insert(token_hash.to_vec(), h);
            }
            None => {
                m.remove(token_hash);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_replaces_forgets_and_stays_bounded() {
        let h = ShopHints::default();
        let a = ShopHint { tenant_id: 1, role: Role::Owner };
        h.set(b"one", Some(a));
        assert_eq!(h.get(b"one"), Some(a));
        let b = ShopHint { tenant_id: 2, role: Role::Staff };
        h.set(b"one", Some(b));
        assert_eq!(h.get(b"one"), Some(b));
        h.set(b"one", None);
        assert_eq!(h.get(b"one"), None);
        for i in 0..MAX + 5 {
            h.set(format!("k{i}").as_bytes(), Some(a));
        }
        assert!(h.len() <= MAX);
        assert!(h.len() > 0);
    }
}
