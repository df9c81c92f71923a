-- The product code rules (SKU and barcode patterns) as triggers that run only when a code is
-- written (issue 8: less database work per sale; tenant migration V17 says why).
--
-- Each rule is a BEFORE trigger named after the CHECK constraint it replaces, whose WHEN clause
-- holds the pattern, so this function runs only when a pattern fails. It refuses the row as the
-- constraint did: SQLSTATE check_violation, the constraint's name (the trigger's), the table and
-- schema. PostgreSQL fires the triggers in name order, as it checked the two constraints, so
-- the barcode is still named first when both fail.
create function app_private.product_code_refused() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    raise exception 'new row for relation "%" violates check constraint "%"', tg_table_name, tg_name
        using errcode = 'check_violation', constraint = tg_name, table = tg_table_name,
              schema = tg_table_schema;
end $$;
revoke all on function app_private.product_code_refused() from public;
