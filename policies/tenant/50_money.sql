-- Money: expense categories and the money ledger's manual entries. Owner and admin only; staff
-- never read money figures (money_ledger itself: 30_sales.sql, whose grants this file extends).

-- expense_categories: owner and admin list, add, rename and deactivate them; never deleted (the
-- ledger's expenses reference them)
alter table {{schema}}.expense_categories enable row level security;
alter table {{schema}}.expense_categories force row level security;
drop policy if exists tenant_isolation on {{schema}}.expense_categories;
create policy tenant_isolation on {{schema}}.expense_categories
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.expense_categories from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (name), update (name, active) on {{schema}}.expense_categories to {{owner}}, {{admin}};

-- money_ledger: an expense names its category; a reversal names the entry it corrects (the
-- trigger app_private.money_ledger_manual_entry fills in the rest)
grant insert (category_id, reverses_id) on {{schema}}.money_ledger to {{owner}}, {{admin}};
