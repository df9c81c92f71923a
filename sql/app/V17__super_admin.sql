-- The operator's super-admin panel (issue 10): its own accounts, sessions and login throttle (never
-- a shop role), an append-only audit trail of every super-admin action, and the definer functions
-- the panel reads cross-shop figures through. Grants and row rules: policies/app.sql, last section.

create function app.current_admin_id() returns bigint
    language sql stable parallel safe
    as $$ select nullif(current_setting('app.admin_id', true), '')::bigint $$;

create table app.super_admins (
    id            bigint generated always as identity primary key,
    email         text not null
                  constraint super_admins_email_key unique
                  constraint super_admins_email_check check (
                      email = lower(btrim(email)) and length(email) <= 254
                      and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    display_name  text not null
                  constraint super_admins_display_name_check check (length(btrim(display_name)) between 1 and 120),
    password_hash text not null,
    -- accounts are disabled, never deleted: the audit trail keeps naming them
    disabled_at   timestamptz,
    created_at    timestamptz not null default now()
);

-- Only a SHA-256 of the cookie is stored. `view_tenant_id` is the shop this session opened with
-- "view as" (recorded in the audit trail); read-only support pages require it.
create table app.admin_sessions (
    token_hash     bytea primary key,
    admin_id       bigint not null references app.super_admins (id) on delete cascade,
    created_at     timestamptz not null default now(),
    expires_at     timestamptz not null,
    ip             inet,
    user_agent     text,
    view_tenant_id bigint references app.tenants (id) on delete set null
);
create index admin_sessions_admin_idx on app.admin_sessions (admin_id);
create index admin_sessions_expires_idx on app.admin_sessions (expires_at);

create table app.admin_login_failures (
    id    bigint generated always as identity primary key,
    email text not null,
    ip    inet,
    at    timestamptz not null default now()
);
create index admin_login_failures_email_idx on app.admin_login_failures (email, at);
create index admin_login_failures_ip_idx on app.admin_login_failures (ip, at);

-- Append-only: every super-admin action, who (null: the command line), which shop, what, from where.
-- No foreign key to tenants: the trail outlives a dropped shop.
create table app.admin_audit (
    id        bigint generated always as identity primary key,
    at        timestamptz not null default now(),
    admin_id  bigint references app.super_admins (id),
    action    text not null constraint admin_audit_action_check check (action ~ '^[a-z_.]{1,60}$'),
    tenant_id bigint,
    details   jsonb not null default '{}',
    ip        inet
);
create index admin_audit_at_idx on app.admin_audit (at desc);
create index admin_audit_tenant_idx on app.admin_audit (tenant_id, at desc);
create index admin_audit_admin_idx on app.admin_audit (admin_id, at desc);

create trigger admin_audit_append_only before update or delete on app.admin_audit
    for each row execute function app_private.refuse_change();
create trigger admin_audit_no_truncate before truncate on app.admin_audit
    for each statement execute function app_private.refuse_change();

alter table app.subscription_payments
    add constraint subscription_payments_recorded_by_fkey
    foreign key (recorded_by) references app.super_admins (id);

-- The client address of an admin request (set with the context; '' when unknown).
create function app_private.admin_client_ip() returns inet
    language sql stable
    set search_path = pg_catalog, pg_temp
    as $$ select nullif(current_setting('app.client_ip', true), '')::inet $$;

create function app_private.write_admin_audit(p_action text, p_tenant_id bigint, p_details jsonb)
    returns void
    language sql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    insert into app.admin_audit (admin_id, action, tenant_id, details, ip)
    values (app.current_admin_id(), p_action, p_tenant_id, coalesce(p_details, '{}'), app_private.admin_client_ip());
$$;

-- Changes the panel makes to shops, plans, subscriptions and payments are recorded by triggers, so
-- no handler can forget them. Only the fields that changed are kept.
create function app_private.admin_audit_change() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end;
    v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end;
    v_row jsonb := coalesce(v_new, v_old);
    v_tenant bigint;
begin
    if tg_op = 'UPDATE' then
        select jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, v_new -> o.key)
          into v_old, v_new
          from jsonb_each(v_old) o
         where o.value is distinct from v_new -> o.key and o.key <> 'updated_at';
        if v_old is null then
            return null;
        end if;
    end if;
    v_tenant := case tg_table_name
                    when 'tenants' then (v_row ->> 'id')::bigint
                    when 'plans' then null
                    else (v_row ->> 'tenant_id')::bigint end;
    perform app_private.write_admin_audit(
        tg_table_name || '.' || lower(tg_op), v_tenant,
        jsonb_strip_nulls(jsonb_build_object(
            'key', case when tg_table_name = 'plans' then v_row ->> 'code' else v_row ->> 'id' end,
            'old', v_old, 'new', v_new)));
    return null;
end $$;

create trigger tenants_admin_audit after update of status on app.tenants
    for each row when (app.current_admin_id() is not null)
    execute function app_private.admin_audit_change();
create trigger plans_admin_audit after insert or update on app.plans
    for each row when (app.current_admin_id() is not null)
    execute function app_private.admin_audit_change();
create trigger subscriptions_admin_audit after insert or update on app.subscriptions
    for each row when (app.current_admin_id() is not null)
    execute function app_private.admin_audit_change();
create trigger subscription_payments_admin_audit after insert on app.subscription_payments
    for each row when (app.current_admin_id() is not null)
    execute function app_private.admin_audit_change();

-- Command line: create (or re-enable with a new password) and disable accounts.
create function app_private.add_super_admin(p_email text, p_display_name text, p_password_hash text)
    returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_id bigint;
begin
    insert into app.super_admins (email, display_name, password_hash)
    values (p_email, btrim(p_display_name), p_password_hash)
    on conflict (email) do update
        set display_name = excluded.display_name, password_hash = excluded.password_hash, disabled_at = null
    returning id into v_id;
    insert into app.admin_audit (admin_id, action, details)
    values (null, 'admin.add', jsonb_build_object('admin_id', v_id, 'email', p_email, 'via', 'cli'));
    return v_id;
end $$;

create function app_private.disable_super_admin(p_email text) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_id bigint;
begin
    update app.super_admins set disabled_at = now() where email = p_email and disabled_at is null
    returning id into v_id;
    if v_id is null then
        return false;
    end if;
    delete from app.admin_sessions where admin_id = v_id;
    insert into app.admin_audit (admin_id, action, details)
    values (null, 'admin.disable', jsonb_build_object('admin_id', v_id, 'email', p_email, 'via', 'cli'));
    return true;
end $$;

-- Login step 1, as app_private.begin_login: the throttle (5 failures per address, 20 per client
-- address, in 15 minutes) and the stored hash of exactly this enabled account.
create function app_private.admin_begin_login(p_email text, p_ip inet)
    returns table (admin_id bigint, password_hash text, retry_after_seconds integer)
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_window interval := interval '15 minutes';
    v_retry integer := 0;
    v_oldest timestamptz;
begin
    select min(at) into v_oldest from (
        select at from app.admin_login_failures
         where email = p_email and at > now() - v_window order by at desc limit 5) f
     having count(*) >= 5;
    if v_oldest is not null then
        v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + v_window - now()))::integer);
    end if;
    v_oldest := null;
    if p_ip is not null then
        select min(at) into v_oldest from (
            select at from app.admin_login_failures
             where ip = p_ip and at > now() - v_window order by at desc limit 20) f
         having count(*) >= 20;
        if v_oldest is not null then
            v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + v_window - now()))::integer);
        end if;
    end if;
    return query
        select a.id, a.password_hash, greatest(v_retry, 0)
          from (select 1) one
          left join app.super_admins a on a.email = p_email and a.disabled_at is null;
end $$;

-- Login step 2: a failure is counted; a success opens a fresh session (the old cookie's session is
-- dropped) and is recorded in the audit trail.
create function app_private.admin_finish_login(
    p_email text, p_ip inet, p_admin_id bigint, p_ok boolean, p_old_token_hash bytea,
    p_token_hash bytea, p_ttl interval, p_user_agent text
) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not p_ok or p_admin_id is null then
        insert into app.admin_login_failures (email, ip) values (p_email, p_ip);
        return false;
    end if;
    delete from app.admin_login_failures where email = p_email;
    if p_old_token_hash is not null then
        delete from app.admin_sessions where token_hash = p_old_token_hash;
    end if;
    delete from app.admin_sessions where admin_id = p_admin_id and expires_at < now();
    insert into app.admin_sessions (token_hash, admin_id, expires_at, ip, user_agent)
    values (p_token_hash, p_admin_id, now() + p_ttl, p_ip, left(p_user_agent, 300));
    insert into app.admin_audit (admin_id, action, details, ip)
    values (p_admin_id, 'sign_in', jsonb_strip_nulls(jsonb_build_object('user_agent', left(p_user_agent, 200))), p_ip);
    return true;
end $$;

-- Resolves an admin cookie into the request context; the caller sets app.admin_id and the role
-- from these columns in the same statement. A disabled account has no live session.
create function app_private.resolve_admin_session(p_token_hash bytea)
    returns table (admin_id bigint, email text, display_name text, view_tenant_id bigint, db_role text)
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select a.id, a.email, a.display_name, s.view_tenant_id, app_private.config_value('role_superadmin')
      from app.admin_sessions s
      join app.super_admins a on a.id = s.admin_id
     where s.token_hash = p_token_hash and s.expires_at > now() and a.disabled_at is null;
$$;

-- "View as": the shop this admin session opened for support, with the SELECT-only role. Nothing is
-- returned unless the opening was recorded (admin_start_view) for this very session and shop.
create function app_private.resolve_admin_view(p_token_hash bytea, p_tenant_id bigint)
    returns table (
        admin_id bigint, email text, display_name text, tenant_id bigint, tenant_name text,
        tenant_slug text, schema_name text, tenant_status text, shop_locale text, db_role text
    )
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select a.id, a.email, a.display_name, t.id, t.name, t.slug, t.schema_name, t.status, t.locale,
           app_private.config_value('role_support')
      from app.admin_sessions s
      join app.super_admins a on a.id = s.admin_id
      join app.tenants t on t.id = s.view_tenant_id
     where s.token_hash = p_token_hash and s.expires_at > now() and a.disabled_at is null
       and s.view_tenant_id = p_tenant_id;
$$;

-- Opens (p_tenant_id) or closes (null) "view as" for this session, recorded in the audit trail.
create function app_private.admin_start_view(p_token_hash bytea, p_tenant_id bigint) returns boolean
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
    if p_tenant_id is not null and not exists (select 1 from app.tenants where id = p_tenant_id) then
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

create function app_private.end_admin_session(p_token_hash bytea) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_admin bigint;
begin
    delete from app.admin_sessions where token_hash = p_token_hash returning admin_id into v_admin;
    if v_admin is not null then
        insert into app.admin_audit (admin_id, action, ip) values (v_admin, 'sign_out', app_private.admin_client_ip());
    end if;
end $$;

-- Usage of shops for the panel: members, products, sales this month (UTC), last activity (latest
-- sale, audit entry or sign-in) and the size of the shop's schema. Reads every shop schema, so it
-- runs as the definer, only for a request that resolved an admin session, and each shop is read
-- under its own tenant context (its policies stay in force).
create function app_private.admin_shop_usage(p_search text, p_tenant_id bigint, p_limit integer, p_offset integer)
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
         where (p_tenant_id is null or x.id = p_tenant_id)
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

-- A shop's members for its detail page (the panel holds no grant on users or memberships).
create function app_private.admin_shop_members(p_tenant_id bigint)
    returns table (user_id bigint, email text, display_name text, role text, joined_at timestamptz)
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if app.current_admin_id() is null then
        raise exception 'super-admin context required' using errcode = '42501';
    end if;
    return query
        select u.id, u.email, u.display_name, m.role, m.created_at
          from app.memberships m join app.users u on u.id = m.user_id
         where m.tenant_id = p_tenant_id
         order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, u.email;
end $$;
