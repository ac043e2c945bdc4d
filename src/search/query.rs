//! Turning what people type into tantivy queries, and running them.
//!
//! Ranking (explained to the public on `/search/about`): every word typed must match somewhere
//! (the last word may be the start of a word); a match in the name or short name counts most, then
//! the summary, then other names (English name, agency, enterprises), then the description; the
//! words together as a phrase count extra, and so do matches with the same diacritics as typed.
//! Only when that finds fewer than three results are words of five letters or more matched with
//! one typo. Recognition and ratings never change a relevance ranking.

use std::collections::HashMap;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::{BooleanQuery, BoostQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Term, Value as _};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentReader, TantivyDocument};

use super::schema::{self, Fields};

/// Fewer results than this makes the search retry with typo tolerance.
const TOO_FEW: usize = 3;
/// Words at least this long may match with one typo.
const FUZZY_MIN_CHARS: usize = 5;
/// The last word matches as a prefix when it has at least this many characters.
const PREFIX_MIN_CHARS: usize = 2;

/// Filters on the catalogue's facets (values as stored: kind, need slug, agency slug, status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetFilter {
    /// Kind of platform.
    pub kind: Option<String>,
    /// Need group slug.
    pub need: Option<String>,
    /// Host agency slug.
    pub agency: Option<String>,
    /// Lifecycle or recognition status.
    pub status: Option<String>,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSort {
    /// Best match first.
    Relevance,
    /// Alphabetical by folded name.
    Name,
    /// Best rated first.
    Rating,
    /// Most recently added first.
    Newest,
}

/// A catalogue query.
#[derive(Debug, Clone)]
pub struct PlatformQuery {
    /// What was typed.
    pub text: String,
    /// Facet filters.
    pub filter: FacetFilter,
    /// Order.
    pub sort: SearchSort,
    /// Results to skip.
    pub offset: usize,
    /// Results to return.
    pub limit: usize,
    /// Whether to count facets (the catalogue shows them; the site-wide search does not).
    pub facets: bool,
}

/// One result, with HTML made by tantivy's snippet generator from escaped text.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Row id.
    pub id: i64,
    /// Relevance score (0 when sorted otherwise).
    pub score: f32,
    /// Escaped summary or description excerpt with `<mark>` around matches.
    pub snippet_html: String,
}

/// Counts of one facet: (value, count), largest first.
pub type FacetCounts = Vec<(String, u64)>;

/// What a catalogue query found.
#[derive(Debug, Clone, Default)]
pub struct PlatformResults {
    /// Matches in all.
    pub total: usize,
    /// The requested page.
    pub hits: Vec<Hit>,
    /// Counts by kind, need, agency and status, each with the other filters applied.
    pub facets: [FacetCounts; 4],
    /// Whether the results came from a wider retry (typos, or not every word).
    pub typo_tolerant: bool,
}

/// A document, news article or question found by the site-wide search.
#[derive(Debug, Clone)]
pub struct TextHit {
    /// `document`, `news` or `qa`.
    pub section: String,
    /// Row id.
    pub id: i64,
    /// Escaped excerpt with `<mark>` around matches.
    pub snippet_html: String,
}

/// A type-ahead suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// `platform`, `document`, `news` or `qa`.
    pub section: String,
    /// Row id.
    pub id: i64,
    /// The name, as stored.
    pub label: String,
}

struct Words {
    folded: Vec<String>,
    exact: Vec<String>,
    last_is_prefix: bool,
}

impl Words {
    fn of(text: &str) -> Self {
        let folded = schema::terms(&mut schema::folded_analyzer(), text);
        let exact = schema::terms(&mut schema::exact_analyzer(), text);
        let last_is_prefix = !text.ends_with(char::is_whitespace) && folded.last().is_some_and(|w| w.chars().count() >= PREFIX_MIN_CHARS);
        Self { folded: folded.into_iter().take(16).collect(), exact: exact.into_iter().take(16).collect(), last_is_prefix }
    }
}

fn boxed(q: impl Query + 'static, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// How strictly the words of a query must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every word, exactly (the last may be a prefix).
    Strict,
    /// Every word; long words may have one typo.
    Typos,
    /// All words but one; long words may have one typo.
    Relaxed,
}

/// The text part of a query. Each word must match the `all` field (one posting list per word,
/// so the required part is a cheap intersection); matches in particular fields only add score.
fn text_query(fields: &Fields, words: &Words, mode: Mode) -> Option<Box<dyn Query>> {
    if words.folded.is_empty() {
        return None;
    }
    let last = words.folded.len() - 1;
    let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (i, word) in words.folded.iter().enumerate() {
        let term = Term::from_field_text(fields.all, word);
        let mut alternatives: Vec<Box<dyn Query>> = vec![Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs))];
        if i == last && words.last_is_prefix {
            alternatives.push(boxed(FuzzyTermQuery::new_prefix(term.clone(), 0, false), 0.5));
        }
        if mode != Mode::Strict && word.chars().count() >= FUZZY_MIN_CHARS {
            alternatives.push(boxed(FuzzyTermQuery::new(term, 1, true), 0.3));
        }
        let clause: Box<dyn Query> =
            if alternatives.len() == 1 { alternatives.remove(0) } else { Box::new(DisjunctionMaxQuery::new(alternatives)) };
        required.push((Occur::Should, clause));
    }
    let matching: Box<dyn Query> = match mode {
        Mode::Relaxed => {
            let need = required.len().saturating_sub(1).max(1);
            Box::new(BooleanQuery::with_minimum_required_clauses(required, need))
        }
        _ => Box::new(BooleanQuery::new(required.into_iter().map(|(_, q)| (Occur::Must, q)).collect())),
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matching)];
    for word in &words.folded {
        for (field, boost) in [(fields.name, 3.0), (fields.summary, 1.0), (fields.aka, 0.4)] {
            clauses.push((Occur::Should, boxed(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs), boost)));
        }
    }
    for word in &words.exact {
        clauses.push((Occur::Should, boxed(TermQuery::new(Term::from_field_text(fields.name_exact, word), IndexRecordOption::Basic), 1.5)));
        clauses
            .push((Occur::Should, boxed(TermQuery::new(Term::from_field_text(fields.summary_exact, word), IndexRecordOption::Basic), 0.3)));
    }
    if words.folded.len() >= 2 {
        for (field, boost) in [(fields.name, 4.0), (fields.summary, 2.0)] {
            let terms: Vec<Term> = words.folded.iter().map(|w| Term::from_field_text(field, w)).collect();
            clauses.push((Occur::Should, boxed(PhraseQuery::new(terms), boost)));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// Drops the sort keys of non-relevance orders (their score is shown as 0).
fn unscored<K>(docs: Vec<(K, DocAddress)>) -> Vec<(Score, DocAddress)> {
    docs.into_iter().map(|(_, a)| (0.0, a)).collect()
}

/// A query never run, only read by the snippet generators: the typed words in the text fields.
fn highlight_query(fields: &Fields, text: &str) -> BooleanQuery {
    let words = Words::of(text);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in &words.folded {
        for field in [fields.name, fields.summary, fields.body] {
            clauses.push((Occur::Should, Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::Basic))));
        }
    }
    BooleanQuery::new(clauses)
}

fn must_term(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic)))
}

fn with_filters(text: Box<dyn Query>, fields: &Fields, section: &str, filter: Option<&FacetFilter>) -> BooleanQuery {
    let mut clauses = vec![(Occur::Must, text), must_term(fields.section, section)];
    if let Some(f) = filter {
        for (field, value) in [(fields.kind, &f.kind), (fields.need, &f.need), (fields.agency, &f.agency), (fields.status, &f.status)] {
            if let Some(value) = value {
                clauses.push(must_term(field, value));
            }
        }
    }
    BooleanQuery::new(clauses)
}

/// Runs a catalogue query: the page of hits, the total, and facet counts.
pub fn platforms(searcher: &Searcher, fields: &Fields, q: &PlatformQuery) -> tantivy::Result<PlatformResults> {
    let words = Words::of(&q.text);
    let Some(strict) = text_query(fields, &words, Mode::Strict) else { return Ok(PlatformResults::default()) };
    let mut results = run_platforms(searcher, fields, q, strict)?;
    let has_long_word = words.folded.iter().any(|w| w.chars().count() >= FUZZY_MIN_CHARS);
    for (mode, applies) in [(Mode::Typos, has_long_word), (Mode::Relaxed, words.folded.len() >= 2)] {
        if results.total >= TOO_FEW || !applies {
            continue;
        }
        if let Some(wider) = text_query(fields, &words, mode) {
            let retry = run_platforms(searcher, fields, q, wider)?;
            if retry.total > results.total {
                results = PlatformResults { typo_tolerant: true, ..retry };
            }
        }
    }
    Ok(results)
}

fn run_platforms(searcher: &Searcher, fields: &Fields, q: &PlatformQuery, text: Box<dyn Query>) -> tantivy::Result<PlatformResults> {
    let unfiltered_is_same = q.filter == FacetFilter::default();
    let filtered = with_filters(text.box_clone(), fields, "platform", Some(&q.filter));
    let limit = q.limit.max(1);
    let facet_collector = FacetCollector { filter: q.filter.clone(), enabled: q.facets };
    // Without filters the facets are counted in the same pass; with filters they need the
    // unfiltered matches, so a second pass counts them.
    let same_pass = FacetCollector { enabled: q.facets && unfiltered_is_same, ..facet_collector.clone() };
    let top = TopDocs::with_limit(limit).and_offset(q.offset);
    let (addresses, total, counted): (Vec<(Score, DocAddress)>, usize, [FacetCounts; 4]) = match q.sort {
        SearchSort::Relevance => searcher.search(&filtered, &(top.order_by_score(), Count, same_pass))?,
        SearchSort::Name => {
            let (docs, n, f) = searcher.search(&filtered, &(top.order_by_string_fast_field("name_sort", Order::Asc), Count, same_pass))?;
            (unscored(docs), n, f)
        }
        SearchSort::Newest => {
            let (docs, n, f) = searcher.search(&filtered, &(top.order_by_fast_field::<i64>("created", Order::Desc), Count, same_pass))?;
            (unscored(docs), n, f)
        }
        SearchSort::Rating => {
            let (docs, n, f) = searcher.search(&filtered, &(top.order_by_fast_field::<f64>("rating", Order::Desc), Count, same_pass))?;
            (unscored(docs), n, f)
        }
    };
    let snippets = Snippets::new(searcher, &highlight_query(fields, &q.text), &[fields.summary, fields.body])?;
    let mut hits = Vec::with_capacity(addresses.len());
    for (score, address) in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        hits.push(Hit { id: id_of(fields, &doc), score, snippet_html: snippets.html(&doc) });
    }
    let facets = if q.facets && !unfiltered_is_same {
        searcher.search(&with_filters(text, fields, "platform", None), &facet_collector)?
    } else {
        counted
    };
    Ok(PlatformResults { total, hits, facets, typo_tolerant: false })
}

fn id_of(fields: &Fields, doc: &TantivyDocument) -> i64 {
    doc.get_first(fields.id).and_then(|v| v.as_u64()).map_or(0, |id| i64::try_from(id).unwrap_or(0))
}

/// Highlighted excerpts from the first field that has a match.
struct Snippets {
    generators: Vec<(Field, SnippetGenerator)>,
}

impl Snippets {
    fn new(searcher: &Searcher, query: &dyn Query, fields: &[Field]) -> tantivy::Result<Self> {
        let mut generators = Vec::new();
        for field in fields {
            let mut generator = SnippetGenerator::create(searcher, query, *field)?;
            generator.set_max_num_chars(220);
            generators.push((*field, generator));
        }
        Ok(Self { generators })
    }

    fn html(&self, doc: &TantivyDocument) -> String {
        let mut fallback = None;
        for (field, generator) in &self.generators {
            let text = doc.get_first(*field).and_then(|v| v.as_str()).unwrap_or("");
            if text.is_empty() {
                continue;
            }
            let mut snippet = generator.snippet(text);
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            if !snippet.highlighted().is_empty() {
                return snippet.to_html();
            }
            if fallback.is_none() {
                fallback = Some(snippet.to_html());
            }
        }
        fallback.unwrap_or_default()
    }
}

/// Documents, news and questions matching `text`, best first.
pub fn texts(searcher: &Searcher, fields: &Fields, text: &str, limit: usize) -> tantivy::Result<Vec<TextHit>> {
    let words = Words::of(text);
    let Some(text_q) = text_query(fields, &words, Mode::Strict) else { return Ok(Vec::new()) };
    let mut sections: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for section in ["document", "news", "qa"] {
        sections.push((Occur::Should, Box::new(TermQuery::new(Term::from_field_text(fields.section, section), IndexRecordOption::Basic))));
    }
    let query = BooleanQuery::new(vec![(Occur::Must, text_q), (Occur::Must, Box::new(BooleanQuery::new(sections)))]);
    let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
    let snippets = Snippets::new(searcher, &highlight_query(fields, text), &[fields.summary, fields.body, fields.name])?;
    let mut hits = Vec::with_capacity(top.len());
    for (_, address) in top {
        let doc: TantivyDocument = searcher.doc(address)?;
        let section = doc
            .get_first(fields.key)
            .and_then(|v| v.as_str())
            .and_then(|k| k.split_once(':'))
            .map(|(s, _)| s.to_owned())
            .unwrap_or_default();
        hits.push(TextHit { section, id: id_of(fields, &doc), snippet_html: snippets.html(&doc) });
    }
    Ok(hits)
}

/// Names that start with what was typed (every word a prefix of a word of the name).
pub fn suggest(searcher: &Searcher, fields: &Fields, text: &str, limit: usize) -> tantivy::Result<Vec<Suggestion>> {
    let words = Words::of(text);
    if words.folded.is_empty() {
        return Ok(Vec::new());
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in &words.folded {
        let term = Term::from_field_text(fields.name, word);
        let alternatives: Vec<Box<dyn Query>> = vec![
            boxed(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs), 2.0),
            boxed(FuzzyTermQuery::new_prefix(term, 0, false), 1.0),
            boxed(TermQuery::new(Term::from_field_text(fields.aka, word), IndexRecordOption::WithFreqs), 0.5),
        ];
        clauses.push((Occur::Must, Box::new(DisjunctionMaxQuery::new(alternatives))));
    }
    let query = BooleanQuery::new(clauses);
    let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
    let mut out = Vec::with_capacity(top.len());
    for (_, address) in top {
        let doc: TantivyDocument = searcher.doc(address)?;
        let key = doc.get_first(fields.key).and_then(|v| v.as_str()).unwrap_or("");
        let section = key.split_once(':').map(|(s, _)| s.to_owned()).unwrap_or_default();
        let label = doc.get_first(fields.name).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        out.push(Suggestion { section, id: id_of(fields, &doc), label });
    }
    Ok(out)
}

/// Counts facet values over the text matches: for each facet, the documents that pass every
/// filter but that facet's own (so the counts say what choosing another value would give).
#[derive(Clone)]
struct FacetCollector {
    filter: FacetFilter,
    /// When off, nothing is read or counted.
    enabled: bool,
}

const FACET_FIELDS: [&str; 4] = ["kind", "need", "agency", "status"];

struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    /// Per facet: the ordinal of the selected value in this segment (None: no filter; Some(None): value absent).
    selected: Vec<Option<Option<u64>>>,
    counts: Vec<HashMap<u64, u64>>,
}

impl Collector for FacetCollector {
    type Fruit = [FacetCounts; 4];
    type Child = FacetSegment;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<FacetSegment> {
        if !self.enabled {
            return Ok(FacetSegment { columns: Vec::new(), selected: Vec::new(), counts: Vec::new() });
        }
        let fast = segment.fast_fields();
        let wanted = [&self.filter.kind, &self.filter.need, &self.filter.agency, &self.filter.status];
        let mut columns = Vec::new();
        let mut selected = Vec::new();
        for (name, value) in FACET_FIELDS.iter().zip(wanted) {
            let column = fast.str(name)?;
            let ord = match (value, &column) {
                (None, _) => None,
                (Some(v), Some(c)) => Some(c.dictionary().term_ord(v)?),
                (Some(_), None) => Some(None),
            };
            columns.push(column);
            selected.push(ord);
        }
        Ok(FacetSegment { columns, selected, counts: vec![HashMap::new(); 4] })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<[FacetCounts; 4]>) -> tantivy::Result<[FacetCounts; 4]> {
        let mut merged: [HashMap<String, u64>; 4] = Default::default();
        for fruit in fruits {
            for (i, counts) in fruit.into_iter().enumerate() {
                for (value, n) in counts {
                    *merged[i].entry(value).or_default() += n;
                }
            }
        }
        Ok(merged.map(|m| {
            let mut v: Vec<(String, u64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        }))
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = [FacetCounts; 4];

    fn collect(&mut self, doc: DocId, _: Score) {
        if self.columns.is_empty() {
            return;
        }
        let passes: Vec<bool> = self
            .selected
            .iter()
            .zip(&self.columns)
            .map(|(selected, column)| match (selected, column) {
                (None, _) => true,
                (Some(Some(ord)), Some(column)) => column.term_ords(doc).any(|o| o == *ord),
                (Some(_), _) => false,
            })
            .collect();
        for (i, (column, counts)) in self.columns.iter().zip(&mut self.counts).enumerate() {
            let others_pass = passes.iter().enumerate().all(|(j, p)| j == i || *p);
            if let (true, Some(column)) = (others_pass, column) {
                for ord in column.term_ords(doc) {
                    *counts.entry(ord).or_default() += 1;
                }
            }
        }
    }

    fn harvest(self) -> [FacetCounts; 4] {
        let mut out: [FacetCounts; 4] = Default::default();
        for (i, counts) in self.counts.into_iter().enumerate() {
            let Some(Some(column)) = self.columns.get(i) else { continue };
            for (ord, n) in counts {
                let mut value = String::new();
                if column.ord_to_str(ord, &mut value).unwrap_or(false) {
                    out[i].push((value, n));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::search_source::PlatformSource;
    use tantivy::Index;

    fn platform(id: i64, name: &str, summary: &str, kind: &str, need: &[&str]) -> PlatformSource {
        PlatformSource {
            id,
            name: name.into(),
            short_name: None,
            name_en: None,
            summary: Some(summary.into()),
            description: None,
            kind: kind.into(),
            status: None,
            recognition: None,
            agency_slug: Some("bo-y-te".into()),
            agency_names: Some("Bộ Y tế".into()),
            need_slugs: need.iter().map(|s| (*s).to_owned()).collect(),
            related_names: Vec::new(),
            created: id,
        }
    }

    fn searcher(rows: &[PlatformSource]) -> (Searcher, Fields) {
        let (schema, fields) = Fields::build();
        let index = Index::create_in_ram(schema);
        schema::register(&index);
        let mut writer = index.writer_with_num_threads(1, 20_000_000).unwrap();
        for p in rows {
            writer.add_document(super::super::documents::platform(&fields, p)).unwrap();
        }
        writer.commit().unwrap();
        (index.reader().unwrap().searcher(), fields)
    }

    fn query(text: &str) -> PlatformQuery {
        PlatformQuery { text: text.into(), filter: FacetFilter::default(), sort: SearchSort::Relevance, offset: 0, limit: 10, facets: true }
    }

    fn ids(s: &Searcher, f: &Fields, q: &PlatformQuery) -> Vec<i64> {
        platforms(s, f, q).unwrap().hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn unaccented_query_finds_accented_name() {
        let (s, f) = searcher(&[
            platform(1, "Tư vấn sức khỏe từ xa", "Khám bệnh trực tuyến", "national", &[]),
            platform(2, "Bản đồ số", "Bản đồ", "national", &[]),
        ]);
        assert_eq!(ids(&s, &f, &query("suc khoe")), [1]);
        assert_eq!(ids(&s, &f, &query("SỨC KHỎE")), [1]);
    }

    #[test]
    fn matching_diacritics_rank_above_other_tones() {
        let (s, f) = searcher(&[platform(1, "Nền tảng ma", "x", "national", &[]), platform(2, "Nền tảng mà", "x", "national", &[])]);
        assert_eq!(ids(&s, &f, &query("mà")).first(), Some(&2));
        assert_eq!(ids(&s, &f, &query("ma")).first(), Some(&1));
    }

    #[test]
    fn name_outranks_summary_and_phrase_outranks_scattered_words() {
        let (s, f) = searcher(&[
            platform(1, "Hệ thống thanh toán", "học trực tuyến cho mọi người", "national", &[]),
            platform(2, "Học trực tuyến", "thanh toán", "national", &[]),
            platform(3, "Trực quan", "học tập và tuyến đường", "national", &[]),
        ]);
        assert_eq!(ids(&s, &f, &query("hoc truc tuyen")), [2, 1, 3]);
    }

    #[test]
    fn last_word_matches_as_a_prefix_and_long_words_tolerate_one_typo() {
        let (s, f) =
            searcher(&[platform(1, "Nền tảng blockchain quốc gia", "x", "national", &[]), platform(2, "Bản đồ số", "y", "national", &[])]);
        assert_eq!(ids(&s, &f, &query("blockch")), [1], "prefix of the last word");
        let typo = platforms(&s, &f, &query("blockchian")).unwrap();
        assert_eq!(typo.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [1]);
        assert!(typo.typo_tolerant);
        assert!(ids(&s, &f, &query("ban dp")).is_empty() || ids(&s, &f, &query("ban dp")) == [2], "short words are not fuzzed");
    }

    #[test]
    fn facet_counts_apply_the_other_filters() {
        let (s, f) = searcher(&[
            platform(1, "Sức khỏe A", "x", "national", &["suc-khoe"]),
            platform(2, "Sức khỏe B", "x", "citizen_serving", &["suc-khoe"]),
            platform(3, "Sức khỏe C", "x", "citizen_serving", &["hoc-tap"]),
        ]);
        let mut q = query("suc khoe");
        q.filter.kind = Some("citizen_serving".into());
        let r = platforms(&s, &f, &q).unwrap();
        assert_eq!(r.total, 2);
        let kinds: HashMap<_, _> = r.facets[0].iter().cloned().collect();
        assert_eq!(kinds["national"], 1, "the kind facet ignores the kind filter");
        assert_eq!(kinds["citizen_serving"], 2);
        let needs: HashMap<_, _> = r.facets[1].iter().cloned().collect();
        assert_eq!(needs["suc-khoe"], 1, "the need facet applies the kind filter");
        assert_eq!(needs["hoc-tap"], 1);
    }

    #[test]
    fn snippets_escape_text_and_mark_matches() {
        let (s, f) = searcher(&[platform(1, "Nền tảng", "<script>x</script> khám sức khỏe", "national", &[])]);
        let r = platforms(&s, &f, &query("suc khoe")).unwrap();
        let html = &r.hits[0].snippet_html;
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<mark>sức</mark>"), "{html}");
    }

    #[test]
    fn hostile_query_text_never_fails() {
        let (s, f) = searcher(&[platform(1, "Nền tảng", "x", "national", &[])]);
        let long = "ạ".repeat(10_000);
        for text in ["\"", "title:x", "(((", "AND OR NOT", "*", "~2", "\u{0}", "\u{202e}\u{200f}", long.as_str(), "   "] {
            assert!(platforms(&s, &f, &query(text)).is_ok(), "{text:?}");
            assert!(suggest(&s, &f, text, 8).is_ok(), "{text:?}");
        }
    }
}
