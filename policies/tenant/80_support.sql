-- Row rules and grants of every shop schema, part 8: "view as" for the operator's support.
-- {{support}} is reached only through app_private.resolve_admin_view (a READ ONLY transaction,
-- the shop's tenant id set, app.admin_id set). It may SELECT every table of the shop and nothing
-- else: no INSERT, UPDATE, DELETE or TRUNCATE grant exists for it anywhere, so "view as" cannot
-- write even if the transaction were not read only. The shop's tenant_isolation policies still
-- apply, and a restrictive policy per table adds that an admin context must be present.

grant usage on schema {{schema}} to {{support}};
grant select on all tables in schema {{schema}} to {{support}};

do $$
declare
    r record;
begin
    for r in select c.relname from pg_class c
              where c.relnamespace = '{{schema}}'::regnamespace and c.relkind in ('r', 'p')
              order by c.relname loop
        execute format('drop policy if exists support_admin_only on %s.%I', '{{schema}}', r.relname);
        execute format('create policy support_admin_only on %s.%I as restrictive for select to %s
                            using ((select app.current_admin_id()) is not null)',
                       '{{schema}}', r.relname, '{{support}}');
    end loop;
end $$;
