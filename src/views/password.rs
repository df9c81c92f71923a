//! Password pages: "forgot your password?" (the same answer whether the e-mail has an account or
//! not), the reset page a link opens, the change form for a signed-in person, and the reset e-mail.

use maud::{html, Markup, DOCTYPE};

use super::layout::{csrf, field, page, Page};
use crate::i18n::{t, tf, Locale};
use crate::mail::Mail;

/// (key, English, Spanish) texts of these pages and of the e-mail; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.password", "Password", "Contraseña"),
    ("login.forgot", "Forgot your password?", "¿Olvidó su contraseña?"),
    ("password.forgot_title", "Reset your password", "Restablecer la contraseña"),
    (
        "password.forgot_hint",
        "Enter the e-mail of your account. We will send a link to choose a new password; it works once, for one hour.",
        "Ingrese el correo de su cuenta. Le enviaremos un enlace para elegir una contraseña nueva; sirve una vez, durante una hora.",
    ),
    ("password.forgot_submit", "Send the link", "Enviar el enlace"),
    ("password.sent_title", "Check your e-mail", "Revise su correo"),
    (
        "password.sent",
        "If an account uses {email}, a link to choose a new password is on its way. It works once, for one hour.",
        "Si hay una cuenta con {email}, le llegará un enlace para elegir una contraseña nueva. Sirve una vez, durante una hora.",
    ),
    (
        "password.throttled",
        "Too many requests. Try again in {minutes} minutes.",
        "Demasiados pedidos. Intente de nuevo en {minutes} minutos.",
    ),
    ("password.reset_title", "Choose a new password", "Elija una contraseña nueva"),
    ("password.reset_for", "For {email}.", "Para {email}."),
    (
        "password.reset_hint",
        "You will be signed out everywhere, then you log in with the new password.",
        "Se cerrarán todas sus sesiones; luego ingrese con la contraseña nueva.",
    ),
    ("password.reset_submit", "Save the new password", "Guardar la contraseña nueva"),
    ("password.link_invalid_title", "This link can no longer be used", "Este enlace ya no se puede usar"),
    (
        "password.link_invalid",
        "The link is wrong, was already used, or is more than an hour old. Ask for a new one.",
        "El enlace es incorrecto, ya se usó o tiene más de una hora. Pida uno nuevo.",
    ),
    ("password.ask_again", "Ask for a new link", "Pedir un enlace nuevo"),
    ("password.change_title", "Change your password", "Cambiar la contraseña"),
    (
        "password.change_hint",
        "Your other sessions (other browsers and devices) will be closed.",
        "Se cerrarán sus otras sesiones (otros navegadores y dispositivos).",
    ),
    ("password.change_submit", "Change password", "Cambiar la contraseña"),
    ("field.current_password", "Current password", "Contraseña actual"),
    ("field.new_password", "New password", "Contraseña nueva"),
    ("error.current_password_wrong", "This is not your current password.", "Esa no es su contraseña actual."),
    ("flash.password_changed", "Password changed. Your other sessions were closed.", "Contraseña cambiada. Se cerraron sus otras sesiones."),
    ("flash.password_reset", "Password changed. Log in with the new one.", "Contraseña cambiada. Ingrese con la nueva."),
    ("password.mail_subject", "Choose a new password for Stock", "Elija una contraseña nueva para Stock"),
    ("password.mail_greeting", "Hello {name},", "Hola, {name}:"),
    (
        "password.mail_body",
        "Someone (hopefully you) asked to reset the password of your Stock account.",
        "Alguien (seguramente usted) pidió restablecer la contraseña de su cuenta de Stock.",
    ),
    ("password.mail_action", "Choose a new password", "Elegir una contraseña nueva"),
    (
        "password.mail_expiry",
        "The link works once, for one hour. If you did not ask for it, ignore this e-mail: your password stays as it is.",
        "El enlace sirve una vez, durante una hora. Si no lo pidió, ignore este correo: su contraseña no cambia.",
    ),
];

/// GET /password/forgot (and the form again with an error or a throttle message).
pub fn forgot(p: &Page, email: &str, error: Option<&'static str>, message: Option<String>) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "password.forgot_title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "password.forgot_title")) }
                @if let Some(m) = &message { p.error.form-error role="alert" { (m) } }
                p.hint { (t(l, "password.forgot_hint")) }
                form method="post" action="/password/forgot" {
                    (csrf(p))
                    (field(l, "email", "field.email", "email", email, error))
                    button type="submit" { (t(l, "password.forgot_submit")) }
                }
                p { a href="/login" { (t(l, "nav.login")) } }
            }
        },
    )
}

/// The answer to every accepted reset request.
pub fn sent(p: &Page, email: &str) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "password.sent_title"),
        html! {
            section.card.narrow.reset-sent {
                h1 { (t(l, "password.sent_title")) }
                p role="status" { (tf(l, "password.sent", &[("email", email)])) }
                p { a href="/login" { (t(l, "nav.login")) } }
            }
        },
    )
}

#[derive(Default, Debug)]
pub struct PasswordErrors {
    pub current: Option<&'static str>,
    pub password: Option<&'static str>,
    pub password_confirm: Option<&'static str>,
}

impl PasswordErrors {
    pub fn any(&self) -> bool {
        self.current.is_some() || self.password.is_some() || self.password_confirm.is_some()
    }
}

/// GET /password/reset?token=…
pub fn reset(p: &Page, token: &str, email: &str, e: &PasswordErrors) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "password.reset_title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "password.reset_title")) }
                p.reset-for { (tf(l, "password.reset_for", &[("email", email)])) }
                @if e.any() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                p.hint { (t(l, "password.reset_hint")) }
                form method="post" action="/password/reset" {
                    (csrf(p))
                    input type="hidden" name="token" value=(token);
                    (field(l, "password", "field.new_password", "password", "", e.password))
                    (field(l, "password_confirm", "field.password_confirm", "password", "", e.password_confirm))
                    button type="submit" { (t(l, "password.reset_submit")) }
                }
            }
        },
    )
}

/// A reset link that is wrong, used or expired.
pub fn link_invalid(p: &Page) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "password.link_invalid_title"),
        html! {
            section.card.narrow.link-closed {
                h1 { (t(l, "password.link_invalid_title")) }
                p { (t(l, "password.link_invalid")) }
                p { a href="/password/forgot" { (t(l, "password.ask_again")) } }
            }
        },
    )
}

/// GET /password/change
pub fn change(p: &Page, e: &PasswordErrors) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "password.change_title"),
        html! {
            section.card.narrow {
                h1 { (t(l, "password.change_title")) }
                @if e.any() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                p.hint { (t(l, "password.change_hint")) }
                form method="post" action="/password/change" {
                    (csrf(p))
                    (field(l, "current_password", "field.current_password", "password", "", e.current))
                    (field(l, "password", "field.new_password", "password", "", e.password))
                    (field(l, "password_confirm", "field.password_confirm", "password", "", e.password_confirm))
                    button type="submit" { (t(l, "password.change_submit")) }
                }
            }
        },
    )
}

/// The reset e-mail, in the account's language.
pub fn reset_mail(l: Locale, to: &str, name: &str, link: &str) -> Mail {
    let subject = t(l, "password.mail_subject").to_string();
    let greeting = tf(l, "password.mail_greeting", &[("name", name)]);
    let text = format!(
        "{greeting}\n\n{body}\n\n{action}: {link}\n\n{expiry}\n",
        body = t(l, "password.mail_body"),
        action = t(l, "password.mail_action"),
        expiry = t(l, "password.mail_expiry"),
    );
    let html = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head { meta charset="utf-8"; title { (subject) } }
            body {
                p { (greeting) }
                p { (t(l, "password.mail_body")) }
                p { a href=(link) { (t(l, "password.mail_action")) } }
                p { small { (t(l, "password.mail_expiry")) } }
            }
        }
    };
    Mail { to: to.to_string(), subject, text, html: html.into_string() }
}
