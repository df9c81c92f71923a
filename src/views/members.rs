//! The member list (with role changes, removal and handover) and its confirmation pages.

use maud::{html, Markup};

use super::layout::{csrf, format_date, page, role_label, Page};
use crate::domain::catalog::{error_for, FieldErrors};
use crate::domain::member::Role;
use crate::domain::members::Member;
use crate::i18n::{t, t_dyn, tf};

/// (key, English, Spanish) texts of these pages; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("nav.members", "Members", "Personas"),
    ("member.title", "People in this shop", "Personas del negocio"),
    ("member.invite", "Invite", "Invitar"),
    ("member.role", "Role", "Rol"),
    ("member.since", "Member since", "Desde"),
    ("member.you", "you", "usted"),
    ("member.change_role", "Change", "Cambiar"),
    ("member.remove", "Remove", "Quitar"),
    ("member.hand_over", "Make owner", "Hacer dueño"),
    (
        "member.roles_hint",
        "Administrators manage the catalog, stock, voids and reports; staff sell and make quotes. Only the owner manages people and settings.",
        "Los administradores manejan el catálogo, el stock, las anulaciones y los informes; los empleados venden y hacen presupuestos. Solo el dueño maneja personas y configuración.",
    ),
    ("member.remove_title", "Remove {name} from the shop?", "¿Quitar a {name} del negocio?"),
    (
        "member.remove_body",
        "{name} ({email}) will no longer be able to open this shop; a session already open stops working on its next page. Their account and what they recorded stay.",
        "{name} ({email}) ya no podrá abrir este negocio; una sesión ya abierta deja de funcionar en su próxima página. Su cuenta y lo que registró se conservan.",
    ),
    ("member.remove_confirm", "Yes, remove", "Sí, quitar"),
    ("member.hand_over_title", "Make {name} the owner?", "¿Hacer dueño a {name}?"),
    (
        "member.hand_over_body",
        "{name} ({email}) becomes the owner of the shop and you become an administrator: you will no longer manage people or settings. Only the new owner can undo this.",
        "{name} ({email}) pasa a ser el dueño del negocio y usted pasa a ser administrador: ya no podrá manejar personas ni configuración. Solo el nuevo dueño puede deshacerlo.",
    ),
    ("member.hand_over_confirm", "Yes, hand over the shop", "Sí, entregar el negocio"),
    (
        "member.error_owner_by_handover",
        "A member becomes the owner only through \"Make owner\". Choose administrator or staff.",
        "Una persona pasa a ser dueño solo con \"Hacer dueño\". Elija administrador o empleado.",
    ),
    (
        "member.error_last_owner",
        "The shop must always have an owner: make someone else the owner first.",
        "El negocio siempre debe tener un dueño: primero haga dueño a otra persona.",
    ),
    ("member.error_already_owner", "This person is already an owner.", "Esta persona ya es dueño."),
    ("flash.role_changed", "Role changed.", "Rol cambiado."),
    ("flash.member_removed", "Removed from the shop.", "Quitado del negocio."),
    (
        "flash.ownership_handed_over",
        "The shop has a new owner; you are now an administrator.",
        "El negocio tiene un nuevo dueño; usted ahora es administrador.",
    ),
];

pub struct ListView<'a> {
    pub members: &'a [Member],
    /// The signed-in owner's user id (their own row has no actions).
    pub me: i64,
    pub errors: &'a FieldErrors,
}

fn role_form(p: &Page, m: &Member) -> Markup {
    let l = p.locale;
    html! {
        form.inline method="post" action={ "/members/" (m.user_id) "/role" } {
            (csrf(p))
            label.visually-hidden for={ "role-" (m.user_id) } { (t(l, "member.role")) }
            select id={ "role-" (m.user_id) } name="role" {
                @for r in [Role::Admin, Role::Staff] {
                    option value=(r.as_str()) selected[m.role == r] { (role_label(l, r)) }
                }
            }
            " " button.secondary type="submit" { (t(l, "member.change_role")) }
        }
    }
}

pub fn list(p: &Page, v: &ListView) -> Markup {
    let l = p.locale;
    page(
        p,
        t(l, "member.title"),
        html! {
            div.titlebar {
                h1 { (t(l, "member.title")) }
                div.actions {
                    a.button href="/members/invite" { (t(l, "member.invite")) }
                    a href="/members/invitations" { (t(l, "nav.invitations")) }
                }
            }
            @for key in ["member", "role"].iter().filter_map(|f| error_for(v.errors, f)) {
                p.error role="alert" { (t_dyn(l, key)) }
            }
            p.hint { (t(l, "member.roles_hint")) }
            div.table-wrap { table.list {
                thead { tr {
                    th { (t(l, "field.name")) } th { (t(l, "field.email")) } th { (t(l, "member.role")) }
                    th { (t(l, "member.since")) } th {}
                } }
                tbody { @for m in v.members { tr {
                    td { (m.name) @if m.user_id == v.me { " " span.tag { (t(l, "member.you")) } } }
                    td { (m.email) }
                    td {
                        @if m.role == Role::Owner || m.user_id == v.me { (role_label(l, m.role)) }
                        @else { (role_form(p, m)) }
                    }
                    td { (format_date(m.since.date_naive(), l)) }
                    td.actions {
                        @if m.user_id != v.me {
                            a href={ "/members/" (m.user_id) "/remove" } { (t(l, "member.remove")) }
                            @if m.role != Role::Owner {
                                " · " a href={ "/members/" (m.user_id) "/owner" } { (t(l, "member.hand_over")) }
                            }
                        }
                    }
                } } }
            } }
        },
    )
}

/// What a confirmation page confirms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    Remove,
    HandOver,
}

pub fn confirm(p: &Page, m: &Member, what: Confirm) -> Markup {
    let l = p.locale;
    let args = [("name", m.name.as_str()), ("email", m.email.as_str())];
    let (title, body, button, action) = match what {
        Confirm::Remove => (
            tf(l, "member.remove_title", &args),
            tf(l, "member.remove_body", &args),
            t(l, "member.remove_confirm"),
            format!("/members/{}/remove", m.user_id),
        ),
        Confirm::HandOver => (
            tf(l, "member.hand_over_title", &args),
            tf(l, "member.hand_over_body", &args),
            t(l, "member.hand_over_confirm"),
            format!("/members/{}/owner", m.user_id),
        ),
    };
    page(
        p,
        &title,
        html! {
            h1 { (title) }
            form.card method="post" action=(action) {
                (csrf(p))
                p { (body) }
                button.danger type="submit" { (button) }
                " " a href="/members" { (t(l, "action.cancel")) }
            }
        },
    )
}
