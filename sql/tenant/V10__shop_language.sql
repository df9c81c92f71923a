-- Keeps app.tenants.locale equal to this shop's settings.locale (see sql/app/V14__shop_language.sql).
create trigger settings_locale_sync after update of locale on settings
    for each row when (old.locale is distinct from new.locale)
    execute function app_private.sync_shop_locale();
update app.tenants set locale = (select locale from settings) where id = app.current_tenant_id();
