//! Keyboard-only use: the skip link comes first and works, and every tab stop shows where the focus is.

use fantoccini::key::Key;
use serde::Deserialize;

use super::{Browser, WIDTHS};
use crate::common::TestApp;

/// How many tab stops from the top of a page are checked for a visible focus indicator.
const TAB_STOPS: usize = 25;

#[tokio::test]
async fn skip_link_is_the_first_tab_stop_and_every_focused_element_shows_a_focus_indicator() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base).await;
    let mut problems = Vec::new();
    for width in WIDTHS {
        browser.set_viewport(width, 900).await;
        for path in ["/", "/platforms", "/platforms/dia-chi-so-quoc-gia", "/search?q=vneid"] {
            browser.open(path).await;
            browser.press(Key::Tab).await;
            let first = focused(&browser).await;
            if !first.classes.contains("skip-link") {
                problems.push(format!("{path} at {width} px: the first tab stop is {}, not the skip link", first.html));
            }
            if !first.on_screen {
                problems.push(format!("{path} at {width} px: the focused skip link is not on screen"));
            }
            browser.press(Key::Enter).await;
            let after_skip = focused(&browser).await;
            if after_skip.tag != "MAIN" {
                problems.push(format!("{path} at {width} px: the skip link moved the focus to {}, not to main", after_skip.html));
            }

            browser.open(path).await;
            for stop in 1..=TAB_STOPS {
                browser.press(Key::Tab).await;
                let now = focused(&browser).await;
                if now.tag == "BODY" {
                    break;
                }
                if !now.indicator {
                    problems.push(format!("{path} at {width} px, tab stop {stop}: no visible focus indicator on {}", now.html));
                }
            }
        }
    }
    browser.quit().await;
    assert!(problems.is_empty(), "keyboard problems:\n{}", problems.join("\n"));
}

/// The focused element, as a keyboard user would see it.
#[derive(Deserialize)]
struct Focused {
    tag: String,
    classes: String,
    html: String,
    /// Whether it lies within the viewport (focus scrolls it there).
    on_screen: bool,
    /// An outline or a box shadow marks it.
    indicator: bool,
}

async fn focused(browser: &Browser) -> Focused {
    browser
        .js(
            "const el = document.activeElement;
             const style = getComputedStyle(el);
             const rect = el.getBoundingClientRect();
             const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
             const shadow = style.boxShadow && style.boxShadow !== 'none';
             return {
               tag: el.tagName,
               classes: el.className || '',
               html: el.outerHTML.slice(0, 120),
               on_screen: rect.width > 1 && rect.height > 1 && rect.top >= 0 && rect.left >= 0
                 && rect.bottom <= window.innerHeight && rect.right <= window.innerWidth,
               indicator: !!(outline || shadow),
             };",
            vec![],
        )
        .await
}
