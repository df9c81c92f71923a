-- One way for SECURITY DEFINER functions to append to a shop's audit log (invitations, member
-- changes, sign-ins, restores): the shop is named by id, its schema comes from app.tenants, and the
-- acting user defaults to the request's user setting.
create function app_private.write_audit(
    p_tenant_id bigint, p_action text, p_entity text, p_entity_id text,
    p_old jsonb, p_new jsonb, p_user_id bigint default null
) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_schema text;
begin
    select schema_name into v_schema from app.tenants where id = p_tenant_id;
    if v_schema is null then
        raise exception 'shop % does not exist', p_tenant_id using errcode = '02000';
    end if;
    execute format('insert into %I.audit_log (user_id, action, entity, entity_id, old_values, new_values)
                    values ($1, $2, $3, $4, $5, $6)', v_schema)
      using coalesce(p_user_id, app.current_user_id()), p_action, p_entity, p_entity_id, p_old, p_new;
end $$;
revoke all on function app_private.write_audit(bigint, text, text, text, jsonb, jsonb, bigint) from public;
