-- Ratings feed the "best rated" order: a Bayesian average that pulls platforms with few ratings
-- towards the middle of the scale, (5 × 3 + sum of stars) / (5 + number of ratings), over
-- published ratings only, so one 5-star rating cannot top the list. Rating changes notify the
-- search indexes (the platform's document carries the score).
-- The moderation blocklist: terms that hold a contribution for review, editable by admins; the
-- portal fills it from the list shipped with the code when it is empty.

create function ndp_rating_score(platform bigint) returns double precision
language sql stable as $$
    select (5 * 3.0 + coalesce(sum(stars), 0)) / (5 + count(*))
    from ratings where platform_id = platform and state = 'published'
$$;

create trigger ratings_notify_search after insert or update or delete on ratings
    for each row execute function ndp_notify_search_parent();

create table moderation_terms (
    term text primary key,
    added_by bigint references users (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint moderation_terms_term_check check (btrim(term) <> '' and term = lower(term) and char_length(term) <= 100)
);

-- Counters for posting limits per account and per client address (key chosen by the app).
create table contribution_limits (
    key text not null,
    window_start timestamptz not null,
    count int not null default 0,
    primary key (key, window_start),
    constraint contribution_limits_count_check check (count >= 0)
);
create index contribution_limits_window_start_idx on contribution_limits (window_start);
