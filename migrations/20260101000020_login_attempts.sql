-- Sign-in throttling counts and checks in one statement. ndp_login_attempt locks the throttle
-- rows of every key of an attempt (in key order, so concurrent attempts cannot deadlock), refuses
-- the attempt when a key is locked, and otherwise counts it against every key, locking those
-- over their allowance (1, 2, 4, 8, then 15 minutes). Concurrent attempts queue on the rows, so a
-- burst cannot all pass a check made before any of them was counted. The attempt that goes over
-- an allowance is still checked (it is not refused, it sets the lock); every later one is refused
-- until the lock ends. The app gives a successful attempt back (see db::users::login_succeeded).
--
-- p_soft_key, when given, is a key whose lock does not refuse an attempt as long as p_clean_key
-- has no failures: the lock of a whole account does not stop its owner, who has a second factor,
-- from an address that has not failed.
create function ndp_login_attempt(p_keys text[], p_free int[], p_window interval,
                                  p_soft_key text default null, p_clean_key text default null)
returns table (wait_seconds int, locked_keys text[], locked_failures int[])
language plpgsql as $$
declare
    v_clean_failures int;
    v_wait int;
begin
    insert into login_throttle (key) select k from unnest(p_keys) k order by k on conflict (key) do nothing;
    perform 1 from login_throttle where key = any (p_keys) order by key for update;
    update login_throttle set failures = 0, window_started_at = now(), locked_until = null
     where key = any (p_keys) and window_started_at < now() - p_window
       and (locked_until is null or locked_until <= now());
    select failures into v_clean_failures from login_throttle where key = p_clean_key;
    select max(ceil(extract(epoch from locked_until - now())))::int into v_wait
      from login_throttle
     where key = any (p_keys) and locked_until > now()
       and not (coalesce(key = p_soft_key, false) and coalesce(v_clean_failures, 0) = 0);
    if v_wait is not null then
        return query select greatest(v_wait, 1), '{}'::text[], '{}'::int[];
        return;
    end if;
    return query
    with counted as (
        update login_throttle t
           set failures = t.failures + 1,
               locked_until = case when t.failures + 1 > f.free
                                   then now() + least(interval '15 minutes',
                                                      interval '1 minute' * power(2, least(t.failures - f.free, 4)))
                                   else t.locked_until end
          from unnest(p_keys, p_free) as f (key, free)
         where t.key = f.key
        returning t.key, t.failures, t.failures > f.free as over
    )
    select 0, coalesce(array_agg(c.key) filter (where c.over), '{}'), coalesce(array_agg(c.failures) filter (where c.over), '{}')
      from counted c;
end
$$;
