-- Two changes for the busiest paths (docs/BENCHMARKS.md, "Dashboard"):
--
-- 1. The session resolver becomes PL/pgSQL. A SECURITY DEFINER function in LANGUAGE sql is never
--    inlined, and PostgreSQL 15 plans its body again on every call; PL/pgSQL keeps the plan for the
--    connection's life. Measured with pgbench, one client, BEGIN + resolve + COMMIT: 0.39 ms for the
--    statement and 0.40 ms for the COMMIT before, 0.08 and 0.10 ms after. Same columns, same rules.
--
-- 2. A per-shop counter of active products (table shop_counters, tenant migration 13), kept by
--    the trigger function below, so that the dashboard reads one row instead of counting ~10,000
--    index entries on every request (the count was half of the dashboard statement's time).

create or replace function app_private.resolve_session(p_token_hash bytea)
    returns table (
        user_id bigint, email text, display_name text, user_locale text,
        tenant_id bigint, tenant_name text, tenant_slug text, schema_name text,
        tenant_status text, member_role text, db_role text, shop_locale text
    )
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    return query
    select u.id, u.email, u.display_name, u.locale,
           t.id, t.name, t.slug, t.schema_name, t.status, m.role,
           -- a suspended shop gets no shop role: its members read nothing
           coalesce(case when t.status = 'active'
                         then (select c.value from app_private.config c where c.key = 'role_' || m.role) end,
                    (select c.value from app_private.config c where c.key = 'role_anon')),
           t.locale
      from app.sessions s
      join app.users u on u.id = s.user_id
      left join app.memberships m on m.user_id = s.user_id and m.tenant_id = s.tenant_id
      left join app.tenants t on t.id = m.tenant_id
     where s.token_hash = p_token_hash and s.expires_at > now();
end $$;
revoke all on function app_private.resolve_session(bytea) from public;

-- Keeps <shop>.shop_counters.active_products equal to the number of active products.
-- Statement level for INSERT and DELETE (a CSV import of 10,000 rows updates the counter once,
-- from the transition table); row level for UPDATE OF active (only when it changes: the stock
-- updates of every sale never call it). Runs as the schema owner: no shop role may write the
-- counter itself.
create function app_private.count_active_products() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_delta bigint;
begin
    if tg_level = 'ROW' then
        v_delta := case when new.active then 1 else -1 end;
    elsif tg_op = 'INSERT' then
        execute 'select count(*) from new_rows where active' into v_delta;
    else
        execute 'select -count(*) from old_rows where active' into v_delta;
    end if;
    if v_delta <> 0 then
        execute format('update %I.shop_counters set active_products = active_products + $1', tg_table_schema)
            using v_delta;
    end if;
    return null;
end $$;
revoke all on function app_private.count_active_products() from public;
