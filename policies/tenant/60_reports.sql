-- Reports, per shop: the report views are read by owner and admin only. Staff read the sales
-- tables (they record sales) and the catalog, but not the report aggregates, costs of goods sold,
-- margins or stock valuation. The views are security_invoker, so the tables' own row rules
-- (tenant_isolation) and the caller's table grants still apply underneath: another shop's views
-- return zero rows, and no context returns zero rows.

revoke all on {{schema}}.report_sales, {{schema}}.report_line_events, {{schema}}.report_stock_valuation
    from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.report_sales, {{schema}}.report_line_events, {{schema}}.report_stock_valuation
    to {{owner}}, {{admin}};
