//! One transaction per request. `tenant_tx` resolves the session cookie and, in the same single
//! statement, sets user, tenant, role and search_path with `set_config(…, true)`: the settings are
//! transaction-local, so they vanish at COMMIT or ROLLBACK and never reach the connection's next
//! user. GET requests run READ ONLY. Handlers get a `Tx`, never a raw client.

use deadpool_postgres::Object;
use tokio_postgres::types::Type;

use super::roles::RoleNames;
use super::{AppPools, DbError};
use crate::domain::member::Role;

pub type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// A pooled connection that can only open request transactions. It is taken from the pools
/// when the first transaction begins, from the shard the session picks (`AppPools`). The flag
/// selects unnamed statements for the context statements (PgBouncer < 1.21 in transaction mode,
/// where a named statement cached on one server connection is missing on the next).
pub struct Conn {
    pools: AppPools,
    obj: Option<Object>,
    unnamed: bool,
}

/// Who is asking: the signed-in person and, when they have one, the shop in context.
#[derive(Clone, Debug)]
pub struct SessionCtx {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub user_locale: Option<String>,
    pub shop: Option<ShopCtx>,
}

#[derive(Clone, Debug)]
pub struct ShopCtx {
    pub tenant_id: i64,
    pub name: String,
    pub slug: String,
    /// Checked by the database (`tenant_<id>`), never user text.
    pub schema: String,
    pub role: Role,
    pub active: bool,
    /// The shop's language setting (`es` or `en`).
    pub locale: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

const RESOLVE_AND_SET: &str = "\
select s.user_id, s.email, s.display_name, s.user_locale, s.tenant_id, s.tenant_name, s.tenant_slug,
       s.schema_name, s.tenant_status, s.member_role, s.shop_locale,
       set_config('app.user_id', s.user_id::text, true),
       set_config('app.tenant_id', case when s.tenant_status = 'active' then s.tenant_id::text else '' end, true),
       set_config('search_path', case when s.tenant_status = 'active'
                                      then quote_ident(s.schema_name) || ', app' else 'app' end, true),
       set_config('role', s.db_role, true)
  from app_private.resolve_session($1) s";

/// The statement text a shop's cached statement is prepared under: `sql` behind a comment naming
/// the shop (its numeric id, never user text).
pub fn shop_statement_text(tenant_id: i64, sql: &str) -> String {
    format!("/* shop {tenant_id} */ {sql}")
}

/// Prepares `sql` for the shop in context and caches it on the connection under a text of that
/// shop's own. A prepared statement remembers the `search_path` it was planned under, and the
/// session statement points `search_path` at the shop's schema, so one text shared by every shop
/// is parsed, rewritten (every table's policies) and planned again whenever the connection
/// serves another shop than the last. With one text per shop each keeps its plan
/// (docs/SCALING.md §3.1). Correctness never depends on the text: PostgreSQL re-plans a
/// statement run under another `search_path`, and the policies still decide what it reads. The
/// pool bounds the cache (`STOCK_DB_STATEMENT_CACHE_MAX`) and the connection's lifetime.
pub async fn prepare_for_shop(
    tx: &Tx<'_>,
    tenant_id: i64,
    sql: &str,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    tx.prepare_cached(&shop_statement_text(tenant_id, sql)).await
}

/// A connection to be taken from `pools` when needed; `unnamed_statements` as in
/// `Config::unnamed_statements`.
pub fn conn(pools: &AppPools, unnamed_statements: bool) -> Conn {
    Conn { pools: pools.clone(), obj: None, unnamed: unnamed_statements }
}

impl Conn {
    /// The pooled connection, taken on first use from the shard `key` (a session's token hash)
    /// picks.
    async fn object(&mut self, key: Option<&[u8]>) -> Result<&mut Object, DbError> {
        if self.obj.is_none() {
            let o = self.pools.shard(key).get().await.map_err(|e| DbError::Pool(e.to_string()))?;
            self.obj = Some(o);
        }
        self.obj.as_mut().ok_or_else(|| DbError::Pool("no connection".into()))
    }

    async fn begin(&mut self, access: Access, key: Option<&[u8]>) -> Result<Tx<'_>, DbError> {
        let unnamed = self.unnamed;
        let obj = self.object(key).await?;
        if !unnamed {
            return Ok(obj.build_transaction().read_only(access == Access::ReadOnly).start().await?);
        }
        // Behind a transaction-mode pooler that does not track prepared statements, a named
        // statement exists only on the server connection of the transaction that prepared it.
        // So every transaction starts with an empty statement cache (the handles are dropped;
        // their Close goes wherever the pooler sends it, and closing an unknown name is no
        // error), and with `deallocate all` on its own server connection, which drops what
        // earlier transactions of any client (of any replica, whose names may collide) left
        // there. Statements cached during the request are then prepared within it.
        obj.statement_cache.clear();
        let tx = obj.build_transaction().read_only(access == Access::ReadOnly).start().await?;
        tx.batch_execute("deallocate all").await?;
        Ok(tx)
    }

    /// A signed-in request: `None` when the cookie names no live session (the transaction is
    /// then rolled back and nothing was set).
    pub async fn tenant_tx(
        &mut self,
        token_hash: &[u8],
        access: Access,
    ) -> Result<Option<(Tx<'_>, SessionCtx)>, DbError> {
        let unnamed = self.unnamed;
        let tx = self.begin(access, Some(token_hash)).await?;
        let row = if unnamed {
            tx.query_typed_opt(RESOLVE_AND_SET, &[(&token_hash, Type::BYTEA)]).await?
        } else {
            let stmt = tx.prepare_cached(RESOLVE_AND_SET).await?;
            tx.query_opt(&stmt, &[&token_hash]).await?
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let shop = match (row.get::<_, Option<i64>>(4), row.get::<_, Option<String>>(9)) {
            (Some(tenant_id), Some(role)) => Some(ShopCtx {
                tenant_id,
                name: row.get(5),
                slug: row.get(6),
                schema: row.get(7),
                role: Role::try_from(role.as_str()).map_err(|e| DbError::Other(e.to_string()))?,
                active: row.get::<_, Option<String>>(8).as_deref() == Some("active"),
                locale: row.get::<_, Option<String>>(10).unwrap_or_default(),
            }),
            _ => None,
        };
        let ctx = SessionCtx {
            user_id: row.get(0),
            email: row.get(1),
            display_name: row.get(2),
            user_locale: row.get(3),
            shop,
        };
        Ok(Some((tx, ctx)))
    }

    /// A signed-out request (login, sign-up): runs as the anonymous role, which can only call the
    /// narrow functions granted to it.
    pub async fn anon_tx(&mut self, roles: &RoleNames, access: Access) -> Result<Tx<'_>, DbError> {
        let unnamed = self.unnamed;
        let tx = self.begin(access, None).await?;
        const SET_ROLE: &str = "select set_config('role', $1, true)";
        if unnamed {
            tx.query_typed(SET_ROLE, &[(&roles.anon, Type::TEXT)]).await?;
        } else {
            let stmt = tx.prepare_cached(SET_ROLE).await?;
            tx.execute(&stmt, &[&roles.anon]).await?;
        }
        Ok(tx)
    }

    /// Liveness of the database and the migration state, as the login role itself.
    pub async fn migration_status(&mut self) -> Result<(i32, i32, i32), DbError> {
        // outside a transaction: an unnamed statement, so Parse and Execute cannot land on two
        // server connections behind a transaction-mode pooler
        let row = self
            .object(None)
            .await?
            .query_typed_one(
                "select app_version, tenant_latest, tenants_behind from app_private.migration_status()",
                &[],
            )
            .await?;
        Ok((row.get(0), row.get(1), row.get(2)))
    }
}

/// Who is asking in the operator's super-admin panel.
#[derive(Clone, Debug)]
pub struct AdminCtx {
    pub admin_id: i64,
    pub email: String,
    pub display_name: String,
    /// The shop this session opened with "view as", if any.
    pub view_tenant_id: Option<i64>,
}

/// The shop a super-admin is viewing as support (read only).
#[derive(Clone, Debug)]
pub struct ViewAsCtx {
    pub admin: AdminCtx,
    pub tenant_id: i64,
    pub name: String,
    pub slug: String,
    /// Checked by the database (`tenant_<id>`), never user text.
    pub schema: String,
    pub active: bool,
    pub locale: String,
}

const RESOLVE_ADMIN_AND_SET: &str = "\
select s.admin_id, s.email, s.display_name, s.view_tenant_id,
       set_config('app.admin_id', s.admin_id::text, true),
       set_config('app.user_id', '', true),
       set_config('app.tenant_id', '', true),
       set_config('app.client_ip', coalesce($2::text, ''), true),
       set_config('search_path', 'app', true),
       set_config('role', s.db_role, true)
  from app_private.resolve_admin_session($1) s";

const RESOLVE_VIEW_AND_SET: &str = "\
select s.admin_id, s.email, s.display_name, s.tenant_id, s.tenant_name, s.tenant_slug, s.schema_name,
       s.tenant_status, s.shop_locale,
       set_config('app.admin_id', s.admin_id::text, true),
       set_config('app.user_id', '', true),
       set_config('app.tenant_id', s.tenant_id::text, true),
       set_config('app.client_ip', coalesce($3::text, ''), true),
       set_config('search_path', quote_ident(s.schema_name) || ', app', true),
       set_config('role', s.db_role, true)
  from app_private.resolve_admin_view($1, $2) s";

impl Conn {
    /// A super-admin request: one statement resolves the admin cookie and sets the admin id, the
    /// client address and the super-admin role transaction-locally (no shop, no user). `None`
    /// when the cookie names no live session of an enabled account.
    pub async fn admin_tx(
        &mut self,
        token_hash: &[u8],
        client_ip: Option<String>,
        access: Access,
    ) -> Result<Option<(Tx<'_>, AdminCtx)>, DbError> {
        let unnamed = self.unnamed;
        let tx = self.begin(access, Some(token_hash)).await?;
        let row = if unnamed {
            tx.query_typed_opt(RESOLVE_ADMIN_AND_SET, &[(&token_hash, Type::BYTEA), (&client_ip, Type::TEXT)])
                .await?
        } else {
            let stmt = tx.prepare_cached(RESOLVE_ADMIN_AND_SET).await?;
            tx.query_opt(&stmt, &[&token_hash, &client_ip]).await?
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let ctx = AdminCtx {
            admin_id: row.get(0),
            email: row.get(1),
            display_name: row.get(2),
            view_tenant_id: row.get(3),
        };
        Ok(Some((tx, ctx)))
    }

    /// "View as" a shop: always a READ ONLY transaction, the shop's tenant context, and the
    /// SELECT-only support role. `None` unless this admin session opened exactly this shop.
    pub async fn view_as_tx(
        &mut self,
        token_hash: &[u8],
        tenant_id: i64,
        client_ip: Option<String>,
    ) -> Result<Option<(Tx<'_>, ViewAsCtx)>, DbError> {
        let unnamed = self.unnamed;
        let tx = self.begin(Access::ReadOnly, Some(token_hash)).await?;
        let row = if unnamed {
            tx.query_typed_opt(
                RESOLVE_VIEW_AND_SET,
                &[(&token_hash, Type::BYTEA), (&tenant_id, Type::INT8), (&client_ip, Type::TEXT)],
            )
            .await?
        } else {
            let stmt = tx.prepare_cached(RESOLVE_VIEW_AND_SET).await?;
            tx.query_opt(&stmt, &[&token_hash, &tenant_id, &client_ip]).await?
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let admin_id: i64 = row.get(0);
        let ctx = ViewAsCtx {
            admin: AdminCtx {
                admin_id,
                email: row.get(1),
                display_name: row.get(2),
                view_tenant_id: Some(tenant_id),
            },
            tenant_id: row.get(3),
            name: row.get(4),
            slug: row.get(5),
            schema: row.get(6),
            active: row.get::<_, String>(7) == "active",
            locale: row.get(8),
        };
        Ok(Some((tx, ctx)))
    }
}
