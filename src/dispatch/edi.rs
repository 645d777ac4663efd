//! The EDI channel: the order as an ANSI X12 850 written into the
//! supplier's outbox folder (a share its EDI translator or VAN client
//! picks up), atomically like the CSV channel. Each delivery — one send
//! job, the same across its retries — takes the next control number once
//! and keeps it, with the time it was written, in `edi_interchanges`: a
//! retry writes the very same file, and no number is ever used twice. A
//! cancellation is an 850 with purpose `01` under a new number.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Transaction, params};

use super::csv_folder::{folder, write_atomic};
use super::{Adapter, BoxFuture, Outgoing, Purpose, x12};
use crate::db::{Cached, Db, DbError};
use crate::jobs::worker::JobError;

pub struct Edi {
    pub root: PathBuf,
    pub settings: x12::Settings,
    pub db: Db,
    /// For suppliers who take their EDI by email (`email_to`).
    pub mailer: Option<std::sync::Arc<super::email::Mailer>>,
}

impl Edi {
    fn mailer(&self) -> Result<std::sync::Arc<super::email::Mailer>, JobError> {
        self.mailer.clone().ok_or_else(|| {
            JobError::Retry(
                "email is not set up: the administrator sets smtp.host and smtp.from in the configuration".into(),
            )
        })
    }
}

/// The control number and local time of a delivery: taken on its first
/// attempt, read back on every later one.
pub(crate) fn interchange_for(
    tx: &Transaction,
    delivery_id: &str,
    order_id: Option<i64>,
    supplier_id: i64,
    local_time: &str,
    file_stem: &str,
    now: &str,
) -> rusqlite::Result<(u32, String, String)> {
    if let Some(found) = tx
        .row_cached(
            "SELECT control_number, local_time, file_name FROM edi_interchanges WHERE delivery_id = ?1",
            [delivery_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
    {
        return Ok(found);
    }
    let n: u32 = tx.row_cached(
        "INSERT INTO number_sequences (kind, year, last) VALUES ('X12', 0, 1)
         ON CONFLICT (kind, year) DO UPDATE SET last = last % 999999999 + 1 RETURNING last",
        [],
        |r| r.get(0),
    )?;
    let file_name = format!("{file_stem}-{n:09}.x12");
    tx.exec_cached(
        "INSERT INTO edi_interchanges (delivery_id, order_id, supplier_id, transaction_set,
            control_number, local_time, file_name, created_at)
         VALUES (?1, ?2, ?3, '850', ?4, ?5, ?6, ?7)",
        params![
            delivery_id,
            order_id,
            supplier_id,
            n,
            local_time,
            file_name,
            now
        ],
    )?;
    Ok((n, local_time.to_string(), file_name))
}

impl Adapter for Edi {
    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<String, JobError>> {
        Box::pin(async move {
            self.settings.validate().map_err(|e| {
                JobError::Permanent(format!("the supplier's EDI settings are wrong: {e}"))
            })?;
            let (root, settings) = (self.root.clone(), self.settings.clone());
            let by_email = !settings.email_to.is_empty();
            if by_email && out.detail.is_none() {
                // A test by email: a test message to the EDI mailbox.
                let email = super::email::Email {
                    mailer: self.mailer()?,
                    settings: super::email::Settings {
                        to: settings.email_to.clone(),
                        cc: Vec::new(),
                    },
                };
                return email.deliver(out).await;
            }
            let Some(detail) = out.detail.clone() else {
                // A test proves the outbox is there and writable, and leaves nothing.
                return crate::db::run_blocking(move || {
                    let dir = folder(&root, &settings.folder)?;
                    let path = write_atomic(&dir, ".stockroom-test", b"test")?;
                    dir.remove(".stockroom-test").map_err(|e| {
                        JobError::Retry(format!("cannot remove {}: {e}", path.display()))
                    })?;
                    Ok(format!("{} is writable", dir.path().display()))
                })
                .await;
            };
            let cancel = matches!(out.purpose, Purpose::Cancel { .. });
            let (delivery, order_id, supplier_id) =
                (out.delivery_id.clone(), detail.order.id, out.supplier.id);
            let local = out.at.datetime().strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let stem = format!(
                "{}{}",
                detail.order.number,
                if cancel { "-cancel" } else { "" }
            );
            let now = out.at.timestamp().to_string();
            let (n, local, file_name) = self
                .db
                .write(move |tx| {
                    interchange_for(
                        tx,
                        &delivery,
                        Some(order_id),
                        supplier_id,
                        &local,
                        &stem,
                        &now,
                    )
                    .map_err(DbError::from)
                })
                .await
                .map_err(|e| JobError::Retry(format!("cannot take a control number: {e}")))?;
            let at: jiff::civil::DateTime = local
                .parse()
                .map_err(|e| JobError::Permanent(format!("stored time {local:?}: {e}")))?;
            let controls = x12::Controls {
                interchange: n,
                group: n,
                transaction: n,
            };
            let write = if cancel {
                x12::cancellation_850
            } else {
                x12::purchase_order_850
            };
            let text = write(
                &settings,
                controls,
                at,
                &out.practice,
                &out.supplier,
                &detail,
            );
            if by_email {
                let mailer = self.mailer()?;
                let message = super::email::compose_edi(
                    &mailer.from,
                    &settings.email_to,
                    out,
                    &file_name,
                    &text,
                )?;
                mailer.send(message).await?;
                return Ok(format!(
                    "X12 850 (control number {n}) emailed to {}",
                    settings.email_to.join(", ")
                ));
            }
            crate::db::run_blocking(move || {
                let dir = folder(&root, &settings.folder)?;
                let path = write_atomic(&dir, &file_name, text.as_bytes())?;
                Ok(format!(
                    "X12 850 (control number {n}) written to {}",
                    path.display()
                ))
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_keeps_its_control_number_and_each_new_one_takes_the_next() {
        let (_dir, db) = crate::db::testing::migrated_db();
        db.write_blocking(|tx| {
            tx.execute_batch(
                "INSERT INTO suppliers (id, name, created_at, updated_at) VALUES (1, 'S', 'now', 'now')",
            )?;
            let a = interchange_for(tx, "send-1", None, 1, "2026-11-30T10:00:00", "PO-1", "now")?;
            let again = interchange_for(tx, "send-1", None, 1, "2026-11-30T11:11:11", "PO-1", "now")?;
            assert_eq!(a, (1, "2026-11-30T10:00:00".into(), "PO-1-000000001.x12".into()));
            assert_eq!(again, a, "a retry writes the same file");
            let b = interchange_for(tx, "send-2", None, 1, "2026-11-30T12:00:00", "PO-1", "now")?;
            assert_eq!(b.0, 2);
            // After 999 999 999 the numbers start again at 1 (ISA13 has nine digits).
            tx.execute("UPDATE number_sequences SET last = 999999999 WHERE kind = 'X12'", [])?;
            tx.execute("DELETE FROM edi_interchanges WHERE control_number = 1", [])?;
            let c = interchange_for(tx, "send-3", None, 1, "2026-11-30T12:00:00", "PO-2", "now")?;
            assert_eq!(c.0, 1);
            Ok::<_, DbError>(())
        })
        .unwrap();
    }
}
