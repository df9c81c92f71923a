-- Customers, the counter's cart (drafts), sales with lines and payments, the money ledger,
-- customer accounts, and quotes. Stock, money and account effects are posted by triggers
-- (app_private.sale_line_stock, sale_payment_books, sale_void, apply_customer_entry).

alter table settings add column quote_validity_days integer not null default 15
    constraint settings_quote_validity_days_check check (quote_validity_days between 1 and 365);

create table customers (
    id                bigint generated always as identity primary key,
    name              text not null constraint customers_name_check check (length(btrim(name)) between 1 and 200),
    tax_id            text not null default '' constraint customers_tax_id_check check (length(tax_id) <= 20),
    email             text not null default '' constraint customers_email_check check (length(email) <= 254),
    phone             text not null default '' constraint customers_phone_check check (length(phone) <= 40),
    address           text not null default '' constraint customers_address_check check (length(address) <= 300),
    notes             text not null default '' constraint customers_notes_check check (length(notes) <= 1000),
    is_final_consumer boolean not null default false,
    active            boolean not null default true,
    balance           numeric(12, 2) not null default 0,
    created_at        timestamptz not null default now()
);
create unique index customers_final_consumer_key on customers (is_final_consumer) where is_final_consumer;
create index customers_name_trgm_idx on customers using gin (app.fold(name) ext.gin_trgm_ops);
insert into customers (name, is_final_consumer) values ('Consumidor final', true);
create trigger customers_keep_final_consumer before delete or update of is_final_consumer, active on customers
    for each row execute function app_private.keep_final_consumer();

create table customer_ledger (
    id            bigint generated always as identity primary key,
    customer_id   bigint not null references customers (id) on delete restrict,
    kind          text not null constraint customer_ledger_kind_check
                  check (kind in ('opening', 'sale', 'payment', 'void', 'return')),
    amount        numeric(12, 2) not null constraint customer_ledger_amount_check check (amount <> 0),
    balance_after numeric(12, 2) not null default 0,
    sale_id       bigint,
    note          text not null default '' constraint customer_ledger_note_check check (length(note) <= 500),
    user_id       bigint,
    at            timestamptz not null default now()
);
create index customer_ledger_customer_idx on customer_ledger (customer_id, id desc);
create trigger customer_ledger_apply before insert on customer_ledger
    for each row execute function app_private.apply_customer_entry();
create trigger customer_ledger_append_only before update or delete on customer_ledger
    for each row execute function app_private.refuse_change();

create table money_ledger (
    id          bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    kind        text not null constraint money_ledger_kind_check check (kind in
                ('sale', 'sale_void', 'sale_return', 'customer_payment', 'invoice_payment', 'other_income', 'other_expense')),
    method      text not null constraint money_ledger_method_check check (method in ('cash', 'card', 'transfer')),
    amount      numeric(12, 2) not null constraint money_ledger_amount_check check (amount <> 0),
    sale_id     bigint,
    customer_id bigint,
    category    text not null default '',
    description text not null default '' constraint money_ledger_description_check check (length(description) <= 500),
    user_id     bigint
);
create index money_ledger_at_idx on money_ledger (at);
create index money_ledger_sale_idx on money_ledger (sale_id) where sale_id is not null;
create trigger money_ledger_append_only before update or delete on money_ledger
    for each row execute function app_private.refuse_change();

create table sales (
    id              bigint generated always as identity primary key,
    idempotency_key uuid not null constraint sales_idempotency_key unique,
    customer_id     bigint not null references customers (id) on delete restrict,
    user_id         bigint not null,
    status          text not null default 'completed' constraint sales_status_check check (status in ('completed', 'voided')),
    total           numeric(12, 2) not null constraint sales_total_check check (total >= 0),
    tendered        numeric(12, 2) not null constraint sales_tendered_check check (tendered >= total),
    change          numeric(12, 2) not null default 0,
    quote_id        bigint,
    note            text not null default '' constraint sales_note_check check (length(note) <= 500),
    created_at      timestamptz not null default now(),
    voided_at       timestamptz,
    voided_by       bigint,
    void_reason     text constraint sales_void_reason_check check (length(void_reason) <= 500),
    constraint sales_change_check check (change = tendered - total)
);
create index sales_created_idx on sales (created_at desc);
create index sales_customer_idx on sales (customer_id, created_at desc);

create table sale_lines (
    id          bigint generated always as identity primary key,
    sale_id     bigint not null references sales (id) on delete restrict,
    position    integer not null,
    product_id  bigint not null references products (id) on delete restrict,
    description text not null,
    quantity    numeric(12, 3) not null constraint sale_lines_quantity_check check (quantity > 0),
    unit_price  numeric(12, 2) not null constraint sale_lines_unit_price_check check (unit_price >= 0),
    discount    numeric(12, 2) not null default 0 constraint sale_lines_discount_check check (discount >= 0),
    total       numeric(12, 2) not null,
    returned    numeric(12, 3) not null default 0,
    -- the one rounding rule: two decimals, half away from zero (PostgreSQL's round on numeric)
    constraint sale_lines_total_check check (total = round(quantity * unit_price - discount, 2) and total >= 0),
    constraint sale_lines_returned_check check (returned >= 0 and returned <= quantity)
);
create index sale_lines_sale_idx on sale_lines (sale_id);
create index sale_lines_product_idx on sale_lines (product_id);

create table sale_payments (
    id      bigint generated always as identity primary key,
    sale_id bigint not null references sales (id) on delete restrict,
    method  text not null constraint sale_payments_method_check check (method in ('cash', 'card', 'transfer', 'account')),
    amount  numeric(12, 2) not null constraint sale_payments_amount_check check (amount > 0)
);
create index sale_payments_sale_idx on sale_payments (sale_id);

create trigger sale_lines_stock after insert on sale_lines
    for each row execute function app_private.sale_line_stock();
create trigger sale_payments_books after insert on sale_payments
    for each row execute function app_private.sale_payment_books();
create constraint trigger sales_whole after insert on sales
    deferrable initially deferred
    for each row execute function app_private.sale_is_whole();
create constraint trigger sale_lines_whole after insert on sale_lines
    deferrable initially deferred
    for each row execute function app_private.sale_part_is_whole();
create constraint trigger sale_payments_whole after insert on sale_payments
    deferrable initially deferred
    for each row execute function app_private.sale_part_is_whole();
create trigger sales_void before update of status on sales
    for each row execute function app_private.sale_void();
create trigger sales_void_audit after update of status on sales
    for each row execute function app_private.audit_row_change();
-- a line never changes, except `returned`, which only the return trigger moves
create trigger sale_lines_fixed
    before update of sale_id, position, product_id, description, quantity, unit_price, discount, total or delete
    on sale_lines
    for each row execute function app_private.refuse_change();
create trigger sale_payments_fixed before update or delete on sale_payments
    for each row execute function app_private.refuse_change();

-- The counter's cart: one open draft per person, surviving page reloads.
create table sale_drafts (
    id              bigint generated always as identity primary key,
    user_id         bigint not null constraint sale_drafts_user_key unique,
    customer_id     bigint references customers (id) on delete set null,
    idempotency_key uuid not null default gen_random_uuid(),
    updated_at      timestamptz not null default now()
);
create table sale_draft_lines (
    id         bigint generated always as identity primary key,
    draft_id   bigint not null references sale_drafts (id) on delete cascade,
    product_id bigint not null references products (id) on delete cascade,
    quantity   numeric(12, 3) not null constraint sale_draft_lines_quantity_check check (quantity > 0),
    unit_price numeric(12, 2) not null constraint sale_draft_lines_unit_price_check check (unit_price >= 0),
    discount   numeric(12, 2) not null default 0 constraint sale_draft_lines_discount_check check (discount >= 0),
    added_at   timestamptz not null default now()
);
create index sale_draft_lines_draft_idx on sale_draft_lines (draft_id, id);

create table quotes (
    id                bigint generated always as identity primary key,
    customer_id       bigint not null references customers (id) on delete restrict,
    user_id           bigint not null,
    status            text not null default 'draft'
                      constraint quotes_status_check check (status in ('draft', 'sent', 'accepted', 'converted')),
    valid_until       date not null,
    total             numeric(12, 2) not null constraint quotes_total_check check (total >= 0),
    note              text not null default '' constraint quotes_note_check check (length(note) <= 1000),
    created_at        timestamptz not null default now(),
    converted_sale_id bigint references sales (id),
    converted_at      timestamptz,
    constraint quotes_converted_check check ((status = 'converted') = (converted_sale_id is not null))
);
create index quotes_created_idx on quotes (created_at desc);
create table quote_lines (
    id          bigint generated always as identity primary key,
    quote_id    bigint not null references quotes (id) on delete cascade,
    position    integer not null,
    product_id  bigint not null references products (id) on delete restrict,
    description text not null,
    quantity    numeric(12, 3) not null constraint quote_lines_quantity_check check (quantity > 0),
    unit_price  numeric(12, 2) not null constraint quote_lines_unit_price_check check (unit_price >= 0),
    discount    numeric(12, 2) not null default 0 constraint quote_lines_discount_check check (discount >= 0),
    total       numeric(12, 2) not null,
    constraint quote_lines_total_check check (total = round(quantity * unit_price - discount, 2) and total >= 0)
);
create index quote_lines_quote_idx on quote_lines (quote_id);
