//! Pages: the task-list and project-ledger templates and their imports from the browser, and
//! the page a failed import (any of the three templates) shows: every bad cell named, and the
//! uploaded sheet with those cells marked, offered for download.

use crate::domain::LagRules;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use xietong_core::error::{Error, Msg, Result};
use xietong_core::web::{AppState, Ctx};

use crate::api::excel::{task_template_bytes, xlsx_response};
use crate::api::today;
use crate::excel::{self, XLSX};
use crate::store::{projects, tasks};

/// Reads an import form's file after checking its CSRF token (the form is multipart, so the
/// form extractor's check does not apply).
pub async fn read_upload(ctx: &Ctx, mut form: Multipart) -> Result<Vec<u8>> {
    let mut csrf = String::new();
    let mut file = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| bad_upload())? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|_| bad_upload())?,
            Some("file") => file = field.bytes().await.map_err(|_| bad_upload())?.to_vec(),
            _ => {}
        }
    }
    if csrf.is_empty() || csrf != ctx.csrf() {
        return Err(Error::BadRequest {
            code: "csrf_failed",
            message: Msg::new(
                "页面已过期，请刷新后重试",
                "the page has expired; reload it and try again",
            ),
        });
    }
    Ok(file)
}

pub fn bad_upload() -> Error {
    Error::BadRequest {
        code: "upload_unreadable",
        message: Msg::new("上传内容无法读取", "the upload cannot be read"),
    }
}

/// The page of an import's outcome; `back` is the list to return to.
fn outcome_page(
    s: &AppState,
    ctx: &Ctx,
    kind: &str,
    back: &str,
    outcome: &tasks::LedgerOutcome,
) -> Result<Response> {
    let values = minijinja::context! { kind, back, outcome, failed => false };
    Ok(ctx
        .render(s, "supervision/import_result.html", values)?
        .into_response())
}

/// A failed import as a page: each bad cell and its reason, and the uploaded sheet with those
/// cells marked as a download. Errors that are not about the file's content pass on.
pub fn failure_page(
    s: &AppState,
    ctx: &Ctx,
    e: Error,
    bytes: &[u8],
    headers: &[&str],
    kind: &str,
    back: &str,
) -> Result<Response> {
    let Error::Invalid(fields) = &e else {
        return Err(e);
    };
    let errors: Vec<_> = fields
        .iter()
        .map(|f| minijinja::context! { field => f.field.clone(), message => ctx.msg(&f.message).to_string() })
        .collect();
    let marked = excel::marked(bytes, headers, fields)
        .map(|m| format!("data:{XLSX};base64,{}", STANDARD.encode(m)));
    let values = minijinja::context! { kind, back, errors, marked, failed => true };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        ctx.render(s, "supervision/import_result.html", values)?,
    )
        .into_response())
}

pub async fn task_template(State(s): State<AppState>) -> Result<Response> {
    Ok(xlsx_response(
        "task-template.xlsx",
        task_template_bytes(&s).await?,
    ))
}

pub async fn project_template() -> Result<Response> {
    Ok(xlsx_response(
        "project-template.xlsx",
        excel::project_template()?,
    ))
}

pub async fn import_tasks(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    form: Multipart,
) -> Result<Response> {
    let actor = ctx.actor()?.clone();
    let file = read_upload(&ctx, form).await?;
    let outcome = match excel::read_rows(&file, &excel::TASK_HEADERS) {
        Ok(rows) => tasks::import(&s.db, &actor, &rows, today(), &rules).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(o) => outcome_page(&s, &ctx, "tasks", "/tasks", &o),
        Err(e) => failure_page(&s, &ctx, e, &file, &excel::TASK_HEADERS, "tasks", "/tasks"),
    }
}

pub async fn import_projects(
    State(s): State<AppState>,
    ctx: Ctx,
    form: Multipart,
) -> Result<Response> {
    let actor = ctx.actor()?.clone();
    let file = read_upload(&ctx, form).await?;
    let outcome = match excel::read_rows(&file, &excel::PROJECT_HEADERS) {
        Ok(rows) => projects::import_ledger(&s.db, &actor, &rows, today()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(o) => outcome_page(&s, &ctx, "projects", "/projects", &o),
        Err(e) => failure_page(
            &s,
            &ctx,
            e,
            &file,
            &excel::PROJECT_HEADERS,
            "projects",
            "/projects",
        ),
    }
}
