-- The audit log: append-only. Triggers refuse update, delete and truncate for every caller, the
-- app included. actor_id deliberately has no foreign key: "on delete set null" would have to
-- update audit rows, and the log must keep the id of an actor whose account is gone;
-- actor_label keeps a readable name (e.g. the email at the time, or 'system').
-- target_id is text because targets include composite keys and non-table things.
-- The table owner can still drop the triggers; a deployment that needs more runs the app as a
-- role that does not own the table.

create table audit_events (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    actor_id bigint,
    actor_label text,
    action text not null,
    target_type text,
    target_id text,
    before jsonb,
    after jsonb,
    client_addr inet,
    request_id text,
    constraint audit_events_action_check check (btrim(action) <> '')
);
create index audit_events_occurred_at_idx on audit_events (occurred_at);
create index audit_events_actor_id_idx on audit_events (actor_id, occurred_at);
create index audit_events_target_idx on audit_events (target_type, target_id, occurred_at);

create trigger audit_events_refuse_change before update or delete on audit_events
    for each row execute function ndp_refuse_change();
create trigger audit_events_refuse_truncate before truncate on audit_events
    for each statement execute function ndp_refuse_change();
