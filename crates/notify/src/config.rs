//! The `[notify]` section of the configuration: whether the worker runs, how often, the reminder deadline,
//! and the SMTP relay it delivers through.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `[notify]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Run the outbox worker in `popreg serve`. Off by default: messages wait in the outbox (nothing is
    /// lost) until a server with a relay configured delivers them.
    pub enabled: bool,
    /// Seconds between two passes over the outbox.
    pub poll_seconds: u64,
    /// Days after a rejection without an accepted correction before the reminder is sent (A1.54); 0 sends
    /// no reminders.
    pub reminder_after_days: u32,
    /// Milliseconds between two passes of the webhook worker (A1.52), which runs in `popreg serve` whether
    /// or not `enabled` is set (a body that registered a webhook expects it); 0 does not run it.
    pub webhook_poll_ms: u64,
    /// `[notify.webhooks]`: where webhooks may go (the SSRF guard, [`popreg_store::WebhookGuard`]): public
    /// `https://` servers only, unless `allow_http` and the `allow` list say otherwise.
    pub webhooks: popreg_store::WebhookPolicy,
    /// The register's public address, e.g. `https://register.example.am`; the e-mails point to the
    /// rejection feed under it. Empty: the e-mails name the path `/api/v1/rejections` alone.
    pub public_url: String,
    pub smtp: SmtpConfig,
    /// `[notify.sms]`: the SMS channel (G.7).
    pub sms: SmsConfig,
    /// The e-Citizen portal's messages to persons: verification of forwarding addresses (G.5, G.7) and
    /// notifications forwarded from the inbox (G.3.3).
    pub portal: PortalConfig,
    /// `[notify.inbound]`: the SMTP server of the official mail domain (G.3.1).
    pub inbound: InboundConfig,
}

/// `[notify.inbound]`: the register's own SMTP server for `<PSN>@domain` (G.3.1), with forwarding to the
/// persons' verified addresses (SRS envelope, ARC set, DKIM signature).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboundConfig {
    /// Run the server in `popreg serve` (`popreg demo` runs it on a free local port).
    pub enabled: bool,
    /// `host:port` to listen on (port 0: any free port).
    pub listen: String,
    /// The official mail domain: recipients are `<PSN>@domain`.
    pub domain: String,
    /// The name in the greeting and EHLO answer; empty: `domain`.
    pub hostname: String,
    /// The largest message accepted, in bytes (advertised as `SIZE`; larger ones get 552).
    pub max_message_bytes: usize,
    /// Recipients per message at most (more get 452).
    pub max_recipients: usize,
    /// Connections served at once at most (more get 421 and are closed).
    pub max_connections: usize,
    /// Seconds the server waits for each command line.
    pub command_timeout_seconds: u64,
    /// Seconds the whole DATA phase (the message) may take.
    pub data_timeout_seconds: u64,
    /// PEM certificate chain and key for STARTTLS; without them STARTTLS is not offered.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Refuse `MAIL FROM` before STARTTLS (530).
    pub require_tls: bool,
    /// The secret of the SRS hashes of forwarded mail's envelope sender. Never logged. Without it (or
    /// without a DKIM key) nothing is forwarded; messages are still stored.
    pub srs_secret: Option<Secret>,
    /// A PEM private key (RSA, PKCS#1 or PKCS#8; or Ed25519, PKCS#8) that signs forwards (DKIM, ARC);
    /// `popreg dkim-key` writes one and prints the DNS record.
    pub dkim_key: Option<PathBuf>,
    /// The DKIM selector: the key is published at `<selector>._domainkey.<domain>`.
    pub dkim_selector: String,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            enabled: false,
            listen: "0.0.0.0:25".into(),
            domain: "e-citizen.am".into(),
            hostname: String::new(),
            max_message_bytes: 25 << 20,
            max_recipients: 50,
            max_connections: 200,
            command_timeout_seconds: 300,
            data_timeout_seconds: 600,
            tls_cert: None,
            tls_key: None,
            require_tls: false,
            srs_secret: None,
            dkim_key: None,
            dkim_selector: "popreg".into(),
        }
    }
}

impl InboundConfig {
    /// The greeting name.
    pub fn hostname(&self) -> &str {
        if self.hostname.trim().is_empty() {
            &self.domain
        } else {
            &self.hostname
        }
    }
}

/// `[notify.portal]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// The portal's public address, e.g. `https://e-citizen.am`: verification links are
    /// `<url>/my/forwarding/verify?token=…`, forwarded notifications link `<url>/my/inbox/{id}`. Empty:
    /// `notify.public_url`.
    pub url: String,
    /// The sender of the portal's e-mails, e.g. `E-Citizen <noreply@e-citizen.am>`; empty: `notify.smtp.from`.
    pub from: String,
    /// Hours an e-mail verification link works.
    pub verification_hours: u32,
    /// Minutes an SMS verification code works.
    pub sms_code_minutes: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            url: String::new(),
            from: String::new(),
            verification_hours: 24,
            sms_code_minutes: 30,
        }
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            enabled: false,
            poll_seconds: 10,
            reminder_after_days: 5,
            webhook_poll_ms: 1000,
            webhooks: popreg_store::WebhookPolicy::default(),
            public_url: String::new(),
            smtp: SmtpConfig::default(),
            sms: SmsConfig::default(),
            portal: PortalConfig::default(),
            inbound: InboundConfig::default(),
        }
    }
}

impl NotifyConfig {
    pub fn every(&self) -> Duration {
        Duration::from_secs(self.poll_seconds.max(1))
    }

    /// The reminder deadline, `None` when reminders are off.
    pub fn reminder_after(&self) -> Option<chrono::Duration> {
        (self.reminder_after_days > 0)
            .then(|| chrono::Duration::days(self.reminder_after_days.into()))
    }

    /// What the store needs to write verification messages and forwards: the portal's address and how long
    /// links and codes work.
    pub fn contact_settings(&self) -> popreg_store::ContactSettings {
        let url = if self.portal.url.trim().is_empty() {
            &self.public_url
        } else {
            &self.portal.url
        };
        popreg_store::ContactSettings {
            portal_url: url.trim_end_matches('/').to_string(),
            email_token_ttl: chrono::Duration::hours(self.portal.verification_hours.max(1).into()),
            sms_token_ttl: chrono::Duration::minutes(self.portal.sms_code_minutes.max(1).into()),
        }
    }

    /// The address of the rejection feed as the e-mails name it.
    pub fn feed_url(&self) -> String {
        format!(
            "{}/api/v1/rejections",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP (a relay on the same host or a trusted network only).
    None,
    /// SMTP, then STARTTLS before anything else; refused if the relay does not offer it (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// `[notify.smtp]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    /// 0: the usual port of the security mode (25, 587, 465).
    pub port: u16,
    pub security: Security,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// The name the register gives in EHLO; empty: the domain of `from`.
    pub helo_name: String,
    /// Log in with these when set (AUTH PLAIN or LOGIN, only over TLS unless `security = "none"`).
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Seconds to wait for the relay at each step.
    pub timeout_seconds: u64,
    /// A PEM file with the CA of a private relay, trusted besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// E-mails per second one worker hands to the relay at most (a token bucket); 0: no limit.
    pub max_per_second: u32,
    /// How many e-mails may go at once after a quiet spell (the bucket's size); at least 1.
    pub burst: u32,
    /// E-mails to one address in an hour at most; the next ones wait in the outbox (deferred, not
    /// failed) until the oldest of the hour is an hour old. 0: no cap.
    pub recipient_max_per_hour: u32,
    /// E-mails one worker has in flight at once, over as many pooled connections to the relay (the
    /// messages to one address still go one after another); at least 1.
    pub concurrency: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "localhost".into(),
            port: 0,
            security: Security::Starttls,
            from: "Population State Register <noreply@localhost>".into(),
            helo_name: String::new(),
            username: None,
            password: None,
            timeout_seconds: 30,
            ca_file: None,
            max_per_second: 0,
            burst: 1,
            recipient_max_per_hour: 0,
            concurrency: 8,
        }
    }
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        match (self.port, self.security) {
            (0, Security::None) => 25,
            (0, Security::Starttls) => 587,
            (0, Security::Tls) => 465,
            (p, _) => p,
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }
}

/// Which provider carries SMS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProviderKind {
    /// An SMSC over SMPP 3.4 (`[notify.sms.smpp]`).
    #[default]
    Smpp,
    /// An HTTP SMS gateway (`[notify.sms.http]`).
    Http,
}

/// `[notify.sms]`: the SMS channel (G.7) — what every provider shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub provider: SmsProviderKind,
    /// The sender the phone shows: an alphanumeric name (at most 11 characters), a short code, or an
    /// international number with `+`.
    pub source_addr: String,
    /// Messages (parts) per second handed to the provider at most; 0: no limit.
    pub max_per_second: u32,
    /// The longest text, in parts (1..=255); a longer one is a permanent failure.
    pub max_parts: usize,
    /// Seconds for connecting, binding and each answer of the provider.
    pub timeout_seconds: u64,
    /// SMS to one number in 24 hours at most (verification codes and forwarded notifications together);
    /// one more fails for good (`permanent-failure`), so a bug cannot flood a person's phone. 0: no cap.
    pub daily_cap_per_number: u32,
    /// SMS to one number in an hour at most; the next ones wait in the outbox (deferred, not failed)
    /// until the oldest of the hour is an hour old. 0: no cap.
    pub recipient_max_per_hour: u32,
    pub smpp: SmppConfig,
    pub http: SmsHttpConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProviderKind::Smpp,
            source_addr: "e-Citizen".into(),
            max_per_second: 10,
            max_parts: 6,
            timeout_seconds: 10,
            daily_cap_per_number: 10,
            recipient_max_per_hour: 0,
            smpp: SmppConfig::default(),
            http: SmsHttpConfig::default(),
        }
    }
}

impl SmsConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }

    /// Messages the worker has in flight at once: the SMPP window (`smpp.window`, at least 1); one at a
    /// time for the HTTP gateway.
    pub fn in_flight(&self) -> usize {
        match self.provider {
            SmsProviderKind::Smpp => self.smpp.window.clamp(1, 1000) as usize,
            SmsProviderKind::Http => 1,
        }
    }

    /// Whether a provider is configured: an SMPP account (`smpp.system_id`) or a gateway (`http.url`).
    /// Without one the worker leaves the `sms` rows in the outbox.
    pub fn is_configured(&self) -> bool {
        match self.provider {
            SmsProviderKind::Smpp => !self.smpp.system_id.trim().is_empty(),
            SmsProviderKind::Http => !self.http.url.trim().is_empty(),
        }
    }
}

/// `[notify.sms.smpp]`: the SMSC and the register's account there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmppConfig {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (rustls, ring; the public roots and `ca_file`).
    pub tls: bool,
    /// A PEM file with the CA of the SMSC's certificate, trusted besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// The account (at most 15 characters).
    pub system_id: String,
    /// At most 8 characters (SMPP 3.4). Never logged.
    pub password: Option<Secret>,
    /// As the operator asks, often empty (at most 12 characters).
    pub system_type: String,
    /// Seconds between two `enquire_link`s on an idle session; an unanswered one drops the connection.
    pub enquire_link_seconds: u64,
    /// The longest wait between two reconnection attempts (the wait starts at one second and doubles).
    pub reconnect_max_seconds: u64,
    /// `submit_sm` sent and not yet answered at most (the SMPP window); the worker also claims this many
    /// messages at once and has them in flight together. 1: one at a time. Ask the operator what their
    /// SMSC allows (often 10; an SMSC over its window answers `ESME_RTHROTTLED`, which is retried).
    pub window: u32,
}

impl Default for SmppConfig {
    fn default() -> Self {
        SmppConfig {
            host: "localhost".into(),
            port: 2775,
            tls: false,
            ca_file: None,
            system_id: String::new(),
            password: None,
            system_type: String::new(),
            enquire_link_seconds: 30,
            reconnect_max_seconds: 60,
            window: 10,
        }
    }
}

/// `[notify.sms.http]`: an HTTP SMS gateway (the contract is in `docs/notifications.md`, section SMS).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsHttpConfig {
    /// The gateway's base URL, e.g. `http://127.0.0.1:8088/sms` (http only: no TLS client in this build).
    pub url: String,
    /// Sent as `Authorization: Bearer …`. Never logged.
    pub token: Option<Secret>,
    /// Where the gateway posts status changes; empty: the register polls instead.
    pub callback_url: String,
    /// The shared secret the gateway sends with each status callback (`Authorization: Bearer …`) to
    /// `POST /api/v1/sms/receipts`; without it that route refuses every call. Never logged.
    pub callback_secret: Option<Secret>,
}

/// A secret setting: read from the configuration, never shown. `Debug` and serialization (which
/// `popreg check-config` prints) give `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let c: NotifyConfig = toml::from_str(
            "enabled = true\n[smtp]\nhost = \"mail.example.am\"\nusername = \"psr\"\npassword = \"hunter2\"\n",
        )
        .unwrap();
        assert_eq!(c.smtp.password.as_ref().unwrap().expose(), "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let shown = toml::to_string(&c).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn defaults_and_ports() {
        let c: NotifyConfig = toml::from_str("").unwrap();
        assert_eq!(c, NotifyConfig::default());
        assert_eq!(c.smtp.port(), 587);
        let tls: SmtpConfig = toml::from_str("security = \"tls\"").unwrap();
        assert_eq!(tls.port(), 465);
        let plain: SmtpConfig = toml::from_str("security = \"none\"\nport = 2525").unwrap();
        assert_eq!(plain.port(), 2525);
        assert!(toml::from_str::<SmtpConfig>("security = \"ssl\"").is_err());
        assert_eq!(c.feed_url(), "/api/v1/rejections");
        assert_eq!(c.reminder_after(), Some(chrono::Duration::days(5)));
    }

    #[test]
    fn g_7_the_sms_section_and_its_secrets() {
        let c: NotifyConfig = toml::from_str(
            "[sms]\nprovider = \"smpp\"\nsource_addr = \"e-Citizen\"\nmax_per_second = 5\n\
             [sms.smpp]\nhost = \"smsc.example.am\"\nport = 3550\ntls = true\nsystem_id = \"popreg\"\n\
             password = \"s3cr3t!\"\nenquire_link_seconds = 15\n\
             [sms.http]\nurl = \"http://127.0.0.1:8088\"\ntoken = \"t0ken-xyz\"\n\
             callback_secret = \"cb-s3cret\"\n",
        )
        .unwrap();
        assert_eq!(c.sms.smpp.password.as_ref().unwrap().expose(), "s3cr3t!");
        assert_eq!(c.sms.smpp.port, 3550);
        assert!(c.sms.smpp.tls);
        assert_eq!(c.sms.max_per_second, 5);
        assert_eq!(c.sms.http.token.as_ref().unwrap().expose(), "t0ken-xyz");
        let shown = format!("{c:?}{}", toml::to_string(&c).unwrap());
        assert!(
            !shown.contains("s3cr3t!")
                && !shown.contains("t0ken-xyz")
                && !shown.contains("cb-s3cret"),
            "{shown}"
        );
        assert_eq!(NotifyConfig::default().sms, SmsConfig::default());
        assert!(toml::from_str::<SmsConfig>("provider = \"carrier-pigeon\"").is_err());
        assert!(toml::from_str::<SmsConfig>("[smpp]\npasword = \"x\"").is_err());
        let http: SmsConfig = toml::from_str("provider = \"http\"").unwrap();
        assert_eq!(http.provider, SmsProviderKind::Http);
        assert!(!http.is_configured() && !SmsConfig::default().is_configured());
        assert!(c.sms.is_configured());
        assert_eq!(SmsConfig::default().daily_cap_per_number, 10);
    }
}
