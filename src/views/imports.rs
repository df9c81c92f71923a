//! CSV import: the upload form and the preview report.

use maud::{html, Markup};

use super::layout::{csrf, page, Page};
use crate::domain::csv_io::{Plan, RowError, COLUMNS};
use crate::i18n::{t, t_dyn, tf};

pub fn upload(p: &Page, error: Option<&str>) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "import.title"),
        html! {
            h1 { (t(l, "import.title")) }
            @if let Some(e) = error { p.error.form-error role="alert" { (e) } }
            form.card method="post" action="/products/import" enctype="multipart/form-data" {
                (csrf(p))
                div.field {
                    label for="f-file" { (t(l, "import.file")) }
                    input id="f-file" type="file" name="file" accept=".csv,text/csv" required;
                }
                button type="submit" { (t(l, "import.check")) }
            }
            section.card {
                h2 { (t(l, "import.format")) }
                p { (t(l, "import.format_hint")) }
                p { code { (COLUMNS.join(",")) } }
                p { a href="/products/export.csv" { (t(l, "import.export_link")) } }
            }
        },
    )
}

pub struct PreviewView<'a> {
    pub id: i64,
    pub filename: &'a str,
    pub rows: usize,
    pub plan: &'a Plan,
    pub errors: &'a [RowError],
    pub applied: bool,
}

pub fn preview(p: &Page, v: &PreviewView) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "import.preview"),
        html! {
            h1 { (t(l, "import.preview")) ": " (v.filename) }
            section.card {
                dl.facts {
                    dt { (t(l, "import.rows")) } dd { (v.rows) }
                    dt { (t(l, "import.new")) } dd { (v.plan.new_products) }
                    dt { (t(l, "import.updated")) } dd { (v.plan.updated_products) }
                    dt { (t(l, "import.unchanged")) } dd { (v.plan.unchanged_products) }
                    dt { (t(l, "import.new_categories")) } dd { (v.plan.new_categories) }
                    dt { (t(l, "import.errors")) } dd.low[!v.errors.is_empty()] { (v.errors.len()) }
                }
                @if v.plan.stock_kept > 0 {
                    p.hint { (tf(l, "import.stock_kept", &[("count", &v.plan.stock_kept.to_string())])) }
                }
            }
            @if v.applied {
                p.flash { (t(l, "import.already_applied")) }
            } @else if v.errors.is_empty() {
                form method="post" action={ "/products/import/" (v.id) "/apply" } {
                    (csrf(p))
                    p { (t(l, "import.nothing_changed_yet")) }
                    button type="submit" { (t(l, "import.apply")) }
                }
            } @else {
                p.error role="alert" { (t(l, "import.fix_and_retry")) }
                table.list {
                    thead { tr { th.num { (t(l, "import.line")) } th { (t(l, "import.column")) } th { (t(l, "import.problem")) } } }
                    tbody { @for e in v.errors.iter().take(500) { tr {
                        td.num { (e.line) } td { code { (e.column) } } td { (t_dyn(l, e.key)) }
                    } } }
                }
                @if v.errors.len() > 500 { p.hint { (tf(l, "import.more_errors", &[("count", &(v.errors.len() - 500).to_string())])) } }
            }
            p { a href="/products/import" { (t(l, "import.another")) } }
        },
    )
}
