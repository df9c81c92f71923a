-- A sale takes its stock once per sale, not once per line (sql/app/V26): the lines' trigger is a
-- statement trigger over the inserted lines, and the ledger's own trigger leaves the `sale`
-- movements it writes alone (they arrive already applied, with their `stock_after`).
drop trigger sale_lines_stock on sale_lines;
create trigger sale_lines_stock after insert on sale_lines
    referencing new table as new_lines
    for each statement execute function app_private.sale_lines_stock();
drop trigger stock_movements_apply on stock_movements;
create trigger stock_movements_apply before insert on stock_movements
    for each row when (new.kind <> 'sale')
    execute function app_private.apply_stock_movement();
