//! Excel in, Excel out: task lists and project ledgers as .xlsx with Chinese headers, the
//! import templates (task list, project ledger, monthly investment), reading them back, and the
//! uploaded sheet returned with its bad cells marked when an import fails.

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Color, Format, Note, Workbook};
use xietong_core::domain::Money;
use xietong_core::error::{Error, FieldError, Msg, Result};

use crate::store::projects::Project;
use crate::store::tasks::Task;

pub use xietong_core::web::XLSX;

/// Column headers of the monthly-investment template (and of its import).
pub const INVESTMENT_HEADERS: [&str; 4] = [
    "项目编号",
    "项目名称",
    "月份（YYYY-MM）",
    "当月完成投资（万元）",
];

/// Column headers of the task-list template (and of its import).
pub const TASK_HEADERS: [&str; 11] = [
    "任务编号",
    "协作机制",
    "任务名称",
    "领域",
    "年度",
    "牵头单位",
    "配合单位",
    "开始日期（YYYY-MM-DD）",
    "截止日期（YYYY-MM-DD）",
    "交付成果",
    "来源类型",
];

/// Column headers of the project-ledger template (and of its import).
pub const PROJECT_HEADERS: [&str; 9] = [
    "项目编号",
    "协作机制",
    "项目名称",
    "阶段",
    "总投资（万元）",
    "项目负责人",
    "所在区划代码",
    "责任单位",
    "增补年度",
];

/// The column a failed import adds to the returned sheet.
pub const REASON_HEADER: &str = "错误说明";

/// Project stages as the ledger names them.
pub const STAGE_LABELS: [(&str, &str); 6] = [
    ("reserve", "储备"),
    ("preparatory", "前期"),
    ("started", "新开工"),
    ("under_construction", "续建"),
    ("completed", "竣工"),
    ("in_operation", "投产"),
];

/// Where a task came from, as the task book names it.
pub const SOURCE_KIND_LABELS: [(&str, &str); 5] = [
    ("decision", "会议决定"),
    ("agreement", "合作协议"),
    ("annual_plan", "年度计划"),
    ("problem_list", "问题清单"),
    ("other", "其他"),
];

/// The key of a label typed in a sheet: the Chinese label or the key itself.
pub fn key_of<'a>(labels: &[(&'a str, &str)], typed: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(k, l)| *l == typed || *k == typed)
        .map(|(k, _)| *k)
}

/// Several names in one cell, separated by 、，, ; or ；.
pub fn split_list(cell: &str) -> Vec<String> {
    cell.split(['、', ',', '，', ';', '；'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

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

/// An empty template: the header row, and a second sheet saying how to fill it in.
fn template(name: &str, headers: &[&str], notes: &[String]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(name).map_err(xlsx_error)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xlsx_error)?;
        // Text cells, so that codes and dates stay as typed.
        ws.set_column_format(c as u16, &text).map_err(xlsx_error)?;
        ws.set_column_width(c as u16, 16).map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let help = book.add_worksheet();
    help.set_name("填写说明").map_err(xlsx_error)?;
    help.set_column_width(0, 100).map_err(xlsx_error)?;
    for (r, line) in notes.iter().enumerate() {
        help.write_string(r as u32, 0, line).map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

fn labels(l: &[(&str, &str)]) -> String {
    l.iter().map(|(_, z)| *z).collect::<Vec<_>>().join("、")
}

/// The task-list template; `areas` are the areas' Chinese names.
pub fn task_template(areas: &[String]) -> Result<Vec<u8>> {
    template(
        "任务书",
        &TASK_HEADERS,
        &[
            "每行一项任务；任务编号已存在的行更新该任务，不存在的行新建任务。".into(),
            "协作机制：填写机制简称（如 CY）。".into(),
            format!("领域可选：{}", areas.join("、")),
            "牵头单位、配合单位：填写机构全称，多个配合单位用“、”分隔。".into(),
            "日期格式：YYYY-MM-DD。".into(),
            format!("来源类型可选：{}", labels(&SOURCE_KIND_LABELS)),
            "任何一行有误都不会导入；系统会逐格指出问题，并可下载标出错误的文件。".into(),
        ],
    )
}

/// The project-ledger template.
pub fn project_template() -> Result<Vec<u8>> {
    template(
        "重大项目",
        &PROJECT_HEADERS,
        &[
            "每行一个项目；项目编号已存在的行更新该项目，不存在的行新建项目。".into(),
            "协作机制：填写机制简称（如 CY）。".into(),
            format!("阶段可选：{}", labels(&STAGE_LABELS)),
            "总投资以万元为单位，只填数字。".into(),
            "所在区划代码：6 位行政区划代码，多个用“、”分隔；责任单位：机构全称，多个用“、”分隔。"
                .into(),
            "增补年度：年中增补入库的项目填写年度，否则留空。".into(),
            "任何一行有误都不会导入；系统会逐格指出问题，并可下载标出错误的文件。".into(),
        ],
    )
}

/// One row of an uploaded sheet, its cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// The spreadsheet's own row number (the header is row 1).
    pub row: usize,
    pub cells: Vec<String>,
}

impl SheetRow {
    pub fn get(&self, c: usize) -> &str {
        self.cells.get(c).map(String::as_str).unwrap_or("")
    }
}

fn unreadable() -> Error {
    Error::invalid(
        "file",
        "xlsx_unreadable",
        "无法读取该文件，请上传 .xlsx 格式的模板",
        "the file cannot be read; upload the .xlsx template",
    )
}

/// The first sheet of an upload as text rows (the first row is the header), with the sheet's
/// name.
fn read_grid(bytes: &[u8]) -> Result<(String, Vec<Vec<String>>)> {
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|_| unreadable())?;
    let name = book.sheet_names().first().cloned().ok_or_else(unreadable)?;
    let range = book.worksheet_range(&name).map_err(|_| unreadable())?;
    // A sheet whose first used cell is not A1 is read as if it were, so row numbers match
    // what the person sees.
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut grid: Vec<Vec<String>> = vec![Vec::new(); r0 as usize];
    for r in range.rows() {
        let mut cells = vec![String::new(); c0 as usize];
        cells.extend(r.iter().map(cell_text));
        grid.push(cells);
    }
    Ok((name, grid))
}

/// Reads a template back: the header must be the template's; empty rows are skipped.
pub fn read_rows(bytes: &[u8], headers: &[&str]) -> Result<Vec<SheetRow>> {
    let (_, grid) = read_grid(bytes)?;
    let header = grid.first().cloned().unwrap_or_default();
    for (i, expected) in headers.iter().enumerate() {
        if header.get(i).map(String::as_str) != Some(*expected) {
            return Err(Error::Invalid(vec![problem(
                1,
                &format!("第{}列", i + 1),
                format!("表头应为“{expected}”，请使用系统下载的模板"),
                format!("the header should read “{expected}”; use the downloaded template"),
            )]));
        }
    }
    Ok(grid
        .into_iter()
        .enumerate()
        .skip(1)
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(i, cells)| SheetRow { row: i + 1, cells })
        .collect())
}

/// A failure naming one cell of an imported sheet (`第{row}行 {column}`).
pub fn cell_problem(row: usize, column: &str, message: Msg) -> FieldError {
    FieldError::new(format!("第{row}行 {column}"), "import_cell", message)
}

/// The row and column (0-based) a failure names, if it names a cell of a sheet with `headers`.
fn cell_of(field: &str, headers: &[&str]) -> Option<(u32, Option<u16>)> {
    let rest = field.strip_prefix('第')?;
    let (row, rest) = rest.split_once('行')?;
    let row: u32 = row.parse().ok()?;
    let column = rest.trim();
    let col = headers
        .iter()
        .position(|h| *h == column)
        .map(|c| c as u16)
        .or_else(|| {
            column
                .strip_prefix('第')
                .and_then(|c| c.strip_suffix('列'))
                .and_then(|c| c.parse::<u16>().ok())
                .map(|c| c.saturating_sub(1))
        });
    Some((row.checked_sub(1)?, col))
}

/// The uploaded sheet returned with every cell a failure names filled red and annotated, and a
/// last column “错误说明” giving each failing row's reasons. `None` when the file cannot be
/// read or no failure names a cell.
pub fn marked(bytes: &[u8], headers: &[&str], errors: &[FieldError]) -> Option<Vec<u8>> {
    let (name, grid) = read_grid(bytes).ok()?;
    let mut by_row: std::collections::BTreeMap<u32, Vec<(Option<u16>, String)>> =
        Default::default();
    for e in errors {
        let (row, col) = cell_of(&e.field, headers)?;
        by_row
            .entry(row)
            .or_default()
            .push((col, e.message.zh.clone()));
    }
    if by_row.is_empty() {
        return None;
    }
    let width = grid
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(headers.len());
    let reason_col = width as u16;
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(&name).ok()?;
    let bold = Format::new().set_bold();
    let bad = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    let reason = Format::new()
        .set_font_color(Color::RGB(0x9C0006))
        .set_text_wrap();
    for (r, cells) in grid.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            let fmt = if r == 0 { &bold } else { &Format::new() };
            ws.write_string_with_format(r as u32, c as u16, v, fmt)
                .ok()?;
        }
    }
    ws.write_string_with_format(0, reason_col, REASON_HEADER, &bold)
        .ok()?;
    ws.set_column_width(reason_col, 60).ok()?;
    for (row, problems) in &by_row {
        let cells = grid.get(*row as usize);
        let mut reasons = Vec::new();
        for (col, msg) in problems {
            if let Some(col) = col {
                let value = cells
                    .and_then(|c| c.get(*col as usize))
                    .map(String::as_str)
                    .unwrap_or("");
                ws.write_string_with_format(*row, *col, value, &bad).ok()?;
                ws.insert_note(*row, *col, &Note::new(msg).set_author("协同"))
                    .ok()?;
                let header = headers.get(*col as usize).copied().unwrap_or("");
                reasons.push(if header.is_empty() {
                    msg.clone()
                } else {
                    format!("{header}：{msg}")
                });
            } else {
                reasons.push(msg.clone());
            }
        }
        ws.write_string_with_format(*row, reason_col, reasons.join("；"), &reason)
            .ok()?;
    }
    ws.set_freeze_panes(1, 0).ok()?;
    book.save_to_buffer().ok()
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
    cell_problem(row, column, Msg::new(zh, en))
}

/// Reads the investment template back. The header must be the template's; rows without an
/// amount are skipped (the template lists every project; a row left blank is not reported).
pub fn read_investment(bytes: &[u8]) -> Result<Vec<InvestmentRow>> {
    Ok(read_rows(bytes, &INVESTMENT_HEADERS)?
        .into_iter()
        .filter(|r| !r.get(3).is_empty())
        .map(|r| InvestmentRow {
            row: r.row,
            code: r.get(0).to_string(),
            month: r.get(2).to_string(),
            amount_wan: r.get(3).to_string(),
        })
        .collect())
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

#[cfg(test)]
mod marking {
    use super::*;

    #[test]
    fn a_failing_sheet_comes_back_marked() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        for (c, h) in PROJECT_HEADERS.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "P-1").unwrap();
        ws.write_string(2, 4, "12亿").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let errors = vec![
            cell_problem(3, "总投资（万元）", Msg::new("含单位", "unit")),
            cell_problem(3, "第2列", Msg::new("第二列", "second")),
        ];
        let marked = marked(&bytes, &PROJECT_HEADERS, &errors).expect("marked");
        let rows = read_rows(&marked, &PROJECT_HEADERS).unwrap();
        assert_eq!(rows[1].get(4), "12亿");
        assert_eq!(rows[1].get(9), "总投资（万元）：含单位；协作机制：第二列");
        assert_eq!(rows[0].get(9), "");
    }
}
