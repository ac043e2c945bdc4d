//! Every type of page the portal shows, with an example of each: the list the accessibility, HTML
//! and screenshot checks walk through. A new page type is one line here.

use crate::common::TestApp;

/// One example of a page type.
pub struct PageType {
    /// A short name for reports and file names.
    pub name: &'static str,
    /// Path and query, without `lang`.
    pub path: &'static str,
}

const fn page(name: &'static str, path: &'static str) -> PageType {
    PageType { name, path }
}

/// The public pages (signed out), from the seeded database plus [`arrange`].
pub const PUBLIC: &[PageType] = &[
    page("home", "/"),
    page("catalogue", "/platforms"),
    page("catalogue-page-2", "/platforms?page=2"),
    page("catalogue-filtered", "/platforms?q=hoc&kind=citizen_serving&need=hoc-tap&sort=name"),
    page("catalogue-empty", "/platforms?q=khongcogiday&status=revoked"),
    page("platform-national", "/platforms/dia-chi-so-quoc-gia"),
    page("platform-recognised", "/platforms/coc-coc"),
    page("search", "/search?q=suc+khoe"),
    page("search-no-query", "/search"),
    page("search-nothing-found", "/search?q=khongcogiday"),
    page("search-about", "/search/about"),
    page("agencies", "/agencies"),
    page("agency", "/agencies/bo-thong-tin-va-truyen-thong"),
    page("enterprises", "/enterprises"),
    page("enterprise", "/enterprises/tong-cong-ty-buu-dien-viet-nam"),
    page("documents", "/documents"),
    page("document", "/documents/578-qd-btttt-2022"),
    page("news", "/news"),
    page("news-item", "/news/cong-thong-tin-mo-phien-ban-thu-nghiem"),
    page("recognitions", "/recognitions"),
    page("recognition", "/recognitions/cong-nhan-coc-coc-2022"),
    page("not-found", "/platforms/khong-co"),
];

/// Adds what the seed lacks for every page type to have an example: a news item (the reference
/// facts hold none) whose body uses the Markdown the editors will use.
pub async fn arrange(app: &TestApp) {
    sqlx::query("insert into news (slug, title, summary, body, published_at) values ($1, $2, $3, $4, now() - interval '1 day')")
        .bind("cong-thong-tin-mo-phien-ban-thu-nghiem")
        .bind("Cổng thông tin nền tảng số quốc gia mở phiên bản thử nghiệm")
        .bind("Người dân và doanh nghiệp có thể tra cứu danh mục nền tảng số quốc gia.")
        .bind(
            "## Có gì mới\n\nDanh mục gồm các **nền tảng số quốc gia** và nền tảng phục vụ người dân.\n\n\
         - Tra cứu theo nhóm nhu cầu\n- Xem cơ quan chủ quản và doanh nghiệp\n\n\
         Xem [danh mục](/platforms).",
        )
        .execute(&app.pool)
        .await
        .expect("insert a news item");
}

/// `path` with `lang=<code>` added to its query.
pub fn with_lang(path: &str, lang: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}")
}
