-- Base tables of every shop schema. Runs with search_path set to the shop's schema; row rules
-- and grants are applied afterwards from policies/tenant/.

create table settings (
    id                   boolean primary key default true constraint settings_single_row check (id),
    currency             text not null default 'ARS' constraint settings_currency_check check (currency ~ '^[A-Z]{3}$'),
    time_zone            text not null default 'America/Argentina/Buenos_Aires',
    locale               text not null default 'es' constraint settings_locale_check check (locale in ('es', 'en')),
    allow_negative_stock boolean not null default false,
    receipt_header       text not null default '' constraint settings_receipt_header_check check (length(receipt_header) <= 500),
    receipt_footer       text not null default '' constraint settings_receipt_footer_check check (length(receipt_footer) <= 500),
    updated_at           timestamptz not null default now()
);
insert into settings default values;

create table audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    user_id    bigint,
    action     text not null,
    entity     text not null,
    entity_id  text,
    old_values jsonb,
    new_values jsonb
);
create index audit_log_at_idx on audit_log (at desc);

create trigger settings_audit after update on settings
    for each row execute function app_private.audit_row_change();
create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function app_private.refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function app_private.refuse_change();
