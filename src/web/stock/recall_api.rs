//! `/api/v1/recalls`: where recalled lots are and went, quarantining them,
//! and disposing of them as recalled. Managers only: a recall covers every
//! location.

use actix_web::web::{Json, Query};
use serde::{Deserialize, Serialize};

use crate::stock::recall::{self, Report};
use crate::web::context::Ctx;
use crate::web::error::AppError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecallQuery {
    /// The recalled product's GTIN (any length).
    gtin: String,
    /// Lot numbers, separated by commas.
    lots: String,
}

pub fn split_lots(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the lots are now and where they were used, disposed of or returned.
#[utoipa::path(get, path = "/api/v1/recalls", tag = "stock", params(RecallQuery),
    responses((status = 200, body = Report), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn find(ctx: Ctx, q: Query<RecallQuery>) -> Result<Json<Report>, AppError> {
    let q = q.into_inner();
    let lots = split_lots(&q.lots);
    let report = ctx
        .state
        .db
        .read(move |c| recall::find(c, &q.gtin, &lots))
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RecallInput {
    pub gtin: String,
    pub lots: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecallOutcome {
    /// Units newly quarantined, or disposed of.
    pub units: i64,
}

/// Quarantines every unit of the lots, wherever it is: it can then only be
/// disposed of.
#[utoipa::path(post, path = "/api/v1/recalls/quarantine", tag = "stock", request_body = RecallInput,
    responses((status = 200, body = RecallOutcome), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn quarantine(
    ctx: Ctx,
    body: Json<RecallInput>,
) -> Result<Json<RecallOutcome>, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let units = ctx
        .state
        .db
        .write(move |tx| recall::quarantine(tx, &a, &b.gtin, &b.lots))
        .await?;
    Ok(Json(RecallOutcome { units }))
}

/// Disposes of the quarantined units of the lots with reason "recalled".
#[utoipa::path(post, path = "/api/v1/recalls/dispose", tag = "stock", request_body = RecallInput,
    responses((status = 200, body = RecallOutcome), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn dispose(ctx: Ctx, body: Json<RecallInput>) -> Result<Json<RecallOutcome>, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let units = ctx
        .state
        .db
        .write(move |tx| recall::dispose(tx, &a, &b.gtin, &b.lots))
        .await?;
    Ok(Json(RecallOutcome { units }))
}
