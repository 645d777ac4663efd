//! The webhook channel: the order is `POST`ed as JSON to the supplier's
//! HTTPS endpoint. The body is signed so the supplier can tell it came from
//! this practice and was not replayed:
//!
//! ```text
//! Stockroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//! Stockroom-Delivery: <id, the same on every retry of one send>
//! Stockroom-Event: order | order.cancelled | test
//! ```
//!
//! A receiver recomputes the HMAC over the timestamp and the raw body,
//! compares in constant time, refuses a timestamp older than a few minutes
//! and a delivery id it has seen ([`verify`] is the reference). A 2xx answer
//! means delivered; 4xx means the supplier refused it (permanent), except
//! 408 and 429; 5xx, timeouts and refused connections are retried.
//! Redirects are not followed.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Adapter, BoxFuture, Outgoing, Purpose};
use crate::domain::money::format_minor;
use crate::jobs::worker::JobError;
use crate::outbound::Failure;
use crate::validation::FieldErrors;

pub const SIGNATURE_HEADER: &str = "Stockroom-Signature";
pub const DELIVERY_HEADER: &str = "Stockroom-Delivery";
pub const EVENT_HEADER: &str = "Stockroom-Event";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookChannelSettings)]
pub struct Settings {
    /// The supplier's endpoint: `https://…` (plain `http://` only to this machine).
    pub url: String,
    /// The shared signing secret, 32 to 256 characters. Never shown again
    /// once saved; left blank in a change, the stored one is kept.
    #[serde(default)]
    pub secret: String,
}

impl Settings {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        match reqwest::Url::parse(self.url.trim()) {
            Ok(url) => {
                let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
                let loopback = host == "localhost"
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback());
                let ok = match url.scheme() {
                    "https" => url.host().is_some(),
                    "http" => loopback,
                    _ => false,
                };
                if !ok {
                    errors.add(
                        "url",
                        "must be an https:// address (plain http:// only to this machine)",
                    );
                } else if !url.username().is_empty() || url.password().is_some() {
                    errors.add("url", "must not carry a user name or password");
                }
            }
            Err(_) => errors.add(
                "url",
                "must be an https:// address such as https://orders.supplier.example/stockroom",
            ),
        }
        let n = self.secret.chars().count();
        if !(32..=256).contains(&n) {
            errors.add(
                "secret",
                format!("must be 32 to 256 characters (shared with the supplier), got {n}"),
            );
        }
        errors.into_result()
    }

    pub fn redacted(&self) -> Settings {
        Settings {
            url: self.url.clone(),
            secret: String::new(),
        }
    }
}

/// The signature header's value for `body` sent at `t` (unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header as a receiver should: the HMAC matches and
/// the timestamp is within `tolerance` seconds of `now`. (Refusing a
/// delivery id seen before is the receiver's part.)
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), &'static str> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err("malformed signature header");
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1)
        .map_err(|_| "signature does not match")?;
    if (now - t).abs() > tolerance {
        return Err("timestamp too old or in the future");
    }
    Ok(())
}

/// The JSON body for `out`.
pub fn body(out: &Outgoing) -> Value {
    let event = match out.purpose {
        Purpose::Order => "order",
        Purpose::Cancel { .. } => "order.cancelled",
        Purpose::Test => "test",
    };
    let order = out.detail.as_ref().map(|d| {
        json!({
            "number": d.order.number,
            "currency": d.order.currency,
            "total": format_minor(d.order.total_minor),
            "expected_on": (!d.order.expected_on.is_empty()).then_some(&d.order.expected_on),
            "note": d.order.note,
            "account_number": out.supplier.account_number,
            "lines": d.lines.iter().enumerate().map(|(i, l)| json!({
                "line": i + 1,
                "supplier_code": l.supplier_code,
                "item_code": l.item_code,
                "description": l.item_name,
                "packs": l.packs,
                "pack_size": l.pack_size,
                "quantity": l.quantity,
                "unit": l.unit,
                "pack_price": format_minor(l.unit_price_minor),
                "line_total": format_minor(l.line_total_minor),
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "event": event,
        "delivery_id": out.delivery_id,
        "sent_at": out.at.timestamp().to_string(),
        "practice": {
            "name": out.practice.name,
            "address": out.practice.address,
            "phone": out.practice.phone,
            "email": out.practice.email,
        },
        "order": order,
        "reason": match &out.purpose { Purpose::Cancel { reason } => Some(reason), _ => None },
        "confirm_url": out.confirm_link,
    })
}

/// The webhook adapter for one supplier.
pub struct Webhook {
    pub http: crate::outbound::Client,
    pub settings: Settings,
}

impl Adapter for Webhook {
    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<String, JobError>> {
        Box::pin(async move {
            self.settings.validate().map_err(|e| {
                JobError::Permanent(format!("the supplier's webhook settings are wrong: {e}"))
            })?;
            let body = serde_json::to_vec(&body(out)).expect("JSON");
            let t = out.at.timestamp().as_second();
            let event = match out.purpose {
                Purpose::Order => "order",
                Purpose::Cancel { .. } => "order.cancelled",
                Purpose::Test => "test",
            };
            let url = reqwest::Url::parse(self.settings.url.trim()).map_err(|_| {
                JobError::Permanent("the supplier's webhook address does not read".into())
            })?;
            let refused = |m: String| {
                JobError::Permanent(format!("the supplier's endpoint was not called: {m}"))
            };
            let request = self
                .http
                .post(&url)
                .map_err(|e| match e {
                    Failure::Refused(m) | Failure::NoAnswer(m) => refused(m),
                })?
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, sign(&self.settings.secret, t, &body))
                .header(DELIVERY_HEADER, &out.delivery_id)
                .header(EVENT_HEADER, event)
                .body(body);
            let response = self.http.send(request).await.map_err(|e| match e {
                Failure::Refused(m) => refused(m),
                Failure::NoAnswer(m) => {
                    JobError::Unreachable(format!("the supplier's endpoint did not answer: {m}"))
                }
            })?;
            // Only the status is reported: what the other side wrote is
            // never shown (a page that shows it would read any address).
            let status = response.status();
            if status.is_success() {
                return Ok(format!("posted to the supplier's endpoint: {status}"));
            }
            let what = format!("the supplier's endpoint answered {status}");
            if status.is_client_error() && !matches!(status.as_u16(), 408 | 429)
                || status.is_redirection()
            {
                Err(JobError::Permanent(what))
            } else {
                Err(JobError::Retry(what))
            }
        })
    }
}
