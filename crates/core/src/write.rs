//! The one path every change takes: check permission, change, append the audit record, commit —
//! all in one transaction. [`Write::commit`] refuses to commit a transaction that skipped the
//! permission check or recorded no audit entry, so a handler cannot forget either.

use sqlx::{Any, AnyConnection, Transaction};

use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::permissions::{decide, Action, Actor, Decision, Resource};
use crate::Db;

pub struct Write<'a> {
    tx: Transaction<'static, Any>,
    actor: &'a Actor,
    authorized: bool,
    audited: bool,
}

impl Db {
    /// Opens the write path for `actor`.
    pub async fn write<'a>(&self, actor: &'a Actor) -> Result<Write<'a>> {
        Ok(Write {
            tx: self.begin_write().await?,
            actor,
            authorized: false,
            audited: false,
        })
    }
}

/// Turns a permission decision into the error a client sees.
pub fn require(actor: Option<&Actor>, action: Action, resource: &Resource) -> Result<()> {
    match decide(actor, action, resource) {
        Decision::Allow => Ok(()),
        Decision::NeedsLogin => Err(Error::Unauthenticated),
        Decision::Deny => Err(Error::Forbidden),
    }
}

/// Turns a feature's own permission decision into the error a client sees.
pub fn require_decision(decision: Decision) -> Result<()> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NeedsLogin => Err(Error::Unauthenticated),
        Decision::Deny => Err(Error::Forbidden),
    }
}

impl<'a> Write<'a> {
    /// Checks that the actor may do `action` on `resource`; call once per resource touched.
    pub fn authorize(&mut self, action: Action, resource: &Resource) -> Result<()> {
        require(Some(self.actor), action, resource)?;
        self.authorized = true;
        Ok(())
    }

    /// Records a decision a feature crate's own permission module made (for rules core's
    /// `decide` does not know, such as "staff of any co-owning organisation").
    pub fn authorize_decision(&mut self, decision: Decision) -> Result<()> {
        require_decision(decision)?;
        self.authorized = true;
        Ok(())
    }

    pub fn actor(&self) -> &Actor {
        self.actor
    }

    /// The transaction's connection, for the change's own statements.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends `change` to the audit chain inside this transaction.
    pub async fn record(&mut self, change: Change) -> Result<()> {
        audit::append(
            &mut self.tx,
            self.actor.user_id,
            &self.actor.username,
            change,
        )
        .await?;
        self.audited = true;
        Ok(())
    }

    /// Appends many changes to the audit chain inside this transaction, in a few statements.
    pub async fn record_many(&mut self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        audit::append_many(
            &mut self.tx,
            self.actor.user_id,
            &self.actor.username,
            changes,
        )
        .await?;
        self.audited = true;
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        if !self.authorized || !self.audited {
            // Dropping the transaction rolls it back.
            return Err(Error::Internal(format!(
                "write refused: authorized={}, audited={}",
                self.authorized, self.audited
            )));
        }
        self.tx.commit().await?;
        Ok(())
    }
}
