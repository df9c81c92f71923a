-- The whole-units rule is called only when it can refuse something (issue 8: less work per sale
-- line). `app_private.quantity_in_whole_units` returns at once for a whole quantity and, on
-- stock movements, for every kind but those people enter; calling it anyway cost a PL/pgSQL call
-- with a search_path switch for every sale line, cart line and stock movement. The same tests
-- now sit in each trigger's WHEN clause, so PostgreSQL skips the call; the function itself is
-- unchanged and still decides (a product's unit, the constraint `<table>_quantity_whole`).
drop trigger sale_lines_quantity_whole on sale_lines;
create trigger sale_lines_quantity_whole before insert on sale_lines
    for each row when (new.quantity <> trunc(new.quantity))
    execute function app_private.quantity_in_whole_units();
drop trigger sale_draft_lines_quantity_whole on sale_draft_lines;
create trigger sale_draft_lines_quantity_whole before insert or update of product_id, quantity on sale_draft_lines
    for each row when (new.quantity <> trunc(new.quantity))
    execute function app_private.quantity_in_whole_units();
drop trigger quote_lines_quantity_whole on quote_lines;
create trigger quote_lines_quantity_whole before insert or update of product_id, quantity on quote_lines
    for each row when (new.quantity <> trunc(new.quantity))
    execute function app_private.quantity_in_whole_units();
drop trigger purchase_invoice_lines_quantity_whole on purchase_invoice_lines;
create trigger purchase_invoice_lines_quantity_whole before insert on purchase_invoice_lines
    for each row when (new.quantity <> trunc(new.quantity))
    execute function app_private.quantity_in_whole_units();
drop trigger sale_return_lines_quantity_whole on sale_return_lines;
create trigger sale_return_lines_quantity_whole before insert on sale_return_lines
    for each row when (new.quantity <> trunc(new.quantity))
    execute function app_private.quantity_in_whole_units();
-- movements derived from lines already checked (sale, purchase, return, void) are never checked
drop trigger stock_movements_quantity_whole on stock_movements;
create trigger stock_movements_quantity_whole before insert on stock_movements
    for each row when (new.kind in ('opening', 'adjustment', 'stocktake', 'import'))
    execute function app_private.quantity_in_whole_units();
