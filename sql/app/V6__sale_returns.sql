-- Returns: some units of some lines come back. Each returned line puts its stock back (a
-- 'return' movement) and refunds its share of the line total at the original prices, to the
-- money ledger or the customer's account. A line can never be returned beyond what was sold, and
-- a later void only undoes what was not returned.
create function app_private.apply_sale_return_line() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_sale bigint;
    v_method text;
    v_reason text;
    v_customer bigint;
    v_status text;
    v_line record;
    v_tracked boolean;
begin
    execute format('select r.sale_id, r.method, r.reason, s.customer_id, s.status
                      from %1$I.sale_returns r join %1$I.sales s on s.id = r.sale_id where r.id = $1', tg_table_schema)
       into v_sale, v_method, v_reason, v_customer, v_status using new.return_id;
    if v_status <> 'completed' then
        raise exception 'only a completed sale takes returns' using errcode = 'check_violation',
            constraint = 'sale_returns_completed_only';
    end if;
    execute format('select id, sale_id, product_id, quantity, returned, total from %I.sale_lines where id = $1 for update',
                   tg_table_schema)
       into v_line using new.sale_line_id;
    if v_line.id is null or v_line.sale_id <> v_sale then
        raise exception 'line % is not part of sale %', new.sale_line_id, v_sale using errcode = 'foreign_key_violation',
            constraint = 'sale_return_lines_sale_line_id_fkey';
    end if;
    if v_line.returned + new.quantity > v_line.quantity then
        raise exception 'cannot return more than was sold (% left)', v_line.quantity - v_line.returned
            using errcode = 'check_violation', constraint = 'sale_return_lines_too_many',
                  detail = (v_line.quantity - v_line.returned)::text;
    end if;
    -- the refund is the line's own share at the original prices, never what the client says
    new.amount := round(v_line.total * new.quantity / v_line.quantity, 2);
    execute format('update %I.sale_lines set returned = returned + $1 where id = $2', tg_table_schema)
      using new.quantity, new.sale_line_id;
    execute format('select track_stock from %I.products where id = $1', tg_table_schema)
       into v_tracked using v_line.product_id;
    if v_tracked then
        execute format('insert into %I.stock_movements (product_id, kind, quantity, reason, ref_type, ref_id)
                        values ($1, ''return'', $2, $3, ''sale'', $4)', tg_table_schema)
          using v_line.product_id, new.quantity, v_reason, v_sale;
    end if;
    if new.amount > 0 then
        if v_method = 'account' then
            execute format('insert into %I.customer_ledger (customer_id, kind, amount, sale_id, note)
                            values ($1, ''return'', $2, $3, $4)', tg_table_schema)
              using v_customer, -new.amount, v_sale, v_reason;
        else
            execute format('insert into %I.money_ledger (kind, method, amount, sale_id, customer_id, user_id, description)
                            values (''sale_return'', $1, $2, $3, $4, app.current_user_id(), $5)', tg_table_schema)
              using v_method, -new.amount, v_sale, v_customer, v_reason;
        end if;
    end if;
    return new;
end $$;
