//! How orders reach a supplier, on the supplier page: the sending-channel
//! form (by hand, CSV into a folder, email, webhook, EDI) and "send test".
//! The routes stay under `/suppliers/{id}/dispatch`; a refused form
//! re-renders the supplier page with its errors, so the page builder is
//! borrowed from the suppliers area.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::catalog::CatalogError;
use crate::catalog::suppliers::{self};
use crate::dispatch::{self, Channel, csv_folder, email, webhook, x12};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::redirect_with_flash;
use crate::web::suppliers::show::{LineForm, supplier_page};

/// The "how orders are sent" form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchForm {
    #[serde(default)]
    pub(crate) channel: String,
    #[serde(default)]
    pub(crate) folder: String,
    /// Comma-separated column names; empty for the default layout.
    #[serde(default)]
    pub(crate) columns: String,
    /// Email: the order desk's addresses, and copies.
    #[serde(default)]
    pub(crate) email_to: String,
    #[serde(default)]
    pub(crate) email_cc: String,
    /// Webhook: the endpoint and the signing secret (blank keeps the stored one).
    #[serde(default)]
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) secret: String,
    /// EDI (X12): the two parties' ids, the outbox (`folder`), the inbox, test mode.
    #[serde(default)]
    pub(crate) sender_qualifier: String,
    #[serde(default)]
    pub(crate) sender_id: String,
    #[serde(default)]
    pub(crate) receiver_qualifier: String,
    #[serde(default)]
    pub(crate) receiver_id: String,
    #[serde(default)]
    pub(crate) inbox: String,
    #[serde(default)]
    pub(crate) test: Option<String>,
    /// EDI by email instead of a folder: the supplier's EDI mailbox(es).
    #[serde(default)]
    pub(crate) edi_email_to: String,
}

impl DispatchForm {
    pub(crate) fn from_channel(channel: &Channel) -> Self {
        match channel {
            Channel::Manual => DispatchForm {
                channel: "manual".into(),
                ..DispatchForm::default()
            },
            Channel::CsvFolder(s) => DispatchForm {
                channel: "csv_folder".into(),
                folder: s.folder.clone(),
                columns: s.columns.join(", "),
                ..DispatchForm::default()
            },
            Channel::Email(s) => DispatchForm {
                channel: "email".into(),
                email_to: s.to.join(", "),
                email_cc: s.cc.join(", "),
                ..DispatchForm::default()
            },
            Channel::Webhook(s) => DispatchForm {
                channel: "webhook".into(),
                url: s.url.clone(),
                // Never shown again once saved.
                secret: String::new(),
                ..DispatchForm::default()
            },
            Channel::EdiX12(s) => DispatchForm {
                channel: "edi_x12".into(),
                folder: s.folder.clone(),
                sender_qualifier: s.sender_qualifier.clone(),
                sender_id: s.sender_id.clone(),
                receiver_qualifier: s.receiver_qualifier.clone(),
                receiver_id: s.receiver_id.clone(),
                inbox: s.inbox.clone(),
                test: s.test.then(|| "on".to_string()),
                edi_email_to: s.email_to.join(", "),
                ..DispatchForm::default()
            },
        }
    }

    fn channel(&self) -> Result<Channel, FieldErrors> {
        match self.channel.trim() {
            "manual" => Ok(Channel::Manual),
            "csv_folder" => Ok(Channel::CsvFolder(csv_folder::Settings {
                folder: self.folder.trim().to_string(),
                columns: self
                    .columns
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
            })),
            "email" => Ok(Channel::Email(email::Settings {
                to: email::Settings::split(&self.email_to),
                cc: email::Settings::split(&self.email_cc),
            })),
            "webhook" => Ok(Channel::Webhook(webhook::Settings {
                url: self.url.trim().to_string(),
                secret: self.secret.trim().to_string(),
            })),
            "edi_x12" => {
                let qualifier = |q: &str| match q.trim() {
                    "" => "ZZ".to_string(),
                    q => q.to_ascii_uppercase(),
                };
                Ok(Channel::EdiX12(x12::Settings {
                    sender_qualifier: qualifier(&self.sender_qualifier),
                    sender_id: self.sender_id.trim().to_string(),
                    receiver_qualifier: qualifier(&self.receiver_qualifier),
                    receiver_id: self.receiver_id.trim().to_string(),
                    folder: self.folder.trim().to_string(),
                    inbox: self.inbox.trim().to_string(),
                    test: self.test.is_some(),
                    email_to: email::Settings::split(&self.edi_email_to),
                }))
            }
            _ => Err(FieldErrors::single(
                "channel",
                "must be one of: by hand, CSV file into a folder, email, webhook, EDI (X12)",
            )),
        }
    }
}

/// How orders reach a supplier, as the supplier page says it.
pub(crate) fn channel_text(channel: &Channel) -> String {
    match channel {
        Channel::Manual => "Placed by phone or portal, marked as sent by hand".to_string(),
        Channel::CsvFolder(s) => {
            let columns = if s.columns.is_empty() {
                format!(
                    "the default layout: {}",
                    csv_folder::DEFAULT_COLUMNS.join(", ")
                )
            } else {
                s.columns.join(", ")
            };
            format!("CSV file into folder {} (columns {columns})", s.folder)
        }
        Channel::Email(s) => {
            let cc = if s.cc.is_empty() {
                String::new()
            } else {
                format!(", copy to {}", s.cc.join(", "))
            };
            format!(
                "Email to {}{cc}, with the order as PDF and CSV",
                s.to.join(", ")
            )
        }
        Channel::Webhook(s) => format!("Signed JSON posted to {}", s.url),
        Channel::EdiX12(s) => format!(
            "X12 850 purchase orders{} from {}:{} to {}:{} {}{}",
            if s.test { " (marked as test data)" } else { "" },
            s.sender_qualifier,
            s.sender_id,
            s.receiver_qualifier,
            s.receiver_id,
            if s.email_to.is_empty() {
                format!("into folder {}", s.folder)
            } else {
                format!("by email to {}", s.email_to.join(", "))
            },
            if s.inbox.is_empty() {
                String::new()
            } else {
                format!(
                    "; acknowledgments and ship notices read from folder {}",
                    s.inbox
                )
            }
        ),
    }
}

/// "Send test": queues a test message through the supplier's channel.
pub async fn send_test(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, a) = (id.into_inner(), ctx.audit());
    let outcome = ctx
        .state
        .db
        .write(move |tx| dispatch::enqueue_test(tx, &a, id))
        .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "success",
            "Test queued: it goes out through the channel in a moment; its result shows below the settings.",
        )),
        Err(CatalogError::Invalid(e)) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "error",
            &e.to_string(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Sets how orders reach the supplier.
pub async fn set_dispatch(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<DispatchForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let outcome = match form.channel() {
        Ok(channel) => {
            ctx.state
                .db
                .write(move |tx| {
                    let name = suppliers::get(tx, id)?
                        .ok_or(CatalogError::NoSuchSupplier)?
                        .name;
                    dispatch::set_channel(tx, &a, id, &channel).map(|c| (name, c))
                })
                .await
        }
        Err(e) => Err(CatalogError::Invalid(e)),
    };
    match outcome {
        Ok((name, channel)) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "success",
            &format!("Orders to {name}: {}.", channel_text(&channel)),
        )),
        Err(CatalogError::Invalid(e)) => {
            // The email fields' inputs are named for the form.
            let e = if form.channel.trim() == "edi_x12" {
                e.renamed("email_to", "edi_email_to")
            } else {
                e.renamed("to", "email_to").renamed("cc", "email_cc")
            };
            supplier_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                LineForm::default(),
                FieldErrors::default(),
                Some((form, e)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
