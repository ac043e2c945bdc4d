//! Frequent words kept as dense columns: for each word of a chosen field (`all` for the search,
//! `name` and `aka` for the type-ahead) that occurs in at least a sixteenth of a large segment's
//! documents, one byte per document holds its frequency there.
//!
//! Vietnamese is written in syllables, and many are everywhere (`nen`, `tang`, `thong`, `dich`,
//! `vu`, ...). Matching a query means intersecting one posting list per word; for a frequent word,
//! each step of the intersection is a seek in a long compressed list. With the column, it is one
//! array read, and the BM25 score is computed from the same frequency and field norm as tantivy's
//! term scorer, so scores are unchanged. The columns live in the segment tables
//! (see [`tables`](super::tables)), built when the reader reloads.
//!
//! The last word typed matches as the start of a word: [`PrefixQuery`] gathers the documents of
//! every word it starts (`tu` → `tu`, `tuyen`, `tuoi`, ...) into one bit set, taking the dense
//! columns' bits a machine word at a time instead of decoding their long posting lists.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings as _, SegmentPostings};
use tantivy::query::{Bm25Weight, ConstScorer, EnableScoring, Explanation, Query, Scorer, TermQuery, Weight};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED};

use super::tables::DocTables;

/// Segments smaller than this keep posting lists only (their seeks are cheap anyway).
pub const MIN_SEGMENT_DOCS: u32 = 8_192;
/// A word is frequent when at least this share of the segment's documents has it (1 / N).
const FREQUENT_SHARE: u32 = 16;
/// Memory bound of a segment's columns (bytes, about 1.1 per document and word); the most
/// frequent words come first.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The field norms of `field` in `segment` (all 1 when the field keeps none), as tantivy's term
/// scorer reads them.
pub fn fieldnorms(segment: &SegmentReader, field: Field) -> tantivy::Result<FieldNormReader> {
    Ok(segment.fieldnorms_readers().get_field(field)?.unwrap_or_else(|| FieldNormReader::constant(segment.max_doc(), 1)))
}

/// The dense columns of one segment, by field and term bytes.
#[derive(Default)]
pub struct DenseColumns {
    columns: HashMap<Field, HashMap<Vec<u8>, Column>>,
}

/// A set of documents, one bit each: small, walked and sought 64 documents at a time.
#[derive(Clone)]
pub struct Bits {
    words: Arc<[u64]>,
    max_doc: DocId,
    len: u32,
}

impl Bits {
    fn new(words: Vec<u64>, max_doc: DocId) -> Self {
        let len = words.iter().map(|w| w.count_ones()).sum();
        Self { words: words.into(), max_doc, len }
    }

    /// The documents `query` matches in `segment` (its scores ignored).
    pub fn of_query(query: &dyn Query, segment: &SegmentReader) -> tantivy::Result<Self> {
        let max_doc = segment.max_doc();
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        let weight = query.weight(EnableScoring::disabled_from_schema(segment.schema()))?;
        weight.for_each_no_score(segment, &mut |docs| {
            for doc in docs {
                if let Some(word) = words.get_mut((doc / 64) as usize) {
                    *word |= 1 << (doc % 64);
                }
            }
        })?;
        Ok(Self::new(words, max_doc))
    }

    /// Whether `doc` is in the set.
    pub fn contains(&self, doc: DocId) -> bool {
        self.words.get((doc / 64) as usize).is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    /// The set's words: bit `d % 64` of word `d / 64` stands for document `d`.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The first document at or after `from`, or `TERMINATED`.
    fn next_from(&self, from: DocId) -> DocId {
        if from >= self.max_doc {
            return TERMINATED;
        }
        let mut index = (from / 64) as usize;
        let mut word = self.words.get(index).copied().unwrap_or(0) & (u64::MAX << (from % 64));
        loop {
            if word != 0 {
                let doc = index as u64 * 64 + u64::from(word.trailing_zeros());
                return DocId::try_from(doc).ok().filter(|d| *d < self.max_doc).unwrap_or(TERMINATED);
            }
            index += 1;
            match self.words.get(index) {
                Some(w) => word = *w,
                None => return TERMINATED,
            }
        }
    }
}

/// Walks a [`Bits`].
struct BitsDocSet {
    bits: Bits,
    doc: DocId,
}

impl BitsDocSet {
    fn new(bits: Bits) -> Self {
        let doc = bits.next_from(0);
        Self { bits, doc }
    }
}

impl DocSet for BitsDocSet {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.bits.next_from(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            self.doc = self.bits.next_from(target);
        }
        self.doc
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        // One bit answers whether the target is in the set; no search for the next one.
        if target < self.bits.max_doc && self.bits.contains(target) {
            self.doc = target;
            SeekDangerResult::Found
        } else if target.saturating_add(1) >= self.bits.max_doc {
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
        self.bits.len
    }
}

/// One frequent word: its documents, its frequency in each (saturated at 255, read only to
/// score a match), and per block of 64 documents the largest frequency and the smallest field norm
/// id among the documents that have it (a bound on the word's BM25 score in the block).
#[derive(Clone)]
pub struct Column {
    docs: Bits,
    freqs: Arc<[u8]>,
    bounds: Arc<[(u8, u8)]>,
}

impl Column {
    /// The word's documents.
    pub fn docs(&self) -> &Bits {
        &self.docs
    }

    /// The word's frequency in `doc` (0 when absent).
    pub fn freq(&self, doc: DocId) -> u8 {
        self.freqs.get(doc as usize).copied().unwrap_or(0)
    }

    /// The largest BM25 score `weight` gives the word in block `block` (documents
    /// `64 * block .. 64 * block + 64`): the score grows with the frequency and falls with the
    /// field norm, so the block's largest frequency at its smallest norm bounds every document's.
    pub fn block_bound(&self, block: usize, weight: &Bm25Weight) -> Score {
        self.bounds.get(block).map_or(0.0, |(freq, norm)| if *freq == 0 { 0.0 } else { weight.score(*norm, u32::from(*freq)) })
    }

    /// Roughly the memory the column holds, in bytes.
    fn approx_bytes(&self) -> usize {
        self.freqs.len() + self.docs.words.len() * 8 + self.bounds.len() * 2
    }

    /// Decodes one word's posting list (none: the word is not in the segment).
    fn read(postings: Option<SegmentPostings>, fieldnorms: &FieldNormReader, max_doc: DocId) -> Self {
        let blocks = (max_doc as usize).div_ceil(64);
        let (mut freqs, mut bits, mut bounds) = (vec![0u8; max_doc as usize], vec![0u64; blocks], vec![(0u8, u8::MAX); blocks]);
        let Some(mut postings) = postings else {
            return Self { docs: Bits::new(bits, max_doc), freqs: freqs.into(), bounds: bounds.into() };
        };
        while postings.doc() != TERMINATED {
            let doc = postings.doc();
            let block = (doc / 64) as usize;
            if let (Some(slot), Some(word), Some(bound)) = (freqs.get_mut(doc as usize), bits.get_mut(block), bounds.get_mut(block)) {
                let freq = u8::try_from(postings.term_freq()).unwrap_or(u8::MAX).max(1);
                *slot = freq;
                *word |= 1 << (doc % 64);
                *bound = (bound.0.max(freq), bound.1.min(fieldnorms.fieldnorm_id(doc)));
            }
            postings.advance();
        }
        Self { docs: Bits::new(bits, max_doc), freqs: freqs.into(), bounds: bounds.into() }
    }

    /// The column of a word that has none in the segment's tables (a rarer one), decoded from its
    /// posting list for one query; an empty column when the segment lacks the word.
    pub fn for_query(segment: &SegmentReader, term: &Term) -> tantivy::Result<Self> {
        let max_doc = segment.max_doc();
        let fieldnorms = fieldnorms(segment, term.field())?;
        let postings = segment.inverted_index(term.field())?.read_postings(term, IndexRecordOption::WithFreqs)?;
        Ok(Self::read(postings, &fieldnorms, max_doc))
    }
}

impl DenseColumns {
    /// Decodes the frequent words of each of `fields` in `segment` (at most [`MAX_BYTES`] per field).
    pub fn build(segment: &SegmentReader, fields: &[Field]) -> tantivy::Result<Self> {
        let mut out = Self::default();
        if segment.max_doc() < MIN_SEGMENT_DOCS {
            return Ok(out);
        }
        for field in fields {
            let columns = Self::build_field(segment, *field)?;
            let bytes: usize = columns.values().map(Column::approx_bytes).sum();
            let name = segment.schema().get_field_name(*field);
            tracing::debug!(
                segment.docs = segment.max_doc(),
                field = name,
                columns = columns.len(),
                columns.bytes = bytes,
                "dense columns built"
            );
            out.columns.insert(*field, columns);
        }
        Ok(out)
    }

    fn build_field(segment: &SegmentReader, field: Field) -> tantivy::Result<HashMap<Vec<u8>, Column>> {
        let max_doc = segment.max_doc();
        let inverted = segment.inverted_index(field)?;
        let mut frequent = Vec::new();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            if stream.value().doc_freq >= max_doc / FREQUENT_SHARE {
                frequent.push((stream.key().to_vec(), stream.value().clone()));
            }
        }
        frequent.sort_by_key(|(_, info)| std::cmp::Reverse(info.doc_freq));
        frequent.truncate(MAX_BYTES / (max_doc as usize + max_doc as usize / 8));
        let fieldnorms = fieldnorms(segment, field)?;
        let mut columns = HashMap::with_capacity(frequent.len());
        for (key, info) in frequent {
            let postings = inverted.read_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
            columns.insert(key, Column::read(Some(postings), &fieldnorms, max_doc));
        }
        Ok(columns)
    }

    /// How many words have a column, in all fields.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.columns.values().map(HashMap::len).sum()
    }

    /// The column of `term`, if it is frequent in the segment.
    pub fn get(&self, term: &Term) -> Option<&Column> {
        self.get_bytes(term.field(), term.serialized_value_bytes())
    }

    fn get_bytes(&self, field: Field, key: &[u8]) -> Option<&Column> {
        self.columns.get(&field)?.get(key)
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
        let fieldnorms = fieldnorms(reader, self.term.field())?;
        let bm25 = self.bm25.as_ref().map(|w| w.boost_by(boost));
        Ok(Box::new(DenseScorer { docs: BitsDocSet::new(column.docs.clone()), freqs: column.freqs.clone(), fieldnorms, bm25 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.postings.explain(reader, doc)
    }
}

/// A word's documents from its dense column, scored like a term query.
struct DenseScorer {
    docs: BitsDocSet,
    freqs: Arc<[u8]>,
    fieldnorms: FieldNormReader,
    bm25: Option<Bm25Weight>,
}

impl DocSet for DenseScorer {
    fn advance(&mut self) -> DocId {
        self.docs.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.docs.seek(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        self.docs.seek_danger(target)
    }

    fn doc(&self) -> DocId {
        self.docs.doc()
    }

    fn size_hint(&self) -> u32 {
        self.docs.size_hint()
    }
}

impl Scorer for DenseScorer {
    fn score(&mut self) -> Score {
        let doc = self.docs.doc();
        let freq = self.freqs.get(doc as usize).copied().unwrap_or(0);
        self.bm25.as_ref().map_or(1.0, |w| w.score(self.fieldnorms.fieldnorm_id(doc), u32::from(freq)))
    }
}

/// Every word of a field that starts with `prefix`, as one constant-score clause (like tantivy's
/// prefix automaton query).
#[derive(Clone)]
pub struct PrefixQuery {
    field: Field,
    prefix: String,
    tables: Arc<DocTables>,
}

impl std::fmt::Debug for PrefixQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefixQuery").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl PrefixQuery {
    /// The words of `field` that start with `prefix`.
    pub fn new(field: Field, prefix: &str, tables: Arc<DocTables>) -> Self {
        Self { field, prefix: prefix.to_owned(), tables }
    }
}

impl Query for PrefixQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl PrefixQuery {
    /// The documents of every word starting with the prefix in one segment.
    pub fn docs(&self, reader: &SegmentReader) -> tantivy::Result<Bits> {
        let table = self.tables.get(reader)?;
        let inverted = reader.inverted_index(self.field)?;
        let max_doc = reader.max_doc();
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        let prefix = self.prefix.as_bytes();
        let mut stream = inverted.terms().range().ge(prefix).into_stream()?;
        while stream.advance() && stream.key().starts_with(prefix) {
            if let Some(column) = table.dense().get_bytes(self.field, stream.key()) {
                for (word, bits) in words.iter_mut().zip(column.docs.words.iter()) {
                    *word |= bits;
                }
                continue;
            }
            let mut postings = inverted.read_block_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
            while !postings.docs().is_empty() {
                for doc in postings.docs() {
                    if let Some(word) = words.get_mut((doc / 64) as usize) {
                        *word |= 1 << (doc % 64);
                    }
                }
                postings.advance();
            }
        }
        Ok(Bits::new(words, max_doc))
    }
}

impl Weight for PrefixQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(BitsDocSet::new(self.docs(reader)?), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader)?.contains(doc) {
            Ok(Explanation::new("a word starting with the prefix", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} has no word starting with {}", self.prefix)))
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::FuzzyTermQuery;
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// The prefix query finds what tantivy's prefix automaton finds, with and without dense columns.
    #[test]
    fn prefix_query_matches_like_the_prefix_automaton() {
        let (schema, fields) = super::super::schema::Fields::build();
        let body = fields.all;
        let index = Index::create_in_ram(schema);
        super::super::schema::register(&index);
        let mut writer = index.writer_with_num_threads(1, 50_000_000).unwrap();
        let words = ["tu", "tuyen", "tuoi", "tin", "tinh", "so", "song", "soat", "ba", "ban"];
        for i in 0..10_000usize {
            let text: Vec<&str> = (0..3).map(|k| words[(i * (k + 3) + k * 7 + i / 13) % words.len()]).collect();
            let mut doc = TantivyDocument::default();
            doc.add_text(body, text.join(" "));
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let dense = Arc::new(DocTables::new(&[body]));
        assert!(dense.get(searcher.segment_reader(0)).unwrap().dense().len() > 3, "frequent words get columns");
        for prefix in ["tu", "ti", "tinh", "s", "so", "b", "x", "tuyenx"] {
            let automaton = FuzzyTermQuery::new_prefix(Term::from_field_text(body, prefix), 0, false);
            let want = searcher.search(&automaton, &DocSetCollector).unwrap();
            for tables in [dense.clone(), Arc::new(DocTables::new(&[]))] {
                let got = searcher.search(&PrefixQuery::new(body, prefix, tables), &DocSetCollector).unwrap();
                assert_eq!(got, want, "{prefix}");
            }
        }
    }
}
