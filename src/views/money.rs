//! The money pages (owner and admin): the ledger with its filters, totals and the form for other
//! income and expenses; the expense categories; the balance by period with its chart.

use chrono::NaiveDate;
use maud::{html, Markup};

use super::chart::{self, Point};
use super::layout::{csrf, format_date, format_datetime, input, page, select, InputAttrs, Page};
use super::sales::method_label;
use crate::domain::balance::{Bucket, Grouping, Range};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::customers::PaymentMethod;
use crate::domain::money::format_money;
use crate::domain::money_ledger::{Category, EntryFields, LedgerPage, LedgerQuery, KINDS};
use crate::i18n::{t, t_dyn, Locale};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.money_ledger", "Money", "Caja"),
    ("nav.balance", "Balance", "Balance"),
    ("money.title", "Money ledger", "Movimientos de caja"),
    ("money.from", "From", "Desde"),
    ("money.to", "To", "Hasta"),
    ("money.kind", "Kind", "Tipo"),
    ("money.method", "Method", "Medio"),
    ("money.category", "Category", "Categoría"),
    ("money.search", "Text", "Texto"),
    ("money.all", "All", "Todos"),
    ("money.all_income", "All income", "Todos los ingresos"),
    ("money.all_expenses", "All expenses", "Todos los egresos"),
    ("money.kind_sale", "Sale", "Venta"),
    ("money.kind_sale_void", "Voided sale", "Venta anulada"),
    ("money.kind_sale_return", "Return", "Devolución"),
    ("money.kind_customer_payment", "Customer payment", "Cobro a cliente"),
    ("money.kind_other_income", "Other income", "Otro ingreso"),
    ("money.kind_invoice_payment", "Invoice payment", "Pago de factura"),
    ("money.kind_other_expense", "Other expense", "Otro egreso"),
    ("money.income", "Income", "Ingresos"),
    ("money.expenses", "Expenses", "Egresos"),
    ("money.net", "Net", "Neto"),
    ("money.amount", "Amount", "Importe"),
    ("money.description", "Description", "Descripción"),
    ("money.none", "No entries match.", "No hay movimientos que coincidan."),
    ("money.totals_hint", "Totals of everything the filter selects, on every page.", "Totales de todo lo que selecciona el filtro, en todas las páginas."),
    ("money.record", "Record other income or expense", "Registrar otro ingreso o egreso"),
    ("money.direction", "Income or expense", "Ingreso o egreso"),
    ("money.direction_income", "Income", "Ingreso"),
    ("money.direction_expense", "Expense", "Egreso"),
    ("money.choose", "Choose…", "Elija…"),
    ("money.category_hint", "Needed for an expense.", "Necesaria para un egreso."),
    ("money.submit", "Record", "Registrar"),
    ("money.reverse", "Reverse", "Revertir"),
    ("money.reverse_confirm", "Book the opposite entry to cancel this one?", "¿Registrar el movimiento opuesto para anular este?"),
    ("money.reverses", "Reverses #{id}", "Revierte el #{id}"),
    ("money.reversed_by", "Reversed by #{id}", "Revertido por el #{id}"),
    ("money.sale", "Sale #{id}", "Venta #{id}"),
    ("money.error_positive", "Enter an amount greater than zero.", "Ingrese un importe mayor que cero."),
    ("money.error_category_required", "An expense needs a category.", "Un egreso necesita una categoría."),
    ("money.error_category_unknown", "Choose one of the active categories.", "Elija una de las categorías activas."),
    ("money.error_category_taken", "There is already a category with that name.", "Ya hay una categoría con ese nombre."),
    ("money.error_already_reversed", "This entry has already been reversed.", "Este movimiento ya fue revertido."),
    ("money.error_not_reversible", "Only other income or expenses recorded by hand can be reversed.", "Solo se pueden revertir otros ingresos o egresos cargados a mano."),
    ("money.error_date", "Enter a date like 31/12/2026.", "Ingrese una fecha como 31/12/2026."),
    ("money.categories", "Expense categories", "Categorías de egresos"),
    ("money.categories_hint", "Every expense names one. A category in use is deactivated, not deleted.", "Cada egreso lleva una. Una categoría usada se desactiva, no se elimina."),
    ("money.category_new", "New category", "Nueva categoría"),
    ("money.category_add", "Add", "Agregar"),
    ("money.rename", "Rename", "Renombrar"),
    ("money.deactivate", "Deactivate", "Desactivar"),
    ("money.activate", "Activate", "Activar"),
    ("money.inactive", "inactive", "inactiva"),
    ("money.manage_categories", "Manage categories", "Administrar categorías"),
    ("balance.title", "Balance", "Balance"),
    ("balance.income", "Income", "Ingresos"),
    ("balance.expenses", "Expenses", "Egresos"),
    ("balance.net", "Net", "Neto"),
    ("balance.period", "Period", "Período"),
    ("balance.group", "Group by", "Agrupar por"),
    ("balance.group_auto", "Automatic", "Automático"),
    ("balance.group_day", "Day", "Día"),
    ("balance.group_week", "Week", "Semana"),
    ("balance.group_month", "Month", "Mes"),
    ("balance.show", "Show", "Ver"),
    ("balance.total", "Total", "Total"),
    ("balance.chart_title", "Income, expenses and net from {from} to {to}", "Ingresos, egresos y neto del {from} al {to}"),
    ("balance.chart_desc", "Bars: income up and expenses down per {group}; line: net. The same figures are in the table below.", "Barras: ingresos hacia arriba y egresos hacia abajo por {group}; línea: neto. Las mismas cifras están en la tabla de abajo."),
    ("balance.error_range_order", "The end is before the start.", "El fin es anterior al inicio."),
    ("balance.error_range_too_long", "Choose at most ten years.", "Elija como máximo diez años."),
    ("balance.time_zone", "Days in the shop's time zone: {tz}.", "Días según la zona horaria del negocio: {tz}."),
    ("flash.money_recorded", "Recorded.", "Registrado."),
    ("flash.money_reversed", "Reversed: the opposite entry was booked.", "Revertido: se registró el movimiento opuesto."),
];

pub fn kind_label(l: Locale, kind: &str) -> &'static str {
    match kind {
        "sale" => t(l, "money.kind_sale"),
        "sale_void" => t(l, "money.kind_sale_void"),
        "sale_return" => t(l, "money.kind_sale_return"),
        "customer_payment" => t(l, "money.kind_customer_payment"),
        "other_income" => t(l, "money.kind_other_income"),
        "invoice_payment" => t(l, "money.kind_invoice_payment"),
        "other_expense" => t(l, "money.kind_other_expense"),
        _ => t(l, "movement.other"),
    }
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub struct LedgerView<'a> {
    pub query: &'a LedgerQuery,
    pub page: &'a LedgerPage,
    pub categories: &'a [Category],
    pub filter_errors: &'a FieldErrors,
    /// The manual entry form as sent (kept after a refusal) and its errors.
    pub entry: &'a EntryFields,
    pub entry_errors: &'a FieldErrors,
}

fn ledger_link(q: &LedgerQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("from", &iso(q.from)).append_pair("to", &iso(q.to));
    s.append_pair("kind", &q.kind).append_pair("method", &q.method);
    s.append_pair("category", &q.category_id.map(|c| c.to_string()).unwrap_or_default());
    s.append_pair("q", &q.q).append_pair("page", &page.to_string());
    format!("/money?{}", s.finish())
}

fn filters(l: Locale, v: &LedgerView) -> Markup {
    let q = v.query;
    let fe = v.filter_errors;
    html! {
        form.filters method="get" action="/money" {
            div.field {
                label for="f-from" { (t(l, "money.from")) }
                input id="f-from" type="date" name="from" value=(iso(q.from)) aria-invalid=[error_for(fe, "from").map(|_| "true")];
                @if let Some(e) = error_for(fe, "from") { p.error { (t_dyn(l, e)) } }
            }
            div.field {
                label for="f-to" { (t(l, "money.to")) }
                input id="f-to" type="date" name="to" value=(iso(q.to)) aria-invalid=[error_for(fe, "to").map(|_| "true")];
                @if let Some(e) = error_for(fe, "to") { p.error { (t_dyn(l, e)) } }
            }
            div.field {
                label for="q-kind" { (t(l, "money.kind")) }
                select id="q-kind" name="kind" {
                    option value="" { (t(l, "money.all")) }
                    option value="income" selected[q.kind == "income"] { (t(l, "money.all_income")) }
                    option value="expense" selected[q.kind == "expense"] { (t(l, "money.all_expenses")) }
                    @for k in KINDS { option value=(k) selected[q.kind == k] { (kind_label(l, k)) } }
                }
            }
            div.field {
                label for="q-method" { (t(l, "money.method")) }
                select id="q-method" name="method" {
                    option value="" { (t(l, "money.all")) }
                    @for m in PaymentMethod::ALL { option value=(m.code()) selected[q.method == m.code()] { (method_label(l, m.code())) } }
                }
            }
            div.field {
                label for="q-category" { (t(l, "money.category")) }
                select id="q-category" name="category" {
                    option value="" { (t(l, "money.all")) }
                    @for c in v.categories { option value=(c.id) selected[q.category_id == Some(c.id)] { (c.name) } }
                }
            }
            div.field {
                label for="q-q" { (t(l, "money.search")) }
                input id="q-q" type="search" name="q" value=(q.q);
            }
            button type="submit" { (t(l, "filter.apply")) }
        }
    }
}

fn entry_form(p: &Page, v: &LedgerView) -> Markup {
    let l = p.locale;
    let (f, e) = (v.entry, v.entry_errors);
    let directions = vec![
        (String::new(), t(l, "money.choose").to_string()),
        ("income".to_string(), t(l, "money.direction_income").to_string()),
        ("expense".to_string(), t(l, "money.direction_expense").to_string()),
    ];
    let mut methods = vec![(String::new(), t(l, "money.choose").to_string())];
    methods.extend(
        PaymentMethod::ALL.iter().map(|m| (m.code().to_string(), method_label(l, m.code()).to_string())),
    );
    let mut categories = vec![(String::new(), t(l, "money.choose").to_string())];
    categories.extend(v.categories.iter().filter(|c| c.active).map(|c| (c.id.to_string(), c.name.clone())));
    html! {
        section.card {
            h2 { (t(l, "money.record")) }
            @if let Some(err) = error_for(e, "form") { p.error role="alert" { (t_dyn(l, err)) } }
            form method="post" action="/money" {
                (csrf(p))
                (select(l, "direction", "money.direction", &directions, &f.direction, error_for(e, "direction")))
                (input(l, "amount", "money.amount", &f.amount, error_for(e, "amount"), InputAttrs::DECIMAL))
                (select(l, "method", "money.method", &methods, &f.method, error_for(e, "method")))
                (select(l, "category", "money.category", &categories, &f.category, error_for(e, "category")))
                p.hint { (t(l, "money.category_hint")) " " a href="/money/categories" { (t(l, "money.manage_categories")) } }
                (input(l, "description", "money.description", &f.description, error_for(e, "description"), InputAttrs::TEXT))
                button type="submit" { (t(l, "money.submit")) }
            }
        }
    }
}

pub fn ledger(p: &Page, v: &LedgerView) -> Markup {
    let l = p.locale;
    let totals = &v.page.totals;
    page(
        p,
        t(l, "money.title"),
        html! {
            div.titlebar { h1 { (t(l, "money.title")) } a.button href="/balance" { (t(l, "nav.balance")) } }
            (filters(l, v))
            div.kpis.totals {
                div.kpi { span { (t(l, "money.income")) } strong.income { (format_money(totals.income, l)) } }
                div.kpi { span { (t(l, "money.expenses")) } strong.expenses { (format_money(totals.expenses, l)) } }
                div.kpi { span { (t(l, "money.net")) } strong.net.low[totals.net().is_sign_negative()] { (format_money(totals.net(), l)) } }
            }
            p.hint { (t(l, "money.totals_hint")) }
            @if v.page.rows.is_empty() { p.empty { (t(l, "money.none")) } } @else {
                div.table-wrap { table.list.ledger {
                    thead { tr {
                        th.num { "#" } th { (t(l, "field.when")) } th { (t(l, "money.kind")) } th { (t(l, "money.method")) }
                        th { (t(l, "money.category")) } th { (t(l, "money.description")) } th { (t(l, "field.who")) }
                        th.num { (t(l, "money.amount")) } th {}
                    } }
                    tbody { @for r in &v.page.rows { tr.inactive[r.reversed_by.is_some() || r.reverses_id.is_some()] {
                        td.num { (r.id) }
                        td { (format_datetime(r.at, l)) }
                        td { (kind_label(l, &r.kind)) }
                        td { (method_label(l, &r.method)) }
                        td { (r.category) }
                        td {
                            (r.description)
                            @if let Some(s) = r.sale_id { " " a href={ "/sales/" (s) } { (crate::i18n::tf(l, "money.sale", &[("id", &s.to_string())])) } }
                            @if let Some((id, name)) = &r.customer { " " a href={ "/customers/" (id) } { (name) } }
                            @if let Some(o) = r.reverses_id { " " span.tag { (crate::i18n::tf(l, "money.reverses", &[("id", &o.to_string())])) } }
                            @if let Some(o) = r.reversed_by { " " span.tag { (crate::i18n::tf(l, "money.reversed_by", &[("id", &o.to_string())])) } }
                        }
                        td { (r.user_name.as_deref().unwrap_or("—")) }
                        td.num.low[r.amount.is_sign_negative()] { (format_money(r.amount, l)) }
                        td {
                            @if r.reversible() {
                                form.inline method="post" action={ "/money/" (r.id) "/reverse" } data-confirm=(t(l, "money.reverse_confirm")) {
                                    (csrf(p))
                                    button.link type="submit" { (t(l, "money.reverse")) }
                                }
                            }
                        }
                    } } }
                } }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if v.query.page > 0 { a href=(ledger_link(v.query, v.query.page - 1)) rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.page.has_next { a href=(ledger_link(v.query, v.query.page + 1)) rel="next" { (t(l, "pager.next")) " →" } }
            }
            (entry_form(p, v))
        },
    )
}

pub struct CategoriesView<'a> {
    pub categories: &'a [Category],
    /// The category a refused form was about (None: the new one), its text and errors.
    pub refused: Option<(Option<i64>, &'a str, &'a FieldErrors)>,
}

pub fn categories(p: &Page, v: &CategoriesView) -> Markup {
    let l = p.locale;
    let errors_for = |id: Option<i64>| match v.refused {
        Some((rid, text, e)) if rid == id => Some((text, error_for(e, "name"))),
        _ => None,
    };
    page(
        p,
        t(l, "money.categories"),
        html! {
            div.titlebar { h1 { (t(l, "money.categories")) } a.button href="/money" { (t(l, "money.title")) } }
            p.hint { (t(l, "money.categories_hint")) }
            table.list { tbody { @for c in v.categories {
                @let refused = errors_for(Some(c.id));
                tr.inactive[!c.active] {
                    td {
                        form.inline method="post" action={ "/money/categories/" (c.id) } {
                            (csrf(p))
                            @let name = refused.map_or(c.name.as_str(), |(text, _)| text);
                            @let err = refused.and_then(|(_, e)| e);
                            label.visually-hidden for={ "cat-" (c.id) } { (t(l, "field.name")) }
                            input id={ "cat-" (c.id) } name="name" value=(name) aria-invalid=[err.map(|_| "true")];
                            button.link type="submit" { (t(l, "money.rename")) }
                            @if let Some(e) = err { p.error { (t_dyn(l, e)) } }
                        }
                        @if !c.active { " " span.tag { (t(l, "money.inactive")) } }
                    }
                    td {
                        form.inline method="post" action={ "/money/categories/" (c.id) "/active" } {
                            (csrf(p))
                            input type="hidden" name="active" value=(if c.active { "no" } else { "yes" });
                            button.link type="submit" { (t(l, if c.active { "money.deactivate" } else { "money.activate" })) }
                        }
                    }
                }
            } } }
            section.card {
                h2 { (t(l, "money.category_new")) }
                @let refused = errors_for(None);
                form method="post" action="/money/categories" {
                    (csrf(p))
                    (input(l, "name", "field.name", refused.map_or("", |(text, _)| text), refused.and_then(|(_, e)| e), InputAttrs::TEXT))
                    button type="submit" { (t(l, "money.category_add")) }
                }
            }
        },
    )
}

pub struct BalanceView<'a> {
    /// The range as typed (kept on errors) and its errors.
    pub from: &'a str,
    pub to: &'a str,
    pub errors: &'a FieldErrors,
    pub range: Range,
    /// The grouping chosen in the form ('' = automatic) and the one used.
    pub chosen: &'a str,
    pub grouping: Grouping,
    pub buckets: &'a [Bucket],
    pub time_zone: &'a str,
}

fn bucket_label(b: &Bucket, g: Grouping, l: Locale) -> String {
    match (g, l) {
        (Grouping::Day, Locale::Es) => b.first.format("%d/%m").to_string(),
        (Grouping::Day, Locale::En) => b.first.format("%m-%d").to_string(),
        (Grouping::Week, _) => format_date(b.first, l),
        (Grouping::Month, _) => b.first.format("%m/%Y").to_string(),
    }
}

fn group_label(l: Locale, g: Grouping) -> &'static str {
    match g {
        Grouping::Day => t(l, "balance.group_day"),
        Grouping::Week => t(l, "balance.group_week"),
        Grouping::Month => t(l, "balance.group_month"),
    }
}

pub fn balance(p: &Page, v: &BalanceView) -> Markup {
    let l = p.locale;
    let points: Vec<Point> = v
        .buckets
        .iter()
        .map(|b| Point { label: bucket_label(b, v.grouping, l), income: b.income, expenses: b.expenses })
        .collect();
    let income: rust_decimal::Decimal = v.buckets.iter().map(|b| b.income).sum();
    let expenses: rust_decimal::Decimal = v.buckets.iter().map(|b| b.expenses).sum();
    let (from, to) = (format_date(v.range.from, l), format_date(v.range.to, l));
    let title = crate::i18n::tf(l, "balance.chart_title", &[("from", &from), ("to", &to)]);
    let desc =
        crate::i18n::tf(l, "balance.chart_desc", &[("group", &group_label(l, v.grouping).to_lowercase())]);
    let mut groups = vec![(String::new(), t(l, "balance.group_auto").to_string())];
    groups.extend(Grouping::ALL.iter().map(|g| (g.code().to_string(), group_label(l, *g).to_string())));
    page(
        p,
        t(l, "balance.title"),
        html! {
            div.titlebar { h1 { (t(l, "balance.title")) } a.button href="/money" { (t(l, "money.title")) } }
            form.filters method="get" action="/balance" {
                div.field {
                    label for="f-from" { (t(l, "money.from")) }
                    input id="f-from" type="date" name="from" value=(v.from) aria-invalid=[error_for(v.errors, "from").map(|_| "true")];
                    @if let Some(e) = error_for(v.errors, "from") { p.error { (t_dyn(l, e)) } }
                }
                div.field {
                    label for="f-to" { (t(l, "money.to")) }
                    input id="f-to" type="date" name="to" value=(v.to) aria-invalid=[error_for(v.errors, "to").map(|_| "true")];
                    @if let Some(e) = error_for(v.errors, "to") { p.error { (t_dyn(l, e)) } }
                }
                (select(l, "group", "balance.group", &groups, v.chosen, None))
                button type="submit" { (t(l, "balance.show")) }
            }
            p.hint { (crate::i18n::tf(l, "balance.time_zone", &[("tz", v.time_zone)])) }
            div.kpis.totals {
                div.kpi { span { (t(l, "balance.income")) } strong.income { (format_money(income, l)) } }
                div.kpi { span { (t(l, "balance.expenses")) } strong.expenses { (format_money(expenses, l)) } }
                div.kpi { span { (t(l, "balance.net")) } strong.net.low[(income - expenses).is_sign_negative()] { (format_money(income - expenses, l)) } }
            }
            figure.chart {
                (chart::income_expenses(l, "balance-chart", &title, &desc, &points))
            }
            div.table-wrap { table.list.balance {
                caption { (title) }
                thead { tr {
                    th scope="col" { (t(l, "balance.period")) }
                    th.num scope="col" { (t(l, "balance.income")) }
                    th.num scope="col" { (t(l, "balance.expenses")) }
                    th.num scope="col" { (t(l, "balance.net")) }
                } }
                tbody { @for b in v.buckets { tr {
                    th scope="row" {
                        (format_date(b.first, l))
                        @if b.last != b.first { " – " (format_date(b.last, l)) }
                    }
                    td.num { (format_money(b.income, l)) }
                    td.num { (format_money(b.expenses, l)) }
                    td.num.low[b.net().is_sign_negative()] { (format_money(b.net(), l)) }
                } } }
                tfoot { tr {
                    th scope="row" { (t(l, "balance.total")) }
                    td.num { (format_money(income, l)) }
                    td.num { (format_money(expenses, l)) }
                    td.num { (format_money(income - expenses, l)) }
                } }
            } }
        },
    )
}
