-- Sales, customers, quotes and money, per shop.
-- Everyone in the shop registers sales (the triggers move stock and money for them); only owner
-- and admin void a sale (UPDATE of status), convert a quote, or read the money ledger.

-- customers: everyone reads and records them; owner and admin delete (one with history is kept)
alter table {{schema}}.customers enable row level security;
alter table {{schema}}.customers force row level security;
drop policy if exists tenant_isolation on {{schema}}.customers;
create policy tenant_isolation on {{schema}}.customers
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.customers from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (name, tax_id, email, phone, address, notes),
      update (name, tax_id, email, phone, address, notes, active)
    on {{schema}}.customers to {{owner}}, {{admin}}, {{staff}};
grant delete on {{schema}}.customers to {{owner}}, {{admin}};

-- customer_ledger: balances are seen by everyone at the counter; payments on account and opening
-- balances are recorded by owner and admin; sale entries come from the payment trigger
alter table {{schema}}.customer_ledger enable row level security;
alter table {{schema}}.customer_ledger force row level security;
drop policy if exists tenant_isolation on {{schema}}.customer_ledger;
create policy tenant_isolation on {{schema}}.customer_ledger
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists manual_kinds on {{schema}}.customer_ledger;
create policy manual_kinds on {{schema}}.customer_ledger as restrictive for insert to {{owner}}, {{admin}}
    with check (kind in ('opening', 'payment'));
revoke all on {{schema}}.customer_ledger from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.customer_ledger to {{owner}}, {{admin}}, {{staff}};
grant insert (customer_id, kind, amount, note) on {{schema}}.customer_ledger to {{owner}}, {{admin}};

-- money_ledger: owner and admin only (staff never read money figures)
alter table {{schema}}.money_ledger enable row level security;
alter table {{schema}}.money_ledger force row level security;
drop policy if exists tenant_isolation on {{schema}}.money_ledger;
create policy tenant_isolation on {{schema}}.money_ledger
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists manual_kinds on {{schema}}.money_ledger;
create policy manual_kinds on {{schema}}.money_ledger as restrictive for insert to {{owner}}, {{admin}}
    with check (kind in ('customer_payment', 'other_income', 'other_expense'));
revoke all on {{schema}}.money_ledger from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (kind, method, amount, customer_id, category, description, user_id)
    on {{schema}}.money_ledger to {{owner}}, {{admin}};

-- sales, lines, payments: everyone registers; only owner and admin void (update status)
alter table {{schema}}.sales enable row level security;
alter table {{schema}}.sales force row level security;
drop policy if exists tenant_isolation on {{schema}}.sales;
create policy tenant_isolation on {{schema}}.sales
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists recorded_by_self on {{schema}}.sales;
create policy recorded_by_self on {{schema}}.sales as restrictive for insert
    with check (user_id = (select app.current_user_id()));
revoke all on {{schema}}.sales from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (idempotency_key, customer_id, user_id, total, tendered, change, quote_id, note)
    on {{schema}}.sales to {{owner}}, {{admin}}, {{staff}};
grant update (status, void_reason) on {{schema}}.sales to {{owner}}, {{admin}};

alter table {{schema}}.sale_lines enable row level security;
alter table {{schema}}.sale_lines force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_lines;
create policy tenant_isolation on {{schema}}.sale_lines
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.sale_lines from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (sale_id, position, product_id, description, quantity, unit_price, discount, total)
    on {{schema}}.sale_lines to {{owner}}, {{admin}}, {{staff}};

alter table {{schema}}.sale_payments enable row level security;
alter table {{schema}}.sale_payments force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_payments;
create policy tenant_isolation on {{schema}}.sale_payments
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.sale_payments from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (sale_id, method, amount) on {{schema}}.sale_payments to {{owner}}, {{admin}}, {{staff}};

-- drafts: each person sees and edits only their own cart
alter table {{schema}}.sale_drafts enable row level security;
alter table {{schema}}.sale_drafts force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_drafts;
create policy tenant_isolation on {{schema}}.sale_drafts
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists own_draft on {{schema}}.sale_drafts;
create policy own_draft on {{schema}}.sale_drafts as restrictive
    using (user_id = (select app.current_user_id()))
    with check (user_id = (select app.current_user_id()));
revoke all on {{schema}}.sale_drafts from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (user_id, customer_id), update (customer_id, idempotency_key, updated_at), delete
    on {{schema}}.sale_drafts to {{owner}}, {{admin}}, {{staff}};

alter table {{schema}}.sale_draft_lines enable row level security;
alter table {{schema}}.sale_draft_lines force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_draft_lines;
create policy tenant_isolation on {{schema}}.sale_draft_lines
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists own_draft on {{schema}}.sale_draft_lines;
create policy own_draft on {{schema}}.sale_draft_lines as restrictive
    using (exists (select 1 from {{schema}}.sale_drafts d where d.id = draft_id))
    with check (exists (select 1 from {{schema}}.sale_drafts d where d.id = draft_id));
revoke all on {{schema}}.sale_draft_lines from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (draft_id, product_id, quantity, unit_price, discount), update (quantity, unit_price, discount), delete
    on {{schema}}.sale_draft_lines to {{owner}}, {{admin}}, {{staff}};

-- quotes: everyone creates them and moves draft → sent → accepted; converting is owner/admin
alter table {{schema}}.quotes enable row level security;
alter table {{schema}}.quotes force row level security;
drop policy if exists tenant_isolation on {{schema}}.quotes;
create policy tenant_isolation on {{schema}}.quotes
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists staff_cannot_convert on {{schema}}.quotes;
create policy staff_cannot_convert on {{schema}}.quotes as restrictive for update to {{staff}}
    using (status <> 'converted')
    with check (status <> 'converted');
revoke all on {{schema}}.quotes from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (customer_id, user_id, valid_until, total, note), update (status)
    on {{schema}}.quotes to {{owner}}, {{admin}}, {{staff}};
grant update (converted_sale_id, converted_at) on {{schema}}.quotes to {{owner}}, {{admin}};

alter table {{schema}}.quote_lines enable row level security;
alter table {{schema}}.quote_lines force row level security;
drop policy if exists tenant_isolation on {{schema}}.quote_lines;
create policy tenant_isolation on {{schema}}.quote_lines
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.quote_lines from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (quote_id, position, product_id, description, quantity, unit_price, discount, total)
    on {{schema}}.quote_lines to {{owner}}, {{admin}}, {{staff}};

-- returns: owner and admin record them (stock and refunds follow by trigger); everyone sees them
alter table {{schema}}.sale_returns enable row level security;
alter table {{schema}}.sale_returns force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_returns;
create policy tenant_isolation on {{schema}}.sale_returns
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.sale_returns from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.sale_returns to {{owner}}, {{admin}}, {{staff}};
grant insert (sale_id, method, reason) on {{schema}}.sale_returns to {{owner}}, {{admin}};

alter table {{schema}}.sale_return_lines enable row level security;
alter table {{schema}}.sale_return_lines force row level security;
drop policy if exists tenant_isolation on {{schema}}.sale_return_lines;
create policy tenant_isolation on {{schema}}.sale_return_lines
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.sale_return_lines from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.sale_return_lines to {{owner}}, {{admin}}, {{staff}};
grant insert (return_id, sale_line_id, quantity) on {{schema}}.sale_return_lines to {{owner}}, {{admin}};
