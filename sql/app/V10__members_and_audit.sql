-- Members, shop settings and the audit log (issue 6).
--
-- Who may change memberships and the shop's name is decided by grants and policies in
-- policies/app.sql (UPDATE of `role` and DELETE on app.memberships, UPDATE of `name` on
-- app.tenants: the owner role only, rows of the shop in context only); this file adds what the
-- database writes on its own when they change: audit rows. It also audits sign-ins and checks a
-- shop's time zone.

-- write_audit names its shop by id; the shop's audit_log policy compares the request's
-- app.tenant_id with that shop's id, and binds the schema owner too. Sign-ins, the CLI and
-- cascades run with another shop or none in context, so the function puts the named shop in
-- context for its one insert and restores the caller's setting afterwards (an error aborts the
-- statement, and the (sub)transaction's rollback restores the setting as well).
create or replace function app_private.write_audit(
    p_tenant_id bigint, p_action text, p_entity text, p_entity_id text,
    p_old jsonb, p_new jsonb, p_user_id bigint default null
) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_schema text;
    v_user bigint := coalesce(p_user_id, app.current_user_id());
    v_prev_tenant text := current_setting('app.tenant_id', true);
begin
    select schema_name into v_schema from app.tenants where id = p_tenant_id;
    if v_schema is null then
        raise exception 'shop % does not exist', p_tenant_id using errcode = '02000';
    end if;
    perform set_config('app.tenant_id', p_tenant_id::text, true);
    execute format('insert into %I.audit_log (user_id, action, entity, entity_id, old_values, new_values)
                    values ($1, $2, $3, $4, $5, $6)', v_schema)
      using v_user, p_action, p_entity, p_entity_id, p_old, p_new;
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
end $$;
revoke all on function app_private.write_audit(bigint, text, text, text, jsonb, jsonb, bigint) from public;

-- True when the shop still exists and has its audit log: a shop being dropped (memberships
-- cascading) or a schema being restored has nowhere to write, and must not be blocked by it.
create function app_private.shop_has_audit_log(p_tenant_id bigint) returns boolean
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select exists (select 1 from app.tenants t
                    where t.id = p_tenant_id
                      and to_regclass(quote_ident(t.schema_name) || '.audit_log') is not null)
$$;

-- Memberships: a role change, a handover (someone becomes owner) and a removal each leave a row
-- in the shop's audit log, with the member's e-mail, so the entry stays readable after the person
-- is gone. The acting user is the request's user (NULL from the CLI).
create function app_private.audit_membership() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_email text;
begin
    if not app_private.shop_has_audit_log(old.tenant_id) then
        return null;
    end if;
    select u.email into v_email from app.users u where u.id = old.user_id;
    if tg_op = 'DELETE' then
        perform app_private.write_audit(old.tenant_id, 'member_removed', 'member', old.user_id::text,
            jsonb_build_object('member', v_email, 'role', old.role), null);
    elsif new.role is distinct from old.role then
        perform app_private.write_audit(new.tenant_id,
            case when new.role = 'owner' then 'ownership_handover' else 'role_change' end,
            'member', new.user_id::text,
            jsonb_build_object('member', v_email, 'role', old.role),
            jsonb_build_object('member', v_email, 'role', new.role));
    end if;
    return null;
end $$;

create trigger memberships_audit
    after update of role or delete on app.memberships
    for each row execute function app_private.audit_membership();

-- The shop's name is a setting kept in app.tenants.
create function app_private.audit_tenant_name() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if app_private.shop_has_audit_log(new.id) then
        perform app_private.write_audit(new.id, 'update', 'shop', new.id::text,
            jsonb_build_object('name', old.name), jsonb_build_object('name', new.name));
    end if;
    return null;
end $$;

create trigger tenants_name_audit
    after update of name on app.tenants
    for each row when (old.name is distinct from new.name)
    execute function app_private.audit_tenant_name();

-- Login step 2, as in V1, plus: a successful sign-in is recorded in the shop the session lands on,
-- with the client's address.
create or replace function app_private.finish_login(
    p_email text, p_ip inet, p_user_id bigint, p_ok boolean, p_old_token_hash bytea,
    p_token_hash bytea, p_ttl interval, p_user_agent text
) returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tenant bigint;
begin
    if not p_ok then
        insert into app.login_failures (email, ip) values (p_email, p_ip);
        return null;
    end if;
    delete from app.login_failures where email = p_email;
    if p_old_token_hash is not null then
        delete from app.sessions where token_hash = p_old_token_hash;
    end if;
    select m.tenant_id into v_tenant
      from app.memberships m join app.tenants t on t.id = m.tenant_id
     where m.user_id = p_user_id
     order by (t.status = 'active') desc, m.created_at
     limit 1;
    perform app_private.create_session(p_user_id, v_tenant, p_token_hash, p_ttl, p_ip, p_user_agent);
    if v_tenant is not null and app_private.shop_has_audit_log(v_tenant) then
        perform app_private.write_audit(v_tenant, 'sign_in', 'user', p_user_id::text, null,
            jsonb_strip_nulls(jsonb_build_object('email', p_email, 'ip', host(p_ip),
                                                 'user_agent', left(p_user_agent, 200))),
            p_user_id);
    end if;
    return v_tenant;
end $$;

-- A shop's time zone must be one PostgreSQL knows: every page converts times with it.
-- Used by the settings_time_zone_check trigger of every shop schema (sql/tenant/V8).
create function app_private.settings_time_zone_valid() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.time_zone) then
        raise exception 'unknown time zone %', new.time_zone
            using errcode = 'check_violation', constraint = 'settings_time_zone_check';
    end if;
    return new;
end $$;
