//! Markdown from the database rendered to HTML that is safe to embed: the only source of `|safe`.

/// Renders Markdown and removes anything unsafe (scripts, event handlers, styles, unknown schemes).
pub fn render(markdown: &str) -> String {
    let parser =
        pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_is_rendered_and_scripts_are_removed() {
        let html = render("**đậm** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>");
        assert!(html.contains("<strong>đậm</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onerror"));
    }
}
