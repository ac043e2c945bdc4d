//! The first pass for queries whose every word is a bit set in a segment: frequent words (dense
//! columns), the prefix of the last word, and words allowed one typo (their neighbours'
//! documents). Short queries of common words match most of the catalogue (`nen tang`, `dich vu`),
//! and walking their matches one document at a time is the slowest thing search does.
//!
//! Here the matches of a block of 64 documents are the AND of the words' bits (and of the
//! documents not deleted). When only the total is asked for, a block is counted with one
//! instruction; with facets or filters, large segments count a block with one AND and popcount per
//! facet value (the segment tables keep every value as a bit set). A document is scored only when
//! its block could hold a score better than the best kept so far (the bound is the sum of each
//! word's largest BM25 score in the block, from its largest frequency and smallest field norm
//! there). Scores are the same sums of the same BM25 terms as the general path's, so results are
//! equal.
//!
//! The wider retry that accepts all words but one (see `query::Mode::Relaxed`) runs here too: a
//! block's matches are then the documents missing at most one word's bit, and a document scores
//! the words it has.

use std::borrow::Cow;

use tantivy::collector::SegmentCollector as _;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{Bm25Weight, FuzzyTermQuery};
use tantivy::schema::Term;
use tantivy::{DocId, Score, SegmentReader};

use super::collect::{CatalogueSegment, FACETS};
use super::dense::{Bits, Column, MIN_SEGMENT_DOCS, PrefixQuery, fieldnorms};
use super::query::SearchSort;
use super::tables::{DocTables, SegmentTable};

/// One required word of a query, as the fast path reads it.
pub enum Part {
    /// A whole word of the `all` field and its BM25 weight.
    Word(Term, Bm25Weight),
    /// The start of a word: a constant score of 1, as the general path's prefix clause.
    Prefix(PrefixQuery),
    /// A word with one typo allowed: a constant score of 1, as tantivy's fuzzy query gives.
    Typo(FuzzyTermQuery),
}

/// Requiring every word, a word without a dense column is decoded for the query when at least
/// this share of the segment's documents (1 / N) has it; rarer ones leave the segment to tantivy.
const DECODE_SHARE: u32 = 256;

/// Runs the first pass of one segment into `child` when every word is a bit set there and returns
/// true; returns false, having done nothing, otherwise (always with tables that keep no dense
/// columns: the tests' reference). With `all_but_one`, a document may miss one of the words.
pub fn collect(
    reader: &SegmentReader,
    tables: &DocTables,
    parts: &[Part],
    all_but_one: bool,
    sort: SearchSort,
    child: &mut CatalogueSegment,
) -> tantivy::Result<bool> {
    if !tables.keeps_columns() {
        return Ok(false);
    }
    let table = child.table().clone();
    let mut words: Vec<(Cow<'_, Column>, &Bm25Weight)> = Vec::new();
    let mut prefixes: Vec<Bits> = Vec::new();
    let mut field = None;
    // Whole words first: when one has no column, nothing else is gathered in vain.
    for part in parts {
        if let Part::Word(term, weight) = part {
            let column = match table.dense().get(term) {
                Some(column) => Cow::Borrowed(column),
                // Accepting all words but one, tantivy walks every word's whole list: decoding
                // a rarer word (under a sixteenth of the documents) costs far less. Requiring
                // every word, tantivy's intersection scores each match of the rarest one without
                // a bound; a word in a few hundred documents or more is worth decoding too.
                None if reader.max_doc() >= MIN_SEGMENT_DOCS
                    && (all_but_one || reader.inverted_index(term.field())?.doc_freq(term)? >= reader.max_doc() / DECODE_SHARE) =>
                {
                    Cow::Owned(Column::for_query(reader, term)?)
                }
                None => return Ok(false),
            };
            words.push((column, weight));
            field = Some(term.field());
        }
    }
    for part in parts {
        match part {
            Part::Word(..) => {}
            Part::Prefix(query) => prefixes.push(query.docs(reader)?),
            Part::Typo(query) => prefixes.push(Bits::of_query(query, reader)?),
        }
    }
    if parts.is_empty() {
        return Ok(false);
    }
    let Some(section) = child.section() else { return Ok(true) };
    let fieldnorms = match field {
        Some(field) => fieldnorms(reader, field)?,
        None => FieldNormReader::constant(reader.max_doc(), 1),
    };
    let alive = tables.alive_words(reader);
    let constant = prefixes.len() as Score;
    let scoring = sort == SearchSort::Relevance;
    let only_total = child.counts_only_the_total();
    let selected = child.selected();
    let by_planes = table.has_planes() && !only_total;
    let score = |doc: DocId| {
        let norm = fieldnorms.fieldnorm_id(doc);
        // A word missing from the document adds nothing (a frequency of 0 scores 0).
        let constant = if all_but_one { prefixes.iter().filter(|p| p.contains(doc)).count() as Score } else { constant };
        words.iter().fold(constant, |sum, (column, weight)| sum + weight.score(norm, u32::from(column.freq(doc))))
    };
    for (block, section_word) in table.section_words(section).iter().enumerate() {
        let mut mask = *section_word & alive.as_ref().map_or(u64::MAX, |a| a.get(block).copied().unwrap_or(0));
        let bits = words.iter().map(|(column, _)| column.docs()).chain(&prefixes).map(|b| b.words().get(block).copied().unwrap_or(0));
        mask &= if all_but_one { missing_at_most_one(bits) } else { bits.fold(u64::MAX, |all, b| all & b) };
        if mask == 0 {
            continue;
        }
        let may_enter = !scoring
            || child.threshold().is_none_or(|t| {
                let bound = words.iter().fold(constant, |sum, (column, weight)| sum + column.block_bound(block, weight));
                f64::from(bound) > t
            });
        let base = u32::try_from(block).unwrap_or(u32::MAX).saturating_mul(64);
        let docs = |mut set: u64| {
            std::iter::from_fn(move || {
                (set != 0).then(|| {
                    let doc = base + set.trailing_zeros();
                    set &= set - 1;
                    doc
                })
            })
        };
        if only_total {
            if may_enter {
                docs(mask).for_each(|doc| child.offer(doc, if scoring { score(doc) } else { 0.0 }));
            } else {
                child.add_to_total(mask.count_ones() as usize);
            }
        } else if by_planes && mask.count_ones() >= PLANE_MIN_MATCHES {
            let passing = count_by_planes(&table, block, mask, selected, child);
            if may_enter {
                docs(passing).for_each(|doc| child.consider(doc, if scoring { score(doc) } else { 0.0 }));
            }
        } else {
            for doc in docs(mask) {
                if !may_enter {
                    child.count(doc);
                } else {
                    child.collect(doc, if scoring { score(doc) } else { 0.0 });
                }
            }
        }
    }
    Ok(true)
}

/// The documents (bits) present in every set of `sets` but at most one.
fn missing_at_most_one(sets: impl Iterator<Item = u64>) -> u64 {
    // `all`: in every set so far; `one`: missing from exactly one so far.
    let (all, one) = sets.fold((u64::MAX, 0), |(all, one), set| (all & set, (one & set) | (all & !set)));
    all | one
}

/// A block with fewer matches than this is counted document by document: a popcount per facet
/// value costs more than looking a few documents up.
const PLANE_MIN_MATCHES: u32 = 8;

/// Counts a block's matches (`mask`) into the total and the facets with the segment's facet bit
/// sets, and returns the matches that pass every filter.
fn count_by_planes(table: &SegmentTable, block: usize, mask: u64, selected: [Option<u32>; 4], child: &mut CatalogueSegment) -> u64 {
    // The documents that pass each facet's filter (all of them when it has none).
    let passes: [u64; 4] = std::array::from_fn(|i| selected[i].map_or(u64::MAX, |ordinal| table.plane(FACETS[i], ordinal, block)));
    let passing = mask & passes.iter().fold(u64::MAX, |all, p| all & p);
    child.add_to_total(passing.count_ones() as usize);
    if child.counts_facets() {
        for (facet, column) in FACETS.iter().enumerate() {
            // Each facet counts the documents that pass every filter but its own.
            let others = passes.iter().enumerate().filter(|(j, _)| *j != facet).fold(mask, |all, (_, p)| all & p);
            if others == 0 {
                continue;
            }
            for ordinal in 0..u32::try_from(table.cardinality(*column)).unwrap_or(u32::MAX) {
                let n = (others & table.plane(*column, ordinal, block)).count_ones();
                if n > 0 {
                    child.add_facet_count(facet, ordinal, u64::from(n));
                }
            }
        }
    }
    passing
}

#[cfg(test)]
mod tests {
    use super::missing_at_most_one;

    #[test]
    fn all_but_one_keeps_the_documents_missing_at_most_one_word() {
        let sets = [0b1111_0111_u64, 0b1110_1011, 0b1101_1101];
        // Bit by bit: present in 3, 3, 3 or 2 sets keep it; in 1 or 0 not.
        let expected = (0..8).filter(|bit| sets.iter().filter(|s| *s & (1 << bit) != 0).count() >= 2).fold(0, |m, bit| m | 1 << bit);
        assert_eq!(missing_at_most_one(sets.into_iter()), expected);
        assert_eq!(missing_at_most_one([0b01_u64].into_iter()), u64::MAX, "one word: it may be the missing one");
    }
}
