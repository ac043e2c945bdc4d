//! The first pass for queries whose every word is a bit set in a segment: frequent words (dense
//! columns) and the prefix of the last word. Short queries of common words match most of the
//! catalogue (`nen tang`, `dich vu`), and walking their matches one document at a time is the
//! slowest thing search does.
//!
//! Here the matches of a block of 64 documents are the AND of the words' bits. When only the
//! total is asked for, a block is counted with one instruction; a document is scored only when its
//! block could hold a score better than the best kept so far (the bound is the sum of each word's
//! largest BM25 score in the block, from its largest frequency and smallest field norm there).
//! Scores are the same sums of the same BM25 terms as the general path's, so results are equal.

use tantivy::collector::SegmentCollector as _;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::Bm25Weight;
use tantivy::schema::Term;
use tantivy::{DocId, Score, SegmentReader};

use super::collect::CatalogueSegment;
use super::dense::{Bits, Column, PrefixQuery};
use super::query::SearchSort;

/// One required word of a query, as the fast path reads it.
pub enum Part {
    /// A whole word of the `all` field and its BM25 weight.
    Word(Term, Bm25Weight),
    /// The start of a word: a constant score of 1, as the general path's prefix clause.
    Prefix(PrefixQuery),
}

/// Runs the first pass of one segment into `child` when every word is a bit set there and returns
/// true; returns false, having done nothing, otherwise.
pub fn collect(reader: &SegmentReader, parts: &[Part], sort: SearchSort, child: &mut CatalogueSegment) -> tantivy::Result<bool> {
    let table = child.table().clone();
    let mut words: Vec<(&Column, &Bm25Weight)> = Vec::new();
    let mut prefixes: Vec<Bits> = Vec::new();
    let mut field = None;
    for part in parts {
        match part {
            Part::Word(term, weight) => match table.dense().get(term) {
                Some(column) => {
                    words.push((column, weight));
                    field = Some(term.field());
                }
                None => return Ok(false),
            },
            Part::Prefix(query) => prefixes.push(query.docs(reader)?),
        }
    }
    if parts.is_empty() {
        return Ok(false);
    }
    let Some(section) = child.section() else { return Ok(true) };
    let fieldnorms = match field.map(|f| reader.fieldnorms_readers().get_field(f)).transpose()?.flatten() {
        Some(reader) => reader,
        None => FieldNormReader::constant(reader.max_doc(), 1),
    };
    let alive = reader.alive_bitset();
    let constant = prefixes.len() as Score;
    let scoring = sort == SearchSort::Relevance;
    let only_total = child.counts_only_the_total() && alive.is_none();
    for (block, section_word) in table.section_words(section).iter().enumerate() {
        let mut mask = *section_word;
        for (column, _) in &words {
            mask &= column.docs().words().get(block).copied().unwrap_or(0);
        }
        for prefix in &prefixes {
            mask &= prefix.words().get(block).copied().unwrap_or(0);
        }
        if mask == 0 {
            continue;
        }
        let may_enter = !scoring
            || child.threshold().is_none_or(|t| {
                let bound = words.iter().fold(constant, |sum, (column, weight)| sum + column.block_bound(block, weight));
                f64::from(bound) > t
            });
        if only_total && !may_enter {
            child.add_to_total(mask.count_ones() as usize);
            continue;
        }
        let base = u32::try_from(block).unwrap_or(u32::MAX).saturating_mul(64);
        while mask != 0 {
            let doc: DocId = base + mask.trailing_zeros();
            mask &= mask - 1;
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            if !may_enter {
                child.count(doc);
            } else if scoring {
                let norm = fieldnorms.fieldnorm_id(doc);
                let score = words.iter().fold(constant, |sum, (column, weight)| sum + weight.score(norm, u32::from(column.freq(doc))));
                if only_total { child.offer(doc, score) } else { child.collect(doc, score) }
            } else {
                child.collect(doc, 0.0);
            }
        }
    }
    Ok(true)
}
