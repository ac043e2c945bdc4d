//! The counters behind the portal's limits (`crate::limits`): sign-in attempts per key with their
//! locks (`login_throttle`, counted and checked by the SQL function `ndp_login_attempt`), and uses
//! per key and clock hour (`contribution_limits`). Kept in PostgreSQL so that every process shares
//! them.

use sqlx::PgExecutor;

/// What the throttle said about a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A key is locked: try again in this many seconds. Nothing was counted.
    Refused(u64),
    /// Counted against every key; these keys went over their allowance now (with their failures).
    Counted(Vec<(String, i32)>),
}

/// Counts a sign-in attempt against `keys` (each with the failures it allows within `window`) and
/// checks their locks, in one statement (see the `ndp_login_attempt` migration). The lock of
/// `soft` does not refuse the attempt while `clean` has no failures.
pub async fn login_attempt(
    db: impl PgExecutor<'_>,
    keys: &[(String, i32)],
    window: time::Duration,
    soft: Option<(&str, &str)>,
) -> sqlx::Result<Attempt> {
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let free: Vec<i32> = keys.iter().map(|(_, f)| *f).collect();
    let (soft_key, clean_key) = soft.unzip();
    let row = sqlx::query!(
        r#"select wait_seconds as "wait!", locked_keys as "keys!", locked_failures as "failures!"
           from ndp_login_attempt($1, $2, $3::bigint * interval '1 second', $4, $5)"#,
        &names,
        &free,
        window.whole_seconds(),
        soft_key,
        clean_key,
    )
    .fetch_one(db)
    .await?;
    Ok(if row.wait > 0 {
        Attempt::Refused(u64::try_from(row.wait).unwrap_or(1))
    } else {
        Attempt::Counted(row.keys.into_iter().zip(row.failures).collect())
    })
}

/// After a successful sign-in: forgets the account's own keys (`cleared`; returns those that had
/// been locked) and gives the attempt back to the shared ones (`refunded`, with their allowances),
/// whose other failures stay counted.
pub async fn login_succeeded(db: &sqlx::PgPool, cleared: &[String], refunded: &[(String, i32)]) -> sqlx::Result<Vec<String>> {
    let removed =
        sqlx::query!(r#"delete from login_throttle where key = any($1) returning key, locked_until is not null as "locked!""#, cleared)
            .fetch_all(db)
            .await?;
    let unlocked = removed.into_iter().filter(|r| r.locked).map(|r| r.key).collect();
    let names: Vec<String> = refunded.iter().map(|(k, _)| k.clone()).collect();
    let free: Vec<i32> = refunded.iter().map(|(_, f)| *f).collect();
    sqlx::query!(
        r#"update login_throttle t set failures = greatest(t.failures - 1, 0),
                  locked_until = case when t.failures - 1 <= f.free then null else t.locked_until end
           from unnest($1::text[], $2::int[]) as f (key, free)
           where t.key = f.key"#,
        &names,
        &free
    )
    .execute(db)
    .await?;
    Ok(unlocked)
}

/// Counts one use of `key` in the current clock hour; the count including this one.
pub async fn count_in_hour(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"insert into contribution_limits (key, window_start, count) values ($1, date_trunc('hour', now()), 1)
           on conflict (key, window_start) do update set count = contribution_limits.count + 1
           returning count"#,
        key
    )
    .fetch_one(db)
    .await
}
