//! Customer list, customer form and customer page (details, account with its entries, sales and
//! quotes, and the payment and opening-balance forms for owner and admin).

use maud::{html, Markup};

use super::layout::{csrf, format_date, format_datetime, input, page, select, textarea, InputAttrs, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::customers::{
    Customer, CustomerFields, CustomerQuery, LedgerEntry, PaymentMethod, QuoteSummary, SaleSummary,
};
use crate::domain::money::format_money;
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("customer.new", "New customer", "Nuevo cliente"),
    ("customer.edit", "Edit customer", "Editar cliente"),
    ("customer.none_found", "No customers match.", "No hay clientes que coincidan."),
    ("customer.search", "Name or tax ID", "Nombre o CUIT/DNI"),
    ("customer.search_hint", "e.g. García or 20-12345678-3", "p. ej. García o 20-12345678-3"),
    ("customer.field_tax_id", "Tax ID", "CUIT / DNI"),
    ("customer.field_phone", "Phone", "Teléfono"),
    ("customer.field_address", "Address", "Dirección"),
    ("customer.field_notes", "Notes", "Notas"),
    ("customer.field_balance", "Balance", "Saldo"),
    ("customer.final_consumer", "Final consumer", "Consumidor final"),
    (
        "customer.final_consumer_hint",
        "Sales without a chosen customer go to this one. It has no account and is always kept.",
        "Las ventas sin cliente elegido van a este. No tiene cuenta corriente y no se puede eliminar.",
    ),
    ("customer.owes", "Owes {amount}", "Debe {amount}"),
    ("customer.credit", "In their favour: {amount}", "A su favor: {amount}"),
    ("customer.settled", "Owes nothing", "No debe nada"),
    ("customer.account", "Account", "Cuenta corriente"),
    ("customer.no_entries", "No account entries yet.", "Todavía no hay movimientos en la cuenta."),
    ("customer.entry_opening", "Opening balance", "Saldo inicial"),
    ("customer.entry_sale", "Sale on account", "Venta a cuenta"),
    ("customer.entry_payment", "Payment", "Pago"),
    ("customer.entry_void", "Voided sale", "Venta anulada"),
    ("customer.entry_return", "Return", "Devolución"),
    ("customer.entry_other", "Other", "Otro"),
    ("customer.balance_after", "Balance after", "Saldo resultante"),
    ("customer.sales", "Sales", "Ventas"),
    ("customer.no_sales", "No sales yet.", "Todavía no hay ventas."),
    ("customer.quotes", "Quotes", "Presupuestos"),
    ("customer.no_quotes", "No quotes yet.", "Todavía no hay presupuestos."),
    ("customer.latest_only", "Only the latest {count} are shown.", "Se muestran solo los últimos {count}."),
    ("customer.number", "No.", "N.º"),
    ("customer.total", "Total", "Total"),
    ("customer.valid_until", "Valid until", "Válido hasta"),
    ("customer.sale_completed", "Completed", "Completada"),
    ("customer.sale_voided", "Voided", "Anulada"),
    ("customer.quote_draft", "Draft", "Borrador"),
    ("customer.quote_sent", "Sent", "Enviado"),
    ("customer.quote_accepted", "Accepted", "Aceptado"),
    ("customer.quote_converted", "Converted into a sale", "Convertido en venta"),
    ("customer.quote_expired", "Expired", "Vencido"),
    ("customer.opening_title", "Opening balance", "Saldo inicial"),
    (
        "customer.opening_hint",
        "What the customer already owed before using Stock. It can only be the account's first entry.",
        "Lo que el cliente ya debía antes de usar Stock. Solo puede ser el primer movimiento de la cuenta.",
    ),
    ("customer.opening_submit", "Load opening balance", "Cargar saldo inicial"),
    (
        "customer.error_opening_not_first",
        "This account already has entries: an opening balance can only be the first one.",
        "Esta cuenta ya tiene movimientos: el saldo inicial solo puede ser el primero.",
    ),
    (
        "customer.error_final_consumer_kept",
        "The final consumer is always kept: it cannot be deleted or deactivated.",
        "El consumidor final se conserva siempre: no se puede eliminar ni desactivar.",
    ),
    (
        "customer.error_has_history",
        "This customer has sales, quotes or account entries and cannot be deleted: deactivate it instead.",
        "Este cliente tiene ventas, presupuestos o movimientos de cuenta y no se puede eliminar: desactívelo.",
    ),
    ("customer.deactivate", "Deactivate", "Desactivar"),
    ("customer.reactivate", "Reactivate", "Reactivar"),
    (
        "customer.deactivate_hint",
        "An inactive customer keeps its history but is not offered at the counter.",
        "Un cliente inactivo conserva su historial pero no se ofrece en el mostrador.",
    ),
    ("customer.delete", "Delete customer", "Eliminar cliente"),
    (
        "customer.delete_hint",
        "Only possible while it has no sales, quotes or account entries.",
        "Solo es posible mientras no tenga ventas, presupuestos ni movimientos de cuenta.",
    ),
    ("payment.title", "Record a payment", "Registrar un pago"),
    (
        "payment.hint",
        "Lowers what the customer owes and counts as income today.",
        "Baja lo que debe el cliente y cuenta como ingreso hoy.",
    ),
    ("payment.method", "Method", "Medio de pago"),
    ("payment.method_cash", "Cash", "Efectivo"),
    ("payment.method_card", "Card", "Tarjeta"),
    ("payment.method_transfer", "Transfer", "Transferencia"),
    ("payment.amount", "Amount", "Importe"),
    ("payment.submit", "Record payment", "Registrar pago"),
    ("payment.error_positive", "Enter an amount greater than zero.", "Ingrese un importe mayor que cero."),
    (
        "payment.error_exceeds_debt",
        "The payment is more than what the customer owes ({balance}).",
        "El pago supera lo que debe el cliente ({balance}).",
    ),
    (
        "payment.error_final_consumer",
        "The final consumer has no account.",
        "El consumidor final no tiene cuenta corriente.",
    ),
];

pub fn method_label(l: Locale, m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => t(l, "payment.method_cash"),
        PaymentMethod::Card => t(l, "payment.method_card"),
        PaymentMethod::Transfer => t(l, "payment.method_transfer"),
    }
}

fn entry_label(l: Locale, kind: &str) -> &'static str {
    match kind {
        "opening" => t(l, "customer.entry_opening"),
        "sale" => t(l, "customer.entry_sale"),
        "payment" => t(l, "customer.entry_payment"),
        "void" => t(l, "customer.entry_void"),
        "return" => t(l, "customer.entry_return"),
        _ => t(l, "customer.entry_other"),
    }
}

fn sale_status_label(l: Locale, status: &str) -> &'static str {
    match status {
        "voided" => t(l, "customer.sale_voided"),
        _ => t(l, "customer.sale_completed"),
    }
}

fn quote_status_label(l: Locale, q: &QuoteSummary) -> &'static str {
    match q.status.as_str() {
        _ if q.expired => t(l, "customer.quote_expired"),
        "sent" => t(l, "customer.quote_sent"),
        "accepted" => t(l, "customer.quote_accepted"),
        "converted" => t(l, "customer.quote_converted"),
        _ => t(l, "customer.quote_draft"),
    }
}

/// "Owes 1.234,50", "In their favour: …" or "Owes nothing".
pub fn balance_text(l: Locale, balance: rust_decimal::Decimal) -> String {
    let amount = format_money(balance.abs(), l);
    if balance.is_sign_positive() && !balance.is_zero() {
        tf(l, "customer.owes", &[("amount", &amount)])
    } else if balance.is_zero() {
        t(l, "customer.settled").to_string()
    } else {
        tf(l, "customer.credit", &[("amount", &amount)])
    }
}

/// The query string of a list page, for pagination links.
pub fn list_query(q: &CustomerQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if !q.q.is_empty() {
        s.append_pair("q", &q.q);
    }
    s.append_pair(
        "active",
        match q.active {
            Some(true) => "yes",
            Some(false) => "no",
            None => "all",
        },
    );
    if page > 0 {
        s.append_pair("page", &page.to_string());
    }
    s.finish()
}

pub struct ListView<'a> {
    pub query: &'a CustomerQuery,
    pub items: &'a [Customer],
    pub has_next: bool,
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    let q = v.query;
    let active_opts = [
        ("yes".to_string(), t(l, "filter.active").to_string()),
        ("no".to_string(), t(l, "filter.inactive").to_string()),
        ("all".to_string(), t(l, "filter.all").to_string()),
    ];
    let active_sel = match q.active {
        Some(true) => "yes",
        Some(false) => "no",
        None => "all",
    };
    page(
        p,
        t(l, "nav.customers"),
        html! {
            div.titlebar {
                h1 { (t(l, "nav.customers")) }
                div.actions { a.button href="/customers/new" { (t(l, "customer.new")) } }
            }
            form.filters method="get" action="/customers" role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "customer.search")) }
                    input id="f-q" type="search" name="q" value=(q.q) autofocus placeholder=(t(l, "customer.search_hint"));
                }
                (select(l, "active", "field.status", &active_opts, active_sel, None))
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "customer.none_found")) }
            } @else {
                div.table-wrap {
                    table.list {
                        thead { tr {
                            th { (t(l, "field.name")) } th { (t(l, "customer.field_tax_id")) }
                            th { (t(l, "customer.field_phone")) } th.num { (t(l, "customer.field_balance")) }
                        } }
                        tbody {
                            @for c in v.items {
                                tr.inactive[!c.active] {
                                    td {
                                        a href={ "/customers/" (c.id) } { (c.name) }
                                        @if c.is_final_consumer { " " span.tag { (t(l, "customer.final_consumer")) } }
                                        @if !c.active { " " span.tag { (t(l, "filter.inactive")) } }
                                    }
                                    td { (c.tax_id) }
                                    td { (c.phone) }
                                    td.num.low[c.balance.is_sign_positive() && !c.balance.is_zero()] {
                                        @if !c.is_final_consumer { (format_money(c.balance, l)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if q.page > 0 { a href={ "/customers?" (list_query(q, q.page - 1)) } rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href={ "/customers?" (list_query(q, q.page + 1)) } rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

pub struct FormView<'a> {
    pub fields: &'a CustomerFields,
    pub errors: &'a FieldErrors,
    /// None for a new customer.
    pub customer_id: Option<i64>,
}

pub fn form(p: &Page, v: &FormView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(v.errors, name);
    let title = if v.customer_id.is_some() { t(l, "customer.edit") } else { t(l, "customer.new") };
    let (action, back) = match v.customer_id {
        Some(id) => (format!("/customers/{id}"), format!("/customers/{id}")),
        None => ("/customers".to_string(), "/customers".to_string()),
    };
    page(
        p,
        title,
        html! {
            h1 { (title) }
            @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            @if let Some(err) = e("form") { p.error role="alert" { (t_dyn(l, err)) } }
            form.card method="post" action=(action) {
                (csrf(p))
                div.grid {
                    (input(l, "name", "field.name", &f.name, e("name"), InputAttrs { autofocus: true, ..InputAttrs::TEXT }))
                    (input(l, "tax_id", "customer.field_tax_id", &f.tax_id, e("tax_id"), InputAttrs::TEXT))
                    (input(l, "email", "field.email", &f.email, e("email"), InputAttrs { kind: "email", ..InputAttrs::TEXT }))
                    (input(l, "phone", "customer.field_phone", &f.phone, e("phone"), InputAttrs { kind: "tel", ..InputAttrs::TEXT }))
                    (input(l, "address", "customer.field_address", &f.address, e("address"), InputAttrs::TEXT))
                }
                (textarea(l, "notes", "customer.field_notes", &f.notes, e("notes")))
                button type="submit" { (t(l, "action.save")) }
                " " a href=(back) { (t(l, "action.cancel")) }
            }
        },
    )
}

/// What one of the page's account forms holds: as typed, with its errors (empty when fresh).
#[derive(Clone, Copy)]
pub struct EntryForm<'a> {
    pub method: &'a str,
    pub amount: &'a str,
    pub note: &'a str,
    pub errors: &'a FieldErrors,
}

pub struct DetailView<'a> {
    pub customer: &'a Customer,
    pub ledger: &'a [LedgerEntry],
    pub sales: &'a [SaleSummary],
    pub quotes: &'a [QuoteSummary],
    /// How many rows each history list holds at most.
    pub history_limit: i64,
    /// Owner and admin: payments, opening balance, delete.
    pub can_manage_account: bool,
    pub payment: EntryForm<'a>,
    pub opening: EntryForm<'a>,
    /// Refusals of the whole customer (delete, deactivate).
    pub errors: &'a FieldErrors,
}

/// An amount field whose error may carry the customer's balance.
fn amount_field(l: Locale, id_prefix: &str, value: &str, error: Option<String>) -> Markup {
    let id = format!("f-{id_prefix}-amount");
    html! {
        div.field {
            label for=(id) { (t(l, "payment.amount")) }
            input id=(id) name="amount" type="text" inputmode="decimal" value=(value)
                aria-invalid=[error.as_ref().map(|_| "true")];
            @if let Some(e) = error { p.error role="alert" { (e) } }
        }
    }
}

fn note_field(l: Locale, id_prefix: &str, value: &str, error: Option<&str>) -> Markup {
    let id = format!("f-{id_prefix}-note");
    html! {
        div.field {
            label for=(id) { (t(l, "field.note")) }
            input id=(id) name="note" type="text" value=(value) aria-invalid=[error.map(|_| "true")];
            @if let Some(e) = error { p.error { (t_dyn(l, e)) } }
        }
    }
}

/// The error of an account form's amount, with the balance filled in where the message needs it.
fn amount_error(l: Locale, f: &EntryForm, balance: rust_decimal::Decimal) -> Option<String> {
    error_for(f.errors, "amount").map(|key| match key {
        "payment.error_exceeds_debt" => {
            tf(l, "payment.error_exceeds_debt", &[("balance", &format_money(balance, l))])
        }
        other => t_dyn(l, other).to_string(),
    })
}

fn payment_form(p: &Page, c: &Customer, f: &EntryForm) -> Markup {
    let l = p.locale;
    let methods: Vec<(String, String)> =
        PaymentMethod::ALL.iter().map(|m| (m.code().to_string(), method_label(l, *m).to_string())).collect();
    html! {
        section.card {
            h2 { (t(l, "payment.title")) }
            p.hint { (t(l, "payment.hint")) }
            form method="post" action={ "/customers/" (c.id) "/payment" } {
                (csrf(p))
                div.grid {
                    (select(l, "method", "payment.method", &methods, f.method, error_for(f.errors, "method")))
                    (amount_field(l, "payment", f.amount, amount_error(l, f, c.balance)))
                    (note_field(l, "payment", f.note, error_for(f.errors, "note")))
                }
                button type="submit" { (t(l, "payment.submit")) }
            }
        }
    }
}

fn opening_form(p: &Page, c: &Customer, f: &EntryForm) -> Markup {
    let l = p.locale;
    html! {
        section.card {
            h2 { (t(l, "customer.opening_title")) }
            p.hint { (t(l, "customer.opening_hint")) }
            form method="post" action={ "/customers/" (c.id) "/opening" } {
                (csrf(p))
                div.grid {
                    (amount_field(l, "opening", f.amount, amount_error(l, f, c.balance)))
                    (note_field(l, "opening", f.note, error_for(f.errors, "note")))
                }
                button type="submit" { (t(l, "customer.opening_submit")) }
            }
        }
    }
}

fn ledger_table(l: Locale, entries: &[LedgerEntry]) -> Markup {
    html! {
        div.table-wrap { table.list {
            thead { tr {
                th { (t(l, "field.when")) } th { (t(l, "field.kind")) } th.num { (t(l, "payment.amount")) }
                th.num { (t(l, "customer.balance_after")) } th { (t(l, "field.who")) } th { (t(l, "field.note")) }
            } }
            tbody { @for e in entries { tr {
                td { (format_datetime(e.at, l)) }
                td {
                    (entry_label(l, &e.kind))
                    @if let Some(s) = e.sale_id { " " a href={ "/sales/" (s) } { "#" (s) } }
                }
                td.num { @if e.amount.is_sign_positive() { "+" } (format_money(e.amount, l)) }
                td.num { (format_money(e.balance_after, l)) }
                td { (e.user_name.as_deref().unwrap_or("—")) }
                td { (e.note) }
            } } }
        } }
    }
}

fn sales_table(l: Locale, sales: &[SaleSummary]) -> Markup {
    html! {
        div.table-wrap { table.list {
            thead { tr {
                th { (t(l, "customer.number")) } th { (t(l, "field.when")) }
                th { (t(l, "field.status")) } th.num { (t(l, "customer.total")) }
            } }
            tbody { @for s in sales { tr.inactive[s.status == "voided"] {
                td { a href={ "/sales/" (s.id) } { "#" (s.id) } }
                td { (format_datetime(s.at, l)) }
                td { (sale_status_label(l, &s.status)) }
                td.num { (format_money(s.total, l)) }
            } } }
        } }
    }
}

fn quotes_table(l: Locale, quotes: &[QuoteSummary]) -> Markup {
    html! {
        div.table-wrap { table.list {
            thead { tr {
                th { (t(l, "customer.number")) } th { (t(l, "field.when")) } th { (t(l, "customer.valid_until")) }
                th { (t(l, "field.status")) } th.num { (t(l, "customer.total")) }
            } }
            tbody { @for q in quotes { tr.inactive[q.expired] {
                td { a href={ "/quotes/" (q.id) } { "#" (q.id) } }
                td { (format_datetime(q.at, l)) }
                td { (format_date(q.valid_until, l)) }
                td { (quote_status_label(l, q)) }
                td.num { (format_money(q.total, l)) }
            } } }
        } }
    }
}

pub fn detail(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let c = v.customer;
    let limit = v.history_limit.to_string();
    let latest_only = tf(l, "customer.latest_only", &[("count", &limit)]);
    let full = |n: usize| n as i64 >= v.history_limit;
    page(
        p,
        &c.name,
        html! {
            div.titlebar {
                h1 {
                    (c.name)
                    @if c.is_final_consumer { " " span.tag { (t(l, "customer.final_consumer")) } }
                    @if !c.active { " " span.tag { (t(l, "filter.inactive")) } }
                }
                a.button href={ "/customers/" (c.id) "/edit" } { (t(l, "action.edit")) }
            }
            // refusals of the whole customer or account (the final consumer has no account forms)
            @for err in [error_for(v.errors, "customer"), error_for(v.payment.errors, "form"), error_for(v.opening.errors, "form")].into_iter().flatten() {
                p.error role="alert" { (t_dyn(l, err)) }
            }
            section.card {
                dl.facts {
                    dt { (t(l, "customer.field_tax_id")) } dd { @if c.tax_id.is_empty() { "—" } @else { (c.tax_id) } }
                    dt { (t(l, "field.email")) } dd { @if c.email.is_empty() { "—" } @else { (c.email) } }
                    dt { (t(l, "customer.field_phone")) } dd { @if c.phone.is_empty() { "—" } @else { (c.phone) } }
                    dt { (t(l, "customer.field_address")) } dd { @if c.address.is_empty() { "—" } @else { (c.address) } }
                    @if !c.is_final_consumer {
                        dt { (t(l, "customer.field_balance")) }
                        dd.balance.low[c.balance.is_sign_positive() && !c.balance.is_zero()] { (balance_text(l, c.balance)) }
                    }
                }
                @if !c.notes.is_empty() { p.description { (c.notes) } }
                @if c.is_final_consumer { p.hint { (t(l, "customer.final_consumer_hint")) } }
            }
            @if v.can_manage_account && !c.is_final_consumer {
                @if (c.balance.is_sign_positive() && !c.balance.is_zero()) || !v.payment.errors.is_empty() {
                    (payment_form(p, c, &v.payment))
                }
                @if v.ledger.is_empty() || !v.opening.errors.is_empty() {
                    (opening_form(p, c, &v.opening))
                }
            }
            @if !c.is_final_consumer {
                section.card {
                    h2 { (t(l, "customer.account")) }
                    @if v.ledger.is_empty() {
                        p.empty { (t(l, "customer.no_entries")) }
                    } @else {
                        (ledger_table(l, v.ledger))
                        @if full(v.ledger.len()) { p.hint { (latest_only) } }
                    }
                }
            }
            section.card {
                h2 { (t(l, "customer.sales")) }
                @if v.sales.is_empty() {
                    p.empty { (t(l, "customer.no_sales")) }
                } @else {
                    (sales_table(l, v.sales))
                    @if full(v.sales.len()) { p.hint { (latest_only) } }
                }
            }
            section.card {
                h2 { (t(l, "customer.quotes")) }
                @if v.quotes.is_empty() {
                    p.empty { (t(l, "customer.no_quotes")) }
                } @else {
                    (quotes_table(l, v.quotes))
                    @if full(v.quotes.len()) { p.hint { (latest_only) } }
                }
            }
            @if !c.is_final_consumer {
                form.danger method="post" action={ "/customers/" (c.id) "/active" } {
                    (csrf(p))
                    @if c.active {
                        input type="hidden" name="active" value="no";
                        button.secondary type="submit" { (t(l, "customer.deactivate")) }
                        " " small { (t(l, "customer.deactivate_hint")) }
                    } @else {
                        input type="hidden" name="active" value="yes";
                        button.secondary type="submit" { (t(l, "customer.reactivate")) }
                    }
                }
                @if v.can_manage_account {
                    form.danger method="post" action={ "/customers/" (c.id) "/delete" } {
                        (csrf(p))
                        button.secondary type="submit" { (t(l, "customer.delete")) }
                        " " small { (t(l, "customer.delete_hint")) }
                    }
                }
            }
        },
    )
}
