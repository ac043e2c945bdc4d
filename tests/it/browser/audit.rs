//! Accessibility of every public page type, in both languages, at phone and desktop widths: axe-core
//! with the WCAG 2.1 A and AA rules, and the checks axe leaves to people (skip link, one `h1`,
//! landmarks, labelled controls, the document's language).

use std::time::Duration;

use fantoccini::Locator;
use serde::Deserialize;
use serde_json::json;

use super::page_types::{self, PUBLIC, Role, SECOND_FACTOR, SIGNED_IN, SIGNED_OUT_FORMS};
use super::{Browser, WIDTHS, tools};
use crate::common::{TestApp, wait_until};

/// The axe-core rule tags run: WCAG 2.0 and 2.1, levels A and AA.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

#[tokio::test]
async fn every_public_page_passes_axe_and_the_structure_checks_in_both_languages_at_both_widths() {
    let app = TestApp::spawn().await;
    page_types::arrange(&app).await;
    let axe = Axe::load();
    let browser = Browser::start(&app.base).await;
    checks_catch_broken_markup(&browser, &axe).await;
    let mut problems = Vec::new();
    for width in WIDTHS {
        browser.set_viewport(width, 900).await;
        for lang in ["vi", "en"] {
            for page in PUBLIC {
                let path = page_types::with_lang(page.path, lang);
                browser.open(&path).await;
                let at = format!("{} ({path}, {width} px)", page.name);
                for violation in axe.run(&browser).await {
                    problems.push(format!("{at}: {violation}"));
                }
                for problem in structure_problems(&browser, lang).await {
                    problems.push(format!("{at}: {problem}"));
                }
            }
        }
    }
    problems.extend(suggestion_problems(&browser, &axe).await);
    let paths: Vec<String> = PUBLIC.iter().map(|page| page.path.to_owned()).collect();
    problems.extend(reflow_problems(&browser, &paths).await);
    browser.quit().await;
    assert!(problems.is_empty(), "{} accessibility problems:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test]
async fn every_account_and_staff_page_passes_axe_and_the_structure_checks_in_both_languages_at_both_widths() {
    let app = TestApp::spawn().await;
    let arranged = page_types::arrange(&app).await;
    let axe = Axe::load();
    let browser = Browser::start(&app.base).await;
    let mut problems = Vec::new();
    let mut reflow_paths = Vec::new();
    for page in SIGNED_OUT_FORMS {
        let path = arranged.path(page.path);
        problems.extend(page_problems(&browser, &axe, page.name, &path).await);
        reflow_paths.push(path);
    }
    problems.extend(reflow_problems(&browser, &reflow_paths).await);
    for (role, pages) in SIGNED_IN {
        browser.sign_in(role.email()).await;
        if role.is_staff() {
            if *role == Role::Moderator {
                problems.extend(page_problems(&browser, &axe, SECOND_FACTOR.name, SECOND_FACTOR.path).await);
            }
            browser.enter_code(&app.fresh_totp_code(role.email(), arranged.secret(*role)).await).await;
        }
        let paths: Vec<String> = pages.iter().map(|page| arranged.path(page.path)).collect();
        for (page, path) in pages.iter().zip(&paths) {
            problems.extend(page_problems(&browser, &axe, page.name, path).await);
        }
        problems.extend(reflow_problems(&browser, &paths).await);
        browser.sign_out().await;
    }
    browser.quit().await;
    assert!(problems.is_empty(), "{} accessibility problems:\n{}", problems.len(), problems.join("\n"));
}

/// axe-core and the structure checks on one page, in both languages at both widths.
async fn page_problems(browser: &Browser, axe: &Axe, name: &str, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for width in WIDTHS {
        browser.set_viewport(width, 900).await;
        for lang in ["vi", "en"] {
            let path = page_types::with_lang(path, lang);
            browser.open(&path).await;
            let at = format!("{name} ({path}, {width} px)");
            for violation in axe.run(browser).await {
                problems.push(format!("{at}: {violation}"));
            }
            for problem in structure_problems(browser, lang).await {
                problems.push(format!("{at}: {problem}"));
            }
            // What a disclosure hides (the flag form under each comment) is checked open too.
            if browser.js::<bool>(OPEN_DETAILS, vec![]).await {
                for violation in axe.run(browser).await {
                    problems.push(format!("{at}, with its <details> open: {violation}"));
                }
                for problem in structure_problems(browser, lang).await {
                    problems.push(format!("{at}, with its <details> open: {problem}"));
                }
            }
        }
    }
    problems
}

/// Opens every closed `<details>` in the main landmark; says whether there was one.
const OPEN_DETAILS: &str = "const closed = [...document.querySelectorAll('main details:not([open])')];
for (const d of closed) d.open = true;
return closed.length > 0;";

#[tokio::test]
async fn form_errors_are_summarised_focused_and_linked_to_the_fields_that_are_marked_invalid() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Enterprise.email(), "enterprise", Some("coc-coc")).await;
    let axe = Axe::load();
    let browser = Browser::start(&app.base).await;
    let mut problems = Vec::new();
    // Nothing typed: the name, email, password and consent are missing.
    for lang in ["vi", "en"] {
        browser.open(&page_types::with_lang("/register", lang)).await;
        browser
            .client
            .find(Locator::Css("main form button[type=submit]"))
            .await
            .expect("the register button")
            .click()
            .await
            .expect("click");
        problems.extend(error_state_problems(&browser, &axe, &format!("register with errors ({lang})"), lang).await);
    }
    browser.sign_in(Role::Enterprise.email()).await;
    for lang in ["vi", "en"] {
        browser.open(&page_types::with_lang("/account/platforms/coc-coc/edit", lang)).await;
        let _: Option<String> = browser
            .js(
                "document.getElementById('f-name').value = '';
                 document.getElementById('f-website').value = 'javascript:alert(1)';
                 document.getElementById('f-reported_users').value = 'nhiều lắm';
                 for (const box of document.querySelectorAll('input[name=need_groups]')) box.checked = false;
                 const level = document.getElementById('f-security_level');
                 level.add(new Option('9', '9', true, true));
                 return null;",
                vec![],
            )
            .await;
        browser.client.find(Locator::Css("main form button[value=submit]")).await.expect("the submit button").click().await.expect("click");
        problems.extend(error_state_problems(&browser, &axe, &format!("listing edit with errors ({lang})"), lang).await);
    }
    // Nothing typed in the registration of a new platform.
    for lang in ["vi", "en"] {
        browser.open(&page_types::with_lang("/account/platforms/new", lang)).await;
        browser.client.find(Locator::Css("main form button[type=submit]")).await.expect("the submit button").click().await.expect("click");
        problems.extend(error_state_problems(&browser, &axe, &format!("new platform with errors ({lang})"), lang).await);
    }
    // A rating sent without stars, and a question with nothing typed.
    browser.sign_out().await;
    app.create_user(Role::Citizen.email(), "citizen", None).await;
    browser.sign_in(Role::Citizen.email()).await;
    for lang in ["vi", "en"] {
        browser.open(&page_types::with_lang("/platforms/vneid", lang)).await;
        let send = browser.client.find(Locator::Css("main form[action$='/ratings'] button[type=submit]")).await.expect("the rating button");
        send.click().await.expect("click");
        problems.extend(error_state_problems(&browser, &axe, &format!("rating without stars ({lang})"), lang).await);
    }
    for lang in ["vi", "en"] {
        browser.open(&page_types::with_lang("/qa/ask", lang)).await;
        browser.client.find(Locator::Css("main form button[type=submit]")).await.expect("the ask button").click().await.expect("click");
        problems.extend(error_state_problems(&browser, &axe, &format!("question with errors ({lang})"), lang).await);
    }
    // The checks notice a field that lost its message and a summary that lost the focus.
    let _: Option<String> = browser
        .js("document.querySelector('[aria-invalid=true]').removeAttribute('aria-describedby'); document.activeElement.blur(); return null;", vec![])
        .await;
    let caught: Vec<String> = browser.js(ERROR_CHECKS, vec![]).await;
    for expected in ["not on the error summary", "not described by its message"] {
        assert!(caught.iter().any(|p| p.contains(expected)), "the error checks should report {expected:?}, reported {caught:?}");
    }
    browser.quit().await;
    assert!(problems.is_empty(), "{} problems with form errors:\n{}", problems.len(), problems.join("\n"));
}

/// After a failed submission: the error summary has the focus and links to each field, which is
/// marked invalid and described by its message; then axe and the structure checks at both widths.
async fn error_state_problems(browser: &Browser, axe: &Axe, at: &str, lang: &str) -> Vec<String> {
    browser.wait_for(".error-summary").await;
    let mut problems: Vec<String> =
        browser.js::<Vec<String>>(ERROR_CHECKS, vec![]).await.into_iter().map(|p| format!("{at}: {p}")).collect();
    for width in WIDTHS {
        browser.set_viewport(width, 900).await;
        for violation in axe.run(browser).await {
            problems.push(format!("{at}, {width} px: {violation}"));
        }
        for problem in structure_problems(browser, lang).await {
            problems.push(format!("{at}, {width} px: {problem}"));
        }
    }
    problems
}

/// What WCAG 3.3.1 and 4.1.2 ask of a form shown again with errors, as the portal does it: an
/// error summary with the focus, a link per problem to its field, each field with
/// `aria-invalid="true"` and `aria-describedby` naming its message (a group of choices: the
/// fieldset names it).
const ERROR_CHECKS: &str = r##"
const problems = [];
const describe = el => el ? el.outerHTML.slice(0, 120) : 'nothing';
const summary = document.querySelector('.error-summary');
if (!summary) return ['no error summary'];
if (document.activeElement !== summary) problems.push(`the focus is on ${describe(document.activeElement)}, not on the error summary`);
const describedByError = el => (el.getAttribute('aria-describedby') || '').split(/\s+/)
  .some(id => { const e = id && document.getElementById(id); return e && e.classList.contains('field-error') && e.textContent.trim(); });
const checkControl = control => {
  if (control.getAttribute('aria-invalid') !== 'true') problems.push(`a field with an error is not aria-invalid: ${describe(control)}`);
  if (!describedByError(control)) problems.push(`a field with an error is not described by its message: ${describe(control)}`);
};
const links = [...summary.querySelectorAll('a')];
if (!links.length) problems.push('the error summary links to no field');
for (const link of links) {
  const href = link.getAttribute('href') || '';
  if (!href.startsWith('#f-')) { problems.push(`a summary link does not lead to a field: ${describe(link)}`); continue; }
  const target = document.getElementById(href.slice(1));
  if (!target) { problems.push(`the summary link ${href} leads nowhere`); continue; }
  if (['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) checkControl(target);
  else if (target.tagName === 'FIELDSET') {
    if (!describedByError(target)) problems.push(`a group with an error is not described by its message: ${describe(target)}`);
  } else problems.push(`the summary link ${href} leads to ${describe(target)}, not a field`);
}
for (const control of document.querySelectorAll('[aria-invalid="true"]')) {
  if (!describedByError(control)) problems.push(`an invalid field is not described by its message: ${describe(control)}`);
  if (!links.some(l => l.getAttribute('href') === '#' + control.id)) problems.push(`an invalid field is missing from the error summary: ${describe(control)}`);
}
return problems;
"##;

/// The type-ahead list, open, in both languages and at both widths (the pages above are checked
/// with it closed).
async fn suggestion_problems(browser: &Browser, axe: &Axe) -> Vec<String> {
    let mut problems = Vec::new();
    for width in WIDTHS {
        browser.set_viewport(width, 900).await;
        for lang in ["vi", "en"] {
            browser.open(&page_types::with_lang("/", lang)).await;
            let input = browser.client.find(Locator::Css("#home-q")).await.expect("the home page's search box");
            input.send_keys("vne").await.expect("type");
            let opened = wait_until(Duration::from_secs(10), || async {
                browser.client.execute("return !document.getElementById('home-q-listbox').hidden", vec![]).await.is_ok_and(|v| v == true)
            })
            .await;
            if opened.is_err() {
                problems.push(format!("home ({lang}, {width} px): typing \"vne\" opened no suggestion list"));
                continue;
            }
            for violation in axe.run(browser).await {
                problems.push(format!("home with suggestions open ({lang}, {width} px): {violation}"));
            }
        }
    }
    problems
}

/// WCAG 1.4.10 and 1.4.4: at 320 px wide, and at desktop width with text at 200 %, no page scrolls
/// sideways (each page in Vietnamese, whose words are the longer).
async fn reflow_problems(browser: &Browser, paths: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for (width, text_size) in [(320, "100%"), (WIDTHS[1], "200%")] {
        browser.set_viewport(width, 900).await;
        for path in paths {
            browser.open(&page_types::with_lang(path, "vi")).await;
            let _: bool = browser.js(OPEN_DETAILS, vec![]).await;
            let wide: Vec<String> = browser.js(SIDEWAYS, vec![json!(text_size)]).await;
            if !wide.is_empty() {
                problems.push(format!("{path} at {width} px, text {text_size}: the page scrolls sideways; too wide: {}", wide.join(", ")));
            }
        }
    }
    problems
}

/// Sets the text size, then names the elements that stick out of the viewport on the right.
const SIDEWAYS: &str = r#"
document.documentElement.style.fontSize = arguments[0];
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth <= width) return [];
return [...document.body.querySelectorAll('*')]
  .filter(el => el.getBoundingClientRect().right > width + 1)
  .slice(-5)
  .map(el => el.outerHTML.slice(0, 100));
"#;

/// Breaks a page on purpose and makes sure both checks notice, so a passing run means something.
async fn checks_catch_broken_markup(browser: &Browser, axe: &Axe) {
    browser.open("/platforms").await;
    let _: Option<String> = browser
        .js(
            "document.querySelector('main').insertAdjacentHTML('afterbegin', '<img src=\"/x.png\"><h1>Second</h1>');
             document.getElementById('f-q').removeAttribute('id');
             document.querySelector('.skip-link').remove();
             const wide = document.createElement('div');
             wide.style.width = '3000px';
             wide.style.height = '1em';
             document.querySelector('main').append(wide);
             return null;",
            vec![],
        )
        .await;
    let rules: Vec<String> = axe.run(browser).await.into_iter().map(|v| v.id).collect();
    assert!(rules.iter().any(|r| r == "image-alt"), "axe-core should report the image without alt text, reported {rules:?}");
    let problems = structure_problems(browser, "vi").await;
    for expected in ["2 h1 elements", "not a skip link", "form control without a label"] {
        assert!(problems.iter().any(|p| p.contains(expected)), "the structure checks should report {expected:?}, reported {problems:?}");
    }
    let wide: Vec<String> = browser.js(SIDEWAYS, vec![json!("100%")]).await;
    assert!(!wide.is_empty(), "the reflow check should notice an element wider than the viewport");
}

/// axe-core's source, injected into each page under test.
pub struct Axe {
    source: String,
}

/// One failed rule, as axe reports it.
#[derive(Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    #[serde(rename = "helpUrl")]
    help_url: String,
    nodes: Vec<ViolationNode>,
}

#[derive(Deserialize)]
struct ViolationNode {
    target: serde_json::Value,
    #[serde(rename = "failureSummary", default)]
    failure_summary: Option<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let impact = self.impact.as_deref().unwrap_or("unknown impact");
        write!(f, "axe {} ({impact}): {} <{}>", self.id, self.help, self.help_url)?;
        for node in &self.nodes {
            let summary = node.failure_summary.as_deref().unwrap_or("").replace('\n', " ");
            write!(f, "\n      at {}: {summary}", node.target)?;
        }
        Ok(())
    }
}

impl Axe {
    /// Reads axe-core from the npm cache, installing it there first if needed.
    pub fn load() -> Self {
        let path = tools::npm_file(tools::AXE_CORE, "axe.min.js");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        Self { source }
    }

    /// Runs the WCAG 2.1 A and AA rules on the current page; returns the failed rules.
    async fn run(&self, browser: &Browser) -> Vec<Violation> {
        // WebDriver scripts are not subject to the page's Content-Security-Policy, so axe can be
        // injected although the portal forbids inline scripts.
        let script = format!(
            "{}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: arguments[0] }}, resultTypes: ['violations'] }})\
               .then(r => done({{ violations: r.violations }}), e => done({{ error: String(e) }}));",
            self.source
        );
        let result = browser.client.execute_async(&script, vec![json!(AXE_TAGS)]).await.expect("run axe-core");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed on {}: {error}", browser.path().await);
        }
        serde_json::from_value(result["violations"].clone()).expect("axe-core's violations")
    }
}

/// What axe cannot judge: the document's language, one `h1`, the landmarks, a skip link as the first
/// tab stop that leads to the main landmark, no positive `tabindex`, every form control labelled.
async fn structure_problems(browser: &Browser, lang: &str) -> Vec<String> {
    browser.js(STRUCTURE_CHECKS, vec![json!(lang)]).await
}

const STRUCTURE_CHECKS: &str = r#"
const lang = arguments[0];
const problems = [];
const describe = el => el.outerHTML.slice(0, 120);
const docLang = document.documentElement.getAttribute('lang');
if (docLang !== lang) problems.push(`<html lang="${docLang}">, expected "${lang}"`);
const h1s = document.querySelectorAll('h1');
if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements, expected one`);
else if (!h1s[0].textContent.trim()) problems.push('the h1 is empty');
for (const [selector, name] of [['body > header', 'banner (header)'], ['nav', 'navigation (nav)'], ['main', 'main'], ['body > footer', 'contentinfo (footer)']]) {
  if (!document.querySelector(selector)) problems.push(`no ${name} landmark`);
}
if (document.querySelectorAll('main').length !== 1) problems.push('more than one main element');
const focusable = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
  .filter(el => !el.disabled && el.tabIndex >= 0 && !(el.type === 'hidden'));
const first = focusable[0];
const target = first && first.getAttribute('href') && first.getAttribute('href').startsWith('#')
  ? document.getElementById(first.getAttribute('href').slice(1)) : null;
if (!first || !first.classList.contains('skip-link') || !target || target.tagName !== 'MAIN') {
  problems.push(`the first tab stop is not a skip link to the main landmark: ${first ? describe(first) : 'none'}`);
}
for (const el of document.querySelectorAll('[tabindex]')) {
  if (el.tabIndex > 0) problems.push(`positive tabindex changes the tab order: ${describe(el)}`);
}
for (const control of document.querySelectorAll('input, select, textarea')) {
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(control.type)) continue;
  const labelled = [...control.labels].some(l => l.textContent.trim())
    || (control.getAttribute('aria-label') || '').trim()
    || (control.getAttribute('aria-labelledby') || '').split(/\s+/).some(id => id && document.getElementById(id) && document.getElementById(id).textContent.trim());
  if (!labelled) problems.push(`form control without a label: ${describe(control)}`);
}
for (const button of document.querySelectorAll('button')) {
  if (!button.textContent.trim() && !(button.getAttribute('aria-label') || '').trim()) problems.push(`button without a name: ${describe(button)}`);
}
return problems;
"#;
