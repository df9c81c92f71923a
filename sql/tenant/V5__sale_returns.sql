-- Returns of some units of a sale's lines; effects posted by app_private.apply_sale_return_line.
create table sale_returns (
    id         bigint generated always as identity primary key,
    sale_id    bigint not null references sales (id) on delete restrict,
    method     text not null constraint sale_returns_method_check check (method in ('cash', 'card', 'transfer', 'account')),
    reason     text not null constraint sale_returns_reason_check check (length(btrim(reason)) between 1 and 500),
    user_id    bigint not null default app.current_user_id(),
    created_at timestamptz not null default now()
);
create index sale_returns_sale_idx on sale_returns (sale_id);

create table sale_return_lines (
    id           bigint generated always as identity primary key,
    return_id    bigint not null references sale_returns (id) on delete restrict,
    sale_line_id bigint not null references sale_lines (id) on delete restrict,
    quantity     numeric(12, 3) not null constraint sale_return_lines_quantity_check check (quantity > 0),
    amount       numeric(12, 2) not null default 0
);
create index sale_return_lines_return_idx on sale_return_lines (return_id);

create trigger sale_return_lines_apply before insert on sale_return_lines
    for each row execute function app_private.apply_sale_return_line();
create trigger sale_returns_fixed before update or delete on sale_returns
    for each row execute function app_private.refuse_change();
create trigger sale_return_lines_fixed before update or delete on sale_return_lines
    for each row execute function app_private.refuse_change();
create trigger sale_returns_audit after insert on sale_returns
    for each row execute function app_private.audit_row_change();
