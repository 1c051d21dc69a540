//! Pages every deployment has: sign-in and sign-out, the language switch, the stylesheet, and
//! the layer that turns problems on HTML routes into friendly pages.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::problem::{Problem, PROBLEM_JSON};
use super::{cookie_header, AppState, CsrfForm, Ctx, Lang, LANG_COOKIE, SESSION_COOKIE};
use crate::accounts::{sessions, users};
use crate::error::{Error, Result};

pub const STYLESHEET: &str = include_str!("../../static/app.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/lang/{code}", get(switch_language))
        .route("/static/app.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

#[derive(Deserialize)]
struct Next_ {
    #[serde(default)]
    next: Option<String>,
}

/// Only local paths are followed after sign-in or a language switch (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Next_>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let next = safe_next(q.next.as_deref());
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie_header(
        LANG_COOKIE,
        lang.code(),
        365 * 24 * 3600,
        false,
        state.secure_cookies,
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Next_>,
) -> Result<Response> {
    if ctx.actor.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    Ok(ctx
        .render(&state, "login.html", minijinja::context! { next => safe_next(q.next.as_deref()), error => None::<String>, username => "" })?
        .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// The sign-in form has no session yet, so it is the one form without a CSRF token; SameSite
/// cookies and the fact that it only ever signs the poster in keep it safe.
async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response> {
    let next = safe_next(form.next.as_deref());
    match users::authenticate(&state.db, &form.username, &form.password).await {
        Ok(actor) => {
            let user_id = actor.user_id.ok_or(Error::Unauthenticated)?;
            let session = sessions::create(&state.db, user_id).await?;
            let mut r = Redirect::to(&next).into_response();
            let c = cookie_header(
                SESSION_COOKIE,
                &session.token,
                sessions::SESSION_HOURS * 3600,
                true,
                state.secure_cookies,
            );
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_str(&c).map_err(|e| Error::Internal(e.to_string()))?,
            );
            Ok(r)
        }
        Err(e @ (Error::BadRequest { .. } | Error::TooManyAttempts { .. })) => {
            let problem = super::problem::problem_of(&e);
            let message = ctx
                .lang
                .pick(&problem.message_zh, &problem.message_en)
                .to_string();
            let page = ctx.render(
                &state,
                "login.html",
                minijinja::context! { next => next, error => message, username => form.username },
            )?;
            let status = if matches!(e, Error::TooManyAttempts { .. }) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, req: Request) -> Result<Response> {
    let (parts, body) = req.into_parts();
    let token = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_string());
    let req = Request::from_parts(parts, body);
    // Checks the CSRF token: signing someone out is a change too.
    let _ = <CsrfForm<Empty> as axum::extract::FromRequest<AppState>>::from_request(req, &state)
        .await?;
    if let Some(token) = token {
        sessions::end(&state.db, &token).await?;
    }
    let mut r = Redirect::to("/").into_response();
    let c = cookie_header(SESSION_COOKIE, "", 0, true, state.secure_cookies);
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| Error::Internal(e.to_string()))?,
    );
    Ok(r)
}

/// On HTML routes, shows a problem as a page in the visitor's language; asks anonymous
/// visitors to sign in instead of showing them a bare 401.
pub async fn html_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    let (mut parts, body) = req.into_parts();
    let ctx = Ctx::from_request_parts_lenient(&mut parts, &state).await;
    let req = Request::from_parts(parts, body);
    let response = next.run(req).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if path.starts_with("/api/") || !is_problem {
        return response;
    }
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to(&format!("/login?next={}", urlencoding::encode(&here)))
            .into_response();
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&bytes).ok();
    let (message, fields) = match &problem {
        Some(p) => (
            ctx.lang.pick(&p.message_zh, &p.message_en).to_string(),
            p.errors
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.field,
                        ctx.lang.pick(&f.message_zh, &f.message_en)
                    )
                })
                .collect::<Vec<_>>(),
        ),
        None => (String::new(), vec![]),
    };
    let page = ctx.render(
        &state,
        "error.html",
        minijinja::context! { status => status.as_u16(), message => message, fields => fields },
    );
    match page {
        Ok(html) => (status, html).into_response(),
        Err(_) => (status, Body::from(message)).into_response(),
    }
}

impl Ctx {
    /// The context for the error layer: a broken token must not stop the error page itself.
    async fn from_request_parts_lenient(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Ctx {
        use axum::extract::FromRequestParts;
        match Ctx::from_request_parts(parts, state).await {
            Ok(c) => c,
            Err(_) => Ctx {
                actor: None,
                auth: super::Auth::Anonymous,
                lang: Lang::default(),
                here: parts.uri.path().to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/pairings?x=1")), "/pairings?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
