//! Frequent words kept as dense columns: for each word of the `all` field that occurs in at least
//! a sixteenth of a large segment's documents, one byte per document holds its frequency there.
//!
//! Vietnamese is written in syllables, and many are everywhere (`nen`, `tang`, `thong`, `dich`,
//! `vu`, ...). Matching a query means intersecting one posting list per word; for a frequent word,
//! each step of the intersection is a seek in a long compressed list. With the column, it is one
//! array read, and the BM25 score is computed from the same frequency and field norm as tantivy's
//! term scorer, so scores are unchanged. The columns live in the segment tables
//! (see [`tables`](super::tables)), built when the reader reloads.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::Postings as _;
use tantivy::query::{Bm25Weight, EnableScoring, Explanation, Query, Scorer, TermQuery, Weight};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED};

use super::tables::DocTables;

/// Segments smaller than this keep posting lists only (their seeks are cheap anyway).
const MIN_SEGMENT_DOCS: u32 = 8_192;
/// A word is frequent when at least this share of the segment's documents has it (1 / N).
const FREQUENT_SHARE: u32 = 16;
/// Memory bound of a segment's columns (bytes); the most frequent words come first.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The dense columns of one segment, by term bytes.
#[derive(Default)]
pub struct DenseColumns {
    columns: HashMap<Vec<u8>, Column>,
}

/// One word's frequency per document (saturated at 255) and its document frequency.
#[derive(Clone)]
struct Column {
    freqs: Arc<[u8]>,
    doc_freq: u32,
}

impl DenseColumns {
    /// Decodes the frequent words of `field` in `segment`.
    pub fn build(segment: &SegmentReader, field: Field) -> tantivy::Result<Self> {
        let max_doc = segment.max_doc();
        if max_doc < MIN_SEGMENT_DOCS {
            return Ok(Self::default());
        }
        let inverted = segment.inverted_index(field)?;
        let mut frequent = Vec::new();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            if stream.value().doc_freq >= max_doc / FREQUENT_SHARE {
                frequent.push((stream.key().to_vec(), stream.value().clone()));
            }
        }
        frequent.sort_by_key(|(_, info)| std::cmp::Reverse(info.doc_freq));
        frequent.truncate(MAX_BYTES / max_doc as usize);
        let mut columns = HashMap::with_capacity(frequent.len());
        for (key, info) in frequent {
            let mut freqs = vec![0u8; max_doc as usize];
            let mut postings = inverted.read_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
            while postings.doc() != TERMINATED {
                if let Some(slot) = freqs.get_mut(postings.doc() as usize) {
                    *slot = u8::try_from(postings.term_freq()).unwrap_or(u8::MAX);
                }
                postings.advance();
            }
            columns.insert(key, Column { freqs: freqs.into(), doc_freq: info.doc_freq });
        }
        Ok(Self { columns })
    }

    /// How many words have a column.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    fn get(&self, term: &Term) -> Option<&Column> {
        self.columns.get(term.serialized_value_bytes())
    }
}

/// A word that must match: from its dense column where the segment has one, otherwise from its
/// posting list (a plain term query). Scores as a term query would.
#[derive(Clone)]
pub struct WordQuery {
    term: Term,
    tables: Arc<DocTables>,
}

impl std::fmt::Debug for WordQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordQuery").field("term", &self.term).finish_non_exhaustive()
    }
}

impl WordQuery {
    /// The word `term` of the `all` field.
    pub fn new(term: Term, tables: Arc<DocTables>) -> Self {
        Self { term, tables }
    }
}

impl Query for WordQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let bm25 = match scoring {
            EnableScoring::Enabled { statistics_provider, .. } => {
                Some(Bm25Weight::for_terms(statistics_provider, std::slice::from_ref(&self.term))?)
            }
            EnableScoring::Disabled { .. } => None,
        };
        let postings = TermQuery::new(self.term.clone(), IndexRecordOption::WithFreqs).weight(scoring)?;
        Ok(Box::new(WordWeight { term: self.term.clone(), tables: self.tables.clone(), bm25, postings }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

struct WordWeight {
    term: Term,
    tables: Arc<DocTables>,
    bm25: Option<Bm25Weight>,
    postings: Box<dyn Weight>,
}

impl Weight for WordWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let table = self.tables.get(reader)?;
        let Some(column) = table.dense().get(&self.term) else { return self.postings.scorer(reader, boost) };
        let fieldnorms = match reader.fieldnorms_readers().get_field(self.term.field())? {
            Some(f) => f,
            None => FieldNormReader::constant(reader.max_doc(), 1),
        };
        let mut scorer = DenseScorer { column: column.clone(), fieldnorms, bm25: self.bm25.as_ref().map(|w| w.boost_by(boost)), doc: 0 };
        if scorer.column.freqs.first().is_none_or(|f| *f == 0) {
            scorer.advance();
        }
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.postings.explain(reader, doc)
    }
}

/// Walks a dense column: the next document is the next non-zero byte.
struct DenseScorer {
    column: Column,
    fieldnorms: FieldNormReader,
    bm25: Option<Bm25Weight>,
    doc: DocId,
}

impl DocSet for DenseScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let from = self.doc as usize + 1;
        self.doc = match self.column.freqs.get(from..).and_then(|rest| rest.iter().position(|f| *f != 0)) {
            Some(offset) => DocId::try_from(from + offset).unwrap_or(TERMINATED),
            None => TERMINATED,
        };
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target >= TERMINATED || target as usize >= self.column.freqs.len() {
            self.doc = TERMINATED;
        } else if self.column.freqs.get(target as usize).is_some_and(|f| *f != 0) {
            self.doc = target;
        } else {
            self.doc = target;
            self.advance();
        }
        self.doc
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        // One read answers whether the target is in the set; no scan for the next one.
        if target < TERMINATED && self.column.freqs.get(target as usize).is_some_and(|f| *f != 0) {
            self.doc = target;
            SeekDangerResult::Found
        } else if target >= TERMINATED || target as usize + 1 >= self.column.freqs.len() {
            self.doc = TERMINATED;
            SeekDangerResult::SeekLowerBound(TERMINATED)
        } else {
            self.doc = target + 1;
            SeekDangerResult::SeekLowerBound(target + 1)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.column.doc_freq
    }
}

impl Scorer for DenseScorer {
    fn score(&mut self) -> Score {
        let freq = self.column.freqs.get(self.doc as usize).copied().unwrap_or(0);
        self.bm25.as_ref().map_or(1.0, |w| w.score(self.fieldnorms.fieldnorm_id(self.doc), u32::from(freq)))
    }
}
