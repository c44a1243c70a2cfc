//! The connections to the SMTP relay: opened by us, kept in a pool, SMTP spoken on them by lettre.
//!
//! lettre's own transport opens its sockets with Nagle's algorithm on, and writes a message's data and the
//! closing `CRLF . CRLF` as two writes: the second waits for the relay to acknowledge the first, and the
//! relay, which answers only after the closing dot, delays that acknowledgement (40 ms on Linux). Every
//! e-mail waited that long (issue 7: 304/s with 16 in flight, measured in `docs/benchmarks.md`). Here the
//! TCP connection is ours, with `TCP_NODELAY`, and lettre's [`AsyncSmtpConnection`] runs on it: greeting,
//! EHLO, STARTTLS (lettre's rustls upgrade of our socket) or TLS from the first byte (our rustls client,
//! trusting the public roots and `notify.smtp.ca_file`), AUTH, then MAIL, RCPT, DATA per message.
//!
//! Idle connections are kept (at most as many as e-mails may be in flight) for a minute, and checked
//! with a NOOP before reuse, as lettre's pool did. A connection that broke, or whose send timed out, is
//! dropped, never reused.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use popreg_store::Failure;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::SendError;

/// How long an unused connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How the connection is secured (`notify.smtp.security`), with what it needs.
pub(crate) enum Secure {
    None,
    /// STARTTLS after the first EHLO, required.
    Starttls(TlsParameters),
    /// TLS from the first byte, to this name.
    Tls(tokio_rustls::TlsConnector, ServerName<'static>),
}

/// Where the relay is and how to talk to it.
pub(crate) struct RelaySettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) secure: Secure,
    pub(crate) hello: ClientId,
    pub(crate) credentials: Option<Credentials>,
    /// For each step: connecting (TCP, TLS, greeting, EHLO, AUTH), and each SMTP command.
    pub(crate) timeout: Duration,
    /// Idle connections kept at most (as many as e-mails may be in flight).
    pub(crate) max_idle: usize,
}

/// The relay and its idle connections.
pub(crate) struct Relay {
    settings: RelaySettings,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .finish_non_exhaustive()
    }
}

/// Why a delivery failed, classified: a 5xx answer is `Permanent`, a 4xx `Temporary`, no answer at all
/// (the relay cannot be reached, TLS failed, a timeout) `Technical` and the relay counts as down.
fn failure(reason: String, kind: Failure) -> (SendError, Failure) {
    (
        SendError {
            relay_down: kind == Failure::Technical,
            reason,
        },
        kind,
    )
}

fn classified(e: lettre::transport::smtp::Error) -> (SendError, Failure) {
    let kind = if e.is_permanent() {
        Failure::Permanent
    } else if e.is_transient() {
        Failure::Temporary
    } else {
        Failure::Technical
    };
    failure(e.to_string(), kind)
}

fn timed_out(what: &str) -> (SendError, Failure) {
    failure(format!("{what} timed out"), Failure::Technical)
}

impl Relay {
    pub(crate) fn new(settings: RelaySettings) -> Relay {
        Relay {
            settings,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Send one message on a pooled or new connection.
    pub(crate) async fn send(
        &self,
        envelope: &Envelope,
        email: &[u8],
    ) -> Result<(), (SendError, Failure)> {
        let mut conn = self.checkout().await?;
        // MAIL, one RCPT per recipient, DATA, the data: each step may take the timeout.
        let steps = 3 + u32::try_from(envelope.to().len()).unwrap_or(u32::MAX);
        let sent = tokio::time::timeout(
            self.settings.timeout.saturating_mul(steps),
            conn.send(envelope, email),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {
                self.checkin(conn);
                Ok(())
            }
            // lettre quits and closes the connection after any failed step: it is not pooled again.
            Ok(Err(e)) => Err(classified(e)),
            Err(_) => Err(timed_out("sending to the relay")),
        }
    }

    /// An idle connection that still answers, else a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, (SendError, Failure)> {
        loop {
            let next = self.lock().pop();
            let Some((mut conn, since)) = next else {
                return self.connect().await;
            };
            if since.elapsed() < IDLE_TIMEOUT
                && tokio::time::timeout(self.settings.timeout, conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                return Ok(conn);
            }
            // Too old, or gone: say goodbye if it still listens, and try the next.
            let _ = tokio::time::timeout(self.settings.timeout, conn.quit()).await;
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < self.settings.max_idle.max(1) {
            idle.push((conn, Instant::now()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        // A panic while holding the lock leaves only a list of connections: still usable.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// TCP (no Nagle), TLS when asked, the greeting and EHLO, STARTTLS when asked, AUTH when configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, (SendError, Failure)> {
        tokio::time::timeout(self.settings.timeout.saturating_mul(4), self.open())
            .await
            .map_err(|_| timed_out("connecting to the relay"))?
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, (SendError, Failure)> {
        let unreachable =
            |e: io::Error| failure(format!("connecting to the relay: {e}"), Failure::Technical);
        let tcp = TcpStream::connect((self.settings.host.as_str(), self.settings.port))
            .await
            .map_err(unreachable)?;
        tcp.set_nodelay(true).map_err(unreachable)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.settings.secure {
            Secure::Tls(connector, name) => {
                let peer = tcp.peer_addr().map_err(unreachable)?;
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| failure(format!("TLS with the relay: {e}"), Failure::Technical))?;
                Box::new(Smtps { tls, peer })
            }
            _ => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.settings.hello)
            .await
            .map_err(classified)?;
        if let Secure::Starttls(params) = &self.settings.secure {
            conn.starttls(params.clone(), &self.settings.hello)
                .await
                .map_err(classified)?;
        }
        if let Some(credentials) = &self.settings.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(classified)?;
        }
        Ok(conn)
    }
}

/// TLS from the first byte on our socket, as lettre takes a stream.
struct Smtps {
    tls: tokio_rustls::client::TlsStream<TcpStream>,
    peer: SocketAddr,
}

impl fmt::Debug for Smtps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtps").field("peer", &self.peer).finish()
    }
}

impl AsyncTokioStream for Smtps {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

impl AsyncRead for Smtps {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for Smtps {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}
