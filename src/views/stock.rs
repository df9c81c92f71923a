//! Categories, units, stocktake and missing products.

use maud::{html, Markup};

use super::layout::{checkbox, csrf, format_date, input, page, InputAttrs, Page};
use crate::domain::catalog::{error_for, Category, FieldErrors, Product, Unit};
use crate::domain::money::{format_qty, input_value};
use crate::domain::stock::Missing;
use crate::i18n::{t, t_dyn};

pub fn categories(p: &Page, list: &[Category], new_name: &str, errors: &FieldErrors) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "nav.categories"),
        html! {
            h1 { (t(l, "nav.categories")) }
            @if let Some(err) = error_for(errors, "delete") { p.error role="alert" { (t_dyn(l, err)) } }
            form.card.inline-form method="post" action="/categories" {
                (csrf(p))
                (input(l, "name", "category.new", new_name, error_for(errors, "name"), InputAttrs::TEXT))
                button type="submit" { (t(l, "action.add")) }
            }
            table.list {
                thead { tr { th { (t(l, "field.name")) } th.num { (t(l, "field.products")) } th { } } }
                tbody { @for c in list { tr {
                    td {
                        form.inline method="post" action={ "/categories/" (c.id) "/rename" } {
                            (csrf(p))
                            label.visually-hidden for={ "cat-" (c.id) } { (t(l, "action.rename")) }
                            input id={ "cat-" (c.id) } name="name" value=(c.name);
                            button.secondary type="submit" { (t(l, "action.rename")) }
                        }
                    }
                    td.num { a href={ "/products?active=all&category=" (c.id) } { (c.products) } }
                    td {
                        form.inline method="post" action={ "/categories/" (c.id) "/delete" } {
                            (csrf(p))
                            button.secondary type="submit" disabled[c.products > 0]
                                title=[(c.products > 0).then(|| t(l, "category.in_use"))] { (t(l, "action.delete")) }
                        }
                    }
                } } }
            }
        },
    )
}

pub fn units(p: &Page, list: &[Unit], errors: &FieldErrors) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "nav.units"),
        html! {
            h1 { (t(l, "nav.units")) }
            @if let Some(err) = error_for(errors, "delete").or(error_for(errors, "divisible")) { p.error role="alert" { (t_dyn(l, err)) } }
            form.card method="post" action="/units" {
                (csrf(p))
                h2 { (t(l, "unit.new")) }
                div.grid {
                    (input(l, "code", "field.unit_code", "", error_for(errors, "code"), InputAttrs::TEXT))
                    (input(l, "name", "field.name", "", error_for(errors, "name"), InputAttrs::TEXT))
                }
                (checkbox(l, "divisible", "field.divisible", false))
                button type="submit" { (t(l, "action.add")) }
            }
            table.list {
                thead { tr { th { (t(l, "field.unit_code")) } th { (t(l, "field.name")) } th.num { (t(l, "field.products")) } th { } } }
                tbody { @for u in list { tr {
                    td { code { (u.code) } }
                    td {
                        form.inline method="post" action={ "/units/" (u.id) } {
                            (csrf(p))
                            label.visually-hidden for={ "unit-" (u.id) } { (t(l, "field.name")) }
                            input id={ "unit-" (u.id) } name="name" value=(u.name);
                            label { input type="checkbox" name="divisible" value="on" checked[u.divisible]; " " (t(l, "field.divisible")) }
                            " " button.secondary type="submit" { (t(l, "action.save")) }
                        }
                    }
                    td.num { (u.products) }
                    td {
                        form.inline method="post" action={ "/units/" (u.id) "/delete" } {
                            (csrf(p))
                            button.secondary type="submit" disabled[u.products > 0] { (t(l, "action.delete")) }
                        }
                    }
                } } }
            }
        },
    )
}

pub struct StocktakeView<'a> {
    pub products: &'a [Product],
    pub categories: &'a [Category],
    pub category_id: Option<i64>,
    pub errors: &'a FieldErrors,
    /// Errors of single rows, by product id.
    pub row_errors: &'a [(i64, &'static str)],
    pub counts: &'a [(i64, String)],
    pub reason: &'a str,
}

pub fn stocktake(p: &Page, v: &StocktakeView) -> Markup {
    let l = p.locale;
    let counted =
        |id: i64| v.counts.iter().find(|(pid, _)| *pid == id).map(|(_, c)| c.as_str()).unwrap_or("");
    let row_error = |id: i64| v.row_errors.iter().find(|(pid, _)| *pid == id).map(|(_, e)| *e);
    page(
        p,
        t(l, "nav.stocktake"),
        html! {
            h1 { (t(l, "nav.stocktake")) }
            p.hint { (t(l, "stocktake.hint")) }
            form.filters method="get" action="/stocktake" {
                div.field {
                    label for="f-category" { (t(l, "field.category")) }
                    select id="f-category" name="category" {
                        option value="" { (t(l, "filter.all_categories")) }
                        @for c in v.categories { option value=(c.id) selected[Some(c.id) == v.category_id] { (c.name) } }
                    }
                }
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if !v.errors.is_empty() || !v.row_errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            form method="post" action="/stocktake" {
                (csrf(p))
                table.list {
                    thead { tr { th { (t(l, "field.sku")) } th { (t(l, "field.name")) } th.num { (t(l, "field.stock")) } th { (t(l, "field.counted")) } } }
                    tbody { @for pr in v.products { tr {
                        td { code { (pr.sku) } }
                        td { label for={ "count-" (pr.id) } { (pr.name) } }
                        td.num { (format_qty(pr.stock, l)) " " (pr.unit) }
                        td {
                            input id={ "count-" (pr.id) } name={ "count_" (pr.id) } value=(counted(pr.id)) inputmode="decimal" size="8"
                                placeholder=(input_value(pr.stock, l)) aria-invalid=[row_error(pr.id).map(|_| "true")];
                            @if let Some(err) = row_error(pr.id) { p.error { (t_dyn(l, err)) } }
                        }
                    } } }
                }
                (input(l, "reason", "field.reason", v.reason, error_for(v.errors, "reason"), InputAttrs::TEXT))
                button type="submit" { (t(l, "stocktake.post")) }
            }
        },
    )
}

pub fn missing(p: &Page, list: &[Missing], can_remove: bool, name: &str, errors: &FieldErrors) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "nav.missing"),
        html! {
            h1 { (t(l, "nav.missing")) }
            p.hint { (t(l, "missing.hint")) }
            form.card method="post" action="/missing" {
                (csrf(p))
                div.grid {
                    (input(l, "name", "missing.what", name, error_for(errors, "name"), InputAttrs { autofocus: true, ..InputAttrs::TEXT }))
                    (input(l, "note", "field.note", "", error_for(errors, "note"), InputAttrs::TEXT))
                }
                button type="submit" { (t(l, "missing.note")) }
            }
            @if list.is_empty() { p.empty { (t(l, "missing.none")) } } @else {
                table.list {
                    thead { tr { th { (t(l, "field.name")) } th.num { (t(l, "missing.requests")) } th { (t(l, "field.note")) } th { (t(l, "missing.last")) } th { } } }
                    tbody { @for m in list { tr {
                        td { (m.name) }
                        td.num { (m.requests) }
                        td { (m.note) }
                        td { (format_date(m.last_requested_at.date_naive(), l)) }
                        td { @if can_remove {
                            form.inline method="post" action={ "/missing/" (m.id) "/delete" } {
                                (csrf(p))
                                button.secondary type="submit" { (t(l, "action.delete")) }
                            }
                        } }
                    } } }
                }
            }
        },
    )
}
