//! Loading the reference facts and generating synthetic catalogues.

use crate::common::{empty_db, fresh_db, test_config};

fn rows_in(file: &str) -> usize {
    let text = std::fs::read_to_string(format!("{}/seed/{file}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap().len()
}

#[tokio::test]
async fn first_start_seeds_every_row_of_the_seed_files() {
    let pool = empty_db().await;
    ndp::cli::prepare_database(&pool, &test_config()).await.unwrap();
    for (table, file) in [
        ("platforms", "platforms"),
        ("agencies", "agencies"),
        ("enterprises", "enterprises"),
        ("documents", "documents"),
        ("need_groups", "need_groups"),
        ("decisions", "decisions"),
        ("criteria_frameworks", "criteria"),
    ] {
        let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table} where origin = 'seed'")).fetch_one(&pool).await.unwrap();
        assert_eq!(count as usize, rows_in(file), "{table}");
    }
    let without_sources: i64 =
        sqlx::query_scalar("select count(*) from platforms where cardinality(sources) = 0").fetch_one(&pool).await.unwrap();
    assert_eq!(without_sources, 0, "every seeded platform cites its sources");
}

#[tokio::test]
async fn seeding_again_changes_nothing() {
    let (pool, _) = fresh_db().await;
    let snapshot = "select md5(string_agg(t::text, '|' order by t::text)) from (
        select slug, name, updated_at::text from platforms union all select slug, name, updated_at::text from agencies
        union all select slug, title, updated_at::text from documents) t";
    let before: String = sqlx::query_scalar(snapshot).fetch_one(&pool).await.unwrap();
    let report = ndp::seed::load_reference(&pool).await.unwrap();
    assert_eq!(report, ndp::seed::SeedReport::default(), "nothing inserted the second time");
    let after: String = sqlx::query_scalar(snapshot).fetch_one(&pool).await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn seeding_keeps_staff_edits() {
    let (pool, _) = fresh_db().await;
    sqlx::query("update platforms set summary = 'Sửa bởi cán bộ' where slug = 'dia-chi-so-quoc-gia'").execute(&pool).await.unwrap();
    sqlx::query("delete from platform_need_groups where platform_id = (select id from platforms where slug = 'coc-coc')")
        .execute(&pool)
        .await
        .unwrap();
    ndp::seed::load_reference(&pool).await.unwrap();
    let summary: String =
        sqlx::query_scalar("select summary from platforms where slug = 'dia-chi-so-quoc-gia'").fetch_one(&pool).await.unwrap();
    assert_eq!(summary, "Sửa bởi cán bộ");
    let links: i64 = sqlx::query_scalar(
        "select count(*) from platform_need_groups png join platforms p on p.id = png.platform_id where p.slug = 'coc-coc'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(links, 0, "removed links are not put back");
}

#[tokio::test]
async fn synthetic_platforms_are_generated_and_clearly_marked() {
    let (pool, _) = fresh_db().await;
    let made = ndp::seed::synthetic::generate(&pool, 1200, false).await.unwrap();
    assert_eq!(made, 1200);
    let (count, marked): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where summary like 'Dữ liệu mẫu%') from platforms where origin = 'synthetic'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((count, marked), (1200, 1200));
    let unlinked: i64 = sqlx::query_scalar(
        "select count(*) from platforms p where origin = 'synthetic' and not exists (select 1 from platform_enterprises pe where pe.platform_id = p.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unlinked, 0, "every synthetic platform has an enterprise");
    ndp::seed::synthetic::generate(&pool, 10, false).await.unwrap();
    let total: i64 = sqlx::query_scalar("select count(*) from platforms where origin = 'synthetic'").fetch_one(&pool).await.unwrap();
    assert_eq!(total, 1210, "a second run adds more with new slugs");
}

#[tokio::test]
async fn synthetic_generation_refuses_a_database_with_real_data_unless_forced() {
    let (pool, _) = fresh_db().await;
    sqlx::query("insert into users (email, display_name, password_hash, role, status) values ('a@b.vn', 'An', 'x', 'citizen', 'active')")
        .execute(&pool)
        .await
        .unwrap();
    let refused = ndp::seed::synthetic::generate(&pool, 5, false).await.unwrap_err();
    assert!(refused.to_string().contains("--force"), "{refused}");
    let none: i64 = sqlx::query_scalar("select count(*) from platforms where origin = 'synthetic'").fetch_one(&pool).await.unwrap();
    assert_eq!(none, 0, "nothing was written");
    assert_eq!(ndp::seed::synthetic::generate(&pool, 5, true).await.unwrap(), 5);
}
