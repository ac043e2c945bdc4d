-- Tells every portal process which searchable rows changed. The triggers live in the database so
-- that no write path (the app, an operator's psql, a migration) can forget to update the search
-- indexes. Each process LISTENs on the channel `ndp_search`; the payload is `<table>:<id>`.
-- Link tables report the platform they belong to; answers report their question.

create function ndp_notify_search() returns trigger
language plpgsql as $$
declare
    changed record;
begin
    if tg_op = 'DELETE' then changed := old; else changed := new; end if;
    perform pg_notify('ndp_search', tg_table_name || ':' || changed.id);
    return null;
end
$$;

create function ndp_notify_search_parent() returns trigger
language plpgsql as $$
declare
    changed record;
begin
    if tg_op = 'DELETE' then changed := old; else changed := new; end if;
    -- Separate branches: PL/pgSQL resolves a record's fields when the statement runs.
    if tg_table_name = 'answers' then
        perform pg_notify('ndp_search', 'questions:' || changed.question_id);
    else
        perform pg_notify('ndp_search', 'platforms:' || changed.platform_id);
    end if;
    return null;
end
$$;

create trigger platforms_notify_search after insert or update or delete on platforms
    for each row execute function ndp_notify_search();
create trigger agencies_notify_search after insert or update or delete on agencies
    for each row execute function ndp_notify_search();
create trigger enterprises_notify_search after insert or update or delete on enterprises
    for each row execute function ndp_notify_search();
create trigger documents_notify_search after insert or update or delete on documents
    for each row execute function ndp_notify_search();
create trigger news_notify_search after insert or update or delete on news
    for each row execute function ndp_notify_search();
create trigger questions_notify_search after insert or update or delete on questions
    for each row execute function ndp_notify_search();
create trigger answers_notify_search after insert or update or delete on answers
    for each row execute function ndp_notify_search_parent();
create trigger platform_need_groups_notify_search after insert or update or delete on platform_need_groups
    for each row execute function ndp_notify_search_parent();
create trigger platform_enterprises_notify_search after insert or update or delete on platform_enterprises
    for each row execute function ndp_notify_search_parent();
