//! Type-ahead suggestions (`/search/suggest`): names that match what is being typed, in every
//! section.
//!
//! Each finished word must match a whole word of the name (counted twice) or of the other names
//! (counted half); the last word, while it is being typed, may also start a word of the name
//! (counted 1). A document scores, for each word, its best alternative, and the sum over the words.
//!
//! A phone sends a request per letter, so this is the portal's most frequent query. The names of a
//! large catalogue share a few syllables (`nen tang`, `dich vu`, `cho nguoi dan`), and the other
//! names hold the host agency's, so a word such as `so` or `hoc` can match every document there.
//! In a large segment the query therefore runs on the dense columns of `name` and `aka` (see
//! [`dense`](super::dense)): a block of 64 documents matches where every word has a bit in one of
//! its columns (or in the typed prefix's bit set), and its documents are scored only when the sum
//! of the words' bounds in the block could enter the top. Smaller segments run the same query as
//! tantivy clauses. Both give the same scores, which the tests check.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tantivy::collector::{Collector as _, TopDocs};
use tantivy::query::{Bm25Weight, BooleanQuery, EnableScoring, FuzzyTermQuery, Occur, Query, TermQuery, Weight};
use tantivy::schema::{IndexRecordOption, Term, Value as _};
use tantivy::{DocAddress, DocId, DocSet as _, Score, Searcher, SegmentReader, TERMINATED, TantivyDocument};

use super::best_of::BestOf;
use super::collect::Best;
use super::dense::{Bits, Column, MIN_SEGMENT_DOCS, PrefixQuery, fieldnorms};
use super::query::{Suggestion, Words, boxed, id_of};
use super::schema::Fields;
use super::tables::{DocTables, SegmentTable};

/// A whole word in the name.
const SUGGEST_NAME: Score = 2.0;
/// A whole word in the other names.
const SUGGEST_AKA: Score = 0.5;
/// The word being typed starts a word of the name.
const SUGGEST_PREFIX: Score = 1.0;

/// Names that match what was typed: the finished words whole (in the name or the other names),
/// the last word, still being typed, as the start of a word of the name; a whole word counts more
/// than a word that only starts with it.
pub fn suggest(
    searcher: &Searcher,
    fields: &Fields,
    tables: &Arc<DocTables>,
    text: &str,
    limit: usize,
) -> tantivy::Result<Vec<Suggestion>> {
    let words = Words::of(text);
    if words.folded.is_empty() {
        return Ok(Vec::new());
    }
    // After a space every word is finished.
    let typing = if text.ends_with(char::is_whitespace) { None } else { words.folded.last() };
    let top = match (typing, words.folded.len()) {
        (Some(word), 1) => one_word(searcher, fields, word, true, limit.max(1))?,
        (None, 1) => one_word(searcher, fields, &words.folded[0], false, limit.max(1))?,
        _ => several_words(searcher, fields, tables, &words.folded, typing.is_some(), limit.max(1))?,
    };
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

/// One word of a suggestion query: its terms in the name and in the other names, with their
/// boosted BM25 weights (none where the index lacks the word), and for the word being typed, the
/// start of a word of the name.
struct Word {
    /// Term, boost, and the BM25 weight with the boost applied.
    whole: Vec<(Term, Score, Bm25Weight)>,
    prefix: Option<String>,
}

impl Word {
    fn all(searcher: &Searcher, fields: &Fields, words: &[String], typing: bool) -> tantivy::Result<Vec<Self>> {
        let mut out = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let mut whole = Vec::new();
            for (field, boost) in [(fields.name, SUGGEST_NAME), (fields.aka, SUGGEST_AKA)] {
                let term = Term::from_field_text(field, word);
                // Words absent from the index add nothing but a scorer to every match.
                if searcher.doc_freq(&term)? > 0 {
                    let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(&term))?.boost_by(boost);
                    whole.push((term, boost, weight));
                }
            }
            let prefix = (i + 1 == words.len() && typing).then(|| word.clone());
            out.push(Self { whole, prefix });
        }
        Ok(out)
    }

    /// The word as a tantivy clause that scores its best alternative; `None` when it has none.
    fn clause(&self, fields: &Fields) -> Option<Box<dyn Query>> {
        let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
        for (term, boost, _) in &self.whole {
            alternatives.push(boxed(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs), *boost));
        }
        if let Some(prefix) = &self.prefix {
            alternatives.push(boxed(FuzzyTermQuery::new_prefix(Term::from_field_text(fields.name, prefix), 0, false), SUGGEST_PREFIX));
        }
        match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(Box::new(BestOf::new(alternatives))),
        }
    }
}

/// The best `limit` documents for several words (the last being typed when `typing`), with their
/// scores. Large segments run on dense columns, unless the tables keep none (the reference the
/// tests compare with): every segment then runs on tantivy's clauses.
fn several_words(
    searcher: &Searcher,
    fields: &Fields,
    tables: &Arc<DocTables>,
    words: &[String],
    typing: bool,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let words = Word::all(searcher, fields, words, typing)?;
    if words.iter().any(|w| w.whole.is_empty() && w.prefix.is_none()) {
        return Ok(Vec::new());
    }
    let collector = TopDocs::with_limit(limit).order_by_score();
    // tantivy's clauses, built for the first segment that needs them.
    let mut weight: Option<Box<dyn Weight>> = None;
    let mut top = Vec::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let ord = u32::try_from(ord).unwrap_or(u32::MAX);
        if tables.keeps_columns() && segment.max_doc() >= MIN_SEGMENT_DOCS {
            top.extend(on_columns(segment, ord, fields, tables, &words, limit)?);
            continue;
        }
        let weight = match &mut weight {
            Some(weight) => weight,
            None => {
                let clauses = words.iter().filter_map(|w| w.clause(fields)).map(|c| (Occur::Must, c)).collect();
                weight.insert(BooleanQuery::new(clauses).weight(EnableScoring::enabled_from_searcher(searcher))?)
            }
        };
        let fruit = collector.collect_segment(weight.as_ref(), ord, segment)?;
        top.extend(collector.merge_fruits(vec![fruit])?);
    }
    top.sort_by(by_score);
    top.truncate(limit);
    Ok(top)
}

/// Best score first, then the earlier document (as tantivy's top collector orders them).
fn by_score(a: &(Score, DocAddress), b: &(Score, DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
}

/// How far below the threshold a bound must be to leave documents out: bounds and scores are
/// sums of the same terms in other orders, so they may differ in their last bits.
const MARGIN: f64 = 1e-3;

/// One word read from a segment's columns: its whole-word columns (with their weights, and
/// whether in the name) and the documents where it starts a word of the name.
struct WordColumns<'a> {
    whole: Vec<(Cow<'a, Column>, &'a Bm25Weight, bool)>,
    prefix: Option<Bits>,
}

impl<'a> WordColumns<'a> {
    /// `word` in `segment`: the columns the tables keep, the others decoded for the query.
    fn read(
        segment: &SegmentReader,
        table: &'a SegmentTable,
        tables: &Arc<DocTables>,
        fields: &Fields,
        word: &'a Word,
    ) -> tantivy::Result<Self> {
        let mut whole = Vec::with_capacity(word.whole.len());
        for (term, _, weight) in &word.whole {
            let column = match table.dense().get(term) {
                Some(column) => Cow::Borrowed(column),
                None => Cow::Owned(Column::for_query(segment, term)?),
            };
            whole.push((column, weight, term.field() == fields.name));
        }
        let prefix = word.prefix.as_ref().map(|p| PrefixQuery::new(fields.name, p, tables.clone()).docs(segment)).transpose()?;
        Ok(Self { whole, prefix })
    }

    fn prefix_bits(&self, block: usize) -> u64 {
        self.prefix.as_ref().map_or(0, |bits| bits.words().get(block).copied().unwrap_or(0))
    }

    /// The documents of block `block` that the word matches.
    fn bits(&self, block: usize) -> u64 {
        self.whole.iter().fold(self.prefix_bits(block), |any, (column, _, _)| any | column.docs().words().get(block).copied().unwrap_or(0))
    }

    /// In block `block`: the documents of the alternative with the largest bound (of all that
    /// share it), that bound, and the largest bound of the other alternatives.
    fn bounds(&self, block: usize) -> (u64, Score, Score) {
        let prefix = self.prefix_bits(block);
        let alternatives = self
            .whole
            .iter()
            .map(|(column, weight, _)| (column.docs().words().get(block).copied().unwrap_or(0), column.block_bound(block, weight)))
            .chain(self.prefix.as_ref().map(|_| (prefix, if prefix == 0 { 0.0 } else { SUGGEST_PREFIX })));
        alternatives.fold((0, 0.0, 0.0), |(top, hi, lo), (bits, bound)| {
            if bound > hi {
                (bits, bound, hi)
            } else if bound == hi {
                (top | bits, hi, lo)
            } else {
                (top, hi, lo.max(bound))
            }
        })
    }
}

/// The best `limit` documents of one large segment, from the dense columns of `name` and `aka`.
fn on_columns(
    segment: &SegmentReader,
    ord: u32,
    fields: &Fields,
    tables: &Arc<DocTables>,
    words: &[Word],
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let table = tables.get(segment)?;
    let read = words.iter().map(|word| WordColumns::read(segment, &table, tables, fields, word)).collect::<tantivy::Result<Vec<_>>>()?;
    let (name_norms, aka_norms) = (fieldnorms(segment, fields.name)?, fieldnorms(segment, fields.aka)?);
    let alive = tables.alive_words(segment);
    let score = |doc: DocId| {
        let (name_norm, aka_norm) = (name_norms.fieldnorm_id(doc), aka_norms.fieldnorm_id(doc));
        read.iter().fold(0.0, |sum: Score, word| {
            let prefix = word.prefix.as_ref().map_or(0.0, |bits| if bits.contains(doc) { SUGGEST_PREFIX } else { 0.0 });
            let best = word.whole.iter().fold(prefix, |best: Score, (column, weight, in_name)| {
                let freq = u32::from(column.freq(doc));
                if freq == 0 { best } else { best.max(weight.score(if *in_name { name_norm } else { aka_norm }, freq)) }
            });
            sum + best
        })
    };
    let mut best = Best::new(limit);
    let mut bounds = Vec::with_capacity(read.len());
    let blocks = (segment.max_doc() as usize).div_ceil(64);
    for block in 0..blocks {
        let mut mask = alive.as_ref().map_or(u64::MAX, |a| a.get(block).copied().unwrap_or(0));
        for word in &read {
            mask &= word.bits(block);
            if mask == 0 {
                break;
            }
        }
        if mask == 0 {
            continue;
        }
        if let Some(threshold) = best.threshold() {
            // A document's bound is the sum over the words of the bound of its best alternative.
            // Where leaving out a word's strongest alternative already sinks the sum below the
            // threshold, only the documents that have that alternative can enter.
            bounds.clear();
            bounds.extend(read.iter().map(|word| word.bounds(block)));
            let most: f64 = bounds.iter().map(|(_, hi, _)| f64::from(*hi)).sum();
            let floor = threshold - MARGIN;
            if most <= floor {
                continue;
            }
            for (top, hi, lo) in &bounds {
                if most - f64::from(hi - lo) <= floor {
                    mask &= top;
                }
            }
            if mask == 0 {
                continue;
            }
        }
        let base = u32::try_from(block).unwrap_or(u32::MAX).saturating_mul(64);
        while mask != 0 {
            let doc = base + mask.trailing_zeros();
            mask &= mask - 1;
            best.push(f64::from(score(doc)), doc);
        }
    }
    #[expect(clippy::cast_possible_truncation, reason = "the keys are the f32 scores themselves")]
    Ok(best.into_sorted().into_iter().map(|(score, doc)| (score as Score, DocAddress::new(ord, doc))).collect())
}

/// The best `limit` suggestions for a single word (being typed when `typing`), without scoring
/// every match (a two-letter start matches a third of a large catalogue). Whole-word matches are
/// found by their best BM25 scores (tantivy skips the blocks that cannot make the top); every
/// other document that only starts a word the same way scores exactly [`SUGGEST_PREFIX`], so any
/// of them is as good as another and they are taken in index order. The result is a top `limit`
/// of the same scores as [`several_words`] gives.
fn one_word(searcher: &Searcher, fields: &Fields, word: &str, typing: bool, limit: usize) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let mut best: HashMap<DocAddress, Score> = HashMap::new();
    for (field, boost) in [(fields.name, SUGGEST_NAME), (fields.aka, SUGGEST_AKA)] {
        // Unboosted, so that tantivy's block pruning applies; the boost scales every score alike.
        let query = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
        for (score, address) in searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())? {
            let entry = best.entry(address).or_insert(0.0);
            *entry = entry.max(score * boost);
        }
    }
    if !typing {
        let mut top: Vec<(Score, DocAddress)> = best.into_iter().map(|(a, s)| (s, a)).collect();
        top.sort_by(by_score);
        top.truncate(limit);
        return Ok(top);
    }
    let prefix = FuzzyTermQuery::new_prefix(Term::from_field_text(fields.name, word), 0, false)
        .weight(EnableScoring::disabled_from_searcher(searcher))?;
    // Candidates whose name also starts a word with it score at least the prefix's score.
    let mut candidates: Vec<(DocAddress, Score)> = best.into_iter().collect();
    candidates.sort_by_key(|(address, _)| *address);
    let mut scorers: HashMap<u32, Box<dyn tantivy::query::Scorer>> = HashMap::new();
    for (address, score) in &mut candidates {
        if *score >= SUGGEST_PREFIX {
            continue;
        }
        let scorer = match scorers.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(prefix.scorer(searcher.segment_reader(address.segment_ord), 1.0)?),
        };
        if scorer.doc() <= address.doc_id && scorer.seek(address.doc_id) == address.doc_id {
            *score = SUGGEST_PREFIX;
        }
    }
    let mut top: Vec<(Score, DocAddress)> = candidates.iter().map(|(a, s)| (*s, *a)).collect();
    top.sort_by(by_score);
    let above = top.iter().filter(|(s, _)| *s > SUGGEST_PREFIX).count();
    if above < limit {
        // The rest of the places go to documents that score exactly the prefix's score.
        let taken: HashSet<DocAddress> = top.iter().map(|(_, a)| *a).collect();
        let mut ties: Vec<(Score, DocAddress)> = top.iter().filter(|(s, _)| *s == SUGGEST_PREFIX).copied().collect();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let mut scorer = prefix.scorer(segment, 1.0)?;
            let segment_ord = u32::try_from(ord).unwrap_or(u32::MAX);
            while ties.len() < limit - above && scorer.doc() != TERMINATED {
                let address = DocAddress::new(segment_ord, scorer.doc());
                if !taken.contains(&address) {
                    ties.push((SUGGEST_PREFIX, address));
                }
                scorer.advance();
            }
        }
        let below = top.iter().filter(|(s, _)| *s < SUGGEST_PREFIX).copied();
        top = top.iter().take(above).copied().chain(ties).chain(below).collect();
    }
    top.truncate(limit);
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{generated, platform, searcher, searcher_with_deletes};
    use super::*;

    fn rounded(v: &[(Score, DocAddress)]) -> Vec<i64> {
        v.iter().map(|(score, _)| (score * 1e4).round() as i64).collect()
    }

    /// Tables that keep no dense columns: suggestions run on tantivy's clauses (the reference).
    fn postings_only() -> Arc<DocTables> {
        Arc::new(DocTables::new(&[]))
    }

    fn scores(v: &[(Score, DocAddress)]) -> HashMap<DocAddress, i64> {
        v.iter().map(|(score, a)| (*a, (score * 1e4).round() as i64)).collect()
    }

    #[test]
    fn suggestions_complete_the_last_word_and_match_the_others_whole() {
        let mut vneid = platform(1, "Ứng dụng định danh điện tử", "x", "national", &[]);
        vneid.short_name = Some("VNeID".into());
        let rows = [
            vneid,
            platform(2, "Nền tảng địa chỉ số quốc gia", "x", "national", &[]),
            platform(3, "Bản đồ số", "x", "national", &[]),
            platform(4, "Địa điểm du lịch", "x", "national", &[]),
            platform(5, "Bảng tin điện tử", "x", "national", &[]),
        ];
        let (s, f) = searcher(&rows);
        let tables = Arc::new(DocTables::new(&[f.all, f.name, f.aka]));
        let ids = |text: &str| suggest(&s, &f, &tables, text, 8).unwrap().iter().map(|x| x.id).collect::<Vec<_>>();
        assert_eq!(ids("vne"), [1], "the start of a short name");
        assert_eq!(ids("dia chi s"), [2]);
        assert_eq!(ids("ban"), [3, 5], "the whole word first, then words that start with it");
        let mut both = ids("dia");
        both.sort_unstable();
        assert_eq!(both, [2, 4]);
        assert!(ids("di chi").is_empty(), "a finished word matches whole words only");
        assert!(ids("dia chi s ").is_empty(), "after a space the last word is finished too");
        assert_eq!(ids("dia chi so "), [2]);
        let mut typed = ids("ĐIỆN T");
        typed.sort_unstable();
        assert_eq!(typed, [1, 5], "capitals and diacritics as typed on a phone");
    }

    #[test]
    fn hostile_text_never_fails_a_suggestion() {
        let (s, f) = searcher(&[platform(1, "Nền tảng", "x", "national", &[])]);
        let tables = Arc::new(DocTables::new(&[f.all, f.name, f.aka]));
        let long = "ạ".repeat(10_000);
        for text in ["\"", "title:x", "(((", "AND OR NOT", "*", "~2", "\u{0}", "\u{202e}\u{200f}", long.as_str(), "   "] {
            assert!(suggest(&s, &f, &tables, text, 8).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn one_typed_word_gives_a_top_of_the_same_scores_as_the_general_query() {
        let mut rows = generated(3_000);
        for p in rows.iter_mut().filter(|p| p.id % 7 == 0) {
            p.name_en = Some("Digital health hub".into());
        }
        let (s, f) = searcher(&rows);
        let postings = postings_only();
        for word in ["n", "ng", "nen", "h", "ho", "hoc", "health", "digital", "d", "du", "cho", "zzz", "so"] {
            let words = [word.to_owned()];
            let score_of = scores(&several_words(&s, &f, &postings, &words, true, 100_000).unwrap());
            let finished = scores(&several_words(&s, &f, &postings, &words, false, 100_000).unwrap());
            for limit in [1, 8, 40] {
                for (typing, score_of) in [(true, &score_of), (false, &finished)] {
                    let fast = one_word(&s, &f, word, typing, limit).unwrap();
                    let general = several_words(&s, &f, &postings, &words, typing, limit).unwrap();
                    assert_eq!(rounded(&fast), rounded(&general), "{word} {limit} {typing}: the same scores in the same order");
                    for (score, address) in &fast {
                        assert_eq!(
                            score_of.get(address),
                            Some(&((score * 1e4).round() as i64)),
                            "{word} {typing}: a real match, its real score"
                        );
                    }
                    let unique: HashSet<_> = fast.iter().map(|(_, a)| *a).collect();
                    assert_eq!(unique.len(), fast.len(), "{word}: no document twice");
                }
            }
        }
    }

    #[test]
    fn several_words_on_dense_columns_find_and_score_what_tantivys_clauses_do() {
        let mut rows = generated(9_600);
        for p in &mut rows {
            if p.id % 7 == 0 {
                p.name_en = Some("Digital health hub".into());
            }
            if p.id % 101 == 0 {
                p.short_name = Some("VNeID".into());
            }
            // Some have one word in the name and the other in the other names, some the
            // reverse: a top then mixes documents without each word's best alternative.
            match p.id % 7 {
                1 => (p.short_name, p.name_en) = (Some("Digital".into()), Some("Health hub".into())),
                2 => (p.short_name, p.name_en) = (Some("Health".into()), Some("Digital hub".into())),
                _ => {}
            }
            // The other names hold the agency's: some of its words are in every document.
            p.agency_names = Some(["Sở Y tế Hà Nội", "Sở Giáo dục Huế", "Bộ Y tế"][(p.id % 3) as usize].into());
        }
        // A large segment, read on columns, and a small one, read with tantivy's clauses.
        let (s, f) = searcher_with_deletes(&rows, 9_000, |p| p.id % 11 == 0);
        assert_eq!(s.segment_readers().len(), 2);
        assert!(s.segment_reader(0).max_doc() >= MIN_SEGMENT_DOCS, "large enough for columns");
        assert!(s.segment_reader(1).max_doc() < MIN_SEGMENT_DOCS, "too small for columns");
        let tables = Arc::new(DocTables::new(&[f.all, f.name, f.aka]));
        let postings = postings_only();
        assert!(tables.get(s.segment_reader(0)).unwrap().dense().len() > 20, "words of the name and the other names get columns");
        let texts = [
            "nen tang s",
            "he thong quan ly h",
            "so suc khoe",
            "y te cho ng",
            "bo y t",
            "digital h",
            "digital health ",
            "digital health h",
            "hoc truc",
            "cho nguoi dan ",
            "ban do so va d",
            "thong minh cho",
            "dich vu c",
            "vneid ung d",
            "so y te ha n",
            "hue giao thong ",
            "zzz qua",
            "cong d",
        ];
        let mut found = 0;
        for text in texts {
            let words = Words::of(text).folded;
            let typing = !text.ends_with(' ');
            let all = several_words(&s, &f, &postings, &words, typing, 100_000).unwrap();
            let score_of = scores(&all);
            found += usize::from(!all.is_empty());
            for limit in [1, 8, 40, 100_000] {
                let fast = several_words(&s, &f, &tables, &words, typing, limit).unwrap();
                let general = several_words(&s, &f, &postings, &words, typing, limit).unwrap();
                assert_eq!(rounded(&fast), rounded(&general), "{text:?} {limit}: the same scores in the same order");
                for (score, address) in &fast {
                    // The reference skips deleted documents, so this also proves none is offered.
                    assert_eq!(score_of.get(address), Some(&((score * 1e4).round() as i64)), "{text:?}: a real match, its real score");
                }
                let unique: HashSet<_> = fast.iter().map(|(_, a)| *a).collect();
                assert_eq!(unique.len(), fast.len(), "{text:?}: no document twice");
                // The large segment alone, read on its columns: the reference's best of that segment.
                let read = Word::all(&s, &f, &words, typing).unwrap();
                if read.iter().all(|w| !w.whole.is_empty() || w.prefix.is_some()) {
                    let columns = on_columns(s.segment_reader(0), 0, &f, &tables, &read, limit).unwrap();
                    let first: Vec<_> = all.iter().filter(|(_, a)| a.segment_ord == 0).take(limit).copied().collect();
                    assert_eq!(rounded(&columns), rounded(&first), "{text:?} {limit}: the large segment on its columns");
                }
            }
        }
        assert!(found >= texts.len() - 2, "most texts match something");
    }
}
