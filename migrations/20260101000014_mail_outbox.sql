-- Outgoing mail, written in the same transaction as the action that causes it and delivered by
-- the sender task (claim rows with "for update skip locked"; several app processes can share it).
-- send_after doubles as the retry time after a failure.

create table mail_outbox (
    id bigint generated always as identity primary key,
    to_address text not null,
    subject text not null,
    body_text text not null,
    body_html text,
    template text not null,
    created_at timestamptz not null default now(),
    send_after timestamptz not null default now(),
    sent_at timestamptz,
    attempts int not null default 0,
    last_error text,
    updated_at timestamptz not null default now(),
    constraint mail_outbox_to_address_check check (to_address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    constraint mail_outbox_attempts_check check (attempts >= 0)
);
create index mail_outbox_unsent_idx on mail_outbox (send_after) where sent_at is null;
create trigger mail_outbox_set_updated_at before update on mail_outbox
    for each row execute function ndp_set_updated_at();
