-- Invitations (the owner invites people by e-mail) and password resets.
-- Row rules and grants are in policies/app.sql (section "Invitations and password resets").
--
-- An invitation link is a signed token (HS256, key derived from STOCK_SECRET_KEY) that carries the
-- invitation id, the shop, the e-mail, an expiry and a random nonce. Only the nonce's SHA-256 is
-- stored here: a resend stores a new one, so the previous link stops working, and the functions
-- below answer only to a caller who knows the nonce of the current link.

create table app.invitations (
    id           bigint generated always as identity primary key,
    tenant_id    bigint not null references app.tenants (id) on delete cascade,
    email        text not null
                 constraint invitations_email_check check (
                     email = lower(btrim(email)) and length(email) <= 254
                     and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    -- nobody is invited as owner: ownership is handed over, not granted by e-mail
    role         text not null constraint invitations_role_check check (role in ('admin', 'staff')),
    invited_by   bigint references app.users (id) on delete set null,
    nonce_hash   bytea not null constraint invitations_nonce_hash_check check (length(nonce_hash) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null default now() + interval '7 days',
    accepted_at  timestamptz,
    accepted_by  bigint references app.users (id) on delete set null,
    revoked_at   timestamptz,
    -- last successful delivery to the mail server, and how many there were
    last_sent_at timestamptz,
    send_count   integer not null default 0 constraint invitations_send_count_check check (send_count >= 0),
    constraint invitations_closed_once check (accepted_at is null or revoked_at is null)
);
-- one open invitation per e-mail and shop (an expired one still counts: resend or revoke it)
create unique index invitations_one_open_key on app.invitations (tenant_id, email)
    where accepted_at is null and revoked_at is null;
create index invitations_tenant_idx on app.invitations (tenant_id, created_at desc);

-- The server decides when a link expires: 7 days from when it was (re)issued, whatever the
-- caller wrote.
create function app_private.invitation_defaults() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        new.created_at := now();
        new.expires_at := now() + interval '7 days';
        new.accepted_at := null;
        new.accepted_by := null;
        new.revoked_at := null;
        new.last_sent_at := null;
        new.send_count := 0;
    elsif new.nonce_hash is distinct from old.nonce_hash then
        new.expires_at := now() + interval '7 days';
    end if;
    return new;
end $$;

create trigger invitations_defaults before insert or update on app.invitations
    for each row execute function app_private.invitation_defaults();

-- Every invitation event goes to the shop's audit log: sent (created), resent (new link),
-- revoked, accepted. Delivery bookkeeping (last_sent_at, send_count) is not an event.
create function app_private.audit_invitation() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_action text;
    v_user bigint := app.current_user_id();
    v_prev_tenant text := current_setting('app.tenant_id', true);
begin
    if tg_op = 'INSERT' then
        v_action := 'sent';
    elsif new.accepted_at is not null and old.accepted_at is null then
        v_action := 'accepted';
        v_user := new.accepted_by;
    elsif new.revoked_at is not null and old.revoked_at is null then
        v_action := 'revoked';
    elsif new.nonce_hash is distinct from old.nonce_hash then
        v_action := 'resent';
    else
        return null;
    end if;
    -- the shop's audit log admits rows only in that shop's context; an invitation accepted by
    -- someone signed in elsewhere (or nowhere) is still the shop's event
    perform set_config('app.tenant_id', new.tenant_id::text, true);
    perform app_private.write_audit(new.tenant_id, v_action, 'invitation', new.id::text, null,
        jsonb_build_object('email', new.email, 'role', new.role, 'expires_at', new.expires_at), v_user);
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
    return null;
end $$;

create trigger invitations_audit after insert or update on app.invitations
    for each row execute function app_private.audit_invitation();

-- What a link shows, to the holder of the link only (the nonce of the current link is needed).
-- status: pending | expired | accepted | revoked | replaced (an older link of a resent invitation).
create function app_private.invitation_preview(p_id bigint, p_tenant_id bigint, p_email text, p_nonce_hash bytea)
    returns table (status text, shop_name text, email text, role text, account_exists boolean, shop_locale text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    i app.invitations;
    v_shop text;
    v_schema text;
    v_locale text;
    v_prev_tenant text := current_setting('app.tenant_id', true);
begin
    select * into i from app.invitations x
     where x.id = p_id and x.tenant_id = p_tenant_id and x.email = p_email;
    if not found then
        return;
    end if;
    if i.nonce_hash <> p_nonce_hash then
        return query select 'replaced'::text, null::text, null::text, null::text, null::boolean, null::text;
        return;
    end if;
    select t.name, t.schema_name into v_shop, v_schema
      from app.tenants t where t.id = i.tenant_id and t.status = 'active';
    if v_shop is null then
        return;
    end if;
    -- the shop's settings admit reads only in that shop's context
    perform set_config('app.tenant_id', i.tenant_id::text, true);
    execute format('select locale from %I.settings', v_schema) into v_locale;
    perform set_config('app.tenant_id', coalesce(v_prev_tenant, ''), true);
    return query select
        case when i.accepted_at is not null then 'accepted'
             when i.revoked_at is not null then 'revoked'
             when i.expires_at <= now() then 'expired'
             else 'pending' end,
        v_shop, i.email, i.role,
        exists (select 1 from app.users u where u.email = i.email),
        v_locale;
end $$;

-- Locks the invitation a link names and says whether it can still be accepted.
create function app_private.open_invitation(p_id bigint, p_tenant_id bigint, p_email text, p_nonce_hash bytea)
    returns app.invitations
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    i app.invitations;
begin
    select * into i from app.invitations
     where id = p_id and tenant_id = p_tenant_id and email = p_email and nonce_hash = p_nonce_hash
       for update;
    if not found or not exists (select 1 from app.tenants t where t.id = i.tenant_id and t.status = 'active') then
        raise exception 'invitation not found' using errcode = 'P0002', hint = 'invalid';
    end if;
    if i.accepted_at is not null then
        raise exception 'invitation already used' using errcode = 'P0001', hint = 'accepted';
    elsif i.revoked_at is not null then
        raise exception 'invitation revoked' using errcode = 'P0001', hint = 'revoked';
    elsif i.expires_at <= now() then
        raise exception 'invitation expired' using errcode = 'P0001', hint = 'expired';
    end if;
    return i;
end $$;

-- Accepting as a new person: the account, the membership and a first session, atomically.
-- Returns the shop id. An e-mail that has an account meanwhile raises users_email_key.
create function app_private.accept_invitation_new(
    p_id bigint, p_tenant_id bigint, p_email text, p_nonce_hash bytea,
    p_display_name text, p_password_hash text, p_locale text,
    p_old_token_hash bytea, p_token_hash bytea, p_ttl interval, p_ip inet, p_user_agent text
) returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    i app.invitations := app_private.open_invitation(p_id, p_tenant_id, p_email, p_nonce_hash);
    v_user bigint;
begin
    insert into app.users (email, display_name, password_hash, locale)
    values (i.email, btrim(p_display_name), p_password_hash, p_locale)
    returning id into v_user;
    insert into app.memberships (tenant_id, user_id, role) values (i.tenant_id, v_user, i.role);
    update app.invitations set accepted_at = now(), accepted_by = v_user where id = i.id;
    if p_old_token_hash is not null then
        delete from app.sessions where token_hash = p_old_token_hash;
    end if;
    perform app_private.create_session(v_user, i.tenant_id, p_token_hash, p_ttl, p_ip, p_user_agent);
    return i.tenant_id;
end $$;

-- Accepting as the signed-in owner of the invited e-mail: the membership is added (an existing
-- membership keeps its role) and the session moves to the shop. Bound to a live session, never to
-- a user id the caller names.
create function app_private.accept_invitation_for_session(
    p_id bigint, p_tenant_id bigint, p_email text, p_nonce_hash bytea, p_session_hash bytea
) returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    i app.invitations := app_private.open_invitation(p_id, p_tenant_id, p_email, p_nonce_hash);
    v_user bigint;
begin
    select s.user_id into v_user
      from app.sessions s join app.users u on u.id = s.user_id
     where s.token_hash = p_session_hash and s.expires_at > now() and u.email = i.email;
    if v_user is null then
        raise exception 'the session is not the invited person''s' using errcode = 'P0001', hint = 'wrong_account';
    end if;
    insert into app.memberships (tenant_id, user_id, role) values (i.tenant_id, v_user, i.role)
    on conflict (tenant_id, user_id) do nothing;
    update app.invitations set accepted_at = now(), accepted_by = v_user where id = i.id;
    update app.sessions set tenant_id = i.tenant_id where token_hash = p_session_hash;
    return i.tenant_id;
end $$;

-- Password resets: a random token per request, only its SHA-256 stored, one hour, single use.
create table app.password_resets (
    token_hash bytea primary key constraint password_resets_token_hash_check check (length(token_hash) = 32),
    user_id    bigint not null references app.users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz,
    ip         inet
);
create index password_resets_user_idx on app.password_resets (user_id);

-- Every reset request, known address or not, so the throttle reveals nothing about accounts.
create table app.password_reset_requests (
    id    bigint generated always as identity primary key,
    email text not null,
    ip    inet,
    at    timestamptz not null default now()
);
create index password_reset_requests_email_idx on app.password_reset_requests (email, at);
create index password_reset_requests_ip_idx on app.password_reset_requests (ip, at);

-- A reset request: at most 3 per e-mail and 10 per client address an hour. When allowed, records a
-- token for the account with that e-mail (if any) and returns who to write to.
create function app_private.request_password_reset(
    p_email text, p_ip inet, p_token_hash bytea, p_ttl interval
) returns table (retry_after_seconds integer, user_id bigint, display_name text, locale text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_window interval := interval '1 hour';
    v_retry integer := 0;
    v_oldest timestamptz;
begin
    select min(at) into v_oldest from (
        select at from app.password_reset_requests
         where email = p_email and at > now() - v_window order by at desc limit 3) r
     having count(*) >= 3;
    if v_oldest is not null then
        v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + v_window - now()))::integer);
    end if;
    v_oldest := null;
    if p_ip is not null then
        select min(at) into v_oldest from (
            select at from app.password_reset_requests
             where ip = p_ip and at > now() - v_window order by at desc limit 10) r
         having count(*) >= 10;
        if v_oldest is not null then
            v_retry := greatest(v_retry, ceil(extract(epoch from v_oldest + v_window - now()))::integer);
        end if;
    end if;
    if v_retry > 0 then
        return query select v_retry, null::bigint, null::text, null::text;
        return;
    end if;
    delete from app.password_reset_requests where at < now() - v_window;
    insert into app.password_reset_requests (email, ip) values (p_email, p_ip);
    delete from app.password_resets r where r.expires_at < now() - interval '1 day';
    insert into app.password_resets (token_hash, user_id, expires_at, ip)
    select p_token_hash, u.id, now() + p_ttl, p_ip from app.users u where u.email = p_email;
    return query
        select 0, u.id, u.display_name, u.locale
          from (select 1) one left join app.users u on u.email = p_email;
end $$;

-- Whom an unused, unexpired reset link is for (shown on the reset page).
create function app_private.password_reset_for(p_token_hash bytea) returns text
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select u.email from app.password_resets r join app.users u on u.id = r.user_id
     where r.token_hash = p_token_hash and r.used_at is null and r.expires_at > now();
$$;

-- Uses a reset link: new password, every open link of the account dead, every session ended, the
-- login throttle of the address cleared. Returns the user id, or null when the link is not usable.
create function app_private.reset_password(p_token_hash bytea, p_password_hash text) returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_user bigint;
begin
    select r.user_id into v_user from app.password_resets r
     where r.token_hash = p_token_hash and r.used_at is null and r.expires_at > now()
       for update;
    if v_user is null then
        return null;
    end if;
    update app.users set password_hash = p_password_hash where id = v_user;
    update app.password_resets set used_at = now() where user_id = v_user and used_at is null;
    delete from app.sessions where user_id = v_user;
    delete from app.login_failures where email = (select email from app.users where id = v_user);
    return v_user;
end $$;

-- The stored hash of the signed-in person (to check the current password before a change).
create function app_private.session_password_hash(p_session_hash bytea) returns text
    language sql stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
    select u.password_hash from app.sessions s join app.users u on u.id = s.user_id
     where s.token_hash = p_session_hash and s.expires_at > now();
$$;

-- Changes the signed-in person's password, only if the stored hash is still the one the caller
-- verified against (no lost update between the check and the change), and ends their other
-- sessions and open reset links. True when changed.
create function app_private.change_password(p_session_hash bytea, p_verified_hash text, p_new_hash text)
    returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_user bigint;
begin
    update app.users u set password_hash = p_new_hash
      from app.sessions s
     where s.token_hash = p_session_hash and s.expires_at > now() and u.id = s.user_id
       and u.password_hash = p_verified_hash
    returning u.id into v_user;
    if v_user is null then
        return false;
    end if;
    delete from app.sessions where user_id = v_user and token_hash <> p_session_hash;
    update app.password_resets set used_at = now() where user_id = v_user and used_at is null;
    return true;
end $$;
