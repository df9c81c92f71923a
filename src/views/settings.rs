//! The shop's settings form.

use maud::{html, Markup};

use super::layout::{checkbox, csrf, format_date, input, page, select, InputAttrs, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::limits::{status_key, PlanUsage};
use crate::domain::settings::{SettingsFields, QUOTE_DAYS_MAX, RECEIPT_TEXT_MAX};
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish) texts of this page; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.settings", "Settings", "Configuración"),
    ("settings.title", "Shop settings", "Configuración del negocio"),
    ("settings.currency", "Currency (3-letter code)", "Moneda (código de 3 letras)"),
    ("settings.currency_hint", "e.g. ARS, USD, EUR", "p. ej. ARS, USD, EUR"),
    ("settings.time_zone", "Time zone", "Zona horaria"),
    ("settings.language", "Language of receipts and quotes", "Idioma de tickets y presupuestos"),
    ("settings.language_es", "Spanish", "Español"),
    ("settings.language_en", "English", "Inglés"),
    (
        "settings.allow_negative_stock",
        "Allow selling without stock (stock may go below zero)",
        "Permitir vender sin stock (el stock puede quedar negativo)",
    ),
    ("settings.receipt_header", "Receipt header", "Encabezado del ticket"),
    ("settings.receipt_footer", "Receipt footer", "Pie del ticket"),
    ("settings.receipt_hint", "Up to {max} characters each.", "Hasta {max} caracteres cada uno."),
    ("settings.quote_validity_days", "Quotes valid for (days)", "Validez de los presupuestos (días)"),
    (
        "settings.audited",
        "Every change is recorded in the audit log.",
        "Cada cambio queda registrado en la auditoría.",
    ),
    (
        "settings.error_currency",
        "Enter a 3-letter currency code, like ARS or USD.",
        "Ingrese un código de moneda de 3 letras, como ARS o USD.",
    ),
    ("settings.error_time_zone", "Choose a time zone from the list.", "Elija una zona horaria de la lista."),
    ("settings.error_receipt_too_long", "At most 500 characters.", "Como máximo 500 caracteres."),
    (
        "settings.error_quote_days",
        "A whole number of days from 1 to 365.",
        "Un número entero de días, de 1 a 365.",
    ),
];

pub struct FormView<'a> {
    pub fields: &'a SettingsFields,
    pub errors: &'a FieldErrors,
    pub time_zones: &'a [String],
    /// The shop's plan and what it uses of it (None: no subscription found).
    pub plan: Option<&'a PlanUsage>,
}

/// The plan section: plan name and status, then each limit as used / allowed.
fn plan_section(l: Locale, u: &PlanUsage) -> Markup {
    let rows = [
        ("limit.members", &u.members),
        ("limit.products", &u.products),
        ("limit.monthly_sales", &u.monthly_sales),
    ];
    html! {
        section.card #plan {
            h2 { (t(l, "limit.plan_section")) }
            dl.facts {
                dt { (t(l, "limit.plan")) }
                dd { (u.plan_name) " (" (t(l, status_key(&u.status))) ")" }
                @if let (Some(d), "trialing") = (u.trial_ends_on, u.status.as_str()) {
                    dt {}
                    dd { (tf(l, "limit.trial_ends", &[("date", &format_date(d, l))])) }
                }
                @for (key, usage) in rows {
                    dt { (t(l, key)) }
                    dd {
                        (usage.show(l))
                        @if usage.reached() { " " strong.error { (t(l, "limit.at_limit")) } }
                    }
                }
            }
        }
    }
}

fn receipt_area(l: Locale, name: &str, label_key: &'static str, value: &str, error: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            textarea id=(id) name=(name) rows="3" maxlength=(RECEIPT_TEXT_MAX)
                aria-invalid=[error.map(|_| "true")] { (value) }
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

pub fn form(p: &Page, v: &FormView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(v.errors, name);
    let mut zones: Vec<(String, String)> =
        v.time_zones.iter().map(|z| (z.clone(), z.replace('_', " "))).collect();
    if !v.time_zones.contains(&f.time_zone) {
        // a value that is not in the list (typed by hand) stays visible beside its error
        zones.insert(0, (f.time_zone.clone(), f.time_zone.clone()));
    }
    let languages = [
        ("es".to_string(), t(l, "settings.language_es").to_string()),
        ("en".to_string(), t(l, "settings.language_en").to_string()),
    ];
    let days_max = QUOTE_DAYS_MAX.to_string();
    page(
        p,
        t(l, "settings.title"),
        html! {
            h1 { (t(l, "settings.title")) }
            @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            form.card method="post" action="/settings" {
                (csrf(p))
                div.grid {
                    (input(l, "name", "field.shop_name", &f.name, e("name"), InputAttrs::TEXT))
                    (input(l, "currency", "settings.currency", &f.currency, e("currency"), InputAttrs::TEXT))
                    (select(l, "time_zone", "settings.time_zone", &zones, &f.time_zone, e("time_zone")))
                    (select(l, "locale", "settings.language", &languages, &f.locale, e("locale")))
                    div.field {
                        label for="f-quote_validity_days" { (t(l, "settings.quote_validity_days")) }
                        input id="f-quote_validity_days" name="quote_validity_days" type="number" min="1"
                            max=(days_max) value=(f.quote_validity_days)
                            aria-invalid=[e("quote_validity_days").map(|_| "true")];
                        @if let Some(err) = e("quote_validity_days") { p.error { (t_dyn(l, err)) } }
                    }
                }
                p.hint { (t(l, "settings.currency_hint")) }
                (checkbox(l, "allow_negative_stock", "settings.allow_negative_stock", f.allow_negative_stock))
                (receipt_area(l, "receipt_header", "settings.receipt_header", &f.receipt_header, e("receipt_header")))
                (receipt_area(l, "receipt_footer", "settings.receipt_footer", &f.receipt_footer, e("receipt_footer")))
                p.hint { (tf(l, "settings.receipt_hint", &[("max", &RECEIPT_TEXT_MAX.to_string())])) }
                button type="submit" { (t(l, "action.save")) }
                p.hint { (t(l, "settings.audited")) }
            }
            @if let Some(u) = v.plan { (plan_section(l, u)) }
        },
    )
}
