-- One row of per-shop counters the dashboard reads instead of counting (sql/app/V21).
create table shop_counters (
    id              integer primary key default 1 constraint shop_counters_one_row check (id = 1),
    active_products bigint not null default 0
                    constraint shop_counters_active_products_check check (active_products >= 0)
);
insert into shop_counters (id, active_products) select 1, count(*) from products where active;

create trigger products_count_insert after insert on products
    referencing new table as new_rows
    for each statement execute function app_private.count_active_products();
create trigger products_count_delete after delete on products
    referencing old table as old_rows
    for each statement execute function app_private.count_active_products();
create trigger products_count_active after update of active on products
    for each row when (old.active is distinct from new.active)
    execute function app_private.count_active_products();
