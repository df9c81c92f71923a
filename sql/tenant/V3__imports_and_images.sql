-- CSV imports (kept from upload to confirmation, so the preview and the applied rows are the same
-- file) and product images (stored in the shop's schema, so its backup carries them).

create table product_imports (
    id          bigint generated always as identity primary key,
    filename    text not null default '' constraint product_imports_filename_check check (length(filename) <= 255),
    content     text not null,
    delimiter   text not null constraint product_imports_delimiter_check check (delimiter in (',', ';')),
    row_count   integer not null default 0,
    error_count integer not null default 0,
    status      text not null default 'previewed' constraint product_imports_status_check
                check (status in ('previewed', 'applied')),
    created_by  bigint,
    created_at  timestamptz not null default now(),
    applied_at  timestamptz
);

create table product_images (
    product_id   bigint primary key references products (id) on delete cascade,
    content_type text not null constraint product_images_type_check check (content_type in ('image/jpeg', 'image/png')),
    image        bytea not null constraint product_images_size_check check (length(image) <= 4194304),
    thumb        bytea not null,
    width        integer not null,
    height       integer not null,
    updated_at   timestamptz not null default now()
);
