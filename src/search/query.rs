//! Turning what people type into tantivy queries, and running them.
//!
//! Ranking (explained to the public on `/search/about`): every word typed must match somewhere
//! (the last word may be the start of a word); a match in the name or short name counts most, then
//! the summary, then other names (English name, agency, enterprises), then the description; the
//! words together as a phrase count extra, and so do matches with the same diacritics as typed.
//! Only when that finds fewer than three results are words of five letters or more that the index
//! does not know matched with one typo, and then results missing one word. Recognition and ratings
//! never change a relevance ranking.

use std::sync::Arc;

use tantivy::collector::{Collector as _, SegmentCollector as _, TopDocs};
use tantivy::query::{Bm25Weight, BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, TermQuery, Weight};
use tantivy::schema::{Field, IndexRecordOption, Term, Value as _};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, Searcher, TantivyDocument};

use super::collect::{Catalogue, Found, Rank};
use super::dense::{PrefixQuery, WordQuery};
use super::fast::{self, Part};
use super::rerank::{Boost, rerank};
use super::schema::{self, Fields};
use super::tables::DocTables;

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

#[derive(Clone)]
pub(super) struct Words {
    /// Folded words in the order typed (for phrases).
    sequence: Vec<String>,
    /// The same without repeats (each must match once).
    pub(super) folded: Vec<String>,
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
    /// The same words without the one at `drop` (an index into `folded`).
    fn without(&self, drop: usize) -> Self {
        let gone = &self.folded[drop];
        let was_last = drop + 1 == self.folded.len();
        Self {
            sequence: self.sequence.iter().filter(|w| *w != gone).cloned().collect(),
            folded: self.folded.iter().filter(|w| *w != gone).cloned().collect(),
            exact: self.exact.clone(),
            last_is_prefix: self.last_is_prefix && !was_last,
        }
    }

    /// For each word of `folded`, whether the index has it (the last word, when typed as a
    /// prefix, as the start of a word).
    fn known(&self, searcher: &Searcher, fields: &Fields) -> tantivy::Result<Vec<bool>> {
        let last = self.folded.len().saturating_sub(1);
        let mut known = Vec::with_capacity(self.folded.len());
        for (i, word) in self.folded.iter().enumerate() {
            let found = if i == last && self.last_is_prefix {
                !expansions(searcher, fields.all, word, 1)?.is_empty()
            } else {
                searcher.doc_freq(&Term::from_field_text(fields.all, word))? > 0
            };
            known.push(found);
        }
        Ok(known)
    }

    pub(super) fn of(text: &str) -> Self {
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

pub(super) fn boxed(q: impl Query + 'static, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// How strictly the words of a query must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every word, exactly (the last may be a prefix).
    Strict,
    /// Every word; the long words marked as possible typos may have one.
    Typos,
    /// All words but one; the long words marked as possible typos may have one.
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

/// The text part of a query: `matching` (each word must match the `all` field: one posting list
/// per word, a cheap intersection scored by plain BM25) finds and counts the results; `boosts`
/// are the rest of the ranking (field, accent and phrase boosts), added to the score of the best
/// candidates of `matching` only.
struct TextQuery {
    matching: Box<dyn Query>,
    boosts: Vec<Boost>,
    /// Every word as the fast first pass reads it.
    parts: Vec<Part>,
    /// Whether a match may miss one of the words.
    all_but_one: bool,
}

/// Candidates of the cheap ranking that the full ranking reorders.
const RERANK_WINDOW: usize = 100;

/// The terms of `field` that start with `prefix` (at most `limit` of them), in every segment.
fn expansions(searcher: &Searcher, field: Field, prefix: &str, limit: usize) -> tantivy::Result<Vec<Vec<u8>>> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().range().ge(prefix.as_bytes()).into_stream()?;
        while stream.advance() && stream.key().starts_with(prefix.as_bytes()) {
            if !found.iter().any(|k| k.as_slice() == stream.key()) {
                found.push(stream.key().to_vec());
                if found.len() >= limit {
                    return Ok(found);
                }
            }
        }
    }
    Ok(found)
}

fn text_query(
    searcher: &Searcher,
    fields: &Fields,
    tables: &Arc<DocTables>,
    words: &Words,
    mode: Mode,
    typo: &[bool],
) -> tantivy::Result<Option<TextQuery>> {
    if words.folded.is_empty() {
        return Ok(None);
    }
    let last = words.folded.len() - 1;
    let fuzzy_at = |i: usize| mode != Mode::Strict && typo.get(i).copied().unwrap_or(false);
    let mut required: Vec<Box<dyn Query>> = Vec::new();
    let mut boosts: Vec<Boost> = Vec::new();
    let mut parts = Vec::new();
    for (i, word) in words.folded.iter().enumerate() {
        let term = Term::from_field_text(fields.all, word);
        let prefix = i == last && words.last_is_prefix;
        let fuzzy = fuzzy_at(i);
        // A prefix that only one word of the index starts with is that word: a plain term query.
        let only = if prefix && !fuzzy { expansions(searcher, fields.all, word, 2)? } else { Vec::new() };
        // A prefix or typo match is a constant-score automaton query (a bit set, cheap to
        // intersect); the word's own BM25 score is added to the best candidates as a boost.
        let whole = |term: Term| -> tantivy::Result<(Box<dyn Query>, Part)> {
            let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(&term))?;
            Ok((Box::new(WordQuery::new(term.clone(), tables.clone())), Part::Word(term, weight)))
        };
        let (clause, part): (Box<dyn Query>, Part) = match (prefix, fuzzy) {
            (true, false) if only.len() == 1 => whole(Term::from_field_bytes(fields.all, &only[0]))?,
            (true, true) => {
                let query = FuzzyTermQuery::new_prefix(term.clone(), 1, true);
                (Box::new(query.clone()), Part::Typo(query))
            }
            (false, true) => {
                let query = FuzzyTermQuery::new(term.clone(), 1, true);
                (Box::new(query.clone()), Part::Typo(query))
            }
            (true, false) => {
                let query = PrefixQuery::new(fields.all, word, tables.clone());
                (Box::new(query.clone()), Part::Prefix(query))
            }
            (false, false) => whole(term.clone())?,
        };
        parts.push(part);
        let automaton = fuzzy || (prefix && only.len() != 1);
        if automaton && discriminative(searcher, &term) {
            boosts.push(Boost::term(term, 1.0));
        }
        required.push(clause);
    }
    let matching: Box<dyn Query> = match mode {
        Mode::Relaxed => {
            let need = required.len().saturating_sub(1).max(1);
            Box::new(BooleanQuery::with_minimum_required_clauses(required.into_iter().map(|q| (Occur::Should, q)).collect(), need))
        }
        _ => Box::new(BooleanQuery::new(required.into_iter().map(|q| (Occur::Must, q)).collect())),
    };
    let field_boosts = words.folded.iter().flat_map(|w| [(fields.name, w, 3.0), (fields.summary, w, 1.0), (fields.aka, w, 0.4)]);
    let exact_boosts = words.exact.iter().flat_map(|w| [(fields.name_exact, w, 1.5), (fields.summary_exact, w, 0.3)]);
    for (field, word, boost) in field_boosts.chain(exact_boosts) {
        let term = Term::from_field_text(field, word);
        if discriminative(searcher, &term) {
            boosts.push(Boost::term(term, boost));
        }
    }
    if words.sequence.len() >= 2 {
        for (field, boost) in [(fields.name, 4.0), (fields.summary, 2.0)] {
            let terms: Vec<Term> = words.sequence.iter().map(|w| Term::from_field_text(field, w)).collect();
            boosts.push(Boost::phrase(terms, boost));
        }
    }
    Ok(Some(TextQuery { matching, boosts, parts, all_but_one: mode == Mode::Relaxed && words.folded.len() >= 2 }))
}

/// The first pass, segment by segment: the fast path where every word is a bit set in the
/// segment, tantivy's query `matching` elsewhere.
fn first_pass(searcher: &Searcher, text: &TextQuery, collector: &Catalogue<'_>) -> tantivy::Result<Found> {
    let scoring = collector.requires_scoring();
    let enable = if scoring { EnableScoring::enabled_from_searcher(searcher) } else { EnableScoring::disabled_from_searcher(searcher) };
    // tantivy's weight (statistics, automata), built for the first segment that needs it.
    let mut weight: Option<Box<dyn Weight>> = None;
    let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut child = collector.for_segment(u32::try_from(ord).unwrap_or(u32::MAX), reader)?;
        if !fast::collect(reader, collector.tables, &text.parts, text.all_but_one, collector.sort, &mut child)? {
            let weight = match &mut weight {
                Some(weight) => weight,
                None => weight.insert(text.matching.weight(enable)?),
            };
            let alive = reader.alive_bitset();
            if scoring {
                weight.for_each(reader, &mut |doc, score| {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        child.collect(doc, score);
                    }
                })?;
            } else {
                weight.for_each_no_score(reader, &mut |docs| {
                    for doc in docs.iter().copied().filter(|d| alive.is_none_or(|a| a.is_alive(*d))) {
                        child.collect(doc, 0.0);
                    }
                })?;
            }
        }
        fruits.push(child.harvest());
    }
    collector.merge_fruits(fruits)
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

/// Runs a catalogue query: the page of hits, the total, and facet counts.
pub fn platforms(searcher: &Searcher, fields: &Fields, tables: &Arc<DocTables>, q: &PlatformQuery) -> tantivy::Result<PlatformResults> {
    let words = Words::of(&q.text);
    let Some(strict) = text_query(searcher, fields, tables, &words, Mode::Strict, &[])? else { return Ok(PlatformResults::default()) };
    let mut results = run_platforms(searcher, fields, tables, q, strict, RERANK_WINDOW)?;
    if results.total >= TOO_FEW {
        return Ok(results);
    }
    // A word the index has is taken as meant: only long words it does not know may hold a typo.
    // One typo on a common word unites the posting lists of its many neighbours (`thong`:
    // `thang`, `thon`, ...), which made the slowest searches of all.
    let known = words.known(searcher, fields)?;
    let typo: Vec<bool> = words.folded.iter().zip(&known).map(|(w, k)| !k && w.chars().count() >= FUZZY_MIN_CHARS).collect();
    let dead: Vec<usize> = (0..words.folded.len()).filter(|&i| !known[i] && !typo[i]).collect();
    let mut retries: Vec<(Words, Mode, Vec<bool>)> = Vec::new();
    if typo.contains(&true) {
        retries.push((words.clone(), Mode::Typos, typo.clone()));
    }
    // All words but one: when one word can match nothing, that is the others, every one required.
    match dead.as_slice() {
        [i] if words.folded.len() >= 2 => {
            let mut rest = typo.clone();
            rest.remove(*i);
            retries.push((words.without(*i), Mode::Typos, rest));
        }
        [] if words.folded.len() >= 2 => retries.push((words.clone(), Mode::Relaxed, typo.clone())),
        _ => {}
    }
    for (words, mode, typo) in retries {
        if results.total >= TOO_FEW {
            break;
        }
        if let Some(wider) = text_query(searcher, fields, tables, &words, mode, &typo)? {
            let retry = run_platforms(searcher, fields, tables, q, wider, RERANK_WINDOW)?;
            if retry.total > results.total {
                results = PlatformResults { widened: true, ..retry };
            }
        }
    }
    Ok(results)
}

/// One attempt at a catalogue query; for relevance, the boosts reorder the best `window`
/// candidates of the first stage.
fn run_platforms(
    searcher: &Searcher,
    fields: &Fields,
    tables: &DocTables,
    q: &PlatformQuery,
    text: TextQuery,
    window: usize,
) -> tantivy::Result<PlatformResults> {
    let limit = q.limit.max(1);
    let wanted = q.offset.saturating_add(limit);
    let keep = if q.sort == SearchSort::Relevance { wanted.max(window) } else { wanted };
    let collector = Catalogue { tables, section: "platform", filter: &q.filter, sort: q.sort, keep, facets: q.facets };
    let found = first_pass(searcher, &text, &collector)?;
    let best: Vec<(Score, DocAddress)> = if q.sort == SearchSort::Relevance {
        let candidates = found.best.into_iter().map(|(rank, a)| (if let Rank::Number(s) = rank { s as Score } else { 0.0 }, a)).collect();
        rerank(searcher, &text.boosts, candidates)?
    } else {
        found.best.into_iter().map(|(_, a)| (0.0, a)).collect()
    };
    let snippets = Snippets::new(searcher, &highlight_query(fields, &q.text), &[fields.summary, fields.body])?;
    let mut hits = Vec::with_capacity(limit);
    for (_, address) in best.into_iter().skip(q.offset).take(limit) {
        let doc: TantivyDocument = searcher.doc(address)?;
        hits.push(Hit { id: id_of(fields, &doc), snippet_html: snippets.html(&doc) });
    }
    Ok(PlatformResults { total: found.total, hits, facets: found.facets, widened: false })
}

pub(super) fn id_of(fields: &Fields, doc: &TantivyDocument) -> i64 {
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
pub fn texts(searcher: &Searcher, fields: &Fields, tables: &Arc<DocTables>, text: &str, limit: usize) -> tantivy::Result<Vec<TextHit>> {
    let words = Words::of(text);
    let Some(TextQuery { matching, boosts, .. }) = text_query(searcher, fields, tables, &words, Mode::Strict, &[])? else {
        return Ok(Vec::new());
    };
    let mut sections: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for section in ["document", "news", "qa"] {
        let term = TermQuery::new(Term::from_field_text(fields.section, section), IndexRecordOption::Basic);
        sections.push((Occur::Should, Box::new(tantivy::query::ConstScoreQuery::new(Box::new(term), 0.0))));
    }
    let query = BooleanQuery::new(vec![(Occur::Must, matching), (Occur::Must, Box::new(BooleanQuery::new(sections)))]);
    let candidates = searcher.search(&query, &TopDocs::with_limit(limit.max(RERANK_WINDOW)).order_by_score())?;
    let best = rerank(searcher, &boosts, candidates)?;
    let snippets = Snippets::new(searcher, &highlight_query(fields, text), &[fields.summary, fields.body, fields.name])?;
    let mut hits = Vec::with_capacity(limit);
    for (_, address) in best.into_iter().take(limit.max(1)) {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::testing::{generated, generated_with_rarer_words, platform, searcher, searcher_with_deletes};
    use super::*;
    use crate::db::search_source::PlatformSource;

    fn query(text: &str) -> PlatformQuery {
        PlatformQuery { text: text.into(), filter: FacetFilter::default(), sort: SearchSort::Relevance, offset: 0, limit: 10, facets: true }
    }

    fn ids(s: &Searcher, f: &Fields, q: &PlatformQuery) -> Vec<i64> {
        platforms(s, f, &Arc::new(DocTables::new(&[f.all])), q).unwrap().hits.iter().map(|h| h.id).collect()
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
        let typo = platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &query("blockchian")).unwrap();
        assert_eq!(typo.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [1]);
        assert!(typo.widened);
        // `dp` is too short for a typo and starts no word of the index: it is left out.
        let short = platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &query("ban dp")).unwrap();
        assert_eq!((hit_ids(&short), short.widened), (vec![2], true), "short words are not fuzzed");
    }

    #[test]
    fn only_words_the_index_lacks_may_hold_a_typo_and_a_word_that_matches_nothing_is_left_out() {
        let (s, f) = searcher(&[
            platform(1, "Học trực tuyến", "x", "national", &[]),
            platform(2, "Cảnh báo tuyết rơi", "y", "national", &[]),
            platform(3, "Bản đồ số", "z", "national", &[]),
        ]);
        let run = |text: &str| platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &query(text)).unwrap();
        // `tuyet` is a word of the index: taken as typed, not widened to `tuyen` one letter away.
        let known = run("tuyet ");
        assert_eq!((hit_ids(&known), known.widened), (vec![2], false));
        // `tuyeb` is not: one typo away from both.
        let mut unknown = hit_ids(&run("tuyeb "));
        unknown.sort();
        assert_eq!(unknown, [1, 2]);
        // `xyz` (too short for a typo) can match nothing: the other words are all required.
        let dropped = run("hoc truc xyz");
        assert_eq!((hit_ids(&dropped), dropped.widened), (vec![1], true));
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
        let r = platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &q).unwrap();
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
        let r = platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &query("suc khoe")).unwrap();
        let html = &r.hits[0].snippet_html;
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<mark>sức</mark>"), "{html}");
    }

    #[test]
    fn hostile_query_text_never_fails() {
        let (s, f) = searcher(&[platform(1, "Nền tảng", "x", "national", &[])]);
        let long = "ạ".repeat(10_000);
        for text in ["\"", "title:x", "(((", "AND OR NOT", "*", "~2", "\u{0}", "\u{202e}\u{200f}", long.as_str(), "   "] {
            assert!(platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &query(text)).is_ok(), "{text:?}");
        }
    }

    const GENERATED_QUERIES: [&str; 12] = [
        "suc khoe",
        "đặt lịch khám",
        "hoc truc tuyen",
        "thanh toan hoa don",
        "du lich thong minh",
        "ban do so",
        "giao thong",
        "thu vien so",
        "chu ky so tu xa",
        "dich vu cong truc tuyen",
        "nen tang cho nguoi dan",
        "ha noi thong",
    ];

    fn hit_ids(r: &PlatformResults) -> Vec<i64> {
        r.hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn two_stage_ranking_finds_the_same_top_ten_as_scoring_every_match() {
        let (s, f) = searcher(&generated(9_000));
        let tables = Arc::new(DocTables::new(&[f.all]));
        for text in GENERATED_QUERIES {
            let q = query(text);
            let words = Words::of(text);
            let run = |window| {
                let text_query = text_query(&s, &f, &tables, &words, Mode::Strict, &[]).unwrap().unwrap();
                run_platforms(&s, &f, &tables, &q, text_query, window).unwrap()
            };
            let (windowed, exhaustive) = (run(RERANK_WINDOW), run(usize::MAX / 4));
            assert!(windowed.total > 0, "{text}");
            assert_eq!(hit_ids(&windowed), hit_ids(&exhaustive), "{text}: {} matches", windowed.total);
        }
    }

    #[test]
    fn dense_columns_find_count_and_rank_like_posting_lists() {
        let (s, f) = searcher(&generated_with_rarer_words(9_000));
        let dense = Arc::new(DocTables::new(&[f.all]));
        let postings = Arc::new(DocTables::new(&[]));
        let segment = s.segment_reader(0);
        assert!(dense.get(segment).unwrap().dense().len() > 5, "frequent words get columns");
        assert_eq!(postings.get(segment).unwrap().dense().len(), 0);
        assert!(dense.get(segment).unwrap().has_planes(), "facets of a large segment are counted with bit sets");
        let others = ["khong co that", "nguoi dung phuc vu", "hoc sinh thong minh", "dich vu v7", "v12 thu vien so"];
        for text in GENERATED_QUERIES.into_iter().chain(others) {
            for sort in [SearchSort::Relevance, SearchSort::Name, SearchSort::Newest] {
                let mut q = query(text);
                q.sort = sort;
                q.offset = 5;
                let (a, b) = (platforms(&s, &f, &dense, &q).unwrap(), platforms(&s, &f, &postings, &q).unwrap());
                assert_eq!((a.total, hit_ids(&a), &a.facets), (b.total, hit_ids(&b), &b.facets), "{text} {sort:?}");
                q.filter.need = Some("hoc-tap".into());
                let (a, b) = (platforms(&s, &f, &dense, &q).unwrap(), platforms(&s, &f, &postings, &q).unwrap());
                assert_eq!((a.total, hit_ids(&a), &a.facets), (b.total, hit_ids(&b), &b.facets), "{text} {sort:?} need");
            }
        }
    }

    #[test]
    fn retries_are_found_counted_and_scored_alike_by_bit_sets_and_posting_lists() {
        let (s, f) = searcher(&generated_with_rarer_words(9_000));
        let dense = Arc::new(DocTables::new(&[f.all]));
        let postings = Arc::new(DocTables::new(&[]));
        let cases: [(&str, Mode, &[bool]); 8] = [
            ("nen tang cho nguoi dan khong", Mode::Relaxed, &[]),
            ("hoc sinh v12 thong minh", Mode::Relaxed, &[]),
            ("hoc sinh thong minh", Mode::Relaxed, &[]),
            ("dich vu cong truc tuyen ha", Mode::Relaxed, &[]),
            ("giao thong thu", Mode::Relaxed, &[]),
            // A word with a typo, finished, or still being typed (a typo in a prefix).
            ("giao thogn minh", Mode::Typos, &[false, true, false]),
            ("giao thogn minh", Mode::Relaxed, &[false, true, false]),
            ("hoc truc tuyne", Mode::Typos, &[false, false, true]),
        ];
        for (text, mode, typo) in cases {
            for sort in [SearchSort::Relevance, SearchSort::Name] {
                for need in [None, Some("hoc-tap")] {
                    let filter = FacetFilter { need: need.map(str::to_owned), ..FacetFilter::default() };
                    // Every match kept, so that the comparison does not depend on how ties are cut.
                    let run = |tables: &Arc<DocTables>| {
                        let wider = text_query(&s, &f, tables, &Words::of(text), mode, typo).unwrap().unwrap();
                        assert_eq!(wider.all_but_one, mode == Mode::Relaxed);
                        let collector = Catalogue { tables, section: "platform", filter: &filter, sort, keep: 10_000, facets: true };
                        first_pass(&s, &wider, &collector).unwrap()
                    };
                    let (a, b) = (run(&dense), run(&postings));
                    assert!(a.total > 0, "{text} {mode:?}");
                    assert_eq!((a.total, &a.facets, a.best.len()), (b.total, &b.facets, b.best.len()), "{text} {mode:?} {sort:?} {need:?}");
                    let scores = |found: &Found| -> HashMap<DocAddress, Rank> { found.best.iter().map(|(r, a)| (*a, r.clone())).collect() };
                    let (a, b) = (scores(&a), scores(&b));
                    for (address, rank) in &a {
                        match (rank, b.get(address)) {
                            // Sums of the same terms in another order differ in the last bits.
                            (Rank::Number(x), Some(Rank::Number(y))) => assert!((x - y).abs() < 1e-4, "{text}: {x} vs {y}"),
                            (x, y) => assert_eq!(Some(x), y, "{text} {sort:?}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn facets_with_many_values_are_counted_like_the_packed_ones() {
        // 40 need groups (two per platform) and 40 agencies do not fit the 32-bit masks: they are
        // stored as lists and as one ordinal per document.
        let rows: Vec<PlatformSource> = (1..=400)
            .map(|i: i64| {
                let needs = [format!("nhu-cau-{}", i % 40), format!("nhu-cau-{}", (i * 7 + 3) % 40)];
                let mut p = platform(i, "Nền tảng chung", "x", ["national", "citizen_serving"][(i % 2) as usize], &[]);
                p.need_slugs = needs.into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
                p.agency_slug = Some(format!("co-quan-{}", i % 40));
                p
            })
            .collect();
        let (s, f) = searcher(&rows);
        let mut q = query("nen tang");
        q.filter.kind = Some("national".into());
        q.filter.need = Some("nhu-cau-3".into());
        let r = platforms(&s, &f, &Arc::new(DocTables::new(&[f.all])), &q).unwrap();
        let passes = |p: &PlatformSource, skip: usize| {
            (skip == 0 || p.kind == "national") && (skip == 1 || p.need_slugs.iter().any(|n| n == "nhu-cau-3"))
        };
        let mut expected: [HashMap<String, u64>; 4] = Default::default();
        for p in &rows {
            let values = [vec![p.kind.clone()], p.need_slugs.clone(), p.agency_slug.iter().cloned().collect()];
            for (i, vs) in values.into_iter().enumerate() {
                if passes(p, i) {
                    for v in vs {
                        *expected[i].entry(v).or_default() += 1;
                    }
                }
            }
        }
        assert_eq!(r.total, rows.iter().filter(|p| passes(p, usize::MAX)).count());
        for (i, (counted, expected)) in r.facets.iter().zip(&expected).take(3).enumerate() {
            let got: HashMap<String, u64> = counted.iter().cloned().collect();
            assert_eq!(&got, expected, "facet {i}");
        }
    }

    #[test]
    fn the_fast_first_pass_runs_for_frequent_words_only_and_skips_deleted_documents() {
        let (s, f) = searcher_with_deletes(&generated(9_000), 9_000, |p| p.id % 5 == 0);
        assert_eq!(s.segment_readers().len(), 1);
        let dense = Arc::new(DocTables::new(&[f.all]));
        let postings = Arc::new(DocTables::new(&[]));
        let parts = |text: &str| text_query(&s, &f, &dense, &Words::of(text), Mode::Strict, &[]).unwrap().unwrap().parts;
        let segment = s.segment_reader(0);
        let filter = FacetFilter::default();
        let collector =
            Catalogue { tables: &dense, section: "platform", filter: &filter, sort: SearchSort::Relevance, keep: 10, facets: false };
        let mut child = collector.for_segment(0, segment).unwrap();
        assert!(
            fast::collect(segment, &dense, &parts("nen tang cho"), false, SearchSort::Relevance, &mut child).unwrap(),
            "frequent words"
        );
        let mut child = collector.for_segment(0, segment).unwrap();
        assert!(!fast::collect(segment, &dense, &parts("nen tang 17 "), false, SearchSort::Relevance, &mut child).unwrap(), "a rare word");
        for text in ["nen tang", "nen tang cho", "khong co that", "nguoi dung phuc vu nen", "nen tang s"] {
            for facets in [false, true] {
                let mut q = query(text);
                q.facets = facets;
                let (a, b) = (platforms(&s, &f, &dense, &q).unwrap(), platforms(&s, &f, &postings, &q).unwrap());
                assert_eq!((a.total, hit_ids(&a), &a.facets), (b.total, hit_ids(&b), &b.facets), "{text} {facets}");
                assert!(hit_ids(&a).iter().all(|id| id % 5 != 0), "{text}: no deleted platform");
                assert!(a.total > 0, "{text}");
                if text == "nen tang" {
                    assert_eq!(a.total, 7_200, "every description has the words; a fifth were deleted");
                }
            }
        }
    }
}
