//! The error type shared by every crate. Each variant carries what a person needs to fix the
//! problem — in Chinese and English — and a stable machine-readable code. The mapping to HTTP
//! lives in one place: [`crate::web::problem`].

use std::fmt;

/// A message in both UI languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Msg {
    pub zh: String,
    pub en: String,
}

impl Msg {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// What is wrong with one field of the input (or one cell of an imported row).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: Msg,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: Msg) -> Self {
        FieldError {
            field: field.into(),
            code,
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was understood but breaks a rule; lists every offending field.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The input could not be read at all (malformed JSON, wrong content type…).
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, message: Msg },
    #[error("not found: {entity} {id}")]
    NotFound { entity: &'static str, id: String },
    /// The change would contradict what is stored (a duplicate, a stale state).
    #[error("conflict: {code}")]
    Conflict { code: &'static str, message: Msg },
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Error::Invalid(vec![FieldError::new(field, code, Msg::new(zh, en))])
    }

    pub fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: Msg::new(zh, en),
        }
    }

    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// True when the database refused a row because a unique constraint already holds it.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }

    /// Turns a foreign-key violation (the row is still referenced) into a conflict.
    pub fn on_foreign_key(self, code: &'static str, zh: &str, en: &str) -> Self {
        if self.is_foreign_key_violation() {
            Error::conflict(code, zh, en)
        } else {
            self
        }
    }

    /// Turns a unique-constraint violation into a conflict with the given wording; other errors pass.
    pub fn on_unique(self, code: &'static str, zh: &str, en: &str) -> Self {
        if self.is_unique_violation() {
            Error::conflict(code, zh, en)
        } else {
            self
        }
    }
}

/// Collects field errors so that a form reports every problem at once, not the first only.
#[derive(Default, Debug)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Keeps the value of a successful parse, records the failure of a failed one.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
