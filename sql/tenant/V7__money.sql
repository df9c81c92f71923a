-- Money: the shop's list of expense categories, and what manual ledger entries need: the
-- expense's category and the reversal of a mistaken entry. Sign convention of money_ledger.amount
-- (docs/MONEY.md): positive = money in, negative = money out, for every kind.

create table expense_categories (
    id         bigint generated always as identity primary key,
    name       text not null constraint expense_categories_name_check check (length(btrim(name)) between 1 and 60),
    active     boolean not null default true,
    created_at timestamptz not null default now()
);
create unique index expense_categories_name_key on expense_categories (app.fold(name));
insert into expense_categories (name)
select unnest(case (select locale from settings)
                  when 'en' then array['Rent', 'Utilities', 'Wages', 'Taxes', 'Cleaning', 'Maintenance', 'Other']
                  else array['Alquiler', 'Servicios', 'Sueldos', 'Impuestos', 'Limpieza', 'Mantenimiento', 'Otros gastos']
              end);

alter table money_ledger
    add column category_id bigint constraint money_ledger_category_id_fkey references expense_categories (id) on delete restrict,
    add column reverses_id bigint constraint money_ledger_reverses_id_fkey references money_ledger (id) on delete restrict;
-- not valid: rows from before this migration are left as they are; every new row is checked
alter table money_ledger
    add constraint money_ledger_expense_category
        check (case when kind = 'other_expense' then category_id is not null else category_id is null end) not valid,
    add constraint money_ledger_manual_sign
        check (kind not in ('other_income', 'other_expense') or reverses_id is not null
               or (kind = 'other_income' and amount > 0) or (kind = 'other_expense' and amount < 0)) not valid;
create unique index money_ledger_reverses_key on money_ledger (reverses_id) where reverses_id is not null;
create index money_ledger_category_idx on money_ledger (category_id, at) where category_id is not null;
create trigger money_ledger_manual_entry before insert on money_ledger
    for each row execute function app_private.money_ledger_manual_entry();


-- the dashboard counts active products on every visit: an index-only scan of this partial index
-- instead of reading the whole products table
create index products_active_idx on products (id) where active;
