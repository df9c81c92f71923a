-- shop_counters (sql/tenant/V13__shop_counters.sql): every member reads the shop's counters; only
-- the trigger function app_private.count_active_products (as the schema owner) writes them.
alter table {{schema}}.shop_counters enable row level security;
alter table {{schema}}.shop_counters force row level security;
drop policy if exists tenant_isolation on {{schema}}.shop_counters;
create policy tenant_isolation on {{schema}}.shop_counters
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.shop_counters from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.shop_counters to {{owner}}, {{admin}}, {{staff}};
