//! Spreadsheets over the API: exports of filtered lists, the monthly-investment template, and
//! its import.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::Result;
use xietong_core::web::problem::Problem;
use xietong_core::web::{AppState, Ctx};

use super::today;
use crate::excel::{self, XLSX};
use crate::store::projects::{self, ImportOutcome, ProjectFilter};
use crate::store::tasks::{self, TaskFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_tasks))
        .routes(routes!(export_projects))
        .routes(routes!(investment_template))
        .routes(routes!(import_investment))
}

/// An .xlsx download named `name`.
pub fn xlsx_response(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

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
/// first; if any fails, nothing is stored and every failing row and column is named.
#[utoipa::path(post, path = "/api/v1/projects/investment-import", tag = "supervision",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportOutcome), (status = 422, body = Problem)))]
async fn import_investment(
    State(s): State<AppState>,
    ctx: Ctx,
    body: Bytes,
) -> Result<Json<ImportOutcome>> {
    let actor = ctx.actor()?;
    let rows = excel::read_investment(&body)?;
    Ok(Json(
        projects::import_investment(&s.db, actor, &rows, today()).await?,
    ))
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
