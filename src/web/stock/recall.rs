//! The recall page: a GTIN (typed or scanned) and lot numbers → where that
//! stock is now and where it went, then quarantine and dispose of it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::{items, locations};
use crate::domain::{barcode, words};
use crate::stock::StockError;
use crate::stock::recall;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};
use crate::web::stock::api::split_lots;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecallForm {
    /// A GTIN, or a whole scanned code (its GTIN and lot are used).
    #[serde(default)]
    gtin: String,
    /// One or more lot numbers, by commas or one per line.
    #[serde(default)]
    lots: String,
}

struct Here {
    location: String,
    lot: String,
    expiry: String,
    quantity: i64,
    quarantined: i64,
}

struct Went {
    at: String,
    kind: String,
    location: String,
    lot: String,
    quantity: i64,
    who: String,
}

/// One lot number from the notice, and what stockroom knows of it.
struct Asked {
    asked: String,
    /// In words: how it is recorded and how much is in stock, or that
    /// nothing of it was ever recorded.
    found: String,
    missing: bool,
}

struct Found {
    item: String,
    unit: String,
    asked: Vec<Asked>,
    here: Vec<Here>,
    went: Vec<Went>,
    to_quarantine: i64,
    quarantined: i64,
}

impl Found {
    /// `n` of the item's unit, in words ("6 pairs").
    fn of(&self, n: &i64) -> String {
        words::quantity(*n, &self.unit)
    }
}

#[derive(Template)]
#[template(path = "stock/recall.html")]
struct RecallPage {
    layout: Layout,
    form: RecallForm,
    found: Option<Found>,
    errors: FieldErrors,
}
crate::page!(RecallPage);

/// A scanned code in the GTIN box: its GTIN, and its lot added to the lots.
fn normalise(mut f: RecallForm, year: i32) -> RecallForm {
    if let Ok(scan) = barcode::parse(&f.gtin, year)
        && let Some(g) = scan.gtin
    {
        f.gtin = g.as_str().to_string();
        if let Some(lot) = scan.lot
            && !split_lots(&f.lots).contains(&lot)
        {
            f.lots = if f.lots.trim().is_empty() {
                lot
            } else {
                format!("{}, {lot}", f.lots.trim())
            };
        }
    }
    f
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<RecallForm>,
) -> Result<HttpResponse, AppError> {
    let form = normalise(q.into_inner(), ctx.state.today().year());
    if form.gtin.trim().is_empty() && form.lots.trim().is_empty() {
        return page(&req, StatusCode::OK, form, None, FieldErrors::default());
    }
    let (g, lots) = (form.gtin.clone(), split_lots(&form.lots));
    let outcome = ctx
        .state
        .db
        .read(move |c| {
            let report = recall::find(c, &g, &lots)?;
            let item = items::get(c, report.item_id)?.ok_or(StockError::Invalid(
                FieldErrors::single("gtin", "no such item"),
            ))?;
            // A recall covers every location: paths from the whole tree.
            let paths: HashMap<i64, String> =
                locations::usable_with_paths(c, &crate::domain::actor::Actor::System)?
                    .into_iter()
                    .map(|(l, p)| (l.id, p))
                    .collect();
            let path = |id: i64| paths.get(&id).cloned().unwrap_or_default();
            let asked = report
                .lots
                .iter()
                .map(|m| {
                    if m.lots.is_empty() {
                        return Asked {
                            asked: m.asked.clone(),
                            found: format!(
                                "no stock or movement of this lot of {} was ever recorded: check the number on the notice",
                                item.name
                            ),
                            missing: true,
                        };
                    }
                    let here: i64 = report
                        .on_hand
                        .iter()
                        .filter(|l| m.lots.contains(&l.lot))
                        .map(|l| l.quantity)
                        .sum();
                    let recorded = if m.lots.len() == 1 && m.lots[0] == m.asked {
                        String::new()
                    } else {
                        format!("recorded as {}; ", m.lots.join(", "))
                    };
                    Asked {
                        asked: m.asked.clone(),
                        found: format!(
                            "{recorded}{} in stock",
                            words::quantity(here, &item.unit)
                        ),
                        missing: false,
                    }
                })
                .collect();
            Ok::<_, StockError>(Found {
                item: item.name,
                unit: item.unit,
                asked,
                to_quarantine: report
                    .on_hand
                    .iter()
                    .map(|l| l.quantity - l.quarantined)
                    .sum(),
                quarantined: report.on_hand.iter().map(|l| l.quarantined).sum(),
                here: report
                    .on_hand
                    .into_iter()
                    .map(|l| Here {
                        location: path(l.location_id),
                        lot: l.lot,
                        expiry: l.expiry,
                        quantity: l.quantity,
                        quarantined: l.quarantined,
                    })
                    .collect(),
                went: report
                    .used
                    .into_iter()
                    .map(|u| Went {
                        at: u.at.get(..16).unwrap_or(&u.at).replace('T', " "),
                        kind: u.kind.replace('_', " "),
                        location: path(u.location_id),
                        lot: u.lot,
                        quantity: u.quantity,
                        who: match (u.display_name, u.username) {
                            (Some(name), Some(user)) if name != user => format!("{name} ({user})"),
                            (_, Some(user)) => user,
                            _ => "system".into(),
                        },
                    })
                    .collect(),
            })
        })
        .await;
    match outcome {
        Ok(found) => page(
            &req,
            StatusCode::OK,
            form,
            Some(found),
            FieldErrors::default(),
        ),
        Err(StockError::Invalid(e)) => page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, None, e),
        Err(StockError::Refused(r)) if r.field.is_some() => {
            let errors = FieldErrors::from_refusal(r);
            page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, None, errors)
        }
        Err(e) => Err(e.into()),
    }
}

fn page(
    req: &HttpRequest,
    status: StatusCode,
    form: RecallForm,
    found: Option<Found>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render_status(
        status,
        &RecallPage {
            layout: Layout::for_request(req, "Recall"),
            form,
            found,
            errors,
        },
    )
}

fn back(f: &RecallForm) -> String {
    format!(
        "/recall?{}",
        serde_urlencoded::to_string([("gtin", f.gtin.as_str()), ("lots", f.lots.as_str())])
            .unwrap_or_default()
    )
}

pub async fn quarantine(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<RecallForm>,
) -> Result<HttpResponse, AppError> {
    act(req, ctx, f.into_inner(), true).await
}

pub async fn dispose(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<RecallForm>,
) -> Result<HttpResponse, AppError> {
    act(req, ctx, f.into_inner(), false).await
}

async fn act(
    req: HttpRequest,
    ctx: Ctx,
    form: RecallForm,
    quarantine: bool,
) -> Result<HttpResponse, AppError> {
    let (g, lots, a) = (form.gtin.clone(), split_lots(&form.lots), ctx.audit());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let n = if quarantine {
                recall::quarantine(tx, &a, &g, &lots)?
            } else {
                recall::Quarantined {
                    units: recall::dispose(tx, &a, &g, &lots)?,
                    elsewhere: 0,
                }
            };
            // Counted in the item's stocking unit ("ampoule").
            let unit = match barcode::Gtin::parse(&g) {
                Ok(gtin) => match items::find_by_gtin(tx, &gtin)? {
                    Some(pack) => items::get(tx, pack.item_id)?.map(|i| i.unit),
                    None => None,
                },
                Err(_) => None,
            };
            Ok::<_, StockError>((n, unit.unwrap_or_else(|| "unit".into())))
        })
        .await;
    match outcome {
        Ok((n, unit)) => {
            let message = if quarantine && n.elsewhere > 0 {
                format!(
                    "Quarantined {}: they can no longer be used. {} more are at places you may not use: ask someone who may use them, or an administrator, to quarantine them.",
                    words::quantity(n.units, &unit),
                    words::quantity(n.elsewhere, &unit)
                )
            } else if quarantine {
                format!(
                    "Quarantined {}: they can no longer be used.",
                    words::quantity(n.units, &unit)
                )
            } else {
                format!(
                    "Disposed of {} as recalled.",
                    words::quantity(n.units, &unit)
                )
            };
            // Stock of a recalled lot left usable is not a success.
            let kind = if n.elsewhere > 0 { "error" } else { "success" };
            Ok(redirect_with_flash(&back(&form), kind, &message))
        }
        Err(StockError::Invalid(e)) => page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, None, e),
        Err(StockError::Refused(r)) if r.field.is_some() => {
            let errors = FieldErrors::from_refusal(r);
            page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, None, errors)
        }
        Err(e) => Err(e.into()),
    }
}
