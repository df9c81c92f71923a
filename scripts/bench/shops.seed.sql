-- Functions of the `shops` benchmark scenario (scripts/bench/shops.sh), defined in pg_temp of the
-- psql session that creates a batch of shops; run as a superuser. Nothing here ships in the product.
--
-- pg_temp.scale_token(i)       the session cookie of bench shop i's owner (43 URL-safe characters,
--                              the shape of a real token); scripts/bench/scale.py derives the same
-- pg_temp.scale_shop(i, p, s)  bench shop i through the real provisioning path,
--                              app_private.sign_up (user, tenant row, schema, every tenant migration,
--                              policies, owner membership, session), then p products with opening
--                              stock through the stock ledger and s sales over the last 90 days.
--                              Skips a shop that exists (resumable). Returns the tenant id.
--
-- Sales are written set-based with triggers off (session_replication_role = replica), with their
-- line, cash payment and money ledger income row, as scripts/bench/dashboard.seed.sql does; their
-- stock movements are not written (no page measured here reads them).

\set ON_ERROR_STOP 1

create function pg_temp.scale_token(i integer) returns text
    language sql immutable
    as $$ select rpad('scale-bench-shop-' || i || '-', 43, 'x') $$;

create function pg_temp.scale_shop(i integer, p_products integer, p_sales integer) returns bigint
    language plpgsql
    as $$
declare
    v_slug text := 'scale-' || lpad(i::text, 4, '0');
    v_tenant bigint;
    v_schema text;
    v_user bigint;
    v_hash text;
begin
    select id into v_tenant from app.tenants where slug = v_slug;
    if v_tenant is not null then
        return v_tenant;
    end if;
    -- every bench owner gets the demo owner's password (stock demo set it)
    select password_hash into strict v_hash from app.users where email = 'owner@demo.test';
    v_tenant := app_private.sign_up(
        'Tienda ' || lpad(i::text, 4, '0'), v_slug, 'owner-' || i || '@scale.bench', 'Dueño ' || i, v_hash, 'es',
        sha256(convert_to(pg_temp.scale_token(i), 'UTF8')), interval '30 days', null, null);
    select schema_name into strict v_schema from app.tenants where id = v_tenant;
    select id into strict v_user from app.users where email = 'owner-' || i || '@scale.bench';

    -- the shop's own context, as a request would have it (the stock trigger reads app.tenant_id)
    perform set_config('app.tenant_id', v_tenant::text, true);
    perform set_config('app.user_id', v_user::text, true);
    perform set_config('search_path', quote_ident(v_schema) || ', app, pg_catalog', true);

    insert into products (sku, barcode, name, unit_id, price, cost, min_stock, track_stock, active)
    select 'SC-' || lpad(g::text, 6, '0'),
           '781' || lpad(g::text, 10, '0'),
           (array['Yerba mate', 'Azúcar', 'Arroz largo fino', 'Fideos spaghetti', 'Aceite de girasol',
                  'Gaseosa cola', 'Agua mineral', 'Leche entera', 'Dulce de leche', 'Jamón cocido',
                  'Lavandina', 'Detergente limón', 'Alfajor triple', 'Galletitas de agua', 'Café molido',
                  'Té negro', 'Atún al natural', 'Vino tinto Malbec', 'Pilas AA', 'Papa negra'])[1 + h % 20]
               || ' ' || (array['Ñandú', 'Crucero', 'Güemes', 'La Paulina', 'Añelo', 'Don Justo',
                                'Pampa', 'Tandil'])[1 + (h / 20) % 8]
               || ' ' || g,
           u.id,
           round(500 + (h % 9000), -1),
           round((500 + (h % 9000)) * 0.7, 2),
           (h % 12)::numeric,
           g % 20 <> 0,  -- 5 % not stock-tracked
           g % 33 <> 0   -- 3 % inactive
      from (select g, (hashint4(g + i * 7919)::bigint + 2147483648) as h
              from generate_series(1, p_products) g) x
      cross join (select id from units where code = 'u') u;

    -- opening stock through the ledger (its trigger sets products.stock); 1 in 10 starts at zero
    insert into stock_movements (product_id, kind, quantity, reason)
    select p.id, 'opening', 1 + (hashint4(p.id::int + i)::bigint + 2147483648) % 60, 'Stock inicial'
      from products p
     where p.track_stock and p.id % 10 <> 0;

    if p_sales > 0 then
        perform set_config('session_replication_role', 'replica', true);
        create temp table scale_pick on commit drop as
        with pr as (select array_agg(id order by id) ids, array_agg(price order by id) prices,
                           array_agg(name order by id) names, array_agg(cost order by id) costs
                      from products where active and price > 0)
        select g.k, now() - (g.k * interval '90 days' / p_sales) as at,
               pr.ids[j] as product_id, pr.prices[j] as price, pr.names[j] as name, pr.costs[j] as cost
          from generate_series(0, p_sales - 1) g(k)
         cross join pr
         cross join lateral (select 1 + ((hashint4(g.k + i)::bigint + 2147483648) % cardinality(pr.ids))::int as j) x;
        insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, note, created_at)
        select gen_random_uuid(), (select id from customers where is_final_consumer), v_user, price, price, 0,
               'banco de escala', at
          from scale_pick order by at;
        insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount,
                                total, unit_cost)
        select s.id, 1, b.product_id, b.name, 1, b.price, 0, b.price, b.cost
          from scale_pick b join sales s on s.created_at = b.at;
        insert into sale_payments (sale_id, method, amount) select s.id, 'cash', s.total from sales s;
        insert into money_ledger (at, kind, method, amount, sale_id, customer_id, user_id)
        select s.created_at, 'sale', 'cash', s.total, s.id, s.customer_id, s.user_id from sales s;
        drop table scale_pick;
        perform set_config('session_replication_role', 'origin', true);
    end if;
    return v_tenant;
end $$;
