-- Stock updates become HOT (issue 8: fewer database CPU per sale).
--
-- Every sale line moves stock with one UPDATE of its product row. Two things made each of those
-- updates write a new entry into all eight indexes of `products` (the trigram GIN index on the
-- name included) and recompute the folded name:
--   * the partial index `products_low_stock_idx` on the expression `(stock - min_stock)`: an
--     update that changes an indexed column (here: a column an index expression reads) can never
--     be a heap-only tuple (HOT) update;
--   * the BEFORE UPDATE row trigger `products_whole_units`: while a table has one, PostgreSQL
--     recomputes every stored generated column (`name_search = app.fold(name)`) on every update.
--
-- Now the dashboard's low-stock list reads a stored generated column that is null while a product
-- is above its minimum and `stock - min_stock` when at or below it, so a stock change of a product
-- above its minimum leaves every indexed value as it was (HOT); the index has the same order
-- (`stock - min_stock, id`) and the list still stops after ten entries. A product at or below its
-- minimum still updates that index entry (those are the rows the list shows). The table keeps 10 %
-- of each page free for the new row versions (fillfactor, applied by the rewrite below), and the
-- unit rule runs as an AFTER trigger (it only checks; same error, same constraint name).
alter table products
    set (fillfactor = 90),
    add column low_stock_gap numeric
        generated always as (case when stock <= min_stock then stock - min_stock end) stored;

drop index products_low_stock_idx;
create index products_low_stock_idx on products (low_stock_gap, id)
    where active and track_stock and low_stock_gap is not null;

drop trigger products_whole_units on products;
create trigger products_whole_units after insert or update of unit_id, min_stock on products
    for each row execute function app_private.product_in_whole_units();

-- The deferred "sale is whole" check runs once per sale instead of once per sale, line and payment
-- (seven times for a five-line sale paid in one go).
--
-- The check queued by the sale's own row (`sales_whole`, unchanged) runs at commit (or at the end
-- of the statement under SET CONSTRAINTS ... IMMEDIATE) and sums every line and payment the sale
-- has then. A line or a payment inserted by the same statement as its sale is therefore already
-- covered: that statement's check cannot run before the statement has inserted all its rows. The
-- line and payment triggers now queue their own check only when the row was NOT inserted by the
-- same statement (same transaction id, same command id) as its sale: a line or payment added to
-- an earlier sale, or in a later statement of the same transaction, is checked at commit as
-- before. The test reads only what PostgreSQL itself stamps on the rows (xmin, cmin), never a
-- value a session can set, and a sale row already updated or locked in this transaction
-- (xmax set; its cmin may then be a combo id) always gets the check. When the sale is not
-- visible to the inserting role the line is checked too. WHEN clauses of constraint triggers are
-- evaluated when the row is inserted, not at commit; the function is volatile so that it sees the
-- sale inserted earlier by the same statement. Its search_path is fixed to this shop's schema.
create function sale_whole_unchecked(p_sale bigint, p_xmin xid, p_cmin cid) returns boolean
    language plpgsql volatile
    set search_path from current
    as $$
begin
    return not exists (select from sales s
                        where s.id = p_sale and s.xmin = p_xmin and s.cmin = p_cmin and s.xmax = '0'::xid);
end $$;

drop trigger sale_lines_whole on sale_lines;
create constraint trigger sale_lines_whole after insert on sale_lines
    deferrable initially deferred
    for each row when (sale_whole_unchecked(new.sale_id, new.xmin, new.cmin))
    execute function app_private.sale_part_is_whole();
drop trigger sale_payments_whole on sale_payments;
create constraint trigger sale_payments_whole after insert on sale_payments
    deferrable initially deferred
    for each row when (sale_whole_unchecked(new.sale_id, new.xmin, new.cmin))
    execute function app_private.sale_part_is_whole();
