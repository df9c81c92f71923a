-- Spare shops (issue 8): shops made ahead, outside requests, so that sign-up claims one instead of
-- running every tenant migration's DDL in the request. A spare is a real app.tenants row and a
-- fully migrated schema whose policies carry its own id, in status 'spare': no members, no
-- subscription, no schema privileges for any request role, hidden from the panel and the CLI
-- lists, migrated by `stock migrate` like every shop. `create_tenant` claims the oldest current
-- spare with FOR UPDATE SKIP LOCKED (concurrent sign-ups take different ones) and falls back to
-- creating a shop as before. Spares are made by `provision_spare`, run by the administrative
-- connection (`stock serve`'s refill task, `stock tenant spares`); see docs/SCALING.md §3.1.

alter table app.tenants drop constraint tenants_status_check;
alter table app.tenants add constraint tenants_status_check check (status in ('active', 'suspended', 'spare'));
create index tenants_spare_idx on app.tenants (id) where status = 'spare';

-- The trial starts when a shop is born for a person: at insert for a shop created directly, at
-- the claim for a spare (a spare has no subscription).
drop trigger tenants_start_subscription on app.tenants;
create trigger tenants_start_subscription after insert on app.tenants
    for each row when (new.status <> 'spare')
    execute function app_private.start_subscription();
create trigger tenants_claim_start_subscription after update of status on app.tenants
    for each row when (old.status = 'spare' and new.status <> 'spare')
    execute function app_private.start_subscription();

-- Naming a spare at its claim is its creation, not a rename: nothing goes to its audit log.
drop trigger tenants_name_audit on app.tenants;
create trigger tenants_name_audit
    after update of name on app.tenants
    for each row when (old.name is distinct from new.name and old.status <> 'spare')
    execute function app_private.audit_tenant_name();

-- The schema privileges the tenant policy templates grant (00_base, 80_support). A spare's schema
-- has them revoked, so even a request that forged a spare's id as its context reads nothing there;
-- the claim grants them back. Keep this list equal to the templates' `grant usage on schema`.
create function app_private.spare_schema_roles() returns text
    language sql immutable
    as $$ select '{{owner}}, {{admin}}, {{staff}}, {{support}}' $$;

-- As in V1, and a spare's schema loses its privileges again after the templates are applied
-- (`stock migrate` re-applies them to every shop).
create or replace function app_private.apply_tenant_policies(p_tenant_id bigint) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    r record;
begin
    for r in select sql from app_private.policy_templates where scope = 'tenant' order by name loop
        execute app_private.render(r.sql, p_tenant_id);
    end loop;
    if exists (select 1 from app.tenants where id = p_tenant_id and status = 'spare') then
        execute app_private.render('revoke usage on schema {{schema}} from '
                                   || app_private.spare_schema_roles(), p_tenant_id);
    end if;
end $$;

-- Makes one spare: the row, the schema, every tenant migration and the policies. One transaction
-- of DDL per spare; the administrative connection runs it, never a request.
create function app_private.provision_spare() returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_id bigint := nextval(pg_get_serial_sequence('app.tenants', 'id'));
begin
    insert into app.tenants (id, slug, name, schema_name, status)
    values (v_id, app_private.unique_slug('spare--' || v_id), 'Spare shop', 'tenant_' || v_id, 'spare');
    execute format('create schema %I', 'tenant_' || v_id);
    perform app_private.migrate_tenant(v_id);
    return v_id;
end $$;
revoke all on function app_private.provision_spare() from public;

-- Creates a shop: claims a spare at the latest tenant migration when one is free, else creates the
-- row, schema, tables and policies as in V1. All or nothing with the caller's transaction (a
-- rolled-back claim leaves the spare as it was).
create or replace function app_private.create_tenant(p_name text, p_slug text) returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_id bigint;
begin
    select id into v_id from app.tenants
     where status = 'spare'
       and schema_version = (select coalesce(max(version), 0) from app_private.tenant_migrations)
     order by id
     limit 1
       for update skip locked;
    if v_id is not null then
        -- the row becomes what the insert below would have written; the triggers start the trial
        update app.tenants
           set slug = p_slug, name = btrim(p_name), status = 'active', created_at = now()
         where id = v_id;
        execute app_private.render('grant usage on schema {{schema}} to '
                                   || app_private.spare_schema_roles(), v_id);
        -- wakes the refill task of any `stock serve` listening (delivered at commit)
        perform pg_notify('stock_spare_claimed', v_id::text);
        return v_id;
    end if;
    v_id := nextval(pg_get_serial_sequence('app.tenants', 'id'));
    insert into app.tenants (id, slug, name, schema_name)
    values (v_id, p_slug, btrim(p_name), 'tenant_' || v_id);
    execute format('create schema %I', 'tenant_' || v_id);
    perform app_private.migrate_tenant(v_id);
    return v_id;
end $$;

-- "View as" never opens a spare (as V17 otherwise).
create or replace function app_private.admin_start_view(p_token_hash bytea, p_tenant_id bigint) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_admin bigint;
    v_prev bigint;
begin
    select s.admin_id, s.view_tenant_id into v_admin, v_prev
      from app.admin_sessions s join app.super_admins a on a.id = s.admin_id
     where s.token_hash = p_token_hash and s.expires_at > now() and a.disabled_at is null
       and s.admin_id = app.current_admin_id()
     for update of s;
    if v_admin is null then
        return false;
    end if;
    if p_tenant_id is not null
       and not exists (select 1 from app.tenants where id = p_tenant_id and status <> 'spare') then
        return false;
    end if;
    update app.admin_sessions set view_tenant_id = p_tenant_id where token_hash = p_token_hash;
    if p_tenant_id is not null then
        perform app_private.write_admin_audit('view_as.open', p_tenant_id, '{}');
    elsif v_prev is not null then
        perform app_private.write_admin_audit('view_as.close', v_prev, '{}');
    end if;
    return true;
end $$;

-- Usage of shops for the panel, as in V17 without spares (they are nobody's shop yet).
create or replace function app_private.admin_shop_usage(p_search text, p_tenant_id bigint, p_limit integer, p_offset integer)
    returns table (
        tenant_id bigint, name text, slug text, status text, created_at timestamptz,
        plan_code text, subscription_status text, trial_ends_on date, members bigint, products bigint,
        sales_this_month bigint, last_activity timestamptz, schema_bytes bigint
    )
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
#variable_conflict use_column
declare
    v_prev text := current_setting('app.tenant_id', true);
    v_last_sale timestamptz;
    v_last_audit timestamptz;
    v_search text := lower(btrim(coalesce(p_search, '')));
    v_month timestamptz := date_trunc('month', now() at time zone 'UTC') at time zone 'UTC';
    t record;
begin
    if app.current_admin_id() is null then
        raise exception 'super-admin context required' using errcode = '42501';
    end if;
    for t in
        select x.id, x.name, x.slug, x.status, x.created_at, x.schema_name, x.schema_version,
               s.plan_code, s.status as sub_status, s.trial_ends_on as trial_end
          from app.tenants x left join app.subscriptions s on s.tenant_id = x.id
         where x.status <> 'spare'
           and (p_tenant_id is null or x.id = p_tenant_id)
           and (v_search = '' or strpos(lower(x.name || ' ' || x.slug), v_search) > 0
                or x.id::text = v_search)
         order by x.name, x.id
         limit greatest(coalesce(p_limit, 50), 0) offset greatest(coalesce(p_offset, 0), 0)
    loop
        tenant_id := t.id; name := t.name; slug := t.slug; status := t.status;
        created_at := t.created_at; plan_code := t.plan_code; subscription_status := t.sub_status;
        trial_ends_on := t.trial_end;
        select count(*) into members from app.memberships m where m.tenant_id = t.id;
        select max(ss.created_at) into last_activity from app.sessions ss where ss.tenant_id = t.id;
        products := 0; sales_this_month := 0;
        perform set_config('app.tenant_id', t.id::text, true);
        if to_regclass(quote_ident(t.schema_name) || '.products') is not null then
            execute format('select count(*) from %I.products', t.schema_name) into products;
        end if;
        if to_regclass(quote_ident(t.schema_name) || '.sales') is not null then
            execute format('select count(*) filter (where created_at >= $1), max(created_at) from %I.sales',
                           t.schema_name)
               into sales_this_month, v_last_sale
              using v_month;
        end if;
        if to_regclass(quote_ident(t.schema_name) || '.audit_log') is not null then
            execute format('select max(at) from %I.audit_log', t.schema_name) into v_last_audit;
        end if;
        last_activity := greatest(last_activity, v_last_sale, v_last_audit);
        v_last_sale := null; v_last_audit := null;
        perform set_config('app.tenant_id', coalesce(v_prev, ''), true);
        select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint into schema_bytes
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = t.schema_name and c.relkind in ('r', 'm', 'p');
        return next;
    end loop;
end $$;
