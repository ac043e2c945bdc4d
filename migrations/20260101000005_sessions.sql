-- Sessions, in exactly the layout tower-sessions-sqlx-store's PostgresStore expects (its default
-- schema and table names), so the store finds the table whether or not its own migrate() runs;
-- "if not exists" keeps both orders working. The index serves the expired-session sweep.

create schema if not exists tower_sessions;

create table if not exists tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);

create index if not exists session_expiry_date_idx on tower_sessions.session (expiry_date);
