-- Structure of one shop's row level security and privileges, read from the catalog: every table
-- has RLS enabled and forced and is isolated by the shop's own constant, the policies of each
-- table are exactly those of policies/tenant/*.sql, and each role holds exactly the privileges
-- docs/PERMISSIONS.md gives it. Run by scripts/pgtap.sh (or tests/pgtap.rs) with psql variables
-- prefix (role prefix), schema and tenant_id (the shop under test), other_schema and other_id.
-- Everything happens in one transaction that is rolled back, the pgTAP extension included.
\unset ECHO
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true

\set owner :prefix _shop_owner
\set admin :prefix _shop_admin
\set staff :prefix _shop_staff
\set anon :prefix _anon
\set app :prefix _app
\set superadmin :prefix _superadmin
\set support :prefix _support

begin;
set local client_min_messages = warning;
create extension if not exists pgtap schema public;
set local search_path = public, pg_catalog;
select * from no_plan();

-- RLS enabled and forced everywhere (the table owner is bound by the policies too)
select is_empty(format($$select c.relname from pg_class c
                         where c.relnamespace = %L::regnamespace and c.relkind in ('r', 'p')
                           and not (c.relrowsecurity and c.relforcerowsecurity)$$, :'schema'),
                'every table of the shop has row level security enabled and forced');
select is_empty($$select c.relname from pg_class c
                   where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
                     and not (c.relrowsecurity and c.relforcerowsecurity)$$,
                'every shared app table has row level security enabled and forced');
select isnt_empty(format($$select 1 from pg_class c where c.relnamespace = %L::regnamespace
                             and c.relkind = 'r'$$, :'schema'), 'the shop schema has tables');

-- every table isolated by this shop's constant, for every command and every role
select is_empty(format($$select c.relname from pg_class c
                         where c.relnamespace = %L::regnamespace and c.relkind in ('r', 'p')
                           and not exists (
                               select 1 from pg_policies p
                                where p.schemaname = %L and p.tablename = c.relname
                                  and p.policyname = 'tenant_isolation' and p.permissive = 'PERMISSIVE'
                                  and p.cmd = 'ALL' and p.roles = '{public}'
                                  and p.qual like '%%current_tenant_id()%%= ' || %L || ')'
                                  and p.with_check = p.qual)$$,
                       :'schema', :'schema', :'tenant_id'),
                'every table has tenant_isolation (ALL, to public) comparing with the shop''s own id');

-- the policies of each table, exactly
select policies_are(:'schema', t, p, format('policies of %s.%s', :'schema', t))
  from (values ('settings', array['tenant_isolation', 'support_admin_only']),
               ('audit_log', array['tenant_isolation', 'support_admin_only']),
               ('units', array['tenant_isolation', 'support_admin_only']),
               ('categories', array['tenant_isolation', 'support_admin_only']),
               ('products', array['tenant_isolation', 'support_admin_only']),
               ('stock_movements', array['tenant_isolation', 'manual_kinds', 'support_admin_only']),
               ('missing_products', array['tenant_isolation', 'support_admin_only']),
               ('product_imports', array['tenant_isolation', 'support_admin_only']),
               ('product_images', array['tenant_isolation', 'support_admin_only']),
               ('customers', array['tenant_isolation', 'support_admin_only']),
               ('customer_ledger', array['tenant_isolation', 'manual_kinds', 'support_admin_only']),
               ('money_ledger', array['tenant_isolation', 'manual_kinds', 'support_admin_only']),
               ('sales', array['tenant_isolation', 'recorded_by_self', 'support_admin_only']),
               ('sale_lines', array['tenant_isolation', 'support_admin_only']),
               ('sale_payments', array['tenant_isolation', 'support_admin_only']),
               ('sale_drafts', array['tenant_isolation', 'own_draft', 'support_admin_only']),
               ('sale_draft_lines', array['tenant_isolation', 'own_draft', 'support_admin_only']),
               ('quotes', array['tenant_isolation', 'staff_cannot_convert', 'support_admin_only']),
               ('quote_lines', array['tenant_isolation', 'support_admin_only']),
               ('sale_returns', array['tenant_isolation', 'support_admin_only']),
               ('sale_return_lines', array['tenant_isolation', 'support_admin_only']),
               ('shop_counters', array['tenant_isolation', 'support_admin_only'])) as v (t, p);

-- the ledgers take only manual kinds from owner and admin; a sale is recorded by its own user
select policy_cmd_is(:'schema', t, 'manual_kinds', 'insert', format('%s.manual_kinds applies to INSERT', t))
  from unnest(array['stock_movements', 'customer_ledger', 'money_ledger']) t;
select policy_roles_are(:'schema', t, 'manual_kinds', array[:'owner', :'admin']::name[],
                        format('%s.manual_kinds binds owner and admin', t))
  from unnest(array['stock_movements', 'customer_ledger', 'money_ledger']) t;
select is((select permissive from pg_policies
            where schemaname = :'schema' and tablename = t and policyname = 'manual_kinds'),
          'RESTRICTIVE', format('%s.manual_kinds is restrictive', t))
  from unnest(array['stock_movements', 'customer_ledger', 'money_ledger']) t;
select is((select permissive || ' ' || cmd from pg_policies
            where schemaname = :'schema' and tablename = 'sales' and policyname = 'recorded_by_self'),
          'RESTRICTIVE INSERT', 'sales.recorded_by_self is a restrictive INSERT policy');

-- table-wide privileges (column grants are checked below)
select table_privs_are(:'schema', 'products', :'staff', array['SELECT'], 'staff only reads products');
select table_privs_are(:'schema', 'products', :'owner', array['SELECT', 'DELETE'],
                       'owner: products table-wide SELECT, DELETE (inserts and updates are per column)');
select table_privs_are(:'schema', 'money_ledger', :'staff', '{}'::name[], 'staff holds nothing on money_ledger');
select table_privs_are(:'schema', 'money_ledger', :'admin', array['SELECT'], 'admin reads money_ledger');
select table_privs_are(:'schema', 'audit_log', :'owner', array['SELECT'], 'owner only reads audit_log');
select table_privs_are(:'schema', 'audit_log', :'admin', array['SELECT'], 'admin only reads audit_log');
select table_privs_are(:'schema', 'audit_log', :'staff', '{}'::name[], 'staff holds nothing on audit_log');
select table_privs_are(:'schema', 'stock_movements', :'staff', array['SELECT'], 'staff only reads stock_movements');
select table_privs_are(:'schema', 'stock_movements', :'owner', array['SELECT'],
                       'owner: stock_movements SELECT, inserts per column, never UPDATE or DELETE');
select table_privs_are(:'schema', 'settings', :'staff', array['SELECT'], 'staff only reads settings');

-- nobody may write products.stock (it moves only through stock_movements)
select column_privs_are(:'schema', 'products', 'stock', r, array['SELECT']::name[],
                        format('%s may read products.stock but never write it', r))
  from unnest(array[:'owner', :'admin', :'staff']::name[]) r;
select column_privs_are(:'schema', 'products', 'price', :'owner', array['SELECT', 'INSERT', 'UPDATE'],
                        'owner sets products.price');
select column_privs_are(:'schema', 'settings', 'currency', :'admin', array['SELECT'],
                        'admin cannot change settings.currency');

-- the signed-out role and the login role hold nothing on any shop table, nor on the schema
select table_privs_are(:'schema', c.relname, r, '{}'::name[], format('%s holds nothing on %s', r, c.relname))
  from pg_class c cross join unnest(array[:'anon', :'app']::name[]) r
 where c.relnamespace = :'schema'::regnamespace and c.relkind in ('r', 'p')
 order by c.relname, r;
select schema_privs_are(:'schema', :'anon', '{}'::name[], 'anon has no USAGE on the shop schema');
select schema_privs_are(:'schema', :'staff', array['USAGE'], 'staff has USAGE on the shop schema');
select is_empty(format($$select a.privilege_type from pg_namespace n, aclexplode(n.nspacl) a
                         where n.nspname = %L and a.grantee = 0$$, :'schema'),
                'PUBLIC has no privilege on the shop schema');

-- provisioning functions are not callable by any request role
select function_privs_are('app_private', 'create_tenant', array['text', 'text'], r, '{}'::name[],
                          format('%s cannot execute app_private.create_tenant', r))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app']::name[]) r;
select function_privs_are('app_private', 'migrate_tenant', array['bigint'], r, '{}'::name[],
                          format('%s cannot execute app_private.migrate_tenant', r))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app']::name[]) r;
select function_privs_are('app_private', 'provision_spare', '{}'::name[], r, '{}'::name[],
                          format('%s cannot execute app_private.provision_spare', r))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app', :'superadmin', :'support']::name[]) r;

-- plan limits (docs/PLANS.md): only the owner reads the shop's plan and usage; the checks
-- themselves run in triggers and are callable by no request role
select function_privs_are('app_private', 'shop_plan_usage', '{}'::name[], :'owner', array['EXECUTE'],
                          'the owner reads the shop''s plan and usage');
select function_privs_are('app_private', 'shop_plan_usage', '{}'::name[], r, '{}'::name[],
                          format('%s cannot execute app_private.shop_plan_usage', r))
  from unnest(array[:'admin', :'staff', :'anon', :'app']::name[]) r;
select function_privs_are('app_private', f, array['bigint'], r, '{}'::name[],
                          format('%s cannot execute app_private.%s', r, f))
  from unnest(array['shop_plan']) f, unnest(array[:'owner', :'admin', :'staff', :'anon', :'app']::name[]) r;
select trigger_is(:'schema', t, tr, 'app_private', f, format('%s.%s runs app_private.%s', t, tr, f))
  from (values ('products', 'products_plan_limit_insert', 'products_plan_limit_insert'),
               ('products', 'products_plan_limit_update', 'products_plan_limit_update'),
               ('sales', 'sales_plan_limit', 'sales_plan_limit')) as v (t, tr, f);
-- rules kept by the database (sql/app/V20__database_rules.sql, sql/tenant/V12__database_rules.sql):
-- ownership changes hands only through app_private.hand_over_shop, never by a plain UPDATE
select policies_are('app', 'memberships',
                    array['definer_all', 'member_read', 'owner_update', 'owner_delete', 'owner_by_handover_only',
                          'support_read'],
                    'policies of app.memberships');
select is((select permissive || ' ' || cmd || ' ' || with_check from pg_policies
            where schemaname = 'app' and tablename = 'memberships' and policyname = 'owner_by_handover_only'),
          'RESTRICTIVE UPDATE (role <> ''owner''::text)',
          'memberships.owner_by_handover_only: a plain UPDATE never sets role owner');
select policy_roles_are('app', 'memberships', 'owner_by_handover_only', array[:'owner']::name[],
                        'memberships.owner_by_handover_only binds the owner role');
select function_privs_are('app_private', 'hand_over_shop', array['bigint'], :'owner', array['EXECUTE'],
                          'the owner role may call app_private.hand_over_shop');
select function_privs_are('app_private', 'hand_over_shop', array['bigint'], r, '{}'::name[],
                          format('%s cannot call app_private.hand_over_shop', r))
  from unnest(array[:'admin', :'staff', :'anon', :'app']::name[]) r;
select function_privs_are('app_private', 'throttle_retry_after',
                          array['regclass', 'text', 'inet', 'interval', 'integer', 'integer'], r, '{}'::name[],
                          format('%s cannot call app_private.throttle_retry_after', r))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app']::name[]) r;
-- the shop's rule triggers: active suppliers and products on new invoices, whole units
select has_trigger(:'schema', t, g, format('%s.%s has trigger %s', :'schema', t, g))
  from (values ('purchase_invoices', 'purchase_invoices_supplier_active'),
               ('purchase_invoice_lines', 'purchase_invoice_lines_product_active'),
               ('purchase_invoice_lines', 'purchase_invoice_lines_quantity_whole'),
               ('sale_lines', 'sale_lines_quantity_whole'),
               ('sale_draft_lines', 'sale_draft_lines_quantity_whole'),
               ('quote_lines', 'quote_lines_quantity_whole'),
               ('sale_return_lines', 'sale_return_lines_quantity_whole'),
               ('stock_movements', 'stock_movements_quantity_whole'),
               ('products', 'products_whole_units'),
               ('products', 'products_barcode_check'),
               ('products', 'products_sku_check'),
               ('sale_lines', 'sale_lines_cost'),
               ('units', 'units_whole_products')) as v (t, g);
-- the code patterns are triggers since tenant V17, so that stock updates skip them: each fires on
-- an update of its own code column only, and no CHECK constraint of that name is left behind
select is((select array_agg(tgname::text order by tgname) from pg_trigger
            where tgrelid = (:'schema' || '.products')::regclass and tgname like 'products_%_check'
              and (tgtype & 16) <> 0 and array_length(tgattr::int2[], 1) = 1
              and tgattr::int2[] <@ array(select attnum from pg_attribute
                                           where attrelid = (:'schema' || '.products')::regclass
                                             and attname in ('sku', 'barcode'))),
          array['products_barcode_check', 'products_sku_check'],
          'the code triggers fire on updates of the codes only');
select is((select count(*)::int from pg_constraint
            where conrelid = (:'schema' || '.products')::regclass
              and conname in ('products_sku_check', 'products_barcode_check')),
          0, 'the code rules are not CHECK constraints any more');
-- a sale line's cost comes from the shop's own function, run as the caller (tenant V17), which
-- therefore needs to read products.cost: every role that may insert a sale line does
select is((select p.pronamespace::regnamespace::text || ' ' || p.prosecdef::text from pg_trigger t
             join pg_proc p on p.oid = t.tgfoid
            where t.tgrelid = (:'schema' || '.sale_lines')::regclass and t.tgname = 'sale_lines_cost'),
          :'schema' || ' false', 'sale_lines_cost runs the shop''s own invoker function');
select is((select count(*)::int from unnest(array[:'owner', :'admin', :'staff']::name[]) r
            where has_any_column_privilege(r, (:'schema' || '.sale_lines')::regclass, 'INSERT')),
          3, 'owner, admin and staff insert sale lines');
select is((select array_agg(r) from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app', :'support',
                                                 :'superadmin']::name[]) r
            where has_any_column_privilege(r, (:'schema' || '.sale_lines')::regclass, 'INSERT')
              and not has_column_privilege(r, (:'schema' || '.products')::regclass, 'cost', 'SELECT')),
          null, 'every role that inserts sale lines reads products.cost');
select function_privs_are(:'schema', 'sale_line_cost', '{}'::name[], r, '{}'::name[],
                          format('%s cannot call %s.sale_line_cost', r, :'schema'))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app']::name[]) r;
-- "view as" (policies/tenant/80_support.sql): support only reads, and only with an admin context;
-- the super-admin role holds nothing on a shop's tables (cross-shop figures come from definer
-- functions)
select table_privs_are(:'schema', c.relname, :'support', array['SELECT'], format('support only reads %s', c.relname))
  from pg_class c where c.relnamespace = :'schema'::regnamespace and c.relkind in ('r', 'p') order by c.relname;
select table_privs_are(:'schema', c.relname, :'superadmin', '{}'::name[], format('superadmin holds nothing on %s', c.relname))
  from pg_class c where c.relnamespace = :'schema'::regnamespace and c.relkind in ('r', 'p') order by c.relname;
select is((select permissive || ' ' || cmd || ' ' || array_to_string(roles, ',') from pg_policies
            where schemaname = :'schema' and tablename = c.relname and policyname = 'support_admin_only'),
          'RESTRICTIVE SELECT ' || :'support', format('%s.support_admin_only is a restrictive SELECT for support', c.relname))
  from pg_class c where c.relnamespace = :'schema'::regnamespace and c.relkind in ('r', 'p') order by c.relname;
select schema_privs_are(:'schema', :'superadmin', '{}'::name[], 'superadmin has no USAGE on the shop schema');
-- the audit trail: nobody but the schema owner's definer functions writes it; none may change it
select table_privs_are('app', 'admin_audit', r, '{}'::name[], format('%s holds nothing on app.admin_audit', r))
  from unnest(array[:'owner', :'admin', :'staff', :'anon', :'app', :'support']::name[]) r;
select table_privs_are('app', 'admin_audit', :'superadmin', array['SELECT'], 'superadmin only reads app.admin_audit');
select trigger_is('app', 'admin_audit', 'admin_audit_append_only', 'app_private', 'refuse_change',
                  'app.admin_audit refuses UPDATE and DELETE');
select trigger_is('app', 'admin_audit', 'admin_audit_no_truncate', 'app_private', 'refuse_change',
                  'app.admin_audit refuses TRUNCATE');

select * from finish();
rollback;
