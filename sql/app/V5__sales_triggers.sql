-- Triggers of the sales module. Each runs as the schema owner so that the role recording a sale
-- (staff included) moves stock and money only through these paths, never by writing the ledgers
-- or products directly. Every statement names the shop's schema from TG_TABLE_SCHEMA.

-- The final-consumer customer cannot be deleted, lose its mark, or be deactivated (the counter
-- sells to it by default).
create function app_private.keep_final_consumer() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if old.is_final_consumer and (tg_op = 'DELETE' or not new.is_final_consumer or not new.active) then
        raise exception 'the final consumer customer cannot be removed' using errcode = 'check_violation',
            constraint = 'customers_final_consumer_kept';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end $$;

-- A customer ledger entry moves the customer's balance (positive: they owe more). A payment may
-- not exceed what is owed.
create function app_private.apply_customer_entry() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_balance numeric;
    v_final boolean;
begin
    execute format('select balance, is_final_consumer from %I.customers where id = $1 for no key update', tg_table_schema)
       into v_balance, v_final using new.customer_id;
    if v_balance is null then
        raise exception 'customer % does not exist', new.customer_id using errcode = 'foreign_key_violation',
            constraint = 'customer_ledger_customer_id_fkey';
    end if;
    if v_final and new.kind in ('sale', 'payment', 'opening') then
        raise exception 'the final consumer has no account' using errcode = 'check_violation',
            constraint = 'customer_ledger_final_consumer';
    end if;
    if new.kind = 'payment' and v_balance + new.amount < 0 then
        raise exception 'payment exceeds what is owed (%)', v_balance using errcode = 'check_violation',
            constraint = 'customer_payment_exceeds_debt', detail = v_balance::text;
    end if;
    execute format('update %I.customers set balance = balance + $1 where id = $2 returning balance', tg_table_schema)
       into new.balance_after using new.amount, new.customer_id;
    new.user_id := app.current_user_id();
    new.at := now();
    return new;
end $$;

-- A sale line takes its quantity out of stock (stock-tracked products only), through the ledger.
create function app_private.sale_line_stock() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_tracked boolean;
begin
    execute format('select track_stock from %I.products where id = $1', tg_table_schema)
       into v_tracked using new.product_id;
    if v_tracked then
        execute format('insert into %I.stock_movements (product_id, kind, quantity, reason, ref_type, ref_id)
                        values ($1, ''sale'', $2, '''', ''sale'', $3)', tg_table_schema)
          using new.product_id, -new.quantity, new.sale_id;
    end if;
    return null;
end $$;

-- A payment is income in the money ledger when it happens, or a debt on the customer's account.
create function app_private.sale_payment_books() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_customer bigint;
begin
    execute format('select customer_id from %I.sales where id = $1', tg_table_schema) into v_customer using new.sale_id;
    if new.method = 'account' then
        execute format('insert into %I.customer_ledger (customer_id, kind, amount, sale_id) values ($1, ''sale'', $2, $3)',
                       tg_table_schema)
          using v_customer, new.amount, new.sale_id;
    else
        execute format('insert into %I.money_ledger (kind, method, amount, sale_id, customer_id, user_id)
                        values (''sale'', $1, $2, $3, $4, app.current_user_id())', tg_table_schema)
          using new.method, new.amount, new.sale_id, v_customer;
    end if;
    return null;
end $$;

-- At commit: a sale's lines and payments add up to its total (whatever the client sent). One
-- check, called when the sale is inserted and when a line or payment is added to any sale.
create function app_private.check_sale_whole(p_schema text, p_sale bigint) returns void
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_total numeric;
    v_lines numeric;
    v_paid numeric;
begin
    execute format('select total from %I.sales where id = $1', p_schema) into v_total using p_sale;
    execute format('select coalesce(sum(total), 0) from %I.sale_lines where sale_id = $1', p_schema)
       into v_lines using p_sale;
    execute format('select coalesce(sum(amount), 0) from %I.sale_payments where sale_id = $1', p_schema)
       into v_paid using p_sale;
    if v_lines <> v_total or v_paid <> v_total then
        raise exception 'sale % is not whole: lines %, payments %, total %', p_sale, v_lines, v_paid, v_total
            using errcode = 'check_violation', constraint = 'sales_whole';
    end if;
end $$;

create function app_private.sale_is_whole() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform app_private.check_sale_whole(tg_table_schema, new.id);
    return null;
end $$;

-- Voiding undoes every effect of the sale exactly once: the status moves completed → voided one
-- time only, and this trigger posts the stock back and reverses money and account entries.
create function app_private.sale_void() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if old.status <> 'completed' or new.status <> 'voided' then
        raise exception 'only a completed sale can be voided' using errcode = 'check_violation',
            constraint = 'sales_void_once';
    end if;
    new.voided_at := now();
    new.voided_by := app.current_user_id();
    execute format('insert into %1$I.stock_movements (product_id, kind, quantity, reason, ref_type, ref_id)
                    select l.product_id, ''void'', l.quantity - l.returned, $2, ''sale'', l.sale_id
                      from %1$I.sale_lines l join %1$I.products p on p.id = l.product_id
                     where l.sale_id = $1 and p.track_stock and l.quantity > l.returned
                     order by l.product_id', tg_table_schema)
      using new.id, coalesce(new.void_reason, '');
    execute format('insert into %1$I.money_ledger (kind, method, amount, sale_id, customer_id, user_id, description)
                    select ''sale_void'', m.method, -sum(m.amount), m.sale_id, max(m.customer_id), app.current_user_id(), $2
                      from %1$I.money_ledger m where m.sale_id = $1 and m.kind in (''sale'', ''sale_return'')
                     group by m.sale_id, m.method having sum(m.amount) <> 0', tg_table_schema)
      using new.id, coalesce(new.void_reason, '');
    execute format('insert into %1$I.customer_ledger (customer_id, kind, amount, sale_id, note)
                    select c.customer_id, ''void'', -sum(c.amount), c.sale_id, $2
                      from %1$I.customer_ledger c where c.sale_id = $1
                     group by c.customer_id, c.sale_id having sum(c.amount) <> 0', tg_table_schema)
      using new.id, coalesce(new.void_reason, '');
    return new;
end $$;

-- A line or a payment inserted into a sale (a recorded one included) is checked at commit too:
-- its sale must still be whole.
create function app_private.sale_part_is_whole() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform app_private.check_sale_whole(tg_table_schema, new.sale_id);
    return null;
end $$;
