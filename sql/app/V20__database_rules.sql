-- Rules the application enforced alone until now, moved into the database (docs/POLICIES.md,
-- "Rules kept by the database"): the Rust checks stay, for the friendly message, and these are
-- what holds when application code has a bug or SQL is run by hand as a request role.
--   1. Ownership changes hands only through app_private.hand_over_shop (the restrictive policy
--      `owner_by_handover_only` in policies/app.sql refuses role = 'owner' by a plain UPDATE).
--   2. A new purchase invoice names an active supplier, and its new lines active products
--      (corrections of recorded invoices are not asked).
--   3. A unit that is not divisible takes whole quantities wherever people write quantities.
--   4. One throttle function for the login and the password-reset request throttles.
-- The shop-side triggers that use the functions below are created by sql/tenant/V12.

-- 1. Ownership handover ------------------------------------------------------------------------

-- The requesting owner hands the shop in context to another member, who becomes an owner, and
-- becomes an admin, in the caller's transaction. Bound to the request's context (shop and user)
-- and to the membership table: the caller must be an owner of that shop. False when the person
-- is not a member of the shop; 23514 `memberships_already_owner` when they already own it.
create function app_private.hand_over_shop(p_to_user_id bigint) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tenant bigint := app.current_tenant_id();
    v_me bigint := app.current_user_id();
    v_role text;
begin
    -- the caller's own row, locked: two handovers of one shop queue instead of crossing
    perform 1 from app.memberships m
      where m.tenant_id = v_tenant and m.user_id = v_me and m.role = 'owner'
        for update;
    if not found then
        raise exception 'only an owner of the shop in context hands it over'
            using errcode = 'insufficient_privilege';
    end if;
    select m.role into v_role from app.memberships m
     where m.tenant_id = v_tenant and m.user_id = p_to_user_id
       for update;
    if v_role is null then
        return false;
    end if;
    if v_role = 'owner' then
        raise exception 'user % already owns shop %', p_to_user_id, v_tenant
            using errcode = 'check_violation', constraint = 'memberships_already_owner';
    end if;
    -- the same two updates, in the same order, as the members page made before: the audit
    -- trigger writes 'ownership_handover' then 'role_change', both in the caller's name
    update app.memberships set role = 'owner' where tenant_id = v_tenant and user_id = p_to_user_id;
    update app.memberships set role = 'admin' where tenant_id = v_tenant and user_id = v_me;
    return true;
end $$;
revoke all on function app_private.hand_over_shop(bigint) from public;

-- 2. Purchases name active suppliers and products ----------------------------------------------

-- A new invoice (kind 'invoice') names an active supplier. A correction takes the corrected
-- invoice's supplier, which may have been deactivated since: it is not asked. The supplier row is
-- read FOR SHARE, so a deactivation running at the same time waits for this transaction. A
-- supplier this shop cannot see is left to the foreign key and the isolation policy.
create function app_private.purchase_invoice_active_supplier() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_active boolean;
begin
    if new.kind is distinct from 'invoice' then
        return new;
    end if;
    execute format('select active from %I.suppliers where id = $1 for share', tg_table_schema)
       into v_active using new.supplier_id;
    if v_active is false then
        raise exception 'supplier % is deactivated: a new invoice needs an active supplier', new.supplier_id
            using errcode = 'check_violation', constraint = 'purchase_invoices_supplier_active';
    end if;
    return new;
end $$;

-- A new line of an invoice names an active product (the product search offers only those); a
-- correction's line may name a product deactivated since (it takes back what was bought).
create function app_private.purchase_line_active_product() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_kind text;
    v_active boolean;
begin
    execute format('select i.kind, p.active from %1$I.purchase_invoices i, %1$I.products p
                     where i.id = $1 and p.id = $2', tg_table_schema)
       into v_kind, v_active using new.invoice_id, new.product_id;
    if v_kind = 'invoice' and v_active is false then
        raise exception 'product % is inactive: a new invoice line needs an active product', new.product_id
            using errcode = 'check_violation', constraint = 'purchase_invoice_lines_product_active';
    end if;
    return new;
end $$;

-- 3. Whole quantities for units that are not divisible -----------------------------------------

-- One trigger function for every table where people write a quantity of a product: sale lines,
-- the counter's cart, quote lines, purchase invoice lines, return lines, and the stock movements
-- people enter (opening stock, adjustments, stocktakes, imports). A whole quantity passes without
-- a lookup; a fractional one is refused (23514 `<table>_quantity_whole`) when the product's unit
-- is not divisible. Movements derived from lines already checked ('sale', 'purchase', 'return',
-- 'void') are not checked again, so a unit made whole later never blocks receiving, returning or
-- voiding what was recorded before. A product this shop cannot see is left to the foreign key.
create function app_private.quantity_in_whole_units() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_qty numeric;
    v_product bigint;
    v_divisible boolean;
begin
    if tg_table_name = 'stock_movements' then
        if new.kind not in ('opening', 'adjustment', 'stocktake', 'import') then
            return new;
        end if;
        -- a stocktake carries the counted quantity; the movement trigger derives the difference
        v_qty := case when new.kind = 'stocktake' then new.counted else new.quantity end;
    else
        v_qty := new.quantity;
    end if;
    if v_qty is null or v_qty = trunc(v_qty) then
        return new;
    end if;
    if tg_table_name = 'sale_return_lines' then
        execute format('select product_id from %I.sale_lines where id = $1', tg_table_schema)
           into v_product using new.sale_line_id;
    else
        v_product := new.product_id;
    end if;
    execute format('select u.divisible from %1$I.products p join %1$I.units u on u.id = p.unit_id
                     where p.id = $1', tg_table_schema)
       into v_divisible using v_product;
    if v_divisible is false then
        raise exception 'product % is counted in whole units; % is not whole', v_product, v_qty
            using errcode = 'check_violation', constraint = tg_table_name || '_quantity_whole';
    end if;
    return new;
end $$;

-- A product whose unit is not divisible has a whole minimum stock, and moves to such a unit only
-- with whole stock (a new product starts at zero; its opening stock is a movement, checked above).
create function app_private.product_in_whole_units() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_unit_changed boolean;
    v_stock_fraction boolean;
    v_min_fraction boolean;
    v_divisible boolean;
begin
    if tg_op = 'INSERT' then
        v_unit_changed := true;
        v_min_fraction := new.min_stock <> trunc(new.min_stock);
    else
        v_unit_changed := new.unit_id is distinct from old.unit_id;
        v_min_fraction := new.min_stock <> trunc(new.min_stock)
                          and (v_unit_changed or new.min_stock is distinct from old.min_stock);
    end if;
    v_stock_fraction := v_unit_changed and new.stock <> trunc(new.stock);
    if not (v_stock_fraction or v_min_fraction) then
        return new;
    end if;
    execute format('select divisible from %I.units where id = $1', tg_table_schema)
       into v_divisible using new.unit_id;
    if v_divisible is false then
        if v_stock_fraction then
            raise exception 'product % has fractional stock (%): its unit must be divisible', new.id, new.stock
                using errcode = 'check_violation', constraint = 'products_stock_whole';
        end if;
        raise exception 'the minimum stock of a product in whole units is whole (not %)', new.min_stock
            using errcode = 'check_violation', constraint = 'products_min_stock_whole';
    end if;
    return new;
end $$;

-- A unit becomes not divisible only while every product in it has whole stock and minimum, and
-- no open quote (not converted) or draft purchase invoice holds a fraction of one: converting or
-- receiving those later would otherwise be refused. (Counter carts are private to each person,
-- even to this function; a cart line is checked again when its sale is recorded.)
create function app_private.unit_keeps_whole_products() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_fractional boolean;
begin
    if new.divisible or not old.divisible then
        return new;
    end if;
    execute format(
        'select exists (select 1 from %1$I.products p
                         where p.unit_id = $1 and (p.stock <> trunc(p.stock) or p.min_stock <> trunc(p.min_stock)))
             or exists (select 1 from %1$I.quote_lines l join %1$I.quotes q on q.id = l.quote_id
                          join %1$I.products p on p.id = l.product_id
                         where p.unit_id = $1 and q.status <> ''converted'' and l.quantity <> trunc(l.quantity))
             or exists (select 1 from %1$I.purchase_invoice_lines l join %1$I.purchase_invoices i on i.id = l.invoice_id
                          join %1$I.products p on p.id = l.product_id
                         where p.unit_id = $1 and i.status = ''draft'' and l.quantity <> trunc(l.quantity))',
        tg_table_schema)
       into v_fractional using new.id;
    if v_fractional then
        raise exception 'unit % has products with fractional quantities in stock, open quotes or draft invoices: it must stay divisible', new.code
            using errcode = 'check_violation', constraint = 'units_whole_products';
    end if;
    return new;
end $$;

revoke all on function app_private.purchase_invoice_active_supplier() from public;
revoke all on function app_private.purchase_line_active_product() from public;
revoke all on function app_private.quantity_in_whole_units() from public;
revoke all on function app_private.product_in_whole_units() from public;
revoke all on function app_private.unit_keeps_whole_products() from public;

-- 4. One throttle ------------------------------------------------------------------------------

-- Seconds until another attempt is allowed, 0 when it is allowed now. `p_log` is an attempt log
-- with columns (email, ip, at): app.login_failures or app.password_reset_requests. Each key, the
-- e-mail and (when known) the client address, may have at most its limit of attempts within
-- `p_window`; once it has them, it waits until the oldest of those leaves the window. The table
-- name comes from the caller's regclass, never from user text.
create function app_private.throttle_retry_after(
    p_log regclass, p_email text, p_ip inet, p_window interval, p_per_email integer, p_per_ip integer
) returns integer
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
    as $$
declare
    -- the oldest of the key's latest `limit` attempts in the window, when it has that many
    v_oldest_of_latest constant text := 'select min(at) from (select at from %s where %I = $1 and at > now() - $2
                                                               order by at desc limit $3) f
                                          having count(*) >= $3';
    v_retry integer := 0;
    v_oldest timestamptz;
begin
    execute format(v_oldest_of_latest, p_log, 'email') into v_oldest using p_email, p_window, p_per_email;
    if v_oldest is not null then
        v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + p_window - now()))::integer);
    end if;
    if p_ip is not null then
        execute format(v_oldest_of_latest, p_log, 'ip') into v_oldest using p_ip, p_window, p_per_ip;
        if v_oldest is not null then
            v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + p_window - now()))::integer);
        end if;
    end if;
    return greatest(v_retry, 0);
end $$;
revoke all on function app_private.throttle_retry_after(regclass, text, inet, interval, integer, integer) from public;

-- Login step 1, as in V1: at most 5 failures per e-mail and 20 per client address in 15 minutes.
create or replace function app_private.begin_login(p_email text, p_ip inet)
    returns table (user_id bigint, password_hash text, retry_after_seconds integer)
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_retry integer := app_private.throttle_retry_after(
        'app.login_failures', p_email, p_ip, interval '15 minutes', 5, 20);
begin
    return query
        select u.id, u.password_hash, v_retry
          from (select 1) one
          left join app.users u on u.email = p_email;
end $$;

-- A reset request, as in V9: at most 3 per e-mail and 10 per client address an hour. When
-- allowed, records a token for the account with that e-mail (if any) and returns who to write to.
create or replace function app_private.request_password_reset(
    p_email text, p_ip inet, p_token_hash bytea, p_ttl interval
) returns table (retry_after_seconds integer, user_id bigint, display_name text, locale text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_window interval := interval '1 hour';
    v_retry integer := app_private.throttle_retry_after(
        'app.password_reset_requests', p_email, p_ip, v_window, 3, 10);
begin
    if v_retry > 0 then
        return query select v_retry, null::bigint, null::text, null::text;
        return;
    end if;
    delete from app.password_reset_requests where at < now() - v_window;
    insert into app.password_reset_requests (email, ip) values (p_email, p_ip);
    delete from app.password_resets r where r.expires_at < now() - interval '1 day';
    insert into app.password_resets (token_hash, user_id, expires_at, ip)
    select p_token_hash, u.id, now() + p_ttl, p_ip from app.users u where u.email = p_email;
    return query
        select 0, u.id, u.display_name, u.locale
          from (select 1) one left join app.users u on u.email = p_email;
end $$;
