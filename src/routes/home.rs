//! The home page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use sqlx::PgPool;

use crate::db::catalogue::{self, Listing, PlatformCard};
use crate::db::content::{self, Counts, News};
use crate::db::directory::{self, NeedGroup};
use crate::error::AppResult;
use crate::extract::{Layout, PageCtx};

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    layout: Layout,
    counts: Counts,
    need_groups: Vec<NeedGroup>,
    recognised: Vec<PlatformCard>,
    news: Vec<News>,
}

/// `/`: search box, need groups, recognised platforms, news.
pub async fn show_home(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<HomePage> {
    let (counts, need_groups, recognised, news) = tokio::try_join!(
        content::counts(&pool),
        directory::need_groups(&pool),
        catalogue::cards_where(&pool, Listing::Recognised, 8),
        content::news(&pool, 4),
    )?;
    Ok(HomePage { layout, counts, need_groups, recognised, news })
}
