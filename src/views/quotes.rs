//! Quotes: the list (filter by state), the new-quote form (one row per line), and the quote page,
//! printable as it is (`quote-sheet`), with its status buttons and the conversion form.

use maud::{html, Markup};

use super::layout::{csrf, format_date, format_datetime, input, page, select, textarea, InputAttrs, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::money::{format_money, format_qty};
use crate::domain::quotes::{
    ConvertRefusal, LineFields, QuoteDetail, QuoteErrors, QuoteFields, QuoteFilter, QuoteRow, State,
    MAX_LINES,
};
use crate::domain::sales::{Method, SaleRefusal};
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("quote.new", "New quote", "Nuevo presupuesto"),
    ("quote.number", "Quote No. {number}", "Presupuesto N.º {number}"),
    ("quote.col_number", "No.", "N.º"),
    ("quote.date", "Date", "Fecha"),
    ("quote.customer", "Customer", "Cliente"),
    ("quote.tax_id", "Tax ID", "CUIT/DNI"),
    ("quote.valid_until", "Valid until", "Válido hasta"),
    ("quote.total", "Total", "Total"),
    ("quote.seller", "Prepared by", "Preparado por"),
    ("quote.state", "Status", "Estado"),
    ("quote.state.draft", "Draft", "Borrador"),
    ("quote.state.sent", "Sent", "Enviado"),
    ("quote.state.accepted", "Accepted", "Aceptado"),
    ("quote.state.converted", "Converted into a sale", "Convertido en venta"),
    ("quote.state.expired", "Expired", "Vencido"),
    ("quote.filter_all", "All", "Todos"),
    ("quote.none", "No quotes match.", "No hay presupuestos que coincidan."),
    ("quote.lines", "Lines", "Líneas"),
    ("quote.lines_hint", "One product per row, by SKU or barcode. Blank rows are ignored; a blank quantity is 1 and a blank price is the product's price.", "Un producto por fila, por código o código de barras. Las filas vacías se ignoran; sin cantidad se toma 1 y sin precio, el precio del producto."),
    ("quote.validity_hint", "Valid for {days} days from today.", "Válido por {days} días desde hoy."),
    ("quote.code", "SKU or barcode", "Código o código de barras"),
    ("quote.product", "Product", "Producto"),
    ("quote.unit_price", "Unit price", "Precio unitario"),
    ("quote.discount", "Discount", "Descuento"),
    ("quote.amount_line", "Amount", "Importe"),
    ("quote.create", "Create quote", "Crear presupuesto"),
    ("quote.mark_sent", "Mark as sent", "Marcar como enviado"),
    ("quote.mark_accepted", "Mark as accepted", "Marcar como aceptado"),
    ("quote.duplicate", "Duplicate as a new quote", "Duplicar como nuevo presupuesto"),
    ("quote.print", "Print", "Imprimir"),
    ("quote.print_hint", "Only the quote is printed (also with your browser's Print, Ctrl+P).", "Se imprime solo el presupuesto (también con Imprimir del navegador, Ctrl+P)."),
    ("quote.print_validity", "Prices valid until {date}.", "Precios válidos hasta el {date}."),
    ("quote.convert", "Convert into a sale", "Convertir en venta"),
    ("quote.convert_hint", "The sale keeps the quoted prices; stock is checked and taken out now.", "La venta mantiene los precios presupuestados; el stock se controla y se descuenta ahora."),
    ("quote.method", "Payment method", "Medio de pago"),
    ("quote.amount", "Amount paid", "Monto pagado"),
    ("quote.method.cash", "Cash", "Efectivo"),
    ("quote.method.card", "Card", "Tarjeta"),
    ("quote.method.transfer", "Bank transfer", "Transferencia"),
    ("quote.method.account", "On the customer's account", "Cuenta corriente"),
    ("quote.converted_on", "Converted into a sale on {date}.", "Convertido en venta el {date}."),
    ("quote.see_sale", "See sale No. {sale}", "Ver venta N.º {sale}"),
    ("quote.expired_hint", "This quote expired and can no longer be converted: duplicate it to quote again.", "Este presupuesto venció y ya no se puede convertir: duplíquelo para presupuestar de nuevo."),
    ("quote.error.no_lines", "Add at least one line.", "Agregue al menos una línea."),
    ("quote.error.unknown_product", "No active product has this SKU or barcode.", "Ningún producto activo tiene este código."),
    ("quote.error.positive", "Must be greater than zero.", "Debe ser mayor que cero."),
    ("quote.error.discount_too_large", "The discount is larger than the line's amount.", "El descuento supera el importe de la línea."),
    ("quote.error.status", "This quote cannot move to that status (it is converted, expired or already past it).", "Este presupuesto no puede pasar a ese estado (está convertido, vencido o ya lo superó)."),
    ("quote.error.already_converted", "This quote was already converted into a sale.", "Este presupuesto ya se convirtió en venta."),
    ("quote.error.expired", "This quote expired and cannot be converted.", "Este presupuesto venció y no se puede convertir."),
    ("quote.error.key_used", "This form was already used: reload the page and try again.", "Este formulario ya se usó: recargue la página e intente de nuevo."),
    ("quote.error.not_enough_stock", "Not enough stock of {product}: {available} left. Nothing was recorded.", "No hay stock suficiente de {product}: quedan {available}. No se registró nada."),
    ("quote.error.underpaid", "The payment does not cover the total: {missing} missing.", "El pago no cubre el total: faltan {missing}."),
    ("quote.error.overpaid", "Only cash may exceed the total (it gives change).", "Solo el efectivo puede superar el total (da vuelto)."),
    ("quote.error.account_needs_customer", "Selling on account needs a real customer, not the final consumer.", "Vender en cuenta corriente requiere un cliente, no el consumidor final."),
    ("quote.error.unknown_customer", "The quote's customer is no longer active.", "El cliente del presupuesto ya no está activo."),
    ("quote.error.cannot_convert", "This quote cannot be converted as it is: duplicate it and check its lines.", "Este presupuesto no se puede convertir así: duplíquelo y revise sus líneas."),
];

pub fn state_label(l: Locale, s: State) -> &'static str {
    match s {
        State::Draft => t(l, "quote.state.draft"),
        State::Sent => t(l, "quote.state.sent"),
        State::Accepted => t(l, "quote.state.accepted"),
        State::Converted => t(l, "quote.state.converted"),
        State::Expired => t(l, "quote.state.expired"),
    }
}

fn method_label(l: Locale, m: Method) -> &'static str {
    match m {
        Method::Cash => t(l, "quote.method.cash"),
        Method::Card => t(l, "quote.method.card"),
        Method::Transfer => t(l, "quote.method.transfer"),
        Method::Account => t(l, "quote.method.account"),
    }
}

/// Why a conversion was refused, in words: which line and how many are left, what is missing.
pub fn refusal_message(l: Locale, r: &ConvertRefusal) -> String {
    match r {
        ConvertRefusal::AlreadyConverted => t(l, "quote.error.already_converted").into(),
        ConvertRefusal::Expired => t(l, "quote.error.expired").into(),
        ConvertRefusal::KeyUsed => t(l, "quote.error.key_used").into(),
        ConvertRefusal::Sale(SaleRefusal::NotEnoughStock { description, available, .. }) => tf(
            l,
            "quote.error.not_enough_stock",
            &[("product", description), ("available", &format_qty(*available, l))],
        ),
        ConvertRefusal::Sale(SaleRefusal::Underpaid { missing }) => {
            tf(l, "quote.error.underpaid", &[("missing", &format_money(*missing, l))])
        }
        ConvertRefusal::Sale(SaleRefusal::Overpaid) => t(l, "quote.error.overpaid").into(),
        ConvertRefusal::Sale(SaleRefusal::AccountNeedsCustomer) => {
            t(l, "quote.error.account_needs_customer").into()
        }
        ConvertRefusal::Sale(SaleRefusal::UnknownCustomer) => t(l, "quote.error.unknown_customer").into(),
        ConvertRefusal::Sale(_) => t(l, "quote.error.cannot_convert").into(),
    }
}

fn state_tag(l: Locale, s: State) -> Markup {
    html! { span class={ "tag state-" (s.code()) } { (state_label(l, s)) } }
}

pub struct ListView<'a> {
    pub filter: &'a QuoteFilter,
    pub items: &'a [QuoteRow],
    pub has_next: bool,
}

fn list_href(state: Option<State>, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(st) = state {
        s.append_pair("status", st.code());
    }
    if page > 0 {
        s.append_pair("page", &page.to_string());
    }
    format!("/quotes?{}", s.finish())
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    let f = v.filter;
    let mut states = vec![(String::new(), t(l, "quote.filter_all").to_string())];
    states.extend(State::ALL.iter().map(|s| (s.code().to_string(), state_label(l, *s).to_string())));
    page(
        p,
        t(l, "nav.quotes"),
        html! {
            div.titlebar {
                h1 { (t(l, "nav.quotes")) }
                div.actions { a.button href="/quotes/new" { (t(l, "quote.new")) } }
            }
            form.filters method="get" action="/quotes" {
                (select(l, "status", "quote.state", &states, f.state.map(State::code).unwrap_or(""), None))
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "quote.none")) }
            } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th.num { (t(l, "quote.col_number")) } th { (t(l, "quote.date")) } th { (t(l, "quote.customer")) }
                        th { (t(l, "quote.valid_until")) } th { (t(l, "quote.state")) } th.num { (t(l, "quote.total")) }
                    } }
                    tbody { @for q in v.items { tr {
                        td.num { a href={ "/quotes/" (q.id) } { (q.id) } }
                        td { (format_date(q.created_at.date(), l)) }
                        td { (q.customer) }
                        td { (format_date(q.valid_until, l)) }
                        td { (state_tag(l, q.state)) }
                        td.num { (format_money(q.total, l)) }
                    } } }
                } }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if f.page > 0 { a href=(list_href(f.state, f.page - 1)) rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href=(list_href(f.state, f.page + 1)) rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

pub struct FormView<'a> {
    pub fields: &'a QuoteFields,
    pub errors: &'a QuoteErrors,
    pub customers: &'a [(i64, String)],
    pub validity_days: i32,
}

fn line_row(l: Locale, i: usize, row: &LineFields, errors: &QuoteErrors) -> Markup {
    let e = |col: &str| errors.lines.iter().find(|(r, c, _)| *r == i && *c == col).map(|(_, _, k)| *k);
    let cell = |col: &'static str, label: &'static str, value: &str, mode: Option<&'static str>| {
        let err = e(col);
        html! { td {
            input name={ (col) "_" (i) } value=(value) inputmode=[mode] aria-invalid=[err.map(|_| "true")]
                aria-label={ (t(l, label)) " " (i + 1) };
            @if let Some(k) = err { p.error { (t_dyn(l, k)) } }
        } }
    };
    html! { tr {
        td.num { (i + 1) }
        (cell("code", "quote.code", &row.code, None))
        (cell("quantity", "field.quantity", &row.quantity, Some("decimal")))
        (cell("price", "quote.unit_price", &row.price, Some("decimal")))
        (cell("discount", "quote.discount", &row.discount, Some("decimal")))
    } }
}

pub fn form(p: &Page, v: &FormView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(&v.errors.form, name);
    let rows = (f.lines.len() + 3).clamp(8, MAX_LINES);
    let blank = LineFields::default();
    let customers: Vec<(String, String)> =
        v.customers.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let selected = if f.customer_id.is_empty() {
        v.customers.first().map(|(id, _)| id.to_string()).unwrap_or_default()
    } else {
        f.customer_id.clone()
    };
    page(
        p,
        t(l, "quote.new"),
        html! {
            h1 { (t(l, "quote.new")) }
            @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            form.card method="post" action="/quotes" {
                (csrf(p))
                (select(l, "customer_id", "quote.customer", &customers, &selected, e("customer_id")))
                p.hint { (tf(l, "quote.validity_hint", &[("days", &v.validity_days.to_string())])) }
                h2 { (t(l, "quote.lines")) }
                p.hint { (t(l, "quote.lines_hint")) }
                @if let Some(err) = e("lines") { p.error role="alert" { (t_dyn(l, err)) } }
                div.table-wrap { table.list.quote-lines {
                    thead { tr {
                        th.num { "#" } th { (t(l, "quote.code")) } th { (t(l, "field.quantity")) }
                        th { (t(l, "quote.unit_price")) } th { (t(l, "quote.discount")) }
                    } }
                    tbody { @for i in 0..rows { (line_row(l, i, f.lines.get(i).unwrap_or(&blank), v.errors)) } }
                } }
                (textarea(l, "note", "field.note", &f.note, e("note")))
                button type="submit" { (t(l, "quote.create")) }
                " " a href="/quotes" { (t(l, "action.cancel")) }
            }
        },
    )
}

/// The conversion form as shown: a fresh idempotency key and the total, or what was sent back.
pub struct ConvertForm {
    pub key: String,
    pub method: String,
    pub amount: String,
    pub errors: FieldErrors,
    /// Why the last attempt was refused.
    pub refusal: Option<String>,
}

pub struct DetailView<'a> {
    pub quote: &'a QuoteDetail,
    pub shop_name: &'a str,
    pub can_convert: bool,
    pub convert: &'a ConvertForm,
    pub status_error: Option<&'static str>,
}

fn convert_section(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let c = v.convert;
    let methods: Vec<(String, String)> =
        Method::ALL.iter().map(|m| (m.code().to_string(), method_label(l, *m).to_string())).collect();
    html! {
        section.card.no-print #convert {
            h2 { (t(l, "quote.convert")) }
            p.hint { (t(l, "quote.convert_hint")) }
            @if let Some(msg) = &c.refusal { p.error role="alert" { (msg) } }
            form method="post" action={ "/quotes/" (v.quote.id) "/convert" } {
                (csrf(p))
                input type="hidden" name="idempotency_key" value=(c.key);
                div.grid {
                    (select(l, "method", "quote.method", &methods, &c.method, error_for(&c.errors, "method")))
                    (input(l, "amount", "quote.amount", &c.amount, error_for(&c.errors, "amount"), InputAttrs::DECIMAL))
                }
                button type="submit" { (t(l, "quote.convert")) }
            }
        }
    }
}

pub fn detail(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let q = v.quote;
    let title = tf(l, "quote.number", &[("number", &q.id.to_string())]);
    let date = |d: chrono::NaiveDate| format_date(d, l);
    let show_convert = v.can_convert && q.state.convertible();
    // a refusal that left the quote unconvertible (converted meanwhile, expired) shows on top
    let top_error =
        v.status_error.map(|k| t_dyn(l, k)).or(v.convert.refusal.as_deref().filter(|_| !show_convert));
    page(
        p,
        &title,
        html! {
            div.titlebar.no-print {
                h1 { (title) " " (state_tag(l, q.state)) }
                div.actions { a href={ "/quotes/new?from=" (q.id) } { (t(l, "quote.duplicate")) } }
            }
            @if let Some(err) = top_error { p.error.no-print role="alert" { (err) } }
            article.card.quote-sheet {
                header.doc-head {
                    div { strong { (v.shop_name) } br; (title) }
                    dl.facts {
                        dt { (t(l, "quote.date")) } dd { (date(q.created_at.date())) }
                        dt { (t(l, "quote.valid_until")) } dd { (date(q.valid_until)) }
                        dt { (t(l, "quote.customer")) } dd { (q.customer) }
                        @if !q.customer_tax_id.is_empty() { dt { (t(l, "quote.tax_id")) } dd { (q.customer_tax_id) } }
                        @if let Some(s) = &q.seller { dt { (t(l, "quote.seller")) } dd { (s) } }
                    }
                }
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "field.sku")) } th { (t(l, "quote.product")) } th.num { (t(l, "field.quantity")) }
                        th.num { (t(l, "quote.unit_price")) } th.num { (t(l, "quote.discount")) } th.num { (t(l, "quote.amount_line")) }
                    } }
                    tbody { @for line in &q.lines { tr {
                        td { code { (line.sku) } }
                        td { (line.description) }
                        td.num { (format_qty(line.quantity, l)) " " (line.unit) }
                        td.num { (format_money(line.unit_price, l)) }
                        td.num { @if !line.discount.is_zero() { (format_money(line.discount, l)) } }
                        td.num { (format_money(line.total, l)) }
                    } } }
                    tfoot { tr { th colspan="5" { (t(l, "quote.total")) } td.num.grand-total { (format_money(q.total, l)) } } }
                } }
                @if !q.note.is_empty() { p.note { (q.note) } }
                p.validity { (tf(l, "quote.print_validity", &[("date", &date(q.valid_until))])) }
            }
            div.no-print {
                p { button.secondary type="button" data-print hidden { (t(l, "quote.print")) } }
                p.hint { (t(l, "quote.print_hint")) }
                @if !q.state.next().is_empty() {
                    form.actions method="post" action={ "/quotes/" (q.id) "/status" } {
                        (csrf(p))
                        @for s in q.state.next() {
                            button.secondary type="submit" name="status" value=(s.code()) {
                                (t(l, if *s == State::Sent { "quote.mark_sent" } else { "quote.mark_accepted" }))
                            }
                        }
                    }
                }
                @if let (Some(sale), Some(at)) = (q.converted_sale_id, q.converted_at) {
                    p { (tf(l, "quote.converted_on", &[("date", &format_datetime(at, l))])) " "
                        a href={ "/sales/" (sale) } { (tf(l, "quote.see_sale", &[("sale", &sale.to_string())])) } }
                }
                @if q.state == State::Expired { p.hint { (t(l, "quote.expired_hint")) } }
            }
            @if show_convert { (convert_section(p, v)) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `crate::i18n` checks only its own key families: every "quote." literal of this feature's
    /// files must be in TEXTS.
    #[test]
    fn every_quote_key_is_translated() {
        let sources = [
            include_str!("quotes.rs"),
            include_str!("../routes/quotes.rs"),
            include_str!("../domain/quotes.rs"),
        ];
        let known: std::collections::HashSet<&str> = TEXTS.iter().map(|(k, _, _)| *k).collect();
        for text in sources {
            for (i, chunk) in text.split('"').enumerate() {
                let shaped = i % 2 == 1
                    && chunk.starts_with("quote.")
                    && chunk.len() > 6
                    && chunk.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                assert!(!shaped || known.contains(chunk), "missing translation: {chunk}");
            }
        }
    }

    #[test]
    fn stock_refusal_names_the_product_and_what_is_left() {
        let r = ConvertRefusal::Sale(SaleRefusal::NotEnoughStock {
            product_id: 1,
            description: "Yerba".into(),
            available: rust_decimal::Decimal::new(2500, 3),
        });
        assert_eq!(
            refusal_message(Locale::Es, &r),
            "No hay stock suficiente de Yerba: quedan 2,5. No se registró nada."
        );
    }
}
