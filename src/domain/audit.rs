//! Reading the shop's audit log. Rows are written only by database triggers and definer
//! functions (price and cost changes, stock adjustments and stocktakes, voids and returns,
//! settings, the shop's name, role changes, removals, handovers, sign-ins); no role may insert,
//! change or delete them. Owner and admin browse them here, filtered and a page at a time.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::catalog::FieldErrors;
use crate::db::tx::Tx;
use crate::error::AppError;

pub const PAGE_SIZE: i64 = 50;

/// The filters of the audit page, as parsed from its query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Days in the shop's time zone, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub action: String,
    pub user_id: Option<i64>,
    pub entity: String,
    /// Free text searched in the entity id and the old and new values.
    pub q: String,
    pub page: i64,
}

/// A day as `yyyy-mm-dd` (the date input) or `dd/mm/yyyy`.
pub fn parse_day(raw: &str) -> Result<Option<NaiveDate>, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| "audit.error_date")
}

fn code(raw: &str) -> String {
    let s = raw.trim();
    if s.len() <= 60 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        s.to_string()
    } else {
        String::new()
    }
}

impl AuditQuery {
    /// Reads the filters from `get(name)`; unreadable dates are reported and left out.
    pub fn parse<'a>(get: impl Fn(&str) -> &'a str) -> (AuditQuery, FieldErrors) {
        let mut errors = FieldErrors::new();
        let mut day = |field: &'static str| match parse_day(get(field)) {
            Ok(d) => d,
            Err(e) => {
                errors.push((field, e));
                None
            }
        };
        let (from, to) = (day("from"), day("to"));
        let q = AuditQuery {
            from,
            to,
            action: code(get("action")),
            user_id: get("user").trim().parse().ok(),
            entity: code(get("entity")),
            q: get("q").trim().chars().take(100).collect(),
            page: get("page").trim().parse::<i64>().unwrap_or(0).clamp(0, 100_000),
        };
        (q, errors)
    }
}

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: i64,
    /// In the shop's time zone.
    pub at: NaiveDateTime,
    pub user_id: Option<i64>,
    /// Name and e-mail when the person is still visible to the shop (a member, or yourself).
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
}

pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub has_next: bool,
}

fn like_pattern(q: &str) -> String {
    format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// One page of the log, newest first.
pub async fn list(tx: &Tx<'_>, query: &AuditQuery) -> Result<AuditPage, AppError> {
    let offset = query.page.max(0) * PAGE_SIZE;
    let rows = tx
        .query(
            "select a.id, (a.at at time zone s.time_zone), a.user_id, u.display_name, u.email,
                    a.action, a.entity, a.entity_id, a.old_values, a.new_values
               from audit_log a
              cross join settings s
               left join app.users u on u.id = a.user_id
              where ($1::date is null or a.at >= ($1::date::timestamp at time zone s.time_zone))
                and ($2::date is null or a.at < (($2::date + 1)::timestamp at time zone s.time_zone))
                and ($3 = '' or a.action = $3)
                and ($4::bigint is null or a.user_id = $4)
                and ($5 = '' or a.entity = $5)
                and ($6 = '' or a.entity_id = $6
                     or a.old_values::text ilike $7 or a.new_values::text ilike $7)
              order by a.at desc, a.id desc
              limit $8 offset $9",
            &[
                &query.from,
                &query.to,
                &query.action,
                &query.user_id,
                &query.entity,
                &query.q,
                &like_pattern(&query.q),
                &(PAGE_SIZE + 1),
                &offset,
            ],
        )
        .await?;
    let items = rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            user_id: r.get(2),
            user_name: r.get(3),
            user_email: r.get(4),
            action: r.get(5),
            entity: r.get(6),
            entity_id: r.get(7),
            old_values: r.get(8),
            new_values: r.get(9),
        })
        .collect();
    let (items, has_next) = super::split_page(items, PAGE_SIZE);
    Ok(AuditPage { items, has_next })
}

/// What the filters offer: the actions and entities present in the log, and the people who
/// appear in it (id, name or e-mail when visible).
pub struct FilterChoices {
    pub actions: Vec<String>,
    pub entities: Vec<String>,
    pub users: Vec<(i64, Option<String>)>,
}

pub async fn filter_choices(tx: &Tx<'_>) -> Result<FilterChoices, AppError> {
    let strings = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| r.get(0)).collect::<Vec<String>>();
    let actions = strings(tx.query("select distinct action from audit_log order by 1", &[]).await?);
    let entities = strings(tx.query("select distinct entity from audit_log order by 1", &[]).await?);
    let users = tx
        .query(
            "select a.user_id, max(u.display_name || ' <' || u.email || '>')
               from (select distinct user_id from audit_log where user_id is not null) a
               left join app.users u on u.id = a.user_id
              group by a.user_id order by 2 nulls last, 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(FilterChoices { actions, entities, users })
}

/// Fields never shown in a change (bookkeeping, not what changed).
const HIDDEN_FIELDS: &[&str] = &["id", "updated_at", "created_at", "at"];

/// One changed field: name, value before (None: not present), value after.
pub type Change = (String, Option<Value>, Option<Value>);

/// The fields of an entry, old beside new, in the order they appear, without bookkeeping fields
/// and (for updates) without the ones that stayed the same.
pub fn changes(e: &AuditEntry) -> Vec<Change> {
    let empty = serde_json::Map::new();
    let old = e.old_values.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let new = e.new_values.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = old.keys().collect();
    keys.extend(new.keys().filter(|k| !old.contains_key(*k)));
    keys.into_iter()
        .filter(|k| !HIDDEN_FIELDS.contains(&k.as_str()))
        .map(|k| (k.clone(), old.get(k).cloned(), new.get(k).cloned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_report_bad_dates() {
        let form = |k: &str| match k {
            "from" => "2024-03-01",
            "to" => "31/13/2024",
            "action" => "role_change",
            "entity" => "x'; drop",
            "user" => "7",
            _ => "",
        };
        let (q, errors) = AuditQuery::parse(form);
        assert_eq!(q.from, NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(q.to, None);
        assert_eq!(errors, vec![("to", "audit.error_date")]);
        assert_eq!(q.action, "role_change");
        assert_eq!(q.entity, "");
        assert_eq!(q.user_id, Some(7));
    }

    #[test]
    fn changes_skip_bookkeeping_and_keep_order() {
        let e = AuditEntry {
            id: 1,
            at: NaiveDateTime::default(),
            user_id: None,
            user_name: None,
            user_email: None,
            action: "update".into(),
            entity: "products".into(),
            entity_id: Some("3".into()),
            old_values: Some(serde_json::json!({"price": 10, "updated_at": "x"})),
            new_values: Some(serde_json::json!({"price": 12, "updated_at": "y", "cost": 5})),
        };
        let c = changes(&e);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].0, "price");
        assert_eq!(c[1], ("cost".to_string(), None, Some(serde_json::json!(5))));
    }
}
