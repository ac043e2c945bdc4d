//! Every public page type is valid HTML, as the Nu Html Checker (vnu-jar) judges it.

use serde::Deserialize;

use super::page_types::{self, PUBLIC};
use super::tools;
use crate::common::TestApp;

#[tokio::test]
async fn every_public_page_type_is_valid_html_in_both_languages() {
    let app = TestApp::spawn().await;
    page_types::arrange(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for page in PUBLIC {
        for lang in ["vi", "en"] {
            let path = page_types::with_lang(page.path, lang);
            let response = app.get_response(&path).await;
            assert!(response.status().is_success() || page.name == "not-found", "{path} answered {}", response.status());
            let file = dir.path().join(format!("{}.{lang}.html", page.name));
            std::fs::write(&file, response.text().await.expect("body")).expect("write page");
            files.push((file, path));
        }
    }
    // A broken page in the same run shows that the checker really looked at the files.
    let broken = dir.path().join("broken-on-purpose.html");
    std::fs::write(&broken, "<!doctype html><html lang=vi><title>x</title><p><span><div>x</div></span>").expect("write");
    let (errors, expected): (Vec<Message>, Vec<Message>) = validate(files.iter().map(|(file, _)| file.as_path()).chain([broken.as_path()]))
        .await
        .into_iter()
        .partition(|e| !e.url.ends_with("broken-on-purpose.html"));
    assert!(!expected.is_empty(), "the checker should report the page broken on purpose");
    let report: Vec<String> = errors
        .iter()
        .map(|e| {
            let page = files.iter().find(|(f, _)| e.url.ends_with(&*f.to_string_lossy())).map_or(e.url.as_str(), |(_, p)| p.as_str());
            format!("{page}:{}: {}\n      {}", e.last_line.unwrap_or(0), e.message, e.extract.as_deref().unwrap_or("").trim())
        })
        .collect();
    assert!(report.is_empty(), "{} HTML errors:\n{}", report.len(), report.join("\n"));
}

/// One message of the checker.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(rename = "lastLine")]
    last_line: Option<u32>,
    message: String,
    extract: Option<String>,
}

/// Checks the files in one run of the checker (one JVM start); returns the errors.
async fn validate(files: impl Iterator<Item = &std::path::Path>) -> Vec<Message> {
    let jar = tools::npm_file(tools::VNU_JAR, "build/dist/vnu.jar");
    let mut command = tokio::process::Command::new(tools::java());
    command.arg("-jar").arg(&jar).args(["--errors-only", "--format", "json"]).args(files);
    let output = command.output().await.unwrap_or_else(|e| panic!("run the Nu Html Checker: {e}"));
    // The checker writes its JSON report to standard error; it exits 1 when it found errors.
    let report = String::from_utf8_lossy(&output.stderr);
    let parsed: serde_json::Value = serde_json::from_str(&report)
        .unwrap_or_else(|e| panic!("the Nu Html Checker's report is not JSON ({e}); exit {:?}:\n{report}", output.status.code()));
    let messages: Vec<Message> = serde_json::from_value(parsed["messages"].clone()).expect("messages");
    messages.into_iter().filter(|m| m.kind == "error" || m.kind == "non-document-error").collect()
}
