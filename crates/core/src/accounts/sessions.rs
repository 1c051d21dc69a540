//! Browser sessions and API tokens. Both are random secrets of which only a hash is stored,
//! in the database, so any server instance can check them and a leaked table is useless.

use serde::Serialize;

use super::{new_secret, secret_hash, users};
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::permissions::{Action, Actor, Kind, Resource};
use crate::Db;

/// How long a browser session lasts without signing in again.
pub const SESSION_HOURS: i64 = 12;

pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
}

pub async fn create(db: &Db, user_id: i64) -> Result<NewSession> {
    let token = new_secret();
    let csrf_token = new_secret();
    let now = crate::clock::now();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(secret_hash(&token))
        .bind(user_id)
        .bind(&csrf_token)
        .bind(crate::clock::format(now))
        .bind(crate::clock::format(now + time::Duration::hours(SESSION_HOURS)))
        .execute(db.pool())
        .await?;
    Ok(NewSession { token, csrf_token })
}

/// The actor and CSRF token of a live session.
pub async fn lookup(db: &Db, token: &str) -> Result<Option<(Actor, String)>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT user_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(secret_hash(token))
    .bind(crate::clock::now_rfc3339())
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some((user_id, csrf)) => Ok(users::actor(db, user_id).await?.map(|a| (a, csrf))),
        None => Ok(None),
    }
}

pub async fn end(db: &Db, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(secret_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Issues an API token for the acting user; the secret is shown once and never stored.
pub async fn issue_token(db: &Db, actor: &Actor, name: &str) -> Result<(ApiToken, String)> {
    let user_id = actor.user_id.ok_or(Error::Forbidden)?;
    let name =
        crate::domain::text::bounded("name", name, 1, 80).map_err(|e| Error::Invalid(vec![e]))?;
    let secret = format!("xt_{}", new_secret());
    let mut w = db.write(actor).await?;
    // A user always manages their own tokens.
    w.authorize(Action::Read, &Resource::new(Kind::Organisation))?;
    let token: ApiToken = sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id, user_id, name, created_at, revoked_at",
    )
    .bind(user_id)
    .bind(&name)
    .bind(secret_hash(&secret))
    .bind(crate::clock::now_rfc3339())
    .fetch_one(w.conn())
    .await?;
    w.record(Change::created("api_token", token.id, &token))
        .await?;
    w.commit().await?;
    Ok((token, secret))
}

pub async fn tokens_of(db: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    Ok(sqlx::query_as("SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(db.pool())
        .await?)
}

pub async fn revoke_token(db: &Db, actor: &Actor, token_id: i64) -> Result<()> {
    let token: ApiToken = sqlx::query_as(
        "SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE id = $1",
    )
    .bind(token_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::not_found("api_token", token_id))?;
    let mut w = db.write(actor).await?;
    if Some(token.user_id) != actor.user_id {
        w.authorize(Action::Update, &Resource::new(Kind::User))?;
    } else {
        w.authorize(Action::Read, &Resource::new(Kind::Organisation))?;
    }
    let now = crate::clock::now_rfc3339();
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(&now)
        .bind(token_id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated(
        "api_token",
        token_id,
        &token,
        serde_json::json!({"revoked_at": now}),
    ))
    .await?;
    w.commit().await
}

/// The actor behind a bearer token, if the token is live.
pub async fn actor_for_token(db: &Db, secret: &str) -> Result<Option<Actor>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(secret_hash(secret))
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some((user_id,)) => users::actor(db, user_id).await,
        None => Ok(None),
    }
}
