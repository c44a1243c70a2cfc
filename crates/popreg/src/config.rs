//! Configuration: built-in defaults < TOML file < `POPREG_*` environment variables < command-line flags.
//! The commented example (`default-config.toml`) is embedded and printed by `popreg default-config`; a test
//! checks that it parses to exactly the defaults, so the two cannot drift apart.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

pub const DEFAULT_CONFIG: &str = include_str!("../default-config.toml");

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: Server,
    pub storage: Storage,
    pub connectors: Connectors,
    /// Notifications: the outbox worker and its SMTP relay (docs/notifications.md).
    pub notify: popreg_notify::NotifyConfig,
    /// The audit trail's checkpoints (docs/audit.md).
    pub audit: Audit,
    /// The e-Citizen portal: login sessions and cookies (docs/portal.md).
    pub portal: Portal,
    /// Automatic suspension of bodies that submit badly or late too often (A1.55, docs/submissions.md).
    pub restrictions: Restrictions,
    pub log: Log,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Restrictions {
    /// Rejected submissions of one body within `window_hours` that suspend its right to submit; 0: never.
    pub rejections_per_window: u32,
    /// Late births and deaths (A1.41) of one body within `window_hours` that suspend it; 0: never.
    pub late_per_window: u32,
    pub window_hours: u32,
    /// How many days an automatic suspension lasts (the manager may lift it earlier).
    pub suspend_days: u32,
}

impl Default for Restrictions {
    fn default() -> Self {
        Restrictions {
            rejections_per_window: 0,
            late_per_window: 0,
            window_hours: 24,
            suspend_days: 3,
        }
    }
}

impl Restrictions {
    pub fn rules(&self) -> popreg_store::RestrictionRules {
        popreg_store::RestrictionRules {
            rejections: self.rejections_per_window,
            late: self.late_per_window,
            window: chrono::Duration::hours(self.window_hours.max(1).into()),
            suspend_for: chrono::Duration::days(self.suspend_days.max(1).into()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Portal {
    /// Minutes without a request after which a session ends.
    pub session_idle_minutes: u32,
    /// Hours after login after which a session ends, however busy.
    pub session_absolute_hours: u32,
    /// Send cookies only over HTTPS (`Secure`). Turn off only for a portal served on plain HTTP on a
    /// loopback address (the demo does).
    pub secure_cookies: bool,
    /// The HTTPS address of ID-card login, shown on the login page when it is opened over plain HTTP.
    pub card_login_url: String,
}

impl Default for Portal {
    fn default() -> Self {
        Portal {
            session_idle_minutes: 15,
            session_absolute_hours: 8,
            secure_cookies: true,
            card_login_url: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    /// PKCS#8 file of the Ed25519 key that signs checkpoints; empty: `<data_dir>/audit-signing-key.pk8`.
    /// Created (mode 0600) when missing.
    pub signing_key: String,
    /// Seconds between signed checkpoints (only when the log has grown); 0: only on demand.
    pub checkpoint_interval_secs: u64,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            signing_key: String::new(),
            checkpoint_interval_secs: 60,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connectors {
    pub tax_registry_url: String,
    pub timeout_ms: u64,
    /// The legal-entity registry (G.4, G.6); empty: not connected.
    pub legal_entity_registry_url: String,
    /// The vehicle registry (G.4); empty: not connected.
    pub vehicle_registry_url: String,
    /// The driving-licence registry (G.4); empty: not connected.
    pub driving_licence_registry_url: String,
    /// Sent as `X-Road-Client` to those three registries.
    pub xroad_client: String,
    /// Seconds a good answer of those registries is reused; 0: never.
    pub cache_ttl_secs: u64,
}

impl Default for Connectors {
    fn default() -> Self {
        Connectors {
            tax_registry_url: String::new(),
            timeout_ms: 3000,
            legal_entity_registry_url: String::new(),
            vehicle_registry_url: String::new(),
            driving_licence_registry_url: String::new(),
            xroad_client: "AM/GOV/00000001/popreg".into(),
            cache_ttl_secs: 60,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: String,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// PEM file with the server's certificate chain; set, the server speaks HTTPS only.
    pub tls_cert: String,
    /// PEM file with the server's private key.
    pub tls_key: String,
    /// PEM bundle of the CAs that issue ID cards; set, browsers are asked for an (optional) ID-card
    /// certificate and `/whoami` identifies its holder.
    pub client_ca: String,
    /// PEM file with the CRLs of those CAs (revoked cards).
    pub client_crl: String,
    /// PEM bundle of the CAs that issue agencies' API client certificates (mutual TLS); empty: `client_ca`
    /// with `client_crl`.
    pub agency_ca: String,
    /// PEM file with the CRLs of the agency CAs.
    pub agency_crl: String,
    /// Behind a TLS-terminating reverse proxy: the request header in which the proxy forwards the client's
    /// certificate (URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`); empty: not behind such a proxy.
    pub forwarded_cert_header: String,
    /// The proxies' addresses: the header is believed only from these; from anywhere else it is refused.
    pub trusted_proxies: Vec<String>,
    /// Refused authentications (401) per client address and window before it gets 429; 0: no limit.
    pub auth_failures_per_window: u32,
    pub auth_failure_window_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub max_connections: u32,
    pub migrate_on_start: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub format: String,
    pub level: String,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1 << 20,
            request_timeout_secs: 30,
            tls_cert: String::new(),
            tls_key: String::new(),
            client_ca: String::new(),
            client_crl: String::new(),
            agency_ca: String::new(),
            agency_crl: String::new(),
            forwarded_cert_header: String::new(),
            trusted_proxies: vec![],
            auth_failures_per_window: 30,
            auth_failure_window_secs: 60,
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            data_dir: PathBuf::from("./popreg-data"),
            database_url: String::new(),
            max_connections: 16,
            migrate_on_start: true,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl Config {
    /// Load from an optional file, then apply the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut cfg = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config {}", p.display()))?;
                toml::from_str(&text).with_context(|| {
                    // Keys moved from the configuration into the register (issue 4): say so.
                    let hint = if text.contains("api_key_sha256") {
                        "; api.api_key_sha256 is no longer read: API keys are issued to bodies with \
                         `popreg key issue` (or `popreg key add --sha256`)"
                    } else {
                        ""
                    };
                    format!("invalid config {}{hint}", p.display())
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Apply `POPREG_*` variables through a lookup function (tests pass a map).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn num<T: std::str::FromStr>(k: &str, v: String) -> anyhow::Result<T> {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{k}: not a number: {v:?}"))
        }
        if let Some(v) = get("POPREG_LISTEN") {
            self.server.listen = v;
        }
        if let Some(v) = get("POPREG_MAX_BODY_BYTES") {
            self.server.max_body_bytes = num("POPREG_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("POPREG_REQUEST_TIMEOUT_SECS") {
            self.server.request_timeout_secs = num("POPREG_REQUEST_TIMEOUT_SECS", v)?;
        }
        if let Some(v) = get("POPREG_TLS_CERT") {
            self.server.tls_cert = v;
        }
        if let Some(v) = get("POPREG_TLS_KEY") {
            self.server.tls_key = v;
        }
        if let Some(v) = get("POPREG_CLIENT_CA") {
            self.server.client_ca = v;
        }
        if let Some(v) = get("POPREG_CLIENT_CRL") {
            self.server.client_crl = v;
        }
        if let Some(v) = get("POPREG_AGENCY_CA") {
            self.server.agency_ca = v;
        }
        if let Some(v) = get("POPREG_AGENCY_CRL") {
            self.server.agency_crl = v;
        }
        if let Some(v) = get("POPREG_FORWARDED_CERT_HEADER") {
            self.server.forwarded_cert_header = v;
        }
        if let Some(v) = get("POPREG_TRUSTED_PROXIES") {
            self.server.trusted_proxies = v
                .split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect();
        }
        if let Some(v) = get("POPREG_DATA_DIR") {
            self.storage.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("POPREG_DATABASE_URL") {
            self.storage.database_url = v;
        }
        for (k, field) in [
            (
                "POPREG_RESTRICT_REJECTIONS",
                &mut self.restrictions.rejections_per_window,
            ),
            (
                "POPREG_RESTRICT_LATE",
                &mut self.restrictions.late_per_window,
            ),
            (
                "POPREG_RESTRICT_WINDOW_HOURS",
                &mut self.restrictions.window_hours,
            ),
            (
                "POPREG_RESTRICT_SUSPEND_DAYS",
                &mut self.restrictions.suspend_days,
            ),
        ] {
            if let Some(v) = get(k) {
                *field = num(k, v)?;
            }
        }
        if let Some(v) = get("POPREG_MAX_CONNECTIONS") {
            self.storage.max_connections = num("POPREG_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("POPREG_MIGRATE_ON_START") {
            self.storage.migrate_on_start = matches!(v.trim(), "1" | "true" | "yes");
        }
        if let Some(v) = get("POPREG_AUDIT_SIGNING_KEY") {
            self.audit.signing_key = v;
        }
        if let Some(v) = get("POPREG_AUDIT_CHECKPOINT_INTERVAL_SECS") {
            self.audit.checkpoint_interval_secs = num("POPREG_AUDIT_CHECKPOINT_INTERVAL_SECS", v)?;
        }
        if let Some(v) = get("POPREG_SESSION_IDLE_MINUTES") {
            self.portal.session_idle_minutes = num("POPREG_SESSION_IDLE_MINUTES", v)?;
        }
        if let Some(v) = get("POPREG_SESSION_ABSOLUTE_HOURS") {
            self.portal.session_absolute_hours = num("POPREG_SESSION_ABSOLUTE_HOURS", v)?;
        }
        if let Some(v) = get("POPREG_SECURE_COOKIES") {
            self.portal.secure_cookies = matches!(v.trim(), "1" | "true" | "yes");
        }
        if let Some(v) = get("POPREG_CARD_LOGIN_URL") {
            self.portal.card_login_url = v;
        }
        if let Some(v) = get("POPREG_TAX_REGISTRY_URL") {
            self.connectors.tax_registry_url = v;
        }
        if let Some(v) = get("POPREG_CONNECTOR_TIMEOUT_MS") {
            self.connectors.timeout_ms = num("POPREG_CONNECTOR_TIMEOUT_MS", v)?;
        }
        for (key, field) in [
            (
                "POPREG_LEGAL_ENTITY_REGISTRY_URL",
                &mut self.connectors.legal_entity_registry_url,
            ),
            (
                "POPREG_VEHICLE_REGISTRY_URL",
                &mut self.connectors.vehicle_registry_url,
            ),
            (
                "POPREG_DRIVING_LICENCE_REGISTRY_URL",
                &mut self.connectors.driving_licence_registry_url,
            ),
            ("POPREG_XROAD_CLIENT", &mut self.connectors.xroad_client),
        ] {
            if let Some(v) = get(key) {
                *field = v;
            }
        }
        if let Some(v) = get("POPREG_CONNECTOR_CACHE_TTL_SECS") {
            self.connectors.cache_ttl_secs = num("POPREG_CONNECTOR_CACHE_TTL_SECS", v)?;
        }
        if let Some(v) = get("POPREG_NOTIFY_ENABLED") {
            self.notify.enabled = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("POPREG_SMTP_HOST") {
            self.notify.smtp.host = v;
        }
        if let Some(v) = get("POPREG_SMTP_PORT") {
            self.notify.smtp.port = num("POPREG_SMTP_PORT", v)?;
        }
        if let Some(v) = get("POPREG_SMTP_PASSWORD") {
            self.notify.smtp.password = Some(popreg_notify::Secret::new(v));
        }
        // Rate limits and per-recipient caps (0: none).
        for (key, field) in [
            (
                "POPREG_SMTP_MAX_PER_SECOND",
                &mut self.notify.smtp.max_per_second,
            ),
            ("POPREG_SMTP_BURST", &mut self.notify.smtp.burst),
            (
                "POPREG_SMTP_RECIPIENT_MAX_PER_HOUR",
                &mut self.notify.smtp.recipient_max_per_hour,
            ),
            (
                "POPREG_SMS_MAX_PER_SECOND",
                &mut self.notify.sms.max_per_second,
            ),
            (
                "POPREG_SMS_RECIPIENT_MAX_PER_HOUR",
                &mut self.notify.sms.recipient_max_per_hour,
            ),
        ] {
            if let Some(v) = get(key) {
                *field = num(key, v)?;
            }
        }
        let inbound = &mut self.notify.inbound;
        if let Some(v) = get("POPREG_INBOUND_ENABLED") {
            inbound.enabled = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("POPREG_INBOUND_LISTEN") {
            inbound.listen = v;
        }
        if let Some(v) = get("POPREG_INBOUND_DOMAIN") {
            inbound.domain = v;
        }
        if let Some(v) = get("POPREG_INBOUND_TLS_CERT") {
            inbound.tls_cert = Some(v.into());
        }
        if let Some(v) = get("POPREG_INBOUND_TLS_KEY") {
            inbound.tls_key = Some(v.into());
        }
        if let Some(v) = get("POPREG_INBOUND_SRS_SECRET") {
            inbound.srs_secret = Some(popreg_notify::Secret::new(v));
        }
        if let Some(v) = get("POPREG_INBOUND_DKIM_KEY") {
            inbound.dkim_key = Some(v.into());
        }
        if let Some(v) = get("POPREG_LOG_FORMAT") {
            self.log.format = v;
        }
        if let Some(v) = get("POPREG_LOG").or_else(|| get("RUST_LOG")) {
            self.log.level = v;
        }
        Ok(())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "server.listen: not an address:port: {:?}",
                self.server.listen
            );
        }
        if self.server.max_body_bytes < 1024 {
            bail!("server.max_body_bytes: at least 1024");
        }
        popreg_store::WebhookGuard::new(&self.notify.webhooks).map_err(anyhow::Error::msg)?;
        let p = &self.portal;
        if p.session_idle_minutes == 0 || p.session_absolute_hours == 0 {
            bail!("portal.session_idle_minutes and portal.session_absolute_hours: at least 1");
        }
        if u64::from(p.session_idle_minutes) > u64::from(p.session_absolute_hours) * 60 {
            bail!("portal.session_idle_minutes: not longer than portal.session_absolute_hours");
        }
        let s = &self.server;
        if s.tls_cert.is_empty() != s.tls_key.is_empty() {
            bail!("server.tls_cert and server.tls_key: set both (HTTPS) or neither (HTTP)");
        }
        let proxied = !s.forwarded_cert_header.is_empty();
        if !s.client_ca.is_empty() && s.tls_cert.is_empty() && !proxied {
            bail!(
                "server.client_ca: ID cards need HTTPS; set server.tls_cert and server.tls_key too, or \
                 server.forwarded_cert_header behind a TLS-terminating proxy"
            );
        }
        if proxied {
            if s.client_ca.is_empty() {
                bail!(
                    "server.forwarded_cert_header: needs server.client_ca to check the certificates"
                );
            }
            if s.trusted_proxies.is_empty() {
                bail!(
                    "server.forwarded_cert_header: list the proxies' addresses in server.trusted_proxies"
                );
            }
            if axum::http::HeaderName::from_bytes(s.forwarded_cert_header.as_bytes()).is_err() {
                bail!("server.forwarded_cert_header: not a header name");
            }
        }
        for a in &s.trusted_proxies {
            if a.parse::<std::net::IpAddr>().is_err() {
                bail!("server.trusted_proxies: {a:?} is not an IP address");
            }
        }
        if !s.agency_ca.is_empty() && s.tls_cert.is_empty() {
            bail!(
                "server.agency_ca: client certificates need HTTPS; set server.tls_cert and server.tls_key"
            );
        }
        if !s.agency_crl.is_empty() && s.agency_ca.is_empty() {
            bail!("server.agency_crl: needs server.agency_ca");
        }
        if !s.client_crl.is_empty() && s.client_ca.is_empty() {
            bail!("server.client_crl: needs server.client_ca");
        }
        if self.storage.max_connections == 0 {
            bail!("storage.max_connections: at least 1");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bail!("log.format: \"text\" or \"json\"");
        }
        let url = &self.storage.database_url;
        let known = ["postgres://", "postgresql://", "sqlite:"];
        if !url.is_empty() && !known.iter().any(|k| url.starts_with(k)) {
            bail!(
                "storage.database_url: postgres://… or sqlite:PATH (empty for SQLite in data_dir)"
            );
        }
        Ok(())
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.storage.database_url.is_empty() {
            format!(
                "sqlite:{}",
                self.storage.data_dir.join("register.sqlite").display()
            )
        } else {
            self.storage.database_url.clone()
        }
    }

    /// The file of the checkpoint signing key.
    pub fn audit_key_path(&self) -> PathBuf {
        if self.audit.signing_key.is_empty() {
            self.storage.data_dir.join("audit-signing-key.pk8")
        } else {
            PathBuf::from(&self.audit.signing_key)
        }
    }

    /// The settings as TOML with secrets redacted (password in the URL).
    pub fn redacted(&self) -> String {
        let mut c = self.clone();
        if let Some((scheme, rest)) = c.storage.database_url.split_once("://")
            && let Some((creds, host)) = rest.split_once('@')
            && let Some((user, _)) = creds.split_once(':')
        {
            c.storage.database_url = format!("{scheme}://{user}:***@{host}");
        }
        toml::to_string(&c).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_file_is_exactly_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn g_3_1_the_official_mail_server_is_configured_from_the_environment() {
        let mut c = Config::default();
        assert!(!c.notify.inbound.enabled);
        c.apply_env(|k| match k {
            "POPREG_INBOUND_ENABLED" => Some("true".into()),
            "POPREG_INBOUND_LISTEN" => Some("127.0.0.1:2525".into()),
            "POPREG_INBOUND_DOMAIN" => Some("mail.example.am".into()),
            "POPREG_INBOUND_TLS_CERT" => Some("mx.pem".into()),
            "POPREG_INBOUND_TLS_KEY" => Some("mx.key.pem".into()),
            "POPREG_INBOUND_SRS_SECRET" => Some("s3cret".into()),
            "POPREG_INBOUND_DKIM_KEY" => Some("dkim.pem".into()),
            _ => None,
        })
        .unwrap();
        let i = &c.notify.inbound;
        assert!(i.enabled);
        assert_eq!(i.listen, "127.0.0.1:2525");
        assert_eq!(i.domain, "mail.example.am");
        assert_eq!(i.tls_cert.as_deref(), Some(std::path::Path::new("mx.pem")));
        assert_eq!(
            i.tls_key.as_deref(),
            Some(std::path::Path::new("mx.key.pem"))
        );
        assert_eq!(i.srs_secret.as_ref().map(|s| s.expose()), Some("s3cret"));
        assert_eq!(
            i.dkim_key.as_deref(),
            Some(std::path::Path::new("dkim.pem"))
        );
        assert!(
            !format!("{i:?}").contains("s3cret"),
            "the SRS secret is never shown"
        );
    }

    #[test]
    fn g_3_3_rate_limits_and_recipient_caps_come_from_the_environment() {
        let mut c = Config::default();
        assert_eq!(c.notify.smtp.max_per_second, 0, "no limit by default");
        c.apply_env(|k| match k {
            "POPREG_SMTP_MAX_PER_SECOND" => Some("200".into()),
            "POPREG_SMTP_BURST" => Some("20".into()),
            "POPREG_SMTP_RECIPIENT_MAX_PER_HOUR" => Some("30".into()),
            "POPREG_SMS_MAX_PER_SECOND" => Some("50".into()),
            "POPREG_SMS_RECIPIENT_MAX_PER_HOUR" => Some("5".into()),
            _ => None,
        })
        .unwrap();
        let n = &c.notify;
        assert_eq!(
            (
                n.smtp.max_per_second,
                n.smtp.burst,
                n.smtp.recipient_max_per_hour
            ),
            (200, 20, 30)
        );
        assert_eq!(
            (n.sms.max_per_second, n.sms.recipient_max_per_hour),
            (50, 5)
        );
        let mut bad = Config::default();
        assert!(
            bad.apply_env(|k| (k == "POPREG_SMTP_RECIPIENT_MAX_PER_HOUR").then(|| "lots".into()))
                .is_err()
        );
    }

    #[test]
    fn env_overrides_file_and_is_validated() {
        let mut c = Config::default();
        let env = |k: &str| match k {
            "POPREG_LISTEN" => Some("0.0.0.0:9999".to_string()),
            "POPREG_DATABASE_URL" => Some("postgres://u:pw@h/db".to_string()),
            "POPREG_MAX_CONNECTIONS" => Some("4".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:9999");
        assert_eq!(c.storage.max_connections, 4);
        assert!(c.redacted().contains("postgres://u:***@h/db"));
        assert!(!c.redacted().contains("pw"));
        let mut bad = Config::default();
        assert!(
            bad.apply_env(|k| (k == "POPREG_MAX_CONNECTIONS").then(|| "many".to_string()))
                .is_err()
        );
        bad.server.listen = "nowhere".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn tls_settings_come_in_working_combinations() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "POPREG_TLS_CERT" => Some("s.pem".into()),
            "POPREG_TLS_KEY" => Some("s.key.pem".into()),
            "POPREG_CLIENT_CA" => Some("ca.pem".into()),
            "POPREG_CLIENT_CRL" => Some("crl.pem".into()),
            "POPREG_AGENCY_CA" => Some("agency-ca.pem".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.server.agency_ca, "agency-ca.pem");
        assert_eq!(
            (c.server.tls_cert.as_str(), c.server.client_crl.as_str()),
            ("s.pem", "crl.pem")
        );
        c.validate().unwrap();
        let mut no_key = c.clone();
        no_key.server.tls_key.clear();
        assert!(no_key.validate().is_err());
        let mut no_tls = c.clone();
        no_tls.server.tls_cert.clear();
        no_tls.server.tls_key.clear();
        assert!(no_tls.validate().is_err(), "client_ca without HTTPS");
        let mut agency_no_tls = no_tls.clone();
        agency_no_tls.server.client_ca.clear();
        agency_no_tls.server.client_crl.clear();
        assert!(agency_no_tls.validate().is_err(), "agency_ca without HTTPS");
        let mut crl_only = c;
        crl_only.server.client_ca.clear();
        assert!(crl_only.validate().is_err());
    }

    #[test]
    fn g_4_the_registry_connectors_are_set_from_the_environment() {
        let mut c = Config::default();
        c.apply_env(|k| {
            Some(
                match k {
                    "POPREG_LEGAL_ENTITY_REGISTRY_URL" => "http://le.example.am",
                    "POPREG_VEHICLE_REGISTRY_URL" => "http://veh.example.am",
                    "POPREG_DRIVING_LICENCE_REGISTRY_URL" => "http://dl.example.am",
                    "POPREG_XROAD_CLIENT" => "AM/GOV/123/popreg",
                    "POPREG_CONNECTOR_CACHE_TTL_SECS" => "5",
                    _ => return None,
                }
                .to_string(),
            )
        })
        .unwrap();
        let k = &c.connectors;
        assert_eq!(
            (
                k.legal_entity_registry_url.as_str(),
                k.vehicle_registry_url.as_str(),
                k.driving_licence_registry_url.as_str(),
                k.xroad_client.as_str(),
                k.cache_ttl_secs
            ),
            (
                "http://le.example.am",
                "http://veh.example.am",
                "http://dl.example.am",
                "AM/GOV/123/popreg",
                5
            )
        );
        assert!(
            Config::default()
                .apply_env(|k| (k == "POPREG_CONNECTOR_CACHE_TTL_SECS").then(|| "soon".into()))
                .is_err()
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("[server]\nlisten_typo = \"x\"").is_err());
    }
}
