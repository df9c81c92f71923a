//! Purchase invoices: the list, the new-invoice form, the invoice page (a draft gets its header,
//! lines from a product search and the receive button; a received invoice shows its payments,
//! corrections and the forms for both), and the dashboard card of invoices falling due.

use maud::{html, Markup};

use super::customers::method_label;
use super::layout::{csrf, format_date, format_datetime, input, page, select, InputAttrs, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::customers::PaymentMethod;
use crate::domain::money::{format_money, format_qty};
use crate::domain::purchases::{
    DueInvoice, HeaderFields, Invoice, InvoiceQuery, Kind, Line, Payment, ProductHit, Show,
};
use crate::i18n::{t, t_dyn, tf, Locale};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.purchases", "Purchases", "Compras"),
    ("purchase.title", "Purchase invoices", "Facturas de compra"),
    ("purchase.new", "New invoice", "Nueva factura"),
    ("purchase.invoice", "Invoice {number}", "Factura {number}"),
    ("purchase.correction", "Correction {number}", "Nota de corrección {number}"),
    ("purchase.corrects", "Corrects invoice", "Corrige la factura"),
    ("purchase.supplier", "Supplier", "Proveedor"),
    ("purchase.number", "Invoice number", "Número de factura"),
    ("purchase.date", "Date", "Fecha"),
    ("purchase.due_date", "Due date", "Vencimiento"),
    ("purchase.total", "Total", "Total"),
    ("purchase.paid", "Paid", "Pagado"),
    ("purchase.amount_due", "Still owed", "Saldo adeudado"),
    ("purchase.corrections_total", "Corrections", "Correcciones"),
    ("purchase.search", "Number or supplier", "Número o proveedor"),
    ("purchase.show", "Show", "Mostrar"),
    ("purchase.show_all", "All", "Todas"),
    ("purchase.show_drafts", "Drafts", "Borradores"),
    ("purchase.show_open", "To pay", "A pagar"),
    ("purchase.show_overdue", "Overdue", "Vencidas"),
    ("purchase.show_paid", "Paid", "Pagadas"),
    ("purchase.none_found", "No invoices match.", "No hay facturas que coincidan."),
    ("purchase.status_draft", "Draft", "Borrador"),
    ("purchase.status_unpaid", "Unpaid", "Impaga"),
    ("purchase.status_partial", "Partly paid", "Pago parcial"),
    ("purchase.status_paid", "Paid", "Pagada"),
    ("purchase.status_overdue", "Overdue", "Vencida"),
    ("purchase.status_received", "Received", "Recibida"),
    ("purchase.kind_correction", "Correction", "Corrección"),
    ("purchase.no_suppliers", "Add a supplier first.", "Primero cargue un proveedor."),
    ("purchase.create_draft", "Create draft", "Crear borrador"),
    (
        "purchase.draft_hint",
        "A draft changes nothing yet: add its lines, check the total, then receive it.",
        "Un borrador todavía no cambia nada: cargue sus líneas, revise el total y luego recíbalo.",
    ),
    ("purchase.lines", "Lines", "Líneas"),
    ("purchase.no_lines", "No lines yet.", "Todavía no hay líneas."),
    ("purchase.product", "Product", "Producto"),
    ("purchase.quantity", "Quantity", "Cantidad"),
    ("purchase.unit_cost", "Unit cost", "Costo unitario"),
    ("purchase.line_total", "Subtotal", "Subtotal"),
    ("purchase.remove_line", "Remove", "Quitar"),
    ("purchase.add_line", "Add a line", "Agregar una línea"),
    ("purchase.find_product", "Product name, SKU or barcode", "Nombre, código o código de barras"),
    ("purchase.find", "Search", "Buscar"),
    ("purchase.no_products", "No products match.", "No hay productos que coincidan."),
    ("purchase.add", "Add", "Agregar"),
    (
        "purchase.correction_qty_hint",
        "Negative quantities take units back (returned or missing goods) and lower what is owed.",
        "Las cantidades negativas devuelven unidades (mercadería devuelta o faltante) y bajan lo adeudado.",
    ),
    ("purchase.save_header", "Save", "Guardar"),
    ("purchase.receive", "Receive", "Recibir"),
    (
        "purchase.receive_hint",
        "Receiving adds the stock, updates the products' costs and fixes the invoice: later changes are corrections.",
        "Al recibirla se suma el stock, se actualizan los costos y la factura queda fija: los cambios posteriores son correcciones.",
    ),
    ("purchase.delete_draft", "Delete draft", "Eliminar borrador"),
    ("purchase.payments", "Payments", "Pagos"),
    ("purchase.no_payments", "No payments yet.", "Todavía no hay pagos."),
    ("purchase.pay", "Record a payment", "Registrar un pago"),
    (
        "purchase.pay_hint",
        "Counts as an expense today. Partial payments are fine; never more than is owed.",
        "Cuenta como egreso hoy. Se admiten pagos parciales; nunca más de lo adeudado.",
    ),
    ("purchase.method", "Method", "Medio de pago"),
    ("purchase.amount", "Amount", "Importe"),
    ("purchase.note", "Note", "Nota"),
    ("purchase.pay_submit", "Record payment", "Registrar pago"),
    ("purchase.corrections", "Corrections", "Correcciones"),
    ("purchase.new_correction", "Record a correction", "Registrar una corrección"),
    (
        "purchase.correction_hint",
        "A received invoice is not edited: a correction (credit note) with its own lines adjusts stock and what is owed.",
        "Una factura recibida no se edita: una corrección (nota de crédito) con sus propias líneas ajusta el stock y lo adeudado.",
    ),
    ("purchase.correction_number", "Credit note number", "Número de nota de crédito"),
    ("purchase.create_correction", "Create correction draft", "Crear borrador de corrección"),
    ("purchase.received_at", "Received", "Recibida"),
    ("purchase.due_title", "Invoices to pay", "Facturas a pagar"),
    ("purchase.due_none", "Nothing falls due soon.", "No vence nada pronto."),
    ("purchase.due_overdue_days", "overdue", "vencida"),
    ("purchase.error_date", "Enter a date as dd/mm/yyyy.", "Ingrese una fecha como dd/mm/aaaa."),
    (
        "purchase.error_due_before_date",
        "The due date cannot be before the invoice date.",
        "El vencimiento no puede ser anterior a la fecha de la factura.",
    ),
    (
        "purchase.error_number_taken",
        "This supplier already has an invoice with this number.",
        "Este proveedor ya tiene una factura con este número.",
    ),
    (
        "purchase.error_unknown_product",
        "There is no such product in this shop. Search for it again.",
        "Ese producto no existe en este negocio. Búsquelo de nuevo.",
    ),
    ("purchase.error_quantity_zero", "Enter a quantity other than zero.", "Ingrese una cantidad distinta de cero."),
    (
        "purchase.error_quantity_positive",
        "An invoice's quantities are positive; use a correction to take units back.",
        "Las cantidades de una factura son positivas; use una corrección para devolver unidades.",
    ),
    (
        "purchase.error_received_fixed",
        "This invoice was received and cannot change: record a correction instead.",
        "Esta factura ya fue recibida y no cambia: registre una corrección.",
    ),
    ("purchase.error_empty", "Add at least one line before receiving.", "Agregue al menos una línea antes de recibir."),
    (
        "purchase.error_corrects_received",
        "Only a received invoice can be corrected.",
        "Solo se puede corregir una factura recibida.",
    ),
    (
        "purchase.error_correction_exceeds",
        "This correction takes off more than is still owed on the invoice.",
        "Esta corrección descuenta más de lo que todavía se adeuda de la factura.",
    ),
    (
        "purchase.error_stock_negative",
        "Not enough stock to take these units back.",
        "No hay stock suficiente para devolver esas unidades.",
    ),
    (
        "purchase.error_exceeds_due",
        "The payment is more than what is owed ({due}).",
        "El pago supera lo adeudado ({due}).",
    ),
    (
        "purchase.error_payment_positive",
        "Enter an amount greater than zero.",
        "Ingrese un importe mayor que cero.",
    ),
    ("purchase.error_not_received", "Only a received invoice is paid.", "Solo se paga una factura recibida."),
];

/// The status tag of an invoice: draft, or how far it is paid (overdue first).
pub fn status_label(l: Locale, i: &Invoice) -> &'static str {
    if !i.received {
        return t(l, "purchase.status_draft");
    }
    if i.kind == Kind::Correction {
        return t(l, "purchase.status_received");
    }
    match i.payment_status.as_str() {
        "paid" => t(l, "purchase.status_paid"),
        _ if i.overdue => t(l, "purchase.status_overdue"),
        "partial" => t(l, "purchase.status_partial"),
        _ => t(l, "purchase.status_unpaid"),
    }
}

fn show_label(l: Locale, s: Show) -> &'static str {
    match s {
        Show::All => t(l, "purchase.show_all"),
        Show::Drafts => t(l, "purchase.show_drafts"),
        Show::Open => t(l, "purchase.show_open"),
        Show::Overdue => t(l, "purchase.show_overdue"),
        Show::Paid => t(l, "purchase.show_paid"),
    }
}

/// A table of invoices; `with_supplier` adds the supplier column.
pub fn invoices_table(l: Locale, items: &[Invoice], with_supplier: bool) -> Markup {
    html! {
        div.table-wrap { table.list {
            thead { tr {
                th { (t(l, "purchase.number")) }
                @if with_supplier { th { (t(l, "purchase.supplier")) } }
                th { (t(l, "purchase.date")) } th { (t(l, "purchase.due_date")) } th { (t(l, "field.status")) }
                th.num { (t(l, "purchase.total")) } th.num { (t(l, "purchase.amount_due")) }
            } }
            tbody { @for i in items { tr.low[i.overdue] {
                td {
                    a href={ "/purchases/" (i.id) } { (i.number) }
                    @if i.kind == Kind::Correction { " " span.tag { (t(l, "purchase.kind_correction")) } }
                }
                @if with_supplier { td { a href={ "/suppliers/" (i.supplier_id) } { (i.supplier) } } }
                td { (format_date(i.invoice_date, l)) }
                td { @if let Some(d) = i.due_date { (format_date(d, l)) } @else { "—" } }
                td { span.tag { (status_label(l, i)) } }
                td.num { (format_money(i.total, l)) }
                td.num { @if i.received && i.kind == Kind::Invoice { (format_money(i.due(), l)) } }
            } } }
        } }
    }
}

fn list_query(q: &InvoiceQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if !q.q.is_empty() {
        s.append_pair("q", &q.q);
    }
    s.append_pair("show", q.show.code());
    if let Some(id) = q.supplier_id {
        s.append_pair("supplier", &id.to_string());
    }
    if page > 0 {
        s.append_pair("page", &page.to_string());
    }
    s.finish()
}

pub struct ListView<'a> {
    pub query: &'a InvoiceQuery,
    pub items: &'a [Invoice],
    pub has_next: bool,
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    let q = v.query;
    let shows: Vec<(String, String)> =
        Show::ALL.iter().map(|s| (s.code().to_string(), show_label(l, *s).to_string())).collect();
    page(
        p,
        t(l, "purchase.title"),
        html! {
            div.titlebar {
                h1 { (t(l, "purchase.title")) }
                div.actions { a.button href="/purchases/new" { (t(l, "purchase.new")) } }
            }
            form.filters method="get" action="/purchases" role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "purchase.search")) }
                    input id="f-q" type="search" name="q" value=(q.q);
                }
                (select(l, "show", "purchase.show", &shows, q.show.code(), None))
                @if let Some(s) = q.supplier_id { input type="hidden" name="supplier" value=(s); }
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "purchase.none_found")) }
            } @else {
                (invoices_table(l, v.items, true))
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if q.page > 0 { a href={ "/purchases?" (list_query(q, q.page - 1)) } rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href={ "/purchases?" (list_query(q, q.page + 1)) } rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

fn date_input(l: Locale, name: &str, label: &'static str, value: &str, error: Option<&str>) -> Markup {
    input(l, name, label, value, error, InputAttrs { kind: "date", ..InputAttrs::TEXT })
}

pub struct NewView<'a> {
    pub fields: &'a HeaderFields,
    pub errors: &'a FieldErrors,
    /// Active suppliers (id, name).
    pub suppliers: &'a [(i64, String)],
}

pub fn new_form(p: &Page, v: &NewView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(v.errors, name);
    let mut options = vec![(String::new(), "—".to_string())];
    options.extend(v.suppliers.iter().map(|(id, name)| (id.to_string(), name.clone())));
    page(
        p,
        t(l, "purchase.new"),
        html! {
            h1 { (t(l, "purchase.new")) }
            @if v.suppliers.is_empty() {
                p.empty { (t(l, "purchase.no_suppliers")) " " a href="/suppliers/new" { (t(l, "supplier.new")) } }
            } @else {
                @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                p.hint { (t(l, "purchase.draft_hint")) }
                form.card method="post" action="/purchases" {
                    (csrf(p))
                    div.grid {
                        (select(l, "supplier_id", "purchase.supplier", &options, &f.supplier_id, e("supplier_id")))
                        (input(l, "number", "purchase.number", &f.number, e("number"), InputAttrs::TEXT))
                        (date_input(l, "invoice_date", "purchase.date", &f.invoice_date, e("invoice_date")))
                        (date_input(l, "due_date", "purchase.due_date", &f.due_date, e("due_date")))
                        (input(l, "note", "purchase.note", &f.note, e("note"), InputAttrs::TEXT))
                    }
                    button type="submit" { (t(l, "purchase.create_draft")) }
                    " " a href="/purchases" { (t(l, "action.cancel")) }
                }
            }
        },
    )
}

/// A form of the invoice page as submitted (values, errors), or fresh.
#[derive(Clone, Debug, Default)]
pub struct Submitted {
    pub values: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl Submitted {
    pub fn get(&self, k: &str) -> &str {
        self.values.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str())
    }
    fn err(&self, k: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == k).map(|(_, e)| *e)
    }
}

/// Which form of the invoice page was refused, with what was typed.
#[derive(Clone, Debug, Default)]
pub enum Refused {
    #[default]
    Nothing,
    Header(Submitted),
    Line(Submitted),
    Payment(Submitted),
    Correction(Submitted),
    /// Receive or delete.
    Invoice(FieldErrors),
}

pub struct DetailView<'a> {
    pub invoice: &'a Invoice,
    pub lines: &'a [Line],
    pub payments: &'a [Payment],
    pub corrections: &'a [Invoice],
    /// The product search of a draft: query and hits.
    pub q: &'a str,
    pub hits: &'a [ProductHit],
    /// The name of the product a refused line named, when it exists.
    pub refused_product: Option<String>,
    pub refused: &'a Refused,
}

fn lines_table(p: &Page, i: &Invoice, lines: &[Line]) -> Markup {
    let l = p.locale;
    html! {
        @if lines.is_empty() {
            p.empty { (t(l, "purchase.no_lines")) }
        } @else {
            div.table-wrap { table.list {
                thead { tr {
                    th { (t(l, "purchase.product")) } th.num { (t(l, "purchase.quantity")) }
                    th.num { (t(l, "purchase.unit_cost")) } th.num { (t(l, "purchase.line_total")) }
                    @if !i.received { th {} }
                } }
                tbody { @for line in lines { tr {
                    td { a href={ "/products/" (line.product_id) } { (line.name) } " " small { (line.sku) } }
                    td.num { (format_qty(line.quantity, l)) " " (line.unit) }
                    td.num { (format_money(line.unit_cost, l)) }
                    td.num { (format_money(line.total, l)) }
                    @if !i.received { td {
                        form.inline method="post" action={ "/purchases/" (i.id) "/lines/" (line.id) "/delete" } {
                            (csrf(p))
                            button.link type="submit" { (t(l, "purchase.remove_line")) }
                        }
                    } }
                } } }
                tfoot { tr {
                    th colspan="3" { (t(l, "purchase.total")) }
                    th.num #total { (format_money(i.total, l)) }
                    @if !i.received { th {} }
                } }
            } }
        }
    }
}

/// The fields of one line form (for a product found, or a refused line shown again).
fn line_fields(l: Locale, s: &Submitted, quantity: &str, unit_cost: &str) -> Markup {
    html! {
        (input(l, "quantity", "purchase.quantity", quantity, s.err("quantity"), InputAttrs::DECIMAL))
        (input(l, "unit_cost", "purchase.unit_cost", unit_cost, s.err("unit_cost"), InputAttrs::DECIMAL))
    }
}

fn draft_section(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let i = v.invoice;
    let header = match v.refused {
        Refused::Header(s) => s.clone(),
        _ => Submitted {
            values: vec![
                ("number".into(), i.number.clone()),
                ("invoice_date".into(), i.invoice_date.format("%Y-%m-%d").to_string()),
                ("due_date".into(), i.due_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()),
                ("note".into(), i.note.clone()),
            ],
            errors: FieldErrors::new(),
        },
    };
    let fresh = Submitted::default();
    html! {
        section.card {
            h2 { (t(l, "purchase.add_line")) }
            @if i.kind == Kind::Correction { p.hint { (t(l, "purchase.correction_qty_hint")) } }
            @if let Refused::Line(s) = v.refused {
                form.line-form method="post" action={ "/purchases/" (i.id) "/lines" } {
                    (csrf(p))
                    input type="hidden" name="product_id" value=(s.get("product_id"));
                    div.field {
                        span.label { (t(l, "purchase.product")) }
                        " " strong { (v.refused_product.as_deref().unwrap_or("—")) }
                        @if let Some(e) = s.err("product_id") { p.error role="alert" { (t_dyn(l, e)) } }
                    }
                    div.grid { (line_fields(l, s, s.get("quantity"), s.get("unit_cost"))) }
                    button type="submit" { (t(l, "purchase.add")) }
                }
            }
            form.filters method="get" action={ "/purchases/" (i.id) } role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "purchase.find_product")) }
                    input id="f-q" type="search" name="q" value=(v.q) autofocus;
                }
                button type="submit" { (t(l, "purchase.find")) }
            }
            @if !v.q.is_empty() && v.hits.is_empty() { p.empty { (t(l, "purchase.no_products")) } }
            @for (id, sku, name, unit, cost) in v.hits {
                form.line-form method="post" action={ "/purchases/" (i.id) "/lines" } {
                    (csrf(p))
                    input type="hidden" name="product_id" value=(id);
                    p { strong { (name) } " " small { (sku) " · " (unit) } }
                    div.grid { (line_fields(l, &fresh, "", &crate::domain::money::input_value(*cost, l))) }
                    button type="submit" { (t(l, "purchase.add")) }
                }
            }
        }
        section.card {
            h2 { (t(l, "action.edit")) }
            form method="post" action={ "/purchases/" (i.id) "/header" } {
                (csrf(p))
                div.grid {
                    (input(l, "number", "purchase.number", header.get("number"), header.err("number"), InputAttrs::TEXT))
                    (date_input(l, "invoice_date", "purchase.date", header.get("invoice_date"), header.err("invoice_date")))
                    @if i.kind == Kind::Invoice {
                        (date_input(l, "due_date", "purchase.due_date", header.get("due_date"), header.err("due_date")))
                    }
                    (input(l, "note", "purchase.note", header.get("note"), header.err("note"), InputAttrs::TEXT))
                }
                button.secondary type="submit" { (t(l, "purchase.save_header")) }
            }
        }
        section.card {
            p.hint { (t(l, "purchase.receive_hint")) }
            form method="post" action={ "/purchases/" (i.id) "/receive" } {
                (csrf(p))
                button type="submit" { (t(l, "purchase.receive")) }
            }
        }
        form.danger method="post" action={ "/purchases/" (i.id) "/delete" } {
            (csrf(p))
            button.secondary type="submit" { (t(l, "purchase.delete_draft")) }
        }
    }
}

fn payment_section(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let i = v.invoice;
    let fresh = Submitted::default();
    let s = match v.refused {
        Refused::Payment(s) => s,
        _ => &fresh,
    };
    let methods: Vec<(String, String)> =
        PaymentMethod::ALL.iter().map(|m| (m.code().to_string(), method_label(l, *m).to_string())).collect();
    let amount_error = s.err("amount").map(|k| match k {
        "purchase.error_exceeds_due" => {
            tf(l, "purchase.error_exceeds_due", &[("due", &format_money(i.due(), l))])
        }
        other => t_dyn(l, other).to_string(),
    });
    let method = if s.get("method").is_empty() { "cash" } else { s.get("method") };
    html! {
        section.card {
            h2 { (t(l, "purchase.payments")) }
            @if v.payments.is_empty() {
                p.empty { (t(l, "purchase.no_payments")) }
            } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "field.when")) } th { (t(l, "purchase.method")) } th.num { (t(l, "purchase.amount")) }
                        th { (t(l, "field.who")) } th { (t(l, "purchase.note")) }
                    } }
                    tbody { @for pay in v.payments { tr {
                        td { (format_datetime(pay.at, l)) }
                        td { (PaymentMethod::parse(&pay.method).map(|m| method_label(l, m)).unwrap_or("—")) }
                        td.num { (format_money(pay.amount, l)) }
                        td { (pay.user_name.as_deref().unwrap_or("—")) }
                        td { (pay.note) }
                    } } }
                } }
            }
            @if i.due() > rust_decimal::Decimal::ZERO || !s.errors.is_empty() {
                h3 { (t(l, "purchase.pay")) }
                p.hint { (t(l, "purchase.pay_hint")) }
                @if let Some(e) = s.err("form") { p.error role="alert" { (t_dyn(l, e)) } }
                form method="post" action={ "/purchases/" (i.id) "/payments" } {
                    (csrf(p))
                    div.grid {
                        (select(l, "method", "purchase.method", &methods, method, s.err("method")))
                        div.field {
                            label for="f-amount" { (t(l, "purchase.amount")) }
                            input id="f-amount" name="amount" type="text" inputmode="decimal"
                                value=(if s.values.is_empty() { crate::domain::money::input_value(i.due(), l) } else { s.get("amount").to_string() })
                                aria-invalid=[amount_error.as_ref().map(|_| "true")];
                            @if let Some(e) = &amount_error { p.error role="alert" { (e) } }
                        }
                        (input(l, "note", "purchase.note", s.get("note"), s.err("note"), InputAttrs::TEXT))
                    }
                    button type="submit" { (t(l, "purchase.pay_submit")) }
                }
            }
        }
    }
}

fn corrections_section(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let i = v.invoice;
    let fresh = Submitted::default();
    let s = match v.refused {
        Refused::Correction(s) => s,
        _ => &fresh,
    };
    html! {
        section.card {
            h2 { (t(l, "purchase.corrections")) }
            @if !v.corrections.is_empty() { (invoices_table(l, v.corrections, false)) }
            h3 { (t(l, "purchase.new_correction")) }
            p.hint { (t(l, "purchase.correction_hint")) }
            @if let Some(e) = s.err("form") { p.error role="alert" { (t_dyn(l, e)) } }
            form method="post" action={ "/purchases/" (i.id) "/corrections" } {
                (csrf(p))
                div.grid {
                    (input(l, "number", "purchase.correction_number", s.get("number"), s.err("number"), InputAttrs::TEXT))
                    (date_input(l, "invoice_date", "purchase.date", s.get("invoice_date"), s.err("invoice_date")))
                    (input(l, "note", "purchase.note", s.get("note"), s.err("note"), InputAttrs::TEXT))
                }
                button.secondary type="submit" { (t(l, "purchase.create_correction")) }
            }
        }
    }
}

pub fn detail(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let i = v.invoice;
    let title = match i.kind {
        Kind::Invoice => tf(l, "purchase.invoice", &[("number", &i.number)]),
        Kind::Correction => tf(l, "purchase.correction", &[("number", &i.number)]),
    };
    let invoice_errors: &[(&str, &str)] = match v.refused {
        Refused::Invoice(e) => e,
        Refused::Line(s) | Refused::Header(s) => &s.errors,
        // a draft has no payment or correction forms to show their refusal next to
        Refused::Payment(s) | Refused::Correction(s) if !i.received => &s.errors,
        _ => &[],
    };
    page(
        p,
        &title,
        html! {
            div.titlebar {
                h1 { (title) " " span.tag #status { (status_label(l, i)) } }
            }
            @if !invoice_errors.is_empty() {
                @if let Some(e) = invoice_errors.iter().find(|(f, _)| *f == "form").map(|(_, e)| *e) {
                    p.error role="alert" { (t_dyn(l, e)) }
                } @else {
                    p.error.form-error role="alert" { (t(l, "error.form_has_errors")) }
                }
            }
            section.card {
                dl.facts {
                    dt { (t(l, "purchase.supplier")) } dd { a href={ "/suppliers/" (i.supplier_id) } { (i.supplier) } }
                    @if let (Some(id), Some(n)) = (i.corrects_id, &i.corrects_number) {
                        dt { (t(l, "purchase.corrects")) } dd { a href={ "/purchases/" (id) } { (n) } }
                    }
                    dt { (t(l, "purchase.date")) } dd { (format_date(i.invoice_date, l)) }
                    @if let Some(d) = i.due_date { dt { (t(l, "purchase.due_date")) } dd { (format_date(d, l)) } }
                    @if let Some(at) = i.received_at { dt { (t(l, "purchase.received_at")) } dd { (format_datetime(at, l)) } }
                    dt { (t(l, "purchase.total")) } dd { (format_money(i.total, l)) }
                    @if i.received && i.kind == Kind::Invoice {
                        @if !i.credited.is_zero() {
                            dt { (t(l, "purchase.corrections_total")) } dd { (format_money(i.credited, l)) }
                        }
                        dt { (t(l, "purchase.paid")) } dd #paid { (format_money(i.paid, l)) }
                        dt { (t(l, "purchase.amount_due")) } dd.balance #due { (format_money(i.due(), l)) }
                    }
                }
                @if !i.note.is_empty() { p.description { (i.note) } }
            }
            section.card {
                h2 { (t(l, "purchase.lines")) }
                (lines_table(p, i, v.lines))
            }
            @if !i.received {
                (draft_section(p, v))
            } @else if i.kind == Kind::Invoice {
                (payment_section(p, v))
                (corrections_section(p, v))
            }
        },
    )
}

/// The dashboard card: invoices to pay soon or overdue, soonest first.
pub fn due_invoices_card(l: Locale, items: &[DueInvoice]) -> Markup {
    html! {
        section.card.due-invoices {
            h2 { a href="/purchases?show=open" { (t(l, "purchase.due_title")) } }
            @if items.is_empty() {
                p.empty { (t(l, "purchase.due_none")) }
            } @else {
                table.list {
                    thead { tr {
                        th { (t(l, "purchase.supplier")) } th { (t(l, "purchase.number")) }
                        th { (t(l, "purchase.due_date")) } th.num { (t(l, "purchase.amount_due")) }
                    } }
                    tbody { @for d in items { tr.low[d.overdue] {
                        td { (d.supplier) }
                        td { a href={ "/purchases/" (d.id) } { (d.number) } }
                        td {
                            (format_date(d.due_date, l))
                            @if d.overdue { " " span.tag { (t(l, "purchase.due_overdue_days")) } }
                        }
                        td.num { (format_money(d.due, l)) }
                    } } }
                }
            }
        }
    }
}
