//! Charts drawn on the server as inline SVG: no script, nothing fetched. Bars for income (up from
//! the zero line) and expenses (down from it) per period, a line with markers for the net. The SVG
//! is an image with a title and a description; each bar and marker carries its figure as a
//! `<title>` tooltip, and the page shows the same numbers in a table.

use maud::{html, Markup};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::domain::money::format_money;
use crate::i18n::{t, Locale};

pub struct Point {
    pub label: String,
    pub income: Decimal,
    pub expenses: Decimal,
}

impl Point {
    fn net(&self) -> Decimal {
        self.income - self.expenses
    }
}

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;
const INCOME: &str = "#2e7d32";
const EXPENSE: &str = "#c62828";
const NET: &str = "#1565c0";
const AXIS: &str = "#555";

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// A number for an SVG attribute: one decimal is plenty at this size.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// The chart, `id` making its title and description ids unique on the page.
pub fn income_expenses(l: Locale, id: &str, title: &str, desc: &str, points: &[Point]) -> Markup {
    let up = points.iter().map(|p| f(p.income).max(f(p.net()))).fold(0.0_f64, f64::max);
    let down = points.iter().map(|p| f(p.expenses).max(-f(p.net()))).fold(0.0_f64, f64::max);
    let span = if up + down > 0.0 { up + down } else { 1.0 };
    let plot_h = H - TOP - BOTTOM;
    let zero = TOP + plot_h * up / span;
    let y = |v: f64| zero - plot_h * v / span;
    let count = points.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT) / count;
    let bar = (slot * 0.38).clamp(1.0, 28.0);
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
    // at most about twelve labels under the axis
    let every = points.len().div_ceil(12).max(1);
    let net_path: Vec<String> =
        points.iter().enumerate().map(|(i, p)| format!("{},{}", n(x_mid(i)), n(y(f(p.net()))))).collect();
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img"
            aria-labelledby={ (title_id) " " (desc_id) } preserveAspectRatio="xMidYMid meet" {
            title id=(title_id) { (title) }
            desc id=(desc_id) { (desc) }
            // legend
            g font-size="12" {
                rect x=(n(LEFT)) y="6" width="12" height="12" fill=(INCOME) {}
                text x=(n(LEFT + 16.0)) y="16" { (t(l, "balance.income")) }
                rect x=(n(LEFT + 110.0)) y="6" width="12" height="12" fill=(EXPENSE) {}
                text x=(n(LEFT + 126.0)) y="16" { (t(l, "balance.expenses")) }
                line x1=(n(LEFT + 220.0)) y1="12" x2=(n(LEFT + 244.0)) y2="12" stroke=(NET) stroke-width="2" {}
                circle cx=(n(LEFT + 232.0)) cy="12" r="3" fill=(NET) {}
                text x=(n(LEFT + 250.0)) y="16" { (t(l, "balance.net")) }
            }
            // axis: the top, zero and bottom values
            g font-size="11" fill=(AXIS) text-anchor="end" {
                text x=(n(LEFT - 6.0)) y=(n(TOP + 4.0)) { (format_money(Decimal::from_f64_retain(up).unwrap_or_default().round_dp(0), l)) }
                text x=(n(LEFT - 6.0)) y=(n(zero + 4.0)) { "0" }
                @if down > 0.0 {
                    text x=(n(LEFT - 6.0)) y=(n(H - BOTTOM + 4.0)) { "-" (format_money(Decimal::from_f64_retain(down).unwrap_or_default().round_dp(0), l)) }
                }
            }
            line x1=(n(LEFT)) y1=(n(zero)) x2=(n(W - RIGHT)) y2=(n(zero)) stroke=(AXIS) stroke-width="1" {}
            line x1=(n(LEFT)) y1=(n(TOP)) x2=(n(LEFT)) y2=(n(H - BOTTOM)) stroke=(AXIS) stroke-width="1" {}
            @for (i, p) in points.iter().enumerate() {
                @let (inc, exp) = (f(p.income).max(0.0), f(p.expenses).max(0.0));
                rect x=(n(x_mid(i) - bar)) y=(n(y(inc))) width=(n(bar)) height=(n(zero - y(inc))) fill=(INCOME) {
                    title { (p.label) ": " (t(l, "balance.income")) " " (format_money(p.income, l)) }
                }
                rect x=(n(x_mid(i))) y=(n(zero)) width=(n(bar)) height=(n(y(-exp) - zero)) fill=(EXPENSE) {
                    title { (p.label) ": " (t(l, "balance.expenses")) " " (format_money(p.expenses, l)) }
                }
                @if i % every == 0 {
                    text x=(n(x_mid(i))) y=(n(H - BOTTOM + 16.0)) font-size="11" fill=(AXIS) text-anchor="middle" { (p.label) }
                }
            }
            @if !points.is_empty() {
                polyline points=(net_path.join(" ")) fill="none" stroke=(NET) stroke-width="2" {}
                @for (i, p) in points.iter().enumerate() {
                    circle cx=(n(x_mid(i))) cy=(n(y(f(p.net())))) r="3" fill=(NET) {
                        title { (p.label) ": " (t(l, "balance.net")) " " (format_money(p.net(), l)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_an_image_with_its_figures() {
        let points = vec![
            Point {
                label: "01/03".into(),
                income: Decimal::new(150000, 2),
                expenses: Decimal::new(50000, 2),
            },
            Point { label: "02/03".into(), income: Decimal::ZERO, expenses: Decimal::new(20000, 2) },
        ];
        let svg = income_expenses(Locale::Es, "c", "Balance", "Ingresos y egresos", &points).into_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("role=\"img\"") && svg.contains("<title id=\"c-title\">Balance</title>"));
        assert!(svg.contains("01/03: ") && svg.contains("1.500,00") && svg.contains("-200,00"), "{svg}");
        assert!(!svg.contains("<script"));
        assert_eq!(svg.matches("<rect").count(), 2 + 4, "two legend squares and two bars per point");
    }

    #[test]
    fn an_empty_range_draws_axes_only() {
        let svg = income_expenses(Locale::En, "e", "t", "d", &[]).into_string();
        assert!(svg.contains("<line") && !svg.contains("polyline"));
    }
}
