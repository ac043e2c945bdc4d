//! Rules the database itself enforces, whatever the application does.

use crate::common::fresh_db;

async fn platform_and_user(pool: &sqlx::PgPool) -> (i64, i64) {
    let platform: i64 = sqlx::query_scalar("select id from platforms where slug = 'coc-coc'").fetch_one(pool).await.unwrap();
    let user: i64 = sqlx::query_scalar(
        "insert into users (email, display_name, password_hash, role, status) values ('lan@example.vn', 'Lan', 'x', 'citizen', 'active') returning id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    (platform, user)
}

fn constraint_of(err: sqlx::Error) -> String {
    err.as_database_error().and_then(|e| e.constraint()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn stars_outside_one_to_five_are_refused() {
    let (pool, _) = fresh_db().await;
    let (platform, user) = platform_and_user(&pool).await;
    for stars in [0, 6, -1] {
        let err = sqlx::query("insert into ratings (platform_id, user_id, stars, state) values ($1, $2, $3, 'published')")
            .bind(platform)
            .bind(user)
            .bind(stars as i16)
            .execute(&pool)
            .await
            .unwrap_err();
        assert_eq!(constraint_of(err), "ratings_stars_check", "{stars}");
    }
}

#[tokio::test]
async fn one_rating_per_user_per_platform() {
    let (pool, _) = fresh_db().await;
    let (platform, user) = platform_and_user(&pool).await;
    let insert = "insert into ratings (platform_id, user_id, stars, state) values ($1, $2, 4, 'published')";
    sqlx::query(insert).bind(platform).bind(user).execute(&pool).await.unwrap();
    let err = sqlx::query(insert).bind(platform).bind(user).execute(&pool).await.unwrap_err();
    assert_eq!(constraint_of(err), "ratings_platform_id_user_id_key");
}

#[tokio::test]
async fn tax_codes_must_have_the_vietnamese_format() {
    let (pool, _) = fresh_db().await;
    let cases = [
        ("0100109106", true, "ten digits"),
        ("0100109106-001", true, "branch form"),
        ("010010910", false, "nine digits"),
        ("01001091061", false, "eleven digits"),
        ("01001O9106", false, "a letter"),
        ("0100109106-01", false, "short branch suffix"),
        ("0100109106 001", false, "space instead of hyphen"),
    ];
    for (i, (code, ok, why)) in cases.into_iter().enumerate() {
        let result = sqlx::query("insert into enterprises (slug, name, tax_code) values ($1, 'Công ty thử', $2)")
            .bind(format!("cong-ty-thu-{i}"))
            .bind(code)
            .execute(&pool)
            .await;
        assert_eq!(result.is_ok(), ok, "{code}: {why}");
    }
    let duplicate = sqlx::query("insert into enterprises (slug, name, tax_code) values ('trung', 'Trùng', '0100109106')")
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(constraint_of(duplicate), "enterprises_tax_code_key");
}

#[tokio::test]
async fn malformed_slugs_and_empty_names_are_refused() {
    let (pool, _) = fresh_db().await;
    for (slug, name, constraint) in [
        ("Hoa-Thuong", "Tên", "platforms_slug_check"),
        ("a--b", "Tên", "platforms_slug_check"),
        ("hop-le", "   ", "platforms_name_check"),
        ("coc-coc", "Trùng", "platforms_slug_key"),
    ] {
        let err = sqlx::query("insert into platforms (slug, name, kind) values ($1, $2, 'national')")
            .bind(slug)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap_err();
        assert_eq!(constraint_of(err), constraint, "{slug:?} {name:?}");
    }
}

#[tokio::test]
async fn audit_events_cannot_be_changed_or_removed() {
    let (pool, _) = fresh_db().await;
    sqlx::query("insert into audit_events (actor_label, action, target_type, target_id) values ('test', 'approve', 'revision', '1')")
        .execute(&pool)
        .await
        .unwrap();
    for statement in ["update audit_events set action = 'x'", "delete from audit_events", "truncate audit_events"] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{statement}: {err}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from audit_events").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn updated_at_moves_only_on_real_changes() {
    let (pool, _) = fresh_db().await;
    let read = "select updated_at::text from platforms where slug = 'coc-coc'";
    let before: String = sqlx::query_scalar(read).fetch_one(&pool).await.unwrap();
    sqlx::query("update platforms set name = name where slug = 'coc-coc'").execute(&pool).await.unwrap();
    let same: String = sqlx::query_scalar(read).fetch_one(&pool).await.unwrap();
    assert_eq!(before, same, "a no-op update keeps updated_at");
    sqlx::query("update platforms set summary = 'mới' where slug = 'coc-coc'").execute(&pool).await.unwrap();
    let after: String = sqlx::query_scalar(read).fetch_one(&pool).await.unwrap();
    assert_ne!(before, after);
}

#[tokio::test]
async fn deleting_an_agency_that_hosts_platforms_is_refused() {
    let (pool, _) = fresh_db().await;
    let err = sqlx::query("delete from agencies where slug = 'bo-thong-tin-va-truyen-thong'").execute(&pool).await.unwrap_err();
    assert!(constraint_of(err).ends_with("_fkey"));
}

#[tokio::test]
async fn sql_folding_matches_rust_folding() {
    let (pool, _) = fresh_db().await;
    for text in ["Sức khỏe", "ĐỊA CHỈ SỐ", "Nền tảng học kỹ năng trực tuyến mở (MOOCs)", "Thương mại điện tử", "Ỳ Ỷ Ỹ Ỵ ỳ"]
    {
        let sql: String = sqlx::query_scalar("select ndp_fold($1)").bind(text).fetch_one(&pool).await.unwrap();
        assert_eq!(sql, ndp::domain::text::fold(text), "{text}");
    }
}
