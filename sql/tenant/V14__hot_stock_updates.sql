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
