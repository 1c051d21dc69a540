//! Signing in over the API, API tokens, user administration and the audit check.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::accounts::sessions::{self, ApiToken};
use xietong_core::accounts::users::{self, NewUser, User};
use xietong_core::audit::{self, Breach};
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Action, Grant, Kind, Resource};
use xietong_core::web::problem::Problem;
use xietong_core::web::{cookie_header, ApiJson, AppState, Ctx, SESSION_COOKIE};
use xietong_core::write::require;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(whoami))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_users, create_user))
        .routes(routes!(verify_audit))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    username: String,
    /// Send this in the `X-CSRF-Token` header with every change made on this session.
    csrf_token: String,
}

/// Sign in; sets the session cookie and returns the CSRF token for later changes.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = LoginInput,
    responses((status = 200, body = SessionInfo), (status = 400, body = Problem), (status = 429, body = Problem)))]
async fn create_session(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response> {
    let actor = users::authenticate(&s.db, &input.username, &input.password).await?;
    let user_id = actor.user_id.ok_or(Error::Unauthenticated)?;
    let session = sessions::create(&s.db, user_id).await?;
    let mut r = Json(SessionInfo {
        username: actor.username,
        csrf_token: session.csrf_token,
    })
    .into_response();
    let c = cookie_header(
        SESSION_COOKIE,
        &session.token,
        sessions::SESSION_HOURS * 3600,
        true,
        s.secure_cookies,
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| Error::Internal(e.to_string()))?,
    );
    Ok(r)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    username: String,
    display_name: String,
    organisation_id: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    grants: Vec<Grant>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn whoami(ctx: Ctx) -> Result<Json<Me>> {
    let a = ctx.actor()?;
    Ok(Json(Me {
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        organisation_id: a.organisation_id,
        grants: a.grants.clone(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    token: ApiToken,
    /// The secret, shown only now. Send it as `Authorization: Bearer <secret>`.
    secret: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = Vec<ApiToken>), (status = 401, body = Problem)))]
async fn list_tokens(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Vec<ApiToken>>> {
    let id = ctx.actor()?.user_id.ok_or(Error::Forbidden)?;
    Ok(Json(sessions::tokens_of(&s.db, id).await?))
}

/// Issue an API token for the caller.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenInput,
    responses((status = 201, body = IssuedToken), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_token(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<(StatusCode, Json<IssuedToken>)> {
    let (token, secret) = sessions::issue_token(&s.db, ctx.actor()?, &input.name).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}

/// Revoke a token (one's own, or any as admin).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    sessions::revoke_token(&s.db, ctx.actor()?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = Vec<User>), (status = 403, body = Problem)))]
async fn list_users(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Vec<User>>> {
    require(ctx.actor.as_ref(), Action::Read, &Resource::new(Kind::User))?;
    Ok(Json(users::list(&s.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    username: String,
    display_name: String,
    #[serde(default)]
    organisation_id: Option<i64>,
    password: String,
    #[schema(value_type = Vec<Object>)]
    grants: Vec<Grant>,
}

/// Create a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(i): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<User>)> {
    let actor = ctx.actor()?;
    require(Some(actor), Action::Create, &Resource::new(Kind::User))?;
    let user = users::create(
        &s.db,
        actor,
        &NewUser {
            username: i.username,
            display_name: i.display_name,
            organisation_id: i.organisation_id,
            password: i.password,
            grants: i.grants,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditReport {
    records: usize,
    intact: bool,
    breaches: Vec<Breach>,
}

/// Check the whole audit chain (admins).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "accounts", responses((status = 200, body = AuditReport), (status = 403, body = Problem)))]
async fn verify_audit(State(s): State<AppState>, ctx: Ctx) -> Result<Json<AuditReport>> {
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &Resource::new(Kind::Audit),
    )?;
    let (records, breaches) = audit::verify(&s.db).await?;
    Ok(Json(AuditReport {
        records,
        intact: breaches.is_empty(),
        breaches,
    }))
}
