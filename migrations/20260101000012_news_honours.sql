-- News articles and honours (the monthly, quarterly and yearly recognitions of excellent
-- platforms and enterprises, 186 IV.4.d). published_at null means a draft in both.
-- honours_period_start_check pins period_start to the first day of its month, quarter or year,
-- so one period has one spelling.

create table news (
    id bigint generated always as identity primary key,
    slug text not null,
    title text not null,
    summary text,
    body text,
    published_at timestamptz,
    author_id bigint references users (id) on delete set null,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint news_slug_key unique (slug),
    constraint news_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint news_title_check check (btrim(title) <> ''),
    constraint news_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index news_published_at_idx on news (published_at desc) where published_at is not null;
create index news_author_id_idx on news (author_id);
create trigger news_set_updated_at before update on news
    for each row execute function ndp_set_updated_at();

create table honours (
    id bigint generated always as identity primary key,
    period_kind text not null,
    period_start date not null,
    title text not null,
    citation text,
    platform_id bigint references platforms (id) on delete restrict,
    enterprise_id bigint references enterprises (id) on delete restrict,
    published_at timestamptz,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint honours_period_kind_check check (period_kind in ('month', 'quarter', 'year')),
    constraint honours_period_start_check check (
        extract(day from period_start) = 1
        and (period_kind = 'month'
             or period_kind = 'quarter' and extract(month from period_start) in (1, 4, 7, 10)
             or period_kind = 'year' and extract(month from period_start) = 1)),
    constraint honours_title_check check (btrim(title) <> ''),
    constraint honours_recipient_check check (num_nonnulls(platform_id, enterprise_id) >= 1),
    constraint honours_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index honours_period_idx on honours (period_kind, period_start);
create index honours_platform_id_idx on honours (platform_id);
create index honours_enterprise_id_idx on honours (enterprise_id);
create trigger honours_set_updated_at before update on honours
    for each row execute function ndp_set_updated_at();
