//! Q&A (`/qa`): anyone reads; signed-in, verified people ask (moderated); moderators answer at
//! once and the platform's enterprise answers under moderation; the asker marks the answer that
//! helped; moderators promote answered questions to the FAQ shown here and on the platform page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event};
use crate::db::qa::{self, Answer, Question};
use crate::db::{catalogue, contributions};
use crate::domain::account::Role;
use crate::domain::moderation::{Context, Hold, hold_rule};
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, FormCtx, Layout, Moderator, PageCtx};
use crate::routes::form::{FormErrors, invalid, see_other};
use crate::state::AppState;

/// Questions an account may ask per hour.
pub const QUESTIONS_PER_HOUR: i64 = crate::limits::QUESTIONS.per_hour as i64;

#[derive(Template, WebTemplate)]
#[template(path = "qa/list.html")]
pub struct QaPage {
    layout: Layout,
    questions: Vec<Question>,
}

/// `GET /qa`: the FAQ, then the newest answered and open questions.
pub async fn list_questions(PageCtx(layout): PageCtx, State(state): State<AppState>) -> AppResult<QaPage> {
    Ok(QaPage { layout, questions: qa::list(&state.pool, None, false, 100).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/show.html")]
pub struct QuestionPage {
    layout: Layout,
    question: Question,
    answers: Vec<Answer>,
    can_answer: bool,
    is_asker: bool,
    is_moderator: bool,
}

impl QuestionPage {
    /// The reasons a report (flag) may give.
    fn flag_reasons(&self) -> [&'static str; 6] {
        crate::domain::moderation::REASONS
    }
    /// Where a flag form returns to.
    fn back_path(&self) -> String {
        format!("/qa/{}", self.question.id)
    }

    fn is_accepted(&self, answer: impl crate::extract::AsCount) -> bool {
        self.question.accepted_answer_id == Some(answer.as_count())
    }
}

/// Whether `user` may answer `question`: moderators, and the enterprise of its platform.
async fn may_answer(state: &AppState, user: &CurrentUser, question: &Question) -> AppResult<(bool, Option<i64>)> {
    if user.role.can_moderate() && user.auth.second_factor {
        return Ok((true, None));
    }
    match (user.role, user.row.enterprise_id, question.platform_id) {
        (Role::Enterprise, Some(enterprise), Some(platform))
            if contributions::enterprise_owns(&state.pool, platform, enterprise).await? =>
        {
            Ok((true, Some(enterprise)))
        }
        _ => Ok((false, None)),
    }
}

/// `GET /qa/{id}`: a published question (its asker and moderators also see it while it waits).
pub async fn show_question(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(id): Path<i64>,
) -> AppResult<QuestionPage> {
    let question = qa::find(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let is_asker = user.as_ref().is_some_and(|u| Some(u.id()) == question.user_id);
    let is_moderator = user.as_ref().is_some_and(|u| u.role.can_moderate() && u.auth.second_factor);
    if !question.state.is_published() && !is_asker && !is_moderator {
        return Err(AppError::NotFound);
    }
    let can_answer = match &user {
        Some(u) if question.state.is_published() => may_answer(&state, u, &question).await?.0,
        _ => false,
    };
    let answers = qa::answers(&state.pool, id).await?;
    Ok(QuestionPage { layout, question, answers, can_answer, is_asker, is_moderator })
}

impl AskForm {
    /// The title, text and platform (id) of the question, or the form's errors.
    async fn parse(&self, state: &AppState) -> AppResult<Result<(String, String, Option<i64>), FormErrors>> {
        let title = crate::domain::text::normalize(&self.title);
        let body = crate::domain::text::normalize(&self.body);
        let mut errors = FormErrors::new();
        for (field, text, max) in [("title", &title, 300), ("question_body", &body, 5000)] {
            match text.chars().count() {
                0 => errors.add(field, "form.required"),
                n if n > max => errors.add(field, "form.too_long"),
                _ => {}
            }
        }
        let platform = match self.platform.trim() {
            "" => None,
            slug => catalogue::find(&state.pool, slug).await?.map(|p| p.id).or_else(|| {
                errors.add("platform", "form.choice");
                None
            }),
        };
        Ok(if errors.is_empty() { Ok((title, body, platform)) } else { Err(errors) })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AskForm {
    title: String,
    body: String,
    platform: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/ask.html")]
pub struct AskPage {
    layout: Layout,
    form: AskForm,
    errors: FormErrors,
    platforms: Vec<(String, String)>,
    verified: bool,
}

async fn platform_choices(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(catalogue::names(&state.pool).await?)
}

/// `GET /qa/ask`.
pub async fn ask_form(FormCtx(layout): FormCtx, State(state): State<AppState>, user: CurrentUser) -> AppResult<AskPage> {
    Ok(AskPage {
        layout,
        form: AskForm::default(),
        errors: FormErrors::new(),
        platforms: platform_choices(&state).await?,
        verified: user.verified(),
    })
}

/// `POST /qa/ask`: the question waits for a moderator; three per hour at most.
pub async fn ask_question(
    FormCtx(layout): FormCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AskForm>,
) -> AppResult<Response> {
    if !user.verified() {
        return Err(AppError::Conflict("opinions.verify_first"));
    }
    let (title, body, platform) = match form.parse(&state).await? {
        Ok(parsed) => parsed,
        Err(errors) => {
            let platforms = platform_choices(&state).await?;
            return Ok(invalid(AskPage { layout, form, errors, platforms, verified: true }));
        }
    };
    if qa::recent_questions(&state.pool, user.id()).await? >= QUESTIONS_PER_HOUR
        || !crate::limits::QUESTIONS.take_from(&state.pool, user.actor.addr.as_deref()).await?
    {
        return Err(AppError::TooManyRequests("qa.too_many", 3600));
    }
    let terms = crate::db::moderation::terms(&state.pool).await?;
    let new_account = time::OffsetDateTime::now_utc() - user.row.created_at < time::Duration::days(1);
    let hold = hold_rule(Some(&format!("{title}\n{body}")), &terms, Context { new_account, burst: false });
    let id = qa::ask(&state.pool, user.id(), &title, &body, platform, hold.map(Hold::as_str)).await?;
    audit::record(&state.pool, &user.actor, Event::new("question.asked", "question", id)).await?;
    set_flash(&user.session, "qa.asked").await?;
    Ok(see_other(&format!("/qa/{id}")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    body: String,
}

/// `POST /qa/{id}/answers`.
pub async fn answer_question(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> AppResult<Response> {
    let question = qa::find(&state.pool, id).await?.filter(|q| q.state.is_published()).ok_or(AppError::NotFound)?;
    let (allowed, enterprise) = may_answer(&state, &user, &question).await?;
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let body = crate::domain::text::normalize(&form.body);
    if body.is_empty() || body.chars().count() > 5000 {
        return Err(AppError::Conflict("qa.answer_text"));
    }
    let staff = enterprise.is_none();
    let hold = if staff { None } else { hold_rule(Some(&body), &crate::db::moderation::terms(&state.pool).await?, Context::default()) };
    let answer = qa::answer(&state.pool, id, user.id(), enterprise, &body, staff, hold.map(Hold::as_str)).await?;
    audit::record(&state.pool, &user.actor, Event::new("answer.written", "answer", answer).after(serde_json::json!({"published": staff})))
        .await?;
    set_flash(&user.session, if staff { "qa.answered" } else { "qa.answer_pending" }).await?;
    Ok(see_other(&format!("/qa/{id}")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    answer_id: i64,
}

/// `POST /qa/{id}/accept`: the asker marks the answer that helped.
pub async fn accept_answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    if !qa::accept(&state.pool, id, form.answer_id, user.id()).await? {
        return Err(AppError::Forbidden);
    }
    audit::record(
        &state.pool,
        &user.actor,
        Event::new("answer.accepted", "question", id).after(serde_json::json!({"answer": form.answer_id})),
    )
    .await?;
    Ok(see_other(&format!("/qa/{id}")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FaqForm {
    faq: String,
}

/// `POST /qa/{id}/faq` (moderators): promotes an answered question to the FAQ, or takes it out.
pub async fn set_faq(
    State(state): State<AppState>,
    Moderator(user): Moderator,
    Path(id): Path<i64>,
    Form(form): Form<FaqForm>,
) -> AppResult<Response> {
    let faq = form.faq == "yes";
    if !qa::set_faq(&state.pool, id, faq).await? {
        return Err(AppError::Conflict("qa.faq_needs_answer"));
    }
    audit::record(&state.pool, &user.actor, Event::new(if faq { "question.faq_added" } else { "question.faq_removed" }, "question", id))
        .await?;
    Ok(see_other(&format!("/qa/{id}")))
}
