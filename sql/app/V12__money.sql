-- Manual entries of the money ledger (other income, other expenses, and their reversals), checked
-- by one BEFORE INSERT trigger on every shop's money_ledger:
--   * an expense names an active category of the shop's expense_categories (by id, or by name
--     when only the text is given); the category's name is copied into the row, so the ledger
--     still reads right after a later rename;
--   * a reversal names the entry it corrects (reverses_id): the trigger copies kind, method and
--     category from that entry and books the opposite amount, whatever the client sent. Only a
--     manual entry that is not itself a reversal can be reversed, and only once (unique index).
-- Rows written by the sale triggers (kind 'sale', 'sale_void', 'sale_return') and payments pass
-- through untouched.
create function app_private.money_ledger_manual_entry() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_orig record;
    v_cat_id bigint;
    v_cat_name text;
    v_cat_active boolean;
begin
    if new.reverses_id is not null then
        execute format('select id, kind, method, amount, category_id, category, reverses_id
                          from %I.money_ledger where id = $1', tg_table_schema)
           into v_orig using new.reverses_id;
        if v_orig.id is null then
            raise exception 'entry % does not exist', new.reverses_id
                using errcode = 'foreign_key_violation', constraint = 'money_ledger_reverses_id_fkey';
        end if;
        if v_orig.kind not in ('other_income', 'other_expense') or v_orig.reverses_id is not null then
            raise exception 'only a manual income or expense can be reversed'
                using errcode = 'check_violation', constraint = 'money_ledger_reversal_manual_only';
        end if;
        new.kind := v_orig.kind;
        new.method := v_orig.method;
        new.amount := -v_orig.amount;
        new.category_id := v_orig.category_id;
        new.category := v_orig.category;
        new.customer_id := null;
        new.sale_id := null;
        return new;
    end if;
    if new.kind = 'other_expense' then
        if new.category_id is not null then
            execute format('select id, name, active from %I.expense_categories where id = $1', tg_table_schema)
               into v_cat_id, v_cat_name, v_cat_active using new.category_id;
        elsif new.category <> '' then
            execute format('select id, name, active from %I.expense_categories where app.fold(name) = app.fold($1)',
                           tg_table_schema)
               into v_cat_id, v_cat_name, v_cat_active using new.category;
        end if;
        if v_cat_id is null or not v_cat_active then
            raise exception 'an expense needs an active category'
                using errcode = 'check_violation', constraint = 'money_ledger_expense_category';
        end if;
        new.category_id := v_cat_id;
        new.category := v_cat_name;
    end if;
    return new;
end $$;
revoke all on function app_private.money_ledger_manual_entry() from public;
