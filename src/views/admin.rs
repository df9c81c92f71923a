//! The operator's super-admin panel: its own layout (no shop menu), login, shops and a shop's
//! detail (usage, members, suspension, subscription, payments), plans, and the audit trail.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup, DOCTYPE};

use crate::db::tx::AdminCtx;
use crate::domain::admin::{
    AuditEntry, Payment, PaymentErrors, Plan, PlanErrors, ShopMember, ShopUsage, Subscription,
    SubscriptionErrors, PAYMENT_METHODS, SUBSCRIPTION_STATUSES,
};
use crate::domain::money::{format_money, input_value};
use crate::http::Form;
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish)
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("sa.title", "Operator panel", "Panel del operador"),
    ("sa.login_title", "Operator sign-in", "Ingreso de operadores"),
    (
        "sa.login_hint",
        "For the people who run the service. Shop accounts do not work here.",
        "Para quienes operan el servicio. Las cuentas de los negocios no sirven aquí.",
    ),
    (
        "sa.login_failed",
        "Wrong e-mail or password, or the account is disabled.",
        "E-mail o contraseña incorrectos, o la cuenta está deshabilitada.",
    ),
    ("sa.email", "E-mail", "E-mail"),
    ("sa.password", "Password", "Contraseña"),
    ("sa.sign_in", "Sign in", "Ingresar"),
    ("sa.sign_out", "Sign out", "Salir"),
    ("sa.nav_shops", "Shops", "Negocios"),
    ("sa.nav_plans", "Plans", "Planes"),
    ("sa.nav_audit", "Audit trail", "Auditoría"),
    ("sa.search", "Search by name, address or number", "Buscar por nombre, dirección o número"),
    ("sa.search_button", "Search", "Buscar"),
    ("sa.shop", "Shop", "Negocio"),
    ("sa.status", "Status", "Estado"),
    ("sa.status_active", "Active", "Activo"),
    ("sa.status_suspended", "Suspended", "Suspendido"),
    ("sa.plan", "Plan", "Plan"),
    ("sa.members", "Members", "Miembros"),
    ("sa.products", "Products", "Productos"),
    ("sa.sales_month", "Sales this month", "Ventas del mes"),
    ("sa.last_activity", "Last activity", "Última actividad"),
    ("sa.db_size", "Database size", "Tamaño en la base"),
    ("sa.created", "Created", "Creado"),
    ("sa.none", "Nothing here yet.", "Todavía no hay nada."),
    ("sa.never", "never", "nunca"),
    ("sa.previous", "Previous", "Anterior"),
    ("sa.next", "Next", "Siguiente"),
    ("sa.usage", "Usage", "Uso"),
    ("sa.suspend", "Suspend this shop", "Suspender este negocio"),
    (
        "sa.suspend_hint",
        "Its members will see a page saying the shop is suspended, and no data.",
        "Sus miembros verán una página que dice que el negocio está suspendido, y ningún dato.",
    ),
    ("sa.reactivate", "Reactivate this shop", "Reactivar este negocio"),
    ("sa.subscription", "Subscription", "Suscripción"),
    ("sa.no_subscription", "This shop has no subscription.", "Este negocio no tiene suscripción."),
    ("sa.trial_ends_on", "Trial ends on", "Fin de la prueba"),
    ("sa.renews_on", "Renews on", "Renovación"),
    ("sa.save", "Save", "Guardar"),
    ("sa.sub_trialing", "Trial", "Prueba"),
    ("sa.sub_active", "Active", "Activa"),
    ("sa.sub_past_due", "Past due", "Vencida"),
    ("sa.sub_canceled", "Canceled", "Cancelada"),
    ("sa.payments", "Payments", "Pagos"),
    ("sa.record_payment", "Record a payment", "Registrar un pago"),
    ("sa.amount", "Amount", "Importe"),
    ("sa.paid_on", "Paid on", "Fecha de pago"),
    ("sa.method", "Method", "Medio"),
    ("sa.reference", "Reference", "Referencia"),
    ("sa.recorded_by", "Recorded by", "Registrado por"),
    ("sa.pay_transfer", "Bank transfer", "Transferencia"),
    ("sa.pay_cash", "Cash", "Efectivo"),
    ("sa.pay_card", "Card", "Tarjeta"),
    ("sa.pay_other", "Other", "Otro"),
    ("sa.view_as", "View as support (read only)", "Ver como soporte (solo lectura)"),
    (
        "sa.view_as_hint",
        "Opens the shop's pages read only. Each opening is recorded in the audit trail.",
        "Abre las páginas del negocio en solo lectura. Cada apertura queda en la auditoría.",
    ),
    ("sa.plans_title", "Plans", "Planes"),
    ("sa.code", "Code", "Código"),
    ("sa.name", "Name", "Nombre"),
    ("sa.max_members", "Members (at most)", "Miembros (máximo)"),
    ("sa.max_products", "Products (at most)", "Productos (máximo)"),
    ("sa.max_monthly_sales", "Sales per month (at most)", "Ventas por mes (máximo)"),
    ("sa.monthly_price", "Monthly price", "Precio mensual"),
    ("sa.shops_on_plan", "Shops", "Negocios"),
    ("sa.unlimited", "no limit", "sin límite"),
    ("sa.limit_hint", "Leave a limit empty for no limit.", "Deje un límite vacío para no limitar."),
    ("sa.new_plan", "New plan", "Nuevo plan"),
    ("sa.create", "Create", "Crear"),
    ("sa.audit_title", "Audit trail", "Auditoría"),
    ("sa.when", "When", "Cuándo"),
    ("sa.who", "Who", "Quién"),
    ("sa.action", "Action", "Acción"),
    ("sa.details", "Details", "Detalle"),
    ("sa.ip", "Address", "Dirección IP"),
    ("sa.cli", "command line", "línea de comandos"),
    ("sa.all_shops", "All shops", "Todos los negocios"),
    (
        "sa.error_plan_code",
        "2 to 20 capital letters, digits or _, starting with a letter (like PRO).",
        "De 2 a 20 mayúsculas, dígitos o _, empezando por una letra (como PRO).",
    ),
    ("sa.error_plan_taken", "A plan with this code exists already.", "Ya existe un plan con este código."),
    (
        "sa.error_limit",
        "Enter a whole number from 1 up, or leave it empty.",
        "Ingrese un número entero desde 1, o déjelo vacío.",
    ),
    ("sa.error_plan", "Choose one of the plans.", "Elija uno de los planes."),
    ("sa.error_status", "Choose one of the statuses.", "Elija uno de los estados."),
    ("sa.error_trial_end", "A trial needs its end date.", "Una prueba necesita su fecha de fin."),
    ("sa.error_date", "Enter a date like 31/03/2026.", "Ingrese una fecha como 31/03/2026."),
    ("sa.error_future", "The date cannot be in the future.", "La fecha no puede ser futura."),
    ("sa.error_amount", "The amount must be more than zero.", "El importe debe ser mayor que cero."),
    ("sa.error_method", "Choose a payment method.", "Elija un medio de pago."),
    (
        "sa.nothing_saved",
        "Nothing was saved: check the fields marked.",
        "No se guardó nada: revise los campos marcados.",
    ),
    ("sa.banner", "Viewing {shop} as support — read only", "Viendo {shop} como soporte — solo lectura"),
    ("sa.stop_viewing", "Stop viewing", "Dejar de ver"),
    ("sa.view_dashboard", "Dashboard", "Inicio"),
    ("sa.view_products", "Products", "Productos"),
    ("sa.view_stock", "Low stock", "Stock bajo"),
    ("sa.view_sales", "Sales", "Ventas"),
    ("sa.sku", "SKU", "Código"),
    ("sa.trial_ended", "trial ended", "prueba terminada"),
    ("sa.price", "Price", "Precio"),
    ("sa.total", "Total", "Total"),
];

pub struct AdminPage<'a> {
    pub locale: Locale,
    pub csrf: String,
    pub admin: Option<&'a AdminCtx>,
    pub flash: Option<&'static str>,
}

pub fn csrf(p: &AdminPage) -> Markup {
    html! { input type="hidden" name="csrf" value=(p.csrf); }
}

/// The panel's layout. `banner` is shown on every "view as" page.
pub fn layout(p: &AdminPage, title: &str, banner: Option<Markup>, body: Markup) -> Markup {
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
                meta name="robots" content="noindex";
                title { (title) " · " (t(l, "sa.title")) }
                link rel="stylesheet" href="/static/app.css";
            }
            body.admin {
                header.top {
                    a.brand href="/admin/shops" { (t(l, "sa.title")) }
                    @if let Some(a) = p.admin {
                        nav aria-label="menu" {
                            a href="/admin/shops" { (t(l, "sa.nav_shops")) }
                            a href="/admin/plans" { (t(l, "sa.nav_plans")) }
                            a href="/admin/audit" { (t(l, "sa.nav_audit")) }
                        }
                        span.who { (a.display_name) " · " (a.email) }
                        form.inline method="post" action="/admin/logout" {
                            (csrf(p))
                            button.link type="submit" { (t(l, "sa.sign_out")) }
                        }
                    }
                    a.lang href={ "/lang/" (other) } { (t(l, "nav.language")) }
                }
                @if let Some(b) = banner { (b) }
                main {
                    @if let Some(key) = p.flash {
                        p.flash role="status" { (t(l, key)) }
                    }
                    (body)
                }
            }
        }
    }
}

pub fn login(p: &AdminPage, email: &str, message: Option<&str>) -> Markup {
    let l = p.locale;
    layout(
        p,
        t(l, "sa.login_title"),
        None,
        html! {
            section.card.narrow {
                h1 { (t(l, "sa.login_title")) }
                p.hint { (t(l, "sa.login_hint")) }
                @if let Some(m) = message { p.error role="alert" { (m) } }
                form method="post" action="/admin/login" {
                    (csrf(p))
                    div.field {
                        label for="f-email" { (t(l, "sa.email")) }
                        input id="f-email" name="email" type="email" value=(email) autocomplete="username" required;
                    }
                    div.field {
                        label for="f-password" { (t(l, "sa.password")) }
                        input id="f-password" name="password" type="password" autocomplete="current-password" required;
                    }
                    button type="submit" { (t(l, "sa.sign_in")) }
                }
            }
        },
    )
}

fn when(at: DateTime<Utc>, l: Locale) -> String {
    format!("{} UTC", super::layout::format_datetime(at.naive_utc(), l))
}

fn day(d: NaiveDate, l: Locale) -> String {
    super::layout::format_date(d, l)
}

/// Bytes as people read them (kB, MB, GB; powers of 1024).
pub fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn status_tag(l: Locale, active: bool) -> Markup {
    html! {
        @if active { span.tag { (t(l, "sa.status_active")) } }
        @else { span.tag.state-expired { (t(l, "sa.status_suspended")) } }
    }
}

fn sub_status_label(l: Locale, s: &str) -> &'static str {
    match s {
        "trialing" => t(l, "sa.sub_trialing"),
        "active" => t(l, "sa.sub_active"),
        "past_due" => t(l, "sa.sub_past_due"),
        _ => t(l, "sa.sub_canceled"),
    }
}

fn method_label(l: Locale, m: &str) -> &'static str {
    match m {
        "transfer" => t(l, "sa.pay_transfer"),
        "cash" => t(l, "sa.pay_cash"),
        "card" => t(l, "sa.pay_card"),
        _ => t(l, "sa.pay_other"),
    }
}

pub fn shops(p: &AdminPage, q: &str, list: &[ShopUsage], page: i64, more: bool) -> Markup {
    let l = p.locale;
    let today = Utc::now().date_naive();
    let link = |n: i64| format!("/admin/shops?q={}&page={n}", url_encode(q));
    layout(
        p,
        t(l, "sa.nav_shops"),
        None,
        html! {
            h1 { (t(l, "sa.nav_shops")) }
            form.filters method="get" action="/admin/shops" role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "sa.search")) }
                    input id="f-q" name="q" type="search" value=(q);
                }
                button type="submit" { (t(l, "sa.search_button")) }
            }
            @if list.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "sa.shop")) } th { (t(l, "sa.status")) } th { (t(l, "sa.plan")) }
                        th.num { (t(l, "sa.members")) } th.num { (t(l, "sa.products")) }
                        th.num { (t(l, "sa.sales_month")) } th { (t(l, "sa.last_activity")) }
                        th.num { (t(l, "sa.db_size")) }
                    } }
                    tbody { @for s in list { tr.inactive[!s.active] {
                        td { a href={ "/admin/shops/" (s.id) } { (s.name) } br; span.hint { "#" (s.id) " · " (s.slug) } }
                        td { (status_tag(l, s.active)) }
                        td { (s.plan_code.as_deref().unwrap_or("—"))
                             @if let Some(st) = &s.subscription_status { " · " (sub_status_label(l, st)) }
                             @if s.trial_ended(today) { " " span.tag.state-expired { (t(l, "sa.trial_ended")) } } }
                        td.num { (s.members) } td.num { (s.products) } td.num { (s.sales_this_month) }
                        td { (s.last_activity.map(|a| when(a, l)).unwrap_or_else(|| t(l, "sa.never").to_string())) }
                        td.num { (size(s.schema_bytes)) }
                    } } }
                } }
            }
            nav.pager {
                @if page > 1 { a href=(link(page - 1)) { (t(l, "sa.previous")) } }
                @if more { a href=(link(page + 1)) { (t(l, "sa.next")) } }
            }
        },
    )
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub struct ShopDetail {
    pub shop: ShopUsage,
    pub members: Vec<ShopMember>,
    pub subscription: Option<Subscription>,
    pub payments: Vec<Payment>,
    pub plans: Vec<Plan>,
    pub audit: Vec<AuditEntry>,
}

/// Forms of the shop page sent back with their errors.
#[derive(Default)]
pub struct ShopForms<'a> {
    pub subscription: Option<(&'a Form, SubscriptionErrors)>,
    pub payment: Option<(&'a Form, PaymentErrors)>,
}

fn err(l: Locale, e: Option<&'static str>) -> Markup {
    html! { @if let Some(e) = e { p.error { (t_dyn(l, e)) } } }
}

pub fn shop(p: &AdminPage, d: &ShopDetail, forms: &ShopForms, today: NaiveDate) -> Markup {
    let l = p.locale;
    let s = &d.shop;
    let sub_form = forms.subscription.as_ref();
    let pay_form = forms.payment.as_ref();
    let sub_val = |name: &str, stored: String| -> String {
        sub_form.map(|(f, _)| f.get(name).to_string()).unwrap_or(stored)
    };
    let sub = d.subscription.as_ref();
    let sub_plan = sub_val("plan", sub.map(|x| x.plan_code.clone()).unwrap_or_default());
    let sub_status = sub_val("status", sub.map(|x| x.status.clone()).unwrap_or_default());
    let sub_trial = sub_val(
        "trial_ends_on",
        sub.and_then(|x| x.trial_ends_on).map(|d| d.to_string()).unwrap_or_default(),
    );
    let sub_renews =
        sub_val("renews_on", sub.and_then(|x| x.renews_on).map(|d| d.to_string()).unwrap_or_default());
    let sub_err = sub_form.map(|(_, e)| e.clone()).unwrap_or_default();
    let pay_err = pay_form.map(|(_, e)| e.clone()).unwrap_or_default();
    let pay_val =
        |name: &str, default: String| pay_form.map(|(f, _)| f.get(name).to_string()).unwrap_or(default);
    layout(
        p,
        &s.name,
        None,
        html! {
            div.titlebar {
                h1 { (s.name) " " (status_tag(l, s.active)) }
                a href={ "/admin/audit?shop=" (s.id) } { (t(l, "sa.nav_audit")) }
            }
            @if sub_form.is_some() || pay_form.is_some() {
                p.error role="alert" { (t(l, "sa.nothing_saved")) }
            }
            section.card {
                h2 { (t(l, "sa.usage")) }
                dl.facts {
                    dt { "#" } dd { (s.id) " · " (s.slug) }
                    dt { (t(l, "sa.created")) } dd { (when(s.created_at, l)) }
                    dt { (t(l, "sa.members")) } dd { (s.members) }
                    dt { (t(l, "sa.products")) } dd { (s.products) }
                    dt { (t(l, "sa.sales_month")) } dd { (s.sales_this_month) }
                    dt { (t(l, "sa.last_activity")) }
                    dd { (s.last_activity.map(|a| when(a, l)).unwrap_or_else(|| t(l, "sa.never").to_string())) }
                    dt { (t(l, "sa.db_size")) } dd { (size(s.schema_bytes)) }
                    @if s.trial_ended(today) {
                        dt { (t(l, "sa.trial_ends_on")) }
                        dd.low { (s.trial_ends_on.map(|d| day(d, l)).unwrap_or_default()) " · " (t(l, "sa.trial_ended")) }
                    }
                }
                div.actions {
                    @if s.active {
                        form method="post" action={ "/admin/shops/" (s.id) "/suspend" } {
                            (csrf(p))
                            button.danger type="submit" { (t(l, "sa.suspend")) }
                        }
                        span.hint { (t(l, "sa.suspend_hint")) }
                    } @else {
                        form method="post" action={ "/admin/shops/" (s.id) "/reactivate" } {
                            (csrf(p))
                            button type="submit" { (t(l, "sa.reactivate")) }
                        }
                    }
                }
                div.actions {
                    form method="post" action={ "/admin/shops/" (s.id) "/view-as" } {
                        (csrf(p))
                        button.secondary type="submit" { (t(l, "sa.view_as")) }
                    }
                    span.hint { (t(l, "sa.view_as_hint")) }
                }
            }
            section.card {
                h2 { (t(l, "sa.members")) }
                @if d.members.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                    table.list { tbody { @for m in &d.members { tr {
                        td { (m.display_name) } td { (m.email) } td { (t_dyn(l, &format!("role.{}", m.role))) }
                        td { (when(m.joined_at, l)) }
                    } } } }
                }
            }
            section.card {
                h2 { (t(l, "sa.subscription")) }
                @if sub.is_none() { p.empty { (t(l, "sa.no_subscription")) } } @else {
                    form method="post" action={ "/admin/shops/" (s.id) "/subscription" } {
                        (csrf(p))
                        div.grid {
                            div.field {
                                label for="f-plan" { (t(l, "sa.plan")) }
                                select id="f-plan" name="plan" aria-invalid=[sub_err.plan.map(|_| "true")] {
                                    @for plan in &d.plans {
                                        option value=(plan.code) selected[plan.code == sub_plan] { (plan.code) " · " (plan.name) }
                                    }
                                }
                                (err(l, sub_err.plan))
                            }
                            div.field {
                                label for="f-status" { (t(l, "sa.status")) }
                                select id="f-status" name="status" aria-invalid=[sub_err.status.map(|_| "true")] {
                                    @for st in SUBSCRIPTION_STATUSES {
                                        option value=(st) selected[*st == sub_status] { (sub_status_label(l, st)) }
                                    }
                                }
                                (err(l, sub_err.status))
                            }
                            div.field {
                                label for="f-trial" { (t(l, "sa.trial_ends_on")) }
                                input id="f-trial" name="trial_ends_on" type="date" value=(sub_trial)
                                    aria-invalid=[sub_err.trial_ends_on.map(|_| "true")];
                                (err(l, sub_err.trial_ends_on))
                            }
                            div.field {
                                label for="f-renews" { (t(l, "sa.renews_on")) }
                                input id="f-renews" name="renews_on" type="date" value=(sub_renews)
                                    aria-invalid=[sub_err.renews_on.map(|_| "true")];
                                (err(l, sub_err.renews_on))
                            }
                        }
                        button type="submit" { (t(l, "sa.save")) }
                    }
                }
            }
            section.card {
                h2 { (t(l, "sa.payments")) }
                @if d.payments.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                    table.list {
                        thead { tr {
                            th { (t(l, "sa.paid_on")) } th.num { (t(l, "sa.amount")) } th { (t(l, "sa.method")) }
                            th { (t(l, "sa.reference")) } th { (t(l, "sa.recorded_by")) }
                        } }
                        tbody { @for x in &d.payments { tr {
                            td { (day(x.paid_on, l)) } td.num { (format_money(x.amount, l)) }
                            td { (method_label(l, &x.method)) } td { (x.reference) }
                            td { (x.recorded_by.as_deref().unwrap_or("—")) " · " (when(x.created_at, l)) }
                        } } }
                    }
                }
                h3 { (t(l, "sa.record_payment")) }
                form method="post" action={ "/admin/shops/" (s.id) "/payments" } {
                    (csrf(p))
                    div.grid {
                        div.field {
                            label for="f-amount" { (t(l, "sa.amount")) }
                            input id="f-amount" name="amount" type="text" inputmode="decimal" value=(pay_val("amount", String::new()))
                                aria-invalid=[pay_err.amount.map(|_| "true")];
                            (err(l, pay_err.amount))
                        }
                        div.field {
                            label for="f-paid-on" { (t(l, "sa.paid_on")) }
                            input id="f-paid-on" name="paid_on" type="date" value=(pay_val("paid_on", today.to_string()))
                                aria-invalid=[pay_err.paid_on.map(|_| "true")];
                            (err(l, pay_err.paid_on))
                        }
                        div.field {
                            label for="f-method" { (t(l, "sa.method")) }
                            select id="f-method" name="method" aria-invalid=[pay_err.method.map(|_| "true")] {
                                @let chosen = pay_val("method", "transfer".into());
                                @for m in PAYMENT_METHODS {
                                    option value=(m) selected[*m == chosen] { (method_label(l, m)) }
                                }
                            }
                            (err(l, pay_err.method))
                        }
                        div.field {
                            label for="f-reference" { (t(l, "sa.reference")) }
                            input id="f-reference" name="reference" type="text" maxlength="200" value=(pay_val("reference", String::new()))
                                aria-invalid=[pay_err.reference.map(|_| "true")];
                            (err(l, pay_err.reference))
                        }
                    }
                    button type="submit" { (t(l, "sa.record_payment")) }
                }
            }
            section.card {
                h2 { a href={ "/admin/audit?shop=" (s.id) } { (t(l, "sa.audit_title")) } }
                (audit_table(l, &d.audit))
            }
        },
    )
}

fn limit_cell(l: Locale, v: Option<i32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| t(l, "sa.unlimited").to_string())
}

/// The plan form sent back with errors: `editing` is the plan's code, or `None` for a new plan.
#[derive(Default)]
pub struct PlanForm<'a> {
    pub editing: Option<&'a str>,
    pub form: Option<&'a Form>,
    pub errors: PlanErrors,
}

fn plan_fields(l: Locale, prefix: &str, values: [String; 5], e: &PlanErrors) -> Markup {
    let [name, members, products, sales, price] = values;
    let input = |field: &str, key: &'static str, value: &str, error: Option<&'static str>, mode: &str| {
        let id = format!("f-{prefix}-{field}");
        html! {
            div.field {
                label for=(id) { (t(l, key)) }
                input id=(id) name=(field) type="text" inputmode=(mode) value=(value) aria-invalid=[error.map(|_| "true")];
                (err(l, error))
            }
        }
    };
    html! {
        (input("name", "sa.name", &name, e.name, "text"))
        (input("max_members", "sa.max_members", &members, e.max_members, "numeric"))
        (input("max_products", "sa.max_products", &products, e.max_products, "numeric"))
        (input("max_monthly_sales", "sa.max_monthly_sales", &sales, e.max_monthly_sales, "numeric"))
        (input("monthly_price", "sa.monthly_price", &price, e.monthly_price, "decimal"))
    }
}

pub fn plans(p: &AdminPage, list: &[Plan], form: &PlanForm) -> Markup {
    let l = p.locale;
    let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let sent = |f: &Form| {
        [
            f.get("name").to_string(),
            f.get("max_members").to_string(),
            f.get("max_products").to_string(),
            f.get("max_monthly_sales").to_string(),
            f.get("monthly_price").to_string(),
        ]
    };
    let creating = form.form.filter(|_| form.editing.is_none());
    let no_errors = PlanErrors::default();
    layout(
        p,
        t(l, "sa.plans_title"),
        None,
        html! {
            h1 { (t(l, "sa.plans_title")) }
            @if form.form.is_some() { p.error role="alert" { (t(l, "sa.nothing_saved")) } }
            div.table-wrap { table.list {
                thead { tr {
                    th { (t(l, "sa.code")) } th { (t(l, "sa.name")) } th.num { (t(l, "sa.max_members")) }
                    th.num { (t(l, "sa.max_products")) } th.num { (t(l, "sa.max_monthly_sales")) }
                    th.num { (t(l, "sa.monthly_price")) } th.num { (t(l, "sa.shops_on_plan")) }
                } }
                tbody { @for plan in list { tr {
                    td { strong { (plan.code) } } td { (plan.name) }
                    td.num { (limit_cell(l, plan.max_members)) } td.num { (limit_cell(l, plan.max_products)) }
                    td.num { (limit_cell(l, plan.max_monthly_sales)) } td.num { (format_money(plan.monthly_price, l)) }
                    td.num { (plan.shops) }
                } } }
            } }
            p.hint { (t(l, "sa.limit_hint")) }
            @for plan in list {
                @let editing = form.editing == Some(plan.code.as_str());
                @let values = match form.form.filter(|_| editing) {
                    Some(f) => sent(f),
                    None => [plan.name.clone(), opt(plan.max_members), opt(plan.max_products),
                             opt(plan.max_monthly_sales), input_value(plan.monthly_price, l)],
                };
                section.card id={ "plan-" (plan.code) } {
                    h2 { (plan.code) }
                    form method="post" action={ "/admin/plans/" (plan.code) } {
                        (csrf(p))
                        div.grid { (plan_fields(l, &plan.code, values, if editing { &form.errors } else { &no_errors })) }
                        button type="submit" { (t(l, "sa.save")) }
                    }
                }
            }
            section.card {
                h2 { (t(l, "sa.new_plan")) }
                form method="post" action="/admin/plans" {
                    (csrf(p))
                    div.grid {
                        div.field {
                            label for="f-new-code" { (t(l, "sa.code")) }
                            input id="f-new-code" name="code" type="text" value=(creating.map(|f| f.get("code")).unwrap_or(""))
                                aria-invalid=[creating.and(form.errors.code).map(|_| "true")];
                            (err(l, creating.and(form.errors.code)))
                        }
                        (plan_fields(l, "new", creating.map(sent).unwrap_or_default(),
                                     if creating.is_some() { &form.errors } else { &no_errors }))
                    }
                    button type="submit" { (t(l, "sa.create")) }
                }
            }
        },
    )
}

fn audit_table(l: Locale, list: &[AuditEntry]) -> Markup {
    html! {
        @if list.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
            div.table-wrap { table.list {
                thead { tr {
                    th { (t(l, "sa.when")) } th { (t(l, "sa.who")) } th { (t(l, "sa.action")) }
                    th { (t(l, "sa.shop")) } th { (t(l, "sa.details")) } th { (t(l, "sa.ip")) }
                } }
                tbody { @for e in list { tr {
                    td { (when(e.at, l)) }
                    td { (e.admin.as_deref().unwrap_or(t(l, "sa.cli"))) }
                    td { code { (e.action) } }
                    td { @if let Some(id) = e.tenant_id {
                        a href={ "/admin/shops/" (id) } { (e.shop.as_deref().unwrap_or("")) " #" (id) }
                    } }
                    td { @if e.details.as_object().is_some_and(|o| !o.is_empty()) { code { (e.details.to_string()) } } }
                    td { (e.ip.as_deref().unwrap_or("")) }
                } } }
            } }
        }
    }
}

pub fn audit(p: &AdminPage, list: &[AuditEntry], shop: Option<i64>, page: i64, more: bool) -> Markup {
    let l = p.locale;
    let link = |n: i64| match shop {
        Some(s) => format!("/admin/audit?shop={s}&page={n}"),
        None => format!("/admin/audit?page={n}"),
    };
    layout(
        p,
        t(l, "sa.audit_title"),
        None,
        html! {
            div.titlebar {
                h1 { (t(l, "sa.audit_title")) }
                @if shop.is_some() { a href="/admin/audit" { (t(l, "sa.all_shops")) } }
            }
            (audit_table(l, list))
            nav.pager {
                @if page > 1 { a href=(link(page - 1)) { (t(l, "sa.previous")) } }
                @if more { a href=(link(page + 1)) { (t(l, "sa.next")) } }
            }
        },
    )
}

/// The banner on every "view as" page, with the way out.
pub fn view_banner(p: &AdminPage, shop: &str, tenant_id: i64) -> Markup {
    let l = p.locale;
    html! {
        div.card.view-as role="status" {
            strong.low { (tf(l, "sa.banner", &[("shop", shop)])) }
            " "
            nav.actions aria-label="support" {
                a href={ "/admin/view/" (tenant_id) } { (t(l, "sa.view_dashboard")) }
                a href={ "/admin/view/" (tenant_id) "/products" } { (t(l, "sa.view_products")) }
                a href={ "/admin/view/" (tenant_id) "/stock" } { (t(l, "sa.view_stock")) }
                a href={ "/admin/view/" (tenant_id) "/sales" } { (t(l, "sa.view_sales")) }
                form.inline method="post" action="/admin/view/close" {
                    (csrf(p))
                    button.link type="submit" { (t(l, "sa.stop_viewing")) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `crate::i18n` checks only its own key families: every "sa." literal of the panel's files
    /// must be in TEXTS.
    #[test]
    fn every_panel_key_is_translated() {
        let sources = [
            include_str!("admin.rs"),
            include_str!("admin_view.rs"),
            include_str!("../routes/admin.rs"),
            include_str!("../routes/admin_view.rs"),
            include_str!("../domain/admin.rs"),
        ];
        let known: std::collections::HashSet<&str> = TEXTS.iter().map(|(k, _, _)| *k).collect();
        for text in sources {
            for (i, chunk) in text.split('"').enumerate() {
                let shaped = i % 2 == 1
                    && chunk.starts_with("sa.")
                    && chunk.len() > 3
                    && chunk.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                assert!(!shaped || known.contains(chunk), "missing translation: {chunk}");
            }
        }
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(2048), "2.0 kB");
        assert_eq!(size(5 * 1024 * 1024 + 1), "5.0 MB");
    }
}
