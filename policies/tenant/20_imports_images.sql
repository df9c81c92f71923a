-- CSV imports and product images, per shop. Imports are for owner and admin (they change the
-- catalog); images are seen by everyone in the shop and changed by owner and admin.

alter table {{schema}}.product_imports enable row level security;
alter table {{schema}}.product_imports force row level security;
drop policy if exists tenant_isolation on {{schema}}.product_imports;
create policy tenant_isolation on {{schema}}.product_imports
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.product_imports from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select, insert (filename, content, delimiter, row_count, error_count, created_by),
      update (status, applied_at)
    on {{schema}}.product_imports to {{owner}}, {{admin}};

alter table {{schema}}.product_images enable row level security;
alter table {{schema}}.product_images force row level security;
drop policy if exists tenant_isolation on {{schema}}.product_images;
create policy tenant_isolation on {{schema}}.product_images
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.product_images from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.product_images to {{owner}}, {{admin}}, {{staff}};
grant insert, update, delete on {{schema}}.product_images to {{owner}}, {{admin}};
