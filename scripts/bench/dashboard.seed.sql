-- Seeds the `dashboard` benchmark (scripts/bench.sh dashboard): :sales sales spread evenly over the
-- last 365 days up to now (so "today" holds about :sales / 365 of them, however late the run), each
-- with one line, one cash payment and its money_ledger income row, plus a few other expenses
-- today. Run as a superuser with psql variables:
--   schema    the shop's schema, e.g. tenant_1
--   tenant_id the shop's id
--   sales     how many sales to add (the products come from seed_products.sql)
-- For speed the rows are written set-based with triggers off (session_replication_role =
-- replica), exactly as the sale triggers would write the money (sale, payment, ledger row); the
-- stock movements of these sales are NOT written (the dashboard does not read them). Idempotent:
-- a shop that already has the bench's sales is left alone.

\set ON_ERROR_STOP 1
set search_path = :"schema", app, pg_catalog;
set app.tenant_id = :'tenant_id';

begin;
set local session_replication_role = replica;

create temp table bench_pick on commit drop as
with p as (select array_agg(id order by id) ids, array_agg(price order by id) prices,
                  array_agg(name order by id) names
             from products where active and price > 0)
select g.i, now() - (g.i * interval '365 days' / :sales) as at,
       p.ids[k] as product_id, p.prices[k] as price, p.names[k] as name
  from generate_series(0, :sales - 1) g(i)
 cross join p
 cross join lateral (select 1 + ((hashint4(g.i + 99)::bigint + 2147483648) % cardinality(p.ids))::int as k) x
 where not exists (select 1 from sales where note = 'banco de carga');

insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, note, created_at)
select gen_random_uuid(), (select id from customers where is_final_consumer),
       (select id from app.users where email = 'owner@demo.test'), price, price, 0, 'banco de carga', at
  from bench_pick order by at;

-- triggers are off here (the ledger rows are written below), so the cost at the time of sale
-- that the sale line trigger records is written directly
insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total, unit_cost)
select s.id, 1, b.product_id, b.name, 1, b.price, 0, b.price, pr.cost
  from bench_pick b join sales s on s.created_at = b.at and s.note = 'banco de carga'
  join products pr on pr.id = b.product_id;

insert into sale_payments (sale_id, method, amount)
select s.id, 'cash', s.total from sales s
 where s.note = 'banco de carga' and not exists (select 1 from sale_payments p where p.sale_id = s.id);

insert into money_ledger (at, kind, method, amount, sale_id, customer_id, user_id)
select s.created_at, 'sale', 'cash', s.total, s.id, s.customer_id, s.user_id from sales s
 where s.note = 'banco de carga' and not exists (select 1 from money_ledger m where m.sale_id = s.id);

insert into money_ledger (at, kind, method, amount, category_id, category, description)
select now() - interval '1 minute' * g, 'other_expense', 'cash', -1500 - g, c.id, c.name, 'Gasto del banco de carga'
  from generate_series(1, 3) g
 cross join (select id, name from expense_categories order by id limit 1) c
 where (select count(*) from money_ledger where description = 'Gasto del banco de carga') = 0;

commit;

vacuum (analyze) sales;
vacuum (analyze) sale_lines;
vacuum (analyze) sale_payments;
vacuum (analyze) money_ledger;
vacuum (analyze) products;
