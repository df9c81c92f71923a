//! Reports (owner and admin): GET /reports and the four report pages under it; each one also
//! answers `?format=csv` with the same filters. Refused filters re-render the form with the
//! errors next to the fields (422), for the page and the CSV alike.

use warp::filters::BoxedFilter;
use warp::http::header::{self, HeaderValue};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Filter;

use super::auth::{finish, page_for};
use super::{page, seg, seg2};
use crate::db::tx::{Access, Tx};
use crate::domain::catalog::FieldErrors;
use crate::domain::member::Permission;
use crate::domain::reports::{
    self, BestRow, Breakdown, Filters, Grouping, MarginRow, MarginTotals, PeriodRow, RawFilters, Report,
    ValuationRow, ValuationTotals,
};
use crate::error::AppError;
use crate::http::{html, App, Req};
use crate::views;
use crate::views::reports::{ReportView, Table};

pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let report =
        |slug: &'static str, r: Report| page(app, seg2("reports", slug), move |app, req| show(app, req, r));
    page(app, seg("reports"), index)
        .or(report("sales", Report::Sales))
        .unify()
        .or(report("best-sellers", Report::BestSellers))
        .unify()
        .or(report("margin", Report::Margin))
        .unify()
        .or(report("stock-valuation", Report::Valuation))
        .unify()
        .boxed()
}

/// GET /reports
async fn index(app: App, req: Req) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewMoney).await?;
    tx.commit().await?;
    Ok(finish(&req, html(views::reports::index(&page_for(&req, Some(&ctx)))), None))
}

/// A report's rows, ready for the page or the CSV.
enum Output {
    Sales(Vec<PeriodRow>, PeriodRow, Grouping),
    Best(Vec<BestRow>),
    Margin(Vec<MarginRow>, bool, MarginTotals, Breakdown),
    Valuation(Vec<ValuationRow>, bool, ValuationTotals, Breakdown),
}

impl Output {
    fn table(&self) -> Table<'_> {
        match self {
            Output::Sales(rows, totals, group) => Table::Sales { rows, totals, group: *group },
            Output::Best(rows) => Table::Best(rows),
            Output::Margin(rows, _, totals, by) => Table::Margin { rows, totals, by: *by },
            Output::Valuation(rows, _, totals, by) => Table::Valuation { rows, totals, by: *by },
        }
    }

    fn more(&self) -> bool {
        matches!(self, Output::Margin(_, true, ..) | Output::Valuation(_, true, ..))
    }

    fn csv(&self) -> Result<Vec<u8>, AppError> {
        match self {
            Output::Sales(rows, ..) => views::reports::sales_csv(rows),
            Output::Best(rows) => views::reports::best_sellers_csv(rows),
            Output::Margin(rows, _, _, by) => views::reports::margin_csv(rows, *by),
            Output::Valuation(rows, _, _, by) => views::reports::valuation_csv(rows, *by),
        }
    }
}

/// Runs the report; `page` None: every row (CSV).
async fn run(tx: &Tx<'_>, report: Report, f: &Filters, page: Option<i64>) -> Result<Output, AppError> {
    Ok(match report {
        Report::Sales => {
            let rows = reports::sales_by_period(tx, f.range, f.group).await?;
            let totals = reports::period_totals(&rows);
            Output::Sales(rows, totals, f.group)
        }
        Report::BestSellers => Output::Best(reports::best_sellers(tx, f).await?),
        Report::Margin => {
            let (rows, more, totals) = reports::margin(tx, f, page).await?;
            Output::Margin(rows, more, totals, f.breakdown)
        }
        Report::Valuation => {
            let (rows, more, totals) = reports::stock_valuation(tx, f, page).await?;
            Output::Valuation(rows, more, totals, f.breakdown)
        }
    })
}

fn raw_filters(req: &Req) -> RawFilters {
    let q = req.query_form();
    let g = |k: &str| q.get(k).trim().chars().take(40).collect::<String>();
    RawFilters {
        from: g("from"),
        to: g("to"),
        group: g("group"),
        by: g("by"),
        top: g("top"),
        category: g("category"),
    }
}

fn csv_response(bytes: Vec<u8>, shop: &str, report: Report, f: &Filters) -> Response {
    let mut r = Response::new(bytes.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let range = match report {
        Report::Valuation => String::new(),
        _ => format!("-{}-{}", f.range.from.format("%Y%m%d"), f.range.to.format("%Y%m%d")),
    };
    let name = format!("attachment; filename=\"{shop}-{}{range}.csv\"", report.slug());
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// GET /reports/{sales,best-sellers,margin,stock-valuation} (?filters, page, format=csv)
async fn show(app: App, req: Req, report: Report) -> Result<Response, AppError> {
    let mut conn = app.conn().await?;
    let (tx, ctx) = req.shop_tx(&mut conn, Access::ReadOnly, Permission::ViewMoney).await?;
    let q = req.query_form();
    let csv = match q.get("format") {
        "" | "html" => false,
        "csv" => true,
        _ => return Err(AppError::BadRequest("report.error_format")),
    };
    let page_no = q.get("page").parse::<i64>().unwrap_or(0).clamp(0, 10_000);
    let raw = raw_filters(&req);
    let today = reports::shop_today(&tx).await?;
    let categories = if report == Report::Sales { Vec::new() } else { reports::categories(&tx).await? };
    let (parsed, out) = match raw.parse(report, today) {
        Ok(f) => {
            let out = run(&tx, report, &f, (!csv).then_some(page_no)).await?;
            (Ok(f), Some(out))
        }
        Err(errors) => (Err(errors), None),
    };
    tx.commit().await?;
    let shop = ctx.shop.as_ref().map(|s| s.slug.as_str()).unwrap_or("shop");
    if let (true, Ok(f), Some(out)) = (csv, &parsed, &out) {
        return Ok(csv_response(out.csv()?, shop, report, f));
    }
    let (echo, errors) = match &parsed {
        Ok(f) => (f.echo(report), FieldErrors::new()),
        Err(e) => (raw.clone(), e.clone()),
    };
    let v = ReportView {
        report,
        raw: &echo,
        errors: &errors,
        categories: &categories,
        page: page_no,
        more: out.as_ref().is_some_and(Output::more),
        table: out.as_ref().map(Output::table).unwrap_or(Table::Nothing),
    };
    let mut r = html(views::reports::report(&page_for(&req, Some(&ctx)), &v));
    if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(finish(&req, r, None))
}
