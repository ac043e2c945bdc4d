//! The second stage of the ranking: boosts added to the best candidates of the first stage.
//!
//! The first stage scores every match with plain BM25 on the `all` field; the boosts (the words in
//! the name, the summary, the other names, with the same diacritics, as a phrase) are looked up
//! for the candidates only. Each boost opens one posting list per word and segment and seeks it to
//! the candidates in document order, and is scored like tantivy's own term and phrase queries
//! (BM25 of the term or phrase frequency). Unlike a phrase query's scorer, nothing here searches
//! ahead for the next match: a phrase that occurs in no candidate costs a few seeks.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings as _, SegmentPostings};
use tantivy::query::Bm25Weight;
use tantivy::schema::{IndexRecordOption, Term};
use tantivy::{DocAddress, DocId, DocSet as _, Score, Searcher, SegmentReader};

/// One addition to the score: a word, or words in a row, in one field.
pub struct Boost {
    /// One term, or the terms of a phrase in order (all in the same field).
    terms: Vec<Term>,
    boost: Score,
}

impl Boost {
    /// The word `term` counts `boost` times its BM25 score.
    pub fn term(term: Term, boost: Score) -> Self {
        Self { terms: vec![term], boost }
    }

    /// The words `terms`, in this order and next to each other, count `boost` times the BM25
    /// score of the phrase's frequency.
    pub fn phrase(terms: Vec<Term>, boost: Score) -> Self {
        Self { terms, boost }
    }
}

/// Adds every boost to the scores of `candidates` and sorts them best first (ties: index order).
pub fn rerank(searcher: &Searcher, boosts: &[Boost], mut scored: Vec<(Score, DocAddress)>) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    scored.sort_by_key(|(_, a)| (a.segment_ord, a.doc_id));
    for boost in boosts.iter().filter(|b| !b.terms.is_empty()) {
        let weight = Bm25Weight::for_terms(searcher, &boost.terms)?.boost_by(boost.boost);
        let mut segment: Option<(u32, Option<SegmentBoost>)> = None;
        for (score, address) in &mut scored {
            if segment.as_ref().is_none_or(|(ord, _)| *ord != address.segment_ord) {
                segment = Some((address.segment_ord, SegmentBoost::open(searcher.segment_reader(address.segment_ord), &boost.terms)?));
            }
            if let Some((_, Some(s))) = segment.as_mut()
                && let Some((fieldnorm, freq)) = s.frequency(address.doc_id)
            {
                *score += weight.score(fieldnorm, freq);
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(scored)
}

/// A boost's posting lists in one segment.
struct SegmentBoost {
    postings: Vec<SegmentPostings>,
    fieldnorms: FieldNormReader,
    positions: Vec<Vec<u32>>,
}

impl SegmentBoost {
    /// `None` when a word is not in the segment (the boost matches nothing there).
    fn open(segment: &SegmentReader, terms: &[Term]) -> tantivy::Result<Option<Self>> {
        let Some(field) = terms.first().map(Term::field) else { return Ok(None) };
        let inverted = segment.inverted_index(field)?;
        let record = if terms.len() > 1 { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
        let mut postings = Vec::with_capacity(terms.len());
        for term in terms {
            match inverted.read_postings(term, record)? {
                Some(p) => postings.push(p),
                None => return Ok(None),
            }
        }
        let fieldnorms = super::dense::fieldnorms(segment, field)?;
        Ok(Some(Self { positions: vec![Vec::new(); postings.len()], postings, fieldnorms }))
    }

    /// The fieldnorm id and the term (or phrase) frequency in `doc`, if it matches. Documents
    /// must be asked in increasing order.
    fn frequency(&mut self, doc: DocId) -> Option<(u8, u32)> {
        for p in &mut self.postings {
            if p.doc() < doc {
                p.seek(doc);
            }
            if p.doc() != doc {
                return None;
            }
        }
        let freq = if self.postings.len() == 1 { self.postings[0].term_freq() } else { self.phrase_count() };
        (freq > 0).then(|| (self.fieldnorms.fieldnorm_id(doc), freq))
    }

    /// How many times the words occur in a row in the current document.
    fn phrase_count(&mut self) -> u32 {
        for (p, positions) in self.postings.iter_mut().zip(&mut self.positions) {
            positions.clear();
            p.positions(positions);
        }
        let Some((first, rest)) = self.positions.split_first() else { return 0 };
        let follows = |start: u32| {
            rest.iter().enumerate().all(|(i, later)| start.checked_add(i as u32 + 1).is_some_and(|at| later.binary_search(&at).is_ok()))
        };
        u32::try_from(first.iter().filter(|start| follows(**start)).count()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// The boosts score exactly as tantivy's term and phrase queries would.
    #[test]
    fn boosts_score_like_term_and_phrase_queries() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for text in ["a b c", "b a c a b", "c c c", "a x b a b a b", "b"] {
            let mut doc = TantivyDocument::default();
            doc.add_text(body, text);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let [a, b] = ["a", "b"].map(|w| Term::from_field_text(body, w));
        let expected: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Should, Box::new(BoostQuery::new(Box::new(TermQuery::new(a.clone(), IndexRecordOption::WithFreqs)), 2.0))),
            (Occur::Should, Box::new(BoostQuery::new(Box::new(PhraseQuery::new(vec![a.clone(), b.clone()])), 3.0))),
        ]));
        let mut want = searcher.search(&expected, &TopDocs::with_limit(10).order_by_score()).unwrap();
        let all: Vec<(Score, DocAddress)> = (0..5).map(|d| (0.0, DocAddress::new(0, d))).collect();
        let mut got = rerank(&searcher, &[Boost::term(a.clone(), 2.0), Boost::phrase(vec![a, b], 3.0)], all).unwrap();
        got.retain(|(s, _)| *s > 0.0);
        want.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
        assert_eq!(got.len(), want.len());
        for ((gs, ga), (ws, wa)) in got.iter().zip(&want) {
            assert_eq!(ga, wa);
            assert!((gs - ws).abs() < 1e-5, "{gs} vs {ws}");
        }
    }
}
