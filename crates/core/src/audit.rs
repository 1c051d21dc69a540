//! The audit trail: every change appended, hash-chained, in the same transaction as the change.
//!
//! Each record's hash covers its own fields and the previous record's hash, so editing,
//! inserting or deleting a record anywhere breaks the chain from that point on; the last hash
//! is also kept in `audit_head`, so removing records from the end is caught too.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::error::Result;
use crate::Db;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record: SHA-256 over its fields, each length-prefixed so no two different
/// records can be made to hash the same bytes by moving text between fields.
pub fn record_hash(r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let actor = r.actor_id.map(|a| a.to_string()).unwrap_or_default();
    for part in [
        r.prev_hash.as_str(),
        &r.seq.to_string(),
        &r.at,
        &actor,
        &r.actor_name,
        &r.action,
        &r.entity,
        &r.entity_id,
        r.before_json.as_deref().unwrap_or("\u{0}"),
        r.after_json.as_deref().unwrap_or("\u{0}"),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// What is wrong with the chain at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Breach {
    /// The record's stored hash does not match its content: it was edited.
    Altered { seq: i64 },
    /// The record does not point at its predecessor: one was inserted or removed before it.
    Unlinked { seq: i64 },
    /// Sequence numbers jump: records were deleted between these two.
    Gap { after: i64, next: i64 },
    /// The head says the chain is longer (or ends elsewhere) than what is stored.
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

/// Checks a whole chain (records in `seq` order) against the head; pure, for unit tests.
pub fn verify_chain(records: &[AuditRecord], head_seq: i64, head_hash: &str) -> Vec<Breach> {
    let mut breaches = Vec::new();
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_seq = 0;
    for r in records {
        if r.seq != prev_seq + 1 {
            breaches.push(Breach::Gap {
                after: prev_seq,
                next: r.seq,
            });
        }
        if r.prev_hash != prev_hash {
            breaches.push(Breach::Unlinked { seq: r.seq });
        }
        if record_hash(r) != r.hash {
            breaches.push(Breach::Altered { seq: r.seq });
        }
        prev_hash = r.hash.clone();
        prev_seq = r.seq;
    }
    if prev_seq != head_seq || prev_hash != head_hash {
        breaches.push(Breach::HeadMismatch {
            head_seq,
            last_seq: prev_seq,
        });
    }
    breaches
}

/// A change to record, before it is chained.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn created(entity: &'static str, id: impl ToString, after: impl Serialize) -> Self {
        Change {
            action: "create",
            entity,
            entity_id: id.to_string(),
            before: None,
            after: serde_json::to_value(after).ok(),
        }
    }

    pub fn updated(
        entity: &'static str,
        id: impl ToString,
        before: impl Serialize,
        after: impl Serialize,
    ) -> Self {
        Change {
            action: "update",
            entity,
            entity_id: id.to_string(),
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
        }
    }

    pub fn deleted(entity: &'static str, id: impl ToString, before: impl Serialize) -> Self {
        Change {
            action: "delete",
            entity,
            entity_id: id.to_string(),
            before: serde_json::to_value(before).ok(),
            after: None,
        }
    }
}

/// Appends a change to the chain inside the caller's transaction. Bumping the head row first
/// takes its lock, so concurrent writers chain one after another on both engines.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    actor_id: Option<i64>,
    actor_name: &str,
    change: Change,
) -> Result<i64> {
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let mut record = AuditRecord {
        seq,
        at: crate::clock::now_rfc3339(),
        actor_id,
        actor_name: actor_name.to_string(),
        action: change.action.to_string(),
        entity: change.entity.to_string(),
        entity_id: change.entity_id,
        before_json: change.before.map(|v| v.to_string()),
        after_json: change.after.map(|v| v.to_string()),
        prev_hash,
        hash: String::new(),
    };
    record.hash = record_hash(&record);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(record.seq)
    .bind(&record.at)
    .bind(record.actor_id)
    .bind(&record.actor_name)
    .bind(&record.action)
    .bind(&record.entity)
    .bind(&record.entity_id)
    .bind(&record.before_json)
    .bind(&record.after_json)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&record.hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// Appends many changes at once: the head moves by their number in one statement, the hashes
/// chain in memory, and the records go in multi-row statements. The same chain as appending
/// them one by one, in far fewer round trips.
pub(crate) async fn append_many(
    conn: &mut AnyConnection,
    actor_id: Option<i64>,
    actor_name: &str,
    changes: Vec<Change>,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let (last_seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(changes.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
    let at = crate::clock::now_rfc3339();
    let first_seq = last_seq - changes.len() as i64 + 1;
    let mut prev = prev_hash;
    let mut records = Vec::with_capacity(changes.len());
    for (k, change) in changes.into_iter().enumerate() {
        let mut record = AuditRecord {
            seq: first_seq + k as i64,
            at: at.clone(),
            actor_id,
            actor_name: actor_name.to_string(),
            action: change.action.to_string(),
            entity: change.entity.to_string(),
            entity_id: change.entity_id,
            before_json: change.before.map(|v| v.to_string()),
            after_json: change.after.map(|v| v.to_string()),
            prev_hash: prev,
            hash: String::new(),
        };
        record.hash = record_hash(&record);
        prev = record.hash.clone();
        records.push(record);
    }
    for chunk in records.chunks(crate::db::rows_per_statement(11)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let marks: Vec<String> = (1..=11).map(|c| format!("${}", r * 11 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(r.at.clone())
                .bind(r.actor_id)
                .bind(r.actor_name.clone())
                .bind(r.action.clone())
                .bind(r.entity.clone())
                .bind(r.entity_id.clone())
                .bind(r.before_json.clone())
                .bind(r.after_json.clone())
                .bind(r.prev_hash.clone())
                .bind(r.hash.clone());
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const SELECT_RECORD: &str = "SELECT seq, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash FROM audit_log";

/// The history of one entity, newest first.
pub async fn history(db: &Db, entity: &str, entity_id: &str) -> Result<Vec<AuditRecord>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT_RECORD} WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC"
    ))
    .bind(entity)
    .bind(entity_id)
    .fetch_all(db.pool())
    .await?)
}

/// Reads the whole chain and checks it. Returns the number of records and what is broken.
pub async fn verify(db: &Db) -> Result<(usize, Vec<Breach>)> {
    let records: Vec<AuditRecord> = sqlx::query_as(&format!("{SELECT_RECORD} ORDER BY seq"))
        .fetch_all(db.pool())
        .await?;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    let breaches = verify_chain(&records, head_seq, &head_hash);
    Ok((records.len(), breaches))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    at: format!("2026-01-01T00:00:{seq:02}.000Z"),
                    actor_id: Some(1),
                    actor_name: "admin".into(),
                    action: "create".into(),
                    entity: "pairing".into(),
                    entity_id: seq.to_string(),
                    before_json: None,
                    after_json: Some(format!("{{\"n\":{seq}}}")),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = record_hash(&r);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn head(records: &[AuditRecord]) -> (i64, String) {
        let last = records.last().unwrap();
        (last.seq, last.hash.clone())
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let (s, h) = head(&c);
        assert!(verify_chain(&c, s, &h).is_empty());
        assert!(verify_chain(&[], 0, GENESIS_HASH).is_empty());
    }

    #[test]
    fn an_edit_is_reported_at_its_record() {
        let mut c = chain(5);
        let (s, h) = head(&c);
        c[2].after_json = Some("{\"n\":999}".into());
        assert_eq!(verify_chain(&c, s, &h), vec![Breach::Altered { seq: 3 }]);
    }

    #[test]
    fn a_deletion_in_the_middle_is_reported() {
        let mut c = chain(5);
        let (s, h) = head(&c);
        c.remove(1);
        let b = verify_chain(&c, s, &h);
        assert!(b.contains(&Breach::Gap { after: 1, next: 3 }));
        assert!(b.contains(&Breach::Unlinked { seq: 3 }));
    }

    #[test]
    fn a_deletion_at_the_end_is_caught_by_the_head() {
        let mut c = chain(5);
        let (s, h) = head(&c);
        c.pop();
        assert_eq!(
            verify_chain(&c, s, &h),
            vec![Breach::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            }]
        );
    }

    #[test]
    fn an_insertion_with_a_recomputed_hash_still_breaks_the_link() {
        let mut c = chain(3);
        let (s, h) = head(&c);
        let mut forged = c[1].clone();
        forged.after_json = Some("{\"forged\":true}".into());
        forged.hash = record_hash(&forged);
        c.insert(2, forged);
        assert!(!verify_chain(&c, s, &h).is_empty());
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let c = chain(1);
        let mut moved = c[0].clone();
        moved.entity = "pairing1".into();
        moved.entity_id = String::new();
        assert_ne!(record_hash(&moved), c[0].hash);
    }
}
