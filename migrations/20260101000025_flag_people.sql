-- The flags on an item and the "person" each counts as. Accounts registered from one network
-- (IPv4 /24, IPv6 /64), each within an hour of the one before, are one person, so a burst of
-- throw-away accounts counts once; accounts without a registration address count alone. A flag
-- counts towards hiding the item while it is open and its account was verified and a day old
-- when it flagged. Used by the flag that may hide an item and by the moderator's list of who
-- flagged, so the two cannot disagree.
create function ndp_flaggers(p_kind text, p_item bigint)
returns table (user_id bigint, display_name text, account_created timestamptz, verified boolean, reason text,
               created_at timestamptz, resolved boolean, counts boolean, person text)
language sql stable as $$
    with flagger as (
        select f.user_id, f.reason, f.created_at, f.resolved_at, u.display_name, u.created_at as account_created,
               u.email_verified_at is not null as verified,
               (f.resolved_at is null and u.email_verified_at is not null
                and u.created_at <= f.created_at - interval '1 day') as counts,
               network(set_masklen(u.registered_addr, case when family(u.registered_addr) = 4 then 24 else 64 end)) as net
        from flags f left join users u on u.id = f.user_id
        where f.target_type = p_kind and f.target_id = p_item),
    marked as (
        select *, case when net is null then 1
                       when lag(account_created) over (partition by net order by account_created)
                            > account_created - interval '1 hour' then 0
                       else 1 end as starts
        from flagger)
    select user_id, display_name, account_created, coalesce(verified, false), reason, created_at, resolved_at is not null,
           coalesce(counts, false),
           case when net is null then 'account ' || coalesce(user_id::text, 'gone')
                else host(net) || ' ' || sum(starts) over (partition by net order by account_created rows unbounded preceding) end
    from marked
$$;
