-- The sale path without re-planning (issue 8: 1,000 five-line sales per second).
--
-- The trigger functions of a sale named the shop's tables through `execute format('%I.…',
-- tg_table_schema)`: PL/pgSQL never caches the plan of an EXECUTE, so each of those statements
-- was parsed and planned every time it ran: 53 times for one five-line cash sale (per line: the
-- cost, the tracked flag, the movement insert, the product lock, the settings, the stock update,
-- and three sums of the deferred "sale is whole" check; plus the sale's and the payment's).
--
-- Here the same functions point their own search_path at the shop's schema for the duration of
-- the call and run static SQL, whose plans PL/pgSQL keeps per connection. PostgreSQL re-plans a
-- cached statement when search_path differs from the one it was planned under, so a connection
-- serving another shop re-plans (as EXECUTE always did) and never reuses a plan of the wrong
-- schema. The search_path is `pg_catalog, <shop schema>, pg_temp`: the catalog first and the
-- temporary schema last, so neither a temporary table nor anything but the shop's own tables
-- (created only by the schema owner) can be picked up. Each function keeps its
-- `set search_path = pg_catalog, pg_temp` clause: PostgreSQL restores the caller's value when
-- the function returns, so the switch never leaks into the request's transaction.
--
-- The guarantees are unchanged: the product row is locked by the stock UPDATE itself (a
-- concurrent movement of the same product waits and then re-checks the condition on the new
-- row version), stock never goes below zero unless the shop allows it (only movements that
-- lower stock are checked), the error codes, constraint names and details are the same.
-- The settings row is now read only when a movement would take stock below zero.

-- The schema of a shop as a search_path: the catalog first, the temporary schema last.
create function app_private.shop_search_path(p_schema text) returns text
    language sql immutable strict
    set search_path = pg_catalog, pg_temp
    as $$ select 'pg_catalog, ' || quote_ident(p_schema) || ', pg_temp' $$;
revoke all on function app_private.shop_search_path(text) from public;

create or replace function app_private.apply_stock_movement() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_stock numeric;
    v_tracked boolean;
    v_allow_negative boolean;
begin
    perform set_config('search_path', app_private.shop_search_path(tg_table_schema), true);
    if new.kind <> 'stocktake' then
        -- one statement: the UPDATE locks the row; a concurrent movement of the same product waits
        -- for it and then re-evaluates the condition on the row it committed
        update products p set stock = p.stock + new.quantity
         where p.id = new.product_id and p.track_stock
           and (new.quantity >= 0 or p.stock + new.quantity >= 0
                or coalesce((select s.allow_negative_stock from settings s), false))
        returning p.stock into new.stock_after;
        if found then
            new.user_id := app.current_user_id();
            new.at := now();
            return new;
        end if;
        -- refused: say why (the row is locked now when it exists, so the figure is current)
        select p.stock, p.track_stock into v_stock, v_tracked from products p where p.id = new.product_id
           for no key update;
    else
        select p.stock, p.track_stock into v_stock, v_tracked from products p where p.id = new.product_id
           for no key update;
    end if;
    if v_stock is null then
        raise exception 'product % does not exist', new.product_id using errcode = 'foreign_key_violation',
            constraint = 'stock_movements_product_id_fkey';
    end if;
    if not v_tracked then
        raise exception 'product % is not stock-tracked', new.product_id using errcode = 'check_violation',
            constraint = 'stock_movements_untracked';
    end if;
    if new.kind = 'stocktake' then
        if new.counted is null then
            raise exception 'a stocktake movement needs the counted quantity' using errcode = 'not_null_violation';
        end if;
        new.quantity := new.counted - v_stock;
        if new.quantity = 0 then
            return null; -- nothing to post
        end if;
    end if;
    select s.allow_negative_stock into v_allow_negative from settings s;
    -- only a movement that lowers stock can be refused: a purchase, return or count must always
    -- be able to bring a negative stock back up
    if new.quantity < 0 and v_stock + new.quantity < 0 and not coalesce(v_allow_negative, false) then
        raise exception 'stock of product % would go below zero (available %)', new.product_id, v_stock
            using errcode = 'check_violation', constraint = 'stock_not_negative',
                  detail = v_stock::text;
    end if;
    update products p set stock = p.stock + new.quantity where p.id = new.product_id
    returning p.stock into new.stock_after;
    new.user_id := app.current_user_id();
    new.at := now();
    return new;
end $$;

-- A sale line takes its quantity out of stock (stock-tracked products only), through the ledger.
-- One statement: an untracked (or unknown) product inserts nothing here; the line's foreign key
-- refuses an unknown product.
create or replace function app_private.sale_line_stock() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform set_config('search_path', app_private.shop_search_path(tg_table_schema), true);
    insert into stock_movements (product_id, kind, quantity, reason, ref_type, ref_id)
    select p.id, 'sale', -new.quantity, '', 'sale', new.sale_id
      from products p where p.id = new.product_id and p.track_stock;
    return null;
end $$;

create or replace function app_private.sale_line_cost() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform set_config('search_path', app_private.shop_search_path(tg_table_schema), true);
    new.unit_cost := coalesce((select p.cost from products p where p.id = new.product_id), 0);
    return new;
end $$;

create or replace function app_private.sale_payment_books() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform set_config('search_path', app_private.shop_search_path(tg_table_schema), true);
    if new.method = 'account' then
        insert into customer_ledger (customer_id, kind, amount, sale_id)
        values ((select s.customer_id from sales s where s.id = new.sale_id), 'sale', new.amount, new.sale_id);
    else
        insert into money_ledger (kind, method, amount, sale_id, customer_id, user_id)
        values ('sale', new.method, new.amount, new.sale_id, (select s.customer_id from sales s where s.id = new.sale_id),
                app.current_user_id());
    end if;
    return null;
end $$;

-- At commit: a sale's lines and payments add up to its total. One statement instead of three.
create or replace function app_private.check_sale_whole(p_schema text, p_sale bigint) returns void
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_total numeric;
    v_lines numeric;
    v_paid numeric;
begin
    perform set_config('search_path', app_private.shop_search_path(p_schema), true);
    select s.total,
           coalesce((select sum(l.total) from sale_lines l where l.sale_id = s.id), 0),
           coalesce((select sum(m.amount) from sale_payments m where m.sale_id = s.id), 0)
      into v_total, v_lines, v_paid
      from sales s where s.id = p_sale;
    if v_lines <> v_total or v_paid <> v_total then
        raise exception 'sale % is not whole: lines %, payments %, total %', p_sale, v_lines, v_paid, v_total
            using errcode = 'check_violation', constraint = 'sales_whole';
    end if;
end $$;
