-- The super-admin login's throttle (V17) repeated the window-and-count logic that
-- app_private.throttle_retry_after (V20) now holds for shop logins and password resets: the same
-- limits (5 failures per address, 20 per client address, 15 minutes) through the one function.
create or replace function app_private.admin_begin_login(p_email text, p_ip inet)
    returns table (admin_id bigint, password_hash text, retry_after_seconds integer)
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_retry integer := app_private.throttle_retry_after(
        'app.admin_login_failures', p_email, p_ip, interval '15 minutes', 5, 20);
begin
    return query
        select a.id, a.password_hash, greatest(v_retry, 0)
          from (select 1) one
          left join app.super_admins a on a.email = p_email and a.disabled_at is null;
end $$;
revoke all on function app_private.admin_begin_login(text, inet) from public;
