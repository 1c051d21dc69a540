//! Users, their roles, and password sign-in with guessing slowed down.

use serde::{Deserialize, Serialize};

use super::password;
use crate::audit::Change;
use crate::domain::text;
use crate::error::{Error, FieldError, Msg, Problems, Result};
use crate::permissions::{Action, Actor, Grant, Kind, Resource, Role};
use crate::Db;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Option<i64>,
    pub disabled: bool,
    pub created_at: String,
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    organisation_id: Option<i64>,
    password_hash: String,
    disabled: i64,
    created_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub organisation_id: Option<i64>,
    pub password: String,
    pub grants: Vec<Grant>,
}

fn username(s: &str) -> Result<String, FieldError> {
    let v = text::bounded("username", s, 3, 40)?;
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(FieldError::new(
            "username",
            "username_invalid",
            Msg::new(
                "用户名只能包含英文字母、数字和 . - _",
                "a username may contain only letters, digits and . - _",
            ),
        ))
    }
}

/// Roles that need a framework must name one; admin must not.
pub fn check_grants(grants: &[Grant]) -> Result<(), FieldError> {
    if grants.is_empty() {
        return Err(FieldError::new(
            "roles",
            "roles_missing",
            Msg::new("至少需要一个角色", "at least one role is needed"),
        ));
    }
    for g in grants {
        let needs_framework = matches!(g.role, Role::Coordinator | Role::Viewer);
        if needs_framework && g.framework_id.is_none() {
            return Err(FieldError::new(
                "roles",
                "role_needs_framework",
                Msg::new(
                    format!("角色 {} 必须指定协作机制", g.role.as_str()),
                    format!("role {} must name a framework", g.role.as_str()),
                ),
            ));
        }
    }
    Ok(())
}

async fn grants_of(db: &Db, user_id: i64) -> Result<Vec<Grant>> {
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT role, framework_id FROM user_roles WHERE user_id = $1 ORDER BY role, framework_id",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(role, framework_id)| {
            Role::parse(&role).map(|role| Grant { role, framework_id })
        })
        .collect())
}

const SELECT: &str = "SELECT id, username, display_name, organisation_id, password_hash, disabled, created_at FROM users";

async fn to_user(db: &Db, r: UserRow) -> Result<User> {
    Ok(User {
        grants: grants_of(db, r.id).await?,
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        organisation_id: r.organisation_id,
        disabled: r.disabled != 0,
        created_at: r.created_at,
    })
}

pub async fn by_username(db: &Db, name: &str) -> Result<User> {
    let row: UserRow = sqlx::query_as(&format!("{SELECT} WHERE username = $1"))
        .bind(name.trim().to_ascii_lowercase())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("user", name))?;
    to_user(db, row).await
}

pub async fn list(db: &Db) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("{SELECT} ORDER BY id"))
        .fetch_all(db.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(to_user(db, r).await?);
    }
    Ok(out)
}

pub async fn create(db: &Db, actor: &Actor, new: &NewUser) -> Result<User> {
    let mut p = Problems::new();
    let name = p.take(username(&new.username));
    let display = p.take(text::bounded("display_name", &new.display_name, 1, 80));
    p.take(password::check_strength(&new.password));
    p.take(check_grants(&new.grants));
    p.into_result()?;
    let hash = password::hash(&new.password)?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Create, &Resource::new(Kind::User))?;
    let now = crate::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, display_name, organisation_id, password_hash, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
    )
    .bind(name.unwrap_or_default())
    .bind(display.unwrap_or_default())
    .bind(new.organisation_id)
    .bind(&hash)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("username_taken", "用户名已被使用", "this username is taken"))?;
    for g in &new.grants {
        sqlx::query("INSERT INTO user_roles (user_id, role, framework_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(g.role.as_str())
            .bind(g.framework_id)
            .execute(w.conn())
            .await?;
    }
    // The password hash never enters the audit trail.
    w.record(Change::created(
        "user",
        id,
        serde_json::json!({
            "username": new.username, "display_name": new.display_name,
            "organisation_id": new.organisation_id, "grants": new.grants,
        }),
    ))
    .await?;
    w.commit().await?;
    by_username(db, &new.username).await
}

pub async fn set_password(db: &Db, actor: &Actor, name: &str, new_password: &str) -> Result<()> {
    password::check_strength(new_password).map_err(|e| Error::Invalid(vec![e]))?;
    let user = by_username(db, name).await?;
    let hash = password::hash(new_password)?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Update, &Resource::new(Kind::User))?;
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(crate::clock::now_rfc3339())
        .bind(user.id)
        .execute(w.conn())
        .await?;
    // Changing a password ends the user's sessions everywhere.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated(
        "user",
        user.id,
        serde_json::json!({"password": "old"}),
        serde_json::json!({"password": "changed"}),
    ))
    .await?;
    w.commit().await
}

pub async fn set_disabled(db: &Db, actor: &Actor, name: &str, disabled: bool) -> Result<()> {
    let user = by_username(db, name).await?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Update, &Resource::new(Kind::User))?;
    sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled as i64)
        .bind(crate::clock::now_rfc3339())
        .bind(user.id)
        .execute(w.conn())
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(w.conn())
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(crate::clock::now_rfc3339())
        .bind(user.id)
        .execute(w.conn())
        .await?;
    }
    w.record(Change::updated(
        "user",
        user.id,
        serde_json::json!({"disabled": user.disabled}),
        serde_json::json!({"disabled": disabled}),
    ))
    .await?;
    w.commit().await
}

/// The actor for a user id, or none when the user is missing or disabled.
pub async fn actor(db: &Db, user_id: i64) -> Result<Option<Actor>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) if r.disabled == 0 => {
            let user = to_user(db, r).await?;
            Ok(Some(Actor {
                user_id: Some(user.id),
                username: user.username,
                display_name: user.display_name,
                organisation_id: user.organisation_id,
                grants: user.grants,
            }))
        }
        _ => Ok(None),
    }
}

/// Failed attempts allowed before each further attempt has to wait.
const FREE_ATTEMPTS: i64 = 5;

/// Seconds to wait after `failures` failed attempts: doubling from 1 s, at most 5 minutes.
pub fn throttle_delay(failures: i64) -> u64 {
    if failures < FREE_ATTEMPTS {
        0
    } else {
        (1u64 << (failures - FREE_ATTEMPTS).min(9) as u32).min(300)
    }
}

/// Checks a username and password. Failures are counted per username in the database, so
/// the slow-down holds across every server instance.
pub async fn authenticate(db: &Db, name: &str, password_input: &str) -> Result<Actor> {
    let name = name.trim().to_ascii_lowercase();
    let failure: Option<(i64, String)> =
        sqlx::query_as("SELECT failures, last_failure_at FROM login_failures WHERE username = $1")
            .bind(&name)
            .fetch_optional(db.pool())
            .await?;
    if let Some((failures, last)) = &failure {
        let wait = throttle_delay(*failures) as i64;
        if let Some(last) = crate::clock::parse(last) {
            let elapsed = (crate::clock::now() - last).whole_seconds();
            if elapsed < wait {
                return Err(Error::TooManyAttempts {
                    retry_after_secs: (wait - elapsed) as u64,
                });
            }
        }
    }
    let row: Option<UserRow> = sqlx::query_as(&format!("{SELECT} WHERE username = $1"))
        .bind(&name)
        .fetch_optional(db.pool())
        .await?;
    let ok = match &row {
        Some(r) => password::verify(password_input, &r.password_hash) && r.disabled == 0,
        None => {
            // Spend the same effort on unknown names, so timing does not reveal which exist.
            let _ = password::verify(
                password_input,
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            );
            false
        }
    };
    if !ok {
        sqlx::query(
            "INSERT INTO login_failures (username, failures, last_failure_at) VALUES ($1, 1, $2)
             ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1, last_failure_at = $2",
        )
        .bind(&name)
        .bind(crate::clock::now_rfc3339())
        .execute(db.pool())
        .await?;
        return Err(Error::BadRequest {
            code: "login_failed",
            message: Msg::new("用户名或密码错误", "wrong username or password"),
        });
    }
    if failure.is_some() {
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(&name)
            .execute(db.pool())
            .await?;
    }
    let id = row.map(|r| r.id).unwrap_or_default();
    actor(db, id).await?.ok_or(Error::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_after_the_free_attempts() {
        assert_eq!(throttle_delay(0), 0);
        assert_eq!(throttle_delay(4), 0);
        assert_eq!(throttle_delay(5), 1);
        assert_eq!(throttle_delay(7), 4);
        assert_eq!(throttle_delay(100), 300);
    }

    #[test]
    fn scoped_roles_need_a_framework() {
        assert!(check_grants(&[Grant {
            role: Role::Coordinator,
            framework_id: None
        }])
        .is_err());
        assert!(check_grants(&[Grant {
            role: Role::Coordinator,
            framework_id: Some(1)
        }])
        .is_ok());
        assert!(check_grants(&[Grant {
            role: Role::Staff,
            framework_id: None
        }])
        .is_ok());
        assert!(check_grants(&[]).is_err());
    }

    #[test]
    fn usernames_are_plain() {
        assert_eq!(username("Admin").unwrap(), "admin");
        assert!(username("a b").is_err());
        assert!(username("x'--").is_err());
    }
}
