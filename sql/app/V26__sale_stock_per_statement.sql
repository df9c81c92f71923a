-- A sale takes its stock in one pass per sale instead of one per line (issue 8: 1,000 five-line
-- sales per second).
--
-- Until now every sale line fired `sale_line_stock`, which inserted one stock movement, whose
-- BEFORE trigger `apply_stock_movement` updated the product: per line two PL/pgSQL calls, two
-- statements started by the executor, and the CHECK constraints of `stock_movements` and of
-- `products` read back from the catalog and prepared (PostgreSQL does that once per statement and
-- table). A profile of the checkout's SQL put 11 % of the database's time in preparing CHECK
-- constraints and 19 % in starting statements (docs/BENCHMARKS.md, "Sales", sixth session).
--
-- `sale_lines_stock` is an AFTER INSERT statement trigger over the inserted lines (a transition
-- table) and does the same work for all of them in two statements:
--   1. it locks the stock-tracked products of the lines, in id order (as the lines themselves
--      were inserted, so two sales never wait on each other crosswise);
--   2. it takes each product's quantity out of stock, writes one `sale` movement per line, in
--      line order, each with the stock it left, by the same user at the same instant as before,
--      and reads back the first product by id that went below zero. When there is one and the
--      shop does not allow it, the sale is refused with the same error as the ledger's
--      (check_violation, constraint `stock_not_negative`, the product id in the message and what
--      it had in the detail: what it has against the sale's whole quantity of it), and the
--      exception undoes the update and the movements.
-- The rows are locked before they are read, so what is checked is what was updated.
--
-- The ledger trigger `stock_movements_apply` now skips `sale` movements (tenant V16 gives it
-- `when (new.kind <> 'sale')`): this function has already applied them. No shop role can write a
-- `sale` movement itself (the `manual_kinds` policy and the grants; tests/role_matrix.rs), so
-- "stock = sum of movements" still holds for every row any request can write. Untracked
-- products still get no movement; an unknown product is refused by the line's foreign key, whose
-- check runs before this trigger.
create function app_private.sale_lines_stock() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_short record;
begin
    perform set_config('search_path', app_private.shop_search_path(tg_table_schema), true);
    perform 1 from products p
     where p.id in (select l.product_id from new_lines l) and p.track_stock
     order by p.id
       for no key update;
    with taken as (
        update products p set stock = p.stock - q.qty
          from (select l.product_id, sum(l.quantity) as qty from new_lines l group by l.product_id) q
         where p.id = q.product_id and p.track_stock
        returning p.id, p.stock, q.qty
    ), moved as (
        insert into stock_movements (product_id, kind, quantity, reason, ref_type, ref_id, stock_after, user_id, at)
        select l.product_id, 'sale', -l.quantity, '', 'sale', l.sale_id,
               t.stock + coalesce(sum(l.quantity) over (partition by l.product_id order by l.id
                                                        rows between 1 following and unbounded following), 0),
               app.current_user_id(), now()
          from new_lines l join taken t on t.id = l.product_id
         order by l.id
    )
    select t.id, t.stock + t.qty as stock into v_short
      from taken t where t.stock < 0 order by t.id limit 1;
    if found and not coalesce((select s.allow_negative_stock from settings s), false) then
        raise exception 'stock of product % would go below zero (available %)', v_short.id, v_short.stock
            using errcode = 'check_violation', constraint = 'stock_not_negative',
                  detail = v_short.stock::text;
    end if;
    return null;
end $$;
revoke all on function app_private.sale_lines_stock() from public;
