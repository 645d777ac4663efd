//! The page a supplier opens from the link in an order message: the order
//! read-only, and a form to confirm it with an expected delivery date, a
//! reference and a note. No account: the signed link is the permission,
//! for this one order and this one action until it expires. A forged,
//! altered or expired link gets a clear refusal and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Context;
use crate::db::DbError;
use crate::dispatch::confirm::{self, LinkError};
use crate::dispatch::email::{LineView, line_views};
use crate::domain::actor::Actor;
use crate::domain::money::format_minor;
use crate::domain::order::{Action, OrderState};
use crate::orders::lifecycle::{self, ActInput};
use crate::orders::{OrderDetail, OrdersError};
use crate::practice::Practice;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render_status};

#[derive(Template)]
#[template(path = "supplier/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    token: String,
    practice: Practice,
    detail: OrderDetail,
    lines: Vec<LineView>,
    total: String,
    form: ConfirmForm,
    errors: FieldErrors,
    /// Said after a confirmation, or why there is nothing to do.
    notice: Option<String>,
    can_confirm: bool,
}
crate::page!(ConfirmPage);

#[derive(Template)]
#[template(path = "supplier/refused.html")]
struct RefusedPage {
    layout: Layout,
    message: String,
}
crate::page!(RefusedPage);

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    expected_on: String,
    #[serde(default)]
    supplier_reference: String,
    #[serde(default)]
    note: String,
}

fn refused(req: &HttpRequest, e: LinkError) -> Result<HttpResponse, AppError> {
    tracing::warn!(reason = ?e, "supplier confirmation link refused");
    render_status(
        match e {
            LinkError::Expired => StatusCode::GONE,
            _ => StatusCode::FORBIDDEN,
        },
        &RefusedPage {
            layout: Layout::for_request(req, "Order confirmation"),
            message: e.to_string(),
        },
    )
}

/// The order the token names, if the token is genuine and current.
async fn order_of(ctx: &Ctx, token: &str) -> Result<Result<i64, LinkError>, AppError> {
    let key = ctx
        .state
        .db
        .read(|c| confirm::existing_key(c).map_err(DbError::from))
        .await?;
    let now = ctx.state.clock.now().datetime().unix_timestamp();
    Ok(match key {
        Some(key) => confirm::check(&key, token, now),
        None => Err(LinkError::Forged),
    })
}

/// What the page shows besides the order.
struct View {
    status: StatusCode,
    form: ConfirmForm,
    errors: FieldErrors,
    notice: Option<String>,
}

impl View {
    fn ok(notice: Option<String>) -> View {
        View {
            status: StatusCode::OK,
            form: ConfirmForm::default(),
            errors: FieldErrors::default(),
            notice,
        }
    }
}

async fn page(
    req: &HttpRequest,
    ctx: &Ctx,
    token: String,
    order_id: i64,
    view: View,
) -> Result<HttpResponse, AppError> {
    let View {
        status,
        form,
        errors,
        notice,
    } = view;
    let today = ctx.state.order_env().today;
    let (detail, practice) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                crate::orders::detail(c, order_id, today)?,
                crate::practice::practice(c)?,
            ))
        })
        .await?;
    let detail = detail.ok_or(AppError::NotFound)?;
    let can_confirm = detail.order.state == OrderState::Sent;
    let notice = notice.or_else(|| match detail.order.state {
        OrderState::Sent => None,
        OrderState::Acknowledged => Some(format!(
            "Thank you: this order is confirmed{}.",
            if detail.order.expected_on.is_empty() {
                String::new()
            } else {
                format!(", delivery expected on {}", detail.order.expected_on)
            }
        )),
        OrderState::Cancelled => {
            Some("This order was cancelled by the practice. Please do not deliver it.".into())
        }
        s => Some(format!(
            "This order is {} and cannot be confirmed any more.",
            s.label().to_lowercase()
        )),
    });
    render_status(
        status,
        &ConfirmPage {
            layout: Layout::for_request(req, format!("Order {}", detail.order.number)),
            token,
            practice,
            lines: line_views(&detail),
            total: format_minor(detail.order.total_minor),
            detail,
            form,
            errors,
            notice,
            can_confirm,
        },
    )
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    match order_of(&ctx, &token).await? {
        Ok(id) => page(&req, &ctx, token, id, View::ok(None)).await,
        Err(e) => refused(&req, e),
    }
}

pub async fn submit(
    req: HttpRequest,
    ctx: Ctx,
    token: web::Path<String>,
    f: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let (token, form) = (token.into_inner(), f.into_inner());
    let id = match order_of(&ctx, &token).await? {
        Ok(id) => id,
        Err(e) => return refused(&req, e),
    };
    let env = ctx.state.order_env();
    let mut errors = FieldErrors::default();
    match lifecycle::parse_date("expected_on", &form.expected_on) {
        Ok(Some(d)) if d < env.today => {
            errors.add("expected_on", "must not be in the past");
        }
        Ok(Some(_)) => {}
        Ok(None) => errors.add("expected_on", "is required: the day you expect to deliver"),
        Err(e) => errors.0.extend(e.0),
    }
    if !errors.is_empty() {
        let view = View {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            form,
            errors,
            notice: None,
        };
        return page(&req, &ctx, token, id, view).await;
    }
    let audit = Context {
        actor: Actor::Supplier {
            via: "supplier (confirmation link)".into(),
        },
        ..ctx.audit()
    };
    let input = ActInput {
        reason: form.note.trim().to_string(),
        expected_on: form.expected_on.trim().to_string(),
        supplier_reference: form.supplier_reference.trim().to_string(),
        confirm_destination: false,
    };
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::act(tx, &audit, &env, id, Action::Acknowledge, &input))
        .await;
    match outcome {
        Ok(order) => {
            let notice = format!(
                "Thank you: order {} is confirmed, delivery expected on {}.",
                order.number, order.expected_on
            );
            page(&req, &ctx, token, id, View::ok(Some(notice))).await
        }
        Err(OrdersError::Invalid(e)) => {
            let view = View {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors: e.renamed("reason", "note"),
                notice: None,
            };
            page(&req, &ctx, token, id, view).await
        }
        Err(OrdersError::Refused(why)) => {
            let view = View {
                status: StatusCode::CONFLICT,
                ..View::ok(Some(why.message))
            };
            page(&req, &ctx, token, id, view).await
        }
        Err(e) => Err(e.into()),
    }
}
