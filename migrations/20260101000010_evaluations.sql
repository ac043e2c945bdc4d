-- Council evaluations of one platform under one criteria framework, the evaluators assigned to
-- each, their pass/fail score per criterion, and the resulting decisions (recognition register).
-- Evaluations are public record: they restrict deleting their platform or framework, and an
-- evaluator's account cannot be deleted while assigned (disable it instead).
-- scores has two keys on purpose: scores_evaluation_id_fkey cascades when a whole evaluation is
-- deleted, while scores_evaluation_id_evaluator_id_fkey (no action) refuses to unassign an
-- evaluator who has already scored, so scores never vanish as a side effect.
-- evaluations_platform_id_active_key: one unfinished evaluation per platform at a time.

create table evaluations (
    id bigint generated always as identity primary key,
    platform_id bigint not null references platforms (id) on delete restrict,
    framework_id bigint not null references criteria_frameworks (id) on delete restrict,
    kind text not null default 'initial',
    state text not null default 'draft',
    opened_by bigint references users (id) on delete set null,
    opened_at timestamptz,
    due_on date,
    closed_at timestamptz,
    summary text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint evaluations_kind_check check (kind in ('initial', 're_evaluation')),
    constraint evaluations_state_check check (state in ('draft', 'open', 'scoring', 'closed', 'decided')),
    constraint evaluations_closed_at_check check (state not in ('closed', 'decided') or closed_at is not null)
);
create unique index evaluations_platform_id_active_key on evaluations (platform_id) where state <> 'decided';
create index evaluations_platform_id_idx on evaluations (platform_id, created_at);
create index evaluations_framework_id_idx on evaluations (framework_id);
create index evaluations_opened_by_idx on evaluations (opened_by);
create trigger evaluations_set_updated_at before update on evaluations
    for each row execute function ndp_set_updated_at();

-- submitted_at: the evaluator has finished scoring this evaluation.
create table evaluator_assignments (
    evaluation_id bigint not null references evaluations (id) on delete cascade,
    user_id bigint not null references users (id) on delete restrict,
    due_on date,
    assigned_by bigint references users (id) on delete set null,
    submitted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (evaluation_id, user_id)
);
create index evaluator_assignments_user_id_idx on evaluator_assignments (user_id);
create index evaluator_assignments_assigned_by_idx on evaluator_assignments (assigned_by);
create trigger evaluator_assignments_set_updated_at before update on evaluator_assignments
    for each row execute function ndp_set_updated_at();

create table scores (
    id bigint generated always as identity primary key,
    evaluation_id bigint not null,
    criterion_id bigint not null references criteria (id) on delete restrict,
    evaluator_id bigint not null,
    result text not null,
    note text,
    evidence text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint scores_evaluation_id_criterion_id_evaluator_id_key unique (evaluation_id, criterion_id, evaluator_id),
    constraint scores_evaluation_id_fkey foreign key (evaluation_id)
        references evaluations (id) on delete cascade,
    constraint scores_evaluation_id_evaluator_id_fkey foreign key (evaluation_id, evaluator_id)
        references evaluator_assignments (evaluation_id, user_id),
    constraint scores_result_check check (result in ('pass', 'fail'))
);
create index scores_evaluation_id_evaluator_id_idx on scores (evaluation_id, evaluator_id);
create index scores_criterion_id_idx on scores (criterion_id);
create index scores_evaluator_id_idx on scores (evaluator_id);
create trigger scores_set_updated_at before update on scores
    for each row execute function ndp_set_updated_at();

-- Decisions are cited by permalink (slug), so their platform cannot be deleted from under them.
create table decisions (
    id bigint generated always as identity primary key,
    slug text not null,
    platform_id bigint not null references platforms (id) on delete restrict,
    evaluation_id bigint references evaluations (id) on delete set null,
    kind text not null,
    number text,
    decided_on date,
    decided_year smallint,
    title text,
    document_id bigint references documents (id) on delete set null,
    certificate_path text,
    note text,
    origin text not null default 'portal',
    sources text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint decisions_slug_key unique (slug),
    constraint decisions_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
    constraint decisions_kind_check check (kind in ('recognition', 'revocation', 'not_recognised')),
    constraint decisions_decided_year_check check (decided_on is null or decided_year is null
                                                   or extract(year from decided_on) = decided_year),
    constraint decisions_origin_check check (origin in ('seed', 'synthetic', 'portal'))
);
create index decisions_platform_id_idx on decisions (platform_id);
create index decisions_evaluation_id_idx on decisions (evaluation_id);
create index decisions_document_id_idx on decisions (document_id);
create trigger decisions_set_updated_at before update on decisions
    for each row execute function ndp_set_updated_at();
