//! Friendly error pages. A 500 shows a fixed message; its cause goes to the log only.

use maud::{html, Markup};

use super::layout::{page, Page};
use crate::error::AppError;
use crate::i18n::{t, Locale};

pub fn render(l: Locale, e: &AppError) -> Markup {
    let (title, body) = match e {
        AppError::NotFound => ("error.404.title", "error.404.body"),
        AppError::Forbidden => ("error.403.title", "error.403.body"),
        AppError::Csrf => ("error.403.title", "error.csrf.body"),
        AppError::BadRequest(key) => ("error.400.title", *key),
        AppError::TooLarge => ("error.413.title", "error.413.body"),
        _ => ("error.500.title", "error.500.body"),
    };
    let p = Page { locale: l, csrf: String::new(), session: None, flash: None };
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
