//! Per-segment tables of what a search reads for every match: the section, the facet values and
//! the sort keys, decoded once from the fast fields when a segment first appears and then read
//! from compact arrays. A catalogue query touches thousands of matches; a fast-field read per
//! match and facet cost more than the rest of the query together.
//!
//! The layout is chosen for the processor's caches, because matches are scattered over the
//! segment: each section is a bit set, and facets with few values (kinds, statuses, need groups)
//! share one bit mask per document, so the data a query reads for 100,000 platforms stays around
//! one megabyte. Columns with more values are kept as one small ordinal per document, or as lists.
//!
//! Tables are built by a tantivy [`Warmer`] when the reader reloads (so queries never wait for
//! one), or on first use when a segment has none yet, and dropped when no live searcher uses their
//! segment any more. A segment's values never change (deletes only hide documents), so a table
//! stays valid for the segment's whole life.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::{DocId, Searcher, SearcherGeneration, SegmentReader, Warmer};

use super::dense::DenseColumns;

/// Facet columns, in the order of the catalogue's filters.
pub const KIND: usize = 0;
/// Need groups (several per document).
pub const NEED: usize = 1;
/// Host agency.
pub const AGENCY: usize = 2;
/// Lifecycle status and recognition (several per document).
pub const STATUS: usize = 3;
const FACET_FIELDS: [&str; 4] = ["kind", "need", "agency", "status"];
/// Columns are packed into the shared mask in this order while bits remain.
const PACKING_ORDER: [usize; 4] = [KIND, STATUS, NEED, AGENCY];
/// Bits in a document's mask.
pub const MASK_BITS: u32 = 32;
/// Segments from this size on also keep every facet value as a bit set (see [`SegmentTable::plane`]).
const PLANE_MIN_DOCS: u32 = 8_192;
/// Memory bound of a segment's facet bit sets (bytes).
const PLANE_BYTES: usize = 16 * 1024 * 1024;

/// How one facet column's values are stored.
enum Values {
    /// Bits `shift .. shift + width` of the document's mask: bit `shift + i` set means ordinal `i`.
    Packed { shift: u32, width: u32 },
    /// At most one value per document: its ordinal, or `u16::MAX` for none.
    Single(Vec<u16>),
    /// Any number per document: `ords[offsets[doc] .. offsets[doc + 1]]`.
    Listed { offsets: Vec<u32>, ords: Vec<u32> },
}

/// A set of documents, one bit each.
struct DocSet(Vec<u64>);

impl DocSet {
    fn contains(&self, doc: DocId) -> bool {
        self.0.get((doc / 64) as usize).is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }
}

/// The decoded columns of one segment.
pub struct SegmentTable {
    sections: Vec<(String, DocSet)>,
    masks: Vec<u32>,
    columns: [Values; 4],
    /// Per facet column, its values by ordinal.
    values: [Vec<String>; 4],
    created: Vec<i64>,
    rating: Vec<f64>,
    /// Ordinal of the folded name in the segment's sorted dictionary: the name order.
    name_ord: Vec<u32>,
    names: Option<StrColumn>,
    dense: DenseColumns,
    /// Per facet column and value, the documents that have it (large segments only): facets of
    /// a block of 64 matches are counted with one AND and one popcount per value.
    planes: Option<[Vec<Vec<u64>>; 4]>,
}

fn dictionary(column: Option<&StrColumn>) -> tantivy::Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(column) = column {
        for ord in 0..column.num_terms() as u64 {
            let mut value = String::new();
            column.ord_to_str(ord, &mut value)?;
            out.push(value);
        }
    }
    Ok(out)
}

/// The mask of bits `shift .. shift + width`.
pub fn packed_bits(shift: u32, width: u32) -> u32 {
    if width == 0 { 0 } else { (u32::MAX >> (MASK_BITS - width)) << shift }
}

fn ords(column: Option<&StrColumn>, doc: DocId) -> impl Iterator<Item = u64> + '_ {
    column.into_iter().flat_map(move |c| c.term_ords(doc))
}

impl SegmentTable {
    fn build(segment: &SegmentReader, dense: &[Field]) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        let max_doc = segment.max_doc();
        let mut facet_columns = Vec::with_capacity(FACET_FIELDS.len());
        for name in FACET_FIELDS {
            facet_columns.push(fast.str(name)?);
        }
        let mut values: [Vec<String>; 4] = Default::default();
        for (i, column) in facet_columns.iter().enumerate() {
            values[i] = dictionary(column.as_ref())?;
        }
        let mut masks = vec![0u32; max_doc as usize];
        let mut columns: [Values; 4] = std::array::from_fn(|_| Values::Packed { shift: 0, width: 0 });
        let mut used = 0u32;
        for i in PACKING_ORDER {
            let column = facet_columns[i].as_ref();
            let width = u32::try_from(values[i].len()).unwrap_or(u32::MAX);
            columns[i] = if used.saturating_add(width) <= MASK_BITS {
                for (doc, mask) in (0..max_doc).zip(masks.iter_mut()) {
                    for ord in ords(column, doc) {
                        *mask |= 1 << (u64::from(used) + ord);
                    }
                }
                used += width;
                Values::Packed { shift: used - width, width }
            } else {
                Self::unpacked(column, max_doc, values[i].len())
            };
        }
        let sections = Self::sections(fast.str("section")?.as_ref(), max_doc)?;
        let (created_column, rating_column, names) = (fast.i64("created")?, fast.f64("rating")?, fast.str("name_sort")?);
        let created = (0..max_doc).map(|doc| created_column.first(doc).unwrap_or(0)).collect();
        let rating = (0..max_doc).map(|doc| rating_column.first(doc).unwrap_or(0.0)).collect();
        let name_ord =
            (0..max_doc).map(|doc| ords(names.as_ref(), doc).next().and_then(|o| u32::try_from(o).ok()).unwrap_or(u32::MAX)).collect();
        let dense = DenseColumns::build(segment, dense)?;
        let mut table = Self { sections, masks, columns, values, created, rating, name_ord, names, dense, planes: None };
        table.planes = table.build_planes(max_doc);
        Ok(table)
    }

    fn build_planes(&self, max_doc: DocId) -> Option<[Vec<Vec<u64>>; 4]> {
        let words = (max_doc as usize).div_ceil(64);
        let values: usize = self.values.iter().map(Vec::len).sum();
        if max_doc < PLANE_MIN_DOCS || values.saturating_mul(words).saturating_mul(8) > PLANE_BYTES {
            return None;
        }
        let mut planes: [Vec<Vec<u64>>; 4] = std::array::from_fn(|i| vec![vec![0u64; words]; self.values[i].len()]);
        for doc in 0..max_doc {
            for (column, planes) in planes.iter_mut().enumerate() {
                self.for_each(doc, column, |ordinal| {
                    if let Some(word) = planes.get_mut(ordinal as usize).and_then(|p| p.get_mut((doc / 64) as usize)) {
                        *word |= 1 << (doc % 64);
                    }
                });
            }
        }
        Some(planes)
    }

    /// Whether the segment keeps its facet values as bit sets.
    pub fn has_planes(&self) -> bool {
        self.planes.is_some()
    }

    /// Word `block` of the bit set of the documents with value `ordinal` of facet `column`
    /// (0 when the segment keeps no bit sets or has no such value).
    pub fn plane(&self, column: usize, ordinal: u32, block: usize) -> u64 {
        self.planes.as_ref().and_then(|p| p[column].get(ordinal as usize)?.get(block).copied()).unwrap_or(0)
    }

    fn unpacked(column: Option<&StrColumn>, max_doc: DocId, cardinality: usize) -> Values {
        let single = cardinality < usize::from(u16::MAX) && (0..max_doc).all(|doc| ords(column, doc).nth(1).is_none());
        if single {
            let ords = (0..max_doc).map(|doc| ords(column, doc).next().and_then(|o| u16::try_from(o).ok()).unwrap_or(u16::MAX));
            return Values::Single(ords.collect());
        }
        let (mut offsets, mut listed) = (Vec::with_capacity(max_doc as usize + 1), Vec::new());
        offsets.push(0);
        for doc in 0..max_doc {
            listed.extend(ords(column, doc).filter_map(|o| u32::try_from(o).ok()));
            offsets.push(u32::try_from(listed.len()).unwrap_or(u32::MAX));
        }
        Values::Listed { offsets, ords: listed }
    }

    fn sections(column: Option<&StrColumn>, max_doc: DocId) -> tantivy::Result<Vec<(String, DocSet)>> {
        let names = dictionary(column)?;
        let mut sets: Vec<DocSet> = names.iter().map(|_| DocSet(vec![0; (max_doc as usize).div_ceil(64)])).collect();
        for doc in 0..max_doc {
            for ord in ords(column, doc) {
                if let Some(set) = sets.get_mut(ord as usize)
                    && let Some(word) = set.0.get_mut((doc / 64) as usize)
                {
                    *word |= 1 << (doc % 64);
                }
            }
        }
        Ok(names.into_iter().zip(sets).collect())
    }

    /// The index of a section in this segment, if any document is in it.
    pub fn section(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|(n, _)| n == name)
    }

    /// The words of the section of index `section` (see [`Self::section`]).
    pub fn section_words(&self, section: usize) -> &[u64] {
        self.sections.get(section).map_or(&[], |(_, set)| set.0.as_slice())
    }

    /// Whether `doc` is in the section of index `section`.
    pub fn in_section(&self, doc: DocId, section: usize) -> bool {
        self.sections.get(section).is_some_and(|(_, set)| set.contains(doc))
    }

    /// The ordinal of `value` in facet `column`, if any document of the segment has it.
    pub fn ordinal(&self, column: usize, value: &str) -> Option<u32> {
        self.values[column].iter().position(|v| v == value).and_then(|i| u32::try_from(i).ok())
    }

    /// The value of an ordinal of facet `column`.
    pub fn value(&self, column: usize, ordinal: u32) -> Option<&str> {
        self.values[column].get(ordinal as usize).map(String::as_str)
    }

    /// How many values facet `column` has in this segment.
    pub fn cardinality(&self, column: usize) -> usize {
        self.values[column].len()
    }

    /// Whether `doc` has the value `ordinal` in facet `column`.
    pub fn has(&self, doc: DocId, column: usize, ordinal: u32) -> bool {
        match &self.columns[column] {
            Values::Packed { shift, width } => {
                ordinal < *width && self.masks.get(doc as usize).is_some_and(|m| m & (1 << (shift + ordinal)) != 0)
            }
            Values::Single(ords) => ords.get(doc as usize).is_some_and(|o| u32::from(*o) == ordinal),
            Values::Listed { .. } => {
                let mut found = false;
                self.for_each(doc, column, |o| found |= o == ordinal);
                found
            }
        }
    }

    /// Calls `f` with every ordinal `doc` has in facet `column`.
    pub fn for_each(&self, doc: DocId, column: usize, mut f: impl FnMut(u32)) {
        match &self.columns[column] {
            Values::Packed { shift, width } => {
                let Some(mask) = self.masks.get(doc as usize) else { return };
                let mut bits = (mask & packed_bits(*shift, *width)) >> shift;
                while bits != 0 {
                    f(bits.trailing_zeros());
                    bits &= bits - 1;
                }
            }
            Values::Single(ords) => {
                if let Some(o) = ords.get(doc as usize).filter(|o| **o != u16::MAX) {
                    f(u32::from(*o));
                }
            }
            Values::Listed { offsets, ords } => {
                let (from, to) = (offsets.get(doc as usize), offsets.get(doc as usize + 1));
                if let (Some(from), Some(to)) = (from, to) {
                    ords.get(*from as usize..*to as usize).unwrap_or(&[]).iter().for_each(|o| f(*o));
                }
            }
        }
    }

    /// The frequent words of the tables' fields as dense columns.
    pub fn dense(&self) -> &DenseColumns {
        &self.dense
    }

    /// The document's packed facet values (see [`SegmentTable::packed`]).
    pub fn mask(&self, doc: DocId) -> u32 {
        self.masks.get(doc as usize).copied().unwrap_or(0)
    }

    /// Where facet `column` sits in the documents' masks: `(shift, width)`, or `None` when it is
    /// stored apart (too many values).
    pub fn packed(&self, column: usize) -> Option<(u32, u32)> {
        match &self.columns[column] {
            Values::Packed { shift, width } => Some((*shift, *width)),
            _ => None,
        }
    }

    /// Creation time in seconds.
    pub fn created(&self, doc: DocId) -> i64 {
        self.created.get(doc as usize).copied().unwrap_or(0)
    }

    /// The "best rated" score.
    pub fn rating(&self, doc: DocId) -> f64 {
        self.rating.get(doc as usize).copied().unwrap_or(0.0)
    }

    /// Position of the document's folded name in the segment's alphabetical order.
    pub fn name_rank(&self, doc: DocId) -> u32 {
        self.name_ord.get(doc as usize).copied().unwrap_or(u32::MAX)
    }

    /// The folded name of the document (for ordering across segments).
    pub fn name(&self, doc: DocId) -> String {
        let mut out = String::new();
        if let (Some(names), Some(rank)) = (&self.names, self.name_ord.get(doc as usize).filter(|r| **r != u32::MAX)) {
            let _ = names.ord_to_str(u64::from(*rank), &mut out);
        }
        out
    }
}

/// Per segment with deletes: how many were deleted when the words were built, and the documents
/// still alive as bit-set words.
type AliveCache = HashMap<SegmentId, (u32, Arc<[u64]>)>;

/// The tables of every live segment, shared by all queries of a process.
pub struct DocTables {
    /// The fields whose frequent words get dense columns (none: posting lists only).
    dense: Vec<Field>,
    segments: Mutex<HashMap<SegmentId, Arc<SegmentTable>>>,
    alive: Mutex<AliveCache>,
}

impl DocTables {
    /// Tables with dense columns for the frequent words of the fields `dense`.
    pub fn new(dense: &[Field]) -> Self {
        Self { dense: dense.to_vec(), segments: Mutex::new(HashMap::new()), alive: Mutex::new(HashMap::new()) }
    }

    /// Whether the tables keep dense columns of any field (without, search runs on posting lists
    /// only).
    pub fn keeps_columns(&self) -> bool {
        !self.dense.is_empty()
    }

    /// The documents of a segment that are not deleted, as bit-set words; `None` when none is
    /// deleted. Built once per segment and number of deletes.
    pub fn alive_words(&self, segment: &SegmentReader) -> Option<Arc<[u64]>> {
        let alive = segment.alive_bitset()?;
        let (id, deleted) = (segment.segment_id(), segment.num_deleted_docs());
        if let Some((n, words)) = self.alive.lock().ok().and_then(|a| a.get(&id).cloned())
            && n == deleted
        {
            return Some(words);
        }
        let mut words = vec![0u64; (segment.max_doc() as usize).div_ceil(64)];
        for doc in alive.iter_alive() {
            if let Some(word) = words.get_mut((doc / 64) as usize) {
                *word |= 1 << (doc % 64);
            }
        }
        let words: Arc<[u64]> = words.into();
        if let Ok(mut cache) = self.alive.lock() {
            cache.insert(id, (deleted, words.clone()));
        }
        Some(words)
    }

    /// The table of a segment, built now if it has none yet.
    pub fn get(&self, segment: &SegmentReader) -> tantivy::Result<Arc<SegmentTable>> {
        let id = segment.segment_id();
        if let Some(table) = self.segments.lock().ok().and_then(|s| s.get(&id).cloned()) {
            return Ok(table);
        }
        let table = Arc::new(SegmentTable::build(segment, &self.dense)?);
        if let Ok(mut segments) = self.segments.lock() {
            segments.insert(id, table.clone());
        }
        Ok(table)
    }
}

impl Warmer for DocTables {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            self.get(segment)?;
        }
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let is_live = |id: &SegmentId| live.iter().any(|g| g.segments().contains_key(id));
        if let Ok(mut segments) = self.segments.lock() {
            segments.retain(|id, _| is_live(id));
        }
        if let Ok(mut alive) = self.alive.lock() {
            alive.retain(|id, _| is_live(id));
        }
    }
}
