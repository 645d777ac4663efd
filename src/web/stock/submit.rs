//! What the stock forms post: the movement is made through
//! `stock::moves::move_stock` (which checks the item code and the locations
//! against the actor), then the form comes back empty for the next scan with
//! what was done, or with every problem beside its field.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::movements::{Mode, MoveForm, Prefill, page};
use crate::catalog::items;
use crate::db::DbError;
use crate::stock::StockError;
use crate::stock::moves::{self, MoveInput, Moved};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::redirect_with_flash;
use time::Date;

pub async fn adjust_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Adjust).await
}

pub async fn dispose_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Dispose).await
}

pub async fn transfer_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Transfer).await
}

pub async fn use_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Use).await
}

pub async fn receive_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Receive).await
}

async fn submit(
    req: HttpRequest,
    ctx: Ctx,
    form: MoveForm,
    mode: Mode,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    // Adjustments go either way; everything else is a positive amount.
    let range = if mode == Mode::Adjust {
        -1_000_000..=1_000_000
    } else {
        1..=1_000_000
    };
    let quantity = errors.check(
        "quantity",
        form.quantity
            .trim()
            .trim_start_matches('+')
            .parse::<i64>()
            .ok()
            .filter(|q| range.contains(q) && *q != 0)
            .ok_or(if mode == Mode::Adjust {
                "must be a whole number from -1000000 to 1000000, not 0 (minus takes stock away)"
            } else {
                "must be a whole number from 1 to 1000000"
            }),
    );
    let location_id = errors.check(
        "location_id",
        form.location_id
            .trim()
            .parse::<i64>()
            .map_err(|_| "choose a location"),
    );
    let to_location_id = if mode == Mode::Transfer {
        errors.check(
            "to_location_id",
            form.to_location_id
                .trim()
                .parse::<i64>()
                .map_err(|_| "choose where the stock goes"),
        )
    } else {
        None
    };
    let expiry = match form.expiry.trim() {
        "" => None,
        text => errors.check(
            "expiry",
            Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| "must be a date (YYYY-MM-DD)"),
        ),
    };
    let input = MoveInput {
        action: mode.action(),
        item_code: form.item.clone(),
        location_id,
        to_location_id,
        lot: form.lot.clone(),
        expiry,
        quantity,
        reason: form.reason.clone(),
        note: form.note.clone(),
        expired_use_reason: if mode == Mode::Use {
            form.expired_use_reason.clone()
        } else {
            String::new()
        },
        today: ctx.state.today(),
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| moves::move_stock(tx, &a, &input, errors))
        .await;
    match outcome {
        Ok(Moved {
            item,
            place,
            quantity,
        }) => {
            let lot = if form.lot.trim().is_empty() {
                String::new()
            } else {
                format!(", lot {}", form.lot.trim())
            };
            let what = format!(
                "{} of {}{lot}",
                crate::domain::words::quantity(quantity.abs(), &item.unit),
                item.name
            );
            let message = match mode {
                Mode::Use => format!("Used {what} from {place}."),
                Mode::Receive => format!("Received {what} into {place}."),
                Mode::Adjust if quantity > 0 => format!("Added {what} at {place}."),
                Mode::Adjust => format!("Took {what} off at {place}."),
                Mode::Dispose => {
                    format!("Disposed of {what} from {place} ({}).", form.reason.trim())
                }
                Mode::Transfer => format!("Moved {what} from {place}."),
            };
            Ok(redirect_with_flash(mode.path(), "success", &message))
        }
        Err(StockError::Invalid(errors)) => again(&req, &ctx, mode, form, errors).await,
        Err(e) => Err(e.into()),
    }
}

/// The form again, as submitted, with its errors.
async fn again(
    req: &HttpRequest,
    ctx: &Ctx,
    mode: Mode,
    form: MoveForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let code = form.item.clone();
    let item = ctx
        .state
        .db
        .read(move |c| items::find_by_code(c, &code).map_err(DbError::from))
        .await?;
    page(
        req,
        ctx,
        mode,
        StatusCode::UNPROCESSABLE_ENTITY,
        String::new(),
        Prefill {
            form,
            item,
            errors,
            pack: None,
        },
    )
    .await
}
