//! Spreadsheets over the API: exports of filtered lists; the task-list, project-ledger and
//! monthly-investment templates and their imports. A failed import answers 422 with problem
//! details naming each bad cell; with `?report=xlsx` the 422 carries instead the uploaded sheet
//! with those cells marked in red, a note on each and an “错误说明” column.

use crate::domain::LagRules;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::{Error, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{AppState, Ctx};

use super::today;
use crate::excel;
use crate::store::projects::{self, ImportOutcome, ProjectFilter};
use crate::store::tasks::{self, LedgerOutcome, TaskFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_tasks))
        .routes(routes!(export_projects))
        .routes(routes!(investment_template))
        .routes(routes!(import_investment))
        .routes(routes!(task_template))
        .routes(routes!(import_tasks))
        .routes(routes!(project_template))
        .routes(routes!(import_projects))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `xlsx`: when the import fails, answer 422 with the uploaded sheet, its bad cells marked,
    /// instead of problem details.
    #[serde(default)]
    report: Option<String>,
}

impl ImportQuery {
    fn wants_xlsx(&self) -> Result<bool> {
        match self.report.as_deref() {
            None | Some("") | Some("json") => Ok(false),
            Some("xlsx") => Ok(true),
            Some(_) => Err(Error::invalid(
                "report",
                "value_unknown",
                "report 可选：json、xlsx",
                "report: one of json, xlsx",
            )),
        }
    }
}

/// The answer to a failed import: problem details, or (when asked for and the failure names
/// cells of a readable sheet) the sheet with those cells marked, as a 422.
pub fn import_failure(e: Error, bytes: &[u8], headers: &[&str], as_xlsx: bool) -> Response {
    if let (true, Error::Invalid(fields)) = (as_xlsx, &e) {
        if let Some(marked) = excel::marked(bytes, headers, fields) {
            let mut r = xlsx_response("import-errors.xlsx", marked);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return r;
        }
    }
    e.into_response()
}

pub use xietong_core::web::xlsx_response;

/// Walks a paged list from the first page to the last and returns all its rows.
async fn every_page<T, F, Fut>(mut page: F) -> Result<Vec<T>>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, i64)>>,
{
    let mut rows = Vec::new();
    loop {
        let (items, total) = page(rows.len() as i64).await?;
        let done = items.is_empty();
        rows.extend(items);
        if done || rows.len() as i64 >= total {
            return Ok(rows);
        }
    }
}

/// Rows per page while walking a list.
const ALL: Option<i64> = Some(200);

/// The filtered task list as .xlsx (Chinese headers).
#[utoipa::path(get, path = "/api/v1/tasks/export", tag = "supervision", params(TaskFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export_tasks(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<TaskFilter>,
) -> Result<Response> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let rows = every_page(|offset| {
        let page = TaskFilter {
            limit: ALL,
            offset: Some(offset),
            ..f.clone()
        };
        let (db, visible) = (&s.db, visible.as_deref());
        async move { tasks::list(db, &page, visible).await }
    })
    .await?;
    Ok(xlsx_response("tasks.xlsx", excel::tasks(&rows)?))
}

/// The filtered project ledger as .xlsx (Chinese headers, money in 万元).
#[utoipa::path(get, path = "/api/v1/projects/export", tag = "supervision", params(ProjectFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export_projects(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<ProjectFilter>,
) -> Result<Response> {
    let rows = all_projects(&s, &ctx, &f).await?;
    Ok(xlsx_response("projects.xlsx", excel::projects(&rows)?))
}

pub async fn all_projects(
    s: &AppState,
    ctx: &Ctx,
    f: &ProjectFilter,
) -> Result<Vec<projects::Project>> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let rows = every_page(|offset| {
        let page = ProjectFilter {
            limit: ALL,
            offset: Some(offset),
            ..f.clone()
        };
        let (db, visible) = (&s.db, visible.as_deref());
        async move { projects::list(db, &page, visible).await }
    })
    .await?;
    Ok(rows)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    #[serde(default)]
    framework: Option<i64>,
}

/// This month's investment template: the caller's organisation's projects (all projects of the
/// framework for coordinators), one row each, the amount in 万元 left to fill in.
#[utoipa::path(get, path = "/api/v1/projects/investment-template", tag = "supervision", params(TemplateQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 401, body = Problem)))]
async fn investment_template(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TemplateQuery>,
) -> Result<Response> {
    template_response(&s, &ctx, q.framework).await
}

pub async fn template_response(
    s: &AppState,
    ctx: &Ctx,
    framework: Option<i64>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let coordinates =
        actor.is_admin() || actor.has_role(xietong_core::permissions::Role::Coordinator);
    let filter = ProjectFilter {
        framework,
        unit: if coordinates {
            None
        } else {
            actor.organisation_id.or(Some(-1))
        },
        ..Default::default()
    };
    let rows = all_projects(s, ctx, &filter).await?;
    let month = format!("{:04}-{:02}", today().year(), today().month() as u8);
    Ok(xlsx_response(
        "investment-template.xlsx",
        excel::investment_template(&rows, &month)?,
    ))
}

/// Import a filled-in investment template (the .xlsx as the request body). All rows are checked
/// first; if any fails, nothing is stored and every failing row and column is named — as
/// problem details, or with `?report=xlsx` as the uploaded sheet with the bad cells marked.
#[utoipa::path(post, path = "/api/v1/projects/investment-import", tag = "supervision", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportOutcome),
        (status = 422, description = "problem details naming each bad cell; with `report=xlsx`, the uploaded sheet with the bad cells marked", content(
            (Problem = "application/problem+json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn import_investment(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let as_xlsx = q.wants_xlsx()?;
    let outcome = match excel::read_investment(&body) {
        Ok(rows) => projects::import_investment(&s.db, actor, &rows, today()).await,
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(o) => Json(o).into_response(),
        Err(e) => import_failure(e, &body, &excel::INVESTMENT_HEADERS, as_xlsx),
    })
}

/// The task-list template: Chinese headers and a sheet of instructions (areas, source kinds).
#[utoipa::path(get, path = "/api/v1/tasks/template", tag = "supervision",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn task_template(State(s): State<AppState>) -> Result<Response> {
    Ok(xlsx_response(
        "task-template.xlsx",
        task_template_bytes(&s).await?,
    ))
}

pub async fn task_template_bytes(s: &AppState) -> Result<Vec<u8>> {
    let areas: Vec<(String,)> = sqlx::query_as("SELECT name_zh FROM areas ORDER BY position")
        .fetch_all(s.db.pool())
        .await?;
    excel::task_template(&areas.into_iter().map(|(a,)| a).collect::<Vec<_>>())
}

/// Import a filled-in task-list template (the .xlsx as the request body; the frameworks'
/// coordinators). New codes are created, changed ones updated, equal ones left alone; if any
/// row fails nothing is stored and every bad cell is named — as problem details, or with
/// `?report=xlsx` as the uploaded sheet with the bad cells marked.
#[utoipa::path(post, path = "/api/v1/tasks/import", tag = "supervision", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = LedgerOutcome), (status = 401, body = Problem),
        (status = 422, description = "problem details naming each bad cell; with `report=xlsx`, the uploaded sheet with the bad cells marked", content(
            (Problem = "application/problem+json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn import_tasks(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let as_xlsx = q.wants_xlsx()?;
    let outcome = match excel::read_rows(&body, &excel::TASK_HEADERS) {
        Ok(rows) => tasks::import(&s.db, actor, &rows, today(), &rules).await,
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(o) => Json(o).into_response(),
        Err(e) => import_failure(e, &body, &excel::TASK_HEADERS, as_xlsx),
    })
}

/// The project-ledger template: Chinese headers and a sheet of instructions (stages, units).
#[utoipa::path(get, path = "/api/v1/projects/template", tag = "supervision",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn project_template() -> Result<Response> {
    Ok(xlsx_response(
        "project-template.xlsx",
        excel::project_template()?,
    ))
}

/// Import a filled-in project-ledger template (the .xlsx as the request body; the frameworks'
/// coordinators). New codes are registered, changed ones updated, equal ones left alone; if any
/// row fails nothing is stored and every bad cell is named — as problem details, or with
/// `?report=xlsx` as the uploaded sheet with the bad cells marked.
#[utoipa::path(post, path = "/api/v1/projects/import", tag = "supervision", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = LedgerOutcome), (status = 401, body = Problem),
        (status = 422, description = "problem details naming each bad cell; with `report=xlsx`, the uploaded sheet with the bad cells marked", content(
            (Problem = "application/problem+json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn import_projects(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let as_xlsx = q.wants_xlsx()?;
    let outcome = match excel::read_rows(&body, &excel::PROJECT_HEADERS) {
        Ok(rows) => projects::import_ledger(&s.db, actor, &rows, today()).await,
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(o) => Json(o).into_response(),
        Err(e) => import_failure(e, &body, &excel::PROJECT_HEADERS, as_xlsx),
    })
}

#[cfg(test)]
mod tests {
    use super::every_page;

    #[tokio::test]
    async fn a_list_is_walked_to_its_last_page() {
        let all: Vec<i64> = (0..450).collect();
        let rows = every_page(|offset| {
            let page: Vec<i64> = all
                .iter()
                .copied()
                .skip(offset as usize)
                .take(200)
                .collect();
            async move { Ok((page, 450)) }
        })
        .await
        .unwrap();
        assert_eq!(rows, all);
        // A list that shrinks while it is read still ends.
        let rows = every_page(|_| async { Ok((Vec::<i64>::new(), 10)) })
            .await
            .unwrap();
        assert!(rows.is_empty());
    }
}
