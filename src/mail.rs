//! The practice's outgoing mail server: one pooled SMTP connection (lettre
//! on rustls) that supplier orders (`dispatch`) and the daily digest
//! (`notify`) both send through. It knows how to hand a message over and
//! how long to wait, not what the message says.

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpConfig, SmtpSecurity};
use crate::jobs::worker::JobError;

/// Why a message did not reach the mail server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Refused for now (a 4xx reply about this message): may pass on a
    /// later try.
    #[error("{0}")]
    Temporary(String),
    /// The server did not answer (refused or dropped the connection, timed
    /// out, said 421 "closing"): may pass once it is back.
    #[error("{0}")]
    Unreachable(String),
    /// A 5xx answer: the same message will be refused again.
    #[error("{0}")]
    Permanent(String),
}

impl From<MailError> for JobError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Temporary(m) => JobError::Retry(m),
            MailError::Unreachable(m) => JobError::Unreachable(m),
            MailError::Permanent(m) => JobError::Permanent(m),
        }
    }
}

/// The pooled connection to the practice's mail server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    /// Bound on handing over one message. lettre's own timeout covers only
    /// connecting (asynchronously, reads wait forever), so a server that
    /// stalls mid-conversation is cut off here.
    timeout: std::time::Duration,
}

impl Mailer {
    /// The practice's mail server, when `smtp.*` is configured. Fails when
    /// its settings cannot be used (an unreadable CA file).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Arc<Mailer>>> {
        Ok(match &config.smtp {
            Some(smtp) => Some(Arc::new(Mailer::new(smtp)?)),
            None => None,
        })
    }

    pub fn new(config: &SmtpConfig) -> anyhow::Result<Mailer> {
        let mut tls = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("smtp.ca_file: cannot read {}: {e}", path.display())
            })?;
            tls = tls.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "smtp.ca_file: {} is not a PEM certificate: {e}",
                    path.display()
                )
            })?);
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(8));
        builder = match config.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls.build_rustls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls.build_rustls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some(password) = &config.password {
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: config.from.clone(),
            timeout: config.timeout,
        })
    }

    /// Whether the mail server answers: connect (with TLS and login as
    /// configured), greet and NOOP, nothing sent. For probing a server
    /// that jobs wait on.
    pub async fn reachable(&self) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the mail server did not answer NOOP".into()),
            Ok(Err(e)) => Err(format!("the mail server cannot be reached: {e}")),
            Err(_) => Err(format!(
                "the mail server did not answer within {} s",
                self.timeout.as_secs()
            )),
        }
    }

    /// Hands one message to the mail server. A 5xx reply is permanent;
    /// everything else (4xx, refused, timed out, dropped) may pass.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        let sent = tokio::time::timeout(self.timeout, self.transport.send(message)).await;
        let Ok(sent) = sent else {
            return Err(MailError::Unreachable(format!(
                "the mail server did not take the message: no answer within {} s (timed out)",
                self.timeout.as_secs()
            )));
        };
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(format!(
                "the mail server refused the message: {e}"
            ))),
            // A reply about this message (other than 421, "service not
            // available, closing").
            Err(e) if e.is_transient() && e.status().is_none_or(|c| c.to_string() != "421") => Err(
                MailError::Temporary(format!("the mail server did not take the message: {e}")),
            ),
            Err(e) => Err(MailError::Unreachable(format!(
                "the mail server did not take the message: {e}"
            ))),
        }
    }
}

/// The practice's mail server as a job target: jobs waiting to retry on it
/// go at once when one gets through (see `jobs::reached`).
pub fn target(host: &str, port: u16) -> String {
    format!("smtp:{host}:{port}")
}
