//! The enterprise's listings: the edit form (draft, preview, submit for review), logo upload,
//! one-click confirmation, registration of a new platform, and the public history of a listing.

use std::io::Cursor;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use axum_extra::extract::Multipart;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event};
use crate::db::catalogue;
use crate::db::directory::{self, DirectoryEntry, NeedGroup};
use crate::db::registrations;
use crate::db::revisions::{self, FormBase, OwnedPlatform, Revision, SaveRefused};
use crate::domain::listing::{Change, Listing, ListingForm, RevisionState, is_logo_name};
use crate::domain::platform::Kind;
use crate::domain::registration::{Dossier, SECURITY_DOSSIER};
use crate::error::{AppError, AppResult};
use crate::extract::{EnterpriseUser, Layout, PageCtx};
use crate::routes::form::{FormErrors, invalid, see_other};
use crate::state::AppState;

/// Largest logo accepted, in bytes.
pub const LOGO_MAX_BYTES: usize = 1024 * 1024;
/// Largest logo dimension accepted before re-encoding (pixels).
const LOGO_MAX_SIDE: u32 = 4096;
/// Logos are stored at most this wide and high.
const LOGO_STORED_SIDE: u32 = 512;

/// The edit form page.
#[derive(Template, WebTemplate)]
#[template(path = "account/edit_listing.html")]
pub struct EditPage {
    layout: Layout,
    platform: OwnedPlatform,
    form: ListingForm,
    errors: FormErrors,
    need_groups: Vec<NeedGroup>,
    base_platform: String,
    base_draft: String,
    awaiting_review: bool,
    has_draft: bool,
    conflict: Option<&'static str>,
    last_rejection: Option<String>,
    preview: Option<String>,
}

impl EditPage {
    fn checked(&self, slug: &str) -> bool {
        self.form.need_groups.iter().any(|g| g == slug)
    }
    fn level_selected(&self, level: &str) -> bool {
        self.form.security_level == level
    }
    fn logo_url(&self) -> Option<String> {
        is_logo_name(&self.form.logo_path).then(|| format!("/media/logos/{}", self.form.logo_path))
    }
}

fn stamp(t: OffsetDateTime) -> String {
    t.unix_timestamp_nanos().to_string()
}

fn parse_stamp(text: &str) -> Option<OffsetDateTime> {
    text.trim().parse::<i128>().ok().and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
}

/// The platform `slug` if it belongs to the user's enterprise; 403 if it exists but is another's.
async fn owned(state: &AppState, user: &EnterpriseUser, slug: &str) -> AppResult<OwnedPlatform> {
    if let Some(p) = revisions::owned_platform(&state.pool, user.enterprise_id, slug).await? {
        return Ok(p);
    }
    match catalogue::find(&state.pool, slug).await? {
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EditQuery {
    logo: String,
    logo_error: String,
}

/// `GET /account/platforms/{slug}/edit`: the draft if there is one, else the published listing.
pub async fn edit_listing_form(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path(slug): Path<String>,
    Query(q): Query<EditQuery>,
) -> AppResult<EditPage> {
    let platform = owned(&state, &user, &slug).await?;
    let open = revisions::open_revision(&state.pool, platform.id).await?;
    let listing = match &open {
        Some(r) => serde_json::from_value::<Listing>(r.proposed.clone()).unwrap_or_default(),
        None => revisions::listing(&state.pool, platform.id).await?,
    };
    let mut form = ListingForm::from_listing(&listing);
    let mut errors = FormErrors::new();
    if is_logo_name(&q.logo) {
        form.logo_path = q.logo;
    }
    if let Some(key) = logo_error_key(&q.logo_error) {
        errors.add("logo", key);
    }
    page(&state, layout, platform, form, errors, open.as_ref(), None, None).await
}

fn logo_error_key(code: &str) -> Option<&'static str> {
    match code {
        "type" => Some("logo.not_image"),
        "size" => Some("logo.too_large"),
        "dimensions" => Some("logo.dimensions"),
        "missing" => Some("form.required"),
        _ => None,
    }
}

#[expect(clippy::too_many_arguments, reason = "one page, assembled from its parts")]
async fn page(
    state: &AppState,
    layout: Layout,
    platform: OwnedPlatform,
    form: ListingForm,
    errors: FormErrors,
    open: Option<&Revision>,
    conflict: Option<&'static str>,
    preview: Option<String>,
) -> AppResult<EditPage> {
    let need_groups = directory::need_groups(&state.pool).await?;
    let last_rejection = revisions::last_decided(&state.pool, platform.id)
        .await?
        .filter(|r| r.state == RevisionState::Rejected)
        .and_then(|r| r.reject_reason);
    Ok(EditPage {
        layout,
        base_platform: stamp(platform.updated_at),
        base_draft: open.filter(|r| r.state == RevisionState::Draft).map(|r| stamp(r.updated_at)).unwrap_or_default(),
        awaiting_review: open.is_some_and(|r| r.state == RevisionState::Submitted),
        has_draft: open.is_some_and(|r| r.state == RevisionState::Draft),
        platform,
        form,
        errors,
        need_groups,
        conflict,
        last_rejection,
        preview,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SaveForm {
    #[serde(flatten)]
    listing: ListingForm,
    base_platform: String,
    base_draft: String,
    action: String,
}

/// `POST /account/platforms/{slug}/edit`: preview, save a draft, submit for review, or discard.
/// A form loaded before someone else changed the listing or the draft is refused with 409 and
/// shown again with everything typed kept.
pub async fn save_listing(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path(slug): Path<String>,
    Form(form): Form<SaveForm>,
) -> AppResult<Response> {
    let platform = owned(&state, &user, &slug).await?;
    if form.action == "discard" {
        return discard_draft(&state, &user, platform.id, &slug).await;
    }
    let known = revisions::need_group_slugs(&state.pool).await?;
    let open = revisions::open_revision(&state.pool, platform.id).await?;
    let listing = match form.listing.parse(&known) {
        Ok(listing) => listing,
        Err(errors) => {
            let p = page(&state, layout, platform, form.listing, FormErrors::from_list(errors), open.as_ref(), None, None).await?;
            return Ok(invalid(p));
        }
    };
    if form.action == "preview" {
        let html = crate::markdown::render(listing.description.as_deref().unwrap_or(""));
        return Ok(page(&state, layout, platform, form.listing, FormErrors::new(), open.as_ref(), None, Some(html)).await?.into_response());
    }
    let submit = form.action == "submit";
    let Some(platform_updated_at) = parse_stamp(&form.base_platform) else { return Err(AppError::BadRequest("form base")) };
    let base = FormBase { platform_updated_at, draft_updated_at: parse_stamp(&form.base_draft) };
    let mut tx = state.pool.begin().await?;
    let revision_id = match revisions::save(&mut tx, platform.id, user.enterprise_id, user.user.id(), &base, &listing, submit).await? {
        Ok(id) => id,
        Err(refused) => {
            drop(tx);
            return changed_meanwhile(&state, layout, &user, &slug, form.listing, refused).await;
        }
    };
    let action = if submit { "revision.submitted" } else { "revision.saved" };
    let after = serde_json::to_value(&listing).map_err(anyhow::Error::from)?;
    audit::record(&mut *tx, &user.user.actor, Event::new(action, "revision", revision_id.to_string()).after(after)).await?;
    tx.commit().await?;
    set_flash(&user.user.session, if submit { "listing.submitted" } else { "listing.saved" }).await?;
    Ok(see_other(&if submit { "/account".to_owned() } else { format!("/account/platforms/{slug}/edit") }))
}

/// Throws the platform's draft away.
async fn discard_draft(state: &AppState, user: &EnterpriseUser, platform_id: i64, slug: &str) -> AppResult<Response> {
    if revisions::discard_draft(&state.pool, platform_id).await? {
        audit::record(&state.pool, &user.user.actor, Event::new("revision.discarded", "platform", platform_id.to_string())).await?;
    }
    set_flash(&user.user.session, "listing.discarded").await?;
    Ok(see_other(&format!("/account/platforms/{slug}/edit")))
}

/// The form again (409), with what was typed, when the listing or its draft changed since the
/// form was opened or a change waits for review.
async fn changed_meanwhile(
    state: &AppState,
    layout: Layout,
    user: &EnterpriseUser,
    slug: &str,
    typed: ListingForm,
    refused: SaveRefused,
) -> AppResult<Response> {
    let key = match refused {
        SaveRefused::ListingChanged => "listing.conflict_published",
        SaveRefused::DraftChanged => "listing.conflict_draft",
        SaveRefused::AwaitingReview => "listing.conflict_review",
    };
    let fresh = revisions::owned_platform(&state.pool, user.enterprise_id, slug).await?.ok_or(AppError::NotFound)?;
    let open = revisions::open_revision(&state.pool, fresh.id).await?;
    let p = page(state, layout, fresh, typed, FormErrors::new(), open.as_ref(), Some(key), None).await?;
    Ok((StatusCode::CONFLICT, p).into_response())
}

/// `POST /account/platforms/{slug}/confirm`: the owner confirms the listing is still correct.
pub async fn confirm_listing(State(state): State<AppState>, user: EnterpriseUser, Path(slug): Path<String>) -> AppResult<Response> {
    let platform = owned(&state, &user, &slug).await?;
    revisions::confirm(&state.pool, platform.id).await?;
    audit::record(&state.pool, &user.user.actor, Event::new("listing.confirmed", "platform", platform.id.to_string())).await?;
    set_flash(&user.user.session, "listing.confirmed").await?;
    Ok(see_other("/account"))
}

/// Why an upload was refused (the code travels in the redirect's query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoRefused {
    /// Not a PNG, JPEG or WebP image that decodes.
    NotImage,
    /// Over [`LOGO_MAX_BYTES`].
    TooLarge,
    /// Too small or too large in pixels.
    Dimensions,
}

impl LogoRefused {
    /// The `logo_error` the edit form explains.
    fn code(self) -> &'static str {
        match self {
            Self::NotImage => "type",
            Self::TooLarge => "size",
            Self::Dimensions => "dimensions",
        }
    }
}

/// Decodes an uploaded logo (the bytes decide the type, never the name), bounds its size,
/// and re-encodes it as PNG, which drops every piece of metadata.
pub fn process_logo(bytes: &[u8]) -> Result<Vec<u8>, LogoRefused> {
    use image::{ImageFormat, ImageReader, Limits};
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(LogoRefused::TooLarge);
    }
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| LogoRefused::NotImage)?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) {
        return Err(LogoRefused::NotImage);
    }
    let (width, height) = reader.into_dimensions().map_err(|_| LogoRefused::NotImage)?;
    if width < 16 || height < 16 || width > LOGO_MAX_SIDE || height > LOGO_MAX_SIDE {
        return Err(LogoRefused::Dimensions);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| LogoRefused::NotImage)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(LOGO_MAX_SIDE);
    limits.max_image_height = Some(LOGO_MAX_SIDE);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|_| LogoRefused::NotImage)?;
    let image =
        if width > LOGO_STORED_SIDE || height > LOGO_STORED_SIDE { image.thumbnail(LOGO_STORED_SIDE, LOGO_STORED_SIDE) } else { image };
    let mut out = Cursor::new(Vec::new());
    image.to_rgba8().write_to(&mut out, ImageFormat::Png).map_err(|_| LogoRefused::NotImage)?;
    Ok(out.into_inner())
}

/// `POST /account/platforms/{slug}/logo` (multipart: `csrf_token` first, checked by the CSRF
/// guard, then `logo`): stores the re-encoded logo under the data directory and returns to the
/// edit form with it filled in; it is published with the next approved revision.
pub async fn upload_logo(
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest("multipart"))? {
        if field.name() == Some("logo") {
            file = Some(read_limited(field).await?);
        }
    }
    owned(&state, &user, &slug).await?;
    let back = format!("/account/platforms/{slug}/edit");
    let bytes = match file {
        Some(Some(bytes)) if !bytes.is_empty() => bytes,
        Some(None) => return Ok(see_other(&format!("{back}?logo_error=size"))),
        _ => return Ok(see_other(&format!("{back}?logo_error=missing"))),
    };
    let png = match tokio::task::spawn_blocking(move || process_logo(&bytes)).await.map_err(anyhow::Error::from)? {
        Ok(png) => png,
        Err(refused) => return Ok(see_other(&format!("{back}?logo_error={}", refused.code()))),
    };
    let name = store_logo(&state, &png).await?;
    let event = Event::new("platform_logo.uploaded", "platform", slug.clone()).after(serde_json::json!({"file": name}));
    audit::record(&state.pool, &user.user.actor, event).await?;
    Ok(see_other(&format!("{back}?logo={name}")))
}

/// Stores a re-encoded logo under its content hash; its file name.
async fn store_logo(state: &AppState, png: &[u8]) -> AppResult<String> {
    let name = format!("{}.png", crate::auth::token::digest_bytes(png));
    let dir = state.config.data_dir.join("uploads").join("logos");
    tokio::fs::create_dir_all(&dir).await.map_err(anyhow::Error::from)?;
    tokio::fs::write(dir.join(&name), png).await.map_err(anyhow::Error::from)?;
    Ok(name)
}

/// Reads an upload field up to the logo limit; `None` when it is larger.
async fn read_limited(mut field: axum_extra::extract::multipart::Field) -> AppResult<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| AppError::BadRequest("multipart"))? {
        if bytes.len() + chunk.len() > LOGO_MAX_BYTES {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// `GET /media/logos/{file}`: logos are served by the app from outside the web root.
pub async fn logo(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    if !is_logo_name(&file) {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(state.config.data_dir.join("uploads").join("logos").join(&file)).await.map_err(|_| AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/new_platform.html")]
pub struct NewPlatformPage {
    layout: Layout,
    form: Dossier,
    errors: FormErrors,
    agencies: Vec<DirectoryEntry>,
}

impl NewPlatformPage {
    fn kinds(&self) -> &'static [Kind] {
        Kind::ALL
    }
    fn dossier_states(&self) -> [&'static str; 4] {
        SECURITY_DOSSIER
    }
}

/// `GET /account/platforms/new`.
pub async fn new_platform_form(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    _user: EnterpriseUser,
) -> AppResult<NewPlatformPage> {
    let agencies = directory::agencies(&state.pool).await?;
    Ok(NewPlatformPage { layout, form: Dossier::default(), errors: FormErrors::new(), agencies })
}

/// `POST /account/platforms/new`: files the registration dossier for staff review.
pub async fn register_platform(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: EnterpriseUser,
    Form(mut dossier): Form<Dossier>,
) -> AppResult<Response> {
    let agencies = directory::agencies(&state.pool).await?;
    let known: Vec<String> = agencies.iter().map(|a| a.slug.clone()).collect();
    if let Err(errors) = dossier.validate(&known) {
        return Ok(invalid(NewPlatformPage { layout, form: dossier, errors: FormErrors::from_list(errors), agencies }));
    }
    let mut tx = state.pool.begin().await?;
    let id = registrations::create(&mut *tx, user.enterprise_id, user.user.id(), &dossier).await?;
    let after = serde_json::to_value(&dossier).map_err(anyhow::Error::from)?;
    audit::record(&mut *tx, &user.user.actor, Event::new("platform_registration.submitted", "revision", id.to_string()).after(after))
        .await?;
    tx.commit().await?;
    set_flash(&user.user.session, "listing.registration_submitted").await?;
    Ok(see_other("/account"))
}

/// One approved change in the public history.
pub struct HistoryItem {
    enterprise: Option<String>,
    decided_at: Option<OffsetDateTime>,
    changes: Vec<Change>,
}

#[derive(Template, WebTemplate)]
#[template(path = "platforms/history.html")]
pub struct HistoryPage {
    layout: Layout,
    slug: String,
    name: String,
    items: Vec<HistoryItem>,
}

/// `GET /platforms/{slug}/history`: every approved revision, who (the enterprise) and when, with a field diff.
pub async fn platform_history(PageCtx(layout): PageCtx, State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<HistoryPage> {
    let platform = catalogue::find(&state.pool, &slug).await?.ok_or(AppError::NotFound)?;
    let entries = revisions::history(&state.pool, platform.id).await?;
    let names = revisions::need_group_names(&state.pool).await?;
    let items = entries
        .into_iter()
        .map(|e| {
            let after: Listing = serde_json::from_value(e.proposed).unwrap_or_default();
            let before: Listing = e.previous.and_then(|p| serde_json::from_value(p).ok()).unwrap_or_default();
            let mut changes = after.changes_from(&before);
            crate::domain::listing::name_need_groups(&mut changes, &names);
            HistoryItem { enterprise: e.enterprise_name, decided_at: e.decided_at, changes }
        })
        .collect();
    Ok(HistoryPage { layout, slug: platform.slug, name: platform.name, items })
}

#[cfg(test)]
mod tests {
    use super::SaveForm;

    #[test]
    fn the_edit_form_accepts_none_one_or_several_need_groups_as_browsers_send_them() {
        for (body, expected) in [
            ("name=A&action=submit", vec![]),
            ("name=A&need_groups=hoc-tap&action=submit", vec!["hoc-tap"]),
            ("name=A&need_groups=hoc-tap&need_groups=y-te&action=submit", vec!["hoc-tap", "y-te"]),
        ] {
            let form: SaveForm = serde_html_form::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(form.listing.need_groups, expected, "{body}");
            assert_eq!(form.action, "submit");
        }
    }
}
