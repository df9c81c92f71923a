-- Triggers of suppliers and purchase invoices. Each runs as the schema owner so that owner and
-- admin move stock, costs and money only through these paths (they hold no grant on
-- products.stock, purchase_invoices.total/credited/paid or the ledgers' trigger-only columns).
-- Every statement names the shop's schema from TG_TABLE_SCHEMA.

-- The weighted-average cost after `qty` units at `unit_cost` come in (or, negative, go back):
-- new = (old_stock * old_cost + qty * unit_cost) / (old_stock + qty), old stock clamped at 0,
-- rounded like all money (two decimals, half away from zero). When nothing would be left
-- (old_stock + qty <= 0), an incoming line sets the last cost and an outgoing one leaves the cost
-- as it was; a result below zero leaves it as it was too. Untracked products (services) have no
-- stock to average: an incoming line sets the last cost.
create function app_private.weighted_cost(
    p_stock numeric, p_cost numeric, p_qty numeric, p_unit_cost numeric, p_tracked boolean
) returns numeric
    language plpgsql immutable
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_base numeric := greatest(coalesce(p_stock, 0), 0);
    v_new numeric;
begin
    if not p_tracked then
        return case when p_qty > 0 then p_unit_cost else p_cost end;
    end if;
    if v_base + p_qty <= 0 then
        return case when p_qty > 0 then p_unit_cost else p_cost end;
    end if;
    v_new := round((v_base * p_cost + p_qty * p_unit_cost) / (v_base + p_qty), 2);
    return case when v_new < 0 then p_cost else v_new end;
end $$;

-- Updates and deletes of an invoice. A received invoice is fixed: only `credited` and `paid`
-- (written by the triggers below, no role holds a grant on them) may still change, and it is never
-- deleted. Receiving (draft -> received) posts each line: the product's cost (weighted average)
-- and, for stock-tracked products, a 'purchase' stock movement; a correction also moves its
-- total into the corrected invoice's `credited`, whose check refuses taking off more than is
-- still owed.
create function app_private.purchase_invoice_change() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_line record;
    v_stock numeric;
    v_cost numeric;
    v_new_cost numeric;
    v_lines integer;
    v_corrected_status text;
    v_corrected_kind text;
    v_supplier text;
begin
    if tg_op = 'DELETE' then
        if old.status = 'received' then
            raise exception 'a received invoice cannot be deleted; record a correction instead'
                using errcode = 'check_violation', constraint = 'purchase_invoices_received_fixed';
        end if;
        return old;
    end if;
    if old.status = 'received' then
        if new.status <> 'received'
           or (new.supplier_id, new.kind, new.corrects_id, new.number, new.invoice_date, new.due_date,
               new.total, new.note, new.received_at, new.received_by, new.user_id, new.created_at)
              is distinct from
              (old.supplier_id, old.kind, old.corrects_id, old.number, old.invoice_date, old.due_date,
               old.total, old.note, old.received_at, old.received_by, old.user_id, old.created_at) then
            raise exception 'a received invoice cannot be changed; record a correction instead'
                using errcode = 'check_violation', constraint = 'purchase_invoices_received_fixed';
        end if;
        return new;
    end if;
    if new.status = 'draft' then
        if new.credited <> 0 or new.paid <> 0 then
            raise exception 'a draft has no payments or corrections' using errcode = 'check_violation',
                constraint = 'purchase_invoices_received_only';
        end if;
        return new;
    end if;
    -- draft -> received
    if new.kind <> old.kind or new.corrects_id is distinct from old.corrects_id then
        raise exception 'kind cannot change' using errcode = 'check_violation',
            constraint = 'purchase_invoices_received_fixed';
    end if;
    execute format('select count(*) from %I.purchase_invoice_lines where invoice_id = $1', tg_table_schema)
       into v_lines using new.id;
    if v_lines = 0 then
        raise exception 'an invoice without lines cannot be received' using errcode = 'check_violation',
            constraint = 'purchase_invoices_empty';
    end if;
    if new.kind = 'correction' then
        execute format('select status, kind from %I.purchase_invoices where id = $1 for no key update', tg_table_schema)
           into v_corrected_status, v_corrected_kind using new.corrects_id;
        if v_corrected_status is distinct from 'received' or v_corrected_kind <> 'invoice' then
            raise exception 'only a received invoice can be corrected' using errcode = 'check_violation',
                constraint = 'purchase_invoices_corrects_received';
        end if;
        execute format('update %I.purchase_invoices set credited = credited + $1 where id = $2', tg_table_schema)
          using new.total, new.corrects_id;
    end if;
    execute format('select name from %I.suppliers where id = $1', tg_table_schema) into v_supplier using new.supplier_id;
    -- product by product in id order, so two receipts cannot deadlock on their product locks
    for v_line in execute format(
        'select l.product_id, l.quantity, l.unit_cost, p.track_stock
           from %1$I.purchase_invoice_lines l join %1$I.products p on p.id = l.product_id
          where l.invoice_id = $1 order by l.product_id, l.id', tg_table_schema) using new.id
    loop
        execute format('select stock, cost from %I.products where id = $1 for no key update', tg_table_schema)
           into v_stock, v_cost using v_line.product_id;
        v_new_cost := app_private.weighted_cost(v_stock, v_cost, v_line.quantity, v_line.unit_cost, v_line.track_stock);
        if v_new_cost is distinct from v_cost then
            execute format('update %I.products set cost = $1, updated_at = now() where id = $2', tg_table_schema)
              using v_new_cost, v_line.product_id;
        end if;
        if v_line.track_stock then
            execute format('insert into %I.stock_movements (product_id, kind, quantity, reason, ref_type, ref_id)
                            values ($1, ''purchase'', $2, $3, ''purchase_invoice'', $4)', tg_table_schema)
              using v_line.product_id, v_line.quantity, left(coalesce(v_supplier, '') || ' ' || new.number, 500), new.id;
        end if;
    end loop;
    new.received_at := now();
    new.received_by := app.current_user_id();
    return new;
end $$;

-- Lines are added to and removed from drafts only; each keeps the invoice's total. An invoice's
-- lines bring units in (quantity > 0); only a correction's lines may take them back.
create function app_private.purchase_line_change() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_invoice bigint := case when tg_op = 'DELETE' then old.invoice_id else new.invoice_id end;
    v_status text;
    v_kind text;
    v_delta numeric;
begin
    execute format('select status, kind from %I.purchase_invoices where id = $1 for no key update', tg_table_schema)
       into v_status, v_kind using v_invoice;
    if v_status is null then
        if tg_op = 'DELETE' then
            return old; -- the invoice itself is being deleted (cascade)
        end if;
        raise exception 'invoice % does not exist', v_invoice using errcode = 'foreign_key_violation',
            constraint = 'purchase_invoice_lines_invoice_id_fkey';
    end if;
    if v_status = 'received' then
        raise exception 'the lines of a received invoice cannot change; record a correction instead'
            using errcode = 'check_violation', constraint = 'purchase_invoices_received_fixed';
    end if;
    if tg_op = 'INSERT' then
        if v_kind = 'invoice' and new.quantity <= 0 then
            raise exception 'an invoice line brings units in (quantity > 0)' using errcode = 'check_violation',
                constraint = 'purchase_invoice_lines_positive';
        end if;
        v_delta := round(new.quantity * new.unit_cost, 2);
    else
        v_delta := -old.total;
    end if;
    execute format('update %I.purchase_invoices set total = total + $1 where id = $2', tg_table_schema)
      using v_delta, v_invoice;
    return case when tg_op = 'DELETE' then old else new end;
end $$;

-- A payment of a received invoice: under the invoice's row lock (so concurrent payments queue and
-- none can overpay) it must be positive and at most what is still owed; it raises `paid` and
-- posts ONE money_ledger row of kind 'invoice_payment' with the amount negative (an outgoing, as
-- every expense in the ledger).
create function app_private.purchase_payment_books() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_inv record;
    v_due numeric;
begin
    execute format('select i.id, i.kind, i.status, i.total, i.credited, i.paid, i.number, s.name as supplier
                      from %1$I.purchase_invoices i join %1$I.suppliers s on s.id = i.supplier_id
                     where i.id = $1 for no key update of i', tg_table_schema)
       into v_inv using new.invoice_id;
    if v_inv.id is null then
        raise exception 'invoice % does not exist', new.invoice_id using errcode = 'foreign_key_violation',
            constraint = 'purchase_payments_invoice_id_fkey';
    end if;
    if v_inv.kind <> 'invoice' or v_inv.status <> 'received' then
        raise exception 'only a received invoice is paid' using errcode = 'check_violation',
            constraint = 'purchase_payments_received_only';
    end if;
    if new.amount is null or new.amount <= 0 then
        raise exception 'a payment must be greater than zero' using errcode = 'check_violation',
            constraint = 'purchase_payments_amount_check';
    end if;
    v_due := v_inv.total + v_inv.credited - v_inv.paid;
    if new.amount > v_due then
        raise exception 'payment exceeds what is owed (%)', v_due using errcode = 'check_violation',
            constraint = 'purchase_payment_exceeds_due', detail = v_due::text;
    end if;
    execute format('update %I.purchase_invoices set paid = paid + $1 where id = $2', tg_table_schema)
      using new.amount, new.invoice_id;
    new.user_id := app.current_user_id();
    new.at := now();
    execute format('insert into %I.money_ledger (kind, method, amount, purchase_invoice_id, category, description, user_id)
                    values (''invoice_payment'', $1, $2, $3, ''purchases'', $4, $5)', tg_table_schema)
      using new.method, -new.amount, new.invoice_id,
            left(v_inv.supplier || ' ' || v_inv.number || case when new.note <> '' then ' · ' || new.note else '' end, 500),
            new.user_id;
    return new;
end $$;

revoke all on function app_private.weighted_cost(numeric, numeric, numeric, numeric, boolean) from public;
revoke all on function app_private.purchase_invoice_change() from public;
revoke all on function app_private.purchase_line_change() from public;
revoke all on function app_private.purchase_payment_books() from public;
