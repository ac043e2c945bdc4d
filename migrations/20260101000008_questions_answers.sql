-- Q&A: questions (optionally about one platform) and answers, moderated like ratings.
-- An answer with enterprise_id set is the official answer of that developer unit; deleting the
-- enterprise leaves the answer as an ordinary one. The accepted answer must belong to its own
-- question: questions_accepted_answer_id_fkey is a composite key onto answers (id, question_id).
-- It has no "on delete" action, so clear accepted_answer_id before deleting that one answer
-- (deleting the whole question still cascades cleanly).

create table questions (
    id bigint generated always as identity primary key,
    title text not null,
    body text not null,
    platform_id bigint references platforms (id) on delete set null,
    user_id bigint references users (id) on delete set null,
    state text not null default 'pending',
    hold_rule text,
    moderator_id bigint references users (id) on delete set null,
    moderated_at timestamptz,
    reject_reason text,
    reject_note text,
    accepted_answer_id bigint,
    is_faq boolean not null default false,
    faq_position int,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint questions_title_check check (btrim(title) <> '' and char_length(title) <= 300),
    constraint questions_body_check check (btrim(body) <> ''),
    constraint questions_state_check check (state in ('pending', 'published', 'rejected', 'hidden', 'withdrawn')),
    constraint questions_reject_reason_check check (state not in ('rejected', 'hidden')
                                                    or coalesce(btrim(reject_reason), '') <> ''),
    constraint questions_faq_position_check check (faq_position is null or is_faq)
);
create index questions_platform_id_idx on questions (platform_id);
create index questions_user_id_idx on questions (user_id);
create index questions_moderator_id_idx on questions (moderator_id);
create index questions_published_idx on questions (created_at) where state = 'published';
create index questions_pending_idx on questions (created_at) where state = 'pending';
create index questions_faq_idx on questions (faq_position) where is_faq;
create trigger questions_set_updated_at before update on questions
    for each row execute function ndp_set_updated_at();

create table answers (
    id bigint generated always as identity primary key,
    question_id bigint not null references questions (id) on delete cascade,
    user_id bigint references users (id) on delete set null,
    enterprise_id bigint references enterprises (id) on delete set null,
    body text not null,
    state text not null default 'pending',
    hold_rule text,
    moderator_id bigint references users (id) on delete set null,
    moderated_at timestamptz,
    reject_reason text,
    reject_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint answers_id_question_id_key unique (id, question_id),
    constraint answers_body_check check (btrim(body) <> ''),
    constraint answers_state_check check (state in ('pending', 'published', 'rejected', 'hidden', 'withdrawn')),
    constraint answers_reject_reason_check check (state not in ('rejected', 'hidden')
                                                  or coalesce(btrim(reject_reason), '') <> '')
);
create index answers_question_id_idx on answers (question_id, created_at);
create index answers_user_id_idx on answers (user_id);
create index answers_enterprise_id_idx on answers (enterprise_id);
create index answers_moderator_id_idx on answers (moderator_id);
create index answers_pending_idx on answers (created_at) where state = 'pending';
create trigger answers_set_updated_at before update on answers
    for each row execute function ndp_set_updated_at();

alter table questions
    add constraint questions_accepted_answer_id_fkey
    foreign key (accepted_answer_id, id) references answers (id, question_id);

create trigger questions_delete_moderation_refs after delete on questions
    for each row execute function ndp_delete_moderation_refs('question');
create trigger answers_delete_moderation_refs after delete on answers
    for each row execute function ndp_delete_moderation_refs('answer');
