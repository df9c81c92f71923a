-- Seeds what the `sales` benchmark (scripts/bench.sh sales) sells. Run as a superuser (bypasses row
-- level security) with psql variables:
--   schema    the shop's schema, e.g. tenant_1
--   tenant_id the shop's id (the stock movement trigger and the policies read app.tenant_id)
--   stock     opening stock of every product sold (enough for the whole run)
--   scarce    opening stock of the product of the oversell check
--   catalog   how many catalog products the realistic sales draw from (e.g. 5000)
-- Adds:
--   * a catalog of :catalog stock-tracked products BENCH-CAT-000001.. (barcodes 7797000000001..,
--     unit "u", prices 100.00 + (n mod 97) x 10.50, cost 60 %): the realistic sale takes five
--     distinct products of it at random;
--   * five "hot" products BENCH-SALE-1..5 (barcodes 7799000000011..51, prices 1,250.00 / 380.50 /
--     99.90 / 2,100.00 / 45.75) that every sale of the hot-product row sells, so that all sales
--     queue on the same five row locks;
--   * BENCH-SCARCE (barcode 7799000000099, 10.00) for the oversell race.
-- Opening stock is posted through the stock ledger (one movement per product). Deterministic and
-- idempotent: an existing product is left alone.

\set ON_ERROR_STOP 1
set search_path = :"schema", app, pg_catalog;
set app.tenant_id = :'tenant_id';

begin;

insert into products (sku, barcode, name, unit_id, price, cost, track_stock, active)
select v.sku, v.barcode, v.name, (select id from units where code = 'u'), v.price, round(v.price * 0.6, 2), true, true
  from (values ('BENCH-SALE-1', '7799000000011', 'Yerba mate de caja 1 kg', 1250.00),
               ('BENCH-SALE-2', '7799000000021', 'Galletitas de caja 300 g', 380.50),
               ('BENCH-SALE-3', '7799000000031', 'Caramelos de caja', 99.90),
               ('BENCH-SALE-4', '7799000000041', 'Aceite de caja 1,5 l', 2100.00),
               ('BENCH-SALE-5', '7799000000051', 'Chicle de caja', 45.75),
               ('BENCH-SCARCE', '7799000000099', 'Producto escaso de caja', 10.00)) v(sku, barcode, name, price)
 where not exists (select 1 from products p where p.sku = v.sku)
 order by v.sku;

insert into products (sku, barcode, name, unit_id, price, cost, track_stock, active)
select 'BENCH-CAT-' || lpad(n::text, 6, '0'), (7797000000000 + n)::text, 'Artículo de catálogo ' || n,
       (select id from units where code = 'u'), 100.00 + (n % 97) * 10.50, round((100.00 + (n % 97) * 10.50) * 0.6, 2),
       true, true
  from generate_series(1, :catalog) n
 where not exists (select 1 from products p where p.sku = 'BENCH-CAT-' || lpad(n::text, 6, '0'))
 order by n;

insert into stock_movements (product_id, kind, quantity, reason)
select p.id, 'opening', case when p.sku = 'BENCH-SCARCE' then :scarce else :stock end, 'Stock inicial (banco de carga)'
  from products p
 where (p.sku like 'BENCH-S%' or p.sku like 'BENCH-CAT-%')
   and not exists (select 1 from stock_movements m where m.product_id = p.id)
 order by p.id;

commit;

vacuum (analyze) products;
vacuum (analyze) stock_movements;
