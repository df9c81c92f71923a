//! Outgoing e-mail: a message with a text and an HTML body, sent over SMTP (lettre) to the server
//! of `STOCK_SMTP_URL`. With no server configured (development), every message goes to the log
//! (recipient, subject and text body with its links) and to an `.eml` file under `mail_dir`, so
//! mail never silently disappears.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpTls};

/// How long a mail server may take to answer any step.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One message, bodies already rendered in the recipient's language.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(String),
}

/// Where a message went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    Smtp,
    /// No SMTP server configured: logged, and written to this file when the directory was writable.
    DevSink(Option<std::path::PathBuf>),
}

/// Sends `mail`, or hands it to the development sink when no SMTP server is configured.
pub async fn send(config: &Config, mail: &Mail) -> Result<Delivered, MailError> {
    let message = build(config, mail)?;
    let Some(smtp) = &config.smtp else {
        return Ok(Delivered::DevSink(dev_sink(config, mail, &message).await));
    };
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str()),
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| MailError::Smtp(e.to_string()))?,
        SmtpTls::Wrapper => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| MailError::Smtp(e.to_string()))?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
    }
    builder.build().send(message).await.map_err(|e| MailError::Smtp(e.to_string()))?;
    tracing::info!(to = %mail.to, subject = %mail.subject, "mail sent");
    Ok(Delivered::Smtp)
}

fn build(config: &Config, mail: &Mail) -> Result<Message, MailError> {
    let from: Mailbox = config.mail_from.parse().map_err(|e| MailError::Build(format!("from: {e}")))?;
    let to: Mailbox = mail.to.parse().map_err(|e| MailError::Build(format!("to: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Build(e.to_string()))
}

/// Development delivery: the log always, and an `.eml` file when the directory can be written.
async fn dev_sink(config: &Config, mail: &Mail, message: &Message) -> Option<std::path::PathBuf> {
    let name = format!("{}-{}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"), uuid::Uuid::new_v4());
    let path = config.mail_dir.join(name);
    let written = async {
        tokio::fs::create_dir_all(&config.mail_dir).await?;
        tokio::fs::write(&path, message.formatted()).await
    }
    .await;
    let file = match written {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!(dir = %config.mail_dir.display(), error = %e, "could not write the mail file");
            None
        }
    };
    tracing::info!(
        to = %mail.to,
        subject = %mail.subject,
        file = file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        body = %mail.text,
        "mail not sent (no STOCK_SMTP_URL): logged and written to the mail directory"
    );
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            to: "ana@example.com".into(),
            subject: "Invitación".into(),
            text: "Hola: https://x.test/invite/accept?token=abc".into(),
            html: "<p>Hola</p>".into(),
        }
    }

    #[tokio::test]
    async fn without_a_server_mail_lands_in_the_directory() {
        let dir = std::env::temp_dir().join(format!("stock-mail-{}", uuid::Uuid::new_v4()));
        let config = Config { mail_dir: dir.clone(), ..Config::default() };
        let Delivered::DevSink(Some(file)) = send(&config, &mail()).await.expect("dev sink") else {
            panic!("expected a file");
        };
        let eml = std::fs::read_to_string(&file).expect("eml");
        assert!(eml.contains("To: ana@example.com"), "{eml}");
        assert!(eml.contains("multipart/alternative"), "{eml}");
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[tokio::test]
    async fn a_bad_recipient_is_a_build_error() {
        let m = Mail { to: "not an address".into(), ..mail() };
        assert!(matches!(send(&Config::default(), &m).await, Err(MailError::Build(_))));
    }
}
