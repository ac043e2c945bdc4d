//! Accounts, one-time email tokens, recovery codes and the login throttle.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::account::{Role, Status};

/// An account as stored (the password hash and sealed TOTP secret included: never shown).
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: UserId,
    /// Email address.
    pub email: String,
    /// Name shown beside contributions.
    pub display_name: String,
    /// Argon2id PHC string, or `!` for an erased account.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: Status,
    /// Preferred language.
    pub locale: String,
    /// When the address was verified.
    pub email_verified_at: Option<OffsetDateTime>,
    /// The enterprise an approved enterprise account acts for.
    pub enterprise_id: Option<i64>,
    /// Enterprise name given at registration.
    pub requested_enterprise_name: Option<String>,
    /// Tax code given at registration.
    pub requested_tax_code: Option<String>,
    /// The TOTP secret, sealed with the portal's key (set when it is enabled).
    pub totp_secret: Option<String>,
    /// When TOTP was switched on.
    pub totp_enabled_at: Option<OffsetDateTime>,
    /// The last TOTP step accepted (replay protection).
    pub totp_last_step: Option<i64>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last successful sign-in.
    pub last_login_at: Option<OffsetDateTime>,
    /// Sign-ins before this are no longer valid (set by password changes).
    pub sessions_valid_after: Option<OffsetDateTime>,
}

/// The account with `id`.
pub async fn find(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"select id as "id: UserId", email, display_name, password_hash, role as "role: Role", status as "status: Status", locale, email_verified_at, enterprise_id,
                  requested_enterprise_name, requested_tax_code, totp_secret, totp_enabled_at, totp_last_step,
                  created_at, last_login_at, sessions_valid_after
           from users where id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await
}

/// The account with this email (case-insensitive).
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"select id as "id: UserId", email, display_name, password_hash, role as "role: Role", status as "status: Status", locale, email_verified_at, enterprise_id,
                  requested_enterprise_name, requested_tax_code, totp_secret, totp_enabled_at, totp_last_step,
                  created_at, last_login_at, sessions_valid_after
           from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await
}

/// A new account.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// Email.
    pub email: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Argon2id hash.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: Status,
    /// Language.
    pub locale: &'a str,
    /// Enterprise accounts: the enterprise asked for.
    pub enterprise_name: Option<&'a str>,
    /// Enterprise accounts: its tax code.
    pub tax_code: Option<&'a str>,
    /// Operator-created accounts are verified at once.
    pub verified: bool,
    /// Operator-created enterprise accounts are linked at once.
    pub enterprise_id: Option<i64>,
    /// The client address of a registration through the site.
    pub registered_addr: Option<std::net::IpAddr>,
}

/// Inserts an account; `None` when the email is taken.
pub async fn insert(db: impl PgExecutor<'_>, user: &NewUser<'_>) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"insert into users (email, display_name, password_hash, role, status, locale, requested_enterprise_name,
                              requested_tax_code, email_verified_at, enterprise_id, registered_addr)
           values ($1, $2, $3, $4, $5, $6, $7, $8, case when $9 then now() end, $10, $11::text::inet)
           on conflict ((lower(email))) do nothing
           returning id as "id: UserId""#,
        user.email,
        user.display_name,
        user.password_hash,
        user.role.as_str(),
        user.status.as_str(),
        user.locale,
        user.enterprise_name,
        user.tax_code,
        user.verified,
        user.enterprise_id,
        user.registered_addr.map(|a| a.to_string()),
    )
    .fetch_optional(db)
    .await
}

/// Records a successful sign-in.
pub async fn record_login(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<()> {
    sqlx::query!("update users set last_login_at = now() where id = $1", id.0).execute(db).await.map(drop)
}

/// Replaces the password hash and ends every sign-in made before now.
pub async fn set_password(db: impl PgExecutor<'_>, id: UserId, hash: &str) -> sqlx::Result<()> {
    sqlx::query!("update users set password_hash = $2, sessions_valid_after = now() where id = $1", id.0, hash).execute(db).await.map(drop)
}

/// Marks `email` verified for the account, if it is still the account's address (citizen
/// accounts become active; enterprise accounts stay pending). Returns whether it was.
pub async fn mark_verified(db: impl PgExecutor<'_>, id: UserId, email: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update users set email_verified_at = coalesce(email_verified_at, now()),
                  status = case when status = 'pending' and role <> 'enterprise' then 'active' else status end
           where id = $1 and lower(email) = lower($2)"#,
        id.0,
        email
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes the email; the new address must be verified again, and every link mailed before
/// (to the old address) is used up.
pub async fn set_email(tx: &mut sqlx::PgConnection, id: UserId, email: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update users set email = $2, email_verified_at = null
           where id = $1 and not exists (select 1 from users o where lower(o.email) = lower($2) and o.id <> $1)"#,
        id.0,
        email
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query!("update email_tokens set used_at = now() where user_id = $1 and used_at is null", id.0).execute(&mut *tx).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Switches TOTP on with the sealed secret, at `step` (the step of the code that proved the app
/// works); false when it was already on.
pub async fn enable_totp(db: impl PgExecutor<'_>, id: UserId, sealed: &str, step: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update users set totp_secret = $2, totp_enabled_at = now(), totp_last_step = $3 where id = $1 and totp_enabled_at is null",
        id.0,
        sealed,
        step
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accepts a TOTP step once: false when this or a later step was already used (concurrent replays
/// race on the row, and only one wins).
pub async fn accept_totp_step(db: impl PgExecutor<'_>, id: UserId, step: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query!("update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2)", id.0, step)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Switches TOTP off and drops the recovery codes.
pub async fn disable_totp(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<()> {
    sqlx::query!("update users set totp_secret = null, totp_enabled_at = null, totp_last_step = null where id = $1", id.0)
        .execute(db)
        .await
        .map(drop)
}

/// Every stored (sealed) TOTP secret, by account.
pub async fn totp_secrets(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(UserId, String)>> {
    let rows = sqlx::query!(r#"select id as "id: UserId", totp_secret as "secret!" from users where totp_secret is not null order by id"#)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.secret)).collect())
}

/// Stores an account's TOTP secret sealed with another key.
pub async fn replace_totp_secret(db: impl PgExecutor<'_>, id: UserId, sealed: &str) -> sqlx::Result<()> {
    sqlx::query!("update users set totp_secret = $2 where id = $1 and totp_secret is not null", id.0, sealed).execute(db).await.map(drop)
}

/// Removes every account's recovery codes; returns how many there were.
pub async fn remove_all_recovery_codes(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query!("delete from user_recovery_codes").execute(db).await?.rows_affected())
}

/// Replaces the recovery codes with new ones (stored hashed).
pub async fn replace_recovery_codes(tx: &mut sqlx::PgConnection, id: UserId, hashes: &[String]) -> sqlx::Result<()> {
    sqlx::query!("delete from user_recovery_codes where user_id = $1", id.0).execute(&mut *tx).await?;
    sqlx::query!("insert into user_recovery_codes (user_id, code_hash) select $1, unnest($2::text[])", id.0, hashes)
        .execute(&mut *tx)
        .await
        .map(drop)
}

/// Uses a recovery code once.
pub async fn use_recovery_code(db: impl PgExecutor<'_>, id: UserId, hash: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update user_recovery_codes set used_at = now() where user_id = $1 and code_hash = $2 and used_at is null",
        id.0,
        hash
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the account has.
pub async fn recovery_codes_left(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from user_recovery_codes where user_id = $1 and used_at is null"#, id.0)
        .fetch_one(db)
        .await
}

/// Creates a one-time email token (stored hashed) valid for `ttl`, for the address it is mailed to.
pub async fn create_token(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    purpose: &str,
    hash: &str,
    email: &str,
    ttl: time::Duration,
) -> sqlx::Result<()> {
    let expires = OffsetDateTime::now_utc() + ttl;
    sqlx::query!(
        "insert into email_tokens (user_id, purpose, token_hash, email, expires_at) values ($1, $2, $3, $4, $5)",
        user_id.0,
        purpose,
        hash,
        email,
        expires
    )
    .execute(db)
    .await
    .map(drop)
}

/// The account a used token belonged to, and the address it was mailed to.
#[derive(Debug, Clone)]
pub struct UsedToken {
    /// The account.
    pub user_id: UserId,
    /// The address the link was mailed to.
    pub email: String,
}

/// Uses a token: the account it belongs to, if it exists, has this purpose, is unused, has not
/// expired and was mailed to the account's current address. Marks it used in the same
/// statement, so it works once even under concurrency.
pub async fn consume_token(db: impl PgExecutor<'_>, purpose: &str, hash: &str) -> sqlx::Result<Option<UsedToken>> {
    sqlx::query_as!(
        UsedToken,
        r#"update email_tokens t set used_at = now()
           from users u
           where t.token_hash = $2 and t.purpose = $1 and t.used_at is null and t.expires_at > now()
             and u.id = t.user_id and lower(u.email) = lower(t.email)
           returning t.user_id as "user_id: UserId", t.email as "email!""#,
        purpose,
        hash
    )
    .fetch_optional(db)
    .await
}

/// Whether a token is currently usable (the forms behind links are shown only for those).
pub async fn token_is_live(db: impl PgExecutor<'_>, purpose: &str, hash: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from email_tokens t join users u on u.id = t.user_id
                          where t.token_hash = $2 and t.purpose = $1 and t.used_at is null and t.expires_at > now()
                            and lower(u.email) = lower(t.email)) as "live!""#,
        purpose,
        hash
    )
    .fetch_one(db)
    .await
}

/// Invalidates the account's unused tokens of one purpose (after a password change, say).
pub async fn revoke_tokens(db: impl PgExecutor<'_>, user_id: UserId, purpose: &str) -> sqlx::Result<()> {
    sqlx::query!("update email_tokens set used_at = now() where user_id = $1 and purpose = $2 and used_at is null", user_id.0, purpose)
        .execute(db)
        .await
        .map(drop)
}

/// Housekeeping: expired sessions, old tokens, stale throttle rows, old posting counters, and the
/// bodies of mails sent more than a week ago (they hold one-time links; the rows stay, so a
/// reminder is still sent once).
pub async fn sweep(db: &sqlx::PgPool) -> sqlx::Result<u64> {
    let sessions = sqlx::query!("delete from tower_sessions.session where expiry_date < now()").execute(db).await?.rows_affected();
    let tokens = sqlx::query!("delete from email_tokens where expires_at < now() - interval '7 days'").execute(db).await?.rows_affected();
    let throttle = sqlx::query!(
        "delete from login_throttle where updated_at < now() - interval '1 day' and (locked_until is null or locked_until < now())"
    )
    .execute(db)
    .await?
    .rows_affected();
    let limits =
        sqlx::query!("delete from contribution_limits where window_start < now() - interval '1 day'").execute(db).await?.rows_affected();
    let mails = sqlx::query!(
        "update mail_outbox set body_text = '', body_html = null where sent_at < now() - interval '7 days' and body_text <> ''"
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(sessions + tokens + throttle + limits + mails)
}

/// Everything the portal holds about an account and its contributions, as one JSON document
/// (password hash, TOTP secret and recovery codes left out: they are secrets, not data about the person).
pub async fn export(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<serde_json::Value> {
    sqlx::query_scalar!(
        r#"select jsonb_build_object(
             'account', (select to_jsonb(u) - 'password_hash' - 'totp_secret' - 'totp_last_step' from users u where u.id = $1),
             'ratings', coalesce((select jsonb_agg(to_jsonb(r) order by r.id) from ratings r where r.user_id = $1), '[]'),
             'feedback', coalesce((select jsonb_agg(to_jsonb(f) order by f.id) from feedback f where f.user_id = $1), '[]'),
             'replies', coalesce((select jsonb_agg(to_jsonb(x) order by x.id) from replies x where x.author_id = $1), '[]'),
             'flags', coalesce((select jsonb_agg(to_jsonb(x) order by x.id) from flags x where x.user_id = $1), '[]'),
             'appeals', coalesce((select jsonb_agg(to_jsonb(x) order by x.id) from appeals x where x.user_id = $1), '[]'),
             'questions', coalesce((select jsonb_agg(to_jsonb(q) order by q.id) from questions q where q.user_id = $1), '[]'),
             'answers', coalesce((select jsonb_agg(to_jsonb(a) order by a.id) from answers a where a.user_id = $1), '[]'),
             'revisions', coalesce((select jsonb_agg(to_jsonb(v) order by v.id) from revisions v where v.author_id = $1), '[]'),
             'monthly_reports', coalesce((select jsonb_agg(to_jsonb(m) order by m.id) from monthly_reports m where m.submitted_by = $1), '[]'),
             'sign_in_and_account_events', coalesce((select jsonb_agg(jsonb_build_object('at', e.occurred_at, 'action', e.action, 'address', host(e.client_addr)) order by e.id)
                                  from audit_events e where e.actor_id = $1), '[]')
           ) as "doc!""#,
        id.0
    )
    .fetch_one(db)
    .await
}

/// Erases an account's personal data; its contributions stay, attributed to an anonymous account.
pub async fn erase(tx: &mut sqlx::PgConnection, id: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update users set email = 'deleted-' || id || '@invalid.invalid', display_name = 'Tài khoản đã xoá',
                  password_hash = '!', status = 'deleted', totp_secret = null, totp_enabled_at = null, totp_last_step = null,
                  requested_enterprise_name = null, requested_tax_code = null, email_verified_at = null, last_login_at = null
           where id = $1"#,
        id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("delete from email_tokens where user_id = $1", id.0).execute(&mut *tx).await?;
    sqlx::query!("delete from user_recovery_codes where user_id = $1", id.0).execute(&mut *tx).await?;
    Ok(())
}

/// An account as the staff lists show it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: Status,
    /// Verified.
    pub email_verified_at: Option<OffsetDateTime>,
    /// Enterprise asked for.
    pub requested_enterprise_name: Option<String>,
    /// Tax code given.
    pub requested_tax_code: Option<String>,
    /// Linked enterprise's name.
    pub enterprise_name: Option<String>,
    /// An existing enterprise with the same tax code (its slug), suggested for linking.
    pub matching_enterprise: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
}

/// Enterprise accounts waiting for approval, oldest first.
pub async fn pending_enterprise_accounts(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as!(
        Listed,
        r#"select u.id as "id: UserId", u.email, u.display_name, u.role as "role: Role", u.status as "status: Status", u.email_verified_at, u.requested_enterprise_name,
                  u.requested_tax_code, null::text as enterprise_name,
                  (select e.slug from enterprises e where e.tax_code = u.requested_tax_code) as matching_enterprise, u.created_at
           from users u where u.role = 'enterprise' and u.status = 'pending'
           order by u.created_at"#
    )
    .fetch_all(db)
    .await
}

/// Accounts whose email or name contains `q` (all when empty), newest first, at most `limit`.
pub async fn list(db: impl PgExecutor<'_>, q: &str, limit: i64) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as!(
        Listed,
        r#"select u.id as "id: UserId", u.email, u.display_name, u.role as "role: Role", u.status as "status: Status", u.email_verified_at, u.requested_enterprise_name,
                  u.requested_tax_code, e.name as "enterprise_name?", null::text as matching_enterprise, u.created_at
           from users u left join enterprises e on e.id = u.enterprise_id
           where $1 = '' or strpos(lower(u.email), lower($1)) > 0 or strpos(lower(u.display_name), lower($1)) > 0
           order by u.id desc limit $2"#,
        q,
        limit
    )
    .fetch_all(db)
    .await
}

/// Changes an account's role (an enterprise link is dropped when the role is no longer enterprise).
pub async fn set_role(db: impl PgExecutor<'_>, id: UserId, role: Role) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update users set role = $2, enterprise_id = case when $2 = 'enterprise' then enterprise_id end,
                  status = case when status = 'pending' and $2 <> 'enterprise' and email_verified_at is not null then 'active' else status end
           where id = $1"#,
        id.0,
        role.as_str()
    )
    .execute(db)
    .await
    .map(drop)
}

/// Sets an account's status.
pub async fn set_status(db: impl PgExecutor<'_>, id: UserId, status: Status) -> sqlx::Result<()> {
    sqlx::query!("update users set status = $2 where id = $1", id.0, status.as_str()).execute(db).await.map(drop)
}

/// Approves a pending enterprise account, linking it to an enterprise; never by a staff member
/// who speaks for that enterprise (`ndp_speaks_for`).
pub async fn approve_enterprise(db: impl PgExecutor<'_>, id: UserId, enterprise_id: i64, approver: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update users set enterprise_id = $2, status = 'active', approved_by = $3, approved_at = now()
           where id = $1 and role = 'enterprise' and status = 'pending' and id <> $3
             and not coalesce(ndp_speaks_for($3, $2), false)"#,
        id.0,
        enterprise_id,
        approver.0
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An enterprise's id and name by slug.
pub async fn enterprise_by_slug(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query!("select id, name from enterprises where slug = $1", slug).fetch_optional(db).await?;
    Ok(row.map(|r| (r.id, r.name)))
}

/// Creates an enterprise record from an approved registration; `None` when the tax code is taken.
pub async fn create_enterprise(db: impl PgExecutor<'_>, slug: &str, name: &str, tax_code: Option<&str>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"insert into enterprises (slug, name, tax_code, origin) values ($1, $2, $3, 'portal')
           on conflict do nothing returning id"#,
        slug,
        name,
        tax_code
    )
    .fetch_optional(db)
    .await
}

/// Creates the enterprise a pending account asked for at registration (its name and tax code;
/// the slug from the name, made unique with the account's id when taken); `None` when an
/// enterprise already has the tax code.
pub async fn enterprise_from_registration(tx: &mut sqlx::PgConnection, account: &UserRow) -> sqlx::Result<Option<i64>> {
    if let Some(code) = &account.requested_tax_code
        && tax_code_taken(&mut *tx, code).await?
    {
        return Ok(None);
    }
    let name = account.requested_enterprise_name.clone().unwrap_or_else(|| account.display_name.clone());
    let base = crate::domain::text::slugify(&name);
    let base = if base.is_empty() { format!("doanh-nghiep-{}", account.id) } else { base };
    let tax_code = account.requested_tax_code.as_deref();
    match create_enterprise(&mut *tx, &base, &name, tax_code).await? {
        Some(id) => Ok(Some(id)),
        None => create_enterprise(&mut *tx, &format!("{base}-{}", account.id), &name, tax_code).await,
    }
}

/// Enterprise slugs and names, for the approval form.
pub async fn enterprise_choices(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("select slug, name from enterprises order by name").fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.name)).collect())
}

/// Whether an enterprise already has this tax code.
pub async fn tax_code_taken(db: impl PgExecutor<'_>, tax_code: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"select exists (select 1 from enterprises where tax_code = $1) as "t!""#, tax_code).fetch_one(db).await
}
