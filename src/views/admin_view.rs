//! "View as" pages: the shop's dashboard, products, low stock, sales and a sale, read only, under
//! the panel's layout with the support banner on every page. No form here writes to the shop.

use maud::{html, Markup};

use super::admin::{layout, view_banner, AdminPage};
use super::layout::format_datetime;
use super::sales::method_label;
use crate::db::tx::ViewAsCtx;
use crate::domain::catalog::{ProductPage, ProductQuery};
use crate::domain::dashboard::Dashboard;
use crate::domain::money::{format_money, format_qty};
use crate::domain::sales::{SaleDetail, SaleRow};
use crate::i18n::{t, Locale};

fn page(p: &AdminPage, title: &str, ctx: &ViewAsCtx, body: Markup) -> Markup {
    layout(p, title, Some(view_banner(p, &ctx.name, ctx.tenant_id)), body)
}

fn heading(l: Locale, ctx: &ViewAsCtx, what: &str) -> Markup {
    html! {
        h1 { (ctx.name) " · " (what) }
        @if !ctx.active { p.error role="alert" { (t(l, "sa.status_suspended")) } }
    }
}

pub fn dashboard(p: &AdminPage, ctx: &ViewAsCtx, d: &Dashboard) -> Markup {
    let l = p.locale;
    let base = format!("/admin/view/{}", ctx.tenant_id);
    page(
        p,
        t(l, "sa.view_dashboard"),
        ctx,
        html! {
            (heading(l, ctx, t(l, "sa.view_dashboard")))
            div.kpis {
                @if let Some(m) = &d.today {
                    div.kpi { span { (t(l, "dashboard.income")) } strong { (format_money(m.income, l)) } }
                    div.kpi { span { (t(l, "dashboard.expenses")) } strong { (format_money(m.expenses, l)) } }
                    div.kpi { span { (t(l, "dashboard.balance")) } strong { (format_money(m.balance(), l)) } }
                }
                div.kpi { span { (t(l, "dashboard.active_products")) } strong { (d.active_products) } }
            }
            div.columns {
                section.card {
                    h2 { a href={ (base) "/stock" } { (t(l, "nav.low_stock")) } }
                    @if d.low.is_empty() { p.empty { (t(l, "dashboard.nothing_low")) } } @else {
                        table.list { tbody { @for x in &d.low { tr {
                            td { (x.name) }
                            td.num.low { (format_qty(x.stock, l)) " " (x.unit) }
                            td.num { "/ " (format_qty(x.min_stock, l)) }
                        } } } }
                    }
                }
                section.card {
                    h2 { a href={ (base) "/sales" } { (t(l, "dashboard.latest_sales")) } }
                    @if d.latest.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                        table.list { tbody { @for x in &d.latest { tr.inactive[x.voided] {
                            td { a href={ (base) "/sales/" (x.id) } { "#" (x.id) } }
                            td { (format_datetime(x.at, l)) }
                            td { (x.customer) }
                            @if let Some(total) = x.total { td.num { (format_money(total, l)) } }
                        } } } }
                    }
                }
            }
        },
    )
}

pub fn products(p: &AdminPage, ctx: &ViewAsCtx, q: &ProductQuery, found: &ProductPage, low: bool) -> Markup {
    let l = p.locale;
    let path = format!("/admin/view/{}/{}", ctx.tenant_id, if low { "stock" } else { "products" });
    let title = if low { t(l, "sa.view_stock") } else { t(l, "sa.view_products") };
    let link = |n: i64| {
        format!(
            "{path}?q={}&page={n}",
            url::form_urlencoded::byte_serialize(q.q.as_bytes()).collect::<String>()
        )
    };
    page(
        p,
        title,
        ctx,
        html! {
            (heading(l, ctx, title))
            form.filters method="get" action=(path) role="search" {
                div.field.grow {
                    label for="f-q" { (t(l, "sa.search")) }
                    input id="f-q" name="q" type="search" value=(q.q);
                }
                button type="submit" { (t(l, "sa.search_button")) }
            }
            @if found.items.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                div.table-wrap { table.list {
                    thead { tr {
                        th { (t(l, "sa.sku")) } th { (t(l, "sa.name")) } th.num { (t(l, "sa.view_stock")) } th.num { (t(l, "sa.price")) }
                    } }
                    tbody { @for x in &found.items { tr.inactive[!x.active] {
                        td { (x.sku) }
                        td { (x.name) @if let Some(c) = &x.category { " " span.tag { (c) } } }
                        td.num.low[x.low()] { (format_qty(x.stock, l)) " " (x.unit) " / " (format_qty(x.min_stock, l)) }
                        td.num { (format_money(x.price, l)) }
                    } } }
                } }
            }
            nav.pager {
                @if q.page > 0 { a href=(link(q.page - 1)) { (t(l, "sa.previous")) } }
                @if found.has_next { a href=(link(q.page + 1)) { (t(l, "sa.next")) } }
            }
        },
    )
}

pub fn sales(p: &AdminPage, ctx: &ViewAsCtx, items: &[SaleRow], page_no: i64, more: bool) -> Markup {
    let l = p.locale;
    let base = format!("/admin/view/{}/sales", ctx.tenant_id);
    page(
        p,
        t(l, "sa.view_sales"),
        ctx,
        html! {
            (heading(l, ctx, t(l, "sa.view_sales")))
            @if items.is_empty() { p.empty { (t(l, "sa.none")) } } @else {
                div.table-wrap { table.list {
                    tbody { @for s in items { tr.inactive[s.status == "voided"] {
                        td { a href={ (base) "/" (s.id) } { "#" (s.id) } }
                        td { (format_datetime(s.created_at, l)) }
                        td { (s.customer) }
                        td { (s.seller.as_deref().unwrap_or("")) }
                        td.num { (s.lines) }
                        td.num { (format_money(s.total, l)) }
                    } } }
                } }
            }
            nav.pager {
                @if page_no > 0 { a href={ (base) "?page=" (page_no - 1) } { (t(l, "sa.previous")) } }
                @if more { a href={ (base) "?page=" (page_no + 1) } { (t(l, "sa.next")) } }
            }
        },
    )
}

pub fn sale(p: &AdminPage, ctx: &ViewAsCtx, s: &SaleDetail) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "sa.view_sales"),
        ctx,
        html! {
            (heading(l, ctx, &format!("#{}", s.id)))
            section.card {
                dl.facts {
                    dt { (t(l, "sa.when")) } dd { (format_datetime(s.created_at, l)) }
                    dt { (t(l, "sa.who")) } dd { (s.seller.as_deref().unwrap_or("")) " · " (s.customer) }
                    dt { (t(l, "sa.status")) } dd { (s.status) @if let Some(r) = &s.void_reason { " · " (r) } }
                }
                table.list {
                    tbody { @for x in &s.lines { tr {
                        td { (x.sku) } td { (x.description) }
                        td.num { (format_qty(x.quantity, l)) } td.num { (format_money(x.unit_price, l)) }
                        td.num { (format_money(x.total, l)) }
                    } } }
                    tfoot {
                        @for (method, amount) in &s.payments {
                            tr { th colspan="4" { (method_label(l, method)) } td.num { (format_money(*amount, l)) } }
                        }
                        tr { th colspan="4" { (t(l, "sa.total")) } td.num { strong { (format_money(s.total, l)) } } }
                    }
                }
            }
        },
    )
}
