-- Citizen contributions about a platform and their moderation: ratings, feedback, the platform
-- enterprise's public replies, flags (reports) and appeals against moderation decisions.
-- Authors are "on delete set null" so an account deletion anonymises contributions instead of
-- erasing public history; ratings_platform_id_user_id_key still allows many anonymised rows.
-- Every rejection or hiding carries a reason (reject_reason: short code, reject_note: free text).
-- hold_rule names the automatic rule that held an item for review (null = plain queue).
-- Flags and appeals point at several tables (target_type + target_id), so instead of foreign
-- keys, ndp_delete_moderation_refs() removes them when their target row is deleted.

create table ratings (
    id bigint generated always as identity primary key,
    platform_id bigint not null references platforms (id) on delete cascade,
    user_id bigint references users (id) on delete set null,
    stars smallint not null,
    comment text,
    state text not null default 'pending',
    hold_rule text,
    moderator_id bigint references users (id) on delete set null,
    moderated_at timestamptz,
    reject_reason text,
    reject_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint ratings_platform_id_user_id_key unique (platform_id, user_id),
    constraint ratings_stars_check check (stars between 1 and 5),
    constraint ratings_comment_check check (btrim(comment) <> ''),
    constraint ratings_state_check check (state in ('pending', 'published', 'rejected', 'hidden', 'withdrawn')),
    constraint ratings_reject_reason_check check (state not in ('rejected', 'hidden')
                                                  or coalesce(btrim(reject_reason), '') <> '')
);
create index ratings_platform_id_published_idx on ratings (platform_id, created_at) where state = 'published';
create index ratings_user_id_idx on ratings (user_id);
create index ratings_moderator_id_idx on ratings (moderator_id);
create index ratings_pending_idx on ratings (created_at) where state = 'pending';
create trigger ratings_set_updated_at before update on ratings
    for each row execute function ndp_set_updated_at();

create table feedback (
    id bigint generated always as identity primary key,
    platform_id bigint not null references platforms (id) on delete cascade,
    user_id bigint references users (id) on delete set null,
    body text not null,
    state text not null default 'pending',
    hold_rule text,
    moderator_id bigint references users (id) on delete set null,
    moderated_at timestamptz,
    reject_reason text,
    reject_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint feedback_body_check check (btrim(body) <> ''),
    constraint feedback_state_check check (state in ('pending', 'published', 'rejected', 'hidden', 'withdrawn')),
    constraint feedback_reject_reason_check check (state not in ('rejected', 'hidden')
                                                   or coalesce(btrim(reject_reason), '') <> '')
);
create index feedback_platform_id_idx on feedback (platform_id, created_at);
create index feedback_user_id_idx on feedback (user_id);
create index feedback_moderator_id_idx on feedback (moderator_id);
create index feedback_pending_idx on feedback (created_at) where state = 'pending';
create trigger feedback_set_updated_at before update on feedback
    for each row execute function ndp_set_updated_at();

-- The reply speaks for the enterprise, so enterprise_id is required and restricts deleting it.
create table replies (
    id bigint generated always as identity primary key,
    rating_id bigint references ratings (id) on delete cascade,
    feedback_id bigint references feedback (id) on delete cascade,
    enterprise_id bigint not null references enterprises (id) on delete restrict,
    author_id bigint references users (id) on delete set null,
    body text not null,
    state text not null default 'pending',
    hold_rule text,
    moderator_id bigint references users (id) on delete set null,
    moderated_at timestamptz,
    reject_reason text,
    reject_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint replies_rating_id_key unique (rating_id),
    constraint replies_feedback_id_key unique (feedback_id),
    constraint replies_target_check check (num_nonnulls(rating_id, feedback_id) = 1),
    constraint replies_body_check check (btrim(body) <> ''),
    constraint replies_state_check check (state in ('pending', 'published', 'rejected', 'hidden', 'withdrawn')),
    constraint replies_reject_reason_check check (state not in ('rejected', 'hidden')
                                                  or coalesce(btrim(reject_reason), '') <> '')
);
create index replies_enterprise_id_idx on replies (enterprise_id);
create index replies_author_id_idx on replies (author_id);
create index replies_moderator_id_idx on replies (moderator_id);
create index replies_pending_idx on replies (created_at) where state = 'pending';
create trigger replies_set_updated_at before update on replies
    for each row execute function ndp_set_updated_at();

create table flags (
    id bigint generated always as identity primary key,
    target_type text not null,
    target_id bigint not null,
    user_id bigint references users (id) on delete set null,
    reason text not null,
    note text,
    resolution text,
    resolved_at timestamptz,
    resolved_by bigint references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint flags_target_type_target_id_user_id_key unique (target_type, target_id, user_id),
    constraint flags_target_type_check check (target_type in ('rating', 'feedback', 'reply', 'question', 'answer')),
    constraint flags_reason_check check (reason in ('spam', 'offensive', 'personal_data', 'off_topic',
                                                    'false_information', 'other')),
    constraint flags_resolution_check check (resolution in ('upheld', 'dismissed')
                                             and resolved_at is not null
                                             or resolution is null and resolved_at is null)
);
create index flags_user_id_idx on flags (user_id);
create index flags_resolved_by_idx on flags (resolved_by);
create index flags_open_idx on flags (created_at) where resolved_at is null;
create trigger flags_set_updated_at before update on flags
    for each row execute function ndp_set_updated_at();

-- One appeal per item; first_moderator_id keeps who made the decision under appeal, so the app
-- can have someone else decide it.
create table appeals (
    id bigint generated always as identity primary key,
    target_type text not null,
    target_id bigint not null,
    user_id bigint references users (id) on delete set null,
    body text not null,
    state text not null default 'pending',
    first_moderator_id bigint references users (id) on delete set null,
    decided_by bigint references users (id) on delete set null,
    decided_at timestamptz,
    decision_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint appeals_target_type_target_id_key unique (target_type, target_id),
    constraint appeals_target_type_check check (target_type in ('rating', 'feedback', 'reply', 'question', 'answer')),
    constraint appeals_body_check check (btrim(body) <> ''),
    constraint appeals_state_check check (state in ('pending', 'upheld', 'overturned')),
    constraint appeals_decided_at_check check ((state = 'pending') = (decided_at is null))
);
create index appeals_user_id_idx on appeals (user_id);
create index appeals_first_moderator_id_idx on appeals (first_moderator_id);
create index appeals_decided_by_idx on appeals (decided_by);
create index appeals_pending_idx on appeals (created_at) where state = 'pending';
create trigger appeals_set_updated_at before update on appeals
    for each row execute function ndp_set_updated_at();

-- Attached with the target_type of the table as its argument.
create function ndp_delete_moderation_refs() returns trigger
language plpgsql as $$
begin
    delete from flags where target_type = tg_argv[0] and target_id = old.id;
    delete from appeals where target_type = tg_argv[0] and target_id = old.id;
    return null;
end
$$;
create trigger ratings_delete_moderation_refs after delete on ratings
    for each row execute function ndp_delete_moderation_refs('rating');
create trigger feedback_delete_moderation_refs after delete on feedback
    for each row execute function ndp_delete_moderation_refs('feedback');
create trigger replies_delete_moderation_refs after delete on replies
    for each row execute function ndp_delete_moderation_refs('reply');
