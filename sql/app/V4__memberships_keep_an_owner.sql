-- A shop always keeps at least one owner. Checked at commit (deferred), so ownership can be handed
-- over inside one transaction, and a shop being dropped (its memberships cascading) is not blocked.
create function app_private.keep_an_owner() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if exists (select 1 from app.tenants t where t.id = old.tenant_id)
       and not exists (select 1 from app.memberships m where m.tenant_id = old.tenant_id and m.role = 'owner') then
        raise exception 'shop % would have no owner', old.tenant_id
            using errcode = 'check_violation', constraint = 'memberships_last_owner';
    end if;
    return null;
end $$;

create constraint trigger memberships_keep_an_owner
    after update or delete on app.memberships
    deferrable initially deferred
    for each row when (old.role = 'owner')
    execute function app_private.keep_an_owner();
