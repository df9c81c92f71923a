-- Suppliers and purchase invoices, per shop: owner and admin only (docs/PERMISSIONS.md, "manage
-- suppliers and purchase invoices"); staff hold no grant at all, not even SELECT. Totals, paid
-- amounts, stock, costs and money move only through the triggers
-- (sql/app/V8__purchase_triggers.sql): no role may write purchase_invoices.total, credited, paid,
-- status columns of received rows, nor update or delete a line or a payment.

-- suppliers: a supplier with invoices is deactivated (its foreign key refuses the delete)
alter table {{schema}}.suppliers enable row level security;
alter table {{schema}}.suppliers force row level security;
drop policy if exists tenant_isolation on {{schema}}.suppliers;
create policy tenant_isolation on {{schema}}.suppliers
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.suppliers from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (name, tax_id, email, phone, address, notes),
      update (name, tax_id, email, phone, address, notes, active), delete
    on {{schema}}.suppliers to {{owner}}, {{admin}};

-- purchase_invoices: header fields while a draft; receiving is the status change; a received
-- invoice is fixed by trigger (purchase_invoices_received_fixed)
alter table {{schema}}.purchase_invoices enable row level security;
alter table {{schema}}.purchase_invoices force row level security;
drop policy if exists tenant_isolation on {{schema}}.purchase_invoices;
create policy tenant_isolation on {{schema}}.purchase_invoices
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists recorded_by_self on {{schema}}.purchase_invoices;
create policy recorded_by_self on {{schema}}.purchase_invoices as restrictive for insert
    with check (user_id = (select app.current_user_id()));
revoke all on {{schema}}.purchase_invoices from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select,
      insert (supplier_id, kind, corrects_id, number, invoice_date, due_date, note),
      update (number, invoice_date, due_date, note, status),
      delete
    on {{schema}}.purchase_invoices to {{owner}}, {{admin}};

-- purchase_invoice_lines: added to and removed from drafts (trigger purchase_line_change)
alter table {{schema}}.purchase_invoice_lines enable row level security;
alter table {{schema}}.purchase_invoice_lines force row level security;
drop policy if exists tenant_isolation on {{schema}}.purchase_invoice_lines;
create policy tenant_isolation on {{schema}}.purchase_invoice_lines
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.purchase_invoice_lines from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (invoice_id, product_id, quantity, unit_cost), delete
    on {{schema}}.purchase_invoice_lines to {{owner}}, {{admin}};

-- purchase_payments: append-only; the trigger checks the amount and posts the money
alter table {{schema}}.purchase_payments enable row level security;
alter table {{schema}}.purchase_payments force row level security;
drop policy if exists tenant_isolation on {{schema}}.purchase_payments;
create policy tenant_isolation on {{schema}}.purchase_payments
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.purchase_payments from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (invoice_id, method, amount, note) on {{schema}}.purchase_payments to {{owner}}, {{admin}};
