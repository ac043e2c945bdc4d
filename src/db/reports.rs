//! Monthly figures per platform (Decision 186 asks for them by the 25th of the following month),
//! who has not reported, and reminder mails before the deadline.

use sqlx::PgExecutor;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::db::ids::UserId;

/// Vietnam's time zone (no daylight saving).
pub const VIETNAM: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The first day of the month containing `date`.
pub fn period_of(date: Date) -> Date {
    date.replace_day(1).unwrap_or(date)
}

/// The first day of the month before `period`.
pub fn previous_period(period: Date) -> Date {
    let (year, month) =
        if period.month() == Month::January { (period.year() - 1, Month::December) } else { (period.year(), period.month().previous()) };
    Date::from_calendar_date(year, month, 1).unwrap_or(period)
}

/// The last moment a report for `period` is on time: the end of the 25th of the following month, Vietnam time.
pub fn deadline(period: Date) -> OffsetDateTime {
    let (year, month) =
        if period.month() == Month::December { (period.year() + 1, Month::January) } else { (period.year(), period.month().next()) };
    let day = Date::from_calendar_date(year, month, 25).unwrap_or(period);
    day.with_hms(23, 59, 59).map_or(OffsetDateTime::UNIX_EPOCH, |t| t.assume_offset(VIETNAM))
}

/// Parses `YYYY-MM` into a period.
pub fn parse_period(text: &str) -> Option<Date> {
    let (year, month) = text.split_once('-')?;
    let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, 1).ok()
}

/// `YYYY-MM` of a period.
pub fn period_text(period: Date) -> String {
    format!("{:04}-{:02}", period.year(), u8::from(period.month()))
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Id.
    pub id: i64,
    /// Platform.
    pub platform_id: i64,
    /// First day of the month.
    pub period: Date,
    /// Users.
    pub users: Option<i64>,
    /// Monthly active users.
    pub monthly_active_users: Option<i64>,
    /// Transactions.
    pub transactions: Option<i64>,
    /// Notes.
    pub notes: Option<String>,
    /// Submitted (none: draft).
    pub submitted_at: Option<OffsetDateTime>,
    /// Submitted after the deadline.
    pub is_late: bool,
}

/// The report of a platform for a period.
pub async fn find(db: impl PgExecutor<'_>, platform_id: i64, period: Date) -> sqlx::Result<Option<Report>> {
    sqlx::query_as!(
        Report,
        r#"select id, platform_id, period, users, monthly_active_users, transactions, notes, submitted_at, is_late
           from monthly_reports where platform_id = $1 and period = $2"#,
        platform_id,
        period
    )
    .fetch_optional(db)
    .await
}

/// An enterprise's reports for the given periods (one query for its whole overview).
pub async fn of_enterprise(db: impl PgExecutor<'_>, enterprise_id: i64, periods: &[Date]) -> sqlx::Result<Vec<Report>> {
    sqlx::query_as!(
        Report,
        r#"select m.id, m.platform_id, m.period, m.users, m.monthly_active_users, m.transactions, m.notes, m.submitted_at, m.is_late
           from monthly_reports m
           where m.period = any($2)
             and m.platform_id in (select platform_id from platform_enterprises where enterprise_id = $1)"#,
        enterprise_id,
        periods
    )
    .fetch_all(db)
    .await
}

/// The figures of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Users.
    pub users: Option<i64>,
    /// Monthly active users.
    pub monthly_active_users: Option<i64>,
    /// Transactions.
    pub transactions: Option<i64>,
    /// Notes.
    pub notes: Option<String>,
}

/// Saves (and submits) a report. Refused (`false`) when a submitted report is past its deadline;
/// a first submission after the deadline is accepted and marked late.
pub async fn submit(
    db: impl PgExecutor<'_>,
    platform_id: i64,
    enterprise_id: i64,
    period: Date,
    figures: &Figures,
    user_id: UserId,
    now: OffsetDateTime,
) -> sqlx::Result<bool> {
    let late = now > deadline(period);
    let done = sqlx::query!(
        r#"insert into monthly_reports (platform_id, enterprise_id, period, users, monthly_active_users, transactions, notes,
                                        submitted_by, submitted_at, is_late)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           on conflict (platform_id, period) do update set
             users = excluded.users, monthly_active_users = excluded.monthly_active_users,
             transactions = excluded.transactions, notes = excluded.notes, submitted_by = excluded.submitted_by,
             submitted_at = excluded.submitted_at,
             is_late = monthly_reports.is_late or (monthly_reports.submitted_at is null and excluded.is_late)
           where monthly_reports.submitted_at is null or not $10"#,
        platform_id,
        enterprise_id,
        period,
        figures.users,
        figures.monthly_active_users,
        figures.transactions,
        figures.notes,
        user_id.0,
        now,
        late
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A platform that has not reported a period.
#[derive(Debug, Clone)]
pub struct Missing {
    /// Platform slug.
    pub slug: String,
    /// Platform name.
    pub name: String,
    /// Enterprise name.
    pub enterprise_name: String,
}

/// Platforms with an enterprise account that have not submitted `period`.
pub async fn missing(db: impl PgExecutor<'_>, period: Date) -> sqlx::Result<Vec<Missing>> {
    sqlx::query_as!(
        Missing,
        r#"select distinct p.slug, p.name, e.name as enterprise_name
           from platforms p
           join platform_enterprises pe on pe.platform_id = p.id
           join enterprises e on e.id = pe.enterprise_id
           where exists (select 1 from users u where u.enterprise_id = e.id and u.status = 'active')
             and not exists (select 1 from monthly_reports m where m.platform_id = p.id and m.period = $1 and m.submitted_at is not null)
           order by e.name, p.name"#,
        period
    )
    .fetch_all(db)
    .await
}

/// Reports submitted for a period (the staff view).
pub async fn submitted(db: impl PgExecutor<'_>, period: Date) -> sqlx::Result<Vec<(String, String, Report)>> {
    let rows = sqlx::query!(
        r#"select p.slug, p.name, m.id, m.platform_id, m.period, m.users, m.monthly_active_users, m.transactions, m.notes,
                  m.submitted_at, m.is_late
           from monthly_reports m join platforms p on p.id = m.platform_id
           where m.period = $1 and m.submitted_at is not null order by p.name"#,
        period
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let report = Report {
                id: r.id,
                platform_id: r.platform_id,
                period: r.period,
                users: r.users,
                monthly_active_users: r.monthly_active_users,
                transactions: r.transactions,
                notes: r.notes,
                submitted_at: r.submitted_at,
                is_late: r.is_late,
            };
            (r.slug, r.name, report)
        })
        .collect())
}

/// An enterprise account that still owes reports for a period and has not been reminded of it.
#[derive(Debug, Clone)]
pub struct Owing {
    /// Where the reminder goes.
    pub email: String,
    /// The account's language.
    pub locale: String,
    /// The platforms whose report is missing, by name.
    pub platforms: String,
}

/// Verified, active enterprise accounts whose enterprise owes `period`'s report for a platform, and
/// that were not yet sent a mail with `template` (the reminder of that period), in one query.
pub async fn owing_reminders(db: impl PgExecutor<'_>, period: Date, template: &str) -> sqlx::Result<Vec<Owing>> {
    sqlx::query_as!(
        Owing,
        r#"select u.email, min(u.locale) as "locale!", string_agg(distinct p.name, ', ') as "platforms!"
           from users u
           join platform_enterprises pe on pe.enterprise_id = u.enterprise_id
           join platforms p on p.id = pe.platform_id
           where u.status = 'active' and u.role = 'enterprise' and u.email_verified_at is not null
             and not exists (select 1 from monthly_reports m where m.platform_id = p.id and m.period = $1 and m.submitted_at is not null)
             and not exists (select 1 from mail_outbox o where lower(o.to_address) = lower(u.email) and o.template = $2)
           group by u.email"#,
        period,
        template
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn deadlines_fall_on_the_25th_of_the_following_month_in_vietnam() {
        assert_eq!(deadline(date!(2026 - 10 - 01)), datetime!(2026-11-25 23:59:59 +7));
        assert_eq!(deadline(date!(2026 - 12 - 01)), datetime!(2027-01-25 23:59:59 +7));
        assert_eq!(previous_period(date!(2026 - 01 - 01)), date!(2025 - 12 - 01));
        assert_eq!(parse_period("2026-11"), Some(date!(2026 - 11 - 01)));
        for bad in ["2026-13", "2026", "26-11", "abcd-ef", "1999-01"] {
            assert_eq!(parse_period(bad), None, "{bad}");
        }
    }
}
