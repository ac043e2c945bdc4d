//! Accessibility of every public page type, in both languages, at phone and desktop widths: axe-core
//! with the WCAG 2.1 A and AA rules, and the checks axe leaves to people (skip link, one `h1`,
//! landmarks, labelled controls, the document's language).

use std::time::Duration;

use fantoccini::Locator;
use serde::Deserialize;
use serde_json::json;

use super::page_types::{self, PUBLIC};
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
    problems.extend(reflow_problems(&browser).await);
    browser.quit().await;
    assert!(problems.is_empty(), "{} accessibility problems:\n{}", problems.len(), problems.join("\n"));
}

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
async fn reflow_problems(browser: &Browser) -> Vec<String> {
    let mut problems = Vec::new();
    for (width, text_size) in [(320, "100%"), (WIDTHS[1], "200%")] {
        browser.set_viewport(width, 900).await;
        for page in PUBLIC {
            browser.open(&page_types::with_lang(page.path, "vi")).await;
            let wide: Vec<String> = browser.js(SIDEWAYS, vec![json!(text_size)]).await;
            if !wide.is_empty() {
                problems.push(format!(
                    "{} at {width} px, text {text_size}: the page scrolls sideways; too wide: {}",
                    page.path,
                    wide.join(", ")
                ));
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
