//! The shop's settings: its name (app.tenants), currency, time zone, language, whether stock may
//! go negative, the receipt's header and footer and how long quotes stay valid (the shop's one
//! `settings` row). Only the owner role holds UPDATE on them (policies/tenant/00_base.sql,
//! 70_team.sql, policies/app.sql); triggers audit every change, and a trigger refuses a time zone
//! PostgreSQL does not know.

use super::catalog::{take, FieldErrors, WriteError};
use super::shop::shop_name;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};

pub const RECEIPT_TEXT_MAX: usize = 500;
pub const QUOTE_DAYS_MAX: i32 = 365;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopSettings {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub locale: String,
    pub allow_negative_stock: bool,
    pub receipt_header: String,
    pub receipt_footer: String,
    pub quote_validity_days: i32,
}

/// The settings form as typed.
#[derive(Clone, Debug, Default)]
pub struct SettingsFields {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub locale: String,
    pub allow_negative_stock: bool,
    pub receipt_header: String,
    pub receipt_footer: String,
    pub quote_validity_days: String,
}

impl From<&ShopSettings> for SettingsFields {
    fn from(s: &ShopSettings) -> Self {
        SettingsFields {
            name: s.name.clone(),
            currency: s.currency.clone(),
            time_zone: s.time_zone.clone(),
            locale: s.locale.clone(),
            allow_negative_stock: s.allow_negative_stock,
            receipt_header: s.receipt_header.clone(),
            receipt_footer: s.receipt_footer.clone(),
            quote_validity_days: s.quote_validity_days.to_string(),
        }
    }
}

/// A three-letter currency code (ISO 4217 shape), upper-cased: "ars" → "ARS".
pub fn currency(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err("settings.error_currency")
    }
}

/// One of the names in `known` (PostgreSQL's time zones, from `time_zones`).
pub fn time_zone(raw: &str, known: &[String]) -> Result<String, &'static str> {
    let s = raw.trim();
    if known.iter().any(|z| z == s) {
        Ok(s.to_string())
    } else {
        Err("settings.error_time_zone")
    }
}

pub fn language(raw: &str) -> Result<String, &'static str> {
    match raw.trim() {
        "es" => Ok("es".into()),
        "en" => Ok("en".into()),
        _ => Err("error.choose_option"),
    }
}

/// Receipt text: at most RECEIPT_TEXT_MAX characters; line breaks allowed, no other control
/// characters; Windows line ends become "\n".
pub fn receipt_text(raw: &str) -> Result<String, &'static str> {
    let s = raw.replace("\r\n", "\n");
    let s = s.trim();
    if s.chars().count() > RECEIPT_TEXT_MAX {
        return Err("settings.error_receipt_too_long");
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err("error.control_chars");
    }
    Ok(s.to_string())
}

pub fn quote_days(raw: &str) -> Result<i32, &'static str> {
    match raw.trim().parse::<i32>() {
        Ok(n) if (1..=QUOTE_DAYS_MAX).contains(&n) => Ok(n),
        _ => Err("settings.error_quote_days"),
    }
}

#[derive(Clone, Debug)]
pub struct SettingsInput {
    pub name: Name,
    pub settings: ShopSettings,
}

impl SettingsFields {
    /// Parses every field, collecting all errors; `zones` are the time zones PostgreSQL knows.
    pub fn parse(&self, zones: &[String]) -> Result<SettingsInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let name = take(e, "name", shop_name(&self.name));
        let currency = take(e, "currency", currency(&self.currency));
        let time_zone = take(e, "time_zone", time_zone(&self.time_zone, zones));
        let locale = take(e, "locale", language(&self.locale));
        let header = take(e, "receipt_header", receipt_text(&self.receipt_header));
        let footer = take(e, "receipt_footer", receipt_text(&self.receipt_footer));
        let days = take(e, "quote_validity_days", quote_days(&self.quote_validity_days));
        match (name, currency, time_zone, locale, header, footer, days) {
            (
                Some(name),
                Some(currency),
                Some(time_zone),
                Some(locale),
                Some(receipt_header),
                Some(receipt_footer),
                Some(quote_validity_days),
            ) => Ok(SettingsInput {
                settings: ShopSettings {
                    name: name.as_str().to_string(),
                    currency,
                    time_zone,
                    locale,
                    allow_negative_stock: self.allow_negative_stock,
                    receipt_header,
                    receipt_footer,
                    quote_validity_days,
                },
                name,
            }),
            _ => Err(errors),
        }
    }
}

/// The settings of the shop in context.
pub async fn load(tx: &Tx<'_>) -> Result<ShopSettings, AppError> {
    let r = tx
        .query_one(
            "select t.name, s.currency, s.time_zone, s.locale, s.allow_negative_stock,
                    s.receipt_header, s.receipt_footer, s.quote_validity_days
               from settings s cross join app.tenants t
              where t.id = app.current_tenant_id()",
            &[],
        )
        .await?;
    Ok(ShopSettings {
        name: r.get(0),
        currency: r.get(1),
        time_zone: r.get(2),
        locale: r.get(3),
        allow_negative_stock: r.get(4),
        receipt_header: r.get(5),
        receipt_footer: r.get(6),
        quote_validity_days: r.get(7),
    })
}

/// The time zones PostgreSQL knows, by name (without the duplicate `posix/` and `right/` trees).
pub async fn time_zones(tx: &Tx<'_>) -> Result<Vec<String>, AppError> {
    let rows = tx
        .query(
            "select name from pg_catalog.pg_timezone_names
              where name !~ '^(posix|right)/' and name not in ('localtime', 'posixrules', 'Factory')
              order by name",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn write_error(e: tokio_postgres::Error) -> WriteError {
    let field = match violated_constraint(&e) {
        Some("tenants_name_check") => Some(("name", "error.required")),
        Some("settings_currency_check") => Some(("currency", "settings.error_currency")),
        Some("settings_time_zone_check") => Some(("time_zone", "settings.error_time_zone")),
        Some("settings_locale_check") => Some(("locale", "error.choose_option")),
        Some("settings_receipt_header_check") => Some(("receipt_header", "settings.error_receipt_too_long")),
        Some("settings_receipt_footer_check") => Some(("receipt_footer", "settings.error_receipt_too_long")),
        Some("settings_quote_validity_days_check") => {
            Some(("quote_validity_days", "settings.error_quote_days"))
        }
        _ => None,
    };
    match field {
        Some(f) => WriteError::Field(vec![f]),
        None => WriteError::Other(e.into()),
    }
}

/// Saves the settings of the shop in context. Only what differs is written, so the audit log
/// gets a row only for a real change.
pub async fn save(tx: &Tx<'_>, input: &SettingsInput) -> Result<(), WriteError> {
    let s = &input.settings;
    tx.execute(
        "update app.tenants set name = $1 where id = app.current_tenant_id() and name is distinct from $1",
        &[&input.name.as_str()],
    )
    .await
    .map_err(write_error)?;
    tx.execute(
        "update settings
            set currency = $1, time_zone = $2, locale = $3, allow_negative_stock = $4,
                receipt_header = $5, receipt_footer = $6, quote_validity_days = $7, updated_at = now()
          where (currency, time_zone, locale, allow_negative_stock, receipt_header, receipt_footer,
                 quote_validity_days)
                is distinct from ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &s.currency,
            &s.time_zone,
            &s.locale,
            &s.allow_negative_stock,
            &s.receipt_header,
            &s.receipt_footer,
            &s.quote_validity_days,
        ],
    )
    .await
    .map_err(write_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(currency(" usd "), Ok("USD".into()));
        for bad in ["", "US", "USDT", "U$D", "12A", "ÑAR"] {
            assert_eq!(currency(bad), Err("settings.error_currency"), "{bad}");
        }
    }

    #[test]
    fn time_zones_come_from_the_list() {
        let known = vec!["America/Argentina/Buenos_Aires".to_string(), "UTC".to_string()];
        assert!(time_zone("UTC", &known).is_ok());
        assert_eq!(time_zone("Mars/Olympus", &known), Err("settings.error_time_zone"));
    }

    #[test]
    fn receipt_text_is_bounded() {
        assert_eq!(receipt_text("Gracias\r\npor su compra "), Ok("Gracias\npor su compra".into()));
        assert_eq!(receipt_text(&"x".repeat(501)), Err("settings.error_receipt_too_long"));
        assert!(receipt_text(&"ñ".repeat(500)).is_ok());
        assert_eq!(receipt_text("a\u{7}b"), Err("error.control_chars"));
    }

    #[test]
    fn quote_days_are_1_to_365() {
        assert_eq!(quote_days("30"), Ok(30));
        for bad in ["0", "366", "-1", "1,5", "abc", ""] {
            assert!(quote_days(bad).is_err(), "{bad}");
        }
    }
}
