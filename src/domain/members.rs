//! The people of a shop: the member list, role changes (admin ↔ staff), removal and handing the
//! shop over to another owner. PostgreSQL decides who may: only the owner role holds UPDATE of
//! `role` and DELETE on `app.memberships`, for rows of the shop in context only
//! (policies/app.sql), and a deferred trigger keeps at least one owner per shop. Triggers write
//! every change to the shop's audit log (sql/app/V10__members_and_audit.sql).

use chrono::{DateTime, Utc};

use super::catalog::WriteError;
use super::member::Role;
use crate::db::tx::Tx;
use crate::db::DbError;
use crate::error::{violated_constraint, AppError};

#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// The role a member can be given with the role form: admin or staff. Ownership changes hands
/// only through the handover, so "owner" (or anything else) is refused here.
pub fn assignable_role(raw: &str) -> Result<Role, &'static str> {
    match raw.trim() {
        "admin" => Ok(Role::Admin),
        "staff" => Ok(Role::Staff),
        "owner" => Err("member.error_owner_by_handover"),
        _ => Err("error.choose_option"),
    }
}

/// Everyone in the shop in context: owners first, then admins, then staff, by name.
pub async fn list(tx: &Tx<'_>) -> Result<Vec<Member>, AppError> {
    let rows = tx
        .query(
            "select m.user_id, u.display_name, u.email, m.role, m.created_at
               from app.memberships m join app.users u on u.id = m.user_id
              where m.tenant_id = app.current_tenant_id()
              order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end,
                       lower(u.display_name), m.user_id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.get(3);
            Ok(Member {
                user_id: r.get(0),
                name: r.get(1),
                email: r.get(2),
                role: Role::try_from(role.as_str()).map_err(|e| DbError::Other(e.to_string()))?,
                since: r.get(4),
            })
        })
        .collect()
}

pub async fn by_id(tx: &Tx<'_>, user_id: i64) -> Result<Option<Member>, AppError> {
    Ok(list(tx).await?.into_iter().find(|m| m.user_id == user_id))
}

fn refused(key: &'static str) -> WriteError {
    WriteError::Field(vec![("member", key)])
}

/// Maps the database's refusals of a membership change to messages.
fn write_error(e: tokio_postgres::Error) -> WriteError {
    match violated_constraint(&e) {
        Some("memberships_last_owner") => refused("member.error_last_owner"),
        Some("memberships_role_check") => refused("error.choose_option"),
        Some("memberships_already_owner") => refused("member.error_already_owner"),
        _ => WriteError::Other(e.into()),
    }
}

/// Runs the shop's "keep an owner" check now instead of at commit, so its refusal can be shown
/// as a message (the transaction is then rolled back by the caller).
async fn check_an_owner_is_kept(tx: &Tx<'_>) -> Result<(), WriteError> {
    tx.batch_execute("set constraints app.memberships_keep_an_owner immediate").await.map_err(write_error)
}

/// Gives a member of the shop in context another role (admin or staff). `Ok(false)`: no such
/// member in this shop.
pub async fn change_role(tx: &Tx<'_>, user_id: i64, role: Role) -> Result<bool, WriteError> {
    if role == Role::Owner {
        return Err(refused("member.error_owner_by_handover"));
    }
    let n = tx
        .execute(
            "update app.memberships set role = $2
              where tenant_id = app.current_tenant_id() and user_id = $1",
            &[&user_id, &role.as_str()],
        )
        .await
        .map_err(write_error)?;
    if n == 0 {
        return Ok(false);
    }
    check_an_owner_is_kept(tx).await?;
    Ok(true)
}

/// Removes a member from the shop in context (their account stays; their sessions resolve to no
/// shop from their next request on). `Ok(false)`: no such member in this shop.
pub async fn remove(tx: &Tx<'_>, user_id: i64) -> Result<bool, WriteError> {
    let n = tx
        .execute(
            "delete from app.memberships where tenant_id = app.current_tenant_id() and user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(write_error)?;
    if n == 0 {
        return Ok(false);
    }
    check_an_owner_is_kept(tx).await?;
    Ok(true)
}

/// Makes another member the owner; the requesting owner becomes an admin. Both changes happen in
/// the caller's transaction (one request), so the shop is never without an owner and never has
/// a half-done handover. The database allows this only through `app_private.hand_over_shop`
/// (a plain UPDATE to 'owner' is refused by the policy `owner_by_handover_only`); the checks here
/// give the messages. `Ok(false)`: no such member in this shop.
pub async fn hand_over(tx: &Tx<'_>, to_user_id: i64) -> Result<bool, WriteError> {
    let Some(target) = by_id(tx, to_user_id).await.map_err(WriteError::Other)? else {
        return Ok(false);
    };
    if target.role == Role::Owner {
        return Err(refused("member.error_already_owner"));
    }
    let done: bool = tx
        .query_one("select app_private.hand_over_shop($1)", &[&to_user_id])
        .await
        .map_err(write_error)?
        .get(0);
    if !done {
        return Ok(false);
    }
    check_an_owner_is_kept(tx).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_form_gives_admin_or_staff_only() {
        assert_eq!(assignable_role("admin"), Ok(Role::Admin));
        assert_eq!(assignable_role(" staff "), Ok(Role::Staff));
        assert_eq!(assignable_role("owner"), Err("member.error_owner_by_handover"));
        assert_eq!(assignable_role("root"), Err("error.choose_option"));
        assert_eq!(assignable_role(""), Err("error.choose_option"));
    }
}
