//! Pages: warning letters (list, drafting, the letter with its actions, the printable A4 page)
//! and the addressee's inbox.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Decision;
use xietong_core::web::{AppState, CsrfForm, Ctx};

use crate::api::{readable_letter, today};
use crate::permissions;
use crate::store::letters::{self, DraftRequest, ResponseInput};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LetterQuery {
    #[serde(default)]
    framework: Option<i64>,
    /// How many letters the drafting just made (shown as a notice).
    #[serde(default)]
    drafted: Option<usize>,
}

pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LetterQuery>,
) -> Result<Response> {
    ctx.actor()?;
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let items: Vec<_> = letters::list(&s.db, q.framework, None, visible.as_deref())
        .await?
        .into_iter()
        .map(|l| minijinja::context! { number => l.display_number(), l })
        .collect();
    let frameworks: Vec<_> = s
        .frameworks
        .visible(&s.db, ctx.actor.as_ref())
        .await?
        .into_iter()
        .filter(|f| permissions::manage(ctx.actor.as_ref(), f.id) == Decision::Allow)
        .collect();
    Ok(ctx
        .render(
            &s,
            "supervision/letters.html",
            minijinja::context! { items, frameworks, drafted => q.drafted },
        )?
        .into_response())
}

pub async fn draft(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(req): CsrfForm<DraftRequest>,
) -> Result<Response> {
    let drafts = letters::draft_from_alerts(&s.db, ctx.actor()?, &req, today()).await?;
    // One letter opens at once; several (one per responsible unit) are listed with a notice.
    Ok(Redirect::to(&match drafts.as_slice() {
        [only] => format!("/letters/{}", only.letter.id),
        _ => format!("/letters?drafted={}", drafts.len()),
    })
    .into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let d = readable_letter(&s, &ctx, id).await?;
    let can_manage =
        permissions::manage(ctx.actor.as_ref(), d.letter.framework_id) == Decision::Allow;
    let can_answer =
        permissions::answer(ctx.actor.as_ref(), d.letter.addressee_org_id) == Decision::Allow;
    Ok(ctx
        .render(
            &s,
            "supervision/letter.html",
            minijinja::context! { d, can_manage, can_answer },
        )?
        .into_response())
}

pub async fn print(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let d = readable_letter(&s, &ctx, id).await?;
    if d.letter.number.is_none() {
        return Err(Error::conflict(
            "letter_not_issued",
            "提示函尚未印发，没有正式文本",
            "the letter is not issued yet; it has no official text",
        ));
    }
    let issued_on = d
        .letter
        .issued_at
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(10)
        .collect::<String>();
    // The issuing body is the framework's owning organisation (the joint office), else the framework.
    let framework = s.frameworks.get(&s.db, d.letter.framework_id).await?;
    let issuer_name = match framework.owner_org_id {
        Some(org) => {
            xietong_core::registry::organisations::get(&s.db, org)
                .await?
                .name_zh
        }
        None => framework.name_zh.clone(),
    };
    Ok(ctx
        .render(
            &s,
            "supervision/letter_print.html",
            minijinja::context! { d, issued_on, issuer_name },
        )?
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    response_zh: String,
}

/// One form for every move of a letter; the permission check of each move is in the store.
pub async fn act(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    match form.action.as_str() {
        "issue" => letters::issue(&s.db, actor, id).await?,
        "acknowledge" => letters::acknowledge(&s.db, actor, id).await?,
        "respond" => {
            letters::respond(
                &s.db,
                actor,
                id,
                &ResponseInput {
                    response_zh: form.response_zh,
                },
            )
            .await?
        }
        "resolve" => letters::resolve(&s.db, actor, id).await?,
        "escalate" => letters::escalate(&s.db, actor, id, today()).await?,
        _ => {
            return Err(Error::invalid(
                "action",
                "value_unknown",
                "未知操作",
                "unknown action",
            ))
        }
    };
    Ok(Redirect::to(&format!("/letters/{id}")).into_response())
}

pub async fn inbox(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    let org = ctx.actor()?.organisation_id;
    let items: Vec<_> = match org {
        Some(org) => letters::list(&s.db, None, Some(org), None)
            .await?
            .into_iter()
            .map(|l| minijinja::context! { number => l.display_number(), l })
            .collect(),
        None => vec![],
    };
    Ok(ctx
        .render(&s, "supervision/inbox.html", minijinja::context! { items })?
        .into_response())
}
