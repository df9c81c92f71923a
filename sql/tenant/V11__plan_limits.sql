-- Plan limits of the shop's own tables (functions in sql/app/V16__plan_limits.sql, docs/PLANS.md):
-- active products and sales per calendar month. Each check counts once per statement.
create trigger products_plan_limit_insert after insert on products
    referencing new table as inserted
    for each statement execute function app_private.products_plan_limit_insert();
-- stock movements update every sold product's row: this WHEN clause keeps them free of any call
create trigger products_plan_limit_reactivated after update of active on products
    for each row when (new.active and not old.active)
    execute function app_private.products_reactivated();
create trigger products_plan_limit_update after update of active on products
    for each statement execute function app_private.products_plan_limit_update();
create trigger sales_plan_limit after insert on sales
    referencing new table as inserted
    for each statement execute function app_private.sales_plan_limit();
