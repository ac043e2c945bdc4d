//! Catalogues for the search module's unit tests, indexed in memory.
#![allow(clippy::unwrap_used, reason = "test helpers")]

use tantivy::indexer::NoMergePolicy;
use tantivy::{Index, Searcher};

use super::schema::{self, Fields};
use crate::db::search_source::PlatformSource;

/// A platform of the health ministry with the given name, summary, kind and need groups.
pub fn platform(id: i64, name: &str, summary: &str, kind: &str, need: &[&str]) -> PlatformSource {
    PlatformSource {
        id,
        name: name.into(),
        short_name: None,
        name_en: None,
        summary: Some(summary.into()),
        description: None,
        kind: kind.into(),
        status: None,
        recognition: None,
        agency_slug: Some("bo-y-te".into()),
        agency_names: Some("Bộ Y tế".into()),
        need_slugs: need.iter().map(|s| (*s).to_owned()).collect(),
        related_names: Vec::new(),
        created: id,
        rating: 3.0,
    }
}

/// An in-memory index of `rows` in one segment.
pub fn searcher(rows: &[PlatformSource]) -> (Searcher, Fields) {
    let (schema, fields) = Fields::build();
    let index = Index::create_in_ram(schema);
    schema::register(&index);
    let mut writer = index.writer_with_num_threads(1, 20_000_000).unwrap();
    for p in rows {
        writer.add_document(super::documents::platform(&fields, p)).unwrap();
    }
    writer.commit().unwrap();
    (index.reader().unwrap().searcher(), fields)
}

/// A catalogue like the synthetic one: few subjects, many near-identical platforms, enough
/// of them for the segment to get dense columns.
pub fn generated(n: i64) -> Vec<PlatformSource> {
    const SUBJECTS: [&str; 10] = [
        "quản lý hồ sơ sức khỏe điện tử",
        "đặt lịch khám chữa bệnh",
        "học trực tuyến cho học sinh",
        "thanh toán hóa đơn điện, nước",
        "du lịch thông minh",
        "bản đồ số và địa chỉ số",
        "giao thông thông minh",
        "thư viện số",
        "chữ ký số từ xa",
        "dịch vụ công trực tuyến",
    ];
    const PREFIXES: [&str; 4] = ["Nền tảng", "Hệ thống", "Cổng", "Ứng dụng"];
    const PLACES: [&str; 5] = ["Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Lào Cai"];
    const KINDS: [&str; 3] = ["national", "citizen_serving", "sector_shared"];
    const NEEDS: [&str; 3] = ["suc-khoe", "hoc-tap", "giao-thong"];
    (1..=n)
        .map(|i| {
            let at = |len: usize, step: usize| (i as usize / step) % len;
            let subject = SUBJECTS[at(SUBJECTS.len(), 1)];
            let audience = if i % 3 == 0 { " cho người dân" } else { "" };
            let name = format!("{} {subject}{audience}", PREFIXES[at(PREFIXES.len(), 7)]);
            let summary = format!("Mô phỏng {subject} tại {}.", PLACES[at(PLACES.len(), 11)]);
            let (need, other) = (NEEDS[at(NEEDS.len(), 5)], NEEDS[at(NEEDS.len(), 2)]);
            // A quarter of the platforms answer two needs (facets with many values per document).
            let needs: &[&str] = if i % 4 == 0 && need != other { &[need, other] } else { &[need] };
            let mut p = platform(i, &name, &summary, KINDS[at(KINDS.len(), 3)], needs);
            p.description = Some(format!("Nền tảng mẫu số {i}, không có thật, phục vụ {} người dùng.", i * 37 % 1000));
            p
        })
        .collect()
}

/// The same catalogue with a word in a fortieth of the summaries (`v0` … `v39`): too rare for a
/// dense column, frequent enough to be decoded for a query.
pub fn generated_with_rarer_words(n: i64) -> Vec<PlatformSource> {
    let mut rows = generated(n);
    for p in &mut rows {
        p.summary = p.summary.take().map(|s| format!("{s} Vùng v{}.", p.id % 40));
    }
    rows
}

/// An in-memory index of `rows` in two segments (`rows[..split]`, then the rest; one segment when
/// the rest is empty), then with the rows for which `deleted` holds deleted.
pub fn searcher_with_deletes(rows: &[PlatformSource], split: usize, deleted: impl Fn(&PlatformSource) -> bool) -> (Searcher, Fields) {
    let (schema, fields) = Fields::build();
    let index = Index::create_in_ram(schema);
    schema::register(&index);
    let mut writer = index.writer_with_num_threads(1, 50_000_000).unwrap();
    writer.set_merge_policy(Box::new(NoMergePolicy));
    for part in [&rows[..split], &rows[split..]] {
        for p in part {
            writer.add_document(super::documents::platform(&fields, p)).unwrap();
        }
        writer.commit().unwrap();
    }
    for p in rows.iter().filter(|p| deleted(p)) {
        writer.delete_term(super::documents::key_term(&fields, "platform", p.id));
    }
    writer.commit().unwrap();
    (index.reader().unwrap().searcher(), fields)
}
