//! The shops a person belongs to: switch between them, open another.

use maud::{html, Markup};

use super::layout::{field, page, role_label, Page};
use crate::domain::shop::MyShop;
use crate::i18n::t;

pub fn render(
    p: &Page,
    shops: &[MyShop],
    current: Option<i64>,
    name: &str,
    error: Option<&'static str>,
) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "shops.title"),
        html! {
            h1 { (t(l, "shops.title")) }
            ul.shops {
                @for s in shops {
                    li {
                        strong { (s.name) } " · " (role_label(l, s.role))
                        @if Some(s.tenant_id) == current {
                            " " em { "(" (t(l, "shops.current")) ")" }
                        } @else {
                            form.inline method="post" action="/shops/switch" {
                                input type="hidden" name="csrf" value=(p.csrf);
                                input type="hidden" name="tenant_id" value=(s.tenant_id);
                                button type="submit" { (t(l, "shops.switch")) }
                            }
                        }
                    }
                }
            }
            section.card.narrow {
                h2 { (t(l, "shops.new")) }
                form method="post" action="/shops" {
                    input type="hidden" name="csrf" value=(p.csrf);
                    (field(l, "shop_name", "field.shop_name", "text", name, error))
                    button type="submit" { (t(l, "shops.create")) }
                }
            }
        },
    )
}
