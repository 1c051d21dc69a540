//! Server-rendered pages: templates (escaped by default) and messages from every crate.

use std::sync::Arc;

use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, State, Value};
use serde::Serialize;

use super::i18n::{Lang, Messages};
use crate::error::{Error, Result};

/// What a crate contributes to the UI: its templates and its message files.
pub struct UiPart {
    pub templates: &'static [(&'static str, &'static str)],
    pub messages_zh: &'static str,
    pub messages_en: &'static str,
}

/// The core's own part: the layout, sign-in, home and error pages.
pub fn core_part() -> UiPart {
    UiPart {
        templates: &[
            ("base.html", include_str!("../../templates/base.html")),
            ("macros.html", include_str!("../../templates/macros.html")),
            ("error.html", include_str!("../../templates/error.html")),
            ("login.html", include_str!("../../templates/login.html")),
        ],
        messages_zh: include_str!("../../locales/zh.toml"),
        messages_en: include_str!("../../locales/en.toml"),
    }
}

pub struct Ui {
    env: Environment<'static>,
    pub messages: Arc<Messages>,
}

impl Ui {
    pub fn new(parts: &[UiPart]) -> Result<Ui> {
        let mut messages = Messages::default();
        let mut env = Environment::new();
        for part in parts {
            messages
                .add(part.messages_zh, part.messages_en)
                .map_err(Error::Config)?;
            for (name, source) in part.templates {
                env.add_template(name, source)
                    .map_err(|e| Error::Config(format!("template {name}: {e}")))?;
            }
        }
        let messages = Arc::new(messages);
        let for_t = messages.clone();
        // `t("key")` looks the key up in the page's language; a missing key shows itself.
        env.add_function("t", move |state: &State, key: &str| -> String {
            let lang = state
                .lookup("lang")
                .and_then(|v| v.as_str().and_then(Lang::parse))
                .unwrap_or_default();
            for_t.get(lang, key).unwrap_or(key).to_string()
        });
        // `pick(zh, en)` chooses a record's own bilingual field.
        env.add_function("pick", |state: &State, zh: Value, en: Value| -> String {
            let lang = state
                .lookup("lang")
                .and_then(|v| v.as_str().and_then(Lang::parse))
                .unwrap_or_default();
            let zh = zh.as_str().unwrap_or("").to_string();
            let en = en.as_str().unwrap_or("").to_string();
            lang.pick(&zh, &en).to_string()
        });
        env.add_filter("urlencode_q", |s: &str| urlencoding::encode(s).into_owned());
        Ok(Ui { env, messages })
    }

    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Error::Internal(format!("template {name}: {e}")))?;
        tmpl.render(ctx)
            .map_err(|e| Error::Internal(format!("rendering {name}: {e:#}")))
    }

    /// Every `t("…")` key the templates use, for the test that all of them exist.
    pub fn template_keys(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, tmpl) in self.env.templates() {
            let source = tmpl.source();
            for quote in ['"', '\''] {
                let needle = format!("t({quote}");
                let mut rest = source;
                while let Some(i) = rest.find(&needle) {
                    let after = &rest[i + needle.len()..];
                    // `select("…")` also ends in `t(`: only a standalone `t` is the message function.
                    let standalone =
                        !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                    if let (true, Some(end)) = (standalone, after.find(quote)) {
                        out.push((name.to_string(), after[..end].to_string()));
                    }
                    rest = &rest[i + needle.len()..];
                }
            }
        }
        out
    }
}

/// A rendered page, or the error that stopped it.
pub fn html(result: Result<String>) -> Response {
    match result {
        Ok(body) => Html(body).into_response(),
        Err(e) => e.into_response(),
    }
}
