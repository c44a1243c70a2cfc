//! The official mail domain (G.3.1): an ESMTP server (RFC 5321) that receives mail for `<PSN>@domain`,
//! stores it in the person's portal inbox and forwards it to their verified e-mail addresses.
//!
//! - `EHLO`/`HELO`, `STARTTLS` (rustls; what the client pipelined after it is discarded), `PIPELINING`,
//!   `SIZE` advertised and enforced (a larger message is read to its end without being kept and refused
//!   with 552), `8BITMIME`.
//! - `RCPT TO` accepts only `<PSN>@domain` for a PSN that is valid and in the register
//!   ([`Store::mailbox_exists`]) and `<TIN>@domain` for a company the legal-entity registry knows (G.6;
//!   asked through [`Registries::company`], 451 while the registry does not answer); any other recipient
//!   gets 550 at once, so the server never accepts mail it would have to bounce. A bounce to an SRS address of the domain (a forward that failed) is accepted
//!   and marks the forwarding address as failing.
//! - Commands out of order get 503; at most `max_recipients` (452 after), lines of at most 1000 bytes
//!   (500), a timeout per command and for the whole DATA phase (421 and close), at most `max_connections`
//!   at once (421), and a connection making too many errors is closed.
//! - A message is stored ([`Store::store_inbound_mail`], one transaction with its forwards, shared with the
//!   messages other sessions hand over at the same time: group commit) **before** the final `250`; if
//!   storing fails the client gets 451 and keeps the message.
//! - A company's message lands in the company inbox (shown on `/my/companies/{tin}` to the persons holding a
//!   role in it) and is forwarded to the company's verified addresses, as a person's is.

mod parse;
mod sign;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use popreg_connectors::registries::{Registries, RegistryKind};
use popreg_domain::{Psn, Tin};
use popreg_store::{NewInboundMail, Owner, Store};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;

pub use parse::{Parsed, dsn_failed_recipients, parse};
pub use sign::{Signer, generate_rsa_key, srs_forward, srs_reverse};

use crate::NotifyError;
use crate::config::InboundConfig;

/// The longest command line, with its CRLF (RFC 5321 4.5.3.1.4 says 512; extensions need more).
pub const MAX_COMMAND_LINE: usize = 1000;
/// Errors after which a connection is closed.
const MAX_ERRORS: u32 = 10;

/// What the server shares between connections.
struct Ctx {
    store: Store,
    cfg: InboundConfig,
    tls: Option<TlsAcceptor>,
    signer: Option<Signer>,
    srs_secret: Option<String>,
    /// The legal-entity registry, which says whether `<TIN>@domain` is a company's address (G.6).
    companies: Option<Registries>,
}

/// A running server: its address, and the task that accepts connections.
pub struct Inbound {
    pub local_addr: SocketAddr,
    pub task: JoinHandle<()>,
}

fn load_tls(cfg: &InboundConfig) -> Result<Option<TlsAcceptor>, NotifyError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let (Some(cert), Some(key)) = (&cfg.tls_cert, &cfg.tls_key) else {
        if cfg.tls_cert.is_some() || cfg.tls_key.is_some() {
            return Err(NotifyError::Config(
                "notify.inbound.tls_cert and notify.inbound.tls_key go together".into(),
            ));
        }
        return Ok(None);
    };
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        NotifyError::Config(format!("notify.inbound.{what}: {e}"))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("tls_cert", &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("tls_cert", &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("tls_key", &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad("tls_cert", &e))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad("tls_key", &e))?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

impl Inbound {
    /// Bind the listener and start serving until `shutdown` completes. Fails on unusable settings
    /// (an unreadable certificate or key, half the TLS or forwarding settings) or a port in use. Company
    /// addresses are refused: no legal-entity registry is given (see [`Inbound::start_with`]).
    pub async fn start(
        store: Store,
        cfg: &InboundConfig,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<Inbound, NotifyError> {
        Inbound::start_with(store, cfg, None, shutdown).await
    }

    /// [`Inbound::start`], accepting `<TIN>@domain` for the companies `companies` (the legal-entity
    /// registry's connector) knows.
    pub async fn start_with(
        store: Store,
        cfg: &InboundConfig,
        companies: Option<Registries>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<Inbound, NotifyError> {
        let tls = load_tls(cfg)?;
        let srs_secret = cfg.srs_secret.as_ref().map(|s| s.expose().to_string());
        let signer = match (&cfg.dkim_key, &srs_secret) {
            (Some(path), Some(_)) => Some(Signer::load(
                path,
                &cfg.domain,
                &cfg.dkim_selector,
                cfg.hostname(),
            )?),
            (None, None) => None,
            _ => {
                return Err(NotifyError::Config(
                    "notify.inbound.dkim_key and notify.inbound.srs_secret go together".into(),
                ));
            }
        };
        let listener = TcpListener::bind(&cfg.listen).await.map_err(|e| {
            NotifyError::Config(format!("notify.inbound.listen {}: {e}", cfg.listen))
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| NotifyError::Config(e.to_string()))?;
        let ctx = Arc::new(Ctx {
            store,
            cfg: cfg.clone(),
            tls,
            signer,
            srs_secret,
            companies,
        });
        let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
        tracing::info!(%local_addr, domain = %cfg.domain, "official mail server listening (G.3.1)");
        let task = tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                let (tcp, peer) = tokio::select! {
                    _ = &mut shutdown => break,
                    r = listener.accept() => match r {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "inbound accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let ctx = ctx.clone();
                match slots.clone().try_acquire_owned() {
                    Ok(permit) => {
                        tokio::spawn(async move {
                            connection(tcp, peer, &ctx).await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tokio::spawn(async move {
                            let mut tcp = tcp;
                            let _ = timeout(
                                Duration::from_secs(5),
                                tcp.write_all(
                                    b"421 4.7.0 Too many connections, try again later\r\n",
                                ),
                            )
                            .await;
                        });
                    }
                }
            }
            tracing::info!("official mail server stopped");
        });
        Ok(Inbound { local_addr, task })
    }
}

/// Start the server for `popreg serve` when `notify.inbound.enabled`; `companies`: the connectors whose
/// legal-entity registry decides the company addresses.
pub async fn spawn(
    store: Store,
    cfg: &InboundConfig,
    companies: Registries,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Option<Inbound>, NotifyError> {
    if !cfg.enabled {
        return Ok(None);
    }
    Inbound::start_with(store, cfg, Some(companies), shutdown)
        .await
        .map(Some)
}

/// Who a `RCPT TO` names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Recipient {
    /// A person's official address.
    Person(Psn),
    /// A company's official address (G.6).
    Company(Tin),
    /// An SRS address of ours: a bounce of a forward.
    Bounce(String),
}

#[derive(Default)]
struct Envelope {
    helo: Option<String>,
    mail_from: Option<String>,
    rcpts: Vec<Recipient>,
}

enum Next {
    Close,
    StartTls,
}

enum Line {
    Ok(Vec<u8>),
    TooLong,
    Eof,
}

/// Read one line (through LF) of at most `max` bytes; a longer one is consumed to its end and reported.
async fn read_line<S: AsyncRead + Unpin>(
    r: &mut BufReader<S>,
    max: usize,
) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() && !too_long {
                Line::Eof
            } else if too_long {
                Line::TooLong
            } else {
                Line::Ok(line)
            });
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            if line.len() + take > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
        }
        r.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Ok(line)
            });
        }
    }
}

async fn reply<S: AsyncWrite + Unpin>(w: &mut S, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.write_all(b"\r\n").await?;
    w.flush().await
}

async fn connection(tcp: TcpStream, peer: SocketAddr, ctx: &Ctx) {
    let mut r = BufReader::new(tcp);
    let greeting = format!("220 {} ESMTP popreg official mail", ctx.cfg.hostname());
    if reply(r.get_mut(), &greeting).await.is_err() {
        return;
    }
    if let Next::StartTls = session(&mut r, peer, ctx, false).await
        && let Some(acceptor) = &ctx.tls
    {
        // Whatever the client pipelined after STARTTLS is dropped with the buffer (RFC 3207 §5).
        let tcp = r.into_inner();
        match timeout(ctx.command_timeout(), acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                let mut r = BufReader::new(tls);
                session(&mut r, peer, ctx, true).await;
            }
            _ => tracing::info!(%peer, "inbound TLS handshake failed"),
        }
    }
}

impl Ctx {
    fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.command_timeout_seconds.max(1))
    }

    fn ehlo(&self, tls: bool) -> String {
        let mut lines = vec![
            self.cfg.hostname().to_string(),
            "PIPELINING".into(),
            format!("SIZE {}", self.cfg.max_message_bytes),
            "8BITMIME".into(),
        ];
        if self.tls.is_some() && !tls {
            lines.push("STARTTLS".into());
        }
        let n = lines.len();
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i + 1 == n { ' ' } else { '-' }))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// What a `RCPT TO` address is, or the refusal.
    async fn recipient(&self, address: &str) -> Result<Recipient, &'static str> {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err("550 5.1.3 Bad recipient address syntax");
        };
        if !domain.eq_ignore_ascii_case(&self.cfg.domain) {
            return Err(
                "550 5.7.1 Relaying denied: only official addresses of this domain are served",
            );
        }
        if local
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("SRS0="))
        {
            let days = chrono::Utc::now().timestamp().div_euclid(86_400);
            return match &self.srs_secret {
                Some(secret) if sign::srs_reverse(secret, local, days).is_some() => {
                    Ok(Recipient::Bounce(address.to_string()))
                }
                _ => Err("550 5.1.1 No such mailbox (invalid or expired SRS address)"),
            };
        }
        // Eight digits: a company's address (a PSN has ten).
        if local.len() == 8
            && let Ok(tin) = Tin::parse(local)
        {
            return self.company(tin).await;
        }
        let Ok(psn) = Psn::parse(local) else {
            return Err("550 5.1.1 No such mailbox: not a valid PSN");
        };
        match self.store.mailbox_exists(psn).await {
            Ok(true) => Ok(Recipient::Person(psn)),
            Ok(false) => Err("550 5.1.1 No such mailbox"),
            Err(e) => {
                tracing::error!(error = %e, "mailbox lookup failed");
                Err("451 4.3.0 Temporary failure, try again later")
            }
        }
    }
}

impl Ctx {
    /// `<TIN>@domain`: accepted when the legal-entity registry knows the company; 550 when it does not
    /// (or none is configured), 451 while it does not answer (the sender tries again later).
    async fn company(&self, tin: Tin) -> Result<Recipient, &'static str> {
        let Some(registries) = self
            .companies
            .as_ref()
            .filter(|r| r.is_configured(RegistryKind::LegalEntities))
        else {
            return Err("550 5.1.1 No such mailbox: company addresses are not served");
        };
        match registries.company(tin).await {
            Ok(Some(_)) => Ok(Recipient::Company(tin)),
            Ok(None) => Err("550 5.1.1 No such mailbox: no company with this TIN"),
            Err(e) => {
                tracing::warn!(error = %e, "legal-entity registry lookup failed");
                Err("451 4.4.3 The legal-entity registry is unavailable, try again later")
            }
        }
    }
}

/// The address in `<…>` of a MAIL/RCPT line, parsed by smtp-proto.
fn request(line: &[u8]) -> Result<smtp_proto::Request<String>, smtp_proto::Error> {
    smtp_proto::Request::parse(&mut line.iter()).map(|r| r.into_owned())
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
    peer: SocketAddr,
    ctx: &Ctx,
    tls: bool,
) -> Next {
    use smtp_proto::Request;
    let mut env = Envelope::default();
    let mut errors = 0u32;
    macro_rules! say {
        ($text:expr) => {
            if reply(r.get_mut(), $text).await.is_err() {
                return Next::Close;
            }
        };
    }
    loop {
        if errors >= MAX_ERRORS {
            say!("421 4.7.0 Too many errors, closing connection");
            return Next::Close;
        }
        let line = match timeout(ctx.command_timeout(), read_line(r, MAX_COMMAND_LINE)).await {
            Err(_) => {
                say!("421 4.4.2 Timeout waiting for a command, closing connection");
                return Next::Close;
            }
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Next::Close,
            Ok(Ok(Line::TooLong)) => {
                errors += 1;
                say!("500 5.5.2 Line too long");
                continue;
            }
            Ok(Ok(Line::Ok(l))) => l,
        };
        let req = match request(&line) {
            Ok(req) => req,
            Err(smtp_proto::Error::UnknownCommand) => {
                errors += 1;
                say!("500 5.5.1 Command not recognized");
                continue;
            }
            Err(smtp_proto::Error::UnsupportedParameter { .. }) => {
                errors += 1;
                say!("555 5.5.4 Parameter not supported");
                continue;
            }
            Err(_) => {
                errors += 1;
                say!("501 5.5.2 Syntax error");
                continue;
            }
        };
        match req {
            Request::Ehlo { host } => {
                env = Envelope {
                    helo: Some(host),
                    ..Envelope::default()
                };
                say!(&ctx.ehlo(tls));
            }
            Request::Helo { host } => {
                env = Envelope {
                    helo: Some(host),
                    ..Envelope::default()
                };
                say!(&format!("250 {}", ctx.cfg.hostname()));
            }
            Request::StartTls => {
                if tls || ctx.tls.is_none() {
                    errors += 1;
                    say!("502 5.5.1 STARTTLS not available");
                } else if env.mail_from.is_some() {
                    errors += 1;
                    say!("503 5.5.1 STARTTLS not allowed inside a transaction");
                } else {
                    say!("220 2.0.0 Ready to start TLS");
                    return Next::StartTls;
                }
            }
            Request::Mail { from } => {
                if env.helo.is_none() {
                    errors += 1;
                    say!("503 5.5.1 Send EHLO or HELO first");
                } else if env.mail_from.is_some() {
                    errors += 1;
                    say!("503 5.5.1 Sender already given");
                } else if ctx.cfg.require_tls && !tls && ctx.tls.is_some() {
                    say!("530 5.7.0 Must issue a STARTTLS command first");
                } else if from.size > ctx.cfg.max_message_bytes {
                    say!("552 5.3.4 Message size exceeds fixed maximum message size");
                } else {
                    env.mail_from = Some(from.address);
                    say!("250 2.1.0 Sender OK");
                }
            }
            Request::Rcpt { to } => {
                if env.mail_from.is_none() {
                    errors += 1;
                    say!("503 5.5.1 Need MAIL before RCPT");
                } else if env.rcpts.len() >= ctx.cfg.max_recipients {
                    say!("452 4.5.3 Too many recipients");
                } else {
                    match ctx.recipient(&to.address).await {
                        Ok(rcpt) => {
                            if !env.rcpts.contains(&rcpt) {
                                env.rcpts.push(rcpt);
                            }
                            say!("250 2.1.5 Recipient OK");
                        }
                        Err(refusal) => {
                            errors += 1;
                            tracing::info!(%peer, "inbound recipient refused");
                            say!(refusal);
                        }
                    }
                }
            }
            Request::Data => {
                if env.mail_from.is_none() || env.rcpts.is_empty() {
                    errors += 1;
                    say!("503 5.5.1 Need MAIL and RCPT before DATA");
                    continue;
                }
                say!("354 Start mail input; end with <CRLF>.<CRLF>");
                let deadline =
                    Instant::now() + Duration::from_secs(ctx.cfg.data_timeout_seconds.max(1));
                let body = match read_data(r, ctx.cfg.max_message_bytes, deadline).await {
                    Data::Closed => return Next::Close,
                    Data::Timeout => {
                        say!("421 4.4.2 Timeout during DATA, closing connection");
                        return Next::Close;
                    }
                    Data::TooBig => {
                        say!("552 5.3.4 Message size exceeds fixed maximum message size");
                        env.mail_from = None;
                        env.rcpts.clear();
                        continue;
                    }
                    Data::Ok(body) => body,
                };
                let answer = deliver(ctx, peer, &env, body, tls).await;
                env.mail_from = None;
                env.rcpts.clear();
                say!(&answer);
            }
            Request::Rset => {
                env.mail_from = None;
                env.rcpts.clear();
                say!("250 2.0.0 OK");
            }
            Request::Noop { .. } => say!("250 2.0.0 OK"),
            Request::Vrfy { .. } | Request::Expn { .. } => {
                say!("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery")
            }
            Request::Help { .. } => say!("214 2.0.0 See RFC 5321"),
            Request::Quit => {
                say!("221 2.0.0 Bye");
                return Next::Close;
            }
            _ => {
                errors += 1;
                say!("502 5.5.1 Command not implemented");
            }
        }
    }
}

enum Data {
    Ok(Vec<u8>),
    TooBig,
    Timeout,
    Closed,
}

/// Read the message up to the lone dot, undoing dot-stuffing. At most `max` bytes are kept; past that
/// the rest is read and dropped (memory stays bounded) and the answer is [`Data::TooBig`].
async fn read_data<S: AsyncRead + Unpin>(
    r: &mut BufReader<S>,
    max: usize,
    deadline: Instant,
) -> Data {
    let mut body = Vec::new();
    let mut too_big = false;
    loop {
        // A line longer than the whole allowance can only be refused; it is consumed, not kept.
        let line = match timeout_at(deadline, read_line(r, max.saturating_add(3))).await {
            Err(_) => return Data::Timeout,
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Data::Closed,
            Ok(Ok(Line::TooLong)) => {
                too_big = true;
                continue;
            }
            Ok(Ok(Line::Ok(l))) => l,
        };
        if line == b".\r\n" || line == b".\n" {
            return if too_big {
                Data::TooBig
            } else {
                Data::Ok(body)
            };
        }
        if too_big {
            continue;
        }
        let content = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            &line[..]
        };
        if body.len() + content.len() > max {
            too_big = true;
            body = Vec::new();
            continue;
        }
        body.extend_from_slice(content);
    }
}

/// Store (and forward) a received message, or process a bounce; the final answer to DATA.
/// The trace header the forward copy gets (RFC 5321 §4.4); its comment also marks a message that has
/// been forwarded by this domain already.
fn received(ctx: &Ctx, peer: SocketAddr, helo: &str, tls: bool) -> String {
    let helo: String = helo
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect();
    format!(
        "Received: from {helo} ([{}])\r\n\tby {} with {};\r\n\t{} {}\r\n",
        peer.ip(),
        ctx.cfg.hostname(),
        if tls { "ESMTPS" } else { "ESMTP" },
        chrono::Utc::now().to_rfc2822(),
        loop_mark(&ctx.cfg.domain),
    )
}

fn loop_mark(domain: &str) -> String {
    format!("(popreg official mail for {domain})")
}

/// More `Received:` headers than this: a mail loop (RFC 5321 §6.3), refused with 554.
const MAX_HOPS: usize = 50;

async fn deliver(ctx: &Ctx, peer: SocketAddr, env: &Envelope, raw: Vec<u8>, tls: bool) -> String {
    let head = &raw[..raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len())];
    let hops = head
        .split(|b| *b == b'\n')
        .filter(|l| l.len() >= 9 && l[..9].eq_ignore_ascii_case(b"received:"))
        .count();
    if hops > MAX_HOPS {
        return "554 5.4.6 Routing loop detected: too many Received headers".into();
    }
    let owners: Vec<Owner> = env
        .rcpts
        .iter()
        .filter_map(|r| match r {
            Recipient::Person(p) => Some(Owner::Person(*p)),
            Recipient::Company(t) => Some(Owner::Company(*t)),
            Recipient::Bounce(_) => None,
        })
        .collect();
    let mail_from = env.mail_from.clone().unwrap_or_default();
    for r in &env.rcpts {
        if let Recipient::Bounce(srs) = r {
            let failed = dsn_failed_recipients(&raw);
            match ctx
                .store
                .inbound_bounce(
                    srs,
                    &failed,
                    "the provider returned the forwarded mail (bounce)",
                )
                .await
            {
                Ok(n) => tracing::info!(%peer, marked = n, "bounce of a forward received"),
                Err(e) => {
                    tracing::error!(error = %e, "bounce not recorded");
                    return "451 4.3.0 Temporary failure, try again later".into();
                }
            }
        }
    }
    if owners.is_empty() {
        return "250 2.0.0 OK bounce processed".into();
    }
    let parsed = parse(&raw);
    // Mail that this domain forwarded already (a person's address forwarding back here) is stored but not
    // forwarded again: no loop.
    let looped = sign::memchr_ci(&raw, loop_mark(&ctx.cfg.domain).as_bytes());
    let forward = match (&ctx.signer, &ctx.srs_secret) {
        (Some(signer), Some(secret)) if !looped => {
            let days = chrono::Utc::now().timestamp().div_euclid(86_400);
            let srs = srs_forward(secret, &ctx.cfg.domain, &mail_from, days).unwrap_or_default();
            let mut traced =
                received(ctx, peer, env.helo.as_deref().unwrap_or_default(), tls).into_bytes();
            traced.extend_from_slice(&raw);
            Some((signer.forward_copy(&traced), srs))
        }
        _ => None,
    };
    let subject = if parsed.malformed || parsed.subject.trim().is_empty() {
        "—".to_string()
    } else {
        parsed.subject.clone()
    };
    let mail = NewInboundMail {
        recipients: owners,
        remote_addr: peer.ip().to_string(),
        helo: env.helo.clone().unwrap_or_default(),
        mail_from,
        malformed: parsed.malformed,
        from_header: if parsed.from.is_empty() {
            env.mail_from.clone().unwrap_or_default()
        } else {
            parsed.from.clone()
        },
        subject,
        text: parsed.text,
        attachments: parsed.attachments,
        forward,
        raw,
    };
    let size = mail.raw.len();
    match ctx.store.store_inbound_mail(mail).await {
        Ok(stored) => {
            metrics::counter!("popreg_inbound_mail_total").increment(1);
            tracing::info!(%peer, mail_id = %stored.mail_id, recipients = stored.message_ids.len(),
                forwards = stored.forwards, size, "official mail stored");
            format!("250 2.0.0 OK queued as {}", stored.mail_id)
        }
        Err(e) => {
            tracing::error!(error = %e, "official mail not stored");
            "451 4.3.0 Message not stored, try again later".into()
        }
    }
}
