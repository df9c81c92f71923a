-- Less database work per sale (issue 8), measured in instructions (callgrind, docs/BENCHMARKS.md,
-- "Sales", ninth session): a five-line checkout cost PostgreSQL about 6.8 million instructions.
--
-- 1. The product code rules run only when a code is written. PostgreSQL evaluates every CHECK
--    constraint of a row on every UPDATE, whatever columns it sets. So each stock update of a
--    sale (one per product) ran the SKU and barcode patterns again: two regular expressions per
--    product, about 420,000 instructions per five-line sale (6 %), for codes that did not change.
--    The two CHECK constraints become BEFORE INSERT OR UPDATE OF sku, barcode triggers with the
--    same names, whose WHEN clause holds the same pattern (sql/app/V27 raises the same error).
--    PostgreSQL fires an UPDATE OF trigger only when the statement sets one of those columns, so
--    a stock update skips them; every insert and every change of a code is checked as before.
--    The other rules of products (name, description, price, cost, minimum stock) stay CHECK
--    constraints: they are cheap, and the whole set costs about 180,000 more.
-- 2. The sale line's cost trigger is this shop's own function, with the shop's table named in
--    its SQL, instead of the shared SECURITY DEFINER one that switched search_path to the shop on
--    every line (about 185,000 instructions per five-line sale). It runs as the caller
--    (SECURITY INVOKER): a SECURITY DEFINER function lives only in app_private, with a pinned
--    search_path (tests/catalog_audit.rs), and pinning one is the very cost removed here. Every
--    role that may insert a sale line reads `products.cost` (policies/tenant/10_catalog.sql,
--    pinned by tests/pgtap/00_structure.sql) under the same tenant context as the line, so it
--    reads the same row the definer read (RLS is forced for the schema owner too); without that
--    grant the line would be refused (42501), never given another cost. No role can write
--    `unit_cost` itself (no INSERT grant on the column), and every name in the SQL is qualified
--    (the shop's table, pg_catalog's operator), so the caller's search_path cannot change what
--    it reads.
-- 3. `sale_whole_unchecked` (tenant V14), called by the WHEN clause of every sale line and
--    payment, names the shop's table instead of setting search_path on each call (about 55,000
--    instructions per sale).
-- The functions are written with this schema's name (format), so a shop restored or cloned under
-- another schema gets its own: tenant migrations run in the new schema.

alter table products drop constraint products_sku_check, drop constraint products_barcode_check;
create trigger products_barcode_check before insert or update of barcode on products
    for each row when (new.barcode !~ '^[0-9A-Za-z-]{4,40}$')
    execute function app_private.product_code_refused();
create trigger products_sku_check before insert or update of sku on products
    for each row when (new.sku !~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$')
    execute function app_private.product_code_refused();

do $migration$
begin
    execute format($f$
        create function %1$I.sale_line_cost() returns trigger
            language plpgsql security invoker
            as $body$
        begin
            new.unit_cost := coalesce((select p.cost from %1$I.products p
                                        where p.id operator(pg_catalog.=) new.product_id), 0);
            return new;
        end $body$$f$, current_schema());
    execute format($f$
        create or replace function %1$I.sale_whole_unchecked(p_sale bigint, p_xmin xid, p_cmin cid)
            returns boolean
            language plpgsql volatile
            as $body$
        begin
            return not exists (select from %1$I.sales s
                                where s.id operator(pg_catalog.=) p_sale
                                  and s.xmin operator(pg_catalog.=) p_xmin
                                  and s.cmin operator(pg_catalog.=) p_cmin
                                  and s.xmax operator(pg_catalog.=) '0'::pg_catalog.xid);
        end $body$$f$, current_schema());
end $migration$;
revoke all on function sale_line_cost() from public;

drop trigger sale_lines_cost on sale_lines;
create trigger sale_lines_cost before insert on sale_lines
    for each row execute function sale_line_cost();
