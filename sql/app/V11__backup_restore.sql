-- Per-shop restore (`stock tenant restore`): a shop schema created at a given tenant migration
-- version, so an archive taken at an older version is loaded into the tables it was dumped from
-- and then migrated forward by app_private.migrate_tenant like any other shop. No policies are
-- applied here: the templates describe the latest version (migrate_tenant applies them).
create function app_private.create_tenant_schema_at(p_tenant_id bigint, p_version integer) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_schema text;
    v_done integer := 0;
    v_prev_tenant text := current_setting('app.tenant_id', true);
    m record;
begin
    select schema_name into strict v_schema from app.tenants where id = p_tenant_id for update;
    if p_version < 1 or p_version > (select coalesce(max(version), 0) from app_private.tenant_migrations) then
        raise exception 'tenant migration version % is not registered in this database', p_version
            using errcode = '22023';
    end if;
    execute format('create schema %I', v_schema);
    -- seed rows written by migrations pass the schema's own isolation policy
    perform set_config('app.tenant_id', p_tenant_id::text, true);
    perform set_config('search_path', quote_ident(v_schema) || ', pg_catalog, pg_temp', true);
    for m in select version, sql from app_private.tenant_migrations
              where version <= p_version order by version loop
        if m.version <> v_done + 1 then
            raise exception 'tenant migration % is missing', v_done + 1 using errcode = '22023';
        end if;
        execute m.sql;
        v_done := m.version;
    end loop;
    perform set_config('search_path', 'pg_catalog, pg_temp', true);
    update app.tenants set schema_version = p_version where id = p_tenant_id;
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
end $$;
revoke all on function app_private.create_tenant_schema_at(bigint, integer) from public;
