-- Suppliers and purchase invoices. An invoice is a draft while its lines are entered; receiving
-- it (status draft -> received) posts its stock movements and product costs, after which the
-- invoice and its lines never change: a correction is a new document (kind 'correction') that
-- references the invoice, with its own lines. Payments are rows of purchase_payments; each posts
-- one money_ledger row and raises the invoice's `paid`, never beyond what is owed. Effects are
-- posted by triggers (app_private.purchase_invoice_change, purchase_line_change,
-- purchase_payment_books; sql/app/V8__purchase_triggers.sql).

create table suppliers (
    id         bigint generated always as identity primary key,
    name       text not null constraint suppliers_name_check check (length(btrim(name)) between 1 and 200),
    tax_id     text not null default '' constraint suppliers_tax_id_check check (length(tax_id) <= 20),
    email      text not null default '' constraint suppliers_email_check check (length(email) <= 254),
    phone      text not null default '' constraint suppliers_phone_check check (length(phone) <= 40),
    address    text not null default '' constraint suppliers_address_check check (length(address) <= 300),
    notes      text not null default '' constraint suppliers_notes_check check (length(notes) <= 1000),
    active     boolean not null default true,
    created_at timestamptz not null default now()
);
create index suppliers_name_trgm_idx on suppliers using gin (app.fold(name) ext.gin_trgm_ops);

create table purchase_invoices (
    id           bigint generated always as identity primary key,
    supplier_id  bigint not null references suppliers (id) on delete restrict,
    kind         text not null default 'invoice'
                 constraint purchase_invoices_kind_check check (kind in ('invoice', 'correction')),
    -- a correction references the invoice it corrects, of the same supplier (composite key below)
    corrects_id  bigint,
    number       text not null constraint purchase_invoices_number_check check (length(btrim(number)) between 1 and 40),
    invoice_date date not null,
    due_date     date,
    status       text not null default 'draft'
                 constraint purchase_invoices_status_check check (status in ('draft', 'received')),
    -- the sum of the lines (kept by the line trigger; negative for a credit note)
    total        numeric(12, 2) not null default 0,
    -- the sum of the received corrections of this invoice (kept by the receive trigger)
    credited     numeric(12, 2) not null default 0,
    -- the sum of the payments (kept by the payment trigger)
    paid         numeric(12, 2) not null default 0,
    payment_status text generated always as (
                 case when paid >= total + credited then 'paid' when paid = 0 then 'unpaid' else 'partial' end
                 ) stored,
    note         text not null default '' constraint purchase_invoices_note_check check (length(note) <= 500),
    user_id      bigint default app.current_user_id(),
    created_at   timestamptz not null default now(),
    received_at  timestamptz,
    received_by  bigint,
    constraint purchase_invoices_number_key unique (supplier_id, number),
    constraint purchase_invoices_id_supplier_key unique (id, supplier_id),
    constraint purchase_invoices_corrects_fkey foreign key (corrects_id, supplier_id)
        references purchase_invoices (id, supplier_id) on delete restrict,
    constraint purchase_invoices_corrects_check check ((kind = 'correction') = (corrects_id is not null)),
    constraint purchase_invoices_due_required check (kind = 'correction' or due_date is not null),
    constraint purchase_invoices_due_check check (due_date >= invoice_date),
    -- an invoice is never paid beyond what it owes, and corrections never take off more than is
    -- still owed (a correction's own total is negative when it credits)
    constraint purchase_invoices_paid_check check (paid >= 0 and (kind = 'correction' or paid <= total + credited)),
    constraint purchase_invoices_received_check check ((status = 'received') = (received_at is not null))
);
create index purchase_invoices_supplier_idx on purchase_invoices (supplier_id, invoice_date desc);
create index purchase_invoices_corrects_idx on purchase_invoices (corrects_id) where corrects_id is not null;
create index purchase_invoices_due_idx on purchase_invoices (due_date)
    where status = 'received' and kind = 'invoice' and payment_status <> 'paid';

create table purchase_invoice_lines (
    id         bigint generated always as identity primary key,
    invoice_id bigint not null references purchase_invoices (id) on delete cascade,
    product_id bigint not null references products (id) on delete restrict,
    -- positive on an invoice; a correction's lines may take units back (negative)
    quantity   numeric(12, 3) not null constraint purchase_invoice_lines_quantity_check check (quantity <> 0),
    unit_cost  numeric(12, 2) not null constraint purchase_invoice_lines_unit_cost_check check (unit_cost >= 0),
    -- the one rounding rule: two decimals, half away from zero (PostgreSQL's round on numeric)
    total      numeric(12, 2) generated always as (round(quantity * unit_cost, 2)) stored
);
create index purchase_invoice_lines_invoice_idx on purchase_invoice_lines (invoice_id, id);
create index purchase_invoice_lines_product_idx on purchase_invoice_lines (product_id);

create table purchase_payments (
    id         bigint generated always as identity primary key,
    invoice_id bigint not null references purchase_invoices (id) on delete restrict,
    method     text not null constraint purchase_payments_method_check check (method in ('cash', 'card', 'transfer')),
    amount     numeric(12, 2) not null constraint purchase_payments_amount_check check (amount > 0),
    note       text not null default '' constraint purchase_payments_note_check check (length(note) <= 500),
    user_id    bigint,
    at         timestamptz not null default now()
);
create index purchase_payments_invoice_idx on purchase_payments (invoice_id, id);

-- which invoice a money_ledger row of kind 'invoice_payment' pays (written by the payment trigger)
alter table money_ledger add column purchase_invoice_id bigint references purchase_invoices (id) on delete restrict;
create index money_ledger_purchase_invoice_idx on money_ledger (purchase_invoice_id) where purchase_invoice_id is not null;

create trigger purchase_invoices_change before update or delete on purchase_invoices
    for each row execute function app_private.purchase_invoice_change();
create trigger purchase_invoices_audit after update of status on purchase_invoices
    for each row execute function app_private.audit_row_change();
create trigger purchase_invoice_lines_change before insert or delete on purchase_invoice_lines
    for each row execute function app_private.purchase_line_change();
create trigger purchase_invoice_lines_fixed before update on purchase_invoice_lines
    for each row execute function app_private.refuse_change();
create trigger purchase_payments_books before insert on purchase_payments
    for each row execute function app_private.purchase_payment_books();
create trigger purchase_payments_fixed before update or delete on purchase_payments
    for each row execute function app_private.refuse_change();
create trigger purchase_payments_no_truncate before truncate on purchase_payments
    for each statement execute function app_private.refuse_change();
create trigger purchase_payments_audit after insert on purchase_payments
    for each row execute function app_private.audit_row_change();
