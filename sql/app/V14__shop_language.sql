-- The shop's language (settings.locale, in the shop's schema) is copied into app.tenants so that
-- the one statement that resolves a session can return it: a page is in the person's chosen
-- language, else the shop's, else the browser's (Accept-Language).
alter table app.tenants add column locale text not null default 'es'
    constraint tenants_locale_check check (locale in ('es', 'en'));

-- AFTER UPDATE OF locale ON <shop>.settings (created by tenant migration 10)
create function app_private.sync_shop_locale() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    update app.tenants set locale = new.locale where schema_name = tg_table_schema;
    return null;
end $$;
revoke all on function app_private.sync_shop_locale() from public;

-- The session resolver gains the shop's language (a new result column: drop and create; the
-- execute grant is re-applied from policies/app.sql).
drop function app_private.resolve_session(bytea);
create function app_private.resolve_session(p_token_hash bytea)
    returns table (
        user_id bigint, email text, display_name text, user_locale text,
        tenant_id bigint, tenant_name text, tenant_slug text, schema_name text,
        tenant_status text, member_role text, db_role text, shop_locale text
    )
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select u.id, u.email, u.display_name, u.locale,
           t.id, t.name, t.slug, t.schema_name, t.status, m.role,
           -- a suspended shop gets no shop role: its members read nothing
           coalesce(case when t.status = 'active' then app_private.config_value('role_' || m.role) end,
                    app_private.config_value('role_anon')),
           t.locale
      from app.sessions s
      join app.users u on u.id = s.user_id
      left join app.memberships m on m.user_id = s.user_id and m.tenant_id = s.tenant_id
      left join app.tenants t on t.id = m.tenant_id
     where s.token_hash = p_token_hash and s.expires_at > now();
$$;
revoke all on function app_private.resolve_session(bytea) from public;
