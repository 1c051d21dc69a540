//! Meetings of governance bodies, the documents they adopt, their decisions, and agendas.

use serde::{Deserialize, Serialize};
use xietong_core::audit::Change;
use xietong_core::domain::{text, RegionCode};
use xietong_core::error::{Error, FieldError, Msg, Problems, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::permissions;

pub const FORMATS: &[&str] = &["video", "in_person", "unknown"];
pub const DOCUMENT_KINDS: &[&str] = &["plan", "agreement", "list", "report", "other"];

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Meeting {
    pub id: i64,
    pub key: Option<String>,
    pub body_id: i64,
    pub body_name_zh: String,
    pub body_level: String,
    pub framework_id: i64,
    pub ordinal: Option<i64>,
    pub held_on: Option<String>,
    pub place_zh: String,
    pub format: String,
    pub host_region: Option<String>,
    pub title_zh: String,
    pub summary_zh: String,
    pub status: String,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Document {
    pub id: i64,
    pub title_zh: String,
    pub kind: String,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Decision {
    pub id: i64,
    pub key: Option<String>,
    pub text_zh: String,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AgendaItem {
    pub id: i64,
    pub kind: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    pub text_zh: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub meeting: Meeting,
    pub documents: Vec<Document>,
    pub decisions: Vec<Decision>,
    pub agenda: Vec<AgendaItem>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MeetingInput {
    pub body_id: i64,
    pub ordinal: Option<i64>,
    /// `YYYY-MM-DD`; empty for a meeting whose date is not set yet.
    pub held_on: String,
    pub place_zh: String,
    pub format: String,
    pub host_region: String,
    pub title_zh: String,
    pub summary_zh: String,
}

const SELECT: &str = "SELECT m.id, m.key, m.body_id, b.name_zh AS body_name_zh, b.level AS body_level, m.framework_id, m.ordinal, m.held_on,
       m.place_zh, m.format, m.host_region, m.title_zh, m.summary_zh, m.status, m.source_seed, m.source_quote, m.generated
  FROM meetings m JOIN bodies b ON b.id = m.body_id";

pub async fn get(db: &Db, id: i64) -> Result<Meeting> {
    sqlx::query_as(&format!("{SELECT} WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("meeting", id))
}

pub async fn detail(db: &Db, id: i64) -> Result<MeetingDetail> {
    let meeting = get(db, id).await?;
    let documents = sqlx::query_as("SELECT id, title_zh, kind, source_seed, source_quote FROM meeting_documents WHERE meeting_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let decisions = sqlx::query_as("SELECT id, key, text_zh, source_seed, source_quote FROM decisions WHERE meeting_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let agenda = sqlx::query_as(
        "SELECT id, kind, subject_kind, subject_id, text_zh FROM agenda_items WHERE meeting_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(MeetingDetail {
        meeting,
        documents,
        decisions,
        agenda,
    })
}

/// Meetings of a framework (all visible frameworks when none), newest first.
pub async fn list(
    db: &Db,
    framework: Option<i64>,
    visible: Option<&[i64]>,
) -> Result<Vec<Meeting>> {
    let mut w = xietong_core::db::filter::Filter::new();
    if let Some(f) = framework {
        w.int("m.framework_id = ?", f);
    }
    if let Some(ids) = visible {
        let list = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        w.raw(if list.is_empty() {
            "1 = 0".to_string()
        } else {
            format!("m.framework_id IN ({list})")
        });
    }
    let sql = format!(
        "{SELECT} {} ORDER BY CASE b.level WHEN 'decision' THEN 0 WHEN 'coordination' THEN 1 ELSE 2 END, m.held_on DESC, m.ordinal DESC",
        w.sql()
    );
    Ok(w.bind_as(sqlx::query_as(&sql)).fetch_all(db.pool()).await?)
}

/// Where a seeded record came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub key: Option<String>,
    pub seed: Option<String>,
    pub quote: Option<String>,
    pub generated: bool,
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &MeetingInput,
    provenance: Provenance,
    today: time::Date,
) -> Result<MeetingDetail> {
    let body: Option<(i64,)> = sqlx::query_as("SELECT framework_id FROM bodies WHERE id = $1")
        .bind(input.body_id)
        .fetch_optional(db.pool())
        .await?;
    let framework_id = body
        .ok_or_else(|| {
            Error::invalid(
                "body_id",
                "body_unknown",
                "会议机构不存在",
                "the governance body does not exist",
            )
        })?
        .0;
    let mut p = Problems::new();
    let title = p.take(text::bounded("title_zh", &input.title_zh, 1, 300));
    let held_on = p
        .take(text::optional_date("held_on", &input.held_on))
        .flatten();
    let place = p.take(text::optional("place_zh", &input.place_zh, 200));
    let summary = p.take(text::optional("summary_zh", &input.summary_zh, 4000));
    let format = if input.format.is_empty() {
        "unknown".to_string()
    } else {
        input.format.clone()
    };
    if !FORMATS.contains(&format.as_str()) {
        p.push(FieldError::new(
            "format",
            "value_unknown",
            Msg::new(
                "可选：video、in_person、unknown",
                "one of: video, in_person, unknown",
            ),
        ));
    }
    let host = if input.host_region.trim().is_empty() {
        None
    } else {
        p.take(
            RegionCode::parse(&input.host_region).map_err(|e| FieldError {
                field: "host_region".into(),
                ..e
            }),
        )
    };
    if input.ordinal.is_some_and(|o| !(1..=1000).contains(&o)) {
        p.push(FieldError::new(
            "ordinal",
            "out_of_range",
            Msg::new(
                "届次须在 1 至 1000 之间",
                "the ordinal must lie between 1 and 1000",
            ),
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), framework_id))?;
    p.into_result()?;
    let status = if held_on.is_some_and(|d| d <= today) {
        "held"
    } else {
        "planned"
    };
    let now = xietong_core::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO meetings (key, body_id, framework_id, ordinal, held_on, place_zh, format, host_region, title_zh, summary_zh, status,
                               source_seed, source_quote, generated, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
    )
    .bind(&provenance.key)
    .bind(input.body_id)
    .bind(framework_id)
    .bind(input.ordinal)
    .bind(held_on.map(text::format_date))
    .bind(place.unwrap_or_default())
    .bind(&format)
    .bind(host.map(|h| h.to_string()))
    .bind(title.unwrap_or_default())
    .bind(summary.unwrap_or_default())
    .bind(status)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(provenance.generated as i64)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("meeting_key_taken", "会议代码重复", "a meeting with this key exists"))?;
    w.record(Change::created("meeting", id, input)).await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentInput {
    pub title_zh: String,
    pub kind: String,
}

pub async fn add_document(
    db: &Db,
    actor: &Actor,
    meeting_id: i64,
    input: &DocumentInput,
    provenance: Provenance,
) -> Result<MeetingDetail> {
    let meeting = get(db, meeting_id).await?;
    let title =
        text::bounded("title_zh", &input.title_zh, 1, 300).map_err(|e| Error::Invalid(vec![e]))?;
    if !DOCUMENT_KINDS.contains(&input.kind.as_str()) {
        return Err(Error::invalid(
            "kind",
            "value_unknown",
            format!("可选：{}", DOCUMENT_KINDS.join("、")),
            format!("one of: {}", DOCUMENT_KINDS.join(", ")),
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), meeting.framework_id))?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO meeting_documents (meeting_id, title_zh, kind, source_seed, source_quote, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(meeting_id)
    .bind(&title)
    .bind(&input.kind)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(xietong_core::clock::now_rfc3339())
    .fetch_one(w.conn())
    .await?;
    w.record(Change::created("meeting_document", id, input))
        .await?;
    w.commit().await?;
    detail(db, meeting_id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionInput {
    pub text_zh: String,
}

pub async fn add_decision(
    db: &Db,
    actor: &Actor,
    meeting_id: i64,
    input: &DecisionInput,
    provenance: Provenance,
) -> Result<Decision> {
    let meeting = get(db, meeting_id).await?;
    let body =
        text::bounded("text_zh", &input.text_zh, 1, 2000).map_err(|e| Error::Invalid(vec![e]))?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), meeting.framework_id))?;
    let decision: Decision = sqlx::query_as(
        "INSERT INTO decisions (key, meeting_id, text_zh, source_seed, source_quote, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, key, text_zh, source_seed, source_quote",
    )
    .bind(&provenance.key)
    .bind(meeting_id)
    .bind(&body)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(xietong_core::clock::now_rfc3339())
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("decision_key_taken", "决定代码重复", "a decision with this key exists"))?;
    w.record(Change::created("decision", decision.id, &decision))
        .await?;
    w.commit().await?;
    Ok(decision)
}
