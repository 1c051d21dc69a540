//! The one place errors become HTTP: RFC 9457 problem details with a stable code and the
//! message in both languages. HTML routes turn the same problem into a page (see `pages`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Msg};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `/api/v1/problems#<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// The stable machine-readable code, e.g. `pairing_duplicate`.
    pub code: String,
    /// The message in Chinese (the UI's first language).
    pub detail: String,
    pub message_zh: String,
    pub message_en: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl From<&FieldError> for ProblemField {
    fn from(f: &FieldError) -> Self {
        ProblemField {
            field: f.field.clone(),
            code: f.code.to_string(),
            message_zh: f.message.zh.clone(),
            message_en: f.message.en.clone(),
        }
    }
}

/// Status, code and message of an error. Internal causes never leave the server.
pub fn classify(err: &Error) -> (StatusCode, &'static str, Msg) {
    match err {
        Error::Invalid(fields) => {
            let first = fields
                .first()
                .map(|f| format!("{}: ", f.field))
                .unwrap_or_default();
            let (zh, en) = fields
                .first()
                .map(|f| (f.message.zh.clone(), f.message.en.clone()))
                .unwrap_or_default();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Msg::new(
                    format!("输入有误（{first}{zh}）"),
                    format!("invalid input ({first}{en})"),
                ),
            )
        }
        Error::BadRequest { code, message } => {
            let status = match *code {
                "content_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "body_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                // Well-formed JSON whose fields are wrong is a validation failure.
                "json_invalid_fields" => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, code, message.clone())
        }
        Error::NotFound { entity, id } => (
            StatusCode::NOT_FOUND,
            "not_found",
            Msg::new(
                format!("找不到记录（{entity} {id}）"),
                format!("no such record ({entity} {id})"),
            ),
        ),
        Error::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
        Error::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            Msg::new("请先登录", "please sign in first"),
        ),
        Error::Forbidden => (
            StatusCode::FORBIDDEN,
            "forbidden",
            Msg::new("您没有执行此操作的权限", "you are not allowed to do this"),
        ),
        Error::TooManyAttempts { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            Msg::new(
                format!("尝试次数过多，请 {retry_after_secs} 秒后再试"),
                format!("too many attempts; try again in {retry_after_secs} s"),
            ),
        ),
        Error::Database(e) if is_busy(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            Msg::new(
                "系统繁忙，请稍后重试",
                "the system is busy; please retry shortly",
            ),
        ),
        Error::Config(_) | Error::Database(_) | Error::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Msg::new(
                "服务器内部错误，已记录",
                "internal server error; it has been logged",
            ),
        ),
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut)
}

pub fn problem_of(err: &Error) -> Problem {
    let (status, code, msg) = classify(err);
    let errors = match err {
        Error::Invalid(fields) => fields.iter().map(ProblemField::from).collect(),
        _ => vec![],
    };
    Problem {
        kind: format!("/api/v1/problems#{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        code: code.to_string(),
        detail: msg.zh.clone(),
        message_zh: msg.zh,
        message_en: msg.en,
        errors,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = problem_of(&self);
        if problem.status >= 500 {
            tracing::error!(error = %self, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Error::TooManyAttempts { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Turns the plain-text refusals of the HTTP stack (a query string that does not parse, a path
/// that is not a number, a body over the limit, a wrong method) into problem details too, so a
/// client always gets the same shape of error.
pub async fn plain_errors_as_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // An attachment is a deliberate answer (e.g. a failed import's sheet with its bad cells
    // marked), not a plain-text refusal of the HTTP stack.
    if status.as_u16() < 400
        || content_type.starts_with(PROBLEM_JSON)
        || content_type.starts_with("text/html")
        || response.headers().contains_key(header::CONTENT_DISPOSITION)
    {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (code, zh, en) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "请求体过大".to_string(),
            "the request body is too large".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "此地址不支持该请求方法".to_string(),
            "this method is not allowed here".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "content_type",
            format!("请求内容类型不支持：{text}"),
            format!("unsupported content type: {text}"),
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "找不到该地址".to_string(),
            "no such address".to_string(),
        ),
        _ => (
            "request_invalid",
            format!("请求有误：{text}"),
            format!("the request is wrong: {text}"),
        ),
    };
    let mut problem = problem_of(&Error::BadRequest {
        code,
        message: Msg::new(zh, en),
    });
    problem.status = status.as_u16();
    problem.title = status.canonical_reason().unwrap_or("Error").to_string();
    let mut r = (status, axum::Json(&problem)).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_are_not_sent() {
        let p = problem_of(&Error::Internal("secret stack".into()));
        assert_eq!(p.status, 500);
        assert!(!p.message_en.contains("secret"));
    }

    #[test]
    fn field_errors_are_listed() {
        let p = problem_of(&Error::invalid(
            "party_b",
            "pairing_self",
            "不能与自身结对",
            "a party cannot be paired with itself",
        ));
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "party_b");
        assert!(p.message_en.contains("party_b"));
    }

    #[test]
    fn conflicts_keep_their_code() {
        let p = problem_of(&Error::conflict("pairing_duplicate", "重复", "duplicate"));
        assert_eq!((p.status, p.code.as_str()), (409, "pairing_duplicate"));
    }
}
