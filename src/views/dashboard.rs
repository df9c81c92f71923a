//! The dashboard: how today went, what to reorder, the latest sales.

use maud::{html, Markup};

use super::layout::{format_datetime, page, role_label, Page};
use super::purchases::due_invoices_card;
use crate::db::tx::SessionCtx;
use crate::domain::dashboard::Dashboard;
use crate::domain::money::{format_money, format_qty};
use crate::domain::purchases::DueInvoice;
use crate::i18n::{t, tf};

pub fn render(p: &Page, s: &SessionCtx, d: Option<&Dashboard>, due: Option<&[DueInvoice]>) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "dashboard.title"),
        html! {
            h1 { (t(l, "dashboard.title")) }
            p { (tf(l, "dashboard.welcome", &[("name", &s.display_name)])) }
            @match (&s.shop, d) {
                (Some(shop), _) if !shop.active => p.error role="alert" { (t(l, "dashboard.suspended")) },
                (Some(shop), Some(d)) => {
                    section.card {
                        h2 { (shop.name) }
                        dl {
                            dt { (t(l, "dashboard.your_role")) }
                            dd.role { (role_label(l, shop.role)) }
                        }
                    }
                    div.kpis {
                        @if let Some(m) = &d.today {
                            div.kpi { span { (t(l, "dashboard.income")) } strong { (format_money(m.income, l)) } }
                            div.kpi { span { (t(l, "dashboard.expenses")) } strong { (format_money(m.expenses, l)) } }
                            div.kpi { span { (t(l, "dashboard.balance")) } strong.low[m.balance().is_sign_negative()] { (format_money(m.balance(), l)) } }
                        }
                        div.kpi { span { (t(l, "dashboard.active_products")) } strong { (d.active_products) } }
                    }
                    @if d.today.is_some() {
                        p.links {
                            a href="/money" { (t(l, "nav.money_ledger")) } " · "
                            a href="/balance" { (t(l, "nav.balance")) }
                        }
                    }
                    @if let Some(due) = due { (due_invoices_card(l, due)) }
                    div.columns {
                        section.card {
                            h2 { a href="/stock/low" { (t(l, "nav.low_stock")) } }
                            @if d.low.is_empty() { p.empty { (t(l, "dashboard.nothing_low")) } } @else {
                                table.list { tbody { @for x in &d.low { tr {
                                    td { a href={ "/products/" (x.id) } { (x.name) } }
                                    td.num.low { (format_qty(x.stock, l)) " " (x.unit) }
                                    td.num { "/ " (format_qty(x.min_stock, l)) }
                                } } } }
                            }
                        }
                        section.card {
                            h2 { a href="/sales" { (t(l, "dashboard.latest_sales")) } }
                            @if d.latest.is_empty() { p.empty { (t(l, "sale.none")) } } @else {
                                table.list { tbody { @for x in &d.latest { tr.inactive[x.voided] {
                                    td { a href={ "/sales/" (x.id) } { "#" (x.id) } }
                                    td { (format_datetime(x.at, l)) }
                                    td { (x.customer) }
                                    @if let Some(total) = x.total { td.num { (format_money(total, l)) } }
                                } } } }
                            }
                        }
                    }
                },
                _ => p { (t(l, "dashboard.no_shop")) " " a href="/shops" { (t(l, "shops.new")) } },
            }
        },
    )
}
