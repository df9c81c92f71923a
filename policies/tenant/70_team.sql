-- Row rules and grants of every shop schema: shop settings beyond 00_base (issue 6).
-- 00_base revokes every privilege on settings (column grants included) before granting, so this
-- file runs after it and only adds.

-- settings: the owner also sets how many days a quote stays valid (admin and staff read it).
grant update (quote_validity_days) on {{schema}}.settings to {{owner}};
