//! A document matches if any of a few alternatives does, and scores the best of them: what
//! tantivy's `DisjunctionMaxQuery` computes (with no tie-breaker), by a union that seeks each
//! alternative directly. tantivy's union buffers a window of 4,096 documents and refills it on
//! every seek, which costs most of the time when an intersection with rarer words seeks it far
//! ahead, as the type-ahead's queries do.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::Term;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

/// The best of `alternatives`.
#[derive(Debug)]
pub struct BestOf {
    alternatives: Vec<Box<dyn Query>>,
}

impl Clone for BestOf {
    fn clone(&self) -> Self {
        Self { alternatives: self.alternatives.iter().map(|q| q.box_clone()).collect() }
    }
}

impl BestOf {
    /// A query matching what any of `alternatives` matches.
    pub fn new(alternatives: Vec<Box<dyn Query>>) -> Self {
        Self { alternatives }
    }
}

impl Query for BestOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self.alternatives.iter().map(|q| q.weight(scoring)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(BestOfWeight(weights)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.alternatives {
            q.query_terms(visitor);
        }
    }
}

struct BestOfWeight(Vec<Box<dyn Weight>>);

impl Weight for BestOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = Vec::with_capacity(self.0.len());
        for weight in &self.0 {
            let scorer = weight.scorer(reader, boost)?;
            if scorer.doc() != TERMINATED {
                scorers.push(scorer);
            }
        }
        Ok(Box::new(BestOfScorer::new(scorers)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut best: Option<Explanation> = None;
        for weight in &self.0 {
            if let Ok(e) = weight.explain(reader, doc)
                && best.as_ref().is_none_or(|b| e.value() > b.value())
            {
                best = Some(e);
            }
        }
        best.ok_or_else(|| tantivy::TantivyError::InvalidArgument(format!("document {doc} matches no alternative")))
    }
}

struct BestOfScorer {
    scorers: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl BestOfScorer {
    fn new(scorers: Vec<Box<dyn Scorer>>) -> Self {
        let mut s = Self { scorers, doc: TERMINATED };
        s.doc = s.first();
        s
    }

    /// The smallest current document of the alternatives.
    fn first(&self) -> DocId {
        self.scorers.iter().map(|s| s.doc()).min().unwrap_or(TERMINATED)
    }
}

impl DocSet for BestOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let doc = self.doc;
        for scorer in &mut self.scorers {
            if scorer.doc() == doc {
                scorer.advance();
            }
        }
        self.doc = self.first();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for scorer in &mut self.scorers {
            if scorer.doc() < target {
                scorer.seek(target);
            }
        }
        self.doc = self.first();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers.iter().fold(0u32, |sum, s| sum.saturating_add(s.size_hint()))
    }
}

impl Scorer for BestOfScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.scorers.iter_mut().filter(|s| s.doc() == doc).map(|s| s.score()).fold(0.0, Score::max)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    #[test]
    fn best_of_finds_and_scores_like_the_disjunction_max() {
        let mut schema = Schema::builder();
        let (a, b) = (schema.add_text_field("a", TEXT), schema.add_text_field("b", TEXT));
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 20_000_000).unwrap();
        let words = ["ho", "hoc", "hoa", "truc", "tuyen", "cho", "chon", "so", "x"];
        for i in 0..3_000usize {
            let pick = |k: usize| (0..4).map(|j| words[(i * (j + k) + j * 7) % words.len()]).collect::<Vec<_>>().join(" ");
            let mut doc = TantivyDocument::default();
            doc.add_text(a, pick(1));
            doc.add_text(b, pick(3));
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let alternatives = |word: &str| -> Vec<Box<dyn Query>> {
            vec![
                Box::new(BoostQuery::new(Box::new(TermQuery::new(Term::from_field_text(a, word), IndexRecordOption::WithFreqs)), 2.0)),
                Box::new(BoostQuery::new(Box::new(TermQuery::new(Term::from_field_text(b, word), IndexRecordOption::WithFreqs)), 0.5)),
                Box::new(FuzzyTermQuery::new_prefix(Term::from_field_text(a, word), 0, false)),
            ]
        };
        for text in ["hoc truc", "ho cho", "so tuyen ch", "x", "truc tuyen cho hoc", "nothing here"] {
            let query = |best: bool| {
                let clauses: Vec<(Occur, Box<dyn Query>)> = text
                    .split(' ')
                    .map(|w| -> (Occur, Box<dyn Query>) {
                        if best {
                            (Occur::Must, Box::new(BestOf::new(alternatives(w))))
                        } else {
                            (Occur::Must, Box::new(DisjunctionMaxQuery::new(alternatives(w))))
                        }
                    })
                    .collect();
                let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(3_000).order_by_score()).unwrap();
                top.into_iter().map(|(score, address)| ((score * 1e4).round() as i64, address)).collect::<Vec<_>>()
            };
            assert_eq!(query(true), query(false), "{text}");
        }
    }
}
