//! Invitations: the owner's list of open invitations and the invite form, the page a link opens
//! (shop and role read-only, then create an account or join with the signed-in one), and the
//! invitation e-mail (text and HTML, in the shop's language).

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use super::layout::{csrf, field, format_datetime, page, role_label, Page};
use crate::domain::invitations::{Invitation, LinkState};
use crate::domain::member::Role;
use crate::i18n::{t, tf, Locale};
use crate::mail::Mail;

/// (key, English, Spanish) texts of these pages and of the e-mail; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.invitations", "Invitations", "Invitaciones"),
    ("invite.list_title", "Invitations", "Invitaciones"),
    ("invite.new", "Invite someone", "Invitar a alguien"),
    ("invite.none", "No open invitations.", "No hay invitaciones abiertas."),
    (
        "invite.list_hint",
        "An invitation link works once and for 7 days. Sending it again makes a new link; the previous one stops working.",
        "Un enlace de invitación sirve una vez y durante 7 días. Al reenviarla se genera un enlace nuevo y el anterior deja de funcionar.",
    ),
    ("invite.col_email", "E-mail", "Correo"),
    ("invite.col_role", "Role", "Rol"),
    ("invite.col_invited", "Invited", "Invitado"),
    ("invite.col_expires", "Link valid until", "Enlace válido hasta"),
    ("invite.col_sent", "E-mail", "Correo enviado"),
    ("invite.status_expired", "expired", "vencida"),
    ("invite.sent_times", "sent {count}×, last {when}", "enviado {count} veces, última {when}"),
    ("invite.not_sent", "not sent yet", "todavía no se envió"),
    ("invite.resend", "Send again", "Reenviar"),
    ("invite.revoke", "Revoke", "Revocar"),
    ("invite.form_title", "Invite someone to {shop}", "Invitar a alguien a {shop}"),
    (
        "invite.form_hint",
        "They get an e-mail with a link that works once, for 7 days.",
        "Recibirá un correo con un enlace que sirve una vez, durante 7 días.",
    ),
    ("invite.submit", "Send invitation", "Enviar invitación"),
    ("field.invite_role", "Role", "Rol"),
    ("field.choose_role", "Choose a role", "Elija un rol"),
    ("error.invite_role", "Choose administrator or staff.", "Elija administrador o empleado."),
    ("error.already_member", "This person is already a member of the shop.", "Esta persona ya es miembro del negocio."),
    (
        "error.already_invited",
        "There is already an open invitation for this e-mail: send it again or revoke it in the list.",
        "Ya hay una invitación abierta para este correo: reenvíela o revóquela en la lista.",
    ),
    ("flash.invitation_sent", "Invitation sent.", "Invitación enviada."),
    (
        "flash.invitation_not_sent",
        "The invitation was saved, but the e-mail could not be sent. Try \"Send again\" later.",
        "La invitación quedó guardada, pero no se pudo enviar el correo. Pruebe \"Reenviar\" más tarde.",
    ),
    ("flash.invitation_revoked", "Invitation revoked: its link no longer works.", "Invitación revocada: su enlace ya no funciona."),
    ("flash.invitation_accepted", "Welcome to the shop.", "Bienvenido al negocio."),
    ("invite.accept_title", "Invitation to {shop}", "Invitación a {shop}"),
    ("invite.accept_shop", "Shop", "Negocio"),
    ("invite.accept_role", "Your role", "Su rol"),
    ("invite.accept_email", "E-mail", "Correo"),
    (
        "invite.accept_new_hint",
        "Choose your name and a password to create your account.",
        "Elija su nombre y una contraseña para crear su cuenta.",
    ),
    ("invite.accept_submit_new", "Create my account and join", "Crear mi cuenta y unirme"),
    ("invite.accept_submit_join", "Join {shop}", "Unirme a {shop}"),
    (
        "invite.accept_login_first",
        "This e-mail already has an account. Log in as {email}, then open the link in the e-mail again.",
        "Este correo ya tiene una cuenta. Ingrese como {email} y vuelva a abrir el enlace del correo.",
    ),
    (
        "invite.accept_wrong_account",
        "You are signed in as {me}, but this invitation is for {email}. Log out, log in as {email}, then open the link again.",
        "Ingresó como {me}, pero esta invitación es para {email}. Salga, ingrese como {email} y vuelva a abrir el enlace.",
    ),
    ("invite.link_invalid_title", "This invitation link is not valid", "Este enlace de invitación no es válido"),
    (
        "invite.link_invalid",
        "The link is incomplete or was altered. Open it again from the e-mail, or ask the shop's owner for a new invitation.",
        "El enlace está incompleto o fue alterado. Ábralo de nuevo desde el correo, o pida una invitación nueva al dueño del negocio.",
    ),
    ("invite.link_closed_title", "This invitation can no longer be used", "Esta invitación ya no se puede usar"),
    (
        "invite.link_expired",
        "The invitation expired. Ask the shop's owner to send it again.",
        "La invitación venció. Pida al dueño del negocio que la reenvíe.",
    ),
    (
        "invite.link_accepted",
        "This invitation was already accepted. Log in to enter the shop.",
        "Esta invitación ya fue aceptada. Ingrese para entrar al negocio.",
    ),
    (
        "invite.link_revoked",
        "The shop's owner revoked this invitation.",
        "El dueño del negocio revocó esta invitación.",
    ),
    (
        "invite.link_replaced",
        "The invitation was sent again: use the link in the newest e-mail.",
        "La invitación se volvió a enviar: use el enlace del correo más reciente.",
    ),
    ("invite.mail_subject", "{inviter} invites you to {shop} on Stock", "{inviter} lo invita a {shop} en Stock"),
    ("invite.mail_greeting", "Hello,", "Hola:"),
    (
        "invite.mail_body",
        "{inviter} invites you to join {shop} as {role}.",
        "{inviter} lo invita a unirse a {shop} como {role}.",
    ),
    ("invite.mail_action", "Accept the invitation", "Aceptar la invitación"),
    (
        "invite.mail_expiry",
        "The link works once, until {when} (UTC). If you did not expect this e-mail, ignore it.",
        "El enlace sirve una sola vez, hasta el {when} (UTC). Si no esperaba este correo, ignórelo.",
    ),
];

fn utc(dt: DateTime<Utc>, l: Locale) -> String {
    format_datetime(dt.naive_utc(), l)
}

pub fn role_choice(l: Locale) -> [(String, String); 2] {
    [
        ("staff".to_string(), role_label(l, Role::Staff).to_string()),
        ("admin".to_string(), role_label(l, Role::Admin).to_string()),
    ]
}

/// GET /members/invitations
pub fn list(p: &Page, items: &[Invitation]) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "invite.list_title"),
        html! {
            section.card {
                h1 { (t(l, "invite.list_title")) }
                p { a.button href="/members/invite" { (t(l, "invite.new")) } }
                p.hint { (t(l, "invite.list_hint")) }
                @if items.is_empty() {
                    p { (t(l, "invite.none")) }
                } @else {
                    table {
                        thead { tr {
                            th { (t(l, "invite.col_email")) }
                            th { (t(l, "invite.col_role")) }
                            th { (t(l, "invite.col_invited")) }
                            th { (t(l, "invite.col_expires")) }
                            th { (t(l, "invite.col_sent")) }
                            th {}
                        } }
                        tbody {
                            @for i in items {
                                tr.invitation data-email=(i.email) {
                                    td { (i.email) }
                                    td { (role_label(l, i.role)) }
                                    td {
                                        (utc(i.created_at, l))
                                        @if let Some(by) = &i.invited_by { " · " (by) }
                                    }
                                    td {
                                        (utc(i.expires_at, l))
                                        @if i.expired() { " " span.badge.warn { (t(l, "invite.status_expired")) } }
                                    }
                                    td {
                                        @match i.last_sent_at {
                                            Some(at) => (tf(l, "invite.sent_times", &[("count", &i.send_count.to_string()), ("when", &utc(at, l))])),
                                            None => span.warn { (t(l, "invite.not_sent")) },
                                        }
                                    }
                                    td.actions {
                                        form.inline method="post" action={ "/members/invitations/" (i.id) "/resend" } {
                                            (csrf(p))
                                            button type="submit" { (t(l, "invite.resend")) }
                                        }
                                        form.inline method="post" action={ "/members/invitations/" (i.id) "/revoke" } {
                                            (csrf(p))
                                            button.danger type="submit" { (t(l, "invite.revoke")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Default)]
pub struct InviteForm<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub email_error: Option<&'static str>,
    pub role_error: Option<&'static str>,
}

/// GET /members/invite (and the form again with errors next to the fields)
pub fn invite_form(p: &Page, shop: &str, f: &InviteForm) -> Markup {
    let l = p.locale;
    let any_error = f.email_error.is_some() || f.role_error.is_some();
    page(
        p,
        t(l, "invite.new"),
        html! {
            section.card.narrow {
                h1 { (tf(l, "invite.form_title", &[("shop", shop)])) }
                @if any_error { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                p.hint { (t(l, "invite.form_hint")) }
                form method="post" action="/members/invite" {
                    (csrf(p))
                    (field(l, "email", "field.email", "email", f.email, f.email_error))
                    div.field {
                        label for="f-role" { (t(l, "field.invite_role")) }
                        select id="f-role" name="role" aria-invalid=[f.role_error.map(|_| "true")] {
                            option value="" selected[f.role.is_empty()] { (t(l, "field.choose_role")) }
                            @for (value, label) in role_choice(l) {
                                option value=(value) selected[value == f.role] { (label) }
                            }
                        }
                        @if let Some(e) = f.role_error { p.error { (t(l, e)) } }
                    }
                    button type="submit" { (t(l, "invite.submit")) }
                }
                p { a href="/members/invitations" { (t(l, "invite.list_title")) } }
            }
        },
    )
}

/// What the accept page offers below the invitation's details.
pub enum AcceptMode<'a> {
    /// No account has the e-mail: name and password.
    NewAccount { display_name: &'a str, errors: &'a AcceptErrors },
    /// The signed-in account is the invited one: one button.
    Join,
    /// The e-mail has an account and nobody (or somebody else) is signed in.
    LogInFirst { signed_in_as: Option<&'a str> },
}

#[derive(Default, Debug)]
pub struct AcceptErrors {
    pub display_name: Option<&'static str>,
    pub password: Option<&'static str>,
    pub password_confirm: Option<&'static str>,
}

impl AcceptErrors {
    pub fn any(&self) -> bool {
        self.display_name.is_some() || self.password.is_some() || self.password_confirm.is_some()
    }
}

pub struct AcceptView<'a> {
    pub token: &'a str,
    pub shop_name: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub mode: AcceptMode<'a>,
}

/// GET /invite/accept?token=…
pub fn accept(p: &Page, v: &AcceptView) -> Markup {
    let l = p.locale;
    let title = tf(l, "invite.accept_title", &[("shop", v.shop_name)]);
    page(
        p,
        &title,
        html! {
            section.card.narrow {
                h1 { (title) }
                dl.invitation {
                    dt { (t(l, "invite.accept_shop")) } dd.shop { (v.shop_name) }
                    dt { (t(l, "invite.accept_role")) } dd.role { (role_label(l, v.role)) }
                    dt { (t(l, "invite.accept_email")) } dd.email { (v.email) }
                }
                @match &v.mode {
                    AcceptMode::NewAccount { display_name, errors } => {
                        @if errors.any() { p.error.form-error role="alert" { (t(l, "error.form_has_errors")) } }
                        p.hint { (t(l, "invite.accept_new_hint")) }
                        form method="post" action="/invite/accept" {
                            (csrf(p))
                            input type="hidden" name="token" value=(v.token);
                            (field(l, "display_name", "field.display_name", "text", display_name, errors.display_name))
                            (field(l, "password", "field.password", "password", "", errors.password))
                            (field(l, "password_confirm", "field.password_confirm", "password", "", errors.password_confirm))
                            button type="submit" { (t(l, "invite.accept_submit_new")) }
                        }
                    }
                    AcceptMode::Join => {
                        form method="post" action="/invite/accept" {
                            (csrf(p))
                            input type="hidden" name="token" value=(v.token);
                            button type="submit" { (tf(l, "invite.accept_submit_join", &[("shop", v.shop_name)])) }
                        }
                    }
                    AcceptMode::LogInFirst { signed_in_as: Some(me) } => {
                        p.error.form-error role="alert" {
                            (tf(l, "invite.accept_wrong_account", &[("me", me), ("email", v.email)]))
                        }
                    }
                    AcceptMode::LogInFirst { signed_in_as: None } => {
                        p role="alert" { (tf(l, "invite.accept_login_first", &[("email", v.email)])) }
                        p { a.button href="/login" { (t(l, "nav.login")) } }
                    }
                }
            }
        },
    )
}

/// A link that cannot be used: tampered, expired, used, revoked or replaced.
pub fn closed(p: &Page, state: LinkState) -> Markup {
    let l = p.locale;
    let (title, body) = match state {
        LinkState::Invalid | LinkState::Pending => ("invite.link_invalid_title", "invite.link_invalid"),
        LinkState::Expired => ("invite.link_closed_title", "invite.link_expired"),
        LinkState::Accepted => ("invite.link_closed_title", "invite.link_accepted"),
        LinkState::Revoked => ("invite.link_closed_title", "invite.link_revoked"),
        LinkState::Replaced => ("invite.link_closed_title", "invite.link_replaced"),
    };
    page(
        p,
        t(l, title),
        html! {
            section.card.narrow.link-closed {
                h1 { (t(l, title)) }
                p { (t(l, body)) }
                p { a href="/" { (t(l, "error.back_home")) } }
            }
        },
    )
}

/// The invitation e-mail, in the shop's language.
pub fn invitation_mail(
    l: Locale,
    to: &str,
    shop: &str,
    inviter: &str,
    role: Role,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Mail {
    let role = role_label(l, role);
    let when = utc(expires_at, l);
    let subject = tf(l, "invite.mail_subject", &[("inviter", inviter), ("shop", shop)]);
    let body = tf(l, "invite.mail_body", &[("inviter", inviter), ("shop", shop), ("role", role)]);
    let expiry = tf(l, "invite.mail_expiry", &[("when", &when)]);
    let text = format!(
        "{greeting}\n\n{body}\n\n{action}: {link}\n\n{expiry}\n",
        greeting = t(l, "invite.mail_greeting"),
        action = t(l, "invite.mail_action"),
    );
    let html = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head { meta charset="utf-8"; title { (subject) } }
            body {
                p { (t(l, "invite.mail_greeting")) }
                p { (body) }
                p { a href=(link) { (t(l, "invite.mail_action")) } }
                p { small { (expiry) } }
            }
        }
    };
    Mail { to: to.to_string(), subject, text, html: html.into_string() }
}
