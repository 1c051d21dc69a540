//! Excel in, Excel out: task lists and project ledgers as .xlsx with Chinese headers, the
//! monthly-investment template, and reading that template back.

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use xietong_core::domain::Money;
use xietong_core::error::{Error, FieldError, Msg, Result};

use crate::store::projects::Project;
use crate::store::tasks::Task;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Column headers of the monthly-investment template (and of its import).
pub const INVESTMENT_HEADERS: [&str; 4] = [
    "项目编号",
    "项目名称",
    "月份（YYYY-MM）",
    "当月完成投资（万元）",
];

fn xlsx_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("xlsx: {e}"))
}

/// A sheet of rows under a bold header row, columns sized to their content.
fn sheet(name: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(name).map_err(xlsx_error)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xlsx_error)?;
        ws.set_column_width(c as u16, 14).map_err(xlsx_error)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            ws.write_string_with_format(r as u32 + 1, c as u16, value, &text)
                .map_err(xlsx_error)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
}

fn wan(fen: i64) -> String {
    // 万元 with up to six decimals: exact, since one fen is 0.000001 万元.
    let m = Money::from_fen(fen).map(|m| m.fen()).unwrap_or(0);
    let (whole, frac) = (m / 1_000_000, (m % 1_000_000).abs());
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:06}")
            .trim_end_matches('0')
            .to_string()
    }
}

pub fn tasks(tasks: &[Task]) -> Result<Vec<u8>> {
    let rows = tasks
        .iter()
        .map(|t| {
            vec![
                t.code.clone(),
                t.title_zh.clone(),
                t.area.clone(),
                t.year.to_string(),
                t.lead_name_zh.clone(),
                t.start_on.clone(),
                t.deadline.clone(),
                t.latest_percent.map(|p| p.to_string()).unwrap_or_default(),
                t.status.clone(),
            ]
        })
        .collect();
    sheet(
        "任务书",
        &[
            "任务编号",
            "任务",
            "领域",
            "年度",
            "牵头单位",
            "开始日期",
            "截止日期",
            "最新进度（%）",
            "状态",
        ],
        rows,
    )
}

pub fn projects(projects: &[Project]) -> Result<Vec<u8>> {
    let rows = projects
        .iter()
        .map(|p| {
            vec![
                p.code.clone(),
                p.name_zh.clone(),
                p.stage.clone(),
                wan(p.total_investment_fen),
                p.added_in_year.map(|y| y.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    sheet(
        "重大项目",
        &["项目编号", "项目名称", "阶段", "总投资（万元）", "增补年度"],
        rows,
    )
}

/// The template a unit fills in each month: its projects, this month, an empty amount.
pub fn investment_template(projects: &[Project], month: &str) -> Result<Vec<u8>> {
    let rows = projects
        .iter()
        .map(|p| {
            vec![
                p.code.clone(),
                p.name_zh.clone(),
                month.to_string(),
                String::new(),
            ]
        })
        .collect();
    sheet("月度完成投资", &INVESTMENT_HEADERS, rows)
}

/// One filled-in row of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestmentRow {
    /// The spreadsheet's own row number (the header is row 1).
    pub row: usize,
    pub code: String,
    pub month: String,
    pub amount_wan: String,
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        // A float cell shown as typed: 1508 stays "1508", 0.5 stays "0.5".
        Data::Float(f) => {
            let s = format!("{f}");
            s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
        }
        other => other.to_string(),
    }
}

fn problem(row: usize, column: &str, zh: String, en: String) -> FieldError {
    FieldError::new(
        format!("第{row}行 {column}"),
        "import_cell",
        Msg::new(zh, en),
    )
}

/// Reads the template back. The header must be the template's; empty rows are skipped.
pub fn read_investment(bytes: &[u8]) -> Result<Vec<InvestmentRow>> {
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
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    for (i, expected) in INVESTMENT_HEADERS.iter().enumerate() {
        if header.get(i).map(String::as_str) != Some(*expected) {
            return Err(Error::Invalid(vec![problem(
                1,
                &format!("第{}列", i + 1),
                format!("表头应为“{expected}”，请使用系统下载的模板"),
                format!("the header should read “{expected}”; use the downloaded template"),
            )]));
        }
    }
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let cells: Vec<String> = r.iter().map(cell_text).collect();
        let get = |c: usize| cells.get(c).cloned().unwrap_or_default();
        // The template lists every project; a row without an amount is simply not reported.
        if get(3).is_empty() {
            continue;
        }
        out.push(InvestmentRow {
            row: i + 2,
            code: get(0),
            month: get(2),
            amount_wan: get(3),
        });
    }
    Ok(out)
}

/// Parses an amount typed in 万元 (the template's unit) into money, refusing text, negatives
/// and figures that look typed in 亿 or 元 by mistake.
pub fn parse_wan(row: usize, s: &str) -> Result<Money, FieldError> {
    let column = INVESTMENT_HEADERS[3];
    let t = s.trim();
    if t.contains('亿') || t.contains('元') {
        return Err(problem(
            row,
            column,
            format!("“{t}”含单位，本列只填万元数字"),
            format!("“{t}” has a unit; this column takes a number of 万元"),
        ));
    }
    let too_big = || {
        problem(
            row,
            column,
            format!("{t}万元超过单月合理范围，是否误把元当作万元？"),
            format!("{t} 万元 is beyond one month's plausible range: yuan typed as 万元?"),
        )
    };
    let m = Money::parse_yuan(column, &format!("{t}万")).map_err(|e| match e.code {
        "money_out_of_range" => too_big(),
        _ => problem(
            row,
            column,
            format!("“{t}”不是非负数字"),
            format!("“{t}” is not a non-negative number"),
        ),
    })?;
    // More than 100亿 in one month for one project is almost surely 元 typed as 万元.
    if m.fen() > 1_000_000_000_000 {
        return Err(too_big());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_wan_are_exact_and_mistakes_are_named() {
        assert_eq!(parse_wan(2, "1508").unwrap().fen(), 1_508_000_000);
        assert_eq!(parse_wan(2, "0.5").unwrap().fen(), 500_000);
        assert_eq!(
            parse_wan(3, "4.39亿").unwrap_err().field,
            "第3行 当月完成投资（万元）"
        );
        assert!(parse_wan(4, "一千").is_err());
        assert!(parse_wan(5, "-3").is_err());
        assert!(parse_wan(6, "439000000")
            .unwrap_err()
            .message
            .zh
            .contains("误把元当作万元"));
        assert_eq!(wan(1_508_000_000), "1508");
        assert_eq!(wan(1_508_500_000), "1508.5");
    }

    #[test]
    fn the_template_reads_back() {
        let p = Project {
            id: 1,
            code: "CY-P-001".into(),
            framework_id: 1,
            name_zh: "成渝中线高铁".into(),
            stage: "under_construction".into(),
            total_investment_fen: 0,
            leader_zh: String::new(),
            added_in_year: None,
            source_seed: None,
            source_quote: None,
            generated: 0,
        };
        let bytes = investment_template(&[p], "2026-11").unwrap();
        let rows = read_investment(&bytes).unwrap();
        assert_eq!(rows, vec![]);
        assert!(matches!(
            read_investment(b"not a spreadsheet"),
            Err(Error::Invalid(_))
        ));
    }
}
