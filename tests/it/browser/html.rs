//! Every page type is valid HTML, as the Nu Html Checker (vnu-jar) judges it: public pages, the
//! account forms, each role's pages, and forms shown again with errors.

use std::path::PathBuf;

use serde::Deserialize;

use super::page_types::{self, Arranged, PUBLIC, Role, SECOND_FACTOR, SIGNED_IN, SIGNED_OUT_FORMS};
use super::tools;
use crate::common::{PASSWORD, TestApp};
use crate::enterprise::{edit_fields, post_fields};

#[tokio::test]
async fn every_page_type_is_valid_html_in_both_languages_signed_in_and_out() {
    let app = TestApp::spawn().await;
    let arranged = page_types::arrange(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pages = Pages { dir: dir.path().to_owned(), files: Vec::new() };
    let anonymous = TestApp::new_client();
    for page in PUBLIC.iter().chain(SIGNED_OUT_FORMS) {
        pages.fetch(&app, &anonymous, page.name, &arranged.path(page.path)).await;
    }
    for (role, list) in SIGNED_IN {
        for page in *list {
            pages.fetch(&app, arranged.client(*role), page.name, &arranged.path(page.path)).await;
        }
    }
    let halfway = TestApp::new_client();
    let response = app.post_with(&halfway, "/login", "/login", &[("email", Role::Moderator.email()), ("password", PASSWORD)]).await;
    assert_eq!(response.headers()["location"], SECOND_FACTOR.path, "a staff account's password leads to the second factor");
    pages.fetch(&app, &halfway, SECOND_FACTOR.name, SECOND_FACTOR.path).await;
    for lang in ["vi", "en"] {
        pages.save_errors(&app, &arranged, lang).await;
    }

    // A broken page in the same run shows that the checker really looked at the files.
    let broken = dir.path().join("broken-on-purpose.html");
    std::fs::write(&broken, "<!doctype html><html lang=vi><title>x</title><p><span><div>x</div></span>").expect("write");
    let files = pages.files;
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

/// The pages saved for the checker: each file with the page it came from.
struct Pages {
    dir: PathBuf,
    files: Vec<(PathBuf, String)>,
}

impl Pages {
    /// Saves a page in both languages as `client` sees it.
    async fn fetch(&mut self, app: &TestApp, client: &reqwest::Client, name: &str, path: &str) {
        for lang in ["vi", "en"] {
            let path = page_types::with_lang(path, lang);
            let response = client.get(format!("{}{path}", app.base)).send().await.expect("request");
            assert!(response.status().is_success() || name == "not-found", "{path} answered {}", response.status());
            self.save(&format!("{name}.{lang}"), &path, response).await;
        }
    }

    async fn save(&mut self, name: &str, label: &str, response: reqwest::Response) {
        let file = self.dir.join(format!("{name}.html"));
        std::fs::write(&file, response.text().await.expect("body")).expect("write page");
        self.files.push((file, label.to_owned()));
    }

    /// Forms shown again with errors, in `lang`: sign-in, registration, a listing edit, a rating
    /// without stars and a question with nothing typed.
    async fn save_errors(&mut self, app: &TestApp, arranged: &Arranged, lang: &str) {
        let visitor = TestApp::new_client();
        let login = page_types::with_lang("/login", lang);
        let response =
            app.post_with(&visitor, &login, "/login", &[("email", "khong.co@example.vn"), ("password", "sai mật khẩu rồi")]).await;
        self.save(&format!("login-error.{lang}"), &format!("POST /login ({lang})"), response).await;
        let register = page_types::with_lang("/register", lang);
        let response = app.post_with(&visitor, &register, "/register", &[("account_type", "citizen"), ("email", "sai")]).await;
        assert_eq!(response.status(), 422, "registration with errors");
        self.save(&format!("register-error.{lang}"), &format!("POST /register ({lang})"), response).await;
        let enterprise = arranged.client(Role::Enterprise);
        let edit = "/account/platforms/coc-coc/edit";
        let (_, page) = app.get_with(enterprise, &page_types::with_lang(edit, lang)).await;
        let changes = [("name", ""), ("website", "javascript:alert(1)"), ("reported_users", "nhiều lắm")];
        let response = post_fields(app, enterprise, edit, &edit_fields(&page, &changes, "submit")).await;
        assert_eq!(response.status(), 422, "a listing edit with errors");
        self.save(&format!("listing-edit-error.{lang}"), &format!("POST {edit} ({lang})"), response).await;
        let citizen = arranged.client(Role::Citizen);
        let platform = page_types::with_lang("/platforms/vneid", lang);
        let response = app.post_with(citizen, &platform, "/platforms/vneid/ratings", &[("stars", ""), ("comment", "Không chọn sao")]).await;
        assert_eq!(response.status(), 422, "a rating without stars");
        self.save(&format!("rating-error.{lang}"), &format!("POST /platforms/vneid/ratings ({lang})"), response).await;
        let ask = page_types::with_lang("/qa/ask", lang);
        let response = app.post_with(citizen, &ask, "/qa/ask", &[("title", ""), ("body", ""), ("platform", "khong-co")]).await;
        assert_eq!(response.status(), 422, "a question with errors");
        self.save(&format!("question-error.{lang}"), &format!("POST /qa/ask ({lang})"), response).await;
    }
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
