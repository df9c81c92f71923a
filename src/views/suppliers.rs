//! Supplier list, supplier form and supplier page (details, what is owed, its invoices).

use maud::{html, Markup};

use super::layout::{csrf, input, page, select, textarea, InputAttrs, Page};
use super::purchases::invoices_table;
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::money::format_money;
use crate::domain::purchases::Invoice;
use crate::domain::suppliers::{Supplier, SupplierFields, SupplierQuery};
use crate::i18n::{t, t_dyn, tf};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.suppliers", "Suppliers", "Proveedores"),
    ("supplier.new", "New supplier", "Nuevo proveedor"),
    ("supplier.edit", "Edit supplier", "Editar proveedor"),
    ("supplier.none_found", "No suppliers match.", "No hay proveedores que coincidan."),
    ("supplier.search", "Name or tax ID", "Nombre o CUIT"),
    ("supplier.search_hint", "e.g. Distribuidora or 30-71234567-8", "p. ej. Distribuidora o 30-71234567-8"),
    ("supplier.field_tax_id", "Tax ID", "CUIT"),
    ("supplier.field_phone", "Phone", "Teléfono"),
    ("supplier.field_address", "Address", "Dirección"),
    ("supplier.field_notes", "Notes", "Notas"),
    ("supplier.owed", "Owed", "Se le debe"),
    ("supplier.owed_nothing", "Nothing owed", "No se le debe nada"),
    ("supplier.invoices", "Invoices", "Facturas"),
    ("supplier.no_invoices", "No invoices yet.", "Todavía no hay facturas."),
    ("supplier.new_invoice", "New invoice", "Nueva factura"),
    ("supplier.latest_only", "Only the latest {count} are shown.", "Se muestran solo las últimas {count}."),
    ("supplier.deactivate", "Deactivate", "Desactivar"),
    ("supplier.reactivate", "Reactivate", "Reactivar"),
    (
        "supplier.deactivate_hint",
        "An inactive supplier keeps its invoices but is not offered for new ones.",
        "Un proveedor inactivo conserva sus facturas pero no se ofrece para nuevas.",
    ),
    ("supplier.delete", "Delete supplier", "Eliminar proveedor"),
    (
        "supplier.delete_hint",
        "Only possible while it has no invoices.",
        "Solo es posible mientras no tenga facturas.",
    ),
    (
        "supplier.error_has_invoices",
        "This supplier has invoices and cannot be deleted: deactivate it instead.",
        "Este proveedor tiene facturas y no se puede eliminar: desactívelo.",
    ),
];

fn list_query(q: &SupplierQuery, page: i64) -> String {
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
    pub query: &'a SupplierQuery,
    pub items: &'a [Supplier],
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
        t(l, "nav.suppliers"),
        html! {
            div.titlebar {
                h1 { (t(l, "nav.suppliers")) }
                div.actions { a.button href="/suppliers/new" { (t(l, "supplier.new")) } }
            }
            form.filters method="get" action="/suppliers" role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "supplier.search")) }
                    input id="f-q" type="search" name="q" value=(q.q) autofocus placeholder=(t(l, "supplier.search_hint"));
                }
                (select(l, "active", "field.status", &active_opts, active_sel, None))
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "supplier.none_found")) }
            } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "field.name")) } th { (t(l, "supplier.field_tax_id")) }
                        th { (t(l, "supplier.field_phone")) } th.num { (t(l, "supplier.owed")) }
                    } }
                    tbody { @for s in v.items { tr.inactive[!s.active] {
                        td {
                            a href={ "/suppliers/" (s.id) } { (s.name) }
                            @if !s.active { " " span.tag { (t(l, "filter.inactive")) } }
                        }
                        td { (s.tax_id) }
                        td { (s.phone) }
                        td.num.low[s.owed > rust_decimal::Decimal::ZERO] { (format_money(s.owed, l)) }
                    } } }
                } }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if q.page > 0 { a href={ "/suppliers?" (list_query(q, q.page - 1)) } rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href={ "/suppliers?" (list_query(q, q.page + 1)) } rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

pub struct FormView<'a> {
    pub fields: &'a SupplierFields,
    pub errors: &'a FieldErrors,
    /// None for a new supplier.
    pub supplier_id: Option<i64>,
}

pub fn form(p: &Page, v: &FormView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(v.errors, name);
    let title = if v.supplier_id.is_some() { t(l, "supplier.edit") } else { t(l, "supplier.new") };
    let (action, back) = match v.supplier_id {
        Some(id) => (format!("/suppliers/{id}"), format!("/suppliers/{id}")),
        None => ("/suppliers".to_string(), "/suppliers".to_string()),
    };
    page(
        p,
        title,
        html! {
            h1 { (title) }
            @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            form.card method="post" action=(action) {
                (csrf(p))
                div.grid {
                    (input(l, "name", "field.name", &f.name, e("name"), InputAttrs { autofocus: true, ..InputAttrs::TEXT }))
                    (input(l, "tax_id", "supplier.field_tax_id", &f.tax_id, e("tax_id"), InputAttrs::TEXT))
                    (input(l, "email", "field.email", &f.email, e("email"), InputAttrs { kind: "email", ..InputAttrs::TEXT }))
                    (input(l, "phone", "supplier.field_phone", &f.phone, e("phone"), InputAttrs { kind: "tel", ..InputAttrs::TEXT }))
                    (input(l, "address", "supplier.field_address", &f.address, e("address"), InputAttrs::TEXT))
                }
                (textarea(l, "notes", "supplier.field_notes", &f.notes, e("notes")))
                button type="submit" { (t(l, "action.save")) }
                " " a href=(back) { (t(l, "action.cancel")) }
            }
        },
    )
}

pub struct DetailView<'a> {
    pub supplier: &'a Supplier,
    pub invoices: &'a [Invoice],
    pub history_limit: i64,
    /// Refusals of the whole supplier (delete).
    pub errors: &'a FieldErrors,
}

pub fn detail(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let s = v.supplier;
    let dash = |x: &str| if x.is_empty() { "—".to_string() } else { x.to_string() };
    page(
        p,
        &s.name,
        html! {
            div.titlebar {
                h1 {
                    (s.name)
                    @if !s.active { " " span.tag { (t(l, "filter.inactive")) } }
                }
                div.actions {
                    @if s.active { a.button href={ "/purchases/new?supplier=" (s.id) } { (t(l, "supplier.new_invoice")) } }
                    " " a.button.secondary href={ "/suppliers/" (s.id) "/edit" } { (t(l, "action.edit")) }
                }
            }
            @if let Some(err) = error_for(v.errors, "supplier") { p.error role="alert" { (t_dyn(l, err)) } }
            section.card {
                dl.facts {
                    dt { (t(l, "supplier.field_tax_id")) } dd { (dash(&s.tax_id)) }
                    dt { (t(l, "field.email")) } dd { (dash(&s.email)) }
                    dt { (t(l, "supplier.field_phone")) } dd { (dash(&s.phone)) }
                    dt { (t(l, "supplier.field_address")) } dd { (dash(&s.address)) }
                    dt { (t(l, "supplier.owed")) }
                    dd.balance.low[s.owed > rust_decimal::Decimal::ZERO] #owed {
                        @if s.owed.is_zero() { (t(l, "supplier.owed_nothing")) } @else { (format_money(s.owed, l)) }
                    }
                }
                @if !s.notes.is_empty() { p.description { (s.notes) } }
            }
            section.card {
                h2 { (t(l, "supplier.invoices")) }
                @if v.invoices.is_empty() {
                    p.empty { (t(l, "supplier.no_invoices")) }
                } @else {
                    (invoices_table(l, v.invoices, false))
                    @if v.invoices.len() as i64 >= v.history_limit {
                        p.hint { (tf(l, "supplier.latest_only", &[("count", &v.history_limit.to_string())])) }
                    }
                }
            }
            form.danger method="post" action={ "/suppliers/" (s.id) "/active" } {
                (csrf(p))
                @if s.active {
                    input type="hidden" name="active" value="no";
                    button.secondary type="submit" { (t(l, "supplier.deactivate")) }
                    " " small { (t(l, "supplier.deactivate_hint")) }
                } @else {
                    input type="hidden" name="active" value="yes";
                    button.secondary type="submit" { (t(l, "supplier.reactivate")) }
                }
            }
            @if s.invoices == 0 {
                form.danger method="post" action={ "/suppliers/" (s.id) "/delete" } {
                    (csrf(p))
                    button.secondary type="submit" { (t(l, "supplier.delete")) }
                    " " small { (t(l, "supplier.delete_hint")) }
                }
            }
        },
    )
}
