//! The catalogue's collector: one pass over the matches of the words that keeps the section and
//! the facet filters, counts the total and the facet values, and keeps the best documents for
//! the requested order. Every value it reads comes from the in-memory [`tables`](super::tables),
//! so the filters cost no posting-list intersections and the facets no fast-field reads.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, SegmentReader};

use super::query::{FacetCounts, FacetFilter, SearchSort};
use super::tables::{AGENCY, DocTables, KIND, MASK_BITS, NEED, STATUS, SegmentTable, packed_bits};

/// The facet columns, in the order of [`FacetFilter`] and of the counts returned.
pub const FACETS: [usize; 4] = [KIND, NEED, AGENCY, STATUS];

/// Where a document stands in the requested order.
#[derive(Debug, Clone, PartialEq)]
pub enum Rank {
    /// Larger first: a score, a rating or a time.
    Number(f64),
    /// Alphabetical: the folded name.
    Text(String),
}

impl Rank {
    fn cmp_best_first(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => b.total_cmp(a),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Number(_), Self::Text(_)) => std::cmp::Ordering::Less,
            (Self::Text(_), Self::Number(_)) => std::cmp::Ordering::Greater,
        }
    }
}

/// What the collector found.
#[derive(Debug, Default)]
pub struct Found {
    /// Documents passing the section and every filter.
    pub total: usize,
    /// Counts by kind, need, agency and status, each with the other filters applied.
    pub facets: [FacetCounts; 4],
    /// The best documents, best first, at most the number asked for.
    pub best: Vec<(Rank, DocAddress)>,
}

/// One query's collector.
pub struct Catalogue<'a> {
    /// Where the segment tables come from.
    pub tables: &'a DocTables,
    /// The section a document must be in.
    pub section: &'a str,
    /// Facet filters.
    pub filter: &'a FacetFilter,
    /// Order of `best`.
    pub sort: SearchSort,
    /// How many of the best to keep.
    pub keep: usize,
    /// Whether to count facet values.
    pub facets: bool,
}

/// Per segment: the table, the filters as ordinals, and the running counts.
pub struct CatalogueSegment {
    table: Arc<SegmentTable>,
    segment_ord: u32,
    /// The section's index; `None` when no document of the segment is in it.
    section: Option<usize>,
    /// Per facet: no filter (`None`), or the ordinal required (`u32::MAX` when absent: nothing passes).
    selected: [Option<u32>; 4],
    facets: bool,
    /// Per facet stored in the documents' masks: its bits (0 for the others).
    packed: [u32; 4],
    /// Counts per mask bit, for the packed facets.
    bit_counts: [u64; MASK_BITS as usize],
    /// Counts per ordinal, for the facets stored apart.
    counts: [Vec<u64>; 4],
    total: usize,
    sort: SearchSort,
    best: Best,
}

impl Collector for Catalogue<'_> {
    type Fruit = Found;
    type Child = CatalogueSegment;

    fn for_segment(&self, segment_ord: u32, segment: &SegmentReader) -> tantivy::Result<CatalogueSegment> {
        let table = self.tables.get(segment)?;
        let section = table.section(self.section);
        let wanted = [&self.filter.kind, &self.filter.need, &self.filter.agency, &self.filter.status];
        let selected = std::array::from_fn(|i| wanted[i].as_deref().map(|v| table.ordinal(FACETS[i], v).unwrap_or(u32::MAX)));
        let packed = std::array::from_fn(|i| table.packed(FACETS[i]).map_or(0, |(shift, width)| packed_bits(shift, width)));
        let counts =
            std::array::from_fn(|i| if self.facets && packed[i] == 0 { vec![0; table.cardinality(FACETS[i])] } else { Vec::new() });
        Ok(CatalogueSegment {
            table,
            segment_ord,
            section,
            selected,
            facets: self.facets,
            packed,
            bit_counts: [0; MASK_BITS as usize],
            counts,
            total: 0,
            sort: self.sort,
            best: Best::new(self.keep),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == SearchSort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Found>) -> tantivy::Result<Found> {
        let mut merged: [HashMap<String, u64>; 4] = Default::default();
        let mut total = 0;
        let mut best = Vec::new();
        for fruit in fruits {
            total += fruit.total;
            best.extend(fruit.best);
            for (i, counts) in fruit.facets.into_iter().enumerate() {
                for (value, n) in counts {
                    *merged[i].entry(value).or_default() += n;
                }
            }
        }
        best.sort_by(|a, b| a.0.cmp_best_first(&b.0).then_with(|| a.1.cmp(&b.1)));
        best.truncate(self.keep);
        let facets = merged.map(|m| {
            let mut v: FacetCounts = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        });
        Ok(Found { total, facets, best })
    }
}

impl CatalogueSegment {
    /// The segment's table.
    pub fn table(&self) -> &Arc<SegmentTable> {
        &self.table
    }

    /// The index of the section searched in the segment's table (`None`: no document is in it).
    pub fn section(&self) -> Option<usize> {
        self.section
    }

    /// Whether every document of the section counts only towards the total: no filter, no facets.
    pub fn counts_only_the_total(&self) -> bool {
        !self.facets && self.selected.iter().all(Option::is_none)
    }

    /// Adds documents known to pass (see [`Self::counts_only_the_total`]) to the total.
    pub fn add_to_total(&mut self, n: usize) {
        self.total += n;
    }

    /// Counts a document known to pass (see [`Self::counts_only_the_total`]) and offers it for the
    /// best with its score.
    pub fn offer(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        self.best.push(f64::from(score), doc);
    }

    /// Whether facet values are counted.
    pub fn counts_facets(&self) -> bool {
        self.facets
    }

    /// Per facet: no filter (`None`), or the ordinal required (`u32::MAX`: a value the segment
    /// does not have).
    pub fn selected(&self) -> [Option<u32>; 4] {
        self.selected
    }

    /// Adds `n` documents with value `ordinal` to the counts of facet `facet` (an index into
    /// [`FACETS`]), for counts made a block at a time.
    pub fn add_facet_count(&mut self, facet: usize, ordinal: u32, n: u64) {
        match self.table.packed(FACETS[facet]) {
            Some((shift, _)) => {
                if let Some(count) = self.bit_counts.get_mut((shift + ordinal) as usize) {
                    *count += n;
                }
            }
            None => {
                if let Some(count) = self.counts[facet].get_mut(ordinal as usize) {
                    *count += n;
                }
            }
        }
    }

    /// Offers a document already counted (it passes every filter) for the best, with its score
    /// for relevance or its key for the other orders.
    pub fn consider(&mut self, doc: DocId, score: Score) {
        let key = self.key(doc, Some(score));
        if let Some(key) = key {
            self.best.push(key, doc);
        }
    }

    fn key(&self, doc: DocId, score: Option<Score>) -> Option<f64> {
        let table = &*self.table;
        match (self.sort, score) {
            (SearchSort::Relevance, score) => score.map(f64::from),
            (SearchSort::Rating, _) => Some(table.rating(doc)),
            (SearchSort::Newest, _) => Some(table.created(doc) as f64),
            (SearchSort::Name, _) => Some(-f64::from(table.name_rank(doc))),
        }
    }

    /// The score a document must beat to be kept among the best (for relevance): none until the
    /// buffer of the best was first cut back.
    pub fn threshold(&self) -> Option<f64> {
        self.best.threshold
    }

    /// Counts a document in the total and the facets without offering it for the best: for
    /// documents whose score is known not to beat [`Self::threshold`].
    pub fn count(&mut self, doc: DocId) {
        self.visit(doc, None);
    }

    fn visit(&mut self, doc: DocId, score: Option<Score>) {
        let table = &*self.table;
        let Some(section) = self.section else { return };
        if !table.in_section(doc, section) {
            return;
        }
        // Bit i set: the document fails the filter on facet i.
        let mut fails = 0u8;
        for (i, selected) in self.selected.iter().enumerate() {
            if let Some(ordinal) = selected
                && !table.has(doc, FACETS[i], *ordinal)
            {
                fails |= 1 << i;
            }
        }
        if fails == 0 {
            self.total += 1;
            if let Some(key) = self.key(doc, score) {
                self.best.push(key, doc);
            }
        }
        if self.facets {
            // Each facet counts the documents that pass every filter but its own. Packed facets
            // are counted from one read of the mask, a bit at a time.
            let mut bits = 0u32;
            for (i, counts) in self.counts.iter_mut().enumerate() {
                if fails & !(1 << i) != 0 {
                    continue;
                }
                bits |= self.packed[i];
                if self.packed[i] == 0 {
                    table.for_each(doc, FACETS[i], |ordinal| {
                        if let Some(n) = counts.get_mut(ordinal as usize) {
                            *n += 1;
                        }
                    });
                }
            }
            let mut set = table.mask(doc) & bits;
            while set != 0 {
                self.bit_counts[set.trailing_zeros() as usize] += 1;
                set &= set - 1;
            }
        }
    }
}

impl SegmentCollector for CatalogueSegment {
    type Fruit = Found;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.visit(doc, Some(score));
    }

    fn harvest(mut self) -> Found {
        let table = self.table.clone();
        let facets = std::array::from_fn(|i| {
            let counts: Vec<u64> = match table.packed(FACETS[i]) {
                Some((shift, width)) if self.facets => (shift..shift + width).map(|bit| self.bit_counts[bit as usize]).collect(),
                _ => std::mem::take(&mut self.counts[i]),
            };
            counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .filter_map(|(ordinal, n)| Some((table.value(FACETS[i], u32::try_from(ordinal).ok()?)?.to_owned(), *n)))
                .collect()
        });
        let best = self
            .best
            .into_sorted()
            .into_iter()
            .map(|(key, doc)| {
                let rank = if self.sort == SearchSort::Name { Rank::Text(table.name(doc)) } else { Rank::Number(key) };
                (rank, DocAddress::new(self.segment_ord, doc))
            })
            .collect();
        Found { total: self.total, facets, best }
    }
}

/// The `keep` best (key, doc) pairs seen: larger keys first, then smaller doc ids. Pairs are
/// buffered and the buffer is cut back to the best `keep` when it doubles, so most documents
/// cost one comparison with the current threshold.
pub struct Best {
    keep: usize,
    items: Vec<(f64, DocId)>,
    /// The worst key kept at the last cut: a later document (larger id) with a key no better
    /// cannot make it.
    threshold: Option<f64>,
}

impl Best {
    /// Keeps the best `keep`.
    pub fn new(keep: usize) -> Self {
        Self { keep, items: Vec::with_capacity(keep.saturating_mul(2).min(4096)), threshold: None }
    }

    /// Offers a pair; documents must come in increasing id order.
    pub fn push(&mut self, key: f64, doc: DocId) {
        if self.keep == 0 || self.threshold.is_some_and(|t| key <= t) {
            return;
        }
        self.items.push((key, doc));
        if self.items.len() >= self.keep.saturating_mul(2) {
            self.cut();
        }
    }

    fn order(a: &(f64, DocId), b: &(f64, DocId)) -> std::cmp::Ordering {
        b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
    }

    fn cut(&mut self) {
        if self.items.len() > self.keep {
            self.items.select_nth_unstable_by(self.keep - 1, Self::order);
            self.items.truncate(self.keep);
        }
        self.threshold = self.items.iter().map(|i| i.0).min_by(f64::total_cmp);
    }

    /// A key no better than this cannot enter any more (none while the buffer has not been cut).
    pub fn threshold(&self) -> Option<f64> {
        self.threshold
    }

    /// The best pairs, best first.
    pub fn into_sorted(mut self) -> Vec<(f64, DocId)> {
        self.cut();
        self.items.sort_by(Self::order);
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_keeps_the_largest_keys_and_the_earliest_of_equal_keys() {
        let mut best = Best::new(3);
        for (doc, key) in [5.0, 1.0, 7.0, 7.0, 2.0, 9.0, 7.0, 0.5, 9.0].into_iter().enumerate() {
            best.push(key, doc as DocId);
        }
        assert_eq!(best.into_sorted(), [(9.0, 5), (9.0, 8), (7.0, 2)]);
    }

    #[test]
    fn best_with_few_items_keeps_them_all_in_order() {
        let mut best = Best::new(10);
        best.push(1.0, 0);
        best.push(3.0, 1);
        assert_eq!(best.into_sorted(), [(3.0, 1), (1.0, 0)]);
        assert!(Best::new(0).into_sorted().is_empty());
    }

    #[test]
    fn names_sort_alphabetically_and_numbers_largest_first() {
        let mut ranks = [Rank::Text("b".into()), Rank::Text("a".into())];
        ranks.sort_by(Rank::cmp_best_first);
        assert_eq!(ranks[0], Rank::Text("a".into()));
        let mut numbers = [Rank::Number(1.0), Rank::Number(2.0)];
        numbers.sort_by(Rank::cmp_best_first);
        assert_eq!(numbers[0], Rank::Number(2.0));
    }
}
