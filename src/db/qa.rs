//! Questions and answers: asked by signed-in people, answered by moderators (published at once)
//! or by the platform's enterprise (moderated), the helpful answer marked by the asker, and
//! answered questions promoted to the FAQ.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::moderation::ItemState;

/// A question as listed or shown.
#[derive(Debug, Clone)]
pub struct Question {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// The platform it is about.
    pub platform_id: Option<i64>,
    /// Its slug.
    pub platform_slug: Option<String>,
    /// Its name.
    pub platform_name: Option<String>,
    /// The asker.
    pub user_id: Option<UserId>,
    /// The asker's display name.
    pub author: Option<String>,
    /// Moderation state.
    pub state: ItemState,
    /// The answer the asker marked as helpful.
    pub accepted_answer_id: Option<i64>,
    /// In the FAQ.
    pub is_faq: bool,
    /// Asked.
    pub created_at: OffsetDateTime,
    /// Published answers.
    pub answers: i64,
}

/// A question by id.
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Question>> {
    sqlx::query_as!(
        Question,
        r#"select q.id, q.title, q.body, q.platform_id, p.slug as "platform_slug?", p.name as "platform_name?", q.user_id as "user_id: UserId",
                  u.display_name as "author?", q.state as "state: ItemState", q.accepted_answer_id, q.is_faq, q.created_at,
                  (select count(*) from answers a where a.question_id = q.id and a.state = 'published') as "answers!"
           from questions q left join platforms p on p.id = q.platform_id left join users u on u.id = q.user_id
           where q.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Published questions, FAQ first (in their order), then newest; optionally about one platform
/// or FAQ only.
pub async fn list(db: impl PgExecutor<'_>, platform_id: Option<i64>, faq_only: bool, limit: i64) -> sqlx::Result<Vec<Question>> {
    sqlx::query_as!(
        Question,
        r#"select q.id, q.title, q.body, q.platform_id, p.slug as "platform_slug?", p.name as "platform_name?", q.user_id as "user_id: UserId",
                  u.display_name as "author?", q.state as "state: ItemState", q.accepted_answer_id, q.is_faq, q.created_at,
                  (select count(*) from answers a where a.question_id = q.id and a.state = 'published') as "answers!"
           from questions q left join platforms p on p.id = q.platform_id left join users u on u.id = q.user_id
           where q.state = 'published' and ($1::bigint is null or q.platform_id = $1) and (not $2 or q.is_faq)
           order by q.is_faq desc, q.faq_position nulls last, q.created_at desc limit $3"#,
        platform_id,
        faq_only,
        limit
    )
    .fetch_all(db)
    .await
}

/// Questions the account asked in the last hour.
pub async fn recent_questions(db: impl PgExecutor<'_>, user_id: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from questions where user_id = $1 and created_at > now() - interval '1 hour'"#,
        user_id.0
    )
    .fetch_one(db)
    .await
}

/// Stores a question; it waits for a moderator.
pub async fn ask(
    db: impl PgExecutor<'_>,
    user_id: UserId,
    title: &str,
    body: &str,
    platform_id: Option<i64>,
    hold: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into questions (title, body, platform_id, user_id, hold_rule) values ($1, $2, $3, $4, $5) returning id",
        title,
        body,
        platform_id,
        user_id.0,
        hold
    )
    .fetch_one(db)
    .await
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Id.
    pub id: i64,
    /// Body.
    pub body: String,
    /// The answering enterprise, for an official answer.
    pub enterprise_name: Option<String>,
    /// The author's name.
    pub author: Option<String>,
    /// Whether a staff member wrote it.
    pub by_staff: bool,
    /// Written.
    pub created_at: OffsetDateTime,
}

/// Published answers of a question, oldest first.
pub async fn answers(db: impl PgExecutor<'_>, question_id: i64) -> sqlx::Result<Vec<Answer>> {
    sqlx::query_as!(
        Answer,
        r#"select a.id, a.body, e.name as "enterprise_name?", u.display_name as "author?",
                  coalesce(u.role in ('moderator', 'admin'), false) as "by_staff!", a.created_at
           from answers a left join enterprises e on e.id = a.enterprise_id left join users u on u.id = a.user_id
           where a.question_id = $1 and a.state = 'published' order by a.created_at"#,
        question_id
    )
    .fetch_all(db)
    .await
}

/// Stores an answer: published at once when `published` (staff), else waiting for a moderator.
pub async fn answer(
    db: impl PgExecutor<'_>,
    question_id: i64,
    user_id: UserId,
    enterprise_id: Option<i64>,
    body: &str,
    published: bool,
    hold: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"insert into answers (question_id, user_id, enterprise_id, body, state, hold_rule, moderator_id, moderated_at)
           values ($1, $2::bigint, $3, $4, case when $5 then 'published' else 'pending' end, $6,
                   case when $5 then $2::bigint end, case when $5 then now() end)
           returning id"#,
        question_id,
        user_id.0,
        enterprise_id,
        body,
        published,
        hold
    )
    .fetch_one(db)
    .await
}

/// The asker marks a published answer of their question as the one that helped.
pub async fn accept(db: impl PgExecutor<'_>, question_id: i64, answer_id: i64, user_id: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update questions set accepted_answer_id = $2
           where id = $1 and user_id = $3
             and exists (select 1 from answers a where a.id = $2 and a.question_id = $1 and a.state = 'published')"#,
        question_id,
        answer_id,
        user_id.0
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Promotes an answered, published question to the FAQ (or takes it out).
pub async fn set_faq(db: impl PgExecutor<'_>, question_id: i64, faq: bool) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update questions set is_faq = $2,
                  faq_position = case when $2 then coalesce(faq_position, (select coalesce(max(faq_position), 0) + 1 from questions where is_faq)) end
           where id = $1 and state = 'published'
             and (not $2 or exists (select 1 from answers a where a.question_id = $1 and a.state = 'published'))"#,
        question_id,
        faq
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
