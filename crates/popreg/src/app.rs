//! Wiring: open the store, migrate, build the router, serve until asked to stop.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use popreg_domain::{Clock, SystemClock};
use popreg_store::{Store, StoreOptions};
use popreg_web::{AppState, WebConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

/// The process-wide Prometheus recorder (installed once; tests start many apps in one process).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                // Fine steps up to 50 ms, where the latency targets are (10 ms lookups, 30 ms portal pages).
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04,
                    0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Open and (if configured) migrate the store named by the configuration.
pub async fn open_store(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Store> {
    open_store_with(cfg, clock, false).await
}

/// Open the store for an offline bulk load (see [`StoreOptions::bulk`]). Close it before serving.
pub async fn open_store_bulk(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Store> {
    open_store_with(cfg, clock, true).await
}

async fn open_store_with(cfg: &Config, clock: Arc<dyn Clock>, bulk: bool) -> anyhow::Result<Store> {
    let url = cfg.database_url();
    let opts = StoreOptions {
        max_connections: cfg.storage.max_connections,
        bulk,
        ..StoreOptions::default()
    };
    let store = Store::open(&url, &opts, clock)
        .await
        .with_context(|| "cannot open the register database")?;
    if cfg.storage.migrate_on_start {
        let applied = store.migrate().await.context("migrations failed")?;
        if !applied.is_empty() {
            tracing::info!(?applied, database = %store.label(), "migrations applied");
        }
    }
    Ok(store)
}

pub fn web_config(cfg: &Config) -> anyhow::Result<WebConfig> {
    let tax_registry = if cfg.connectors.tax_registry_url.is_empty() {
        None
    } else {
        Some(popreg_connectors::tax::TaxRegistry::new(
            &cfg.connectors.tax_registry_url,
            Duration::from_millis(cfg.connectors.timeout_ms),
        )?)
    };
    let c = &cfg.connectors;
    let registries = popreg_connectors::registries::Registries::new(
        &c.legal_entity_registry_url,
        &c.vehicle_registry_url,
        &c.driving_licence_registry_url,
        &popreg_connectors::registries::Settings {
            xroad_client: c.xroad_client.clone(),
            timeout: Duration::from_millis(c.timeout_ms),
            cache_ttl: Duration::from_secs(c.cache_ttl_secs),
        },
    )?;
    let forwarded_cert = if cfg.server.forwarded_cert_header.is_empty() {
        None
    } else {
        Some(popreg_web::ForwardedCert {
            header: axum::http::HeaderName::from_bytes(cfg.server.forwarded_cert_header.as_bytes())
                .context("server.forwarded_cert_header")?,
            trusted: cfg
                .server
                .trusted_proxies
                .iter()
                .map(|a| a.parse())
                .collect::<Result<_, _>>()
                .context("server.trusted_proxies")?,
        })
    };
    Ok(WebConfig {
        forwarded_cert,
        contacts: cfg.notify.contact_settings(),
        webhooks: popreg_store::WebhookGuard::new(&cfg.notify.webhooks)
            .map_err(anyhow::Error::msg)?,
        sms_callback_secret: cfg
            .notify
            .sms
            .http
            .callback_secret
            .as_ref()
            .filter(|s| !s.expose().is_empty())
            .map(|s| popreg_web::CallbackSecret::new(s.expose())),
        auth_failures_per_window: cfg.server.auth_failures_per_window,
        auth_failure_window: Duration::from_secs(cfg.server.auth_failure_window_secs.max(1)),
        card_verifier: card_verifier(cfg)?.map(Arc::new),
        agency_verifier: agency_verifier(cfg)?.map(Arc::new),
        tax_registry,
        registries,
        max_body_bytes: cfg.server.max_body_bytes,
        request_timeout: Duration::from_secs(cfg.server.request_timeout_secs),
        portal: popreg_web::PortalConfig {
            sessions: popreg_store::SessionLimits {
                idle: chrono::Duration::minutes(cfg.portal.session_idle_minutes.into()),
                absolute: chrono::Duration::hours(cfg.portal.session_absolute_hours.into()),
            },
            secure_cookies: cfg.portal.secure_cookies,
            card_login_url: (!cfg.portal.card_login_url.is_empty())
                .then(|| cfg.portal.card_login_url.clone()),
            // The card chooser and the mail catcher exist only in `popreg demo`, which fills them in itself.
            demo_cards: vec![],
            demo_mail: None,
        },
    })
}

fn read(what: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {path}"))
}

/// The ID-card checker of `server.client_ca` (and `server.client_crl`), if configured.
pub fn card_verifier(cfg: &Config) -> anyhow::Result<Option<popreg_identity::CardVerifier>> {
    let s = &cfg.server;
    verifier(
        ("server.client_ca", &s.client_ca),
        ("server.client_crl", &s.client_crl),
    )
}

/// The checker of agencies' API client certificates: `server.agency_ca` with `server.agency_crl`, or, without
/// an agency CA, the ID-card checker.
pub fn agency_verifier(cfg: &Config) -> anyhow::Result<Option<popreg_identity::CardVerifier>> {
    let s = &cfg.server;
    if s.agency_ca.is_empty() {
        return card_verifier(cfg);
    }
    verifier(
        ("server.agency_ca", &s.agency_ca),
        ("server.agency_crl", &s.agency_crl),
    )
}

/// A checker of a CA bundle and its CRLs, each (setting, path); none without a CA bundle.
fn verifier(
    (ca_what, ca_path): (&str, &str),
    (crl_what, crl_path): (&str, &str),
) -> anyhow::Result<Option<popreg_identity::CardVerifier>> {
    if ca_path.is_empty() {
        return Ok(None);
    }
    let ca = read(ca_what, ca_path)?;
    let crl = if crl_path.is_empty() {
        None
    } else {
        Some(read(crl_what, crl_path)?)
    };
    let v = popreg_identity::CardVerifier::from_pem(&ca, crl.as_deref())
        .with_context(|| format!("{ca_what} {ca_path} / {crl_what}"))?;
    Ok(Some(v))
}

/// The TLS configuration of `server.tls_cert` / `tls_key` (with the ID-card CAs), if HTTPS is configured.
pub fn tls_config(cfg: &Config) -> anyhow::Result<Option<rustls::ServerConfig>> {
    let s = &cfg.server;
    if s.tls_cert.is_empty() {
        return Ok(None);
    }
    let cert = read("server.tls_cert", &s.tls_cert)?;
    let key = read("server.tls_key", &s.tls_key)?;
    // Clients are asked for a certificate of the ID-card CAs or of the agencies' CAs.
    let mut cas = Vec::new();
    for (what, path) in [
        ("server.client_ca", &s.client_ca),
        ("server.agency_ca", &s.agency_ca),
    ] {
        if !path.is_empty() {
            cas.extend(popreg_identity::cert::certs_from_pem(&read(what, path)?)?);
        }
    }
    let cas = (!cas.is_empty()).then_some(cas);
    let tls = popreg_identity::tls::server_config(&cert, &key, cas.as_deref())
        .context("server.tls_cert / tls_key / client_ca / agency_ca")?;
    Ok(Some(tls))
}

/// A server running in the background.
pub struct Running {
    pub addr: SocketAddr,
    /// Whether it speaks HTTPS.
    pub tls: bool,
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The outbox worker, when notifications are enabled; it stops with the server.
    notifier: Option<JoinHandle<()>>,
    /// The webhook worker (A1.52), unless `notify.webhook_poll_ms` is 0; it stops with the server.
    webhooks: Option<JoinHandle<()>>,
    /// Where the official mail server (G.3.1) listens, when `notify.inbound.enabled`.
    pub inbound_addr: Option<SocketAddr>,
    inbound: Option<JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stop accepting, finish in-flight requests, close the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await??;
        self.finish().await
    }

    /// Wait for the workers (they stop with the server), then close the database.
    async fn finish(&mut self) -> anyhow::Result<()> {
        for n in [
            self.notifier.take(),
            self.webhooks.take(),
            self.inbound.take(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = n.await;
        }
        self.store.close().await;
        Ok(())
    }

    /// Wait until the server ends (it ends on Ctrl-C or SIGTERM).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        self.finish().await
    }
}

/// Start serving on the configured address with a given store. Stops on the returned handle, Ctrl-C or
/// SIGTERM.
pub async fn start(cfg: &Config, store: Store) -> anyhow::Result<Running> {
    start_with(cfg, store, vec![]).await
}

/// [`start`], with the demo's card chooser offering `demo_cards` (only `popreg demo` passes any).
pub async fn start_with(
    cfg: &Config,
    store: Store,
    demo_cards: Vec<popreg_web::DemoCard>,
) -> anyhow::Result<Running> {
    start_demo(cfg, store, demo_cards, None).await
}

/// [`start_with`], and with the demo's mail catcher: every e-mail and SMS is kept in `demo_mail` instead of
/// being sent, and shown at `/demo/mail` (only `popreg demo` passes one).
pub async fn start_demo(
    cfg: &Config,
    store: Store,
    demo_cards: Vec<popreg_web::DemoCard>,
    demo_mail: Option<Arc<popreg_notify::capture::Capture>>,
) -> anyhow::Result<Running> {
    // Classifiers are part of the program: a broken code list must stop the start, not surface later.
    popreg_domain::classifiers::try_classifiers()
        .context("the embedded classifiers do not load")?;
    let listener = TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    let tls = tls_config(cfg)?;
    let key_path = cfg.audit_key_path();
    let signer = popreg_store::AuditSigner::load_or_create(&key_path)
        .with_context(|| format!("audit.signing_key {}", key_path.display()))?;
    tracing::info!(
        key_id = signer.key_id(),
        "audit checkpoints are signed with this key"
    );
    store.set_audit_signer(signer);
    store.set_restriction_rules(cfg.restrictions.rules());
    let mut web = web_config(cfg)?;
    web.portal.demo_cards = demo_cards;
    web.portal.demo_mail = demo_mail.clone();
    // The official mail server asks the same legal-entity registry about `<TIN>@domain` (G.6).
    let companies = web.registries.clone();
    let state = AppState::new(store.clone(), web, metrics_handle());
    let app = popreg_web::router(state);
    let (tx, rx) = oneshot::channel::<()>();
    // The server and the outbox worker stop together: on the handle, Ctrl-C or SIGTERM.
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let stop = async move {
        tokio::select! {
            _ = rx => {},
            _ = shutdown_signal() => {},
        }
        let _ = done_tx.send(true);
    };
    if cfg.audit.checkpoint_interval_secs > 0 {
        let every = Duration::from_secs(cfg.audit.checkpoint_interval_secs);
        let (store, mut done) = (store.clone(), done_rx.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = done.wait_for(|d| *d) => break,
                }
                if let Err(e) = store.audit_checkpoint().await {
                    tracing::error!(error = %e, "audit checkpoint not signed");
                }
            }
        });
    }
    let mut notify_done = done_rx.clone();
    let notifier =
        popreg_notify::spawn_with_capture(store.clone(), &cfg.notify, demo_mail, async move {
            let _ = notify_done.wait_for(|d| *d).await;
        })
        .context("notify: the outbox worker cannot start")?;
    let guard =
        popreg_store::WebhookGuard::new(&cfg.notify.webhooks).map_err(anyhow::Error::msg)?;
    let webhooks = (cfg.notify.webhook_poll_ms > 0).then(|| {
        let mut done = done_rx.clone();
        popreg_notify::webhook::spawn(
            store.clone(),
            guard,
            Duration::from_millis(cfg.notify.webhook_poll_ms),
            async move {
                let _ = done.wait_for(|d| *d).await;
            },
        )
    });
    let mut inbound_done = done_rx.clone();
    let inbound =
        popreg_notify::inbound::spawn(store.clone(), &cfg.notify.inbound, companies, async move {
            let _ = inbound_done.wait_for(|d| *d).await;
        })
        .await
        .context("notify.inbound: the official mail server cannot start")?;
    let https = tls.is_some();
    let task = match tls {
        Some(tls) => tokio::spawn(crate::https::serve(listener, Arc::new(tls), app, stop)),
        None => tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop)
            .await
        }),
    };
    Ok(Running {
        addr,
        tls: https,
        store,
        stop: Some(tx),
        task,
        notifier,
        webhooks,
        inbound_addr: inbound.as_ref().map(|i| i.local_addr),
        inbound: inbound.map(|i| i.task),
    })
}

/// Convenience for `serve`: open the configured store with the system clock and start.
pub async fn serve(cfg: &Config) -> anyhow::Result<Running> {
    let store = open_store(cfg, Arc::new(SystemClock)).await?;
    start(cfg, store).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
