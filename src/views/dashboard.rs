//! The dashboard (for now: the shop, the person and their role).

use maud::{html, Markup};

use super::layout::{page, role_label, Page};
use crate::db::tx::SessionCtx;
use crate::i18n::{t, tf};

pub fn render(p: &Page, s: &SessionCtx) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "dashboard.title"),
        html! {
            h1 { (t(l, "dashboard.title")) }
            p { (tf(l, "dashboard.welcome", &[("name", &s.display_name)])) }
            @match &s.shop {
                Some(shop) if !shop.active => p.error role="alert" { (t(l, "dashboard.suspended")) },
                Some(shop) => section.card {
                    h2 { (shop.name) }
                    dl {
                        dt { (t(l, "dashboard.your_role")) }
                        dd.role { (role_label(l, shop.role)) }
                    }
                },
                None => p { (t(l, "dashboard.no_shop")) " " a href="/shops" { (t(l, "shops.new")) } },
            }
        },
    )
}
