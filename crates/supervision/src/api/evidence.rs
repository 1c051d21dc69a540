//! Evidence files of progress reports: upload (multipart) and download.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::{Error, Msg, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{AppState, Ctx};

use crate::store::evidence::{self, EvidenceLimit, Upload};
use crate::store::tasks::{self, require_read, TaskDetail};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_evidence))
        // The upload is read in chunks against the evidence limit instead of the body limit.
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(download_evidence))
}

fn unreadable() -> Error {
    Error::BadRequest {
        code: "upload_unreadable",
        message: Msg::new("上传内容无法读取", "the upload cannot be read"),
    }
}

/// Largest text field of an upload form.
const TEXT_LIMIT: usize = 64 * 1024;

/// Reads a multipart form: its text fields, and its files (parts with a file name), each
/// stopped as soon as it passes `limit`.
pub async fn read_form(
    mut form: Multipart,
    limit: EvidenceLimit,
) -> Result<(HashMap<String, String>, Vec<Upload>)> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(filename) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    if bytes.len() + chunk.len() > limit.0 {
                        return Err(evidence::too_big(&filename, limit));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                // An empty file input still sends a part, without name or content.
                if !(filename.is_empty() && bytes.is_empty()) {
                    files.push(Upload { filename, bytes });
                }
            }
            None => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    if bytes.len() + chunk.len() > TEXT_LIMIT {
                        return Err(unreadable());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(bytes).map_err(|_| unreadable())?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// The evidence limit the server was configured with (the default when it set none).
pub fn limit_of(ext: Option<Extension<EvidenceLimit>>) -> EvidenceLimit {
    ext.map(|Extension(l)| l).unwrap_or_default()
}

/// Attach evidence files (multipart, one or more `file` parts) to the report of a period
/// already filed (staff of an owning organisation, coordinators). Files are accepted by their
/// content — PDF, PNG, JPEG, .xlsx, .docx, plain text — up to the configured size (10 MiB by
/// default); the same content twice on one report is kept once.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reports/{period}/evidence", tag = "supervision",
    params(("id" = i64, Path), ("period" = String, Path, description = "YYYY-MM")),
    request_body(content_type = "multipart/form-data", content = Vec<u8>),
    responses((status = 201, body = TaskDetail), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, description = "too big, of a type not accepted, or empty", body = Problem)))]
async fn upload_evidence(
    State(s): State<AppState>,
    ctx: Ctx,
    limit: Option<Extension<EvidenceLimit>>,
    Path((id, period)): Path<(i64, String)>,
    form: Multipart,
) -> Result<(StatusCode, Json<TaskDetail>)> {
    let actor = ctx.actor()?;
    let limit = limit_of(limit);
    let (_, files) = read_form(form, limit).await?;
    let t = tasks::attach_evidence(&s.db, actor, id, &period, files, limit).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Download an evidence file (whoever may read its task).
#[utoipa::path(get, path = "/api/v1/evidence/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, description = "the file, as uploaded", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn download_evidence(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (e, task_id, bytes) = evidence::content(&s.db, id).await?;
    let task = tasks::get(&s.db, task_id).await?;
    let framework = s.frameworks.get(&s.db, task.framework_id).await?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    let ascii: String = e
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        urlencoding::encode(&e.filename)
    );
    Ok((
        [
            (header::CONTENT_TYPE, e.media_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::ETAG, format!("\"{}\"", e.sha256)),
        ],
        bytes,
    )
        .into_response())
}
