//! The audit log page: filters, and each entry with who, what, when (shop time) and the changed
//! fields, old beside new.

use maud::{html, Markup};
use serde_json::Value;

use super::layout::{format_datetime, page, role_label, Page};
use crate::domain::audit::{changes, AuditEntry, AuditQuery, FilterChoices};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::member::Role;
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish) texts of this page; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.audit", "Audit log", "Auditoría"),
    ("audit.title", "Audit log", "Auditoría"),
    ("audit.from", "From", "Desde"),
    ("audit.to", "To", "Hasta"),
    ("audit.action", "Action", "Acción"),
    ("audit.entity", "On", "Sobre"),
    ("audit.user", "Person", "Persona"),
    ("audit.text", "Text", "Texto"),
    ("audit.text_hint", "a value, e-mail or id", "un valor, correo o id"),
    ("audit.any", "Any", "Cualquiera"),
    ("audit.what", "What", "Qué"),
    ("audit.details", "Details", "Detalle"),
    ("audit.none", "No entries match.", "No hay registros que coincidan."),
    ("audit.system", "System or operator", "Sistema u operador"),
    ("audit.former_user", "User #{id}", "Usuario n.º {id}"),
    ("audit.error_date", "Enter a date like 31/12/2024.", "Ingrese una fecha como 31/12/2024."),
    ("audit.yes", "yes", "sí"),
    ("audit.no", "no", "no"),
    ("audit.open", "open", "ver"),
    // what happened
    ("audit.sign_in", "Signed in", "Inicio de sesión"),
    ("audit.role_change", "Role changed", "Cambio de rol"),
    ("audit.member_removed", "Member removed", "Persona quitada"),
    ("audit.ownership_handover", "Ownership handed over", "Traspaso del negocio"),
    ("audit.price_change", "Price or cost changed", "Cambio de precio o costo"),
    ("audit.stock_adjustment", "Stock adjustment", "Ajuste de stock"),
    ("audit.sale_voided", "Sale voided", "Venta anulada"),
    ("audit.return", "Return recorded", "Devolución registrada"),
    ("audit.settings_changed", "Settings changed", "Cambio de configuración"),
    ("audit.shop_renamed", "Shop renamed", "Negocio renombrado"),
    ("audit.created", "Created", "Alta"),
    ("audit.changed", "Changed", "Cambio"),
    ("audit.deleted", "Deleted", "Baja"),
    // on what
    ("audit.entity.products", "Products", "Productos"),
    ("audit.entity.stock_movements", "Stock movements", "Movimientos de stock"),
    ("audit.entity.sales", "Sales", "Ventas"),
    ("audit.entity.sale_returns", "Returns", "Devoluciones"),
    ("audit.entity.settings", "Settings", "Configuración"),
    ("audit.entity.shop", "Shop", "Negocio"),
    ("audit.entity.member", "Members", "Personas"),
    ("audit.entity.user", "Sign-ins", "Inicios de sesión"),
    // fields
    ("audit.field_member", "Member", "Persona"),
    ("audit.field_product", "Product", "Producto"),
    ("audit.field_ip", "IP address", "Dirección IP"),
    ("audit.field_user_agent", "Browser", "Navegador"),
    ("audit.field_void_reason", "Void reason", "Motivo de anulación"),
    ("audit.field_sale", "Sale", "Venta"),
];

pub struct ListView<'a> {
    pub query: &'a AuditQuery,
    pub errors: &'a FieldErrors,
    pub items: &'a [AuditEntry],
    pub has_next: bool,
    pub choices: &'a FilterChoices,
}

/// What an entry records, in words.
pub fn describe(l: Locale, action: &str, entity: &str) -> String {
    let key = match (action, entity) {
        ("sign_in", _) => "audit.sign_in",
        ("role_change", _) => "audit.role_change",
        ("member_removed", _) => "audit.member_removed",
        ("ownership_handover", _) => "audit.ownership_handover",
        ("update", "products") => "audit.price_change",
        ("insert", "stock_movements") => "audit.stock_adjustment",
        ("update", "sales") => "audit.sale_voided",
        ("insert", "sale_returns") => "audit.return",
        ("update", "settings") => "audit.settings_changed",
        ("update", "shop") => "audit.shop_renamed",
        _ => return format!("{} · {}", action_label(l, action), entity_label(l, entity)),
    };
    t_dyn(l, key).to_string()
}

fn action_label(l: Locale, action: &str) -> String {
    match action {
        "insert" => t(l, "audit.created").to_string(),
        "update" => t(l, "audit.changed").to_string(),
        "delete" => t(l, "audit.deleted").to_string(),
        other => label_or_code(l, "audit.", other),
    }
}

fn entity_label(l: Locale, entity: &str) -> String {
    label_or_code(l, "audit.entity.", entity)
}

/// The text of `prefix + code` when there is one, else the code itself (actions other modules
/// add show up readable enough until they get a label).
fn label_or_code(l: Locale, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    let text = t_dyn(l, &key);
    if text == key {
        code.to_string()
    } else {
        text.to_string()
    }
}

fn field_label(l: Locale, field: &str) -> String {
    let key = match field {
        "price" => "field.price",
        "cost" => "field.cost",
        "name" => "field.name",
        "role" => "member.role",
        "member" => "audit.field_member",
        "email" => "field.email",
        "product_id" => "audit.field_product",
        "sale_id" => "audit.field_sale",
        "quantity" => "field.quantity",
        "reason" => "field.reason",
        "kind" => "field.kind",
        "status" => "field.status",
        "stock_after" => "field.stock_after",
        "void_reason" => "audit.field_void_reason",
        "ip" => "audit.field_ip",
        "user_agent" => "audit.field_user_agent",
        "currency" => "settings.currency",
        "time_zone" => "settings.time_zone",
        "locale" => "settings.language",
        "allow_negative_stock" => "settings.allow_negative_stock",
        "receipt_header" => "settings.receipt_header",
        "receipt_footer" => "settings.receipt_footer",
        "quote_validity_days" => "settings.quote_validity_days",
        other => return other.replace('_', " "),
    };
    t_dyn(l, key).to_string()
}

fn value_text(l: Locale, field: &str, v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::Bool(b)) => t(l, if *b { "audit.yes" } else { "audit.no" }).to_string(),
        Some(Value::String(s)) if field == "role" => match Role::try_from(s.as_str()) {
            Ok(r) => role_label(l, r).to_string(),
            Err(_) => s.clone(),
        },
        Some(Value::String(s)) if s.is_empty() => "«»".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn who(l: Locale, e: &AuditEntry) -> Markup {
    html! {
        @match (&e.user_name, &e.user_email, e.user_id) {
            (Some(name), Some(email), _) => { (name) br; small { (email) } }
            (_, _, Some(id)) => { (tf(l, "audit.former_user", &[("id", &id.to_string())])) }
            _ => { (t(l, "audit.system")) }
        }
    }
}

/// A link to what the entry is about, when it has a page.
fn link(e: &AuditEntry) -> Option<String> {
    let new = |k: &str| e.new_values.as_ref().and_then(|v| v.get(k)).and_then(Value::as_i64);
    let id = e.entity_id.as_deref().and_then(|s| s.parse::<i64>().ok());
    match e.entity.as_str() {
        "products" => id.map(|i| format!("/products/{i}")),
        "stock_movements" => new("product_id").map(|i| format!("/products/{i}")),
        "sales" => id.map(|i| format!("/sales/{i}")),
        "sale_returns" => new("sale_id").map(|i| format!("/sales/{i}")),
        _ => None,
    }
}

fn details(l: Locale, e: &AuditEntry) -> Markup {
    html! {
        ul.changes {
            @for (field, old, new) in changes(e) {
                li {
                    strong { (field_label(l, &field)) } ": "
                    @match (&old, &new) {
                        (Some(o), Some(n)) if o != n => {
                            del { (value_text(l, &field, Some(o))) } " → " ins { (value_text(l, &field, Some(n))) }
                        }
                        (Some(o), _) if new.is_none() => { del { (value_text(l, &field, Some(o))) } }
                        _ => { (value_text(l, &field, new.as_ref())) }
                    }
                }
            }
        }
    }
}

/// The query string of the page with these filters, for pagination links.
pub fn list_query(q: &AuditQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(d) = q.from {
        s.append_pair("from", &d.format("%Y-%m-%d").to_string());
    }
    if let Some(d) = q.to {
        s.append_pair("to", &d.format("%Y-%m-%d").to_string());
    }
    for (k, v) in [("action", &q.action), ("entity", &q.entity), ("q", &q.q)] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if let Some(u) = q.user_id {
        s.append_pair("user", &u.to_string());
    }
    if page > 0 {
        s.append_pair("page", &page.to_string());
    }
    s.finish()
}

fn choice_select(
    l: Locale,
    name: &str,
    label_key: &'static str,
    options: &[(String, String)],
    sel: &str,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            select id=(id) name=(name) {
                option value="" { (t(l, "audit.any")) }
                @for (value, label) in options {
                    option value=(value) selected[value == sel] { (label) }
                }
            }
        }
    }
}

fn date_field(l: Locale, name: &str, label_key: &'static str, value: &str, error: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            input id=(id) type="date" name=(name) value=(value) aria-invalid=[error.map(|_| "true")];
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    let q = v.query;
    let c = v.choices;
    let actions: Vec<(String, String)> = c.actions.iter().map(|a| (a.clone(), action_label(l, a))).collect();
    let entities: Vec<(String, String)> =
        c.entities.iter().map(|e| (e.clone(), entity_label(l, e))).collect();
    let users: Vec<(String, String)> = c
        .users
        .iter()
        .map(|(id, name)| {
            let label =
                name.clone().unwrap_or_else(|| tf(l, "audit.former_user", &[("id", &id.to_string())]));
            (id.to_string(), label)
        })
        .collect();
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let user_sel = q.user_id.map(|u| u.to_string()).unwrap_or_default();
    page(
        p,
        t(l, "audit.title"),
        html! {
            h1 { (t(l, "audit.title")) }
            form.filters method="get" action="/audit" role="search" {
                (date_field(l, "from", "audit.from", &day(q.from), error_for(v.errors, "from")))
                (date_field(l, "to", "audit.to", &day(q.to), error_for(v.errors, "to")))
                (choice_select(l, "action", "audit.action", &actions, &q.action))
                (choice_select(l, "entity", "audit.entity", &entities, &q.entity))
                (choice_select(l, "user", "audit.user", &users, &user_sel))
                div.field.grow {
                    label for="f-q" { (t(l, "audit.text")) }
                    input id="f-q" type="search" name="q" value=(q.q) placeholder=(t(l, "audit.text_hint"));
                }
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "audit.none")) }
            } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "field.when")) } th { (t(l, "field.who")) } th { (t(l, "audit.what")) }
                        th { (t(l, "audit.details")) }
                    } }
                    tbody { @for e in v.items { tr {
                        td { (format_datetime(e.at, l)) }
                        td { (who(l, e)) }
                        td {
                            (describe(l, &e.action, &e.entity))
                            @if let Some(href) = link(e) { " " a href=(href) { (t(l, "audit.open")) } }
                        }
                        td { (details(l, e)) }
                    } } }
                } }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if q.page > 0 { a href={ "/audit?" (list_query(q, q.page - 1)) } rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href={ "/audit?" (list_query(q, q.page + 1)) } rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}
