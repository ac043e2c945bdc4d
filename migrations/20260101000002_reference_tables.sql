-- Reference data the public pages are built on: need groups, agencies, enterprises and legal
-- documents. Seeded rows carry origin = 'seed' and their citations in sources.
-- Tax codes are Vietnamese mã số thuế (10 digits, or 10 + '-' + 3 for a dependent unit); many
-- enterprises have none on record, so uniqueness is a partial index over the known ones.

create table need_groups (
    id bigint generated always as identity primary key,
    slug text not null,
    name text not null,
    name_en text,
    description text,
    position int not null default 0,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint need_groups_slug_key unique (slug),
    constraint need_groups_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint need_groups_name_check check (btrim(name) <> ''),
    constraint need_groups_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create trigger need_groups_set_updated_at before update on need_groups
    for each row execute function ndp_set_updated_at();

create table agencies (
    id bigint generated always as identity primary key,
    slug text not null,
    name text not null,
    name_en text,
    short_name text,
    kind text not null,
    parent_id bigint references agencies (id) on delete set null,
    website text,
    description text,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint agencies_slug_key unique (slug),
    constraint agencies_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint agencies_name_check check (btrim(name) <> ''),
    constraint agencies_kind_check check (kind in ('ministry', 'government_agency', 'province', 'mic_unit',
                                                   'association', 'state_enterprise', 'other')),
    constraint agencies_parent_id_check check (parent_id <> id),
    constraint agencies_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index agencies_parent_id_idx on agencies (parent_id);
create trigger agencies_set_updated_at before update on agencies
    for each row execute function ndp_set_updated_at();

create table enterprises (
    id bigint generated always as identity primary key,
    slug text not null,
    name text not null,
    name_en text,
    short_name text,
    tax_code text,
    address text,
    website text,
    description text,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint enterprises_slug_key unique (slug),
    constraint enterprises_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint enterprises_name_check check (btrim(name) <> ''),
    constraint enterprises_tax_code_check check (tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'),
    constraint enterprises_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create unique index enterprises_tax_code_key on enterprises (tax_code) where tax_code is not null;
create trigger enterprises_set_updated_at before update on enterprises
    for each row execute function ndp_set_updated_at();

-- file_path: an uploaded copy of the text, beside the external url.
create table documents (
    id bigint generated always as identity primary key,
    slug text not null,
    number text not null,
    title text not null,
    doc_type text not null,
    issuer text not null,
    issued_on date,
    signer text,
    summary text,
    url text,
    file_path text,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint documents_slug_key unique (slug),
    constraint documents_number_key unique (number),
    constraint documents_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint documents_number_check check (btrim(number) <> ''),
    constraint documents_title_check check (btrim(title) <> ''),
    constraint documents_issuer_check check (btrim(issuer) <> ''),
    constraint documents_doc_type_check check (doc_type in ('decision', 'decree', 'resolution', 'dispatch',
                                                            'law', 'circular', 'other')),
    constraint documents_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index documents_issued_on_idx on documents (issued_on);
create trigger documents_set_updated_at before update on documents
    for each row execute function ndp_set_updated_at();
