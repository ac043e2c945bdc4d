//! Platforms: the catalogue list with its filters and facet counts, and the platform page.
//!
//! The catalogue's filters combine freely, so its SQL is built at run time by one function
//! ([`push_filters`]) used by the list and by every facet, always with bound parameters.

use sqlx::{FromRow, PgExecutor, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};

use crate::domain::platform::{Kind, Status};
use crate::domain::text::fold;

/// Results per catalogue page.
pub const PAGE_SIZE: i64 = 20;

/// How the catalogue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (only with words to match).
    Relevance,
    /// Alphabetical by folded name.
    Name,
    /// Best rated first.
    Rating,
    /// Most recently added first.
    Newest,
}

impl Sort {
    /// Every order, as offered in the form.
    pub const ALL: [Self; 4] = [Self::Relevance, Self::Name, Self::Rating, Self::Newest];

    /// Value in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::Name => "name",
            Self::Rating => "rating",
            Self::Newest => "newest",
        }
    }

    /// The default: relevance when there are words to match, else name.
    pub fn default_for(has_words: bool) -> Self {
        if has_words { Self::Relevance } else { Self::Name }
    }

    /// Parses the URL value; anything unknown (or relevance without words) gives the default.
    pub fn parse(value: &str, has_words: bool) -> Self {
        match Self::ALL.into_iter().find(|s| s.as_str() == value) {
            Some(Self::Relevance) | None => Self::default_for(has_words),
            Some(sort) => sort,
        }
    }
}

/// The catalogue's filters, already validated. Words to match are the search index's job
/// (`search::PlatformQuery`); plain SQL lists the catalogue when there are none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Kind of platform.
    pub kind: Option<Kind>,
    /// Need group slug.
    pub need: Option<String>,
    /// Host agency slug.
    pub agency: Option<String>,
    /// Lifecycle or recognition status.
    pub status: Option<Status>,
}

/// Whether free text holds any word to search for (letters or digits).
pub fn has_words(q: &str) -> bool {
    fold(q).split(|c: char| !c.is_alphanumeric()).any(|w| !w.is_empty())
}

/// Which filter a facet leaves out, so its counts show what choosing another value would give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Except {
    Nothing,
    Kind,
    Need,
    Agency,
    Status,
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, filter: &Filter, except: Except) {
    qb.push(" where true");
    if let (Some(kind), false) = (filter.kind, except == Except::Kind) {
        qb.push(" and p.kind = ").push_bind(kind.as_str());
    }
    if let (Some(need), false) = (&filter.need, except == Except::Need) {
        qb.push(
            " and exists (select 1 from platform_need_groups fpn join need_groups fng on fng.id = fpn.need_group_id \
             where fpn.platform_id = p.id and fng.slug = ",
        )
        .push_bind(need.clone())
        .push(")");
    }
    if let (Some(agency), false) = (&filter.agency, except == Except::Agency) {
        qb.push(" and p.host_agency_id = (select id from agencies where slug = ").push_bind(agency.clone()).push(")");
    }
    if let (Some(status), false) = (filter.status, except == Except::Status) {
        let column = if status.is_recognition() { "p.recognition" } else { "p.status" };
        qb.push(format_args!(" and {column} = ")).push_bind(status.as_str());
    }
}

/// A platform as listed in the catalogue.
#[derive(Debug, Clone, FromRow)]
pub struct PlatformCard {
    /// Row id.
    pub id: i64,
    /// URL slug.
    pub slug: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Short name or brand.
    pub short_name: Option<String>,
    /// One-sentence summary.
    pub summary: Option<String>,
    /// Stored kind value.
    pub kind: String,
    /// Stored lifecycle status.
    pub status: Option<String>,
    /// Stored recognition state.
    pub recognition: Option<String>,
    /// Host agency name.
    pub agency_name: Option<String>,
    /// Host agency slug.
    pub agency_slug: Option<String>,
    /// Whether the row is generated test data.
    pub synthetic: bool,
    /// Published citizen ratings (filled by [`attach_ratings`]).
    #[sqlx(default)]
    pub rating_count: i64,
    /// Their average stars.
    #[sqlx(default)]
    pub rating_average: Option<f64>,
    /// Search excerpt with `<mark>`ed matches, made from escaped text by the search index.
    #[sqlx(skip)]
    pub snippet_html: Option<String>,
}

/// Bytes of some texts, for estimates of memory use.
pub fn text_bytes(parts: &[Option<&str>]) -> usize {
    parts.iter().flatten().map(|t| t.len()).sum()
}

impl PlatformCard {
    /// About how much memory the card takes (for the search results cache).
    pub fn approx_bytes(&self) -> usize {
        let texts = [
            &self.name_en,
            &self.short_name,
            &self.summary,
            &self.status,
            &self.recognition,
            &self.agency_name,
            &self.agency_slug,
            &self.snippet_html,
        ];
        std::mem::size_of::<Self>() + self.slug.len() + self.name.len() + self.kind.len() + text_bytes(&texts.map(|t| t.as_deref()))
    }

    /// The average stars, one decimal.
    pub fn rating_text(&self) -> String {
        self.rating_average.map(|a| format!("{a:.1}")).unwrap_or_default()
    }

    /// Translation key of the kind.
    pub fn kind_key(&self) -> &'static str {
        Kind::parse(&self.kind).map_or("common.unknown", Kind::label_key)
    }

    /// Translation keys of the lifecycle status and recognition, when known.
    pub fn status_keys(&self) -> Vec<&'static str> {
        [&self.status, &self.recognition].into_iter().flatten().filter_map(|s| Status::parse(s)).map(Status::label_key).collect()
    }
}

const CARD_COLUMNS: &str = "select p.id, p.slug, p.name, p.name_en, p.short_name, p.summary, p.kind, p.status, p.recognition, \
     a.name as agency_name, a.slug as agency_slug, p.origin = 'synthetic' as synthetic \
     from platforms p left join agencies a on a.id = p.host_agency_id";

/// One page of the catalogue and the total number of matches.
pub async fn list(db: impl PgExecutor<'_>, filter: &Filter, sort: Sort, page: i64) -> sqlx::Result<(Vec<PlatformCard>, i64)> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        card: PlatformCard,
        total: i64,
    }
    let mut qb = QueryBuilder::new(CARD_COLUMNS.replacen("select ", "select count(*) over () as total, ", 1));
    push_filters(&mut qb, filter, Except::Nothing);
    qb.push(match sort {
        Sort::Rating => " order by ndp_rating_score(p.id) desc, ndp_fold(p.name), p.id",
        Sort::Relevance | Sort::Name => " order by ndp_fold(p.name), p.id",
        Sort::Newest => " order by p.created_at desc, p.id desc",
    });
    qb.push(" limit ").push_bind(PAGE_SIZE).push(" offset ").push_bind((page.max(1) - 1) * PAGE_SIZE);
    let rows: Vec<Row> = qb.build_query_as().fetch_all(db).await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.card).collect(), total))
}

/// Cards of the given platforms, in the order of `ids` (search results).
pub async fn cards_by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> sqlx::Result<Vec<PlatformCard>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::new(CARD_COLUMNS);
    qb.push(" where p.id = any(").push_bind(ids.to_vec()).push(")");
    let mut cards: Vec<PlatformCard> = qb.build_query_as().fetch_all(db).await?;
    cards.sort_by_key(|c| ids.iter().position(|id| *id == c.id).unwrap_or(usize::MAX));
    Ok(cards)
}

/// Fills the rating summary of the cards of one page (one query for the page, not per row of
/// the whole catalogue).
pub async fn attach_ratings(db: impl PgExecutor<'_>, cards: &mut [PlatformCard]) -> sqlx::Result<()> {
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let rows = sqlx::query!(
        r#"select platform_id, count(*) as "count!", avg(stars)::float8 as average
           from ratings where platform_id = any($1) and state = 'published' group by platform_id"#,
        &ids
    )
    .fetch_all(db)
    .await?;
    for row in rows {
        if let Some(card) = cards.iter_mut().find(|c| c.id == row.platform_id) {
            card.rating_count = row.count;
            card.rating_average = row.average;
        }
    }
    Ok(())
}

/// The name of a need group or an agency, for a facet value computed by the search index.
#[derive(Debug, Clone)]
pub struct FacetLabel {
    /// `need` or `agency`.
    pub facet: String,
    /// The slug (the facet value).
    pub slug: String,
    /// Vietnamese name.
    pub label: String,
    /// English name.
    pub label_en: Option<String>,
    /// Display order (need groups follow Decision 578; agencies are ordered by count).
    pub position: i32,
}

/// Names of need groups and agencies by slug, in one query.
pub async fn facet_labels(db: impl PgExecutor<'_>, need_slugs: &[String], agency_slugs: &[String]) -> sqlx::Result<Vec<FacetLabel>> {
    sqlx::query_as!(
        FacetLabel,
        r#"select 'need' as "facet!", slug as "slug!", name as "label!", name_en as label_en, position as "position!"
           from need_groups where slug = any($1)
           union all
           select 'agency', slug, name, name_en, 0 from agencies where slug = any($2)"#,
        need_slugs,
        agency_slugs
    )
    .fetch_all(db)
    .await
}

/// Platforms of one listing (home page, agency and enterprise pages), by a fixed condition.
pub async fn cards_where(db: impl PgExecutor<'_>, condition: Listing, limit: i64) -> sqlx::Result<Vec<PlatformCard>> {
    let mut qb = QueryBuilder::new(CARD_COLUMNS);
    match condition {
        Listing::Recognised => qb.push(" where p.recognition = 'recognised' and p.origin <> 'synthetic'"),
        Listing::HostedBy(id) => qb.push(" where p.host_agency_id = ").push_bind(id),
        Listing::FocalUnit(id) => qb.push(" where p.focal_unit_id = ").push_bind(id),
        Listing::ActionPlan(id) => qb.push(" where p.action_plan_document_id = ").push_bind(id),
        Listing::Enterprise(id) => qb
            .push(" where exists (select 1 from platform_enterprises pe where pe.platform_id = p.id and pe.enterprise_id = ")
            .push_bind(id)
            .push(")"),
    };
    qb.push(" order by ndp_fold(p.name), p.id limit ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

/// A fixed listing of platforms.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Recognised (citizen-serving) platforms.
    Recognised,
    /// Platforms hosted by an agency.
    HostedBy(i64),
    /// Platforms an agency is the MIC focal unit of.
    FocalUnit(i64),
    /// Platforms whose action plan is a document.
    ActionPlan(i64),
    /// Platforms an enterprise works on.
    Enterprise(i64),
}

/// One value of a facet with its count.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct FacetValue {
    /// The filter value (stored value or slug).
    pub value: String,
    /// Vietnamese label (for slugs; vocabulary values are translated instead).
    pub label: Option<String>,
    /// English label.
    pub label_en: Option<String>,
    /// Matching platforms.
    pub count: i64,
}

/// Facet counts for the catalogue, each computed with every other filter applied.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    /// By kind.
    pub kind: Vec<FacetValue>,
    /// By need group.
    pub need: Vec<FacetValue>,
    /// By host agency.
    pub agency: Vec<FacetValue>,
    /// By lifecycle or recognition status.
    pub status: Vec<FacetValue>,
}

impl Facets {
    /// About how much memory the counts take (for the search results cache).
    pub fn approx_bytes(&self) -> usize {
        [&self.kind, &self.need, &self.agency, &self.status]
            .iter()
            .flat_map(|values| values.iter())
            .map(|v| std::mem::size_of::<FacetValue>() + v.value.len() + text_bytes(&[v.label.as_deref(), v.label_en.as_deref()]))
            .sum()
    }
}

/// Counts every facet for `filter`.
pub async fn facets(pool: &sqlx::PgPool, filter: &Filter) -> sqlx::Result<Facets> {
    let facet = |select: &str, except: Except, tail: &str| {
        let mut qb = QueryBuilder::<Postgres>::new(select);
        push_filters(&mut qb, filter, except);
        qb.push(tail);
        qb
    };
    let mut kind = facet(
        "select p.kind as value, null::text as label, null::text as label_en, count(*) as count from platforms p",
        Except::Kind,
        " group by p.kind",
    );
    let mut need = facet(
        "select ng.slug as value, ng.name as label, ng.name_en as label_en, count(*) as count \
         from platforms p join platform_need_groups png on png.platform_id = p.id join need_groups ng on ng.id = png.need_group_id",
        Except::Need,
        " group by ng.id order by ng.position, ng.name",
    );
    let mut agency = facet(
        "select a.slug as value, a.name as label, a.name_en as label_en, count(*) as count \
         from platforms p join agencies a on a.id = p.host_agency_id",
        Except::Agency,
        " group by a.id order by count(*) desc, a.name",
    );
    let mut status = facet(
        "select s.value, null::text as label, null::text as label_en, count(*) as count \
         from platforms p cross join lateral (values (p.status), (p.recognition)) as s(value)",
        Except::Status,
        " and s.value is not null group by s.value",
    );
    let (kind, need, agency, status) = tokio::try_join!(
        kind.build_query_as().fetch_all(pool),
        need.build_query_as().fetch_all(pool),
        agency.build_query_as().fetch_all(pool),
        status.build_query_as().fetch_all(pool),
    )?;
    Ok(Facets {
        kind: in_vocabulary_order(kind, Kind::ALL.iter().map(|k| k.as_str())),
        need,
        agency,
        status: in_vocabulary_order(status, Status::ALL.iter().map(|s| s.as_str())),
    })
}

fn in_vocabulary_order<'a>(mut values: Vec<FacetValue>, order: impl Iterator<Item = &'a str>) -> Vec<FacetValue> {
    let order: Vec<&str> = order.collect();
    values.sort_by_key(|v| order.iter().position(|o| *o == v.value).unwrap_or(usize::MAX));
    values
}

/// Everything shown on a platform page.
#[derive(Debug, Clone)]
pub struct PlatformDetail {
    /// Row id.
    pub id: i64,
    /// URL slug.
    pub slug: String,
    /// Appendix number in Decision 186, when known.
    pub appendix_number: Option<i32>,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Short name.
    pub short_name: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Markdown description.
    pub description: Option<String>,
    /// Main functions.
    pub main_functions: Option<String>,
    /// Applicability.
    pub applicability: Option<String>,
    /// Kind.
    pub kind: String,
    /// Pillar.
    pub pillar: Option<String>,
    /// Lifecycle status.
    pub status: Option<String>,
    /// Recognition state.
    pub recognition: Option<String>,
    /// Host agency (slug, name, English name).
    pub host_agency: Option<(String, String, Option<String>)>,
    /// MIC focal unit (slug, name, English name).
    pub focal_unit: Option<(String, String, Option<String>)>,
    /// Action-plan decision (slug, number, title, date).
    pub action_plan: Option<(String, String, String, Option<Date>)>,
    /// Website.
    pub website: Option<String>,
    /// Android app.
    pub android_url: Option<String>,
    /// iOS app.
    pub ios_url: Option<String>,
    /// Languages (codes).
    pub languages: Vec<String>,
    /// Accessibility statement.
    pub accessibility_url: Option<String>,
    /// Data stored in Vietnam.
    pub data_in_vietnam: Option<bool>,
    /// Approved security level.
    pub security_level: Option<i16>,
    /// Connected to NDXP.
    pub ndxp_connected: Option<bool>,
    /// Reported users.
    pub reported_users: Option<i64>,
    /// Date of the reported figure.
    pub reported_users_as_of: Option<Date>,
    /// What the figure counts.
    pub reported_users_note: Option<String>,
    /// Last confirmation by the owner.
    pub last_confirmed_at: Option<OffsetDateTime>,
    /// Logo file under the uploads directory.
    pub logo_path: Option<String>,
    /// Origin of the row (seed, synthetic, portal).
    pub origin: String,
    /// Citations.
    pub sources: Vec<String>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A platform by slug, with its agencies and action plan.
pub async fn find(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<PlatformDetail>> {
    let row = sqlx::query!(
        r#"select p.id, p.slug, p.appendix_number, p.name, p.name_en, p.short_name, p.summary, p.description,
                  p.main_functions, p.applicability, p.kind, p.pillar, p.status, p.recognition,
                  h.slug as "host_slug?", h.name as "host_name?", h.name_en as host_name_en,
                  f.slug as "focal_slug?", f.name as "focal_name?", f.name_en as focal_name_en,
                  d.slug as "plan_slug?", d.number as "plan_number?", d.title as "plan_title?", d.issued_on as plan_issued_on,
                  p.website, p.android_url, p.ios_url, p.languages, p.accessibility_url, p.data_in_vietnam,
                  p.security_level, p.ndxp_connected, p.reported_users, p.reported_users_as_of, p.reported_users_note,
                  p.last_confirmed_at, p.logo_path, p.origin, p.sources, p.updated_at
           from platforms p
           left join agencies h on h.id = p.host_agency_id
           left join agencies f on f.id = p.focal_unit_id
           left join documents d on d.id = p.action_plan_document_id
           where p.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| PlatformDetail {
        id: r.id,
        slug: r.slug,
        appendix_number: r.appendix_number,
        name: r.name,
        name_en: r.name_en,
        short_name: r.short_name,
        summary: r.summary,
        description: r.description,
        main_functions: r.main_functions,
        applicability: r.applicability,
        kind: r.kind,
        pillar: r.pillar,
        status: r.status,
        recognition: r.recognition,
        host_agency: r.host_slug.zip(r.host_name).map(|(s, n)| (s, n, r.host_name_en)),
        focal_unit: r.focal_slug.zip(r.focal_name).map(|(s, n)| (s, n, r.focal_name_en)),
        action_plan: match (r.plan_slug, r.plan_number, r.plan_title) {
            (Some(s), Some(n), Some(t)) => Some((s, n, t, r.plan_issued_on)),
            _ => None,
        },
        website: r.website,
        android_url: r.android_url,
        ios_url: r.ios_url,
        languages: r.languages,
        accessibility_url: r.accessibility_url,
        data_in_vietnam: r.data_in_vietnam,
        security_level: r.security_level,
        ndxp_connected: r.ndxp_connected,
        reported_users: r.reported_users,
        reported_users_as_of: r.reported_users_as_of,
        reported_users_note: r.reported_users_note,
        last_confirmed_at: r.last_confirmed_at,
        logo_path: r.logo_path,
        origin: r.origin,
        sources: r.sources,
        updated_at: r.updated_at,
    }))
}

/// An enterprise linked to a platform.
#[derive(Debug, Clone)]
pub struct LinkedEnterprise {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Stored role value.
    pub role: String,
    /// Note on the link.
    pub note: Option<String>,
}

/// Enterprises working on a platform, core enterprises first.
pub async fn enterprises_of(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Vec<LinkedEnterprise>> {
    sqlx::query_as!(
        LinkedEnterprise,
        r#"select e.slug, e.name, pe.role, pe.note
           from platform_enterprises pe join enterprises e on e.id = pe.enterprise_id
           where pe.platform_id = $1
           order by array_position(array['core','lead','developer','operator'], pe.role), e.name"#,
        platform_id
    )
    .fetch_all(db)
    .await
}

/// A need group a platform serves.
#[derive(Debug, Clone)]
pub struct NeedGroupRef {
    /// Slug.
    pub slug: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
}

/// Need groups of a platform.
pub async fn need_groups_of(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Vec<NeedGroupRef>> {
    sqlx::query_as!(
        NeedGroupRef,
        r#"select ng.slug, ng.name, ng.name_en
           from platform_need_groups png join need_groups ng on ng.id = png.need_group_id
           where png.platform_id = $1 order by ng.position"#,
        platform_id
    )
    .fetch_all(db)
    .await
}

/// Every platform's slug and name, by name (for choosing one in a form).
pub async fn names(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("select slug, name from platforms order by ndp_fold(name)").fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_letters_and_digits_count_as_words() {
        assert!(has_words("  Sức khỏe, ĐỊA-chỉ "));
        assert!(has_words("186"));
        assert!(!has_words("\"'():*~ \u{202e}"));
    }

    #[test]
    fn unknown_sort_falls_back_to_the_default() {
        assert_eq!(Sort::parse("newest", false), Sort::Newest);
        assert_eq!(Sort::parse("drop table", false), Sort::Name);
        assert_eq!(Sort::parse("drop table", true), Sort::Relevance);
        assert_eq!(Sort::parse("relevance", false), Sort::Name, "relevance needs words");
    }
}
