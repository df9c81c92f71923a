//! Login and sign-up forms.

use maud::{html, Markup};

use super::layout::{field, page, Page};
use crate::i18n::{t, Locale};

#[derive(Default)]
pub struct LoginForm<'a> {
    pub email: &'a str,
    pub message: Option<String>,
}

pub fn login(p: &Page, f: &LoginForm) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "login.title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "login.title")) }
                @if let Some(m) = &f.message { p.error.form-error role="alert" { (m) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(p.csrf);
                    (field(l, "email", "field.email", "email", f.email, None))
                    (field(l, "password", "field.password", "password", "", None))
                    button type="submit" { (t(l, "login.submit")) }
                }
                p { a href="/password/forgot" { (t(l, "login.forgot")) } }
                p { a href="/signup" { (t(l, "login.no_account")) } }
            }
        },
    )
}

#[derive(Default)]
pub struct SignUpForm<'a> {
    pub shop_name: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub errors: SignUpErrors,
}

#[derive(Default, Debug)]
pub struct SignUpErrors {
    pub shop_name: Option<&'static str>,
    pub display_name: Option<&'static str>,
    pub email: Option<&'static str>,
    pub password: Option<&'static str>,
    pub password_confirm: Option<&'static str>,
}

impl SignUpErrors {
    pub fn any(&self) -> bool {
        self.shop_name.is_some()
            || self.display_name.is_some()
            || self.email.is_some()
            || self.password.is_some()
            || self.password_confirm.is_some()
    }
}

pub fn signup(p: &Page, f: &SignUpForm) -> Markup {
    let l: Locale = p.locale;
    let e = &f.errors;
    page(
        p,
        t(l, "signup.title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "signup.title")) }
                @if e.any() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                form method="post" action="/signup" {
                    input type="hidden" name="csrf" value=(p.csrf);
                    (field(l, "shop_name", "field.shop_name", "text", f.shop_name, e.shop_name))
                    (field(l, "display_name", "field.display_name", "text", f.display_name, e.display_name))
                    (field(l, "email", "field.email", "email", f.email, e.email))
                    (field(l, "password", "field.password", "password", "", e.password))
                    (field(l, "password_confirm", "field.password_confirm", "password", "", e.password_confirm))
                    button type="submit" { (t(l, "signup.submit")) }
                }
                p { a href="/login" { (t(l, "signup.have_account")) } }
            }
        },
    )
}
