-- Behaviour of one shop's rules, acting exactly as a request does (set role, app.tenant_id and
-- app.user_id in the transaction): staff cannot change products or read the money ledger, a
-- request for another shop (or none) sees and writes nothing here, the audit log is append-only
-- for everyone, and stock moves only through stock_movements. Psql variables as in
-- 00_structure.sql; everything is rolled back.
\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true

\set owner :prefix _shop_owner
\set admin :prefix _shop_admin
\set staff :prefix _shop_staff
\set schema_owner :prefix _schema_owner

begin;
set local client_min_messages = warning;
create extension if not exists pgtap schema public;
set local search_path = public, pg_catalog;
select plan(30);

-- Switches to a request's identity; called as the superuser (after `reset role`). Returns a TAP
-- comment so the switch shows in the output.
create function pg_temp.act_as(p_role text, p_tenant text) returns text
    language plpgsql as $$
begin
    perform set_config('app.tenant_id', coalesce(p_tenant, ''), true);
    perform set_config('app.user_id', '', true);
    perform set_config('role', p_role, true);
    return diag(format('acting as %s with app.tenant_id = %s', p_role, coalesce(p_tenant, '(none)')));
end $$;

-- owner of the shop: a product, a unit of stock through the ledger, a settings change (audited)
select pg_temp.act_as(:'owner', :'tenant_id');
select lives_ok(format($$insert into %I.products (sku, name, unit_id, price)
                         select 'PGTAP-1', 'pgTAP yerba', id, 10 from %I.units where code = 'u'$$,
                       :'schema', :'schema'), 'owner creates a product');
select lives_ok(format($$insert into %I.stock_movements (product_id, kind, quantity, reason)
                         select id, 'adjustment', 5, 'pgtap' from %I.products where sku = 'PGTAP-1'$$,
                       :'schema', :'schema'), 'owner posts a stock adjustment');
select is((select stock from :"schema".products where sku = 'PGTAP-1'), 5.000::numeric(12, 3),
          'the movement trigger moved products.stock');
select throws_ok(format($$update %I.products set stock = 99 where sku = 'PGTAP-1'$$, :'schema'),
                 '42501', null, 'owner cannot write products.stock directly');
select throws_ok(format($$insert into %I.products (sku, name, unit_id, price, stock)
                          select 'PGTAP-2', 'x', id, 1, 50 from %I.units where code = 'u'$$,
                        :'schema', :'schema'),
                 '42501', null, 'owner cannot create a product with stock');
select throws_ok(format($$insert into %I.stock_movements (product_id, kind, quantity)
                          select id, 'sale', -1 from %I.products where sku = 'PGTAP-1'$$,
                        :'schema', :'schema'),
                 '42501', null, 'owner cannot post a sale movement by hand (manual_kinds)');
select throws_ok(format($$update %I.stock_movements set quantity = 500$$, :'schema'),
                 '42501', null, 'owner cannot rewrite a stock movement');
select throws_ok(format($$delete from %I.stock_movements$$, :'schema'),
                 '42501', null, 'owner cannot delete stock movements');
select lives_ok(format($$update %I.settings set receipt_footer = 'pgTAP'$$, :'schema'),
                'owner changes settings');
select isnt_empty(format($$select 1 from %I.audit_log where entity = 'settings'$$, :'schema'),
                  'the change is in the audit log');
select throws_ok(format($$update %I.audit_log set action = 'forged'$$, :'schema'),
                 '42501', null, 'owner cannot update the audit log');
select throws_ok(format($$delete from %I.audit_log$$, :'schema'),
                 '42501', null, 'owner cannot delete from the audit log');
select lives_ok(format($$select count(*) from %I.money_ledger$$, :'schema'), 'owner reads money_ledger');
reset role;

-- staff of the shop
select pg_temp.act_as(:'staff', :'tenant_id');
select is((select count(*) from :"schema".products where sku = 'PGTAP-1'), 1::bigint, 'staff sees the product');
select throws_ok(format($$update %I.products set price = 1 where sku = 'PGTAP-1'$$, :'schema'),
                 '42501', null, 'staff cannot update products');
select throws_ok(format($$delete from %I.products$$, :'schema'), '42501', null, 'staff cannot delete products');
select throws_ok(format($$select count(*) from %I.money_ledger$$, :'schema'),
                 '42501', null, 'staff cannot read money_ledger');
select throws_ok(format($$select count(*) from %I.audit_log$$, :'schema'),
                 '42501', null, 'staff cannot read the audit log');
select throws_ok(format($$insert into %I.stock_movements (product_id, kind, quantity)
                          select id, 'adjustment', 1 from %I.products$$, :'schema', :'schema'),
                 '42501', null, 'staff cannot post stock movements');
reset role;

-- the same role, but a request for the other shop: nothing of this shop is visible or writable
select pg_temp.act_as(:'owner', :'other_id');
select is_empty(format($$select 1 from %I.products$$, :'schema'), 'another shop''s request sees no products here');
select is_empty(format($$select 1 from %I.settings$$, :'schema'), 'another shop''s request sees no settings here');
select is_empty(format($$select 1 from %I.audit_log$$, :'schema'), 'another shop''s request sees no audit rows here');
select results_eq(format($$with u as (update %I.products set name = 'hijacked' returning 1)
                           select count(*) from u$$, :'schema'),
                  array[0::bigint], 'another shop''s request updates no product here');
select throws_ok(format($$insert into %I.categories (name) values ('intruder')$$, :'schema'),
                 '42501', null, 'another shop''s request cannot insert here (tenant_isolation WITH CHECK)');
select isnt_empty(format($$select 1 from %I.settings$$, :'other_schema'),
                  'while it does see its own shop''s settings');
reset role;

-- no shop at all (a signed-out or suspended request with a member role)
select pg_temp.act_as(:'owner', null);
select is_empty(format($$select 1 from %I.products$$, :'schema'), 'no shop in context: no products');
select is_empty(format($$select 1 from %I.settings$$, :'schema'), 'no shop in context: no settings');
reset role;

-- append-only even for the schema owner and a superuser (the trigger refuses)
select pg_temp.act_as(:'schema_owner', :'tenant_id');
select throws_ok(format($$delete from %I.audit_log$$, :'schema'),
                 '42501', null, 'the schema owner cannot delete audit rows');
reset role;
select throws_ok(format($$update %I.audit_log set action = 'forged'$$, :'schema'),
                 '42501', format('%s.audit_log is append-only', :'schema'), 'a superuser cannot update audit rows');
select throws_ok(format($$truncate %I.audit_log$$, :'schema'),
                 '42501', null, 'a superuser cannot truncate the audit log');

select * from finish();
rollback;
