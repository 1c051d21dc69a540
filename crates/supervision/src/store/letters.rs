//! Warning letters: drafting from open alerts, issuing with gap-free numbers, the addressee's
//! acknowledgement and answer, resolving, and escalation onto the next coordination meeting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use xietong_core::audit::Change;
use xietong_core::domain::text;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Actor;
use xietong_core::write::Write;
use xietong_core::Db;

use crate::letters_rules::{self, LetterAction, LetterStatus};
use crate::permissions;
use crate::store::rollups;

/// The issuer's name in letter numbers, per framework key (e.g. `川渝联办提示〔2022〕12号`).
pub fn issuer_for(framework_key: &str) -> String {
    match framework_key {
        "CY" => "川渝联办提示".into(),
        "LY" => "鲁渝协作提示".into(),
        "YQLQ" => "渝协同办提示".into(),
        other => format!("{other}提示"),
    }
}

/// An open alert not yet in a letter, with what it is about.
#[derive(sqlx::FromRow)]
struct Flagged {
    id: i64,
    unit_org_id: i64,
    subject_kind: String,
    subject_id: i64,
    code: String,
    title: String,
    details_zh: String,
}

/// The code and title of an alert's subject, a task or a project.
const SUBJECT_CODE: &str = "COALESCE((SELECT t.code FROM tasks t WHERE a.subject_kind = 'task' AND t.id = a.subject_id),
                                     (SELECT p.code FROM projects p WHERE a.subject_kind = 'project' AND p.id = a.subject_id), a.subject_code)";
const SUBJECT_TITLE: &str = "COALESCE((SELECT t.title_zh FROM tasks t WHERE a.subject_kind = 'task' AND t.id = a.subject_id),
                                      (SELECT p.name_zh FROM projects p WHERE a.subject_kind = 'project' AND p.id = a.subject_id), a.subject_title_zh)";

/// Working days the addressee has to answer, by default.
pub const RESPONSE_WORKING_DAYS: u32 = 10;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Letter {
    pub id: i64,
    pub framework_id: i64,
    pub issuer: String,
    pub year: i64,
    pub number: Option<i64>,
    pub addressee_org_id: i64,
    pub addressee_name_zh: String,
    pub status: String,
    pub subject_zh: String,
    pub body_zh: String,
    pub response_due: String,
    pub drafted_by: String,
    pub issued_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub responded_at: Option<String>,
    pub response_zh: String,
    pub resolved_at: Option<String>,
    pub escalated_at: Option<String>,
    pub agenda_meeting_id: Option<i64>,
}

impl Letter {
    /// `川渝联办提示〔2022〕12号`, once issued.
    pub fn display_number(&self) -> Option<String> {
        self.number
            .map(|n| letters_rules::number(&self.issuer, self.year, n))
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LetterItem {
    pub alert_id: i64,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_code: String,
    pub subject_title_zh: String,
    pub details_zh: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LetterDetail {
    #[serde(flatten)]
    pub letter: Letter,
    pub display_number: Option<String>,
    pub items: Vec<LetterItem>,
}

const SELECT: &str = "SELECT l.id, l.framework_id, l.issuer, l.year, l.number, l.addressee_org_id, o.name_zh AS addressee_name_zh, l.status,
       l.subject_zh, l.body_zh, l.response_due, l.drafted_by, l.issued_at, l.acknowledged_at, l.responded_at, l.response_zh,
       l.resolved_at, l.escalated_at, l.agenda_meeting_id
  FROM letters l JOIN organisations o ON o.id = l.addressee_org_id";

pub async fn get(db: &Db, id: i64) -> Result<Letter> {
    sqlx::query_as(&format!("{SELECT} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("letter", id))
}

pub async fn detail(db: &Db, id: i64) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let items = sqlx::query_as(
        "SELECT alert_id, subject_kind, subject_id, subject_code, subject_title_zh, details_zh FROM letter_items WHERE letter_id = $1 ORDER BY subject_code, alert_id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(LetterDetail {
        display_number: letter.display_number(),
        letter,
        items,
    })
}

/// Letters of a framework (all visible when none), or addressed to one organisation.
pub async fn list(
    db: &Db,
    framework: Option<i64>,
    addressee: Option<i64>,
    visible: Option<&[i64]>,
) -> Result<Vec<Letter>> {
    let mut w = xietong_core::db::filter::Filter::new();
    if let Some(f) = framework {
        w.int("l.framework_id = ?", f);
    }
    if let Some(a) = addressee {
        w.int("l.addressee_org_id = ?", a);
        w.raw("l.status <> 'draft'");
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
            format!("l.framework_id IN ({list})")
        });
    }
    let sql = format!(
        "{SELECT} {} ORDER BY l.year DESC, l.number DESC, l.id DESC",
        w.sql()
    );
    Ok(w.bind_as(sqlx::query_as(&sql)).fetch_all(db.pool()).await?)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DraftRequest {
    pub framework_id: i64,
}

/// Drafts one letter per responsible unit from the framework's open alerts that no open letter
/// covers yet. Returns the drafts made (none when every alert is already covered).
pub async fn draft_from_alerts(
    db: &Db,
    actor: &Actor,
    req: &DraftRequest,
    today: Date,
) -> Result<Vec<LetterDetail>> {
    let framework = xietong_core::registry::frameworks::get(db, req.framework_id)
        .await
        .map_err(|_| {
            Error::invalid(
                "framework_id",
                "framework_unknown",
                "协作机制不存在",
                "the framework does not exist",
            )
        })?;
    let calendar = crate::store::calendar_now(db).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), framework.id))?;
    let alerts: Vec<Flagged> = sqlx::query_as(&format!(
        "SELECT a.id, a.unit_org_id, a.subject_kind, a.subject_id, {SUBJECT_CODE} AS code, {SUBJECT_TITLE} AS title, a.details_zh
           FROM alerts a
          WHERE a.framework_id = $1 AND a.closed_at IS NULL AND a.unit_org_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM letter_items i JOIN letters l ON l.id = i.letter_id WHERE i.alert_id = a.id AND l.status <> 'resolved')
          ORDER BY a.unit_org_id, a.subject_kind, a.subject_id, a.id"
    ))
    .bind(framework.id)
    .fetch_all(w.conn())
    .await?;
    let mut by_unit: BTreeMap<i64, Vec<Flagged>> = BTreeMap::new();
    for alert in alerts {
        by_unit.entry(alert.unit_org_id).or_default().push(alert);
    }
    let due = calendar
        .add_working_days(today, crate::store::working_days(RESPONSE_WORKING_DAYS)?)
        .value;
    let now = xietong_core::clock::now_rfc3339();
    let mut ids = Vec::new();
    for (unit, items) in by_unit {
        let subjects: std::collections::BTreeSet<(&str, i64)> = items
            .iter()
            .map(|i| (i.subject_kind.as_str(), i.subject_id))
            .collect();
        let subject = format!("关于{}项推进滞后事项的提示函", subjects.len());
        let body = format!(
            "经督查，你单位负责的以下{}项工作推进滞后。请对照问题逐项整改，于{}前书面反馈整改措施和时间安排。",
            subjects.len(),
            text::format_date(due)
        );
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO letters (framework_id, issuer, year, addressee_org_id, status, subject_zh, body_zh, response_due, drafted_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(framework.id)
        .bind(issuer_for(&framework.key))
        .bind(today.year() as i64)
        .bind(unit)
        .bind(&subject)
        .bind(&body)
        .bind(text::format_date(due))
        .bind(&actor.username)
        .bind(&now)
        .fetch_one(w.conn())
        .await?;
        for item in &items {
            sqlx::query(
                "INSERT INTO letter_items (letter_id, alert_id, subject_kind, subject_id, subject_code, subject_title_zh, details_zh)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(item.id)
            .bind(&item.subject_kind)
            .bind(item.subject_id)
            .bind(&item.code)
            .bind(&item.title)
            .bind(&item.details_zh)
            .execute(w.conn())
            .await?;
        }
        w.record(Change::created("letter", id, serde_json::json!({"addressee_org_id": unit, "subject_zh": subject, "alerts": items.iter().map(|i| i.id).collect::<Vec<_>>()})))
            .await?;
        ids.push(id);
    }
    if ids.is_empty() {
        // Nothing to draft is an answer, not a change: no audit record, nothing written.
        return Ok(vec![]);
    }
    w.commit().await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(detail(db, id).await?);
    }
    Ok(out)
}

/// Where `action` takes the letter, or a conflict naming its current state.
fn check_move(letter: &Letter, action: LetterAction) -> Result<LetterStatus> {
    let from = LetterStatus::parse(&letter.status)
        .ok_or_else(|| Error::Internal(format!("letter status {}", letter.status)))?;
    letters_rules::next(from, action).ok_or_else(|| {
        Error::conflict(
            "letter_state",
            format!("提示函当前状态为“{}”，不能执行此操作", letter.status),
            format!(
                "the letter is {}; this step is not possible now",
                letter.status
            ),
        )
    })
}

/// Issues a draft: gives it the next number of its issuer and year, inside the same transaction,
/// so numbers have no gaps and no duplicates however many coordinators issue at once.
pub async fn issue(db: &Db, actor: &Actor, id: i64) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), letter.framework_id))?;
    check_move(&letter, LetterAction::Issue)?;
    // Items settled since drafting make the letter wrong: refuse rather than send stale figures.
    let (settled,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM letter_items i JOIN alerts a ON a.id = i.alert_id WHERE i.letter_id = $1 AND a.closed_at IS NOT NULL",
    )
    .bind(id)
    .fetch_one(w.conn())
    .await?;
    if settled > 0 {
        return Err(Error::conflict(
            "letter_items_settled",
            "函中有事项已不再滞后，请重新起草",
            "some items of this letter no longer lag; draft it again",
        ));
    }
    let (number,): (i64,) = sqlx::query_as(
        "INSERT INTO letter_counters (issuer, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (issuer, year) DO UPDATE SET last_number = letter_counters.last_number + 1 RETURNING last_number",
    )
    .bind(&letter.issuer)
    .bind(letter.year)
    .fetch_one(w.conn())
    .await?;
    let now = xietong_core::clock::now_rfc3339();
    let moved = rollups::LetterMove::start(w.conn(), id).await?;
    sqlx::query("UPDATE letters SET status = 'issued', number = $1, issued_at = $2, updated_at = $2 WHERE id = $3 AND status = 'draft'")
        .bind(number)
        .bind(&now)
        .bind(id)
        .execute(w.conn())
        .await?;
    moved.finish(w.conn()).await?;
    w.record(Change::updated("letter", id, serde_json::json!({"status": "draft"}), serde_json::json!({"status": "issued", "number": letters_rules::number(&letter.issuer, letter.year, number)})))
        .await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseInput {
    /// The rectification plan, with new dates.
    pub response_zh: String,
}

/// The addressee acknowledges receipt.
pub async fn acknowledge(db: &Db, actor: &Actor, id: i64) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::answer(Some(actor), letter.addressee_org_id))?;
    check_move(&letter, LetterAction::Acknowledge)?;
    let now = xietong_core::clock::now_rfc3339();
    sqlx::query("UPDATE letters SET status = 'acknowledged', acknowledged_at = $1, updated_at = $1 WHERE id = $2").bind(&now).bind(id).execute(w.conn()).await?;
    w.record(Change::updated(
        "letter",
        id,
        serde_json::json!({"status": letter.status}),
        serde_json::json!({"status": "acknowledged"}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

/// The addressee answers with its rectification plan.
pub async fn respond(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &ResponseInput,
) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::answer(Some(actor), letter.addressee_org_id))?;
    let plan = text::bounded("response_zh", &input.response_zh, 1, 4000)
        .map_err(|e| Error::Invalid(vec![e]))?;
    check_move(&letter, LetterAction::Respond)?;
    let now = xietong_core::clock::now_rfc3339();
    sqlx::query("UPDATE letters SET status = 'responded', responded_at = $1, response_zh = $2, updated_at = $1 WHERE id = $3")
        .bind(&now)
        .bind(&plan)
        .bind(id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated(
        "letter",
        id,
        serde_json::json!({"status": letter.status}),
        serde_json::json!({"status": "responded", "response_zh": plan}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

/// A coordinator settles the letter once the unit has answered (or after the meeting it went to).
pub async fn resolve(db: &Db, actor: &Actor, id: i64) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), letter.framework_id))?;
    check_move(&letter, LetterAction::Resolve)?;
    let now = xietong_core::clock::now_rfc3339();
    let moved = rollups::LetterMove::start(w.conn(), id).await?;
    sqlx::query(
        "UPDATE letters SET status = 'resolved', resolved_at = $1, updated_at = $1 WHERE id = $2",
    )
    .bind(&now)
    .bind(id)
    .execute(w.conn())
    .await?;
    moved.finish(w.conn()).await?;
    w.record(Change::updated(
        "letter",
        id,
        serde_json::json!({"status": letter.status}),
        serde_json::json!({"status": "resolved"}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

/// Escalates a letter: puts its items on the agenda of the framework's next coordination-level
/// meeting (a planned one is created when none is scheduled).
pub async fn escalate(db: &Db, actor: &Actor, id: i64, today: Date) -> Result<LetterDetail> {
    let letter = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), letter.framework_id))?;
    check_move(&letter, LetterAction::Escalate)?;
    let meeting_id = next_coordination_meeting(&mut w, letter.framework_id, today).await?;
    let items: Vec<(String, i64, String, String)> =
        sqlx::query_as("SELECT subject_kind, subject_id, subject_code, details_zh FROM letter_items WHERE letter_id = $1 ORDER BY subject_code")
            .bind(id)
            .fetch_all(w.conn())
            .await?;
    let now = xietong_core::clock::now_rfc3339();
    let number = letter.display_number().unwrap_or_default();
    for (kind, subject, code, details) in &items {
        sqlx::query("INSERT INTO agenda_items (meeting_id, kind, subject_kind, subject_id, text_zh, created_at) VALUES ($1, 'escalation', $2, $3, $4, $5)")
            .bind(meeting_id)
            .bind(kind)
            .bind(subject)
            .bind(format!("{}：{code} {details}（{number} 未整改到位）", letter.addressee_name_zh))
            .bind(&now)
            .execute(w.conn())
            .await?;
    }
    let moved = rollups::LetterMove::start(w.conn(), id).await?;
    sqlx::query("UPDATE letters SET status = 'escalated', escalated_at = $1, agenda_meeting_id = $2, updated_at = $1 WHERE id = $3")
        .bind(&now)
        .bind(meeting_id)
        .bind(id)
        .execute(w.conn())
        .await?;
    moved.finish(w.conn()).await?;
    w.record(Change::updated(
        "letter",
        id,
        serde_json::json!({"status": letter.status}),
        serde_json::json!({"status": "escalated", "agenda_meeting_id": meeting_id}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

async fn next_coordination_meeting(
    w: &mut Write<'_>,
    framework_id: i64,
    today: Date,
) -> Result<i64> {
    let existing: Option<(i64,)> = sqlx::query_as(
        "SELECT m.id FROM meetings m JOIN bodies b ON b.id = m.body_id
          WHERE m.framework_id = $1 AND b.level = 'coordination' AND m.status = 'planned' AND (m.held_on IS NULL OR m.held_on >= $2)
          ORDER BY m.held_on, m.id LIMIT 1",
    )
    .bind(framework_id)
    .bind(text::format_date(today))
    .fetch_optional(w.conn())
    .await?;
    if let Some((id,)) = existing {
        return Ok(id);
    }
    let body: Option<(i64, String)> = sqlx::query_as("SELECT id, name_zh FROM bodies WHERE framework_id = $1 AND level = 'coordination' ORDER BY id LIMIT 1")
        .bind(framework_id)
        .fetch_optional(w.conn())
        .await?;
    let (body_id, body_name) = body.ok_or_else(|| {
        Error::conflict(
            "no_coordination_body",
            "该协作机制没有协调层机构，无法提交会议研究",
            "this framework has no coordination-level body to escalate to",
        )
    })?;
    let now = xietong_core::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO meetings (body_id, framework_id, title_zh, status, format, created_at, updated_at) VALUES ($1, $2, $3, 'planned', 'unknown', $4, $4) RETURNING id",
    )
    .bind(body_id)
    .bind(framework_id)
    .bind(format!("{body_name}（下次会议，日期待定）"))
    .bind(&now)
    .fetch_one(w.conn())
    .await?;
    w.record(Change::created(
        "meeting",
        id,
        serde_json::json!({"body_id": body_id, "status": "planned", "reason": "escalation"}),
    ))
    .await?;
    Ok(id)
}

/// Issued letters whose answer is overdue: the sweep escalates them.
pub async fn overdue(db: &Db, today: Date) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM letters WHERE status IN ('issued', 'acknowledged') AND response_due < $1 ORDER BY id")
        .bind(text::format_date(today))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Escalates every issued letter whose answer is overdue; returns how many. Run after the sweep.
pub async fn escalate_overdue(db: &Db, actor: &Actor, today: Date) -> Result<usize> {
    let ids = overdue(db, today).await?;
    for id in &ids {
        escalate(db, actor, *id, today).await?;
    }
    Ok(ids.len())
}
