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
    pub widened: bool,
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
    /// Folded words in the order typed (for phrases).
    sequence: Vec<String>,
    /// The same without repeats (each must match once).
    folded: Vec<String>,
    /// Lower-cased words with their diacritics, without repeats.
    exact: Vec<String>,
    last_is_prefix: bool,
}

fn unique(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

impl Words {
    fn of(text: &str) -> Self {
        let sequence: Vec<String> = schema::terms(&mut schema::folded_analyzer(), text).into_iter().take(16).collect();
        let exact: Vec<String> = schema::terms(&mut schema::exact_analyzer(), text).into_iter().take(16).collect();
        let last_is_prefix = !text.ends_with(char::is_whitespace) && sequence.last().is_some_and(|w| w.chars().count() >= PREFIX_MIN_CHARS);
        let mut folded = unique(&sequence);
        // The last word typed stays last, so it is the one matched as a prefix.
        if let Some(last) = sequence.last() {
            folded.retain(|w| w != last);
            folded.push(last.clone());
        }
        Self { folded, exact: unique(&exact), sequence, last_is_prefix }
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

/// Boost clauses are kept only for terms in at most this share of documents (or this many):
/// a term in nearly every document adds almost nothing to a BM25 score, yet scoring it would
/// walk its whole posting list.
const COMMON_TERM_SHARE: u64 = 16;
const COMMON_TERM_FLOOR: u64 = 2_000;

/// Whether a boost on `term` is worth its cost (see [`COMMON_TERM_SHARE`]).
fn discriminative(searcher: &Searcher, term: &Term) -> bool {
    let limit = (searcher.num_docs() / COMMON_TERM_SHARE).max(COMMON_TERM_FLOOR);
    searcher.doc_freq(term).is_ok_and(|n| n > 0 && n <= limit)
}

/// The text part of a query, in two forms: `matching` (each word must match the `all` field: one
/// posting list per word, a cheap intersection scored by plain BM25) finds and counts the results;
/// `full` adds the boosts of the ranking and reorders the best candidates of `matching`.
struct TextQuery {
    matching: Box<dyn Query>,
    full: Box<dyn Query>,
}

/// Candidates of the cheap ranking that the full ranking reorders.
const RERANK_WINDOW: usize = 200;

fn text_query(searcher: &Searcher, fields: &Fields, words: &Words, mode: Mode) -> Option<TextQuery> {
    if words.folded.is_empty() {
        return None;
    }
    let last = words.folded.len() - 1;
    let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    // Scored boosts, each attached on its own level (see below).
    let mut optionals: Vec<Box<dyn Query>> = Vec::new();
    for (i, word) in words.folded.iter().enumerate() {
        let term = Term::from_field_text(fields.all, word);
        let prefix = i == last && words.last_is_prefix;
        let fuzzy = mode != Mode::Strict && word.chars().count() >= FUZZY_MIN_CHARS;
        // A prefix or typo match is a constant-score automaton query (a bit set, cheap to
        // intersect); the word's own BM25 score is added by an optional clause. An alternative
        // of both in one required clause would be a union scored across its whole posting list.
        let clause: Box<dyn Query> = match (prefix, fuzzy) {
            (true, true) => Box::new(FuzzyTermQuery::new_prefix(term.clone(), 1, true)),
            (false, true) => Box::new(FuzzyTermQuery::new(term.clone(), 1, true)),
            (true, false) => Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, false)),
            (false, false) => Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
        };
        if (prefix || fuzzy) && discriminative(searcher, &term) {
            optionals.push(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)));
        }
        required.push((Occur::Should, clause));
    }
    let matching: Box<dyn Query> = match mode {
        Mode::Relaxed => {
            let need = required.len().saturating_sub(1).max(1);
            Box::new(BooleanQuery::with_minimum_required_clauses(required, need))
        }
        _ => Box::new(BooleanQuery::new(required.into_iter().map(|(_, q)| (Occur::Must, q)).collect())),
    };
    // Score boosts. Each is attached on a level of its own (one optional clause per level), so it
    // is only looked up for documents that already match: several optional clauses side by side
    // would be merged by tantivy into a buffered union that scores their whole posting lists.
    let field_boosts = words.folded.iter().flat_map(|w| [(fields.name, w, 3.0), (fields.summary, w, 1.0), (fields.aka, w, 0.4)]);
    let exact_boosts = words.exact.iter().flat_map(|w| [(fields.name_exact, w, 1.5), (fields.summary_exact, w, 0.3)]);
    for (field, word, boost) in field_boosts.chain(exact_boosts) {
        let term = Term::from_field_text(field, word);
        if discriminative(searcher, &term) {
            optionals.push(boxed(TermQuery::new(term, IndexRecordOption::WithFreqs), boost));
        }
    }
    if words.sequence.len() >= 2 {
        for (field, boost) in [(fields.name, 4.0), (fields.summary, 2.0)] {
            let terms: Vec<Term> = words.sequence.iter().map(|w| Term::from_field_text(field, w)).collect();
            optionals.push(boxed(PhraseQuery::new(terms), boost));
        }
    }
    let full = optionals
        .into_iter()
        .fold(matching.box_clone(), |scored, optional| Box::new(BooleanQuery::new(vec![(Occur::Must, scored), (Occur::Should, optional)])));
    Some(TextQuery { matching, full })
}

/// Scores `candidates` (which all match `query`'s required part) with the full query: one scorer
/// per segment, sought to each candidate in document order.
fn rerank(searcher: &Searcher, query: &dyn Query, candidates: &[DocAddress]) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let weight = query.weight(tantivy::query::EnableScoring::enabled_from_searcher(searcher))?;
    let mut sorted: Vec<DocAddress> = candidates.to_vec();
    sorted.sort_by_key(|a| (a.segment_ord, a.doc_id));
    let mut scored = Vec::with_capacity(sorted.len());
    let mut current: Option<(u32, Box<dyn tantivy::query::Scorer>)> = None;
    for address in sorted {
        if current.as_ref().is_none_or(|(ord, _)| *ord != address.segment_ord) {
            current = Some((address.segment_ord, weight.scorer(searcher.segment_reader(address.segment_ord), 1.0)?));
        }
        let Some((_, scorer)) = current.as_mut() else { continue };
        let score = if scorer.doc() <= address.doc_id && scorer.seek(address.doc_id) == address.doc_id { scorer.score() } else { 0.0 };
        scored.push((score, address));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(scored)
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

/// A filter clause: required, adds nothing to the score.
fn must_term(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    let term = TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic);
    (Occur::Must, Box::new(tantivy::query::ConstScoreQuery::new(Box::new(term), 0.0)))
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
    let Some(strict) = text_query(searcher, fields, &words, Mode::Strict) else { return Ok(PlatformResults::default()) };
    let mut results = run_platforms(searcher, fields, q, strict)?;
    let has_long_word = words.folded.iter().any(|w| w.chars().count() >= FUZZY_MIN_CHARS);
    for (mode, applies) in [(Mode::Typos, has_long_word), (Mode::Relaxed, words.folded.len() >= 2)] {
        if results.total >= TOO_FEW || !applies {
            continue;
        }
        if let Some(wider) = text_query(searcher, fields, &words, mode) {
            let retry = run_platforms(searcher, fields, q, wider)?;
            if retry.total > results.total {
                results = PlatformResults { widened: true, ..retry };
            }
        }
    }
    Ok(results)
}

fn run_platforms(searcher: &Searcher, fields: &Fields, q: &PlatformQuery, text: TextQuery) -> tantivy::Result<PlatformResults> {
    let unfiltered_is_same = q.filter == FacetFilter::default();
    let filtered = with_filters(text.matching.box_clone(), fields, "platform", Some(&q.filter));
    let limit = q.limit.max(1);
    // For relevance, the cheap ranking picks a window of candidates that the full ranking reorders.
    let window = if q.sort == SearchSort::Relevance { (q.offset + limit).max(RERANK_WINDOW) } else { limit };
    let offset = if q.sort == SearchSort::Relevance { 0 } else { q.offset };
    let facet_collector = FacetCollector { filter: q.filter.clone(), enabled: q.facets };
    // Without filters the facets are counted in the same pass; with filters they need the
    // unfiltered matches, so a second pass counts them.
    let same_pass = FacetCollector { enabled: q.facets && unfiltered_is_same, ..facet_collector.clone() };
    let top = TopDocs::with_limit(window).and_offset(offset);
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
    let addresses = if q.sort == SearchSort::Relevance {
        let full = with_filters(text.full, fields, "platform", Some(&q.filter));
        let candidates: Vec<DocAddress> = addresses.into_iter().map(|(_, a)| a).collect();
        rerank(searcher, &full, &candidates)?.into_iter().skip(q.offset).take(limit).collect()
    } else {
        addresses
    };
    let snippets = Snippets::new(searcher, &highlight_query(fields, &q.text), &[fields.summary, fields.body])?;
    let mut hits = Vec::with_capacity(addresses.len());
    for (_, address) in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        hits.push(Hit { id: id_of(fields, &doc), snippet_html: snippets.html(&doc) });
    }
    let facets = if q.facets && !unfiltered_is_same {
        searcher.search(&with_filters(text.matching, fields, "platform", None), &facet_collector)?
    } else {
        counted
    };
    Ok(PlatformResults { total, hits, facets, widened: false })
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
    let Some(TextQuery { full: text_q, .. }) = text_query(searcher, fields, &words, Mode::Strict) else { return Ok(Vec::new()) };
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
    /// Per facet: a count per term ordinal of the segment's column.
    counts: Vec<Vec<u64>>,
    /// Whether any facet filter is set (else every document passes every filter).
    filtered: bool,
}

impl Collector for FacetCollector {
    type Fruit = [FacetCounts; 4];
    type Child = FacetSegment;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<FacetSegment> {
        if !self.enabled {
            return Ok(FacetSegment { columns: Vec::new(), selected: Vec::new(), counts: Vec::new(), filtered: false });
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
        let counts = columns.iter().map(|c| vec![0u64; c.as_ref().map_or(0, |c| c.num_terms())]).collect();
        let filtered = selected.iter().any(Option::is_some);
        Ok(FacetSegment { columns, selected, counts, filtered })
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
        if !self.filtered {
            for (column, counts) in self.columns.iter().zip(&mut self.counts) {
                if let Some(column) = column {
                    for ord in column.term_ords(doc) {
                        if let Some(n) = counts.get_mut(ord as usize) {
                            *n += 1;
                        }
                    }
                }
            }
            return;
        }
        let mut passes = [true; 4];
        for (i, (selected, column)) in self.selected.iter().zip(&self.columns).enumerate() {
            passes[i] = match (selected, column) {
                (None, _) => true,
                (Some(Some(ord)), Some(column)) => column.term_ords(doc).any(|o| o == *ord),
                (Some(_), _) => false,
            };
        }
        for (i, (column, counts)) in self.columns.iter().zip(&mut self.counts).enumerate() {
            let others_pass = passes.iter().enumerate().all(|(j, p)| j == i || *p);
            if let (true, Some(column)) = (others_pass, column) {
                for ord in column.term_ords(doc) {
                    if let Some(n) = counts.get_mut(ord as usize) {
                        *n += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> [FacetCounts; 4] {
        let mut out: [FacetCounts; 4] = Default::default();
        for (i, counts) in self.counts.into_iter().enumerate() {
            let Some(Some(column)) = self.columns.get(i) else { continue };
            for (ord, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                let ord = ord as u64;
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
            rating: 3.0,
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
        assert!(typo.widened);
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
