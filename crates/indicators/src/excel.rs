//! Excel in, Excel out: the reporting template (rows = pairings, columns = the indicators typed
//! by hand, units in the header), reading it back cell by cell, and the report card export.

use std::collections::BTreeMap;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use xietong_core::error::{Error, FieldError, Msg, Result};
use xietong_core::Db;

use crate::periods::Period;
use crate::rules::Combine;
use crate::store::card::ReportCard;
use crate::store::catalogue::{self, Indicator};
use crate::store::values::ValueInput;
use crate::units;

pub use xietong_core::web::XLSX;

/// The fixed columns before the indicators.
pub const LEAD_HEADERS: [&str; 3] = ["结对编号", "结对", "报送期"];

fn xlsx_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("xlsx: {e}"))
}

/// `帮扶资金（万元）`: the header that names an indicator and the unit its cells are read in.
pub fn header(i: &Indicator) -> String {
    format!("{}（{}）", i.name_zh, i.unit)
}

/// Indicators typed in the template: neither counted from pairs nor derived from activities.
pub async fn typed_indicators(db: &Db, framework_id: i64) -> Result<Vec<Indicator>> {
    Ok(catalogue::for_framework(db, framework_id)
        .await?
        .into_iter()
        .filter(|i| i.combine() != Combine::CountPairs && !i.derivable())
        .collect())
}

fn write_header(ws: &mut Worksheet, headers: &[String]) -> Result<()> {
    let bold = Format::new().set_bold().set_text_wrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(xlsx_error)?;
        ws.set_column_width(c as u16, if c == 1 { 22 } else { 14 })
            .map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 2).map_err(xlsx_error)?;
    Ok(())
}

/// The template of a framework and period, prefilled with the period's current figures.
pub async fn template(db: &Db, framework_id: i64, period: &Period) -> Result<Vec<u8>> {
    let indicators = typed_indicators(db, framework_id).await?;
    let pairings = crate::store::pairings_of(db, framework_id).await?;
    let current: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT pairing_id, indicator_id, amount FROM indicator_values WHERE framework_id = $1 AND period = $2 AND status = 'current'",
    )
    .bind(framework_id)
    .bind(period.key())
    .fetch_all(db.pool())
    .await?;
    let current: BTreeMap<(i64, i64), i64> =
        current.into_iter().map(|(p, i, a)| ((p, i), a)).collect();
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("月度报送").map_err(xlsx_error)?;
    let mut headers: Vec<String> = LEAD_HEADERS.iter().map(|h| h.to_string()).collect();
    headers.extend(indicators.iter().map(header));
    write_header(ws, &headers)?;
    let text = Format::new().set_num_format("@");
    for (r, p) in pairings.values().enumerate() {
        let row = r as u32 + 1;
        ws.write_number(row, 0, p.id as f64).map_err(xlsx_error)?;
        ws.write_string(row, 1, p.label()).map_err(xlsx_error)?;
        ws.write_string_with_format(row, 2, period.key(), &text)
            .map_err(xlsx_error)?;
        for (c, ind) in indicators.iter().enumerate() {
            if let Some(a) = current.get(&(p.id, ind.id)) {
                ws.write_string_with_format(
                    row,
                    c as u16 + 3,
                    units::format_in(*a, ind.unit()),
                    &text,
                )
                .map_err(xlsx_error)?;
            }
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        // A number cell as typed: 1508 stays "1508", 4.39 stays "4.39".
        Data::Float(f) => {
            let s = format!("{f}");
            s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
        }
        other => other.to_string(),
    }
}

fn problem(at: String, zh: String, en: String) -> FieldError {
    FieldError::new(at, "import_cell", Msg::new(zh, en))
}

/// Reads a filled-in template into values to write; the header must match the framework's.
pub async fn read_template(db: &Db, framework_id: i64, bytes: &[u8]) -> Result<Vec<ValueInput>> {
    let unreadable = || {
        Error::invalid(
            "file",
            "xlsx_unreadable",
            "无法读取该文件，请上传 .xlsx 格式的模板",
            "the file cannot be read; upload the .xlsx template",
        )
    };
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|_| unreadable())?;
    let name = book.sheet_names().first().cloned().ok_or_else(unreadable)?;
    let range = book.worksheet_range(&name).map_err(|_| unreadable())?;
    let indicators = typed_indicators(db, framework_id).await?;
    let by_header: BTreeMap<String, &Indicator> =
        indicators.iter().map(|i| (header(i), i)).collect();
    let mut rows = range.rows();
    let head: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (c, expected) in LEAD_HEADERS.iter().enumerate() {
        if head.get(c).map(String::as_str) != Some(*expected) {
            problems.push(problem(
                format!("第1行 第{}列", c + 1),
                format!("表头应为“{expected}”，请使用系统下载的模板"),
                format!("the header should read “{expected}”; use the downloaded template"),
            ));
        }
    }
    let mut columns: Vec<(usize, &Indicator)> = Vec::new();
    for (c, h) in head.iter().enumerate().skip(LEAD_HEADERS.len()) {
        if h.is_empty() {
            continue;
        }
        match by_header.get(h) {
            Some(i) => columns.push((c, i)),
            None => problems.push(problem(format!("第1行 “{h}”"), format!("“{h}”不是本框架填报的指标（注意单位须与模板一致）"), format!("“{h}” is not an indicator this framework types (the unit must be the template's)"))),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut out = Vec::new();
    for (r, row) in rows.enumerate() {
        let line = r + 2;
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        let get = |c: usize| cells.get(c).cloned().unwrap_or_default();
        if cells.iter().skip(LEAD_HEADERS.len()).all(String::is_empty) {
            continue;
        }
        let Ok(pairing_id) = get(0).parse::<i64>() else {
            problems.push(problem(
                format!("第{line}行 结对编号"),
                format!("“{}”不是结对编号", get(0)),
                format!("“{}” is not a pairing number", get(0)),
            ));
            continue;
        };
        for (c, ind) in &columns {
            let amount = get(*c);
            if amount.is_empty() {
                continue;
            }
            out.push(ValueInput {
                at: format!("第{line}行 {}", header(ind)),
                pairing_id,
                indicator: ind.code.clone(),
                period: get(2),
                amount,
                evidence: String::new(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    if out.is_empty() {
        return Err(Error::invalid(
            "file",
            "xlsx_empty",
            "模板中没有填写任何数值",
            "the sheet has no figures filled in",
        ));
    }
    Ok(out)
}

/// The report card as a workbook: one sheet of totals, one of pairings.
pub fn card(c: &ReportCard) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let text = Format::new().set_num_format("@");
    {
        let ws = book.add_worksheet();
        ws.set_name("汇总").map_err(xlsx_error)?;
        let headers: Vec<String> = ["指标", "单位", "合计", "目标", "完成进度（%）", "上年同期"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        write_header(ws, &headers)?;
        for (r, l) in c.indicators.iter().enumerate() {
            let row = r as u32 + 1;
            let unit = units::Unit::parse(&l.unit).unwrap_or(units::UNITS[0]);
            let cells = [
                l.name_zh.clone(),
                if l.combine == "count_pairs" {
                    "对".into()
                } else {
                    l.unit.clone()
                },
                units::format_in(l.total, unit),
                l.target
                    .map(|t| units::format_in(t, unit))
                    .unwrap_or_default(),
                l.progress_percent
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                units::format_in(l.last_year, unit),
            ];
            for (k, v) in cells.iter().enumerate() {
                ws.write_string_with_format(row, k as u16, v, &text)
                    .map_err(xlsx_error)?;
            }
        }
    }
    {
        let ws = book.add_worksheet();
        ws.set_name("分结对").map_err(xlsx_error)?;
        let mut headers: Vec<String> = vec!["结对".into(), "年度协议".into()];
        headers.extend(c.indicators.iter().map(|l| {
            if l.combine == "count_pairs" {
                l.name_zh.clone()
            } else {
                format!("{}（{}）", l.name_zh, l.unit)
            }
        }));
        write_header(ws, &headers)?;
        for (r, p) in c.pairings.iter().enumerate() {
            let row = r as u32 + 1;
            ws.write_string(
                row,
                0,
                format!("{}—{}", p.party_a_name_zh, p.party_b_name_zh),
            )
            .map_err(xlsx_error)?;
            ws.write_string(
                row,
                1,
                if p.agreement_signed {
                    "已签"
                } else {
                    "未签"
                },
            )
            .map_err(xlsx_error)?;
            for (k, (v, l)) in p.values.iter().zip(&c.indicators).enumerate() {
                let unit = units::Unit::parse(&l.unit).unwrap_or(units::UNITS[0]);
                ws.write_string_with_format(row, k as u16 + 2, units::format_in(*v, unit), &text)
                    .map_err(xlsx_error)?;
            }
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}
