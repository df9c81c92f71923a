//! Counter (POS), sales list, and the sale page with its printable receipt.

use maud::{html, Markup};

use super::layout::{csrf, format_datetime, page, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::money::{format_money, format_qty, input_value};
use crate::domain::sales::{Cart, Found, Method, SaleDetail, SaleFilter, SaleRow};
use crate::http::Form;
use crate::i18n::{t, t_dyn, Locale};

pub fn method_label(l: Locale, code: &str) -> &'static str {
    match code {
        "cash" => t(l, "payment.cash"),
        "card" => t(l, "payment.card"),
        "transfer" => t(l, "payment.transfer"),
        "account" => t(l, "payment.account"),
        _ => t(l, "movement.other"),
    }
}

pub struct PosView<'a> {
    pub cart: &'a Cart,
    pub query: &'a str,
    pub found: &'a [Found],
    pub customers: &'a [(i64, String)],
    pub error: Option<&'a str>,
    /// The payment fields as sent, kept after a refusal.
    pub payments: Option<&'a Form>,
}

/// The counter: keyboard-first. The scan field keeps the focus after every action (autofocus on
/// each page load), a scanner's Enter adds the product, and everything works without script.
pub fn pos(p: &Page, v: &PosView) -> Markup {
    let l = p.locale;
    let cart = v.cart;
    let total = cart.total();
    page(
        p,
        t(l, "pos.title"),
        html! {
            // hx-boost: with htmx the counter's forms swap the page in place (no full reload);
            // without it they are ordinary forms
            div.pos hx-boost="true" {
                section.pos-main {
                    form.scan method="post" action="/pos/scan" {
                        (csrf(p))
                        label for="f-code" { (t(l, "pos.scan")) }
                        input id="f-code" name="code" type="search" autofocus autocomplete="off" value=(v.query)
                            placeholder=(t(l, "pos.scan_hint"))
                            hx-get="/pos" hx-trigger="input changed delay:300ms" hx-target="#pos-found"
                            hx-select="#pos-found" hx-swap="outerHTML" hx-push-url="false";
                        button type="submit" { (t(l, "pos.add")) }
                    }
                    @if let Some(e) = v.error { p.error.form-error role="alert" { (e) } }
                    div #pos-found aria-live="polite" { @if !v.query.is_empty() {
                        @if v.found.is_empty() { p.empty { (t(l, "product.none_found")) } }
                        @else {
                            table.list.found {
                                tbody { @for f in v.found { tr {
                                    td { (f.name) br; small { code { (f.sku) } } }
                                    td.num { (format_money(f.price, l)) }
                                    td.num { @if f.track_stock { (format_qty(f.stock, l)) " " (f.unit) } }
                                    td {
                                        form.inline method="post" action="/pos/add" {
                                            (csrf(p))
                                            input type="hidden" name="product_id" value=(f.id);
                                            label.visually-hidden for={ "q-" (f.id) } { (t(l, "field.quantity")) }
                                            input id={ "q-" (f.id) } name="quantity" value="1" size="4" inputmode="decimal";
                                            button type="submit" { (t(l, "pos.add")) }
                                        }
                                    }
                                } } }
                            }
                        }
                    } }
                    @if cart.lines.is_empty() {
                        p.empty { (t(l, "pos.cart_empty")) }
                    } @else {
                        div.table-wrap { table.list.cart {
                            thead { tr {
                                th { (t(l, "field.name")) } th { (t(l, "field.quantity")) } th { (t(l, "field.price")) }
                                th { (t(l, "pos.discount")) } th.num { (t(l, "pos.line_total")) } th { }
                            } }
                            tbody { @for line in &cart.lines {
                                tr.low[line.track_stock && line.quantity > line.stock] {
                                    td { (line.name) br; small { code { (line.sku) } " · " (t(l, "field.stock")) ": " (format_qty(line.stock, l)) } }
                                    td colspan="3" {
                                        form.inline.line method="post" action={ "/pos/lines/" (line.id) "/update" } {
                                            (csrf(p))
                                            label.visually-hidden for={ "lq-" (line.id) } { (t(l, "field.quantity")) }
                                            input id={ "lq-" (line.id) } name="quantity" value=(input_value(line.quantity, l)) size="5" inputmode="decimal";
                                            " " (line.unit) " × "
                                            label.visually-hidden for={ "lp-" (line.id) } { (t(l, "field.price")) }
                                            input id={ "lp-" (line.id) } name="unit_price" value=(input_value(line.unit_price, l)) size="8" inputmode="decimal";
                                            " − "
                                            label.visually-hidden for={ "ld-" (line.id) } { (t(l, "pos.discount")) }
                                            input id={ "ld-" (line.id) } name="discount" value=(input_value(line.discount, l)) size="6" inputmode="decimal";
                                            " " button.secondary type="submit" { (t(l, "pos.update")) }
                                        }
                                    }
                                    td.num { (format_money(line.total(), l)) }
                                    td {
                                        form.inline method="post" action={ "/pos/lines/" (line.id) "/remove" } {
                                            (csrf(p))
                                            button.secondary type="submit" aria-label=(t(l, "pos.remove")) { "✕" }
                                        }
                                    }
                                }
                            } }
                        } }
                    }
                }
                aside.pos-side {
                    p.total { (t(l, "pos.total")) " " strong { (format_money(total, l)) } }
                    form method="post" action="/pos/customer" {
                        (csrf(p))
                        label for="f-customer" { (t(l, "pos.customer")) }
                        select id="f-customer" name="customer_id" {
                            @for (id, name) in v.customers {
                                option value=(id) selected[cart.customer_id == Some(*id)] { (name) }
                            }
                        }
                        " " button.secondary type="submit" { (t(l, "pos.set_customer")) }
                    }
                    form.checkout method="post" action="/pos/checkout" {
                        (csrf(p))
                        input type="hidden" name="key" value=(cart.idempotency_key);
                        fieldset {
                            legend { (t(l, "pos.payment")) }
                            @for m in Method::ALL {
                                div.field {
                                    label for={ "pay-" (m.code()) } { (method_label(l, m.code())) }
                                    input id={ "pay-" (m.code()) } name=(m.code()) inputmode="decimal"
                                        value=(v.payments.map(|f| f.get(m.code()).to_string()).unwrap_or_default())
                                        placeholder=(if m == Method::Cash { input_value(total, l) } else { String::new() });
                                }
                            }
                            p.hint { (t(l, "pos.payment_hint")) }
                        }
                        button.big type="submit" disabled[cart.lines.is_empty()] { (t(l, "pos.checkout")) }
                    }
                    @if !cart.lines.is_empty() {
                        form method="post" action="/pos/clear" {
                            (csrf(p))
                            button.secondary type="submit" { (t(l, "pos.clear")) }
                        }
                    }
                }
            }
        },
    )
}

pub fn list(p: &Page, f: &SaleFilter, items: &[SaleRow], more: bool) -> Markup {
    let l = p.locale;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let status = f.status.as_deref().unwrap_or("");
    let link = |page: i64| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("from", &date(f.from)).append_pair("to", &date(f.to)).append_pair("status", status);
        s.append_pair("page", &page.to_string());
        format!("/sales?{}", s.finish())
    };
    page(
        p,
        t(l, "nav.sales"),
        html! {
            div.titlebar { h1 { (t(l, "nav.sales")) } a.button href="/pos" { (t(l, "nav.pos")) } }
            form.filters method="get" action="/sales" {
                div.field { label for="f-from" { (t(l, "sale.from")) } input id="f-from" type="date" name="from" value=(date(f.from)); }
                div.field { label for="f-to" { (t(l, "sale.to")) } input id="f-to" type="date" name="to" value=(date(f.to)); }
                div.field {
                    label for="f-status" { (t(l, "field.status")) }
                    select id="f-status" name="status" {
                        option value="" { (t(l, "filter.all")) }
                        option value="completed" selected[status == "completed"] { (t(l, "sale.completed")) }
                        option value="voided" selected[status == "voided"] { (t(l, "sale.voided")) }
                    }
                }
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if items.is_empty() { p.empty { (t(l, "sale.none")) } } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th.num { "#" } th { (t(l, "field.when")) } th { (t(l, "pos.customer")) } th { (t(l, "field.who")) }
                        th.num { (t(l, "sale.lines")) } th.num { (t(l, "pos.total")) } th { (t(l, "field.status")) }
                    } }
                    tbody { @for s in items { tr.inactive[s.status == "voided"] {
                        td.num { a href={ "/sales/" (s.id) } { (s.id) } }
                        td { (format_datetime(s.created_at, l)) }
                        td { (s.customer) }
                        td { (s.seller.as_deref().unwrap_or("—")) }
                        td.num { (s.lines) }
                        td.num { (format_money(s.total, l)) }
                        td { @if s.status == "voided" { span.tag { (t(l, "sale.voided")) } } }
                    } } }
                } }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if f.page > 0 { a href=(link(f.page - 1)) rel="prev" { "← " (t(l, "pager.prev")) } }
                @if more { a href=(link(f.page + 1)) rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

/// The sale page doubles as the receipt: the print stylesheet keeps only the receipt.
pub fn detail(p: &Page, s: &SaleDetail, can_void: bool, errors: &FieldErrors) -> Markup {
    let l = p.locale;
    let title = format!("{} #{}", t(l, "sale.title"), s.id);
    page(
        p,
        &title,
        html! {
            div.titlebar.no-print {
                h1 { (title) @if s.status == "voided" { " " span.tag { (t(l, "sale.voided")) } } }
                a.button href="/pos" { (t(l, "pos.new_sale")) }
            }
            article.receipt {
                @if !s.receipt_header.is_empty() { p.receipt-header { (s.receipt_header) } }
                p { strong { (p.session.and_then(|x| x.shop.as_ref()).map(|x| x.name.as_str()).unwrap_or("")) } }
                p { (t(l, "sale.title")) " #" (s.id) " · " (format_datetime(s.created_at, l)) }
                p { (t(l, "pos.customer")) ": " (s.customer) }
                table.receipt-lines {
                    tbody {
                        @for line in &s.lines { tr {
                            td { (line.description) br; small { (format_qty(line.quantity, l)) " × " (format_money(line.unit_price, l))
                                @if !line.discount.is_zero() { " − " (format_money(line.discount, l)) } } }
                            td.num { (format_money(line.total, l)) }
                        } }
                    }
                    tfoot {
                        tr.total { th { (t(l, "pos.total")) } td.num { (format_money(s.total, l)) } }
                        @for (m, a) in &s.payments { tr { td { (method_label(l, m)) } td.num { (format_money(*a, l)) } } }
                        @if !s.change.is_zero() {
                            tr { td { (t(l, "sale.tendered")) } td.num { (format_money(s.tendered, l)) } }
                            tr.change { th { (t(l, "sale.change")) } td.num { (format_money(s.change, l)) } }
                        }
                    }
                }
                @if let Some(seller) = &s.seller { p.small { (t(l, "sale.served_by")) ": " (seller) } }
                @if s.status == "voided" {
                    p.error { (t(l, "sale.voided")) @if let Some(at) = s.voided_at { " · " (format_datetime(at, l)) }
                        @if let Some(r) = &s.void_reason { " · " (r) } }
                }
                @if !s.receipt_footer.is_empty() { p.receipt-footer { (s.receipt_footer) } }
            }
            p.no-print { button type="button" data-print hidden { (t(l, "sale.print")) } }
            @if can_void && s.status == "completed" && s.lines.iter().any(|x| x.quantity > x.returned) {
                section.card.no-print {
                    h2 { (t(l, "sale.return")) }
                    @if let Some(e) = error_for(errors, "return") { p.error role="alert" { (t_dyn(l, e)) } }
                    form method="post" action={ "/sales/" (s.id) "/return" } {
                        (csrf(p))
                        table.list {
                            thead { tr { th { (t(l, "field.name")) } th.num { (t(l, "sale.sold")) } th.num { (t(l, "sale.returned")) } th { (t(l, "sale.return_qty")) } } }
                            tbody { @for line in &s.lines { @if line.quantity > line.returned { tr {
                                td { label for={ "ret-" (line.id) } { (line.description) } }
                                td.num { (format_qty(line.quantity, l)) }
                                td.num { (format_qty(line.returned, l)) }
                                td { input id={ "ret-" (line.id) } name={ "return_" (line.id) } size="6" inputmode="decimal"; }
                            } } } }
                        }
                        div.grid {
                            div.field {
                                label for="f-method" { (t(l, "sale.refund_method")) }
                                select id="f-method" name="method" {
                                    @for m in Method::ALL { option value=(m.code()) { (method_label(l, m.code())) } }
                                }
                            }
                            div.field {
                                label for="f-return-reason" { (t(l, "field.reason")) }
                                input id="f-return-reason" name="reason" required;
                            }
                        }
                        button type="submit" { (t(l, "sale.return_submit")) }
                    }
                }
            }
            @if s.status != "completed" {
                @if let Some(e) = error_for(errors, "reason") { p.error.no-print role="alert" { (t_dyn(l, e)) } }
            }
            @if can_void && s.status == "completed" {
                section.card.no-print {
                    h2 { (t(l, "sale.void")) }
                    @if let Some(e) = error_for(errors, "reason") { p.error role="alert" { (t_dyn(l, e)) } }
                    form method="post" action={ "/sales/" (s.id) "/void" } data-confirm=(t(l, "sale.void_confirm")) {
                        (csrf(p))
                        div.field {
                            label for="f-reason" { (t(l, "field.reason")) }
                            input id="f-reason" name="reason" required;
                        }
                        button.danger type="submit" { (t(l, "sale.void_confirm")) }
                    }
                }
            }
        },
    )
}

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("pos.title", "Counter", "Mostrador"),
    ("pos.scan", "Scan or search", "Escanee o busque"),
    ("pos.scan_hint", "Barcode, SKU or name, then Enter", "Código de barras, código o nombre, y Enter"),
    ("pos.add", "Add", "Agregar"),
    ("pos.update", "Update", "Actualizar"),
    ("pos.remove", "Remove line", "Quitar línea"),
    ("pos.discount", "Discount", "Descuento"),
    ("pos.line_total", "Amount", "Importe"),
    ("pos.cart_empty", "The sale is empty: scan a product or search it by name.", "La venta está vacía: escanee un producto o búsquelo por nombre."),
    ("pos.total", "Total", "Total"),
    ("pos.customer", "Customer", "Cliente"),
    ("pos.set_customer", "Set", "Elegir"),
    ("pos.payment", "Payment", "Pago"),
    ("pos.payment_hint", "Leave all empty to take the total in cash. Several methods may be combined; only cash gives change.", "Deje todo vacío para cobrar el total en efectivo. Puede combinar medios; solo el efectivo da vuelto."),
    ("pos.checkout", "Charge", "Cobrar"),
    ("pos.clear", "Empty the sale", "Vaciar la venta"),
    ("pos.new_sale", "New sale", "Nueva venta"),
    ("pos.empty", "The sale has no lines.", "La venta no tiene líneas."),
    ("pos.discount_too_large", "Line {line}: the discount is larger than the amount.", "Línea {line}: el descuento supera el importe."),
    ("pos.underpaid", "The payments do not cover the total: {missing} missing.", "Los pagos no cubren el total: faltan {missing}."),
    ("pos.overpaid", "Card, transfer and account cannot exceed the total; only cash gives change.", "Tarjeta, transferencia y cuenta corriente no pueden superar el total; solo el efectivo da vuelto."),
    ("pos.account_needs_customer", "Selling on account needs a customer (not the final consumer).", "Para vender en cuenta corriente elija un cliente (no consumidor final)."),
    ("pos.not_enough_stock", "Not enough stock of {product}: {available} left. Nothing was recorded.", "No hay stock suficiente de {product}: quedan {available}. No se registró nada."),
    ("pos.changed", "A product or the customer is no longer available; check the sale.", "Un producto o el cliente ya no está disponible; revise la venta."),
    ("pos.line_error", "{line}: {error}", "{line}: {error}"),
    ("pos.payment_error", "Payment: {error}", "Pago: {error}"),
    ("payment.cash", "Cash", "Efectivo"),
    ("payment.card", "Card", "Tarjeta"),
    ("payment.transfer", "Transfer", "Transferencia"),
    ("payment.account", "On account", "Cuenta corriente"),
    ("sale.title", "Sale", "Venta"),
    ("sale.from", "From", "Desde"),
    ("sale.to", "To", "Hasta"),
    ("sale.completed", "Completed", "Completada"),
    ("sale.voided", "Voided", "Anulada"),
    ("sale.none", "No sales found.", "No hay ventas."),
    ("sale.lines", "Lines", "Líneas"),
    ("sale.tendered", "Received", "Recibido"),
    ("sale.change", "Change", "Vuelto"),
    ("sale.served_by", "Served by", "Atendió"),
    ("sale.print", "Print receipt", "Imprimir comprobante"),
    ("sale.void", "Void this sale", "Anular esta venta"),
    ("sale.return", "Return items", "Devolución"),
    ("sale.sold", "Sold", "Vendido"),
    ("sale.returned", "Returned", "Devuelto"),
    ("sale.return_qty", "Return now", "Devolver ahora"),
    ("sale.refund_method", "Refund by", "Reintegro en"),
    ("sale.return_submit", "Record the return: stock back and refund", "Registrar la devolución: stock y reintegro"),
    ("error.return_nothing", "Enter how many units come back.", "Indique cuántas unidades se devuelven."),
    ("error.return_too_many", "That is more than is left to return on that line.", "Es más de lo que queda por devolver en esa línea."),
    ("flash.return_recorded", "Return recorded: stock back and refund booked.", "Devolución registrada: stock repuesto y reintegro asentado."),
    ("sale.void_confirm", "Void sale: put the stock back and reverse the payments", "Anular: devolver el stock y revertir los pagos"),
    ("error.quantity_positive", "The quantity must be more than zero.", "La cantidad debe ser mayor que cero."),
    ("error.discount_too_large", "The discount is larger than the amount.", "El descuento supera el importe."),
    ("error.already_voided", "This sale was already voided.", "Esta venta ya fue anulada."),
    ("flash.sale_recorded", "Sale recorded.", "Venta registrada."),
    ("flash.sale_voided", "Sale voided: stock and payments reversed.", "Venta anulada: se devolvió el stock y se revirtieron los pagos."),
];
