-- Accounts and what authentication needs: one-time email tokens, TOTP recovery codes and the
-- login throttle. Secrets are stored only as hashes (tokens, recovery codes, passwords); the
-- TOTP secret has to be readable to verify codes, so the app encrypts it before storing.
-- Email is unique case-insensitively (users_email_key is an expression index on lower(email)).
-- An enterprise account starts 'pending' with the enterprise name and tax code it asked for; a
-- moderator approves it by linking enterprise_id. totp_last_step stops a TOTP code being replayed.

create table users (
    id bigint generated always as identity primary key,
    email text not null,
    display_name text not null,
    password_hash text not null,
    role text not null default 'citizen',
    status text not null default 'pending',
    locale text not null default 'vi',
    email_verified_at timestamptz,
    enterprise_id bigint references enterprises (id) on delete set null,
    requested_enterprise_name text,
    requested_tax_code text,
    approved_by bigint references users (id) on delete set null,
    approved_at timestamptz,
    totp_secret text,
    totp_enabled_at timestamptz,
    totp_last_step bigint,
    last_login_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_email_check check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(email) <= 254),
    constraint users_display_name_check check (btrim(display_name) <> '' and char_length(display_name) <= 100),
    constraint users_role_check check (role in ('citizen', 'enterprise', 'moderator', 'evaluator', 'admin')),
    constraint users_status_check check (status in ('pending', 'active', 'disabled', 'deleted')),
    constraint users_locale_check check (locale in ('vi', 'en')),
    constraint users_enterprise_id_check check (enterprise_id is null or role = 'enterprise'),
    constraint users_requested_enterprise_name_check check (btrim(requested_enterprise_name) <> ''),
    constraint users_requested_tax_code_check check (requested_tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'),
    constraint users_totp_check check (totp_enabled_at is null or totp_secret is not null)
);
create unique index users_email_key on users (lower(email));
create index users_enterprise_id_idx on users (enterprise_id);
create index users_approved_by_idx on users (approved_by);
create index users_pending_enterprise_idx on users (created_at) where role = 'enterprise' and status = 'pending';
create trigger users_set_updated_at before update on users
    for each row execute function ndp_set_updated_at();

create table user_recovery_codes (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id) on delete cascade,
    code_hash text not null,
    used_at timestamptz,
    created_at timestamptz not null default now(),
    constraint user_recovery_codes_user_id_code_hash_key unique (user_id, code_hash)
);

create table email_tokens (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id) on delete cascade,
    purpose text not null,
    token_hash text not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now(),
    constraint email_tokens_token_hash_key unique (token_hash),
    constraint email_tokens_purpose_check check (purpose in ('verify_email', 'reset_password'))
);
create index email_tokens_user_id_idx on email_tokens (user_id);
create index email_tokens_expires_at_idx on email_tokens (expires_at);

-- key is chosen by the app (e.g. 'email:<lower email>' or 'ip:<addr>'), so one table throttles both.
create table login_throttle (
    key text primary key,
    failures int not null default 0,
    window_started_at timestamptz not null default now(),
    locked_until timestamptz,
    updated_at timestamptz not null default now(),
    constraint login_throttle_failures_check check (failures >= 0)
);
create index login_throttle_updated_at_idx on login_throttle (updated_at);
create trigger login_throttle_set_updated_at before update on login_throttle
    for each row execute function ndp_set_updated_at();
