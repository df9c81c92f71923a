-- Rules the application enforced alone until now, kept by the shop's own tables (the functions
-- are in sql/app/V20__database_rules.sql; docs/POLICIES.md, "Rules kept by the database").
-- Each refusal is a check_violation (23514) naming the rule as its constraint, which the app
-- turns into a message next to the field.

-- A new invoice names an active supplier; a new invoice line an active product.
create trigger purchase_invoices_supplier_active before insert on purchase_invoices
    for each row execute function app_private.purchase_invoice_active_supplier();
create trigger purchase_invoice_lines_product_active before insert on purchase_invoice_lines
    for each row execute function app_private.purchase_line_active_product();

-- Units that are not divisible take whole quantities (constraint `<table>_quantity_whole`).
create trigger sale_lines_quantity_whole before insert on sale_lines
    for each row execute function app_private.quantity_in_whole_units();
create trigger sale_draft_lines_quantity_whole before insert or update of product_id, quantity on sale_draft_lines
    for each row execute function app_private.quantity_in_whole_units();
create trigger quote_lines_quantity_whole before insert or update of product_id, quantity on quote_lines
    for each row execute function app_private.quantity_in_whole_units();
create trigger purchase_invoice_lines_quantity_whole before insert on purchase_invoice_lines
    for each row execute function app_private.quantity_in_whole_units();
create trigger sale_return_lines_quantity_whole before insert on sale_return_lines
    for each row execute function app_private.quantity_in_whole_units();
create trigger stock_movements_quantity_whole before insert on stock_movements
    for each row execute function app_private.quantity_in_whole_units();
create trigger products_whole_units before insert or update of unit_id, min_stock on products
    for each row execute function app_private.product_in_whole_units();
create trigger units_whole_products before update of divisible on units
    for each row execute function app_private.unit_keeps_whole_products();
