-- GET /dashboard, owner and admin (src/domain/dashboard.rs, WITH_MONEY)
with st as (select time_zone as tz from settings)
     select 0 as part, null::bigint as id, null::text as name,
            coalesce(sum(m.amount) filter (where m.kind in ('sale', 'sale_void', 'sale_return', 'customer_payment', 'other_income')), 0) as a,
            coalesce(-sum(m.amount) filter (where m.kind in ('invoice_payment', 'other_expense')), 0) as b,
            null::text as unit, null::timestamp as at, null::boolean as voided
       from money_ledger m
      where m.at >= (select (($1::timestamptz at time zone tz)::date)::timestamp at time zone tz from st)
        and m.at < (select (($1::timestamptz at time zone tz)::date + 1)::timestamp at time zone tz from st)
     union all
     select 1, active_products, null, null, null, null, null, null from shop_counters
     union all
     (select 2, p.id, p.name, p.stock, p.min_stock, u.code, null, null
        from products p join units u on u.id = p.unit_id
       where p.active and p.track_stock and p.low_stock_gap is not null
       order by p.low_stock_gap, p.id limit 10)
     union all
     (select 3, s.id, c.name, s.total, null, null, s.created_at at time zone st.tz, s.status = 'voided'
        from sales s join customers c on c.id = s.customer_id cross join st
       order by s.id desc limit 10)
     union all
     (select 4, i.id, s.name, i.total + i.credited - i.paid, i.supplier_id::numeric, i.number,
             i.due_date::timestamp,
             i.due_date < (select ($1::timestamptz at time zone tz)::date from st)
        from purchase_invoices i join suppliers s on s.id = i.supplier_id
       where i.kind = 'invoice' and i.status = 'received' and i.payment_status <> 'paid'
         and i.due_date <= (select ($1::timestamptz at time zone tz)::date + 7 from st)
       order by i.due_date, i.id limit 10);
-- GET /dashboard, staff (WITHOUT_MONEY)
with st as (select time_zone as tz from settings)
     select -1 as part, null::bigint as id, null::text as name, null::numeric as a, null::numeric as b,
            null::text as unit, null::timestamp as at, null::boolean as voided
      where $1::timestamptz is null
     union all
     select 1, active_products, null, null, null, null, null, null from shop_counters
     union all
     (select 2, p.id, p.name, p.stock, p.min_stock, u.code, null, null
        from products p join units u on u.id = p.unit_id
       where p.active and p.track_stock and p.low_stock_gap is not null
       order by p.low_stock_gap, p.id limit 10)
     union all
     (select 3, s.id, c.name, null, null, null, s.created_at at time zone st.tz, s.status = 'voided'
        from sales s join customers c on c.id = s.customer_id cross join st
       order by s.id desc limit 10);
