-- Plans, subscriptions and manual subscription payments (issue 10). The operator edits plans and
-- records payments from the super-admin panel; limits are enforced by the database where the rows
-- are written (members, products, sales), never by a route.
--
-- A null limit means "no limit". Codes are upper-case identifiers (FREE, BASIC, PRO, ...).
create table app.plans (
    code              text primary key
                      constraint plans_code_check check (code ~ '^[A-Z][A-Z0-9_]{1,19}$'),
    name              text not null
                      constraint plans_name_check check (length(btrim(name)) between 1 and 60),
    max_members       integer constraint plans_max_members_check check (max_members > 0),
    max_products      integer constraint plans_max_products_check check (max_products > 0),
    max_monthly_sales integer constraint plans_max_monthly_sales_check check (max_monthly_sales > 0),
    monthly_price     numeric(12, 2) not null default 0
                      constraint plans_monthly_price_check check (monthly_price >= 0),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);

insert into app.plans (code, name, max_members, max_products, max_monthly_sales, monthly_price) values
    ('FREE', 'Free', 2, 200, 300, 0),
    ('BASIC', 'Basic', 5, 5000, 5000, 19),
    ('PRO', 'Pro', null, null, null, 49);

-- One subscription per shop. New shops start on a PRO trial (see the trigger below); what happens
-- when a trial ends is the operator's decision (the panel lists trials that have ended).
create table app.subscriptions (
    tenant_id     bigint primary key references app.tenants (id) on delete cascade,
    plan_code     text not null references app.plans (code) on update cascade,
    status        text not null default 'trialing'
                  constraint subscriptions_status_check
                  check (status in ('trialing', 'active', 'past_due', 'canceled')),
    trial_ends_on date,
    renews_on     date,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index subscriptions_plan_idx on app.subscriptions (plan_code);

-- Payments are recorded by hand (bank transfer, cash, card terminal): nothing is charged here.
create table app.subscription_payments (
    id          bigint generated always as identity primary key,
    tenant_id   bigint not null references app.tenants (id) on delete cascade,
    amount      numeric(12, 2) not null
                constraint subscription_payments_amount_check check (amount > 0),
    paid_on     date not null,
    method      text not null
                constraint subscription_payments_method_check
                check (method in ('transfer', 'cash', 'card', 'other')),
    reference   text not null default ''
                constraint subscription_payments_reference_check check (length(reference) <= 200),
    -- the super-admin who recorded it (a foreign key is added with the super-admin accounts)
    recorded_by bigint,
    created_at  timestamptz not null default now()
);
create index subscription_payments_tenant_idx on app.subscription_payments (tenant_id, paid_on desc);

-- Every shop has a subscription from the moment it exists: a 30-day PRO trial.
create function app_private.start_subscription() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    insert into app.subscriptions (tenant_id, plan_code, status, trial_ends_on)
    values (new.id, 'PRO', 'trialing', (now() at time zone 'UTC')::date + 30)
    on conflict (tenant_id) do nothing;
    return null;
end $$;
revoke all on function app_private.start_subscription() from public;

create trigger tenants_start_subscription after insert on app.tenants
    for each row execute function app_private.start_subscription();

-- Shops that exist already keep working as they did: PRO, active.
insert into app.subscriptions (tenant_id, plan_code, status)
select id, 'PRO', 'active' from app.tenants
on conflict (tenant_id) do nothing;
