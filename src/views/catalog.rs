//! Product list, product form and product page (with its movement history and adjustment form).

use maud::{html, Markup};

use super::layout::{checkbox, csrf, format_datetime, input, page, select, textarea, InputAttrs, Page};
use crate::domain::catalog::{
    error_for, Category, FieldErrors, Product, ProductFields, ProductQuery, Sort, Unit,
};
use crate::domain::money::{format_money, format_qty};
use crate::domain::stock::Movement;
use crate::i18n::{t, t_dyn, Locale};

pub fn kind_label(l: Locale, kind: &str) -> &'static str {
    match kind {
        "opening" => t(l, "movement.opening"),
        "purchase" => t(l, "movement.purchase"),
        "sale" => t(l, "movement.sale"),
        "adjustment" => t(l, "movement.adjustment"),
        "stocktake" => t(l, "movement.stocktake"),
        "return" => t(l, "movement.return"),
        "import" => t(l, "movement.import"),
        "void" => t(l, "movement.void"),
        _ => t(l, "movement.other"),
    }
}

fn sort_label(l: Locale, s: Sort) -> &'static str {
    match s {
        Sort::Name => t(l, "sort.name"),
        Sort::Sku => t(l, "sort.sku"),
        Sort::PriceAsc => t(l, "sort.price_asc"),
        Sort::PriceDesc => t(l, "sort.price_desc"),
        Sort::StockAsc => t(l, "sort.stock"),
        Sort::Newest => t(l, "sort.newest"),
    }
}

/// The query string of a list page, for pagination links.
pub fn list_query(q: &ProductQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if !q.q.is_empty() {
        s.append_pair("q", &q.q);
    }
    if let Some(c) = q.category_id {
        s.append_pair("category", &c.to_string());
    }
    match q.active {
        Some(true) => {
            s.append_pair("active", "yes");
        }
        Some(false) => {
            s.append_pair("active", "no");
        }
        None => {
            s.append_pair("active", "all");
        }
    }
    if q.low_stock {
        s.append_pair("low", "on");
    }
    s.append_pair("sort", q.sort.code());
    if page > 0 {
        s.append_pair("page", &page.to_string());
    }
    s.finish()
}

pub struct ListView<'a> {
    pub query: &'a ProductQuery,
    pub categories: &'a [Category],
    pub items: &'a [Product],
    pub has_next: bool,
    pub can_manage: bool,
    pub title_key: &'static str,
    pub action: &'static str,
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    let q = v.query;
    let mut cats: Vec<(String, String)> = vec![(String::new(), t(l, "filter.all_categories").to_string())];
    cats.extend(v.categories.iter().map(|c| (c.id.to_string(), c.name.clone())));
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
    let sorts: Vec<(String, String)> =
        Sort::ALL.iter().map(|s| (s.code().to_string(), sort_label(l, *s).to_string())).collect();
    page(
        p,
        t(l, v.title_key),
        html! {
            div.titlebar {
                h1 { (t(l, v.title_key)) }
                @if v.can_manage {
                    div.actions {
                        a.button href="/products/new" { (t(l, "product.new")) }
                        " " a href="/products/import" { (t(l, "import.title")) }
                        " · " a href="/products/export.csv" { (t(l, "product.export")) }
                    }
                }
            }
            form.filters method="get" action=(v.action) role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "filter.search")) }
                    input id="f-q" type="search" name="q" value=(q.q) autofocus placeholder=(t(l, "filter.search_hint"));
                }
                (select(l, "category", "field.category", &cats, &q.category_id.map(|c| c.to_string()).unwrap_or_default(), None))
                (select(l, "active", "field.status", &active_opts, active_sel, None))
                (select(l, "sort", "field.sort", &sorts, q.sort.code(), None))
                (checkbox(l, "low", "filter.low_stock", q.low_stock))
                button type="submit" { (t(l, "filter.apply")) }
            }
            @if v.items.is_empty() {
                p.empty { (t(l, "product.none_found")) }
            } @else {
                div.table-wrap {
                    table.list {
                        thead { tr {
                            th { (t(l, "field.sku")) } th { (t(l, "field.name")) } th { (t(l, "field.category")) }
                            th.num { (t(l, "field.price")) } th.num { (t(l, "field.stock")) } th.num { (t(l, "field.min_stock")) }
                        } }
                        tbody {
                            @for item in v.items {
                                tr.inactive[!item.active] {
                                    td { code { (item.sku) } }
                                    td { a href={ "/products/" (item.id) } { (item.name) }
                                         @if !item.active { " " span.tag { (t(l, "filter.inactive")) } } }
                                    td { (item.category.as_deref().unwrap_or("")) }
                                    td.num { (format_money(item.price, l)) }
                                    td.num.low[item.low()] {
                                        @if item.track_stock { (format_qty(item.stock, l)) " " (item.unit) } @else { "—" }
                                    }
                                    td.num { @if item.track_stock { (format_qty(item.min_stock, l)) } }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label=(t(l, "pager.label")) {
                @if q.page > 0 { a href={ (v.action) "?" (list_query(q, q.page - 1)) } rel="prev" { "← " (t(l, "pager.prev")) } }
                @if v.has_next { a href={ (v.action) "?" (list_query(q, q.page + 1)) } rel="next" { (t(l, "pager.next")) " →" } }
            }
        },
    )
}

pub struct FormView<'a> {
    pub fields: &'a ProductFields,
    pub errors: &'a FieldErrors,
    pub categories: &'a [Category],
    pub units: &'a [Unit],
    /// None for a new product.
    pub product_id: Option<i64>,
}

pub fn form(p: &Page, v: &FormView) -> Markup {
    let l = p.locale;
    let f = v.fields;
    let e = |name: &str| error_for(v.errors, name);
    let title = if v.product_id.is_some() { t(l, "product.edit") } else { t(l, "product.new") };
    let action = match v.product_id {
        Some(id) => format!("/products/{id}"),
        None => "/products".to_string(),
    };
    let mut cats: Vec<(String, String)> = vec![(String::new(), t(l, "field.no_category").to_string())];
    cats.extend(v.categories.iter().map(|c| (c.id.to_string(), c.name.clone())));
    let units: Vec<(String, String)> =
        v.units.iter().map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.code))).collect();
    page(
        p,
        title,
        html! {
            h1 { (title) }
            @if !v.errors.is_empty() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
            @if let Some(err) = e("form").or(e("product")) { p.error role="alert" { (t_dyn(l, err)) } }
            form.card method="post" action=(action) {
                (csrf(p))
                div.grid {
                    (input(l, "sku", "field.sku", &f.sku, e("sku"), InputAttrs { autofocus: true, ..InputAttrs::TEXT }))
                    (input(l, "barcode", "field.barcode", &f.barcode, e("barcode"), InputAttrs::TEXT))
                    (input(l, "name", "field.name", &f.name, e("name"), InputAttrs::TEXT))
                    (select(l, "category_id", "field.category", &cats, &f.category_id, e("category_id")))
                    (select(l, "unit_id", "field.unit", &units, &f.unit_id, e("unit_id")))
                    (input(l, "price", "field.price", &f.price, e("price"), InputAttrs::DECIMAL))
                    (input(l, "cost", "field.cost", &f.cost, e("cost"), InputAttrs::DECIMAL))
                    (input(l, "min_stock", "field.min_stock", &f.min_stock, e("min_stock"), InputAttrs::DECIMAL))
                    @if v.product_id.is_none() {
                        (input(l, "opening_stock", "field.opening_stock", &f.opening_stock, e("opening_stock"), InputAttrs::DECIMAL))
                    }
                }
                (textarea(l, "description", "field.description", &f.description, e("description")))
                (checkbox(l, "track_stock", "field.track_stock", f.track_stock))
                (checkbox(l, "active", "field.active", f.active))
                button type="submit" { (t(l, "action.save")) }
                " " a href=(v.product_id.map(|id| format!("/products/{id}")).unwrap_or("/products".into())) { (t(l, "action.cancel")) }
            }
        },
    )
}

pub struct DetailView<'a> {
    pub product: &'a Product,
    pub movements: &'a [Movement],
    pub can_manage: bool,
    pub adjust_qty: &'a str,
    pub adjust_reason: &'a str,
    pub adjust_errors: &'a FieldErrors,
}

pub fn detail(p: &Page, v: &DetailView) -> Markup {
    let l = p.locale;
    let pr = v.product;
    let e = |name: &str| error_for(v.adjust_errors, name);
    page(
        p,
        &pr.name,
        html! {
            div.titlebar {
                h1 { (pr.name) @if !pr.active { " " span.tag { (t(l, "filter.inactive")) } } }
                @if v.can_manage { a.button href={ "/products/" (pr.id) "/edit" } { (t(l, "action.edit")) } }
            }
            @if let Some(err) = e("product") { p.error.form-error role="alert" { (t_dyn(l, err)) } }
            section.card.product {
                @if pr.has_image {
                    a href={ "/products/" (pr.id) "/image" } {
                        img.thumb src={ "/products/" (pr.id) "/thumb" } alt=(pr.name) width="240";
                    }
                }
                dl.facts {
                    dt { (t(l, "field.sku")) } dd { code { (pr.sku) } }
                    dt { (t(l, "field.barcode")) } dd { (pr.barcode.as_deref().unwrap_or("—")) }
                    dt { (t(l, "field.category")) } dd { (pr.category.as_deref().unwrap_or("—")) }
                    dt { (t(l, "field.price")) } dd { (format_money(pr.price, l)) }
                    @if v.can_manage { dt { (t(l, "field.cost")) } dd { (format_money(pr.cost, l)) } }
                    dt { (t(l, "field.stock")) }
                    dd.low[pr.low()] {
                        @if pr.track_stock { (format_qty(pr.stock, l)) " " (pr.unit) } @else { (t(l, "product.untracked")) }
                    }
                    dt { (t(l, "field.min_stock")) } dd { (format_qty(pr.min_stock, l)) }
                }
                @if !pr.description.is_empty() { p.description { (pr.description) } }
            }
            @if v.can_manage {
                section.card {
                    h2 { (t(l, "image.title")) }
                    @if let Some(err) = e("image") { p.error role="alert" { (t_dyn(l, err)) } }
                    form method="post" action={ "/products/" (pr.id) "/image" } enctype="multipart/form-data" {
                        (csrf(p))
                        div.field {
                            label for="f-image" { (t(l, "image.choose")) }
                            input id="f-image" type="file" name="image" accept="image/jpeg,image/png,image/webp";
                        }
                        button type="submit" { (t(l, "image.upload")) }
                    }
                    @if pr.has_image {
                        form method="post" action={ "/products/" (pr.id) "/image/delete" } {
                            (csrf(p))
                            button.secondary type="submit" { (t(l, "image.remove")) }
                        }
                    }
                }
            }
            @if v.can_manage && pr.track_stock {
                section.card {
                    h2 { (t(l, "stock.adjust")) }
                    @if let Some(err) = e("form") { p.error role="alert" { (t_dyn(l, err)) } }
                    form method="post" action={ "/products/" (pr.id) "/adjust" } {
                        (csrf(p))
                        div.grid {
                            (input(l, "quantity", "field.adjust_quantity", v.adjust_qty, e("quantity"), InputAttrs::DECIMAL))
                            (input(l, "reason", "field.reason", v.adjust_reason, e("reason"), InputAttrs::TEXT))
                        }
                        button type="submit" { (t(l, "stock.adjust")) }
                    }
                }
            }
            section.card {
                h2 { (t(l, "stock.history")) }
                @if v.movements.is_empty() {
                    p.empty { (t(l, "stock.no_movements")) }
                } @else {
                    div.table-wrap { table.list {
                        thead { tr {
                            th { (t(l, "field.when")) } th { (t(l, "field.kind")) } th.num { (t(l, "field.quantity")) }
                            th.num { (t(l, "field.stock_after")) } th { (t(l, "field.who")) } th { (t(l, "field.reason")) }
                        } }
                        tbody { @for m in v.movements { tr {
                            td { (format_datetime(m.at, l)) }
                            td { (kind_label(l, &m.kind)) }
                            td.num { @if m.quantity.is_sign_positive() { "+" } (format_qty(m.quantity, l)) }
                            td.num { (format_qty(m.stock_after, l)) }
                            td { (m.user_name.as_deref().unwrap_or("—")) }
                            td { (m.reason) }
                        } } }
                    } }
                }
            }
            @if v.can_manage {
                form.danger method="post" action={ "/products/" (pr.id) "/delete" } {
                    (csrf(p))
                    button.secondary type="submit" { (t(l, "product.delete")) }
                    " " small { (t(l, "product.delete_hint")) }
                }
            }
        },
    )
}
