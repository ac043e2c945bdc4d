//! Search through the tantivy index: relevance on a judged query set, instances kept in sync by
//! the database's notifications, rebuilds, and the index being rebuilt.

use std::time::Duration;

use crate::common::{TestApp, data_dir, fresh_db, wait_until};

/// Platform slugs of a results page, in order.
fn result_slugs(html: &str) -> Vec<String> {
    html.split("href=\"/platforms/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|slug| !slug.contains('?') && !slug.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn search_slugs(app: &TestApp, q: &str) -> Vec<String> {
    let encoded = serde_urlencoded::to_string([("q", q)]).unwrap();
    let (status, body) = app.get(&format!("/platforms?{encoded}")).await;
    assert_eq!(status, 200, "{q}");
    result_slugs(&body)
}

#[derive(serde::Deserialize)]
struct Judgement {
    q: String,
    expected: String,
    why: String,
}

#[tokio::test]
async fn judged_queries_find_the_expected_platform_in_the_top_three() {
    let app = TestApp::spawn().await;
    let text = std::fs::read_to_string(format!("{}/tests/it/search_judgements.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let judgements: Vec<Judgement> = serde_json::from_str(&text).unwrap();
    assert!(judgements.len() >= 30);
    let mut failures = Vec::new();
    for j in &judgements {
        let slugs = search_slugs(&app, &j.q).await;
        if !slugs.iter().take(3).any(|s| *s == j.expected) {
            failures.push(format!("{:?} → expected {} ({}) but got {:?}", j.q, j.expected, j.why, &slugs[..slugs.len().min(3)]));
        }
    }
    assert!(failures.is_empty(), "{} of {} judged queries failed:\n{}", failures.len(), judgements.len(), failures.join("\n"));
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_another_within_two_seconds() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(a.pool.clone(), data_dir()).await;
    for app in [&a, &b] {
        assert!(search_slugs(app, "chim canh cut").await.is_empty(), "nothing yet (and the empty result is now cached)");
    }
    sqlx::query("update platforms set summary = 'Nền tảng nuôi chim cánh cụt thử nghiệm' where slug = 'ban-do-so'")
        .execute(&a.pool)
        .await
        .unwrap();
    for app in [&a, &b] {
        wait_until(Duration::from_secs(2), || async { search_slugs(app, "chim canh cut").await == ["ban-do-so"] })
            .await
            .expect("the new words are found on both instances");
    }
    let id: i64 = sqlx::query_scalar("select id from platforms where slug = 'ban-do-so'").fetch_one(&a.pool).await.unwrap();
    sqlx::query("delete from decisions where platform_id = $1").bind(id).execute(&a.pool).await.unwrap();
    sqlx::query("delete from platforms where id = $1").bind(id).execute(&a.pool).await.unwrap();
    for app in [&a, &b] {
        wait_until(Duration::from_secs(2), || async { search_slugs(app, "chim canh cut").await.is_empty() })
            .await
            .expect("a deleted platform disappears from both instances");
    }
}

#[tokio::test]
async fn a_search_page_shows_a_renamed_platform_by_its_new_name_though_its_card_was_kept() {
    let app = TestApp::spawn().await;
    wait_until(Duration::from_secs(5), || async { app.get("/search?q=ban+do+so").await.1.contains("Nền tảng bản đồ số") })
        .await
        .expect("the card is shown (once the index is ready), and kept in the row cache");
    sqlx::query("update platforms set name = 'Bản đồ chim cánh cụt' where slug = 'ban-do-so'").execute(&app.pool).await.unwrap();
    // Another query, so that no cached result is involved: only the kept card could be stale.
    wait_until(Duration::from_secs(2), || async { app.get("/search?q=chim+canh+cut").await.1.contains("Bản đồ chim cánh cụt") })
        .await
        .expect("the card is read again after the index commits the change");
}

#[tokio::test]
async fn renaming_an_agency_updates_the_platforms_it_hosts() {
    let app = TestApp::spawn().await;
    sqlx::query("update agencies set name = 'Bộ Hải Âu Thử Nghiệm' where slug = 'bo-cong-an'").execute(&app.pool).await.unwrap();
    wait_until(Duration::from_secs(2), || async { search_slugs(&app, "hai au thu nghiem").await.len() >= 5 })
        .await
        .expect("platforms of the renamed agency are found by its new name");
}

#[tokio::test]
async fn a_deleted_or_truncated_index_is_rebuilt_on_start_with_identical_results() {
    let (pool, _) = fresh_db().await;
    let queries = ["dia chi so", "vneid", "hoc truc tuyen", "blockchian", "coc coc"];
    let first = TestApp::spawn_on(pool.clone(), data_dir()).await;
    let mut expected = Vec::new();
    for q in queries {
        expected.push(search_slugs(&first, q).await);
    }
    assert!(expected.iter().all(|r| !r.is_empty()), "every query finds something: {expected:?}");
    let data = first.stop().await;
    let index = ndp::search::index_dir(data.path());

    std::fs::remove_dir_all(&index).unwrap();
    let second = TestApp::spawn_on(pool.clone(), data).await;
    for (q, want) in queries.iter().zip(&expected) {
        assert_eq!(&search_slugs(&second, q).await, want, "after deletion: {q}");
    }
    let data = second.stop().await;

    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(&index).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    let biggest = &files[0];
    let len = std::fs::metadata(biggest).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(biggest).unwrap().set_len(len / 2).unwrap();
    let third = TestApp::spawn_on(pool, data).await;
    for (q, want) in queries.iter().zip(&expected) {
        assert_eq!(&search_slugs(&third, q).await, want, "after truncation: {q}");
    }
}

#[tokio::test]
async fn while_the_index_cannot_be_built_search_says_so_and_other_pages_work() {
    let (pool, _) = fresh_db().await;
    // The rebuild reads questions; without the table it fails and retries, so the index stays unbuilt.
    sqlx::query("alter table questions rename to questions_away").execute(&pool).await.unwrap();
    let app = TestApp::spawn_unready(pool, data_dir()).await;
    let (status, body) = app.get("/search?q=vneid").await;
    assert_eq!(status, 200);
    assert!(body.contains("Đang cập nhật chỉ mục"), "search says the index is being updated");
    let (status, body) = app.get("/platforms?q=vneid").await;
    assert_eq!(status, 200);
    assert!(body.contains("Đang cập nhật chỉ mục"));
    let (_, json) = app.get("/search/suggest?q=vneid").await;
    assert!(json.contains("\"updating\":true"), "{json}");
    let (status, body) = app.get("/agencies").await;
    assert_eq!(status, 200, "other pages are unaffected");
    assert!(body.contains("Cục Tin học hóa"));
    let (status, _) = app.get("/platforms").await;
    assert_eq!(status, 200, "the catalogue without words still lists platforms");
}

#[tokio::test]
async fn suggestions_are_json_with_links_and_never_fail() {
    let app = TestApp::spawn().await;
    let (status, json) = app.get("/search/suggest?q=dia%20chi").await;
    assert_eq!(status, 200);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &value["suggestions"][0];
    assert_eq!(first["url"], "/platforms/dia-chi-so-quoc-gia", "{json}");
    assert_eq!(first["section"], "platform");
    let long = "x".repeat(10_000);
    for q in ["", "a", "%22", "title%3Ax", "%00", long.as_str(), "%E2%80%AE", "AND%20OR"] {
        let (status, body) = app.get(&format!("/search/suggest?q={q}")).await;
        assert_eq!(status, 200, "{q}");
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    }
}

/// The labels of `/search/suggest?q=`.
async fn suggestion_labels(app: &TestApp, q: &str) -> Vec<String> {
    let encoded = serde_urlencoded::to_string([("q", q)]).unwrap();
    let (status, json) = app.get(&format!("/search/suggest?{encoded}")).await;
    assert_eq!(status, 200, "{q}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["suggestions"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn suggestions_follow_a_renamed_platform_and_complete_only_the_word_being_typed() {
    let app = TestApp::spawn().await;
    assert!(suggestion_labels(&app, "chim ca").await.is_empty(), "nothing yet (and the empty answer is now cached)");
    sqlx::query("update platforms set name = 'Bản đồ chim cánh cụt' where slug = 'ban-do-so'").execute(&app.pool).await.unwrap();
    wait_until(Duration::from_secs(2), || async { suggestion_labels(&app, "chim ca").await == ["Bản đồ chim cánh cụt"] })
        .await
        .expect("the cached answer gives way to the new name");
    assert_eq!(suggestion_labels(&app, "CHIM CÁNH").await, ["Bản đồ chim cánh cụt"], "capitals and diacritics as typed");
    assert!(suggestion_labels(&app, "chim ca ").await.is_empty(), "after a space, \"ca\" is a finished word: no whole-word match");
    assert!(suggestion_labels(&app, "chi canh").await.is_empty(), "only the last word is completed");
}

#[tokio::test]
async fn results_carry_escaped_snippets_with_marked_matches_and_site_wide_sections() {
    let app = TestApp::spawn().await;
    let (_, body) = app.get("/platforms?q=kham+benh").await;
    assert!(body.contains("<mark>khám</mark> <mark>bệnh</mark>"), "matches in the summary are marked");
    let (_, body) = app.get("/search?q=186%2FQ%C4%90-BTTTT").await;
    assert!(body.contains("/documents/186-qd-btttt-2022"), "documents are found by the site-wide search");
    let (status, about) = app.get("/search/about").await;
    assert_eq!(status, 200);
    assert!(about.contains("Trung lập"));
}

#[tokio::test]
async fn facet_counts_come_from_the_search_and_filters_combine_with_words() {
    let app = TestApp::spawn().await;
    let (_, body) = app.get("/platforms?q=nen+tang&kind=sector_shared").await;
    let slugs = result_slugs(&body);
    assert!(!slugs.is_empty());
    let shared: Vec<String> =
        sqlx::query_scalar("select slug from platforms where kind = 'sector_shared'").fetch_all(&app.pool).await.unwrap();
    assert!(slugs.iter().all(|s| shared.contains(s)), "only shared platforms: {slugs:?}");
    assert!(body.contains(r#"<option value="sector_shared" selected>"#));
    assert!(body.contains(r#"<option value="national">"#), "other kinds keep their counts");
}

#[tokio::test]
async fn changes_made_while_an_instance_was_down_are_caught_up_on_start() {
    let (pool, _) = fresh_db().await;
    let first = TestApp::spawn_on(pool.clone(), data_dir()).await;
    let data = first.stop().await;
    // Nobody listens now: this notification is lost.
    sqlx::query("update platforms set summary = 'Nền tảng kỳ lân biển thử nghiệm' where slug = 'ban-do-so'").execute(&pool).await.unwrap();
    let second = TestApp::spawn_on(pool, data).await;
    let found = wait_until(Duration::from_secs(5), || async {
        search_slugs(&second, "ky lan bien").await.first().is_some_and(|s| s == "ban-do-so")
    })
    .await;
    assert!(found.is_ok(), "the reconciliation on start finds the change; found {:?}", search_slugs(&second, "ky lan bien").await);
}

/// The value of a metric in a Prometheus text page.
fn metric(page: &str, name: &str) -> u64 {
    page.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {page}"))
}

#[tokio::test]
async fn metrics_report_the_index_and_the_results_cache() {
    let app = TestApp::spawn().await;
    let (status, before) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(metric(&before, "ndp_search_ready"), 1);
    let indexed: i64 = sqlx::query_scalar("select count(*) from platforms").fetch_one(&app.pool).await.unwrap();
    assert!(metric(&before, "ndp_search_documents") >= u64::try_from(indexed).unwrap(), "every platform is indexed");
    // A commit of the index (the first reconciliation after start may make one) empties the
    // cache: count over three searches of a query not asked before, during which none happened.
    let (mut after, mut counted) = (String::new(), false);
    for q in ["dia+chi+so", "ban+do+so", "hoa+don+dien+tu", "hop+truc+tuyen", "chu+ky+so"] {
        let (_, before) = app.get("/metrics").await;
        for _ in 0..3 {
            assert_eq!(app.get(&format!("/search?q={q}")).await.0, 200);
        }
        after = app.get("/metrics").await.1;
        if metric(&after, "ndp_search_commits_total") != metric(&before, "ndp_search_commits_total") {
            continue;
        }
        let hits = metric(&after, "ndp_search_cache_hits_total") - metric(&before, "ndp_search_cache_hits_total");
        let misses = metric(&after, "ndp_search_cache_misses_total") - metric(&before, "ndp_search_cache_misses_total");
        // Each search looks up the platforms and the other sections: the first time both miss.
        assert_eq!((hits, misses), (4, 2), "{after}");
        counted = true;
        break;
    }
    assert!(counted, "the index committed during every try");
    assert!(after.contains("# TYPE ndp_search_cache_hits_total counter"));
}
