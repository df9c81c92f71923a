//! Friendly error pages. A 500 shows a fixed message; its cause goes to the log only.

use maud::{html, Markup};

use super::layout::{page, Page};
use crate::error::AppError;
use crate::i18n::{t, Locale};

pub fn render(l: Locale, e: &AppError) -> Markup {
    if let AppError::PlanLimit(limit) = e {
        return plan_limit(l, limit);
    }
    let (title, body) = match e {
        AppError::NotFound => ("error.404.title", "error.404.body"),
        AppError::Forbidden => ("error.403.title", "error.403.body"),
        AppError::Csrf => ("error.403.title", "error.csrf.body"),
        AppError::BadRequest(key) => ("error.400.title", *key),
        AppError::TooLarge => ("error.413.title", "error.413.body"),
        _ => ("error.500.title", "error.500.body"),
    };
    let p = Page { locale: l, csrf: String::new(), session: None, flash: None, alert: None };
    page(
        &p,
        t(l, title),
        html! {
            section.card.narrow {
                h1 { (t(l, title)) }
                p { (t(l, body)) }
                p { a href="/" { (t(l, "error.back_home")) } }
            }
        },
    )
}

/// A write the shop's plan does not allow, where no form can show it (409).
fn plan_limit(l: Locale, limit: &crate::domain::limits::PlanLimit) -> Markup {
    let p = Page { locale: l, csrf: String::new(), session: None, flash: None, alert: None };
    page(
        &p,
        t(l, "limit.title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "limit.title")) }
                p role="alert" { (limit.message(l)) }
                p { a href="/" { (t(l, "error.back_home")) } }
            }
        },
    )
}
