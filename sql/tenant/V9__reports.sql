-- Reports: the cost of each sale line at the time of sale, and the views every report reads.
-- The views are `security_invoker`: the caller's own grants and row-level security apply to the
-- tables underneath, so a request for another shop (or none) sees zero rows, exactly as on the
-- tables. Who may read the views at all (owner and admin) is in policies/tenant/60_reports.sql.

-- Sales recorded before this migration get the product's cost as it is when the migration runs:
-- the cost they were sold at was never recorded.
alter table sale_lines add column unit_cost numeric(12, 2);
update sale_lines l set unit_cost = p.cost from products p where p.id = l.product_id;
alter table sale_lines alter column unit_cost set not null,
    add constraint sale_lines_unit_cost_check check (unit_cost >= 0);
create trigger sale_lines_cost before insert on sale_lines
    for each row execute function app_private.sale_line_cost();

-- returns are counted on the day they happen
create index sale_returns_created_idx on sale_returns (created_at);

-- One row per sale (voided ones included, flagged by status), with its local time in the shop's
-- time zone.
create view report_sales with (security_invoker = true) as
select s.id as sale_id, s.created_at as at, s.created_at at time zone st.time_zone as local_at,
       s.status, s.total
  from sales s cross join settings st;

-- What moved money and goods: one row per line of a standing sale, and one (negative) row per
-- returned part of such a line, on the day of the return. Lines and returns of voided sales are
-- left out entirely (a void undoes the sale and its returns). `cost` is exact (quantity x the
-- line's unit cost at the time of sale); round only after adding up.
create view report_line_events with (security_invoker = true) as
select 'sale'::text as kind, s.id as sale_id, l.id as sale_line_id, s.created_at as at,
       s.created_at at time zone st.time_zone as local_at,
       l.product_id, l.quantity, l.total as amount, l.unit_cost, l.quantity * l.unit_cost as cost
  from sales s join sale_lines l on l.sale_id = s.id cross join settings st
 where s.status = 'completed'
union all
select 'return'::text, s.id, l.id, r.created_at,
       r.created_at at time zone st.time_zone,
       l.product_id, -rl.quantity, -rl.amount, l.unit_cost, -(rl.quantity * l.unit_cost)
  from sale_returns r
  join sale_return_lines rl on rl.return_id = r.id
  join sale_lines l on l.id = rl.sale_line_id
  join sales s on s.id = l.sale_id
 cross join settings st
 where s.status = 'completed';

-- Stock valued at today's cost: active, stock-tracked products only. A negative stock is kept
-- (flagged), valued at zero in `counted_value` so it never lowers the total.
create view report_stock_valuation with (security_invoker = true) as
select p.id as product_id, p.sku, p.name, p.category_id, c.name as category,
       p.stock, p.cost, round(p.stock * p.cost, 2) as value, p.stock < 0 as negative,
       case when p.stock > 0 then round(p.stock * p.cost, 2) else 0 end as counted_value
  from products p left join categories c on c.id = p.category_id
 where p.active and p.track_stock;
