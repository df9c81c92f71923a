//! The one page layout: header with the shop and person, a menu with only what the role may use,
//! flash message, content.

use maud::{html, Markup, DOCTYPE};

use crate::db::tx::SessionCtx;
use crate::domain::member::{Permission, Role};
use crate::i18n::{t, t_dyn, Locale};

pub struct Page<'a> {
    pub locale: Locale,
    pub csrf: String,
    pub session: Option<&'a SessionCtx>,
    pub flash: Option<&'static str>,
    /// A message for the whole form, already in the page's language (e.g. a plan limit).
    pub alert: Option<String>,
}

/// A menu entry and the permission it needs.
struct NavItem {
    href: &'static str,
    key: &'static str,
    needs: Option<Permission>,
}

const NAV: &[NavItem] = &[
    NavItem { href: "/dashboard", key: "nav.dashboard", needs: None },
    NavItem { href: "/pos", key: "nav.pos", needs: Some(Permission::RegisterSales) },
    NavItem { href: "/sales", key: "nav.sales", needs: Some(Permission::RegisterSales) },
    NavItem { href: "/quotes", key: "nav.quotes", needs: Some(Permission::CreateQuotes) },
    NavItem { href: "/customers", key: "nav.customers", needs: Some(Permission::RegisterSales) },
    NavItem { href: "/products", key: "nav.products", needs: Some(Permission::ViewCatalog) },
    NavItem { href: "/stock/low", key: "nav.low_stock", needs: Some(Permission::ViewCatalog) },
    NavItem { href: "/stocktake", key: "nav.stocktake", needs: Some(Permission::ManageCatalog) },
    NavItem { href: "/categories", key: "nav.categories", needs: Some(Permission::ManageCatalog) },
    NavItem { href: "/units", key: "nav.units", needs: Some(Permission::ManageCatalog) },
    NavItem { href: "/missing", key: "nav.missing", needs: Some(Permission::ViewCatalog) },
    NavItem { href: "/shops", key: "nav.shops", needs: None },
    NavItem { href: "/reports", key: "report.nav", needs: Some(Permission::ViewMoney) },
    NavItem { href: "/password/change", key: "nav.password", needs: None },
    NavItem { href: "/members", key: "nav.members", needs: Some(Permission::ManageMembers) },
    NavItem { href: "/settings", key: "nav.settings", needs: Some(Permission::ChangeSettings) },
    NavItem { href: "/audit", key: "nav.audit", needs: Some(Permission::ViewAudit) },
    NavItem { href: "/suppliers", key: "nav.suppliers", needs: Some(Permission::ManagePurchasing) },
    NavItem { href: "/purchases", key: "nav.purchases", needs: Some(Permission::ManagePurchasing) },
    NavItem { href: "/money", key: "nav.money_ledger", needs: Some(Permission::ViewMoney) },
    NavItem { href: "/balance", key: "nav.balance", needs: Some(Permission::ViewMoney) },
];

pub fn role_label(l: Locale, role: Role) -> &'static str {
    match role {
        Role::Owner => t(l, "role.owner"),
        Role::Admin => t(l, "role.admin"),
        Role::Staff => t(l, "role.staff"),
    }
}

pub fn page(p: &Page, title: &str, body: Markup) -> Markup {
    let l = p.locale;
    let other = match l {
        Locale::Es => "en",
        Locale::En => "es",
    };
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t(l, "app.name")) }
                link rel="stylesheet" href="/static/app.css";
                // htmx must not add inline styles (the CSP forbids them); see src/routes/assets.rs
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"historyCacheSize":0}"#;
                script src="/static/htmx.min.js" defer {}
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { (t(l, "app.name")) }
                    @if let Some(s) = p.session {
                        @if let Some(shop) = &s.shop {
                            span.shop { (shop.name) }
                        }
                        nav aria-label="menu" {
                            @for item in NAV {
                                @if item.needs.is_none_or(|perm| s.shop.as_ref().is_some_and(|sh| sh.role.can(perm))) {
                                    a href=(item.href) { (t(l, item.key)) }
                                }
                            }
                        }
                        span.who {
                            (s.display_name)
                            @if let Some(shop) = &s.shop { " · " (role_label(l, shop.role)) }
                        }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(p.csrf);
                            button.link type="submit" { (t(l, "nav.logout")) }
                        }
                    } @else {
                        nav aria-label="menu" {
                            a href="/login" { (t(l, "nav.login")) }
                            a href="/signup" { (t(l, "nav.signup")) }
                        }
                    }
                    a.lang href={ "/lang/" (other) } { (t(l, "nav.language")) }
                }
                main {
                    @if let Some(key) = p.flash {
                        p.flash role="status" { (t(l, key)) }
                    }
                    @if let Some(alert) = &p.alert {
                        p.error.form-error role="alert" { (alert) }
                    }
                    (body)
                }
            }
        }
    }
}

/// A labelled input with its error (and `aria-invalid`) next to it.
pub fn field(
    l: Locale,
    name: &str,
    label_key: &'static str,
    kind: &str,
    value: &str,
    error: Option<&'static str>,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            input id=(id) name=(name) type=(kind) value=(value) aria-invalid=[error.map(|_| "true")]
                autocomplete=(match kind { "password" => "current-password", "email" => "email", _ => "on" });
            @if let Some(e) = error {
                p.error { (t(l, e)) }
            }
        }
    }
}

/// A labelled select; `options` are (value, label).
pub fn select(
    l: Locale,
    name: &str,
    label_key: &'static str,
    options: &[(String, String)],
    selected: &str,
    error: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] {
                @for (value, label) in options {
                    option value=(value) selected[value == selected] { (label) }
                }
            }
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

pub fn checkbox(l: Locale, name: &str, label_key: &'static str, checked: bool) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.check {
            input id=(id) type="checkbox" name=(name) value="on" checked[checked];
            label for=(id) { (t(l, label_key)) }
        }
    }
}

pub fn textarea(l: Locale, name: &str, label_key: &'static str, value: &str, error: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            textarea id=(id) name=(name) rows="3" aria-invalid=[error.map(|_| "true")] { (value) }
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

/// A text field whose error key comes from a runtime list (field errors of a form).
pub fn input(
    l: Locale,
    name: &str,
    label_key: &'static str,
    value: &str,
    error: Option<&str>,
    attrs: InputAttrs,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (t(l, label_key)) }
            input id=(id) name=(name) type=(attrs.kind) value=(value) inputmode=[attrs.inputmode]
                autofocus[attrs.autofocus] aria-invalid=[error.map(|_| "true")];
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

#[derive(Clone, Copy)]
pub struct InputAttrs {
    pub kind: &'static str,
    pub inputmode: Option<&'static str>,
    pub autofocus: bool,
}

impl InputAttrs {
    pub const TEXT: InputAttrs = InputAttrs { kind: "text", inputmode: None, autofocus: false };
    pub const DECIMAL: InputAttrs = InputAttrs { kind: "text", inputmode: Some("decimal"), autofocus: false };
}

/// Hidden CSRF field for a form.
pub fn csrf(p: &Page) -> Markup {
    html! { input type="hidden" name="csrf" value=(p.csrf); }
}

/// A day in the locale's order: 31/12/2026 or 2026-12-31.
pub fn format_date(d: chrono::NaiveDate, l: Locale) -> String {
    use chrono::Datelike;
    let (y, mo, d) = (d.year(), d.month(), d.day());
    match l {
        Locale::Es => format!("{d:02}/{mo:02}/{y:04}"),
        Locale::En => format!("{y:04}-{mo:02}-{d:02}"),
    }
}

/// A date and time in the locale's order: 31/12/2026 18:05 or 2026-12-31 18:05 (the value is
/// already in the shop's time zone).
pub fn format_datetime(dt: chrono::NaiveDateTime, l: Locale) -> String {
    use chrono::{Datelike, Timelike};
    // written out rather than through `format("%d/%m/%Y %H:%M")`, which parses its pattern on
    // every call (a visible share of the dashboard's CPU)
    let (y, mo, d, h, mi) = (dt.year(), dt.month(), dt.day(), dt.hour(), dt.minute());
    match l {
        Locale::Es => format!("{d:02}/{mo:02}/{y:04} {h:02}:{mi:02}"),
        Locale::En => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}"),
    }
}
