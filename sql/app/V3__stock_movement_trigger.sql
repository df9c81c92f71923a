-- The one place stock changes. Runs as the schema owner so that a role allowed to insert a
-- movement (or, later, a sale line) moves stock without holding UPDATE on products; the row lock
-- taken by the UPDATE serialises concurrent movements of the same product.
create function app_private.apply_stock_movement() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_stock numeric;
    v_tracked boolean;
    v_allow_negative boolean;
begin
    execute format('select stock, track_stock from %I.products where id = $1 for no key update', tg_table_schema)
       into v_stock, v_tracked using new.product_id;
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
    execute format('select allow_negative_stock from %I.settings', tg_table_schema) into v_allow_negative;
    -- only a movement that lowers stock can be refused: a purchase, return or count must always
    -- be able to bring a negative stock back up
    if new.quantity < 0 and v_stock + new.quantity < 0 and not coalesce(v_allow_negative, false) then
        raise exception 'stock of product % would go below zero (available %)', new.product_id, v_stock
            using errcode = 'check_violation', constraint = 'stock_not_negative',
                  detail = v_stock::text;
    end if;
    execute format('update %I.products set stock = stock + $1 where id = $2 returning stock', tg_table_schema)
       into new.stock_after using new.quantity, new.product_id;
    new.user_id := app.current_user_id();
    new.at := now();
    return new;
end $$;
