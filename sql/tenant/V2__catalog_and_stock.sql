-- Catalog and stock ledger: units, categories, products, stock movements, missing products.
-- A product's stock is only ever changed by inserting a movement: the movement trigger locks the
-- product row, applies the quantity and records the stock after it, so concurrent changes queue
-- up instead of overwriting each other, and stock always equals the sum of the movements.

create table units (
    id         bigint generated always as identity primary key,
    code       text not null constraint units_code_check check (code ~ '^[a-z0-9]{1,10}$'),
    name       text not null constraint units_name_check check (length(btrim(name)) between 1 and 60),
    divisible  boolean not null default false,
    created_at timestamptz not null default now(),
    constraint units_code_key unique (code)
);
insert into units (code, name, divisible) values
    ('u', 'Unidad', false), ('kg', 'Kilogramo', true), ('l', 'Litro', true), ('m', 'Metro', true);

create table categories (
    id         bigint generated always as identity primary key,
    name       text not null constraint categories_name_check check (length(btrim(name)) between 1 and 80),
    created_at timestamptz not null default now()
);
create unique index categories_name_key on categories (app.fold(name));

create table products (
    id          bigint generated always as identity primary key,
    sku         text not null constraint products_sku_check check (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$'),
    barcode     text constraint products_barcode_check check (barcode ~ '^[0-9A-Za-z-]{4,40}$'),
    name        text not null constraint products_name_check check (length(btrim(name)) between 1 and 200),
    description text not null default '' constraint products_description_check check (length(description) <= 2000),
    category_id bigint references categories (id) on delete restrict,
    unit_id     bigint not null references units (id) on delete restrict,
    price       numeric(12, 2) not null constraint products_price_check check (price >= 0),
    cost        numeric(12, 2) not null default 0 constraint products_cost_check check (cost >= 0),
    min_stock   numeric(12, 3) not null default 0 constraint products_min_stock_check check (min_stock >= 0),
    stock       numeric(12, 3) not null default 0,
    track_stock boolean not null default true,
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    -- the folded name, computed once per write instead of twice per matching row on every search
    name_search text generated always as (app.fold(name)) stored,
    constraint products_sku_key unique (sku),
    constraint products_barcode_key unique (barcode)
);
create index products_name_trgm_idx on products using gin (name_search ext.gin_trgm_ops);
create index products_name_idx on products (name_search, id);
create index products_category_idx on products (category_id);
create index products_low_stock_idx on products ((stock - min_stock)) where active and track_stock;

create table stock_movements (
    id         bigint generated always as identity primary key,
    product_id bigint not null references products (id) on delete restrict,
    kind       text not null constraint stock_movements_kind_check
               check (kind in ('opening', 'purchase', 'sale', 'adjustment', 'stocktake', 'return', 'import', 'void')),
    quantity   numeric(12, 3) not null constraint stock_movements_quantity_check check (quantity <> 0),
    -- for a stocktake: the counted quantity (the trigger derives `quantity` from it)
    counted    numeric(12, 3) constraint stock_movements_counted_check check (counted >= 0),
    stock_after numeric(12, 3) not null default 0,
    reason     text not null default '' constraint stock_movements_reason_check check (length(reason) <= 500),
    user_id    bigint,
    ref_type   text,
    ref_id     bigint,
    at         timestamptz not null default now()
);
create index stock_movements_product_idx on stock_movements (product_id, id desc);

create table missing_products (
    id                bigint generated always as identity primary key,
    name              text not null constraint missing_products_name_check check (length(btrim(name)) between 1 and 200),
    requests          integer not null default 1 constraint missing_products_requests_check check (requests > 0),
    note              text not null default '' constraint missing_products_note_check check (length(note) <= 500),
    first_requested_at timestamptz not null default now(),
    last_requested_at timestamptz not null default now(),
    created_by        bigint
);
create unique index missing_products_name_key on missing_products (app.fold(name));

create trigger stock_movements_apply before insert on stock_movements
    for each row execute function app_private.apply_stock_movement();
create trigger stock_movements_append_only before update or delete on stock_movements
    for each row execute function app_private.refuse_change();
create trigger stock_movements_no_truncate before truncate on stock_movements
    for each statement execute function app_private.refuse_change();
create trigger stock_movements_audit after insert on stock_movements
    for each row when (new.kind in ('adjustment', 'stocktake'))
    execute function app_private.audit_row_change();
create trigger products_price_audit after update of price, cost on products
    for each row when (old.price is distinct from new.price or old.cost is distinct from new.cost)
    execute function app_private.audit_row_change();
