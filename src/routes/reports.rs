//! Monthly figures reported by an enterprise for each of its platforms: one report per platform
//! and month, editable until the 25th of the following month; later first submissions are marked late.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event};
use crate::db::reports::{self, Figures, Report, VIETNAM};
use crate::db::revisions::{self, OwnedPlatform};
use crate::error::{AppError, AppResult};
use crate::extract::{EnterpriseUser, Layout, PageCtx};
use crate::routes::form::{FormErrors, invalid, see_other};
use crate::state::AppState;

/// How many past months the overview shows.
const MONTHS_SHOWN: usize = 3;

/// The months that can be reported now: the last completed months, newest first.
fn reportable_periods(now: OffsetDateTime) -> Vec<Date> {
    let mut period = reports::previous_period(reports::period_of(now.to_offset(VIETNAM).date()));
    let mut periods = Vec::with_capacity(MONTHS_SHOWN);
    for _ in 0..MONTHS_SHOWN {
        periods.push(period);
        period = reports::previous_period(period);
    }
    periods
}

/// A cell of the overview.
pub struct Cell {
    period: String,
    state: &'static str,
}

/// A row of the overview.
pub struct Row {
    slug: String,
    name: String,
    cells: Vec<Cell>,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/reports.html")]
pub struct ReportsPage {
    layout: Layout,
    periods: Vec<String>,
    rows: Vec<Row>,
}

fn state_of(report: Option<&Report>, period: Date, now: OffsetDateTime) -> &'static str {
    match report {
        Some(r) if r.submitted_at.is_some() && r.is_late => "late",
        Some(r) if r.submitted_at.is_some() => "submitted",
        _ if now > reports::deadline(period) => "overdue",
        _ => "due",
    }
}

/// `GET /account/reports`.
pub async fn list_reports(PageCtx(layout): PageCtx, State(state): State<AppState>, user: EnterpriseUser) -> AppResult<ReportsPage> {
    let now = OffsetDateTime::now_utc();
    let periods = reportable_periods(now);
    let (platforms, stored) = tokio::try_join!(
        revisions::platforms_of(&state.pool, user.enterprise_id),
        reports::of_enterprise(&state.pool, user.enterprise_id, &periods)
    )?;
    let rows = platforms
        .into_iter()
        .map(|platform| {
            let cells = periods
                .iter()
                .map(|period| {
                    let report = stored.iter().find(|r| r.platform_id == platform.id && r.period == *period);
                    Cell { period: reports::period_text(*period), state: state_of(report, *period, now) }
                })
                .collect();
            Row { slug: platform.slug, name: platform.name, cells }
        })
        .collect();
    Ok(ReportsPage { layout, periods: periods.into_iter().map(reports::period_text).collect(), rows })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    users: String,
    monthly_active_users: String,
    transactions: String,
    notes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/report_form.html")]
pub struct ReportPage {
    layout: Layout,
    platform: OwnedPlatform,
    period: String,
    deadline: Date,
    form: ReportForm,
    errors: FormErrors,
    locked: bool,
    late: bool,
}

async fn load(state: &AppState, user: &EnterpriseUser, slug: &str, period: &str) -> AppResult<(OwnedPlatform, Date)> {
    let platform = revisions::owned_platform(&state.pool, user.enterprise_id, slug).await?.ok_or(AppError::NotFound)?;
    let period = reports::parse_period(period).ok_or(AppError::NotFound)?;
    let current = reports::period_of(OffsetDateTime::now_utc().to_offset(VIETNAM).date());
    if period >= current {
        return Err(AppError::NotFound);
    }
    Ok((platform, period))
}

fn text(n: Option<i64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /account/platforms/{slug}/reports/{period}`.
pub async fn report_form(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path((slug, period_text)): Path<(String, String)>,
) -> AppResult<ReportPage> {
    let (platform, period) = load(&state, &user, &slug, &period_text).await?;
    let report = reports::find(&state.pool, platform.id, period).await?;
    let now = OffsetDateTime::now_utc();
    let locked = report.as_ref().is_some_and(|r| r.submitted_at.is_some()) && now > reports::deadline(period);
    let form = report
        .as_ref()
        .map(|r| ReportForm {
            users: text(r.users),
            monthly_active_users: text(r.monthly_active_users),
            transactions: text(r.transactions),
            notes: r.notes.clone().unwrap_or_default(),
        })
        .unwrap_or_default();
    let late = report.as_ref().is_some_and(|r| r.is_late) || (!locked && now > reports::deadline(period));
    Ok(ReportPage {
        layout,
        platform,
        period: reports::period_text(period),
        deadline: reports::deadline(period).to_offset(VIETNAM).date(),
        form,
        errors: FormErrors::new(),
        locked,
        late,
    })
}

impl ReportForm {
    /// The figures typed (at least one), or the form's errors.
    fn figures(&self) -> Result<Figures, FormErrors> {
        let mut errors = FormErrors::new();
        let figures = Figures {
            users: count(&mut errors, "users", &self.users),
            monthly_active_users: count(&mut errors, "monthly_active_users", &self.monthly_active_users),
            transactions: count(&mut errors, "transactions", &self.transactions),
            notes: Some(crate::domain::text::normalize(&self.notes)).filter(|n| !n.is_empty()),
        };
        if figures.notes.as_ref().is_some_and(|n| n.chars().count() > 3000) {
            errors.add("notes", "form.too_long");
        }
        if figures.users.is_none() && figures.monthly_active_users.is_none() && figures.transactions.is_none() && errors.is_empty() {
            errors.add("users", "report.no_figures");
        }
        if errors.is_empty() { Ok(figures) } else { Err(errors) }
    }
}

fn count(errors: &mut FormErrors, field: &'static str, value: &str) -> Option<i64> {
    let digits = value.trim().replace(['.', ',', ' '], "");
    if digits.is_empty() {
        return None;
    }
    match digits.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        _ => {
            errors.add(field, "form.whole_number");
            None
        }
    }
}

/// `POST /account/platforms/{slug}/reports/{period}`.
pub async fn submit_report(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path((slug, period_text)): Path<(String, String)>,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let (platform, period) = load(&state, &user, &slug, &period_text).await?;
    let deadline = reports::deadline(period).to_offset(VIETNAM).date();
    let now = OffsetDateTime::now_utc();
    let figures = match form.figures() {
        Ok(figures) => figures,
        Err(errors) => {
            let late = now > reports::deadline(period);
            let page = ReportPage { layout, platform, period: reports::period_text(period), deadline, form, errors, locked: false, late };
            return Ok(invalid(page));
        }
    };
    if !reports::submit(&state.pool, platform.id, user.enterprise_id, period, &figures, user.user.id(), now).await? {
        let errors = FormErrors::new();
        let page = ReportPage { layout, platform, period: reports::period_text(period), deadline, form, errors, locked: true, late: true };
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let after = serde_json::json!({"period": reports::period_text(period), "users": figures.users, "monthly_active_users": figures.monthly_active_users, "transactions": figures.transactions});
    audit::record(&state.pool, &user.user.actor, Event::new("monthly_report.submitted", "platform", platform.id.to_string()).after(after))
        .await?;
    set_flash(&user.user.session, "report.saved").await?;
    Ok(see_other("/account/reports"))
}
