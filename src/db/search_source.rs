//! What the search index is built from: searchable rows read in id order, in batches, or by id.

use sqlx::PgExecutor;

/// A platform as the index needs it.
#[derive(Debug, Clone)]
pub struct PlatformSource {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Markdown description.
    pub description: Option<String>,
    /// Kind.
    pub kind: String,
    /// Lifecycle status.
    pub status: Option<String>,
    /// Recognition state.
    pub recognition: Option<String>,
    /// Host agency slug.
    pub agency_slug: Option<String>,
    /// Host agency name and abbreviation.
    pub agency_names: Option<String>,
    /// Need group slugs.
    pub need_slugs: Vec<String>,
    /// Need group and enterprise names.
    pub related_names: Vec<String>,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// The "best rated" score (Bayesian average of published ratings).
    pub rating: f64,
}

/// Platforms with id greater than `after`, in id order, at most `limit`; or exactly `ids` when given.
pub async fn platforms(db: impl PgExecutor<'_>, after: i64, limit: i64, ids: Option<&[i64]>) -> sqlx::Result<Vec<PlatformSource>> {
    sqlx::query_as!(
        PlatformSource,
        r#"select p.id, p.name, p.short_name, p.name_en, p.summary, p.description, p.kind, p.status, p.recognition,
                  a.slug as "agency_slug?", concat_ws(' ', a.name, a.short_name, a.name_en) as agency_names,
                  array(select ng.slug from platform_need_groups png join need_groups ng on ng.id = png.need_group_id
                        where png.platform_id = p.id order by ng.slug) as "need_slugs!",
                  array(select ng.name || coalesce(' ' || ng.name_en, '') from platform_need_groups png
                          join need_groups ng on ng.id = png.need_group_id where png.platform_id = p.id
                        union all
                        select e.name || coalesce(' ' || e.short_name, '') from platform_enterprises pe
                          join enterprises e on e.id = pe.enterprise_id where pe.platform_id = p.id) as "related_names!",
                  extract(epoch from p.created_at)::bigint as "created!",
                  ndp_rating_score(p.id) as "rating!"
           from platforms p left join agencies a on a.id = p.host_agency_id
           where case when $3::bigint[] is null then p.id > $1 else p.id = any($3) end
           order by p.id limit $2"#,
        after,
        limit,
        ids as Option<&[i64]>
    )
    .fetch_all(db)
    .await
}

/// A document, news article or answered question as the index needs it.
#[derive(Debug, Clone)]
pub struct TextSource {
    /// `document`, `news` or `qa`.
    pub section: String,
    /// Row id.
    pub id: i64,
    /// Title (with the number for documents).
    pub title: String,
    /// Other names (issuer, number).
    pub aka: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Body text.
    pub body: Option<String>,
    /// Creation or publication time, seconds since the epoch.
    pub created: i64,
}

/// Every searchable document, published news article and published question; or those of one
/// section with the given ids.
pub async fn texts(db: impl PgExecutor<'_>, only: Option<(&str, &[i64])>) -> sqlx::Result<Vec<TextSource>> {
    let (section, ids) = match only {
        Some((section, ids)) => (Some(section), Some(ids)),
        None => (None, None),
    };
    sqlx::query_as!(
        TextSource,
        r#"select section as "section!", id as "id!", title as "title!", aka, summary, body, created as "created!" from (
             select 'document' as section, id, number || ' ' || title as title, concat_ws(' ', issuer, signer) as aka,
                    summary, null::text as body, extract(epoch from coalesce(issued_on::timestamptz, created_at))::bigint as created
             from documents
             union all
             select 'news', id, title, null, summary, body, extract(epoch from published_at)::bigint
             from news where published_at is not null and published_at <= now()
             union all
             select 'qa', q.id, q.title, null, q.body,
                    (select string_agg(a.body, ' ') from answers a where a.question_id = q.id and a.state = 'published'),
                    extract(epoch from q.created_at)::bigint
             from questions q where q.state = 'published'
           ) t
           where ($1::text is null or section = $1) and ($2::bigint[] is null or id = any($2))"#,
        section,
        ids as Option<&[i64]>
    )
    .fetch_all(db)
    .await
}

/// Ids of the platforms whose indexed text includes an agency's or an enterprise's name.
pub async fn platforms_naming(db: impl PgExecutor<'_>, table: &str, id: i64) -> sqlx::Result<Vec<i64>> {
    match table {
        "agencies" => sqlx::query_scalar!("select id from platforms where host_agency_id = $1", id).fetch_all(db).await,
        "enterprises" => {
            sqlx::query_scalar!(r#"select distinct platform_id as "id!" from platform_enterprises where enterprise_id = $1"#, id)
                .fetch_all(db)
                .await
        }
        _ => Ok(Vec::new()),
    }
}

/// Every key (`<section>:<id>`) that should be in the index, for reconciliation.
pub async fn all_keys(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select 'platform:' || id as "key!" from platforms
           union all select 'document:' || id from documents
           union all select 'news:' || id from news where published_at is not null and published_at <= now()
           union all select 'qa:' || id from questions where state = 'published'"#
    )
    .fetch_all(db)
    .await
}

/// Number of searchable rows, to check an opened index is complete.
pub async fn count(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select (select count(*) from platforms) + (select count(*) from documents)
                + (select count(*) from news where published_at is not null and published_at <= now())
                + (select count(*) from questions where state = 'published') as "n!""#
    )
    .fetch_one(db)
    .await
}

/// Keys of searchable rows changed in the last `seconds` (directly, or through the agency,
/// enterprise or answers they include), for reconciliation after lost notifications.
pub async fn changed_since(db: impl PgExecutor<'_>, seconds: f64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"with since as (select now() - make_interval(secs => $1) as t)
           select 'platform:' || p.id as "key!" from platforms p, since where p.updated_at > since.t
           union select 'platform:' || p.id from platforms p join agencies a on a.id = p.host_agency_id, since where a.updated_at > since.t
           union select 'platform:' || pe.platform_id from platform_enterprises pe join enterprises e on e.id = pe.enterprise_id, since
                 where e.updated_at > since.t
           union select 'document:' || d.id from documents d, since where d.updated_at > since.t
           union select 'news:' || n.id from news n, since where n.updated_at > since.t or n.published_at > since.t
           union select 'qa:' || q.id from questions q, since where q.updated_at > since.t
           union select 'qa:' || a.question_id from answers a, since where a.updated_at > since.t"#,
        seconds
    )
    .fetch_all(db)
    .await
}
