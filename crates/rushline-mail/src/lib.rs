//! Sending e-mail: the [`Mailer`] port with an SMTP backend ([`SmtpMailer`], lettre over tokio)
//! and a development sink ([`FileMailer`]) that writes each message as an `.eml` file.
//!
//! Callers never send inline from a request: mail goes out from a job, so a slow or unreachable
//! SMTP server delays a message and retries it, but never a response. This crate only delivers;
//! it must not decide what to send or when.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// A plain-text message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The `Message-ID` header, without its angle brackets: the same on every attempt to send
    /// one message, so that a receiver can drop a second copy. A new one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration cannot work (a bad `mail.smtp_url` or `mail.from`).
    #[error("{0}")]
    Config(String),
    /// The message cannot be built, e.g. the recipient is no address.
    #[error("invalid message: {0}")]
    Message(String),
    /// Delivery failed; worth a retry.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

fn mailbox(from: &str) -> Result<Mailbox, MailError> {
    from.parse()
        .map_err(|e| MailError::Config(format!("mail.from {from:?}: {e}")))
}

fn message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| MailError::Message(format!("recipient {:?}: {e}", mail.to)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(mail.message_id.as_ref().map(|id| format!("<{id}>")))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Message(e.to_string()))
}

/// How long one delivery may take, connecting included: a server that accepts and then stalls
/// fails the send (and its job retries) instead of holding the job until its deadline.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Delivers through an SMTP server: `smtp://host:port` in plain text (a local relay),
/// `smtps://host:port` over TLS, `smtp://host:port?tls=required` with STARTTLS; credentials as
/// `smtps://user:password@host`.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Checks the URL and sender; connects only when the first message goes out.
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("mail.smtp_url: {e}")))?
            // Bounds connecting only: a server that accepts and then stalls is bounded by
            // SEND_TIMEOUT around the whole delivery.
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Self {
            transport,
            from: mailbox(from)?,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = message(&self.from, mail)?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(sent) => sent
                .map(drop)
                .map_err(|e| MailError::Delivery(e.to_string())),
            Err(_) => Err(MailError::Delivery(format!(
                "the SMTP server did not finish within {} s",
                SEND_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// The development sink: each message becomes `<dir>/<time-ordered id>.eml`, and its text is
/// logged at info level, so that a sign-up code can be read off the console.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, MailError> {
        Ok(Self {
            dir: dir.into(),
            from: mailbox(from)?,
        })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = message(&self.from, mail)?;
        let path = self.dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
        let written = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            tokio::fs::write(&path, message.formatted()).await
        };
        written
            .await
            .map_err(|e| MailError::Delivery(format!("cannot write {}: {e}", path.display())))?;
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            path = %path.display(),
            text = %mail.text,
            "development mail sink: message written"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome() -> Mail {
        Mail {
            to: "minji@example.com".to_owned(),
            subject: "Your code".to_owned(),
            text: "Your code is 123456.".to_owned(),
            message_id: None,
        }
    }

    #[tokio::test]
    async fn the_file_sink_writes_one_eml_file_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mail_dir = dir.path().join("mail");
        let sink = FileMailer::new(&mail_dir, "rushline <noreply@rushline.localhost>").unwrap();
        sink.send(&welcome()).await.unwrap();
        sink.send(&welcome()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 2);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: minji@example.com"), "{eml}");
        assert!(
            eml.contains("From: rushline <noreply@rushline.localhost>"),
            "{eml}"
        );
        assert!(eml.contains("Subject: Your code"), "{eml}");
        assert!(eml.contains("Your code is 123456."), "{eml}");
    }

    #[tokio::test]
    async fn a_given_message_id_is_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileMailer::new(dir.path(), "a@example.com").unwrap();
        let mail = Mail {
            message_id: Some("42.email@rushline".to_owned()),
            ..welcome()
        };
        sink.send(&mail).await.unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let eml = std::fs::read_to_string(file.path()).unwrap();
        assert!(eml.contains("Message-ID: <42.email@rushline>"), "{eml}");
    }

    #[tokio::test]
    async fn bad_addresses_are_refused_before_sending() {
        assert!(matches!(
            FileMailer::new("/nonexistent", "not an address"),
            Err(MailError::Config(_))
        ));
        assert!(matches!(
            SmtpMailer::new("http://example.com", "a@example.com"),
            Err(MailError::Config(_))
        ));
        let sink = FileMailer::new("/nonexistent", "a@example.com").unwrap();
        let mail = Mail {
            to: "nobody".to_owned(),
            ..welcome()
        };
        assert!(matches!(sink.send(&mail).await, Err(MailError::Message(_))));
    }
}
