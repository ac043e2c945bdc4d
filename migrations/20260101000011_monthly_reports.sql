-- Monthly figures an enterprise reports per platform (186 asks for them by the 25th).
-- period is the first day of the month reported. Figures are nullable: "not reported" differs
-- from zero. submitted_at null means a saved draft; is_late is fixed at submission time so the
-- record does not change meaning if the deadline rule changes later.

create table monthly_reports (
    id bigint generated always as identity primary key,
    platform_id bigint not null references platforms (id) on delete cascade,
    enterprise_id bigint not null references enterprises (id) on delete restrict,
    period date not null,
    users bigint,
    monthly_active_users bigint,
    transactions bigint,
    notes text,
    submitted_by bigint references users (id) on delete set null,
    submitted_at timestamptz,
    is_late boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint monthly_reports_platform_id_period_key unique (platform_id, period),
    constraint monthly_reports_period_check check (extract(day from period) = 1),
    constraint monthly_reports_users_check check (users >= 0),
    constraint monthly_reports_monthly_active_users_check check (monthly_active_users >= 0),
    constraint monthly_reports_transactions_check check (transactions >= 0)
);
create index monthly_reports_enterprise_id_idx on monthly_reports (enterprise_id, period);
create index monthly_reports_submitted_by_idx on monthly_reports (submitted_by);
create trigger monthly_reports_set_updated_at before update on monthly_reports
    for each row execute function ndp_set_updated_at();
