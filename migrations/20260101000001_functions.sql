-- Trigger functions shared by later migrations.
-- ndp_set_updated_at() is the single function behind every updated_at column. It only moves
-- updated_at when the row really changed, so re-running the seed (upserts that change nothing)
-- does not make listings look freshly edited nor make open revisions look stale. (Comparing whole
-- rows needs an equality operator for every column type: use jsonb, not json, in such tables.)
-- ndp_refuse_change() guards append-only tables: attached as a row trigger for update/delete and
-- a statement trigger for truncate, it refuses the operation whatever the caller.

create function ndp_set_updated_at() returns trigger
language plpgsql as $$
begin
    if new is distinct from old then
        new.updated_at := now();
    end if;
    return new;
end
$$;

create function ndp_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '% on % is not allowed: the table is append-only', tg_op, tg_table_name
        using hint = 'Audit events are written once and never changed or removed.';
end
$$;
