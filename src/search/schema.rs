//! The index schema, defined once, and the Vietnamese analyzers.
//!
//! Text is NFC-normalised before it reaches the index (and every query too). Two analyzers:
//! `vi_folded` lower-cases and folds diacritics (đ → d), so `suc khoe` matches `sức khỏe`;
//! `vi_exact` only lower-cases, and matches on it are boosted, so `mà` ranks `mà` above `ma`.
//! The length filter comes after folding and is generous: long Vietnamese words are never dropped.

use tantivy::Index;
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{RemoveLongFilter, TextAnalyzer};

use super::tokenizer::VietnameseTokenizer;

/// Bumped whenever fields or analyzers change: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 4;

/// Name of the folding analyzer.
pub const FOLDED: &str = "vi_folded";
/// Name of the lower-case-only analyzer.
pub const EXACT: &str = "vi_exact";

/// Handles to every field of the index.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `<section>:<id>`, unique per document: the delete term of an upsert.
    pub key: Field,
    /// `platform`, `document`, `news` or `qa`.
    pub section: Field,
    /// Row id in its table.
    pub id: Field,
    /// Every text of the document, folded: what a word must match (one posting list per word).
    pub all: Field,
    /// Name and short name, folded (stored for highlighting).
    pub name: Field,
    /// Name and short name, exact.
    pub name_exact: Field,
    /// Other names: English name, host agency, enterprises, need groups, document number (not stored).
    pub aka: Field,
    /// Summary, folded (stored for snippets).
    pub summary: Field,
    /// Summary, exact.
    pub summary_exact: Field,
    /// Description or body, folded (stored for snippets).
    pub body: Field,
    /// Platform kind (facet).
    pub kind: Field,
    /// Need group slugs (facet, several per platform).
    pub need: Field,
    /// Host agency slug (facet).
    pub agency: Field,
    /// Lifecycle status and recognition (facet, up to two per platform).
    pub status: Field,
    /// Folded name, for sorting by name.
    pub name_sort: Field,
    /// Creation time in seconds, for "newest".
    pub created: Field,
    /// "Best rated" score: the Bayesian average of published ratings (`ndp_rating_score`).
    pub rating: Field,
}

fn text_with(analyzer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(record))
}

fn text(analyzer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

impl Fields {
    /// Builds the schema and the field handles.
    pub fn build() -> (Schema, Self) {
        let mut b = Schema::builder();
        let fields = Self {
            key: b.add_text_field("key", STRING | STORED),
            section: b.add_text_field("section", STRING | FAST),
            id: b.add_u64_field("id", INDEXED | FAST | STORED),
            all: b.add_text_field("all", text_with(FOLDED, IndexRecordOption::WithFreqs)),
            name: b.add_text_field("name", text(FOLDED, true)),
            name_exact: b.add_text_field("name_exact", text(EXACT, false)),
            aka: b.add_text_field("aka", text(FOLDED, false)),
            summary: b.add_text_field("summary", text(FOLDED, true)),
            summary_exact: b.add_text_field("summary_exact", text(EXACT, false)),
            body: b.add_text_field("body", text(FOLDED, true)),
            kind: b.add_text_field("kind", STRING | FAST),
            need: b.add_text_field("need", STRING | FAST),
            agency: b.add_text_field("agency", STRING | FAST),
            status: b.add_text_field("status", STRING | FAST),
            name_sort: b.add_text_field("name_sort", STRING | FAST),
            created: b.add_i64_field("created", FAST),
            rating: b.add_f64_field("rating", FAST),
        };
        (b.build(), fields)
    }
}

/// Index settings: small blocks in the document store, so that reading the stored text of one
/// result (for its snippet) decompresses about 2 kB, not the default 16 kB.
pub fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings { docstore_blocksize: 2_048, ..tantivy::IndexSettings::default() }
}

/// The folding analyzer (also used to split queries into terms): words split on what is not a
/// letter or digit, lower-cased, diacritics folded (the tokens of tantivy's `SimpleTokenizer`,
/// `LowerCaser` and `AsciiFoldingFilter`, made in one pass).
pub fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(VietnameseTokenizer::new(true)).filter(RemoveLongFilter::limit(120)).build()
}

/// The exact analyzer: lower-case only.
pub fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(VietnameseTokenizer::new(false)).filter(RemoveLongFilter::limit(200)).build()
}

/// Registers the analyzers on an index (needed after every open).
pub fn register(index: &Index) {
    index.tokenizers().register(FOLDED, folded_analyzer());
    index.tokenizers().register(EXACT, exact_analyzer());
}

/// The terms an analyzer makes of `text` (NFC first).
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let normalized = crate::domain::text::normalize(text);
    let mut stream = analyzer.token_stream(&normalized);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_analyzer_matches_unaccented_typing() {
        let mut a = folded_analyzer();
        assert_eq!(terms(&mut a, "Sức khỏe ĐƯỜNG Địa chỉ"), ["suc", "khoe", "duong", "dia", "chi"]);
        let decomposed: String = unicode_normalization::UnicodeNormalization::nfd("sức khỏe").collect();
        assert_eq!(terms(&mut a, &decomposed), ["suc", "khoe"], "NFD input is normalised first");
    }

    #[test]
    fn exact_analyzer_keeps_diacritics() {
        let mut a = exact_analyzer();
        assert_eq!(terms(&mut a, "Mà MÁ ma"), ["mà", "má", "ma"]);
    }

    #[test]
    fn long_vietnamese_words_are_kept() {
        let word = "nghiêng".repeat(6);
        assert_eq!(terms(&mut folded_analyzer(), &word).len(), 1);
        assert_eq!(terms(&mut exact_analyzer(), &word).len(), 1);
    }
}
