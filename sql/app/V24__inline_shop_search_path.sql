-- app_private.shop_search_path (V18) is called by every trigger of the sale path, about 17 times
-- per five-line sale. Declared with a `set search_path` clause, an SQL function is never inlined:
-- each call went through the function manager with its own configuration switch (about 15 µs,
-- some 0.25 ms of database time per sale). Now it is an SQL-standard body (bound to
-- pg_catalog.quote_ident when created, so no search_path can redirect it) without that clause,
-- and PostgreSQL inlines it into the calling expression. Same result for every input.
create or replace function app_private.shop_search_path(p_schema text) returns text
    language sql immutable strict parallel safe
    return 'pg_catalog, ' || pg_catalog.quote_ident(p_schema) || ', pg_temp';
revoke all on function app_private.shop_search_path(text) from public;
