-- Who speaks for an enterprise: an account linked to it, or one that gave its tax code (or the
-- code of one of its branches: the first ten digits are the enterprise's) when it registered (an
-- enterprise account still waiting for approval, or a staff member who came from it). Such an account may not rate or flag the enterprise's platforms, and a staff member may not
-- decide anything about them (moderation items, listing revisions, registrations, accounts).
create function ndp_speaks_for(p_user bigint, p_enterprise bigint) returns boolean
language sql stable as $$
    select exists (select 1 from users m join enterprises e
                     on e.id = m.enterprise_id or split_part(e.tax_code, '-', 1) = split_part(m.requested_tax_code, '-', 1)
                   where m.id = p_user and e.id = p_enterprise)
$$;

create function ndp_speaks_for_platform(p_user bigint, p_platform bigint) returns boolean
language sql stable as $$
    select exists (select 1 from platform_enterprises pe where pe.platform_id = p_platform and ndp_speaks_for(p_user, pe.enterprise_id))
$$;
