//! `GET /api/v1/scan/parse`: what a barcode says, for scripts and for the
//! scan box on stock forms.

use actix_web::web::{Json, Query};
use serde::Deserialize;

use crate::domain::barcode::{self, Scan};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanQuery {
    /// What the scanner typed: a GS1 element string (FNC1 as the group
    /// separator, URL-encoded as `%1D`), `(01)…` text, a plain GTIN, a GS1
    /// Digital Link URI or a HIBCC code.
    code: String,
}

/// Parses a scanned barcode into GTIN or HIBCC identity, lot, serial and dates.
#[utoipa::path(
    get,
    path = "/api/v1/scan/parse",
    tag = "scanning",
    params(ScanQuery),
    responses(
        (status = 200, description = "What the code says", body = Scan),
        (status = 422, description = "Not a code stockroom can read; `details` says why", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn parse(ctx: Ctx, query: Query<ScanQuery>) -> Result<Json<Scan>, AppError> {
    let year = ctx.state.clock.now().datetime().year();
    barcode::parse(&query.code, year)
        .map(Json)
        .map_err(|e| FieldErrors::single("code", e).into())
}
