-- Listing revisions: an enterprise (or staff) proposes the full set of listing values; a moderator
-- approves or rejects. proposed holds the whole listing as a JSON object, previous the values it
-- replaced when approved, so public history shows field-level diffs without replaying anything.
-- platform_id null means a proposal to register a new platform; approval creates the platform
-- and fills platform_id, hence revisions_platform_id_check. base_updated_at is the platform's
-- updated_at when the edit started; approval compares it to detect a listing changed meanwhile.
-- revisions_platform_id_open_key: at most one draft-or-submitted revision per platform.

create table revisions (
    id bigint generated always as identity primary key,
    platform_id bigint references platforms (id) on delete cascade,
    enterprise_id bigint references enterprises (id) on delete restrict,
    author_id bigint references users (id) on delete set null,
    base_updated_at timestamptz,
    proposed jsonb not null,
    previous jsonb,
    note text,
    state text not null default 'draft',
    reject_reason text,
    reviewer_id bigint references users (id) on delete set null,
    submitted_at timestamptz,
    decided_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint revisions_state_check check (state in ('draft', 'submitted', 'approved', 'rejected', 'withdrawn')),
    constraint revisions_proposed_check check (jsonb_typeof(proposed) = 'object'),
    constraint revisions_previous_check check (jsonb_typeof(previous) = 'object'),
    constraint revisions_platform_id_check check (platform_id is not null or state <> 'approved'),
    constraint revisions_reject_reason_check check (state <> 'rejected' or coalesce(btrim(reject_reason), '') <> ''),
    constraint revisions_submitted_at_check check (state in ('draft', 'withdrawn') or submitted_at is not null),
    constraint revisions_decided_at_check check (state not in ('approved', 'rejected') or decided_at is not null)
);
create unique index revisions_platform_id_open_key on revisions (platform_id) where state in ('draft', 'submitted');
create index revisions_platform_id_decided_at_idx on revisions (platform_id, decided_at);
create index revisions_enterprise_id_idx on revisions (enterprise_id);
create index revisions_author_id_idx on revisions (author_id);
create index revisions_reviewer_id_idx on revisions (reviewer_id);
create index revisions_submitted_idx on revisions (submitted_at) where state = 'submitted';
create trigger revisions_set_updated_at before update on revisions
    for each row execute function ndp_set_updated_at();
