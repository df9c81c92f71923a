-- Plan limits enforced where the rows are written (issue 10): members (app.memberships, and an
-- early refusal of invitations), active products and sales per calendar month (triggers of every
-- shop schema, sql/tenant/V11__plan_limits.sql). docs/PLANS.md says what counts and why.
--
-- How a check works, for every limit:
--  1. one indexed lookup of the shop's plan (app.subscriptions joined with app.plans); a null
--     limit (PRO) ends the check there: no lock, no count;
--  2. otherwise a transaction-level advisory lock per shop and limit serializes the writers of
--     that shop (and only them), then a fresh statement counts the rows, which sees every row
--     committed by a writer that held the lock before (READ COMMITTED takes a new snapshot per
--     statement inside a volatile function), plus this transaction's own;
--  3. a count above the limit raises SQLSTATE LM001 with the limit, plan and numbers in the
--     error fields; the statement fails and nothing is written.
-- The count is taken after the rows are in, and only statements that add rows are checked, so
-- a shop already above a lower limit (a downgrade) keeps its rows and only new ones are refused.
-- Superuser sessions (the operator's CLI: restore, clone, `stock user add`) are not limited: a
-- restore brings a shop back as it was archived, members included.

-- The plan that applies to a shop now, whatever the subscription's status. A shop without a
-- subscription (none is created without one: app_private.start_subscription) has no limits.
create function app_private.shop_plan(p_tenant_id bigint)
    returns table (plan_code text, plan_name text, max_members integer, max_products integer,
                   max_monthly_sales integer)
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select p.code, p.name, p.max_members, p.max_products, p.max_monthly_sales
      from app.subscriptions s join app.plans p on p.code = s.plan_code
     where s.tenant_id = p_tenant_id
$$;
revoke all on function app_private.shop_plan(bigint) from public;

-- Serializes the writers of one shop for one limit until the end of their transactions.
create function app_private.lock_plan_limit(p_tenant_id bigint, p_limit text) returns void
    language sql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select pg_advisory_xact_lock(hashtext('stock.plan_limit.' || p_limit), (p_tenant_id % 2147483647)::integer)
$$;
revoke all on function app_private.lock_plan_limit(bigint, text) from public;

-- True for a superuser session (operators' tools); see the header.
create function app_private.limits_exempt() returns boolean
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select coalesce((select r.rolsuper from pg_catalog.pg_roles r where r.rolname = session_user), false)
$$;
revoke all on function app_private.limits_exempt() from public;

-- The error every limit raises. Fields: SQLSTATE LM001, CONSTRAINT plan_limit_<limit>, TABLE the
-- table written, DETAIL a JSON object {limit, plan, plan_name, max, count} read by the web app
-- (src/domain/limits.rs) to say, in the person's language, which limit of which plan was reached.
create function app_private.raise_plan_limit(
    p_limit text, p_plan_code text, p_plan_name text, p_max integer, p_count bigint, p_table text
) returns void
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    raise exception 'plan limit reached: the % plan allows % %', p_plan_name, p_max,
            replace(p_limit, '_', ' ')
        using errcode = 'LM001',
              constraint = 'plan_limit_' || p_limit,
              table = p_table,
              detail = jsonb_build_object('limit', p_limit, 'plan', p_plan_code, 'plan_name', p_plan_name,
                                          'max', p_max, 'count', p_count)::text,
              hint = 'remove or deactivate rows, or move the shop to a larger plan';
end $$;
revoke all on function app_private.raise_plan_limit(text, text, text, integer, bigint, text) from public;

-- The start of the current calendar month in a time zone, as an instant.
create function app_private.month_start(p_time_zone text) returns timestamptz
    language sql stable
    set search_path = pg_catalog, pg_temp
    as $$ select date_trunc('month', now() at time zone p_time_zone) at time zone p_time_zone $$;
revoke all on function app_private.month_start(text) from public;

-- Members: AFTER INSERT ... FOR EACH STATEMENT on app.memberships (sign-up's first member,
-- accepted invitations, the CLI). Shops in tenant id order, so two statements lock alike.
create function app_private.memberships_plan_limit() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    r record;
    p record;
    v_count bigint;
begin
    for r in select distinct tenant_id from inserted order by tenant_id loop
        select * into p from app_private.shop_plan(r.tenant_id);
        continue when p.max_members is null or app_private.limits_exempt();
        perform app_private.lock_plan_limit(r.tenant_id, 'members');
        select count(*) into v_count from app.memberships m where m.tenant_id = r.tenant_id;
        if v_count > p.max_members then
            perform app_private.raise_plan_limit('members', p.plan_code, p.plan_name, p.max_members,
                                                 v_count, 'memberships');
        end if;
    end loop;
    return null;
end $$;
revoke all on function app_private.memberships_plan_limit() from public;

create trigger memberships_plan_limit after insert on app.memberships
    referencing new table as inserted
    for each statement execute function app_private.memberships_plan_limit();

-- Invitations are refused early: members plus open, unexpired invitations plus this one may not
-- exceed the plan's members (an accepted invitation becomes a member; the membership trigger
-- above stays the guarantee, e.g. for an invitation resent after a downgrade).
create function app_private.invitations_plan_limit() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    p record;
    v_count bigint;
begin
    select * into p from app_private.shop_plan(new.tenant_id);
    if p.max_members is null or app_private.limits_exempt() then
        return new;
    end if;
    perform app_private.lock_plan_limit(new.tenant_id, 'members');
    select (select count(*) from app.memberships m where m.tenant_id = new.tenant_id)
         + (select count(*) from app.invitations i
             where i.tenant_id = new.tenant_id and i.accepted_at is null and i.revoked_at is null
               and i.expires_at > now())
         + 1
      into v_count;
    if v_count > p.max_members then
        perform app_private.raise_plan_limit('members', p.plan_code, p.plan_name, p.max_members,
                                             v_count, 'invitations');
    end if;
    return new;
end $$;
revoke all on function app_private.invitations_plan_limit() from public;

create trigger invitations_plan_limit before insert on app.invitations
    for each row execute function app_private.invitations_plan_limit();

-- Products (active ones) of a shop schema, after a statement that inserted active products or
-- reactivated some. The schema's tenant id comes from its name (tenants_schema_name_check).
create function app_private.check_products_limit(p_schema text) returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tenant bigint := substr(p_schema, 8)::bigint;
    v_prev_tenant text := current_setting('app.tenant_id', true);
    p record;
    v_count bigint;
begin
    select * into p from app_private.shop_plan(v_tenant);
    if p.max_products is null or app_private.limits_exempt() then
        return;
    end if;
    perform app_private.lock_plan_limit(v_tenant, 'products');
    -- the shop's rows are visible only in its own context (tenant_isolation binds the definer too)
    perform set_config('app.tenant_id', v_tenant::text, true);
    execute format('select count(*) from %I.products where active', p_schema) into v_count;
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
    if v_count > p.max_products then
        perform app_private.raise_plan_limit('products', p.plan_code, p.plan_name, p.max_products,
                                             v_count, 'products');
    end if;
end $$;
revoke all on function app_private.check_products_limit(text) from public;

-- AFTER INSERT ... FOR EACH STATEMENT (transition table `inserted`): counted once per statement,
-- so a CSV import of thousands of rows costs one count. An upsert's reactivations set the flag
-- below, so they are checked here as well.
create function app_private.products_plan_limit_insert() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_grew boolean := coalesce(current_setting('stock_limits.products_reactivated', true), '') = 'on';
begin
    perform set_config('stock_limits.products_reactivated', '', true);
    if v_grew or exists (select 1 from inserted where active) then
        perform app_private.check_products_limit(tg_table_schema);
    end if;
    return null;
end $$;
revoke all on function app_private.products_plan_limit_insert() from public;

-- A product made active again counts again. Stock movements update products on every sale, so
-- the per-row trigger has a WHEN clause (evaluated without calling any function) and only marks
-- the statement; the statement-level trigger below counts once.
create function app_private.products_reactivated() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform set_config('stock_limits.products_reactivated', 'on', true);
    return null;
end $$;
revoke all on function app_private.products_reactivated() from public;

create function app_private.products_plan_limit_update() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if coalesce(current_setting('stock_limits.products_reactivated', true), '') = 'on' then
        perform set_config('stock_limits.products_reactivated', '', true);
        perform app_private.check_products_limit(tg_table_schema);
    end if;
    return null;
end $$;
revoke all on function app_private.products_plan_limit_update() from public;

-- Sales: AFTER INSERT ... FOR EACH STATEMENT on a shop's sales. The hot path: with no limit this
-- is one indexed lookup and no lock. Every sale recorded in the shop's calendar month counts,
-- voided ones included (a void does not give the sale back).
create function app_private.sales_plan_limit() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tenant bigint := substr(tg_table_schema, 8)::bigint;
    v_prev_tenant text;
    v_zone text;
    v_count bigint;
    p record;
begin
    -- app_private.shop_plan's query, inline: a SECURITY DEFINER function with its own
    -- search_path costs a role and settings switch per call, and this runs for every sale
    select pl.code as plan_code, pl.name as plan_name, pl.max_monthly_sales into p
      from app.subscriptions s join app.plans pl on pl.code = s.plan_code
     where s.tenant_id = v_tenant;
    if p.max_monthly_sales is null then
        return null;
    end if;
    if not exists (select 1 from inserted) or app_private.limits_exempt() then
        return null;
    end if;
    perform app_private.lock_plan_limit(v_tenant, 'monthly_sales');
    v_prev_tenant := current_setting('app.tenant_id', true);
    perform set_config('app.tenant_id', v_tenant::text, true);
    execute format('select time_zone from %I.settings', tg_table_schema) into v_zone;
    execute format('select count(*) from %I.sales where created_at >= $1', tg_table_schema)
       into v_count using app_private.month_start(v_zone);
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
    if v_count > p.max_monthly_sales then
        perform app_private.raise_plan_limit('monthly_sales', p.plan_code, p.plan_name, p.max_monthly_sales,
                                             v_count, 'sales');
    end if;
    return null;
end $$;
revoke all on function app_private.sales_plan_limit() from public;

-- The plan and usage of the shop in context, for its settings page: members, active products and
-- this calendar month's sales (shop time zone) against the plan's limits (null: no limit).
create function app_private.shop_plan_usage()
    returns table (plan_code text, plan_name text, status text, trial_ends_on date,
                   max_members integer, members bigint, max_products integer, products bigint,
                   max_monthly_sales integer, monthly_sales bigint)
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tenant bigint := app.current_tenant_id();
    v_schema text;
    v_zone text;
    v_products bigint;
    v_sales bigint;
begin
    select t.schema_name into v_schema from app.tenants t where t.id = v_tenant and t.status = 'active';
    if v_schema is null then
        return;
    end if;
    execute format('select time_zone from %I.settings', v_schema) into v_zone;
    execute format('select count(*) from %I.products where active', v_schema) into v_products;
    execute format('select count(*) from %I.sales where created_at >= $1', v_schema)
       into v_sales using app_private.month_start(v_zone);
    return query
        select p.code, p.name, s.status, s.trial_ends_on,
               p.max_members, (select count(*) from app.memberships m where m.tenant_id = v_tenant),
               p.max_products, v_products, p.max_monthly_sales, v_sales
          from app.subscriptions s join app.plans p on p.code = s.plan_code
         where s.tenant_id = v_tenant;
end $$;
revoke all on function app_private.shop_plan_usage() from public;
