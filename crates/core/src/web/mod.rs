//! The web kit every feature crate builds its routes with: shared state, the request context
//! (who, which language, which CSRF token), JSON and form extractors that refuse bad input
//! clearly, and the layer that shows problems as pages on HTML routes.

pub mod i18n;
pub mod pages;
pub mod problem;
pub mod ui;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::accounts::sessions;
use crate::calendar::store::CalendarCache;
use crate::error::{Error, Msg, Result};
use crate::permissions::Actor;
use crate::Db;
pub use i18n::Lang;
pub use ui::{Ui, UiPart};

pub const SESSION_COOKIE: &str = "xt_session";
pub const LANG_COOKIE: &str = "xt_lang";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Shared by every request. Extractors clone it for each handler, so it is one `Arc` (a single
/// counter to move) rather than a struct of them (one counter per field, each clone and drop
/// showing in profiles of busy pages). Its parts are read through `Deref`: `state.db`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct AppParts {
    pub db: Db,
    pub ui: Arc<Ui>,
    pub calendar: Arc<CalendarCache>,
    pub regions: Arc<crate::registry::regions::RegionCache>,
    pub frameworks: Arc<crate::registry::frameworks::FrameworkCache>,
    pub secure_cookies: bool,
    /// Every feature's lag finder, for the supervision sweep (the server composes them).
    pub lag_finders: Arc<[crate::lags::LagFinder]>,
    /// Features' caches of their reference data (e.g. the indicator catalogue).
    pub caches: Arc<crate::cache::Caches>,
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Db {
        s.db.clone()
    }
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    Session { csrf: String },
    Token,
}

/// Who is asking, in which language, from which page.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Option<Actor>,
    pub auth: Auth,
    pub lang: Lang,
    /// Path and query of the request, for links back to it (language switch, sign-in).
    pub here: String,
}

impl Ctx {
    pub fn actor(&self) -> Result<&Actor> {
        self.actor.as_ref().ok_or(Error::Unauthenticated)
    }

    pub fn csrf(&self) -> &str {
        match &self.auth {
            Auth::Session { csrf } => csrf,
            _ => "",
        }
    }

    /// What every page template gets: language, user, CSRF token, links.
    pub fn page_base(&self) -> minijinja::Value {
        let other = self.lang.other();
        minijinja::context! {
            lang => self.lang.code(),
            other_lang => other.code(),
            lang_switch => format!("/lang/{}?next={}", other.code(), urlencoding::encode(&self.here)),
            user => self.actor.as_ref().map(|a| minijinja::context! {
                username => a.username.clone(),
                display_name => a.display_name.clone(),
                admin => a.is_admin(),
            }),
            csrf => self.csrf(),
            here => self.here.clone(),
        }
    }

    /// Renders a page with the base context and the page's own values.
    pub fn render<S: Serialize>(
        &self,
        state: &AppState,
        template: &str,
        values: S,
    ) -> Result<axum::response::Html<String>> {
        let values = minijinja::Value::from_serialize(&values);
        let ctx = minijinja::context! { ..values, ..self.page_base() };
        state.ui.render(template, ctx).map(axum::response::Html)
    }

    pub fn msg<'a>(&self, m: &'a Msg) -> &'a str {
        self.lang.pick(&m.zh, &m.en)
    }
}

fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn query_lang(parts: &Parts) -> Option<Lang> {
    let query = parts.uri.query()?;
    form_pairs(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).unwrap_or_default()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(ctx) = parts.extensions.get::<Ctx>() {
            return Ok(ctx.clone());
        }
        let lang = query_lang(parts)
            .or_else(|| cookie_value(parts, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
            .unwrap_or_default();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let (actor, auth) = if let Some(secret) = bearer {
            match sessions::actor_for_token(&state.db, secret).await? {
                Some(a) => (Some(a), Auth::Token),
                None => return Err(Error::Unauthenticated),
            }
        } else if let Some(token) = cookie_value(parts, SESSION_COOKIE) {
            match sessions::lookup(&state.db, &token).await? {
                Some((a, csrf)) => (Some(a), Auth::Session { csrf }),
                None => (None, Auth::Anonymous),
            }
        } else {
            (None, Auth::Anonymous)
        };
        // JSON calls riding on a browser session must echo the session's CSRF token.
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let Auth::Session { csrf } = &auth {
            if unsafe_method && parts.uri.path().starts_with("/api/") {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !constant_time_eq(sent, csrf) {
                    return Err(csrf_error());
                }
            }
        }
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let ctx = Ctx {
            actor,
            auth,
            lang,
            here,
        };
        parts.extensions.insert(ctx.clone());
        Ok(ctx)
    }
}

fn csrf_error() -> Error {
    Error::BadRequest {
        code: "csrf_failed",
        message: Msg::new(
            "页面已过期，请刷新后重试",
            "the page has expired; reload it and try again",
        ),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A JSON body that refuses what it cannot read with a clear problem, never a bare 4xx text.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Error::BadRequest {
                code: "content_type",
                message: Msg::new(
                    "请求须为 application/json",
                    "the request must be application/json",
                ),
            }),
            Err(JsonRejection::JsonDataError(e)) => Err(Error::BadRequest {
                code: "json_invalid_fields",
                message: Msg::new(
                    format!("JSON 字段有误：{}", e.body_text()),
                    format!("JSON fields are wrong: {}", e.body_text()),
                ),
            }),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(Error::BadRequest {
                code: "json_malformed",
                message: Msg::new(
                    format!("JSON 格式错误：{}", e.body_text()),
                    format!("malformed JSON: {}", e.body_text()),
                ),
            }),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(Error::BadRequest {
                code: "body_unreadable",
                message: Msg::new(
                    format!("无法读取请求体：{}", e.body_text()),
                    format!("cannot read the body: {}", e.body_text()),
                ),
            }),
        }
    }
}

/// A refused form, to show on the form's own page: the message (each field's reason, prefixed
/// with the field's name when `with_fields`) and the status to answer with. Errors that are not
/// a refusal of the input (`None`) go on to the error page.
pub fn form_refusal(
    ctx: &Ctx,
    e: &Error,
    with_fields: bool,
) -> Option<(String, axum::http::StatusCode)> {
    if !matches!(e, Error::Invalid(_) | Error::Conflict { .. }) {
        return None;
    }
    let p = problem::problem_of(e);
    let fields: Vec<String> = p
        .errors
        .iter()
        .map(|f| {
            let why = ctx.lang.pick(&f.message_zh, &f.message_en);
            if with_fields {
                format!("{}：{why}", f.field)
            } else {
                why.to_string()
            }
        })
        .collect();
    let message = if fields.is_empty() {
        ctx.lang.pick(&p.message_zh, &p.message_en).to_string()
    } else {
        fields.join("；")
    };
    let status = axum::http::StatusCode::from_u16(p.status)
        .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    Some((message, status))
}

/// The media type of an .xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An .xlsx download named `name`.
pub fn xlsx_response(name: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub fn too_large() -> Error {
    Error::BadRequest {
        code: "body_too_large",
        message: Msg::new("请求体过大", "the request body is too large"),
    }
}

/// An HTML form post: checks the session's CSRF token, then reads the other fields into `T`.
/// Empty fields are left out, so optional values stay unset.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| too_large())?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(Error::BadRequest {
                code: "encoding",
                message: Msg::new("表单不是有效的 UTF-8", "the form is not valid UTF-8"),
            });
        }
        let pairs = form_pairs(&bytes);
        let sent = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match &ctx.auth {
            Auth::Session { csrf } if constant_time_eq(sent, csrf) => {}
            Auth::Anonymous => return Err(Error::Unauthenticated),
            _ => return Err(csrf_error()),
        }
        let kept: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, v)| k != CSRF_FIELD && !v.trim().is_empty())
            .collect();
        let encoded =
            serde_urlencoded::to_string(&kept).map_err(|e| Error::Internal(e.to_string()))?;
        serde_urlencoded::from_str::<T>(&encoded)
            .map(CsrfForm)
            .map_err(|e| Error::BadRequest {
                code: "form_invalid",
                message: Msg::new(
                    format!("表单内容有误：{e}"),
                    format!("the form is wrong: {e}"),
                ),
            })
    }
}

/// A `Set-Cookie` value with the attributes every Xietong cookie needs.
pub fn cookie_header(
    name: &str,
    value: &str,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> String {
    let mut c = cookie::Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(http_only)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age_secs));
    if secure {
        c = c.secure(true);
    }
    c.build().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_comparison_is_exact() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }

    #[test]
    fn session_cookies_are_http_only_and_same_site() {
        let c = cookie_header(SESSION_COOKIE, "v", 60, true, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
    }
}
