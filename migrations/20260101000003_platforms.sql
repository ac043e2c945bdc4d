-- Platforms and their links to enterprises and need groups.
-- Agencies named on a platform page are restricted from deletion (the page depends on them); the
-- action-plan document is only supporting evidence, so deleting it just clears the link.
-- Null in status, recognition, pillar and the yes/no facts means "not known", never "no".

create table platforms (
    id bigint generated always as identity primary key,
    slug text not null,
    appendix_number int,
    name text not null,
    name_en text,
    short_name text,
    summary text,
    description text,
    main_functions text,
    applicability text,
    kind text not null,
    pillar text,
    status text,
    recognition text,
    host_agency_id bigint references agencies (id) on delete restrict,
    focal_unit_id bigint references agencies (id) on delete restrict,
    action_plan_document_id bigint references documents (id) on delete set null,
    website text,
    android_url text,
    ios_url text,
    logo_path text,
    languages text[] not null default '{}',
    accessibility_url text,
    data_in_vietnam boolean,
    security_level smallint,
    ndxp_connected boolean,
    reported_users bigint,
    reported_users_as_of date,
    reported_users_note text,
    last_confirmed_at timestamptz,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint platforms_slug_key unique (slug),
    constraint platforms_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint platforms_name_check check (btrim(name) <> ''),
    constraint platforms_appendix_number_check check (appendix_number between 1 and 999),
    constraint platforms_kind_check check (kind in ('national', 'potential_national', 'citizen_serving',
                                                    'ministry_deployed', 'sector_shared')),
    constraint platforms_pillar_check check (pillar in ('government', 'economy', 'society')),
    constraint platforms_status_check check (status in ('registered', 'trial', 'in_use')),
    constraint platforms_recognition_check check (recognition in ('recognised', 'revoked')),
    constraint platforms_security_level_check check (security_level between 1 and 5),
    constraint platforms_reported_users_check check (reported_users >= 0),
    constraint platforms_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index platforms_host_agency_id_idx on platforms (host_agency_id);
create index platforms_focal_unit_id_idx on platforms (focal_unit_id);
create index platforms_action_plan_document_id_idx on platforms (action_plan_document_id);
create trigger platforms_set_updated_at before update on platforms
    for each row execute function ndp_set_updated_at();

create table platform_enterprises (
    platform_id bigint not null references platforms (id) on delete cascade,
    enterprise_id bigint not null references enterprises (id) on delete restrict,
    role text not null,
    note text,
    sources text[] not null default '{}',
    primary key (platform_id, enterprise_id, role),
    constraint platform_enterprises_role_check check (role in ('core', 'developer', 'operator', 'lead'))
);
create index platform_enterprises_enterprise_id_idx on platform_enterprises (enterprise_id);

create table platform_need_groups (
    platform_id bigint not null references platforms (id) on delete cascade,
    need_group_id bigint not null references need_groups (id) on delete restrict,
    primary key (platform_id, need_group_id)
);
create index platform_need_groups_need_group_id_idx on platform_need_groups (need_group_id);
