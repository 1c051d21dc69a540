-- Evidence files of progress reports (佐证材料) go into `evidence_files` (1000): who uploaded
-- each, and one copy of the same content per report.

ALTER TABLE evidence_files ADD COLUMN uploaded_by TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX evidence_files_report_hash ON evidence_files(report_id, sha256);
