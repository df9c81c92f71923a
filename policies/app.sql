-- Row rules and grants of the shared schema `app`. Rendered with the install's role names and
-- applied by `stock migrate` after every migration; safe to apply again.
--
-- Roles: {{app}} is the web app's login (no privileges of its own); a request switches to
-- {{owner}}, {{admin}} or {{staff}} (a shop member) or {{anon}} (signed out). {{schema_owner}}
-- owns every object; the SECURITY DEFINER functions in app_private run as it.

revoke all on schema app, app_private from public;
grant usage on schema app to {{owner}}, {{admin}}, {{staff}}, {{anon}};
-- search extensions (pg_trgm, unaccent) used through app.fold()
revoke all on schema ext from public;
grant usage on schema ext to {{owner}}, {{admin}}, {{staff}};
grant usage on schema app_private to {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

-- Functions: nothing is executable by default; each narrow path is granted by name.
revoke all on all functions in schema app_private from public;
grant execute on function app_private.resolve_session(bytea) to {{app}};
grant execute on function app_private.migration_status() to {{app}};
grant execute on function app_private.begin_login(text, inet) to {{anon}};
grant execute on function app_private.finish_login(text, inet, bigint, boolean, bytea, bytea, interval, text) to {{anon}};
grant execute on function app_private.sign_up(text, text, text, text, text, text, bytea, interval, inet, text) to {{anon}};
grant execute on function app_private.end_session(bytea) to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.my_shops(bytea) to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.switch_shop(bytea, bigint) to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.create_shop_for_session(bytea, text, text) to {{anon}}, {{owner}}, {{admin}}, {{staff}};

-- app.tenants: a member reads the row of the shop in context; only its owner renames it. A spare
-- shop (made ahead for sign-up, sql/app/V23) is nobody's: no request role sees or changes it, even
-- in a context that names it.
alter table app.tenants enable row level security;
alter table app.tenants force row level security;
drop policy if exists definer_all on app.tenants;
create policy definer_all on app.tenants to {{schema_owner}} using (true) with check (true);
drop policy if exists member_read on app.tenants;
create policy member_read on app.tenants for select to {{owner}}, {{admin}}, {{staff}}
    using (id = (select app.current_tenant_id()) and status <> 'spare');
drop policy if exists owner_update on app.tenants;
create policy owner_update on app.tenants for update to {{owner}}
    using (id = (select app.current_tenant_id()) and status <> 'spare')
    with check (id = (select app.current_tenant_id()));
revoke all on app.tenants from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select (id, slug, name, status, created_at) on app.tenants to {{owner}}, {{admin}}, {{staff}};
grant update (name) on app.tenants to {{owner}};

-- app.users: a member sees themselves and the members of the shop in context, never a password hash.
alter table app.users enable row level security;
alter table app.users force row level security;
drop policy if exists definer_all on app.users;
create policy definer_all on app.users to {{schema_owner}} using (true) with check (true);
drop policy if exists member_read on app.users;
create policy member_read on app.users for select to {{owner}}, {{admin}}, {{staff}}
    using (id = (select app.current_user_id())
           or exists (select 1 from app.memberships m
                       where m.user_id = users.id and m.tenant_id = (select app.current_tenant_id())));
revoke all on app.users from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select (id, email, display_name, locale, created_at) on app.users to {{owner}}, {{admin}}, {{staff}};

-- app.memberships: members read their shop's list; only the owner changes roles or removes members.
-- Nobody inserts directly: people join through invitations (a SECURITY DEFINER function that
-- checks the invitation), so an owner cannot attach arbitrary accounts to read their e-mails.
alter table app.memberships enable row level security;
alter table app.memberships force row level security;
drop policy if exists definer_all on app.memberships;
create policy definer_all on app.memberships to {{schema_owner}} using (true) with check (true);
drop policy if exists member_read on app.memberships;
create policy member_read on app.memberships for select to {{owner}}, {{admin}}, {{staff}}
    using (tenant_id = (select app.current_tenant_id()));
drop policy if exists owner_write on app.memberships;
drop policy if exists owner_update on app.memberships;
create policy owner_update on app.memberships for update to {{owner}}
    using (tenant_id = (select app.current_tenant_id()))
    with check (tenant_id = (select app.current_tenant_id()));
drop policy if exists owner_delete on app.memberships;
create policy owner_delete on app.memberships for delete to {{owner}}
    using (tenant_id = (select app.current_tenant_id()));
revoke all on app.memberships from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select on app.memberships to {{owner}}, {{admin}}, {{staff}};
grant update (role), delete on app.memberships to {{owner}};

-- app.sessions and app.login_failures: reached only through the functions above.
alter table app.sessions enable row level security;
alter table app.sessions force row level security;
drop policy if exists definer_all on app.sessions;
create policy definer_all on app.sessions to {{schema_owner}} using (true) with check (true);
revoke all on app.sessions from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

alter table app.login_failures enable row level security;
alter table app.login_failures force row level security;
drop policy if exists definer_all on app.login_failures;
create policy definer_all on app.login_failures to {{schema_owner}} using (true) with check (true);
revoke all on app.login_failures from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

-- Invitations and password resets (sql/app/V9__invitations_and_resets.sql).
-- app.invitations: only the shop's owner reads, creates, resends (new nonce) and revokes them, and
-- only while they are open. Accepting goes through the definer functions below, which check the
-- link's nonce; they are the only way a membership is created besides sign-up.
alter table app.invitations enable row level security;
alter table app.invitations force row level security;
drop policy if exists definer_all on app.invitations;
create policy definer_all on app.invitations to {{schema_owner}} using (true) with check (true);
drop policy if exists owner_read on app.invitations;
create policy owner_read on app.invitations for select to {{owner}}
    using (tenant_id = (select app.current_tenant_id()));
drop policy if exists owner_invite on app.invitations;
create policy owner_invite on app.invitations for insert to {{owner}}
    with check (tenant_id = (select app.current_tenant_id()) and invited_by = (select app.current_user_id()));
drop policy if exists owner_change_open on app.invitations;
create policy owner_change_open on app.invitations for update to {{owner}}
    using (tenant_id = (select app.current_tenant_id()) and accepted_at is null and revoked_at is null)
    with check (tenant_id = (select app.current_tenant_id()));
revoke all on app.invitations from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};
grant select (id, tenant_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by,
              revoked_at, last_sent_at, send_count) on app.invitations to {{owner}};
grant insert (tenant_id, email, role, invited_by, nonce_hash) on app.invitations to {{owner}};
grant update (nonce_hash, revoked_at, last_sent_at, send_count) on app.invitations to {{owner}};

-- app.password_resets and app.password_reset_requests: reached only through the functions below.
alter table app.password_resets enable row level security;
alter table app.password_resets force row level security;
drop policy if exists definer_all on app.password_resets;
create policy definer_all on app.password_resets to {{schema_owner}} using (true) with check (true);
revoke all on app.password_resets from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

alter table app.password_reset_requests enable row level security;
alter table app.password_reset_requests force row level security;
drop policy if exists definer_all on app.password_reset_requests;
create policy definer_all on app.password_reset_requests to {{schema_owner}} using (true) with check (true);
revoke all on app.password_reset_requests from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

-- An invitation link is opened signed out (anon) or signed in with any shop role; the session-bound
-- functions take a live session's hash, never a user id.
grant execute on function app_private.invitation_preview(bigint, bigint, text, bytea)
    to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.accept_invitation_new(bigint, bigint, text, bytea, text, text, text, bytea, bytea, interval, inet, text)
    to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.accept_invitation_for_session(bigint, bigint, text, bytea, bytea)
    to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.request_password_reset(text, inet, bytea, interval) to {{anon}};
grant execute on function app_private.password_reset_for(bytea) to {{anon}};
grant execute on function app_private.reset_password(bytea, text) to {{anon}};
grant execute on function app_private.session_password_hash(bytea) to {{anon}}, {{owner}}, {{admin}}, {{staff}};
grant execute on function app_private.change_password(bytea, text, text) to {{anon}}, {{owner}}, {{admin}}, {{staff}};

-- Plans, subscriptions and subscription payments (sql/app/V15__plans_and_subscriptions.sql):
-- no shop role reads or writes them directly; limits are checked by definer functions and
-- triggers, and the super-admin panel reaches them through its own grants.
alter table app.plans enable row level security;
alter table app.plans force row level security;
drop policy if exists definer_all on app.plans;
create policy definer_all on app.plans to {{schema_owner}} using (true) with check (true);
revoke all on app.plans from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

alter table app.subscriptions enable row level security;
alter table app.subscriptions force row level security;
drop policy if exists definer_all on app.subscriptions;
create policy definer_all on app.subscriptions to {{schema_owner}} using (true) with check (true);
revoke all on app.subscriptions from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

alter table app.subscription_payments enable row level security;
alter table app.subscription_payments force row level security;
drop policy if exists definer_all on app.subscription_payments;
create policy definer_all on app.subscription_payments to {{schema_owner}} using (true) with check (true);
revoke all on app.subscription_payments from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}};

-- Plan limits (sql/app/V16__plan_limits.sql, docs/PLANS.md): the checks run in triggers; the
-- owner reads the shop's plan and usage on the settings page, for the shop in context only.
grant execute on function app_private.shop_plan_usage() to {{owner}};
-- Rules kept by the database (sql/app/V20__database_rules.sql). Ownership changes hands only
-- through the handover: the owner's plain UPDATE of a membership may not set role = 'owner'
-- (restrictive, so it narrows owner_update), and app_private.hand_over_shop, which checks that
-- the caller owns the shop in context, makes the new owner and the former owner an admin at once.
drop policy if exists owner_by_handover_only on app.memberships;
create policy owner_by_handover_only on app.memberships as restrictive for update to {{owner}}
    using (true)
    with check (role <> 'owner');
grant execute on function app_private.hand_over_shop(bigint) to {{owner}};
-- The operator's super-admin panel (sql/app/V17__super_admin.sql). {{superadmin}} is the role of a
-- request whose admin cookie resolved (app_private.resolve_admin_session) — never a shop role, and
-- a shop session never reaches it; {{support}} is "view as": SELECT only, in a READ ONLY
-- transaction, on the one shop the admin session opened (app_private.resolve_admin_view). Every
-- rule below also requires app.admin_id, so switching to the role without a resolved admin
-- session reads nothing.
grant usage on schema app, app_private to {{superadmin}}, {{support}};
grant usage on schema ext to {{support}};
grant execute on function app_private.resolve_admin_session(bytea) to {{app}};
grant execute on function app_private.resolve_admin_view(bytea, bigint) to {{app}};
grant execute on function app_private.admin_begin_login(text, inet) to {{anon}};
grant execute on function app_private.admin_finish_login(text, inet, bigint, boolean, bytea, bytea, interval, text) to {{anon}};
grant execute on function app_private.end_admin_session(bytea) to {{superadmin}};
grant execute on function app_private.admin_start_view(bytea, bigint) to {{superadmin}};
grant execute on function app_private.admin_shop_usage(text, bigint, integer, integer) to {{superadmin}};
grant execute on function app_private.admin_shop_members(bigint) to {{superadmin}};

-- accounts, sessions, login failures: only through the functions above (names are readable for
-- the audit page, hashes never)
alter table app.super_admins enable row level security;
alter table app.super_admins force row level security;
drop policy if exists definer_all on app.super_admins;
create policy definer_all on app.super_admins to {{schema_owner}} using (true) with check (true);
drop policy if exists superadmin_read on app.super_admins;
create policy superadmin_read on app.super_admins for select to {{superadmin}}
    using ((select app.current_admin_id()) is not null);
revoke all on app.super_admins from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}}, {{superadmin}}, {{support}};
grant select (id, email, display_name, disabled_at, created_at) on app.super_admins to {{superadmin}};

alter table app.admin_sessions enable row level security;
alter table app.admin_sessions force row level security;
drop policy if exists definer_all on app.admin_sessions;
create policy definer_all on app.admin_sessions to {{schema_owner}} using (true) with check (true);
revoke all on app.admin_sessions from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}}, {{superadmin}}, {{support}};

alter table app.admin_login_failures enable row level security;
alter table app.admin_login_failures force row level security;
drop policy if exists definer_all on app.admin_login_failures;
create policy definer_all on app.admin_login_failures to {{schema_owner}} using (true) with check (true);
revoke all on app.admin_login_failures from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}}, {{superadmin}}, {{support}};

-- the audit trail: read by super-admins; written only by definer functions and triggers; nobody
-- updates, deletes or truncates it (no grant, and a trigger refuses it even for the owner)
alter table app.admin_audit enable row level security;
alter table app.admin_audit force row level security;
drop policy if exists definer_all on app.admin_audit;
drop policy if exists definer_insert on app.admin_audit;
drop policy if exists definer_read on app.admin_audit;
create policy definer_insert on app.admin_audit for insert to {{schema_owner}} with check (true);
create policy definer_read on app.admin_audit for select to {{schema_owner}} using (true);
drop policy if exists superadmin_read on app.admin_audit;
create policy superadmin_read on app.admin_audit for select to {{superadmin}}
    using ((select app.current_admin_id()) is not null);
revoke all on app.admin_audit from {{app}}, {{owner}}, {{admin}}, {{staff}}, {{anon}}, {{superadmin}}, {{support}};
grant select on app.admin_audit to {{superadmin}};

-- shops: the panel reads them all and changes only their status (suspend / reactivate)
drop policy if exists superadmin_read on app.tenants;
create policy superadmin_read on app.tenants for select to {{superadmin}}
    using ((select app.current_admin_id()) is not null and status <> 'spare');
drop policy if exists superadmin_status on app.tenants;
create policy superadmin_status on app.tenants for update to {{superadmin}}
    using ((select app.current_admin_id()) is not null and status <> 'spare')
    with check ((select app.current_admin_id()) is not null and status <> 'spare');
revoke all on app.tenants from {{superadmin}}, {{support}};
grant select (id, slug, name, status, schema_name, schema_version, locale, created_at) on app.tenants to {{superadmin}};
grant update (status) on app.tenants to {{superadmin}};

-- plans, subscriptions, manual payments
drop policy if exists superadmin_all on app.plans;
create policy superadmin_all on app.plans for all to {{superadmin}}
    using ((select app.current_admin_id()) is not null)
    with check ((select app.current_admin_id()) is not null);
revoke all on app.plans from {{superadmin}}, {{support}};
grant select, insert (code, name, max_members, max_products, max_monthly_sales, monthly_price),
      update (name, max_members, max_products, max_monthly_sales, monthly_price, updated_at)
    on app.plans to {{superadmin}};

drop policy if exists superadmin_all on app.subscriptions;
create policy superadmin_all on app.subscriptions for all to {{superadmin}}
    using ((select app.current_admin_id()) is not null)
    with check ((select app.current_admin_id()) is not null);
revoke all on app.subscriptions from {{superadmin}}, {{support}};
grant select, update (plan_code, status, trial_ends_on, renews_on, updated_at)
    on app.subscriptions to {{superadmin}};

drop policy if exists superadmin_read on app.subscription_payments;
create policy superadmin_read on app.subscription_payments for select to {{superadmin}}
    using ((select app.current_admin_id()) is not null);
drop policy if exists superadmin_record on app.subscription_payments;
create policy superadmin_record on app.subscription_payments for insert to {{superadmin}}
    with check (recorded_by = (select app.current_admin_id()));
revoke all on app.subscription_payments from {{superadmin}}, {{support}};
grant select, insert (tenant_id, amount, paid_on, method, reference, recorded_by)
    on app.subscription_payments to {{superadmin}};

-- "view as": the shop in context, its members' names (sales and movements show who), read only
drop policy if exists support_read on app.tenants;
create policy support_read on app.tenants for select to {{support}}
    using (id = (select app.current_tenant_id()) and (select app.current_admin_id()) is not null
           and status <> 'spare');
grant select (id, slug, name, status, created_at) on app.tenants to {{support}};
drop policy if exists support_read on app.users;
create policy support_read on app.users for select to {{support}}
    using ((select app.current_admin_id()) is not null
           and exists (select 1 from app.memberships m
                        where m.user_id = users.id and m.tenant_id = (select app.current_tenant_id())));
grant select (id, email, display_name, locale, created_at) on app.users to {{support}};
drop policy if exists support_read on app.memberships;
create policy support_read on app.memberships for select to {{support}}
    using (tenant_id = (select app.current_tenant_id()) and (select app.current_admin_id()) is not null);
grant select on app.memberships to {{support}};
