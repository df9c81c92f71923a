-- Row rules and grants of every shop schema, part 1: the schema, settings and the audit log.
-- Rendered per shop: {{schema}} is the shop's schema and {{tenant_id}} its constant id, so a
-- request whose app.tenant_id names another shop (or none) sees zero rows here.

revoke all on schema {{schema}} from public;
grant usage on schema {{schema}} to {{owner}}, {{admin}}, {{staff}};

-- settings: everyone in the shop reads them; only the owner changes them.
alter table {{schema}}.settings enable row level security;
alter table {{schema}}.settings force row level security;
drop policy if exists tenant_isolation on {{schema}}.settings;
create policy tenant_isolation on {{schema}}.settings
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.settings from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.settings to {{owner}}, {{admin}}, {{staff}};
grant update (currency, time_zone, locale, allow_negative_stock, receipt_header, receipt_footer, updated_at)
    on {{schema}}.settings to {{owner}};

-- audit_log: owner and admin read it; rows come only from triggers; nobody updates or deletes.
alter table {{schema}}.audit_log enable row level security;
alter table {{schema}}.audit_log force row level security;
drop policy if exists tenant_isolation on {{schema}}.audit_log;
create policy tenant_isolation on {{schema}}.audit_log
    using ((select app.current_tenant_id()) = {{tenant_id}})
    with check ((select app.current_tenant_id()) = {{tenant_id}});
revoke all on {{schema}}.audit_log from public, {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on {{schema}}.audit_log to {{owner}}, {{admin}};
