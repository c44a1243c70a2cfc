//! An SMPP 3.4 client (ESME) for an operator's SMSC: one `bind_transceiver` session over TCP or TLS, kept
//! alive with `enquire_link`, re-established with backoff after a drop, carrying `submit_sm` out and delivery
//! receipts (`deliver_sm`) in.
//!
//! **Why a codec of our own** rather than the `rusmpp`/`rusmppc` crates: the client needs eight PDUs, whose
//! layout fits in a few hundred lines ([`pdu`]); `rusmpp` is built around SMPP 5.0 with proc-macro generated
//! types, and `rusmppc` brings its own session layer and, by default, the aws-lc-rs TLS provider beside the
//! ring one the workspace uses. Owning the framing also keeps the size limit on PDUs from the network (and the
//! behaviour on a malformed one) in our hands.
//!
//! **Encoding on the wire.** `data_coding` 0 with the GSM 03.38 default alphabet **unpacked**, one septet per
//! octet (values 0–127, `0x1B` before an extension character), which is what SMSCs expect over SMPP (packing
//! into 7 bits is the SMSC's job on the air interface); `data_coding` 8 with UCS-2 (UTF-16BE). A long text is
//! sent as concatenated parts with the 6-octet UDH (IEI 0x00) and `esm_class` 0x40. Every part asks for a
//! delivery receipt (`registered_delivery` 1) and has its own SMSC message id.
//!
//! **Window.** Up to [`SmppSettings::window`] `submit_sm` are outstanding at once, each answer matched to
//! its part by `sequence_number` whatever the order the SMSC answers in; callers simply call
//! [`SmppClient::send`] concurrently (the SMS worker has a window's worth of messages in flight).
//!
//! **Session.** One task owns the connection. It answers the SMSC's `enquire_link` and `unbind`, acknowledges
//! every `deliver_sm` (passing receipts to the report channel; when that channel is full it answers
//! `ESME_RX_T_APPN` so the SMSC delivers the receipt again later), answers an unknown request with
//! `generic_nack`, sends its own `enquire_link` every interval and drops the connection when one stays
//! unanswered past the timeout. A `command_length` outside 16..=[`pdu::MAX_PDU`] ends the connection (the
//! stream cannot be resynchronised). After a drop it reconnects after 1 s, doubling up to the configured
//! maximum. On [`SmppClient::shutdown`] it sends `unbind` and waits for `unbind_resp`.
//!
//! **Failures.** A `submit_sm_resp` error is classified by [`pdu::classify`]: `ESME_RTHROTTLED`,
//! `ESME_RMSGQFUL` and the like are temporary, `ESME_RINVDSTADR` and the like permanent, credentials and
//! malformed-PDU errors technical. No answer within the timeout, a drop before the answer, or no session at
//! all is temporary. The password is never logged: it exists only in the `bind_transceiver` body.

pub mod pdu;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::pdu::{Address, DeliverSm, Failure, Pdu};
use crate::NotifyError;
use crate::config::{Secret, SmsConfig};
use crate::sms::{
    DeliveryReport, Msisdn, ProviderIds, RateLimiter, SmsError, SmsSender, check_text, concat_udh,
};

/// Receipts waiting for the consumer before the session answers `ESME_RX_T_APPN`.
const REPORT_QUEUE: usize = 1024;

/// Everything the session needs, with durations (tests shorten them).
#[derive(Clone, Debug)]
pub struct SmppSettings {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub ca_file: Option<std::path::PathBuf>,
    pub system_id: String,
    pub password: Secret,
    pub system_type: String,
    pub source: Address,
    pub max_per_second: u32,
    pub max_parts: usize,
    /// Connecting, binding, each answer.
    pub timeout: Duration,
    pub enquire_link: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// `submit_sm` outstanding at most (sent, not yet answered): the SMPP window, at least 1.
    pub window: usize,
}

impl SmppSettings {
    /// Read and check `[notify.sms]` and `[notify.sms.smpp]`.
    pub fn from_config(cfg: &SmsConfig) -> Result<SmppSettings, NotifyError> {
        let s = &cfg.smpp;
        let bad =
            |what: &str, why: &str| NotifyError::Config(format!("notify.sms.smpp.{what}: {why}"));
        if s.host.is_empty() {
            return Err(bad("host", "empty"));
        }
        if s.system_id.is_empty() || s.system_id.len() > 15 || !s.system_id.is_ascii() {
            return Err(bad("system_id", "1 to 15 ASCII characters"));
        }
        let password = s.password.clone().unwrap_or_else(|| Secret::new(""));
        if password.expose().len() > 8 || !password.expose().is_ascii() {
            // Never the value itself.
            return Err(bad("password", "at most 8 ASCII characters (SMPP 3.4)"));
        }
        if s.system_type.len() > 12 || !s.system_type.is_ascii() {
            return Err(bad("system_type", "at most 12 ASCII characters"));
        }
        Ok(SmppSettings {
            host: s.host.clone(),
            port: s.port,
            tls: s.tls,
            ca_file: s.ca_file.clone(),
            system_id: s.system_id.clone(),
            password,
            system_type: s.system_type.clone(),
            source: source_address(&cfg.source_addr)
                .map_err(|why| NotifyError::Config(format!("notify.sms.source_addr: {why}")))?,
            max_per_second: cfg.max_per_second,
            max_parts: cfg.max_parts,
            timeout: cfg.timeout(),
            enquire_link: Duration::from_secs(s.enquire_link_seconds.max(1)),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(s.reconnect_max_seconds.max(1)),
            window: cfg.in_flight(),
        })
    }

    fn smsc(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The sender's TON/NPI from its form: `+` and digits an international number (1/1), digits alone a short
/// code or national number (TON unknown, ISDN plan), anything else an alphanumeric name (5/0, at most 11
/// GSM characters).
pub fn source_address(s: &str) -> Result<Address, String> {
    let s = s.trim();
    if let Some(d) = s.strip_prefix('+') {
        if d.is_empty() || d.len() > 20 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err("an international number is + and up to 20 digits".into());
        }
        return Ok(Address {
            ton: 1,
            npi: 1,
            addr: d.into(),
        });
    }
    if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Address {
            ton: 0,
            npi: 1,
            addr: s.into(),
        });
    }
    if s.is_empty()
        || s.chars().count() > 11
        || !s.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        return Err("an alphanumeric sender is 1 to 11 ASCII characters".into());
    }
    Ok(Address {
        ton: 5,
        npi: 0,
        addr: s.into(),
    })
}

/// One part to submit, and where its answer goes.
struct Submit {
    body: Vec<u8>,
    reply: oneshot::Sender<Result<String, SmsError>>,
    /// After this the caller has given up: the part is not sent any more.
    deadline: Instant,
}

/// The handle on the SMPP session. Cheap to share behind an `Arc`; dropping the last handle ends the
/// session (after `unbind`).
pub struct SmppClient {
    cmds: mpsc::Sender<Submit>,
    bound: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
    limiter: RateLimiter,
    concat_ref: AtomicU8,
    source: Address,
    max_parts: usize,
    timeout: Duration,
    smsc: String,
}

impl fmt::Debug for SmppClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmppClient")
            .field("smsc", &self.smsc)
            .field("bound", &*self.bound.borrow())
            .finish_non_exhaustive()
    }
}

impl SmppClient {
    /// Start the session for `[notify.sms]`. Nothing has to be reachable yet: the session connects in the
    /// background and keeps trying. Receipts arrive on the returned receiver.
    pub fn start(
        cfg: &SmsConfig,
    ) -> Result<(SmppClient, mpsc::Receiver<DeliveryReport>), NotifyError> {
        SmppClient::start_with(SmppSettings::from_config(cfg)?)
    }

    pub fn start_with(
        settings: SmppSettings,
    ) -> Result<(SmppClient, mpsc::Receiver<DeliveryReport>), NotifyError> {
        let tls = if settings.tls {
            Some(tls_connector(settings.ca_file.as_deref())?)
        } else {
            None
        };
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (report_tx, report_rx) = mpsc::channel(REPORT_QUEUE);
        let (bound_tx, bound_rx) = watch::channel(false);
        let (stop_tx, stop_rx) = watch::channel(false);
        let client = SmppClient {
            cmds: cmd_tx,
            bound: bound_rx,
            stop: stop_tx,
            task: std::sync::Mutex::new(None),
            limiter: RateLimiter::per_second(settings.max_per_second),
            concat_ref: AtomicU8::new(rand_u8()),
            source: settings.source.clone(),
            max_parts: settings.max_parts,
            timeout: settings.timeout,
            smsc: settings.smsc(),
        };
        let session = Session {
            settings,
            tls,
            cmds: cmd_rx,
            reports: report_tx,
            bound: bound_tx,
            stop: stop_rx,
        };
        let task = tokio::spawn(session.run());
        if let Ok(mut t) = client.task.lock() {
            *t = Some(task);
        }
        Ok((client, report_rx))
    }

    /// Whether a session is bound now.
    pub fn is_bound(&self) -> bool {
        *self.bound.borrow()
    }

    /// Wait until a session is bound, at most `within`.
    pub async fn wait_bound(&self, within: Duration) -> bool {
        let mut rx = self.bound.clone();
        tokio::time::timeout(within, rx.wait_for(|b| *b))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Unbind cleanly and end the session (waits for the SMSC's `unbind_resp`, at most the timeout).
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(self.timeout * 2, task).await;
        }
    }

    /// `host:port` of the SMSC, for logs.
    pub fn smsc(&self) -> &str {
        &self.smsc
    }

    async fn submit(&self, body: Vec<u8>) -> Result<String, SmsError> {
        let (reply, answer) = oneshot::channel();
        let deadline = Instant::now() + self.timeout;
        let queued = tokio::time::timeout_at(
            deadline,
            self.cmds.send(Submit {
                body,
                reply,
                deadline,
            }),
        )
        .await;
        match queued {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(SmsError::Technical("the SMPP session has ended".into())),
            Err(_) => {
                return Err(SmsError::Temporary(format!(
                    "the SMPP session at {} is busy",
                    self.smsc
                )));
            }
        }
        // The session answers every queued part (at the latest when the SMSC's answer times out); the extra
        // second covers the hand-over.
        match tokio::time::timeout_at(deadline + Duration::from_secs(1), answer).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(SmsError::Temporary(
                "the SMPP session ended before the SMSC answered".into(),
            )),
            Err(_) => Err(SmsError::Temporary(format!(
                "no answer from the SMSC at {} within {:?}",
                self.smsc, self.timeout
            ))),
        }
    }
}

impl Drop for SmppClient {
    fn drop(&mut self) {
        // The session unbinds and ends by itself when its command channel closes.
        self.stop.send_replace(true);
    }
}

impl SmsSender for SmppClient {
    async fn send(
        &self,
        to: &Msisdn,
        text: &str,
        reference: &str,
    ) -> Result<ProviderIds, SmsError> {
        let enc = check_text(text, self.max_parts)?;
        let dest = Address {
            ton: 1,
            npi: 1,
            addr: to.digits().to_string(),
        };
        let total = enc.parts.len();
        let concat_ref = self.concat_ref.fetch_add(1, Ordering::Relaxed);
        let mut ids = Vec::with_capacity(total);
        for (i, part) in enc.parts.iter().enumerate() {
            let (esm_class, short_message) = if total > 1 {
                // check_text keeps `total` within 255.
                let mut sm = concat_udh(concat_ref, total as u8, (i + 1) as u8).to_vec();
                sm.extend(part);
                (pdu::ESM_UDHI, sm)
            } else {
                (0, part.clone())
            };
            let body = pdu::SubmitSm {
                source: &self.source,
                dest: &dest,
                esm_class,
                registered_delivery: pdu::REGISTERED_DELIVERY_RECEIPT,
                data_coding: enc.encoding.data_coding(),
                short_message: &short_message,
            }
            .body();
            self.limiter.wait().await;
            match self.submit(body).await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    tracing::warn!(
                        reference, to = %to.masked(), part = i + 1, parts = total, smsc = %self.smsc,
                        error = %e, "SMS not accepted by the SMSC"
                    );
                    return Err(if i == 0 {
                        e
                    } else {
                        annotate(e, &format!("after {i} of {total} parts were accepted"))
                    });
                }
            }
        }
        tracing::info!(
            reference, to = %to.masked(), parts = total, encoding = ?enc.encoding, ids = ?ids,
            smsc = %self.smsc, "SMS accepted by the SMSC"
        );
        Ok(ProviderIds(ids))
    }
}

fn annotate(e: SmsError, note: &str) -> SmsError {
    match e {
        SmsError::Temporary(s) => SmsError::Temporary(format!("{s} ({note})")),
        SmsError::Permanent(s) => SmsError::Permanent(format!("{s} ({note})")),
        SmsError::Technical(s) => SmsError::Technical(format!("{s} ({note})")),
    }
}

/// The error a refusing command status means.
fn refused(status: u32, what: &str) -> SmsError {
    let reason = format!("{what}: {} ({status:#x})", pdu::status_name(status));
    match pdu::classify(status) {
        Failure::Temporary => SmsError::Temporary(reason),
        Failure::Permanent => SmsError::Permanent(reason),
        Failure::Technical => SmsError::Technical(reason),
    }
}

/// A starting value for the concatenation reference, so that a restart does not reuse the last one at once.
fn rand_u8() -> u8 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ (nanos >> 8) ^ (nanos >> 16)) as u8
}

/// A TLS client trusting the public roots and, when given, the certificates of `ca_file` (the setting
/// `setting` names it, for the error).
pub(crate) fn tls_connector_for(
    setting: &str,
    ca_file: Option<&Path>,
) -> Result<tokio_rustls::TlsConnector, NotifyError> {
    let bad = |e: &dyn fmt::Display| NotifyError::Config(format!("{setting}: TLS: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut n = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            n += 1;
        }
        if n == 0 {
            return Err(bad(&format!("no certificate in {}", path.display())));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(&e))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

fn tls_connector(ca_file: Option<&Path>) -> Result<tokio_rustls::TlsConnector, NotifyError> {
    tls_connector_for("notify.sms.smpp", ca_file)
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connection: framed reads (cancel-safe: bytes read stay in the buffer) and whole-PDU writes.
struct Conn {
    rd: ReadHalf<Box<dyn Io>>,
    wr: WriteHalf<Box<dyn Io>>,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Conn {
    async fn next(&mut self) -> Result<Pdu, String> {
        loop {
            if let Some(p) = pdu::take(&mut self.buf).map_err(|e| e.to_string())? {
                return Ok(p);
            }
            self.buf.reserve(4096);
            match self.rd.read_buf(&mut self.buf).await {
                Ok(0) => return Err("the SMSC closed the connection".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    async fn write(&mut self, p: &Pdu) -> Result<(), String> {
        let bytes = p.encode();
        tokio::time::timeout(self.timeout, async {
            self.wr.write_all(&bytes).await?;
            self.wr.flush().await
        })
        .await
        .map_err(|_| "write timed out".to_string())?
        .map_err(|e| format!("write: {e}"))
    }
}

/// Sequence numbers 1..=0x7FFF_FFFF, wrapping.
struct Seq(u32);

impl Seq {
    fn next(&mut self) -> u32 {
        self.0 = if self.0 >= 0x7FFF_FFFF { 1 } else { self.0 + 1 };
        self.0
    }
}

/// Parts sent and waiting for their `submit_sm_resp`: the caller's answer slot and its deadline, by sequence
/// number.
type Pending = HashMap<u32, (oneshot::Sender<Result<String, SmsError>>, Instant)>;

/// Why a bound session ended.
enum End {
    Stopped,
    Dropped(String),
}

struct Session {
    settings: SmppSettings,
    tls: Option<tokio_rustls::TlsConnector>,
    cmds: mpsc::Receiver<Submit>,
    reports: mpsc::Sender<DeliveryReport>,
    bound: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
}

impl Session {
    async fn run(mut self) {
        let smsc = self.settings.smsc();
        let mut wait = self.settings.reconnect_min;
        loop {
            if *self.stop.borrow() {
                break;
            }
            match self.connect().await {
                Ok((conn, seq)) => {
                    tracing::info!(%smsc, system_id = %self.settings.system_id, "SMPP session bound");
                    self.bound.send_replace(true);
                    wait = self.settings.reconnect_min;
                    let end = self.bound_loop(conn, seq).await;
                    self.bound.send_replace(false);
                    match end {
                        End::Stopped => {
                            tracing::info!(%smsc, "SMPP session unbound");
                            break;
                        }
                        End::Dropped(why) => {
                            tracing::warn!(%smsc, reason = %why, "SMPP session lost; reconnecting")
                        }
                    }
                }
                Err(why) => {
                    tracing::warn!(%smsc, reason = %why, retry_in = ?wait, "SMPP bind failed")
                }
            }
            // Until the next attempt, parts are refused at once rather than left to time out.
            let until = Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    _ = self.stop.changed() => break,
                    cmd = self.cmds.recv() => match cmd {
                        Some(c) => {
                            let _ = c.reply.send(Err(SmsError::Temporary(format!(
                                "not connected to the SMSC at {smsc}"
                            ))));
                        }
                        None => return,
                    },
                }
            }
            wait = (wait * 2).min(self.settings.reconnect_max);
        }
        // Answer whatever is still queued.
        self.cmds.close();
        while let Ok(c) = self.cmds.try_recv() {
            let _ = c.reply.send(Err(SmsError::Temporary(
                "the SMPP client is stopping".into(),
            )));
        }
    }

    /// Connect (TCP, TLS) and bind as a transceiver.
    async fn connect(&mut self) -> Result<(Conn, Seq), String> {
        let s = &self.settings;
        let tcp = tokio::time::timeout(s.timeout, TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .map_err(|_| format!("connect timed out after {:?}", s.timeout))?
            .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = match &self.tls {
            Some(tls) => {
                let name = rustls_pki_types::ServerName::try_from(s.host.clone())
                    .map_err(|e| format!("TLS server name: {e}"))?;
                Box::new(
                    tokio::time::timeout(s.timeout, tls.connect(name, tcp))
                        .await
                        .map_err(|_| "TLS handshake timed out".to_string())?
                        .map_err(|e| format!("TLS: {e}"))?,
                )
            }
            None => Box::new(tcp),
        };
        let (rd, wr) = tokio::io::split(stream);
        let mut conn = Conn {
            rd,
            wr,
            buf: Vec::new(),
            timeout: s.timeout,
        };
        let mut seq = Seq(0);
        let bind_seq = seq.next();
        let body = pdu::bind_transceiver(&s.system_id, s.password.expose(), &s.system_type);
        conn.write(&Pdu::new(pdu::BIND_TRANSCEIVER, bind_seq, body))
            .await?;
        let deadline = Instant::now() + s.timeout;
        loop {
            let p = tokio::time::timeout_at(deadline, conn.next())
                .await
                .map_err(|_| "no bind_transceiver_resp in time".to_string())??;
            match p.command_id {
                pdu::BIND_TRANSCEIVER_RESP | pdu::GENERIC_NACK if p.seq == bind_seq => {
                    if p.status != 0 {
                        return Err(format!(
                            "bind refused: {} ({:#x})",
                            pdu::status_name(p.status),
                            p.status
                        ));
                    }
                    return Ok((conn, seq));
                }
                pdu::ENQUIRE_LINK => {
                    conn.write(&Pdu::new(pdu::ENQUIRE_LINK_RESP, p.seq, vec![]))
                        .await?
                }
                _ if !p.is_response() => {
                    // SMPP 3.4: a request before the bind is answered with ESME_RINVBNDSTS.
                    conn.write(&Pdu::response(
                        p.command_id | pdu::GENERIC_NACK,
                        0x04,
                        p.seq,
                        vec![],
                    ))
                    .await?
                }
                _ => {}
            }
        }
    }

    async fn bound_loop(&mut self, mut conn: Conn, mut seq: Seq) -> End {
        let timeout = self.settings.timeout;
        let window = self.settings.window.max(1);
        let mut pending = Pending::new();
        let mut link = tokio::time::interval_at(
            Instant::now() + self.settings.enquire_link,
            self.settings.enquire_link,
        );
        link.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let check_every = (timeout / 4).max(Duration::from_millis(50));
        let mut check = tokio::time::interval(check_every);
        let mut link_sent: Option<(u32, Instant)> = None;
        let end = loop {
            tokio::select! {
                _ = self.stop.changed() => break self.unbind(&mut conn, &mut seq).await,
                p = conn.next() => match p {
                    Ok(p) => {
                        if let Err(why) = self.incoming(&mut conn, p, &mut pending, &mut link_sent).await {
                            break End::Dropped(why);
                        }
                    }
                    Err(why) => {
                        if why.contains("command_length") {
                            // Best effort: tell the SMSC why before closing.
                            let nack = Pdu::response(pdu::GENERIC_NACK, pdu::status::ESME_RINVCMDLEN, 0, vec![]);
                            let _ = conn.write(&nack).await;
                        }
                        break End::Dropped(why);
                    }
                },
                // The window: no further submit_sm while `window` wait for their answer (the parts queue
                // in the command channel meanwhile).
                cmd = self.cmds.recv(), if pending.len() < window => match cmd {
                    Some(c) => {
                        if c.reply.is_closed() || Instant::now() >= c.deadline {
                            continue;
                        }
                        let s = seq.next();
                        if let Err(why) = conn.write(&Pdu::new(pdu::SUBMIT_SM, s, c.body)).await {
                            let _ = c.reply.send(Err(SmsError::Temporary(why.clone())));
                            break End::Dropped(why);
                        }
                        pending.insert(s, (c.reply, c.deadline));
                    }
                    // Every handle is gone.
                    None => break self.unbind(&mut conn, &mut seq).await,
                },
                _ = link.tick() => {
                    if link_sent.is_none() {
                        let s = seq.next();
                        if let Err(why) = conn.write(&Pdu::new(pdu::ENQUIRE_LINK, s, vec![])).await {
                            break End::Dropped(why);
                        }
                        link_sent = Some((s, Instant::now()));
                    }
                }
                _ = check.tick() => {
                    let now = Instant::now();
                    if link_sent.is_some_and(|(_, at)| now.duration_since(at) > timeout) {
                        break End::Dropped(format!("enquire_link unanswered for {timeout:?}"));
                    }
                    let late: Vec<u32> = pending
                        .iter()
                        .filter(|(_, (_, deadline))| *deadline <= now)
                        .map(|(s, _)| *s)
                        .collect();
                    for s in late {
                        if let Some((reply, _)) = pending.remove(&s) {
                            let _ = reply.send(Err(SmsError::Temporary(format!(
                                "no submit_sm_resp within {timeout:?}"
                            ))));
                        }
                    }
                }
            }
        };
        for (_, (reply, _)) in pending.drain() {
            let _ = reply.send(Err(SmsError::Temporary(
                "the connection to the SMSC was lost before its answer".into(),
            )));
        }
        end
    }

    /// One PDU from the SMSC. `Err` ends the connection.
    async fn incoming(
        &mut self,
        conn: &mut Conn,
        p: Pdu,
        pending: &mut Pending,
        link_sent: &mut Option<(u32, Instant)>,
    ) -> Result<(), String> {
        match p.command_id {
            pdu::SUBMIT_SM_RESP => {
                if let Some((reply, _)) = pending.remove(&p.seq) {
                    let r = if p.status == 0 {
                        pdu::submit_sm_resp_id(&p.body)
                            .map_err(|e| SmsError::Technical(e.to_string()))
                    } else {
                        Err(refused(p.status, "the SMSC refused the message"))
                    };
                    let _ = reply.send(r);
                }
            }
            pdu::GENERIC_NACK => {
                if let Some((reply, _)) = pending.remove(&p.seq) {
                    let _ = reply.send(Err(refused(p.status, "generic_nack from the SMSC")));
                } else if link_sent.is_some_and(|(s, _)| s == p.seq) {
                    *link_sent = None;
                } else {
                    tracing::warn!(
                        seq = p.seq,
                        status = pdu::status_name(p.status),
                        "generic_nack from the SMSC"
                    );
                }
            }
            pdu::DELIVER_SM => {
                let status = self.deliver_sm(&p.body);
                conn.write(&Pdu::response(
                    pdu::DELIVER_SM_RESP,
                    status,
                    p.seq,
                    pdu::deliver_sm_resp_body(),
                ))
                .await?;
            }
            pdu::ENQUIRE_LINK => {
                conn.write(&Pdu::new(pdu::ENQUIRE_LINK_RESP, p.seq, vec![]))
                    .await?
            }
            pdu::ENQUIRE_LINK_RESP if link_sent.is_some_and(|(s, _)| s == p.seq) => {
                *link_sent = None;
            }
            pdu::UNBIND => {
                let _ = conn.write(&Pdu::new(pdu::UNBIND_RESP, p.seq, vec![])).await;
                return Err("the SMSC unbound".into());
            }
            id if !p.is_response() => {
                tracing::warn!(
                    command_id = format_args!("{id:#010x}"),
                    "unsupported request from the SMSC"
                );
                conn.write(&Pdu::response(
                    pdu::GENERIC_NACK,
                    pdu::status::ESME_RINVCMDID,
                    p.seq,
                    vec![],
                ))
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Hand a receipt on; the command status of the `deliver_sm_resp`.
    fn deliver_sm(&self, body: &[u8]) -> u32 {
        let d = match DeliverSm::parse(body) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "malformed deliver_sm from the SMSC");
                return pdu::status::ESME_RX_P_APPN;
            }
        };
        let Some(report) = d.receipt() else {
            if d.is_receipt() {
                tracing::warn!(
                    "a delivery receipt without message id or state; acknowledged and ignored"
                );
            } else {
                tracing::info!(
                    "a mobile-originated SMS; the register does not take any, acknowledged and ignored"
                );
            }
            return pdu::status::ESME_ROK;
        };
        tracing::debug!(id = %report.provider_id, status = ?report.status, "SMS delivery receipt");
        match self.reports.try_send(report) {
            Ok(()) => pdu::status::ESME_ROK,
            Err(mpsc::error::TrySendError::Full(_)) => pdu::status::ESME_RX_T_APPN,
            Err(mpsc::error::TrySendError::Closed(_)) => pdu::status::ESME_ROK,
        }
    }

    /// `unbind`, then wait for `unbind_resp` (answering what else comes) at most the timeout.
    async fn unbind(&mut self, conn: &mut Conn, seq: &mut Seq) -> End {
        let s = seq.next();
        if conn.write(&Pdu::new(pdu::UNBIND, s, vec![])).await.is_err() {
            return End::Stopped;
        }
        let deadline = Instant::now() + self.settings.timeout;
        while let Ok(Ok(p)) = tokio::time::timeout_at(deadline, conn.next()).await {
            match p.command_id {
                pdu::UNBIND_RESP if p.seq == s => break,
                pdu::DELIVER_SM => {
                    // Not taken now: the SMSC keeps it for the next session.
                    let _ = conn
                        .write(&Pdu::response(
                            pdu::DELIVER_SM_RESP,
                            pdu::status::ESME_RX_T_APPN,
                            p.seq,
                            pdu::deliver_sm_resp_body(),
                        ))
                        .await;
                }
                pdu::ENQUIRE_LINK => {
                    let _ = conn
                        .write(&Pdu::new(pdu::ENQUIRE_LINK_RESP, p.seq, vec![]))
                        .await;
                }
                _ => {}
            }
        }
        let _ = conn.wr.shutdown().await;
        End::Stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmppConfig;

    #[test]
    fn g_7_sender_addresses() {
        assert_eq!(
            source_address("e-Citizen"),
            Ok(Address {
                ton: 5,
                npi: 0,
                addr: "e-Citizen".into()
            })
        );
        assert_eq!(
            source_address("+37410000000"),
            Ok(Address {
                ton: 1,
                npi: 1,
                addr: "37410000000".into()
            })
        );
        assert_eq!(source_address("1234").map(|a| (a.ton, a.npi)), Ok((0, 1)));
        assert!(source_address("").is_err());
        assert!(source_address("Population-Register").is_err());
        assert!(source_address("Ռեգիստր").is_err());
        assert!(source_address("+").is_err());
    }

    #[test]
    fn g_7_settings_are_checked_and_the_password_stays_hidden() {
        let mut cfg = SmsConfig {
            smpp: SmppConfig {
                system_id: "popreg".into(),
                password: Some(Secret::new("hunter2")),
                ..SmppConfig::default()
            },
            ..SmsConfig::default()
        };
        let s = SmppSettings::from_config(&cfg).unwrap();
        assert_eq!(s.password.expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        cfg.smpp.password = Some(Secret::new("much-too-long"));
        let e = SmppSettings::from_config(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("password") && !e.contains("much-too-long"),
            "{e}"
        );
        cfg.smpp.password = None;
        cfg.smpp.system_id = String::new();
        assert!(SmppSettings::from_config(&cfg).is_err());
        cfg.smpp.system_id = "popreg".into();
        cfg.source_addr = "Far too long a name".into();
        assert!(SmppSettings::from_config(&cfg).is_err());
    }

    #[test]
    fn g_7_a_missing_ca_file_is_a_configuration_error() {
        assert!(tls_connector(None).is_ok());
        assert!(matches!(
            tls_connector(Some(Path::new("/nonexistent/smsc-ca.pem"))),
            Err(NotifyError::Config(_))
        ));
    }

    #[test]
    fn g_7_sequence_numbers_wrap_below_the_response_bit() {
        let mut s = Seq(0x7FFF_FFFE);
        assert_eq!(s.next(), 0x7FFF_FFFF);
        assert_eq!(s.next(), 1);
    }
}

/// The session's protocol duties against a scripted peer on a loopback socket, for what the test SMSC of the
/// integration tests (tests/smpp.rs) does not do on demand: an SMSC-initiated `enquire_link`, an unknown
/// request, `generic_nack` answers, a hostile `command_length`, an unanswered `enquire_link`.
#[cfg(test)]
mod session_tests {
    use super::*;
    use crate::sms::DeliveryStatus;
    use tokio::net::TcpListener;

    struct Peer {
        s: Box<dyn Io>,
        buf: Vec<u8>,
        answer_links: bool,
    }

    impl Peer {
        async fn accept(l: &TcpListener) -> Peer {
            Peer::accept_with(l, None).await
        }

        /// Accept a connection (over TLS with `tls`) and answer its bind.
        async fn accept_with(l: &TcpListener, tls: Option<&tokio_rustls::TlsAcceptor>) -> Peer {
            let (s, _) = tokio::time::timeout(Duration::from_secs(10), l.accept())
                .await
                .expect("the client connects")
                .unwrap();
            let s: Box<dyn Io> = match tls {
                Some(a) => Box::new(a.accept(s).await.expect("TLS handshake")),
                None => Box::new(s),
            };
            let mut p = Peer {
                s,
                buf: Vec::new(),
                answer_links: true,
            };
            let bind = p.next().await;
            assert_eq!(bind.command_id, pdu::BIND_TRANSCEIVER);
            assert!(bind.body.starts_with(b"popreg\0hunter2\0"));
            p.send(Pdu::new(
                pdu::BIND_TRANSCEIVER_RESP,
                bind.seq,
                b"SMSC\0".to_vec(),
            ))
            .await;
            p
        }

        async fn send(&mut self, p: Pdu) {
            self.s.write_all(&p.encode()).await.unwrap();
            self.s.flush().await.unwrap();
        }

        /// The next PDU from the client (its enquire_links answered on the way, unless told not to).
        async fn next(&mut self) -> Pdu {
            loop {
                if let Some(p) = pdu::take(&mut self.buf).unwrap() {
                    if p.command_id == pdu::ENQUIRE_LINK && self.answer_links {
                        self.send(Pdu::new(pdu::ENQUIRE_LINK_RESP, p.seq, vec![]))
                            .await;
                        continue;
                    }
                    return p;
                }
                let n =
                    tokio::time::timeout(Duration::from_secs(10), self.s.read_buf(&mut self.buf))
                        .await
                        .expect("a PDU from the client")
                        .unwrap();
                assert!(n > 0, "the client closed the connection");
            }
        }

        /// Whether the client closes the connection within `within`.
        async fn closed_within(&mut self, within: Duration) -> bool {
            let until = Instant::now() + within;
            loop {
                match tokio::time::timeout_at(until, self.s.read_buf(&mut self.buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => continue,
                    Err(_) => return false,
                }
            }
        }
    }

    fn settings(port: u16) -> SmppSettings {
        SmppSettings {
            host: "127.0.0.1".into(),
            port,
            tls: false,
            ca_file: None,
            system_id: "popreg".into(),
            password: Secret::new("hunter2"),
            system_type: String::new(),
            source: source_address("e-Citizen").unwrap(),
            max_per_second: 0,
            max_parts: 6,
            timeout: Duration::from_secs(1),
            enquire_link: Duration::from_millis(200),
            reconnect_min: Duration::from_millis(50),
            reconnect_max: Duration::from_millis(200),
            window: 10,
        }
    }

    fn receipt_body(id: &str) -> Vec<u8> {
        let mut b = b"\0\x01\x0137491234567\0\x05\0e-Citizen\0".to_vec();
        let text = format!(
            "id:{id} sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:"
        );
        b.extend([0x04, 0, 0, 0, 0, 0, 0, 0, 0, text.len() as u8]);
        b.extend(text.as_bytes());
        b
    }

    #[tokio::test]
    async fn g_7_the_session_answers_the_smsc_and_drops_a_broken_link() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let (client, mut reports) = SmppClient::start_with(settings(port)).unwrap();
        let mut peer = Peer::accept(&l).await;
        assert!(client.wait_bound(Duration::from_secs(5)).await);
        let to = Msisdn::parse("091234567").unwrap();

        // The SMSC's enquire_link is answered with the same sequence number.
        peer.send(Pdu::new(pdu::ENQUIRE_LINK, 7001, vec![])).await;
        let r = peer.next().await;
        assert_eq!((r.command_id, r.seq), (pdu::ENQUIRE_LINK_RESP, 7001));

        // A request the client does not support: generic_nack, ESME_RINVCMDID.
        peer.send(Pdu::new(0x0000_0103, 7002, vec![0; 20])).await;
        let r = peer.next().await;
        assert_eq!(
            (r.command_id, r.status, r.seq),
            (pdu::GENERIC_NACK, 0x03, 7002)
        );

        // A receipt is acknowledged and reported.
        peer.send(Pdu::new(pdu::DELIVER_SM, 7003, receipt_body("abc")))
            .await;
        let r = peer.next().await;
        assert_eq!(
            (r.command_id, r.status, r.seq),
            (pdu::DELIVER_SM_RESP, 0, 7003)
        );
        let rep = reports.recv().await.unwrap();
        assert_eq!(
            (rep.provider_id.as_str(), rep.status),
            ("abc", DeliveryStatus::Delivered)
        );

        // generic_nack in answer to a submit_sm: throttling is temporary, a malformed PDU technical.
        let (sent, ()) = tokio::join!(client.send(&to, "one", "r1"), async {
            let s = peer.next().await;
            assert_eq!(s.command_id, pdu::SUBMIT_SM);
            peer.send(Pdu::response(pdu::GENERIC_NACK, 0x58, s.seq, vec![]))
                .await;
        });
        assert!(sent.unwrap_err().is_temporary());
        let (sent, ()) = tokio::join!(client.send(&to, "two", "r2"), async {
            let s = peer.next().await;
            peer.send(Pdu::response(pdu::GENERIC_NACK, 0x03, s.seq, vec![]))
                .await;
        });
        assert!(matches!(sent, Err(SmsError::Technical(_))));
        // No answer at all within the timeout: temporary.
        let (sent, ()) = tokio::join!(client.send(&to, "three", "r3"), async {
            peer.next().await;
        });
        let e = sent.unwrap_err();
        assert!(
            e.is_temporary() && e.to_string().contains("no submit_sm_resp"),
            "{e}"
        );

        // A hostile command_length: generic_nack ESME_RINVCMDLEN, the connection dropped, a new bind.
        peer.s
            .write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4])
            .await
            .unwrap();
        let r = peer.next().await;
        assert_eq!((r.command_id, r.status), (pdu::GENERIC_NACK, 0x02));
        assert!(peer.closed_within(Duration::from_secs(2)).await);
        let mut peer = Peer::accept(&l).await;
        assert!(client.wait_bound(Duration::from_secs(5)).await);

        // An SMSC that stops answering enquire_link is given up after the timeout.
        peer.answer_links = false;
        assert!(peer.closed_within(Duration::from_secs(3)).await);
        let mut peer = Peer::accept(&l).await;

        // The SMSC unbinds: unbind_resp, then a new session.
        peer.send(Pdu::new(pdu::UNBIND, 7010, vec![])).await;
        let r = peer.next().await;
        assert_eq!((r.command_id, r.seq), (pdu::UNBIND_RESP, 7010));
        let mut peer = Peer::accept(&l).await;

        // Our own unbind on shutdown.
        let (_, ()) = tokio::join!(client.shutdown(), async {
            let u = peer.next().await;
            assert_eq!(u.command_id, pdu::UNBIND);
            peer.send(Pdu::new(pdu::UNBIND_RESP, u.seq, vec![])).await;
        });
        assert!(!client.is_bound());
    }

    /// The SMPP window (issue 7): with `window` 3, three `submit_sm` are outstanding before the SMSC answers
    /// any; answered in reverse order, each answer reaches the message it belongs to (matched by
    /// `sequence_number`), and a fourth message goes out once the window has room.
    #[tokio::test]
    async fn g_7_answers_out_of_order_reach_their_own_messages_within_the_window() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut s = settings(l.local_addr().unwrap().port());
        s.window = 3;
        s.timeout = Duration::from_secs(10);
        let (client, _reports) = SmppClient::start_with(s).unwrap();
        let mut peer = Peer::accept(&l).await;
        assert!(client.wait_bound(Duration::from_secs(5)).await);
        let to = Msisdn::parse("091234567").unwrap();
        // The SMSC's message id names the text it was given (GSM-7 unpacked: ASCII letters as they are).
        let id_of = |p: &Pdu| {
            let text = ["one", "two", "three", "four"]
                .into_iter()
                .find(|t| p.body.ends_with(t.as_bytes()))
                .expect("a known text");
            format!("id-{text}\0").into_bytes()
        };
        let sends = async {
            tokio::join!(
                client.send(&to, "one", "r1"),
                client.send(&to, "two", "r2"),
                client.send(&to, "three", "r3"),
                client.send(&to, "four", "r4"),
            )
        };
        let smsc = async {
            let mut window = vec![];
            for _ in 0..3 {
                let p = peer.next().await;
                assert_eq!(p.command_id, pdu::SUBMIT_SM);
                window.push(p);
            }
            let mut seqs: Vec<u32> = window.iter().map(|p| p.seq).collect();
            seqs.sort_unstable();
            seqs.dedup();
            assert_eq!(seqs.len(), 3, "each part its own sequence number");
            for p in window.iter().rev() {
                peer.send(Pdu::response(pdu::SUBMIT_SM_RESP, 0, p.seq, id_of(p)))
                    .await;
            }
            let p = peer.next().await;
            assert_eq!(p.command_id, pdu::SUBMIT_SM);
            peer.send(Pdu::response(pdu::SUBMIT_SM_RESP, 0, p.seq, id_of(&p)))
                .await;
        };
        let ((one, two, three, four), ()) = tokio::join!(sends, smsc);
        assert_eq!(one.unwrap().0, ["id-one"]);
        assert_eq!(two.unwrap().0, ["id-two"]);
        assert_eq!(three.unwrap().0, ["id-three"]);
        assert_eq!(four.unwrap().0, ["id-four"]);
    }

    #[tokio::test]
    async fn g_7_bind_over_tls_with_a_private_ca() {
        let (acceptor, ca) = crate::test_tls("localhost");
        let ca_file =
            std::env::temp_dir().join(format!("popreg-smpp-ca-{}.pem", std::process::id()));
        std::fs::write(&ca_file, ca.pem()).unwrap();

        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut s = settings(l.local_addr().unwrap().port());
        s.host = "localhost".into();
        s.tls = true;
        s.ca_file = Some(ca_file.clone());
        let (client, _reports) = SmppClient::start_with(s.clone()).unwrap();
        let mut peer = Peer::accept_with(&l, Some(&acceptor)).await;
        assert!(client.wait_bound(Duration::from_secs(5)).await);
        let to = Msisdn::parse("091234567").unwrap();
        let (sent, ()) = tokio::join!(client.send(&to, "over TLS", "r1"), async {
            let p = peer.next().await;
            assert_eq!(p.command_id, pdu::SUBMIT_SM);
            peer.send(Pdu::response(
                pdu::SUBMIT_SM_RESP,
                0,
                p.seq,
                b"tls-1\0".to_vec(),
            ))
            .await;
        });
        assert_eq!(sent.unwrap().0, ["tls-1"]);
        drop(client);

        // Without the private CA the SMSC's certificate is refused: no bind.
        s.ca_file = None;
        let (client, _reports) = SmppClient::start_with(s).unwrap();
        let (conn, _) = l.accept().await.unwrap();
        assert!(acceptor.accept(conn).await.is_err());
        assert!(!client.wait_bound(Duration::from_millis(300)).await);
        let _ = std::fs::remove_file(ca_file);
    }
}
