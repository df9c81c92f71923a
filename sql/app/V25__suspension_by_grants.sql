-- A suspended shop is closed by grants too, not only by the session resolver (issue 10 follow-up).
-- Until now `resolve_session` gave a suspended shop's members the signed-out role, so requests read
-- nothing; but a context built by hand on the app's login connection (a shop role and the
-- suspended shop's id) still read the shop's rows. Now suspending a shop revokes the shop roles'
-- USAGE on its schema, and reactivating grants it back (a trigger on app.tenants, whoever changes
-- the status: the panel, the CLI, SQL by hand). The support role keeps its read-only access, so an
-- operator can still "view as" a suspended shop. `apply_tenant_policies` (run by `stock migrate`,
-- which re-applies the templates' grants) revokes again for suspended shops, as it does for spares.

create function app_private.suspended_schema_roles() returns text
    language sql immutable
    as $$ select '{{owner}}, {{admin}}, {{staff}}' $$;

create or replace function app_private.apply_tenant_policies(p_tenant_id bigint) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    r record;
    v_status text;
begin
    for r in select sql from app_private.policy_templates where scope = 'tenant' order by name loop
        execute app_private.render(r.sql, p_tenant_id);
    end loop;
    select status into v_status from app.tenants where id = p_tenant_id;
    if v_status = 'spare' then
        execute app_private.render('revoke usage on schema {{schema}} from '
                                   || app_private.spare_schema_roles(), p_tenant_id);
    elsif v_status = 'suspended' then
        execute app_private.render('revoke usage on schema {{schema}} from '
                                   || app_private.suspended_schema_roles(), p_tenant_id);
    end if;
end $$;

create function app_private.tenant_status_grants() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if new.status = 'suspended' then
        execute app_private.render('revoke usage on schema {{schema}} from '
                                   || app_private.suspended_schema_roles(), new.id);
    elsif old.status = 'suspended' and new.status = 'active' then
        execute app_private.render('grant usage on schema {{schema}} to '
                                   || app_private.suspended_schema_roles(), new.id);
    end if;
    return null;
end $$;
revoke all on function app_private.tenant_status_grants() from public;

create trigger tenants_status_grants
    after update of status on app.tenants
    for each row when (old.status is distinct from new.status)
    execute function app_private.tenant_status_grants();

-- shops suspended before this migration
do $$
declare
    r record;
begin
    for r in select id from app.tenants where status = 'suspended' loop
        execute app_private.render('revoke usage on schema {{schema}} from '
                                   || app_private.suspended_schema_roles(), r.id);
    end loop;
end $$;
