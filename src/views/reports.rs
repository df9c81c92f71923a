//! Report pages (sales by period, best sellers, margin, stock valuation) with their filter forms,
//! and the same tables as CSV: dot decimals, fixed scales, ISO dates (docs/REPORTS.md).

use maud::{html, Markup};
use rust_decimal::{Decimal, RoundingStrategy};

use super::layout::Page;
use super::layout::{format_date, page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::money::{format_decimal, format_money, format_qty};
use crate::domain::reports::{
    BestRow, Breakdown, Grouping, MarginRow, MarginTotals, PeriodRow, RawFilters, Report, ValuationRow,
    ValuationTotals,
};
use crate::error::AppError;
use crate::i18n::{t, t_dyn, Locale};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("report.nav", "Reports", "Informes"),
    ("report.sales", "Sales by period", "Ventas por período"),
    ("report.best_sellers", "Best sellers", "Más vendidos"),
    ("report.margin", "Margin", "Margen"),
    ("report.valuation", "Stock valuation", "Valorización de stock"),
    ("report.sales_hint", "Sales, returns and net sales per day, week or month, in the shop's time zone.", "Ventas, devoluciones y venta neta por día, semana o mes, en la zona horaria del negocio."),
    ("report.best_sellers_hint", "The products that sold most, by quantity or by amount.", "Los productos que más se vendieron, por cantidad o por importe."),
    ("report.margin_hint", "Revenue minus the cost of the goods sold, by product or category.", "Ingresos menos el costo de lo vendido, por producto o categoría."),
    ("report.valuation_hint", "What the stock on hand is worth at cost.", "Cuánto vale el stock a precio de costo."),
    ("report.from", "From", "Desde"),
    ("report.to", "To", "Hasta"),
    ("report.group", "Group by", "Agrupar por"),
    ("report.day", "Day", "Día"),
    ("report.week", "Week", "Semana"),
    ("report.month", "Month", "Mes"),
    ("report.by", "By", "Por"),
    ("report.rank", "Rank by", "Ordenar por"),
    ("report.by_quantity", "Quantity", "Cantidad"),
    ("report.by_amount", "Amount", "Importe"),
    ("report.by_product", "Product", "Producto"),
    ("report.by_category", "Category", "Categoría"),
    ("report.top", "How many", "Cuántos"),
    ("report.category", "Category", "Categoría"),
    ("report.all_categories", "All categories", "Todas las categorías"),
    ("report.no_category", "(no category)", "(sin categoría)"),
    ("report.show", "Show", "Ver"),
    ("report.csv", "Download CSV", "Descargar CSV"),
    ("report.period", "Period", "Período"),
    ("report.week_of", "Week of", "Semana del"),
    ("report.count", "Sales", "Ventas"),
    ("report.gross", "Gross sales", "Venta bruta"),
    ("report.returns", "Returns", "Devoluciones"),
    ("report.net", "Net sales", "Venta neta"),
    ("report.voided", "Voided", "Anuladas"),
    ("report.voided_amount", "Voided amount", "Importe anulado"),
    ("report.total", "Total", "Total"),
    ("report.product", "Product", "Producto"),
    ("report.sku", "SKU", "Código"),
    ("report.quantity", "Quantity", "Cantidad"),
    ("report.amount", "Amount", "Importe"),
    ("report.revenue", "Revenue", "Ingresos"),
    ("report.cost", "Cost of goods sold", "Costo de lo vendido"),
    ("report.margin_amount", "Margin", "Margen"),
    ("report.margin_percent", "Margin %", "Margen %"),
    ("report.stock", "Stock", "Stock"),
    ("report.unit_cost", "Unit cost", "Costo unitario"),
    ("report.value", "Value at cost", "Valor a costo"),
    ("report.products", "Products", "Productos"),
    ("report.negative", "Negative stock", "Stock negativo"),
    ("report.negative_products", "With negative stock", "Con stock negativo"),
    ("report.nothing", "Nothing in this range.", "No hay nada en este rango."),
    ("report.no_products", "No stock-tracked active products.", "No hay productos activos con control de stock."),
    (
        "report.sales_note",
        "Voided sales are not counted (shown apart). Returns count on the day they happen. Net = gross − returns.",
        "Las ventas anuladas no se cuentan (se muestran aparte). Las devoluciones cuentan el día en que ocurren. Neta = bruta − devoluciones.",
    ),
    (
        "report.margin_note",
        "Each sale line counts at the product's cost on the day it was sold; sales recorded before reports existed use the cost at that time. Returns in the range are subtracted.",
        "Cada línea de venta cuenta al costo del producto el día en que se vendió; las ventas registradas antes de que existieran los informes usan el costo de ese momento. Se restan las devoluciones del rango.",
    ),
    (
        "report.valuation_note",
        "Active products with stock control, at today's cost. Negative stock is flagged and counts as zero in the totals.",
        "Productos activos con control de stock, al costo de hoy. El stock negativo se marca y cuenta como cero en los totales.",
    ),
    ("report.first_rows", "Only the first rows are shown; the CSV has all of them.", "Se muestran solo las primeras filas; el CSV las tiene todas."),
    ("report.error_date", "Enter a valid date (dd/mm/yyyy).", "Ingrese una fecha válida (dd/mm/aaaa)."),
    ("report.error_reversed", "The end date is before the start date.", "La fecha final es anterior a la inicial."),
    ("report.error_range_too_long", "The range can span at most ten years.", "El rango puede abarcar como máximo diez años."),
    (
        "report.error_too_many_days",
        "Day by day covers at most 366 days: group by week or month, or shorten the range.",
        "Día por día abarca como máximo 366 días: agrupe por semana o mes, o acorte el rango.",
    ),
    ("report.error_group", "Choose day, week or month.", "Elija día, semana o mes."),
    ("report.error_rank", "Choose quantity or amount.", "Elija cantidad o importe."),
    ("report.error_breakdown", "Choose product or category.", "Elija producto o categoría."),
    ("report.error_top", "Enter a number from 1 to 100.", "Ingrese un número del 1 al 100."),
    ("report.error_category", "Choose a category from the list.", "Elija una categoría de la lista."),
    ("report.error_format", "Unknown format: use csv, or leave it out for the page.", "Formato desconocido: use csv, o no lo indique para ver la página."),
];

/// The four reports, in menu order: (report, title key, hint key).
const REPORTS: [(Report, &str, &str); 4] = [
    (Report::Sales, "report.sales", "report.sales_hint"),
    (Report::BestSellers, "report.best_sellers", "report.best_sellers_hint"),
    (Report::Margin, "report.margin", "report.margin_hint"),
    (Report::Valuation, "report.valuation", "report.valuation_hint"),
];

fn title_key(r: Report) -> &'static str {
    REPORTS.iter().find(|x| x.0 == r).map(|x| x.1).unwrap_or("report.nav")
}

/// What a report page shows under its form.
pub enum Table<'a> {
    Sales {
        rows: &'a [PeriodRow],
        totals: &'a PeriodRow,
        group: Grouping,
    },
    Best(&'a [BestRow]),
    Margin {
        rows: &'a [MarginRow],
        totals: &'a MarginTotals,
        by: Breakdown,
    },
    Valuation {
        rows: &'a [ValuationRow],
        totals: &'a ValuationTotals,
        by: Breakdown,
    },
    /// The filters were refused: the form shows why.
    Nothing,
}

pub struct ReportView<'a> {
    pub report: Report,
    /// The filters as typed, or normalized when they parsed.
    pub raw: &'a RawFilters,
    pub errors: &'a FieldErrors,
    pub categories: &'a [(i64, String)],
    pub page: i64,
    pub more: bool,
    pub table: Table<'a>,
}

/// GET /reports
pub fn index(p: &Page) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "report.nav"),
        html! {
            h1 { (t(l, "report.nav")) }
            ul.report-list {
                @for (r, title, hint) in REPORTS {
                    li { a href={ "/reports/" (r.slug()) } { (t_dyn(l, title)) } " — " (t_dyn(l, hint)) }
                }
            }
        },
    )
}

fn query_string(v: &ReportView, extra: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let r = v.raw;
    let fields: &[(&str, &str)] = match v.report {
        Report::Sales => &[("from", &r.from), ("to", &r.to), ("group", &r.group)],
        Report::BestSellers => {
            &[("from", &r.from), ("to", &r.to), ("by", &r.by), ("top", &r.top), ("category", &r.category)]
        }
        Report::Margin => &[("from", &r.from), ("to", &r.to), ("by", &r.by), ("category", &r.category)],
        Report::Valuation => &[("by", &r.by), ("category", &r.category)],
    };
    for (k, val) in fields.iter().chain(extra) {
        s.append_pair(k, val);
    }
    format!("/reports/{}?{}", v.report.slug(), s.finish())
}

fn date_field(l: Locale, name: &str, key: &'static str, value: &str, errors: &FieldErrors) -> Markup {
    let id = format!("f-{name}");
    let err = error_for(errors, name);
    html! {
        div.field {
            label for=(id) { (t(l, key)) }
            input id=(id) type="date" name=(name) value=(value) aria-invalid=[err.map(|_| "true")];
            @if let Some(e) = err { p.error { (t_dyn(l, e)) } }
        }
    }
}

fn choice_field(
    l: Locale,
    name: &str,
    key: &'static str,
    options: &[(String, String)],
    selected: &str,
    errors: &FieldErrors,
) -> Markup {
    let id = format!("f-{name}");
    let err = error_for(errors, name);
    html! {
        div.field {
            label for=(id) { (t(l, key)) }
            select id=(id) name=(name) aria-invalid=[err.map(|_| "true")] {
                @for (value, label) in options {
                    option value=(value) selected[value == selected] { (label) }
                }
            }
            @if let Some(e) = err { p.error { (t_dyn(l, e)) } }
        }
    }
}

fn opts(l: Locale, list: &[(&str, &'static str)]) -> Vec<(String, String)> {
    list.iter().map(|(v, k)| (v.to_string(), t(l, k).to_string())).collect()
}

fn filters(p: &Page, v: &ReportView) -> Markup {
    let l = p.locale;
    let (r, e) = (v.raw, v.errors);
    let mut cats = vec![(String::new(), t(l, "report.all_categories").to_string())];
    cats.extend(v.categories.iter().map(|(id, n)| (id.to_string(), n.clone())));
    let top_err = error_for(e, "top");
    html! {
        form.filters method="get" action={ "/reports/" (v.report.slug()) } {
            @if v.report != Report::Valuation {
                (date_field(l, "from", "report.from", &r.from, e))
                (date_field(l, "to", "report.to", &r.to, e))
            }
            @match v.report {
                Report::Sales => {
                    (choice_field(l, "group", "report.group",
                        &opts(l, &[("day", "report.day"), ("week", "report.week"), ("month", "report.month")]), &r.group, e))
                }
                Report::BestSellers => {
                    (choice_field(l, "by", "report.rank",
                        &opts(l, &[("quantity", "report.by_quantity"), ("amount", "report.by_amount")]), &r.by, e))
                    div.field {
                        label for="f-top" { (t(l, "report.top")) }
                        input id="f-top" type="number" min="1" max="100" name="top" value=(r.top)
                            aria-invalid=[top_err.map(|_| "true")];
                        @if let Some(x) = top_err { p.error { (t_dyn(l, x)) } }
                    }
                }
                Report::Margin | Report::Valuation => {
                    (choice_field(l, "by", "report.by",
                        &opts(l, &[("product", "report.by_product"), ("category", "report.by_category")]), &r.by, e))
                }
            }
            @if v.report != Report::Sales {
                (choice_field(l, "category", "report.category", &cats, &r.category, e))
            }
            button type="submit" { (t(l, "report.show")) }
        }
    }
}

fn period_label(l: Locale, start: chrono::NaiveDate, g: Grouping) -> String {
    let day = |d: chrono::NaiveDate| format_date(d, l);
    match g {
        Grouping::Day => day(start),
        Grouping::Week => format!("{} {}", t(l, "report.week_of"), day(start)),
        Grouping::Month => match l {
            Locale::Es => start.format("%m/%Y").to_string(),
            Locale::En => start.format("%Y-%m").to_string(),
        },
    }
}

fn pct(l: Locale, d: Option<Decimal>) -> String {
    d.map(|d| format!("{} %", format_decimal(d, l, 2))).unwrap_or_else(|| "—".into())
}

fn category_label(l: Locale, c: &Option<String>) -> String {
    c.clone().unwrap_or_else(|| t(l, "report.no_category").to_string())
}

fn table(l: Locale, v: &ReportView) -> Markup {
    match &v.table {
        Table::Nothing => html! {},
        Table::Sales { rows, totals, group } => html! {
            div.table-wrap { table.list.report {
                thead { tr {
                    th { (t(l, "report.period")) } th.num { (t(l, "report.count")) } th.num { (t(l, "report.gross")) }
                    th.num { (t(l, "report.returns")) } th.num { (t(l, "report.net")) }
                    th.num { (t(l, "report.voided")) } th.num { (t(l, "report.voided_amount")) }
                } }
                tbody { @for r in rows.iter() { tr {
                    td { (period_label(l, r.start, *group)) } td.num { (r.sales) } td.num { (format_money(r.gross, l)) }
                    td.num { (format_money(r.returns, l)) } td.num { (format_money(r.net, l)) }
                    td.num { (r.voided) } td.num { (format_money(r.voided_amount, l)) }
                } } }
                tfoot { tr.total {
                    th { (t(l, "report.total")) } td.num { (totals.sales) } td.num { (format_money(totals.gross, l)) }
                    td.num { (format_money(totals.returns, l)) } td.num { (format_money(totals.net, l)) }
                    td.num { (totals.voided) } td.num { (format_money(totals.voided_amount, l)) }
                } }
            } }
            p.hint { (t(l, "report.sales_note")) }
        },
        Table::Best([]) => html! { p.empty { (t(l, "report.nothing")) } },
        Table::Best(rows) => html! {
            div.table-wrap { table.list.report {
                thead { tr {
                    th.num { "#" } th { (t(l, "report.sku")) } th { (t(l, "report.product")) } th { (t(l, "report.category")) }
                    th.num { (t(l, "report.quantity")) } th.num { (t(l, "report.amount")) }
                } }
                tbody { @for (i, r) in rows.iter().enumerate() { tr {
                    td.num { (i + 1) } td { (r.sku) } td { a href={ "/products/" (r.product_id) } { (r.name) } }
                    td { (category_label(l, &r.category)) }
                    td.num { (format_qty(r.quantity, l)) } td.num { (format_money(r.amount, l)) }
                } } }
            } }
        },
        Table::Margin { rows, totals, by } => html! {
            @if rows.is_empty() { p.empty { (t(l, "report.nothing")) } } @else {
                div.table-wrap { table.list.report {
                    thead { tr {
                        @if *by == Breakdown::Product {
                            th { (t(l, "report.sku")) } th { (t(l, "report.product")) } th { (t(l, "report.category")) }
                            th.num { (t(l, "report.quantity")) }
                        } @else { th { (t(l, "report.category")) } }
                        th.num { (t(l, "report.revenue")) } th.num { (t(l, "report.cost")) }
                        th.num { (t(l, "report.margin_amount")) } th.num { (t(l, "report.margin_percent")) }
                    } }
                    tbody { @for r in rows.iter() { tr {
                        @if *by == Breakdown::Product {
                            td { (r.sku) } td { (r.name.as_deref().unwrap_or("")) } td { (category_label(l, &r.category)) }
                            td.num { (format_qty(r.quantity, l)) }
                        } @else { td { (category_label(l, &r.name)) } }
                        td.num { (format_money(r.revenue, l)) } td.num { (format_money(r.cost, l)) }
                        td.num { (format_money(r.margin, l)) } td.num { (pct(l, r.margin_percent)) }
                    } } }
                    tfoot { tr.total {
                        th colspan=(if *by == Breakdown::Product { 4 } else { 1 }) { (t(l, "report.total")) }
                        td.num { (format_money(totals.revenue, l)) } td.num { (format_money(totals.cost, l)) }
                        td.num { (format_money(totals.margin, l)) } td.num { (pct(l, totals.margin_percent)) }
                    } }
                } }
            }
            p.hint { (t(l, "report.margin_note")) }
        },
        Table::Valuation { rows, totals, by } => html! {
            @if rows.is_empty() { p.empty { (t(l, "report.no_products")) } } @else {
                div.table-wrap { table.list.report {
                    thead { tr {
                        @if *by == Breakdown::Product {
                            th { (t(l, "report.sku")) } th { (t(l, "report.product")) } th { (t(l, "report.category")) }
                            th.num { (t(l, "report.stock")) } th.num { (t(l, "report.unit_cost")) } th.num { (t(l, "report.value")) }
                        } @else {
                            th { (t(l, "report.category")) } th.num { (t(l, "report.products")) }
                            th.num { (t(l, "report.value")) } th.num { (t(l, "report.negative_products")) }
                        }
                    } }
                    tbody { @for r in rows.iter() {
                        @if *by == Breakdown::Product {
                            tr.negative[r.negative > 0] {
                                td { (r.sku) } td { (r.name.as_deref().unwrap_or("")) } td { (category_label(l, &r.category)) }
                                td.num { (format_qty(r.stock, l)) @if r.negative > 0 { " " span.tag.warn { (t(l, "report.negative")) } } }
                                td.num { (format_money(r.cost, l)) } td.num { (format_money(r.value, l)) }
                            }
                        } @else {
                            tr {
                                td { (category_label(l, &r.name)) } td.num { (format_qty(r.stock, l)) }
                                td.num { (format_money(r.value, l)) } td.num { (r.negative) }
                            }
                        }
                    } }
                    tfoot { tr.total {
                        @if *by == Breakdown::Product {
                            th colspan="5" { (t(l, "report.total")) " · " (totals.products) " " (t(l, "report.products")) }
                            td.num { (format_money(totals.value, l)) }
                        } @else {
                            th { (t(l, "report.total")) } td.num { (totals.products) }
                            td.num { (format_money(totals.value, l)) } td.num { (totals.negative) }
                        }
                    } }
                } }
            }
            p.hint { (t(l, "report.valuation_note")) }
        },
    }
}

/// A report page: its form (with errors next to the fields), the table, the pager.
pub fn report(p: &Page, v: &ReportView) -> Markup {
    let l = p.locale;
    let title = t_dyn(l, title_key(v.report));
    let ok = v.errors.is_empty();
    page(
        p,
        title,
        html! {
            div.titlebar {
                h1 { (title) }
                @if ok { a.button href=(query_string(v, &[("format", "csv")])) download { (t(l, "report.csv")) } }
            }
            nav.tabs aria-label=(t(l, "report.nav")) {
                @for (r, key, _) in REPORTS {
                    a href={ "/reports/" (r.slug()) } aria-current=[(r == v.report).then_some("page")] { (t_dyn(l, key)) }
                }
            }
            (filters(p, v))
            (table(l, v))
            @if ok && (v.page > 0 || v.more) {
                nav.pager aria-label=(t(l, "pager.label")) {
                    @if v.page > 0 {
                        a href=(query_string(v, &[("page", &(v.page - 1).to_string())])) rel="prev" { "← " (t(l, "pager.prev")) }
                    }
                    @if v.more {
                        a href=(query_string(v, &[("page", &(v.page + 1).to_string())])) rel="next" { (t(l, "pager.next")) " →" }
                    }
                }
            }
        },
    )
}

// ------------------------------------------------------------------------------------------
// CSV

fn num(d: Decimal, scale: u32) -> String {
    format!("{:.*}", scale as usize, d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero))
}

fn opt_num(d: Option<Decimal>, scale: u32) -> String {
    d.map(|d| num(d, scale)).unwrap_or_default()
}

fn opt_id(id: Option<i64>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

fn write_csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    w.write_record(header).map_err(fail)?;
    for r in rows {
        w.write_record(&r).map_err(fail)?;
    }
    w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

pub fn sales_csv(rows: &[PeriodRow]) -> Result<Vec<u8>, AppError> {
    write_csv(
        &["period_start", "sales", "gross", "returns", "net", "voided_sales", "voided_amount"],
        rows.iter().map(|r| {
            vec![
                r.start.format("%Y-%m-%d").to_string(),
                r.sales.to_string(),
                num(r.gross, 2),
                num(r.returns, 2),
                num(r.net, 2),
                r.voided.to_string(),
                num(r.voided_amount, 2),
            ]
        }),
    )
}

pub fn best_sellers_csv(rows: &[BestRow]) -> Result<Vec<u8>, AppError> {
    write_csv(
        &["rank", "product_id", "sku", "name", "category", "quantity", "amount"],
        rows.iter().enumerate().map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.product_id.to_string(),
                r.sku.clone(),
                r.name.clone(),
                r.category.clone().unwrap_or_default(),
                num(r.quantity, 3),
                num(r.amount, 2),
            ]
        }),
    )
}

pub fn margin_csv(rows: &[MarginRow], by: Breakdown) -> Result<Vec<u8>, AppError> {
    match by {
        Breakdown::Product => write_csv(
            &[
                "product_id",
                "sku",
                "name",
                "category",
                "quantity",
                "revenue",
                "cost",
                "margin",
                "margin_percent",
            ],
            rows.iter().map(|r| {
                vec![
                    opt_id(r.id),
                    r.sku.clone(),
                    r.name.clone().unwrap_or_default(),
                    r.category.clone().unwrap_or_default(),
                    num(r.quantity, 3),
                    num(r.revenue, 2),
                    num(r.cost, 2),
                    num(r.margin, 2),
                    opt_num(r.margin_percent, 2),
                ]
            }),
        ),
        Breakdown::Category => write_csv(
            &["category_id", "category", "revenue", "cost", "margin", "margin_percent"],
            rows.iter().map(|r| {
                vec![
                    opt_id(r.id),
                    r.name.clone().unwrap_or_default(),
                    num(r.revenue, 2),
                    num(r.cost, 2),
                    num(r.margin, 2),
                    opt_num(r.margin_percent, 2),
                ]
            }),
        ),
    }
}

pub fn valuation_csv(rows: &[ValuationRow], by: Breakdown) -> Result<Vec<u8>, AppError> {
    match by {
        Breakdown::Product => write_csv(
            &["product_id", "sku", "name", "category", "stock", "unit_cost", "value", "negative"],
            rows.iter().map(|r| {
                vec![
                    opt_id(r.id),
                    r.sku.clone(),
                    r.name.clone().unwrap_or_default(),
                    r.category.clone().unwrap_or_default(),
                    num(r.stock, 3),
                    num(r.cost, 2),
                    num(r.value, 2),
                    (r.negative > 0).to_string(),
                ]
            }),
        ),
        Breakdown::Category => write_csv(
            &["category_id", "category", "products", "value", "negative_products"],
            rows.iter().map(|r| {
                vec![
                    opt_id(r.id),
                    r.name.clone().unwrap_or_default(),
                    num(r.stock, 0),
                    num(r.value, 2),
                    r.negative.to_string(),
                ]
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_numbers_use_a_dot_and_fixed_scales() {
        assert_eq!(num(Decimal::new(12345, 1), 2), "1234.50");
        assert_eq!(num(Decimal::new(-75, 1), 2), "-7.50");
        assert_eq!(num(Decimal::new(2, 0), 3), "2.000");
        assert_eq!(num(Decimal::new(5, 3), 2), "0.01");
    }
}
