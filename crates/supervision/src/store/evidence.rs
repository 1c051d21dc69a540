//! Evidence files of progress reports (佐证材料): checked by size and by their first bytes
//! (never by the name or the type the browser claims), stored in the database with their
//! SHA-256, one copy per report of the same content, and read by whoever may read the task.

use serde::Serialize;
use sha2::{Digest, Sha256};
use xietong_core::audit::Change;
use xietong_core::error::{Error, FieldError, Msg, Result};
use xietong_core::write::Write;
use xietong_core::Db;

/// The largest evidence file accepted, in bytes (set by the server from its settings).
#[derive(Debug, Clone, Copy)]
pub struct EvidenceLimit(pub usize);

impl Default for EvidenceLimit {
    fn default() -> Self {
        EvidenceLimit(10 * 1024 * 1024)
    }
}

/// The files sent with a report, and the size each may reach.
#[derive(Debug, Clone, Default)]
pub struct Uploads {
    pub files: Vec<Upload>,
    pub limit: EvidenceLimit,
}

/// A file as uploaded, before any check.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Evidence {
    pub id: i64,
    pub report_id: i64,
    /// The report's period, `YYYY-MM`.
    pub period: String,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// What the first bytes say the file is; `None` for anything not accepted.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return Some("image/jpeg");
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // Office files are zip archives; their part names are stored uncompressed.
        let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
        if has(b"word/document.xml") {
            return Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        }
        if has(b"xl/workbook.xml") {
            return Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        }
        return None;
    }
    // Plain text: UTF-8 without control characters other than tab, line feed, carriage return
    // and form feed (a BOM is fine).
    let text = std::str::from_utf8(bytes).ok()?;
    if text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
    {
        return Some("text/plain; charset=utf-8");
    }
    None
}

fn refused(code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new("files", code, Msg::new(zh, en))
}

/// The error for a file over the limit (also used while the upload is still streaming in).
pub fn too_big(filename: &str, limit: EvidenceLimit) -> Error {
    let mib = limit.0 as f64 / (1024.0 * 1024.0);
    Error::Invalid(vec![refused(
        "evidence_too_big",
        format!("文件“{filename}”超过 {mib:.1} MiB 的上限"),
        format!("the file “{filename}” is larger than the {mib:.1} MiB limit"),
    )])
}

/// A checked upload: its clean name, media type and hash.
#[derive(Debug, Clone)]
pub struct Checked {
    pub filename: String,
    pub media_type: &'static str,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Checks every upload (size, type by content, a usable name); reports all refusals at once.
pub fn check(uploads: Vec<Upload>, limit: EvidenceLimit) -> Result<Vec<Checked>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for u in uploads {
        // Browsers may send a path; keep the last part, without control characters.
        let name: String = u
            .filename
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let name = if name.trim().is_empty() {
            "evidence".to_string()
        } else {
            name.trim().to_string()
        };
        if u.bytes.is_empty() {
            problems.push(refused(
                "evidence_empty",
                format!("文件“{name}”是空的"),
                format!("the file “{name}” is empty"),
            ));
            continue;
        }
        if u.bytes.len() > limit.0 {
            if let Error::Invalid(mut f) = too_big(&name, limit) {
                problems.append(&mut f);
            }
            continue;
        }
        let Some(media_type) = sniff(&u.bytes) else {
            problems.push(refused(
                "evidence_type_refused",
                format!("文件“{name}”的类型不被接受：只接受 PDF、PNG、JPEG、Excel（.xlsx）、Word（.docx）和纯文本"),
                format!("the file “{name}” is of a type not accepted: only PDF, PNG, JPEG, Excel (.xlsx), Word (.docx) and plain text"),
            ));
            continue;
        };
        out.push(Checked {
            filename: name,
            media_type,
            sha256: hex::encode(Sha256::digest(&u.bytes)),
            bytes: u.bytes,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Attaches checked files to a report inside the caller's write, one audit record each; a file
/// whose content the report already holds is not stored again. Returns how many were added.
pub async fn attach(w: &mut Write<'_>, report_id: i64, files: &[Checked]) -> Result<usize> {
    let mut added = 0;
    for f in files {
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM evidence_files WHERE report_id = $1 AND sha256 = $2")
                .bind(report_id)
                .bind(&f.sha256)
                .fetch_optional(w.conn())
                .await?;
        if exists.is_some() {
            continue;
        }
        let uploader = w.actor().username.clone();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO evidence_files (report_id, file_name, content_type, size_bytes, sha256, content, created_at, uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(report_id)
        .bind(&f.filename)
        .bind(f.media_type)
        .bind(f.bytes.len() as i64)
        .bind(&f.sha256)
        .bind(f.bytes.clone())
        .bind(xietong_core::clock::now_rfc3339())
        .bind(&uploader)
        .fetch_one(w.conn())
        .await?;
        w.record(Change::created(
            "evidence_file",
            id,
            serde_json::json!({
                "report_id": report_id, "filename": f.filename, "media_type": f.media_type,
                "size_bytes": f.bytes.len(), "sha256": f.sha256,
            }),
        ))
        .await?;
        added += 1;
    }
    Ok(added)
}

const SELECT: &str = "SELECT e.id, e.report_id, r.period, e.file_name AS filename, e.content_type AS media_type, e.size_bytes, e.sha256,
       e.uploaded_by, e.created_at AS uploaded_at
  FROM evidence_files e JOIN progress_reports r ON r.id = e.report_id";

/// The evidence of a task's reports, newest period first.
pub async fn of_task(db: &Db, task_id: i64) -> Result<Vec<Evidence>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE r.task_id = $1 ORDER BY r.period DESC, e.id"
    ))
    .bind(task_id)
    .fetch_all(db.pool())
    .await?)
}

/// One evidence file with the task it belongs to and its bytes.
pub async fn content(db: &Db, id: i64) -> Result<(Evidence, i64, Vec<u8>)> {
    let e: Evidence = sqlx::query_as(&format!("{SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("evidence", id))?;
    let (task_id, bytes): (i64, Vec<u8>) = sqlx::query_as(
        "SELECT r.task_id, e.content FROM evidence_files e JOIN progress_reports r ON r.id = e.report_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    Ok((e, task_id, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0..JFIF"), Some("image/jpeg"));
        assert_eq!(
            sniff("进度说明：已完成。\n".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00"), None, "a Windows program");
        assert_eq!(
            sniff(b"PK\x03\x04 just a zip"),
            None,
            "a zip that is no Office file"
        );
        assert_eq!(sniff(b"GIF89a"), Some("text/plain; charset=utf-8"));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00\x80\x00"), None);
    }

    #[test]
    fn refusals_are_named_and_all_reported() {
        let limit = EvidenceLimit(10);
        let e = check(
            vec![
                Upload {
                    filename: "C:\\docs\\big.txt".into(),
                    bytes: b"01234567890".to_vec(),
                },
                Upload {
                    filename: "a.exe".into(),
                    bytes: b"MZ\x90\x00".to_vec(),
                },
            ],
            limit,
        )
        .unwrap_err();
        let Error::Invalid(f) = e else { panic!() };
        assert_eq!(f[0].code, "evidence_too_big");
        assert!(f[0].message.zh.contains("big.txt") && !f[0].message.zh.contains("docs"));
        assert_eq!(f[1].code, "evidence_type_refused");
        let ok = check(
            vec![Upload {
                filename: "a.txt".into(),
                bytes: b"ok".to_vec(),
            }],
            limit,
        )
        .unwrap();
        assert_eq!(ok[0].sha256.len(), 64);
    }
}
