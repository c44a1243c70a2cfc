//! SMTP delivery with lettre over rustls (ring), on pooled connections of our own ([`crate::relay`]): UTF-8
//! text and HTML, the subject
//! RFC 2047-encoded, a `Message-ID` made from the outbox row's dedupe key (so a second delivery of the same
//! notification is recognisable as such by the receiving side), `Auto-Submitted: auto-generated`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use popreg_domain::classifiers::Lang;
use popreg_store::{Failure, OutboxMessage};

use crate::capture::{Capture, Caught};
use crate::config::{NotifyConfig, Security};
use crate::templates;
use crate::{NotifyError, SendError};

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies or other automatic answers to it.
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `Content-Language` (RFC 3282): the language the row asked for.
#[derive(Clone, Debug)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let lang = Lang::parse(s).ok_or("unknown language")?;
        Ok(ContentLanguage(lang.as_str()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.into())
    }
}

/// The connection to the relay and what every message shares (sender, feed address).
pub struct Mailer {
    transport: crate::relay::Relay,
    from: Mailbox,
    /// The sender of the portal's e-mails to persons (`notify.portal.from`, else `from`).
    portal_from: Mailbox,
    /// The right-hand side of Message-IDs: the sender's domain.
    domain: String,
    feed: String,
    relay: String,
    timeout: Duration,
    /// The demo's catcher: messages are kept there instead of going to the relay (`capture.rs`).
    capture: Option<Arc<Capture>>,
    /// `notify.smtp.max_per_second` and `burst`: shared by the clones of this mailer (one worker).
    limiter: Arc<crate::sms::RateLimiter>,
    /// `notify.smtp.recipient_max_per_hour`.
    recipient_cap: u32,
    /// `notify.smtp.concurrency`.
    concurrency: usize,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for the configured relay. Nothing is connected yet: a relay that is down makes each send
    /// fail (and the message wait for its retry), not this. Call it inside a Tokio runtime (the connection
    /// pool keeps a task of its own).
    pub fn new(cfg: &NotifyConfig) -> Result<Mailer, NotifyError> {
        let smtp = &cfg.smtp;
        let bad = |what: &str, e: &dyn fmt::Display| {
            NotifyError::Config(format!("notify.smtp.{what}: {e}"))
        };
        let from: Mailbox = smtp.from.parse().map_err(|e| bad("from", &e))?;
        let portal_from: Mailbox = if cfg.portal.from.trim().is_empty() {
            from.clone()
        } else {
            cfg.portal
                .from
                .parse()
                .map_err(|e| NotifyError::Config(format!("notify.portal.from: {e}")))?
        };
        let domain = from.email.domain().to_string();
        let tls = || -> Result<TlsParameters, NotifyError> {
            let mut b = TlsParameters::builder(smtp.host.clone());
            if let Some(path) = &smtp.ca_file {
                let pem = std::fs::read(path).map_err(|e| bad("ca_file", &e))?;
                b = b.add_root_certificate(
                    Certificate::from_pem(&pem).map_err(|e| bad("ca_file", &e))?,
                );
            }
            b.build_rustls().map_err(|e| bad("security", &e))
        };
        let secure = match smtp.security {
            Security::None => crate::relay::Secure::None,
            Security::Starttls => crate::relay::Secure::Starttls(tls()?),
            Security::Tls => crate::relay::Secure::Tls(
                crate::smpp::tls_connector_for("notify.smtp.ca_file", smtp.ca_file.as_deref())?,
                rustls_pki_types::ServerName::try_from(smtp.host.clone())
                    .map_err(|e| bad("host", &e))?,
            ),
        };
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(pass)) => {
                Some(Credentials::new(user.clone(), pass.expose().to_string()))
            }
            (None, None) => None,
            _ => {
                return Err(NotifyError::Config(
                    "notify.smtp.username and notify.smtp.password go together".into(),
                ));
            }
        };
        let hello = ClientId::Domain(if smtp.helo_name.is_empty() {
            domain.clone()
        } else {
            smtp.helo_name.clone()
        });
        // Pooled connections, as many as e-mails may be in flight.
        let transport = crate::relay::Relay::new(crate::relay::RelaySettings {
            host: smtp.host.clone(),
            port: smtp.port(),
            secure,
            hello,
            credentials,
            timeout: smtp.timeout(),
            max_idle: smtp.concurrency.max(1) as usize,
        });
        Ok(Mailer {
            transport,
            from,
            portal_from,
            domain,
            feed: cfg.feed_url(),
            relay: format!("{}:{}", smtp.host, smtp.port()),
            timeout: smtp.timeout(),
            capture: None,
            limiter: Arc::new(crate::sms::RateLimiter::bucket(
                smtp.max_per_second,
                smtp.burst,
            )),
            recipient_cap: smtp.recipient_max_per_hour,
            concurrency: smtp.concurrency.max(1) as usize,
        })
    }

    /// This mailer, keeping every message in `capture` instead of sending it (the demo's catcher).
    pub fn with_capture(mut self, capture: Arc<Capture>) -> Mailer {
        self.relay = "the demo's mail catcher".into();
        self.capture = Some(capture);
        self
    }

    /// Wait for this worker's next e-mail token (`notify.smtp.max_per_second`, `burst`).
    pub async fn pace(&self) {
        self.limiter.wait().await
    }

    /// E-mails to one address in an hour at most (`notify.smtp.recipient_max_per_hour`; 0: no cap).
    pub fn recipient_cap(&self) -> u32 {
        self.recipient_cap
    }

    /// E-mails one worker has in flight at once (`notify.smtp.concurrency`).
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// `host:port` of the relay, for logs.
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// How long one delivery may take at most (each SMTP step has the configured timeout).
    pub fn max_send_time(&self) -> Duration {
        self.timeout * 10
    }

    /// The `Message-ID` of an outbox row: its dedupe key at the sender's domain, so a duplicate delivery
    /// (after a crash between the relay's answer and the record of it) carries the same id.
    pub fn message_id(&self, dedupe_key: &str) -> String {
        message_id_at(dedupe_key, &self.domain)
    }

    /// The e-mail for an outbox row: rendered from its template in its language, with the shipped text
    /// (`version`: `None`) or the text of the row's template version in that language.
    pub fn compose(
        &self,
        msg: &OutboxMessage,
        version: Option<&templates::TemplateText>,
    ) -> Result<Message, SendError> {
        self.compose_text(msg, version).map(|(m, _)| m)
    }

    /// [`Mailer::compose`], and the rendered text. The e-mail is `multipart/alternative`: the text, and
    /// the same text as HTML (`html.rs`).
    fn compose_text(
        &self,
        msg: &OutboxMessage,
        version: Option<&templates::TemplateText>,
    ) -> Result<(Message, templates::Rendered), SendError> {
        let lang = Lang::parse(&msg.lang).unwrap_or(Lang::Hy);
        let to: Mailbox = msg
            .recipient
            .parse()
            .map_err(|e| SendError::message(format!("recipient: {e}")))?;
        let text = templates::render_version(&msg.template, lang, &msg.params, &self.feed, version)
            .map_err(|e| SendError::message(e.to_string()))?;
        let html = crate::html::html_part(&text, lang, &crate::html::portal_links(&msg.params));
        let from = if templates::PORTAL_TEMPLATES.contains(&msg.template.as_str()) {
            self.portal_from.clone()
        } else {
            self.from.clone()
        };
        // The id is at the sender's domain (the portal's for the portal's e-mails).
        let id = message_id_at(&msg.dedupe_key, from.email.domain());
        Message::builder()
            .from(from)
            .to(to)
            .subject(text.subject.clone())
            .message_id(Some(id))
            .header(AutoSubmitted)
            .header(ContentLanguage(lang.as_str()))
            .multipart(MultiPart::alternative_plain_html(text.body.clone(), html))
            .map(|m| (m, text))
            .map_err(|e| SendError::message(e.to_string()))
    }

    /// Deliver one outbox row to the relay, rendered with `version` as for [`Mailer::compose`].
    pub async fn send(
        &self,
        msg: &OutboxMessage,
        version: Option<&templates::TemplateText>,
    ) -> Result<(), SendError> {
        self.send_classified(msg, version).await.map_err(|(e, _)| e)
    }

    /// [`Mailer::send`], and on failure what kind it was: a message that cannot be composed or a relay that
    /// cannot be reached is `Technical`, a 5xx answer `Permanent`, a 4xx answer `Temporary`.
    pub(crate) async fn send_classified(
        &self,
        msg: &OutboxMessage,
        version: Option<&templates::TemplateText>,
    ) -> Result<(), (SendError, Failure)> {
        let (mail, text) = self
            .compose_text(msg, version)
            .map_err(|e| (e, Failure::Technical))?;
        if let Some(capture) = &self.capture {
            capture.push(Caught {
                at: chrono::Utc::now(),
                channel: "email",
                to: msg.recipient.clone(),
                from: mail
                    .headers()
                    .get_raw("From")
                    .unwrap_or_default()
                    .to_string(),
                subject: text.subject,
                body: text.body,
                raw: String::from_utf8_lossy(&mail.formatted()).into_owned(),
            });
            return Ok(());
        }
        self.transport
            .send(mail.envelope(), &mail.formatted())
            .await
    }

    /// Forward a received official mail (G.3.1) as it is stored (`copy`: signed, sealed) to `msg`'s
    /// recipient, with the SRS envelope sender `srs_from` (empty: the null sender).
    pub(crate) async fn send_forward(
        &self,
        msg: &OutboxMessage,
        srs_from: &str,
        copy: &[u8],
    ) -> Result<(), (SendError, Failure)> {
        use lettre::address::{Address, Envelope};
        let technical = |e: String| (SendError::message(e), Failure::Technical);
        let from: Option<Address> = if srs_from.is_empty() {
            None
        } else {
            Some(
                srs_from
                    .parse()
                    .map_err(|e| technical(format!("sender: {e}")))?,
            )
        };
        let to: Address = msg
            .recipient
            .parse()
            .map_err(|e| technical(format!("recipient: {e}")))?;
        let envelope = Envelope::new(from, vec![to]).map_err(|e| technical(e.to_string()))?;
        // lettre ends the data with CRLF "." CRLF itself: without this the copy would gain an empty line.
        let copy = copy.strip_suffix(b"\r\n").unwrap_or(copy);
        if let Some(capture) = &self.capture {
            // The demo's mail catcher keeps the forward as it would have left.
            let raw = String::from_utf8_lossy(copy).into_owned();
            capture.push(Caught {
                at: chrono::Utc::now(),
                channel: "email",
                to: msg.recipient.clone(),
                from: srs_from.to_string(),
                subject: mail_parser::MessageParser::default()
                    .parse(copy)
                    .and_then(|m| m.subject().map(str::to_string))
                    .unwrap_or_default(),
                body: raw.clone(),
                raw,
            });
            return Ok(());
        }
        self.transport.send(&envelope, copy).await
    }
}

/// `<popreg.{dedupe key}@{domain}>`, the key's unusual characters replaced by dots.
fn message_id_at(dedupe_key: &str, domain: &str) -> String {
    let local: String = dedupe_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<popreg.{local}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, SmtpConfig};

    fn cfg(smtp: SmtpConfig) -> NotifyConfig {
        NotifyConfig {
            smtp,
            ..NotifyConfig::default()
        }
    }

    #[tokio::test]
    async fn every_security_mode_builds_and_the_password_stays_hidden() {
        for security in [Security::None, Security::Starttls, Security::Tls] {
            let m = Mailer::new(&cfg(SmtpConfig {
                host: "mail.example.am".into(),
                security,
                username: Some("psr".into()),
                password: Some(Secret::new("hunter2")),
                ..SmtpConfig::default()
            }))
            .unwrap();
            assert!(!format!("{m:?}").contains("hunter2"));
        }
    }

    #[test]
    fn unusable_settings_are_refused_up_front() {
        let bad_from = SmtpConfig {
            from: "not an address".into(),
            ..SmtpConfig::default()
        };
        assert!(matches!(
            Mailer::new(&cfg(bad_from)),
            Err(NotifyError::Config(_))
        ));
        let half = SmtpConfig {
            username: Some("psr".into()),
            ..SmtpConfig::default()
        };
        assert!(matches!(
            Mailer::new(&cfg(half)),
            Err(NotifyError::Config(_))
        ));
        let no_ca = SmtpConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..SmtpConfig::default()
        };
        assert!(matches!(
            Mailer::new(&cfg(no_ca)),
            Err(NotifyError::Config(_))
        ));
    }

    #[tokio::test]
    async fn the_message_id_is_the_dedupe_key_at_the_senders_domain() {
        let m = Mailer::new(&cfg(SmtpConfig {
            from: "Ռեգիստր <noreply@register.example.am>".into(),
            ..SmtpConfig::default()
        }))
        .unwrap();
        assert_eq!(
            m.message_id("reminder:42"),
            "<popreg.reminder.42@register.example.am>"
        );
        assert_eq!(
            m.message_id("a b<c>@d"),
            "<popreg.a.b.c..d@register.example.am>"
        );
    }
}
