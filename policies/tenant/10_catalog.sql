-- Catalog and stock, per shop. Everyone in the shop reads the catalog and its stock; owner and
-- admin manage products, categories, units and post stock movements; staff note missing products.
-- No role may write products.stock: it changes only through the movement trigger
-- (app_private.apply_stock_movement), and movements are never updated or deleted.

-- units
alter table {{schema}}.units enable row level security;
alter table {{schema}}.units force row level security;
drop policy if exists tenant_isolation on {{schema}}.units;
create policy tenant_isolation on {{schema}}.units
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.units from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.units to {{owner}}, {{admin}}, {{staff}};
grant insert (code, name, divisible), update (name, divisible), delete on {{schema}}.units to {{owner}}, {{admin}};

-- categories
alter table {{schema}}.categories enable row level security;
alter table {{schema}}.categories force row level security;
drop policy if exists tenant_isolation on {{schema}}.categories;
create policy tenant_isolation on {{schema}}.categories
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.categories from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.categories to {{owner}}, {{admin}}, {{staff}};
grant insert (name), update (name), delete on {{schema}}.categories to {{owner}}, {{admin}};

-- products (no grant on stock: it moves only through stock_movements)
alter table {{schema}}.products enable row level security;
alter table {{schema}}.products force row level security;
drop policy if exists tenant_isolation on {{schema}}.products;
create policy tenant_isolation on {{schema}}.products
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.products from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.products to {{owner}}, {{admin}}, {{staff}};
grant insert (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock, track_stock, active),
      update (sku, barcode, name, description, category_id, unit_id, price, cost, min_stock, track_stock, active, updated_at),
      delete
    on {{schema}}.products to {{owner}}, {{admin}};

-- stock_movements: append-only ledger; owner and admin post adjustments and stocktakes
alter table {{schema}}.stock_movements enable row level security;
alter table {{schema}}.stock_movements force row level security;
drop policy if exists tenant_isolation on {{schema}}.stock_movements;
create policy tenant_isolation on {{schema}}.stock_movements
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
drop policy if exists manual_kinds on {{schema}}.stock_movements;
create policy manual_kinds on {{schema}}.stock_movements as restrictive for insert to {{owner}}, {{admin}}
    with check (kind in ('opening', 'adjustment', 'stocktake', 'import'));
revoke all on {{schema}}.stock_movements from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.stock_movements to {{owner}}, {{admin}}, {{staff}};
grant insert (product_id, kind, quantity, counted, reason) on {{schema}}.stock_movements to {{owner}}, {{admin}};

-- missing_products: staff note what customers asked for; owner and admin also remove entries
alter table {{schema}}.missing_products enable row level security;
alter table {{schema}}.missing_products force row level security;
drop policy if exists tenant_isolation on {{schema}}.missing_products;
create policy tenant_isolation on {{schema}}.missing_products
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.missing_products from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (name, note, created_by), update (requests, note, last_requested_at)
    on {{schema}}.missing_products to {{owner}}, {{admin}}, {{staff}};
grant delete on {{schema}}.missing_products to {{owner}}, {{admin}};
