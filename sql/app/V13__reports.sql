-- Reports: a sale line records the product's unit cost at the moment it is sold, so margins use
-- the cost of that day, not today's. The trigger overwrites whatever the client sent (no role
-- has an INSERT grant on the column anyway). SECURITY DEFINER so that the counter never needs a
-- grant on products.cost, whatever the catalog grants become; it reads the product under the
-- caller's tenant context (RLS is forced for the schema owner too).
create function app_private.sale_line_cost() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_cost numeric(12, 2);
begin
    execute format('select cost from %I.products where id = $1', tg_table_schema)
       into v_cost using new.product_id;
    new.unit_cost := coalesce(v_cost, 0);
    return new;
end $$;
revoke all on function app_private.sale_line_cost() from public;
