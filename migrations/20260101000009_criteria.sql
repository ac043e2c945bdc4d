-- Criteria frameworks (e.g. 578-2022 for citizen-serving platforms, 1230-2023 for national ones),
-- their groups and pass/fail criteria. A framework is never edited in place once used: a new
-- version is a new row, which is why evaluations and scores restrict deleting frameworks and
-- criteria. Groups and criteria belong to their framework and go with it.

create table criteria_frameworks (
    id bigint generated always as identity primary key,
    slug text not null,
    code text not null,
    title text not null,
    title_en text,
    document_id bigint references documents (id) on delete restrict,
    version int not null default 1,
    applies_to text not null,
    description text,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint criteria_frameworks_slug_key unique (slug),
    constraint criteria_frameworks_code_key unique (code),
    constraint criteria_frameworks_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint criteria_frameworks_code_check check (btrim(code) <> ''),
    constraint criteria_frameworks_title_check check (btrim(title) <> ''),
    constraint criteria_frameworks_version_check check (version >= 1),
    constraint criteria_frameworks_applies_to_check check (applies_to in ('citizen_serving', 'national')),
    constraint criteria_frameworks_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index criteria_frameworks_document_id_idx on criteria_frameworks (document_id);
create trigger criteria_frameworks_set_updated_at before update on criteria_frameworks
    for each row execute function ndp_set_updated_at();

create table criteria_groups (
    id bigint generated always as identity primary key,
    framework_id bigint not null references criteria_frameworks (id) on delete cascade,
    position int not null,
    title text not null,
    title_en text,
    description text,
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint criteria_groups_framework_id_position_key unique (framework_id, position),
    constraint criteria_groups_title_check check (btrim(title) <> '')
);
create trigger criteria_groups_set_updated_at before update on criteria_groups
    for each row execute function ndp_set_updated_at();

create table criteria (
    id bigint generated always as identity primary key,
    group_id bigint not null references criteria_groups (id) on delete cascade,
    position int not null,
    title text not null,
    title_en text,
    description text,
    evidence_required text,
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint criteria_group_id_position_key unique (group_id, position),
    constraint criteria_title_check check (btrim(title) <> '')
);
create trigger criteria_set_updated_at before update on criteria
    for each row execute function ndp_set_updated_at();
