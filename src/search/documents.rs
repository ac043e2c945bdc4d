//! Rows from PostgreSQL turned into index documents.

use tantivy::TantivyDocument;
use tantivy::schema::Term;

use super::schema::Fields;
use crate::db::search_source::{PlatformSource, TextSource};
use crate::domain::text::{fold, normalize};

/// The unique key of an index document.
pub fn key(section: &str, id: i64) -> String {
    format!("{section}:{id}")
}

/// The delete term of an index document.
pub fn key_term(fields: &Fields, section: &str, id: i64) -> Term {
    Term::from_field_text(fields.key, &key(section, id))
}

fn add_text(doc: &mut TantivyDocument, field: tantivy::schema::Field, text: Option<&str>) {
    if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
        doc.add_text(field, normalize(text));
    }
}

/// Every text of a document in the `all` field, each part a value of its own.
fn add_all(doc: &mut TantivyDocument, fields: &Fields, parts: &[Option<&str>]) {
    for part in parts.iter().flatten() {
        add_text(doc, fields.all, Some(part));
    }
}

/// A platform's index document.
pub fn platform(fields: &Fields, p: &PlatformSource) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.key, key("platform", p.id));
    doc.add_text(fields.section, "platform");
    doc.add_u64(fields.id, p.id.unsigned_abs());
    let name = match &p.short_name {
        Some(short) => format!("{} {short}", p.name),
        None => p.name.clone(),
    };
    add_text(&mut doc, fields.name, Some(&name));
    add_text(&mut doc, fields.name_exact, Some(&name));
    let aka = [p.name_en.clone(), p.agency_names.clone()]
        .into_iter()
        .flatten()
        .chain(p.related_names.iter().cloned())
        .collect::<Vec<_>>()
        .join(" · ");
    add_text(&mut doc, fields.aka, Some(&aka));
    add_text(&mut doc, fields.summary, p.summary.as_deref());
    add_text(&mut doc, fields.summary_exact, p.summary.as_deref());
    add_text(&mut doc, fields.body, p.description.as_deref());
    // The name three times and the summary twice: the cheap first ranking (plain BM25 on `all`)
    // already prefers them, so the best results are among the candidates the full ranking reorders.
    add_all(
        &mut doc,
        fields,
        &[Some(&name), Some(&name), Some(&name), p.summary.as_deref(), p.summary.as_deref(), Some(&aka), p.description.as_deref()],
    );
    doc.add_text(fields.kind, &p.kind);
    for need in &p.need_slugs {
        doc.add_text(fields.need, need);
    }
    if let Some(agency) = &p.agency_slug {
        doc.add_text(fields.agency, agency);
    }
    for status in [&p.status, &p.recognition].into_iter().flatten() {
        doc.add_text(fields.status, status);
    }
    doc.add_text(fields.name_sort, fold(&p.name));
    doc.add_i64(fields.created, p.created);
    doc.add_f64(fields.rating, p.rating);
    doc
}

/// A document's, news article's or question's index document.
pub fn text(fields: &Fields, t: &TextSource) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.key, key(&t.section, t.id));
    doc.add_text(fields.section, &t.section);
    doc.add_u64(fields.id, t.id.unsigned_abs());
    add_text(&mut doc, fields.name, Some(&t.title));
    add_text(&mut doc, fields.name_exact, Some(&t.title));
    add_text(&mut doc, fields.aka, t.aka.as_deref());
    add_text(&mut doc, fields.summary, t.summary.as_deref());
    add_text(&mut doc, fields.summary_exact, t.summary.as_deref());
    add_text(&mut doc, fields.body, t.body.as_deref());
    add_all(
        &mut doc,
        fields,
        &[Some(&t.title), Some(&t.title), Some(&t.title), t.summary.as_deref(), t.summary.as_deref(), t.aka.as_deref(), t.body.as_deref()],
    );
    doc.add_text(fields.name_sort, fold(&t.title));
    doc.add_i64(fields.created, t.created);
    doc.add_f64(fields.rating, 0.0);
    doc
}
