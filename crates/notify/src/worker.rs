//! The outbox worker: claim a due e-mail, send it, record the outcome; retry failures with exponential
//! backoff, forever; enqueue the A1.54 reminders. Logs name the row, the template and the recipient, never
//! the body or the relay's credentials.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use popreg_store::Store;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::NotifyError;
use crate::capture::Capture;
use crate::config::NotifyConfig;
use crate::mailer::Mailer;
use crate::sms::SmsChannel;
use crate::sms_worker::run_sms;

/// The wait after the first failed attempt; it doubles with each further one.
pub const RETRY_BASE: Span = Span::seconds(30);
/// The longest wait between two attempts: a message that keeps failing is tried this often, for ever.
pub const RETRY_CAP: Span = Span::hours(1);

/// Messages one pass delivers at most before it yields to the next (the rest wait a poll interval).
pub(crate) const MAX_PER_PASS: usize = 1000;
/// Rejections examined for reminders per scan.
const REMINDER_SCAN: i64 = 500;
/// The least time between two reminder scans.
const REMINDER_EVERY: Duration = Duration::from_secs(60);

/// The outcome of one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
    /// Put back to wait by the per-recipient cap (not attempted).
    pub deferred: usize,
}

/// The wait before the next attempt of a message that has failed `attempts` times before this failure:
/// 30 s, 1 min, 2 min, … capped at one hour.
pub fn backoff(attempts: i64) -> Span {
    let doublings = attempts.clamp(0, 20) as u32;
    let secs = RETRY_BASE.num_seconds().saturating_mul(1i64 << doublings);
    Span::seconds(secs.min(RETRY_CAP.num_seconds()))
}

/// A failed attempt of any channel: the row waits [`backoff`] for its next attempt with the reason and
/// the kind of failure, and counts as failed in this pass. Answers when it will be tried again.
pub(crate) async fn schedule_retry(
    store: &Store,
    msg: &popreg_store::OutboxMessage,
    reason: &str,
    kind: popreg_store::Failure,
    done: &mut Delivered,
) -> Result<chrono::DateTime<chrono::Utc>, NotifyError> {
    let retry_at = store.clock().now() + backoff(msg.attempts);
    store
        .outbox_failed_as(msg.id, reason, retry_at, kind)
        .await?;
    done.failed += 1;
    metrics::counter!("popreg_outbox_failed_total", "template" => msg.template.clone())
        .increment(1);
    Ok(retry_at)
}

/// The per-recipient cap (`recipient_max_per_hour` of the message's channel): when `msg`'s recipient has
/// had `cap` messages of its channel in the last hour, the message is put back to wait (no attempt, no
/// failure: never lost) until the oldest of them is an hour old, and the answer is `true`. `unrecorded`:
/// messages to the same recipient sent in this pass but not recorded yet (a batch records them together).
pub(crate) async fn deferred_by_cap(
    store: &Store,
    msg: &popreg_store::OutboxMessage,
    cap: u32,
    unrecorded: i64,
) -> Result<bool, NotifyError> {
    if cap == 0 {
        return Ok(false);
    }
    let now = store.clock().now();
    let (recorded, oldest) = store
        .outbox_sent_to_since(&msg.channel, &msg.recipient, now - Span::hours(1))
        .await?;
    let sent = recorded + unrecorded;
    if sent < i64::from(cap) {
        return Ok(false);
    }
    // Without a recorded one, the oldest of the hour is one sent just now.
    let until = oldest
        .map_or(now + Span::hours(1), |t| t + Span::hours(1))
        .max(now + Span::seconds(1));
    store.outbox_defer(msg.id, until).await?;
    metrics::counter!("popreg_outbox_deferred_total", "channel" => msg.channel.clone())
        .increment(1);
    tracing::info!(
        outbox_id = msg.id,
        template = %msg.template,
        channel = %msg.channel,
        sent_last_hour = sent,
        cap,
        until = %until.to_rfc3339(),
        "recipient's hourly cap reached: message deferred"
    );
    Ok(true)
}

/// One pass: deliver every e-mail due now, up to `notify.smtp.concurrency` in flight at once. Stops early
/// when the relay is unreachable (the messages that found it so wait for their retry; the others are tried
/// next pass).
pub async fn deliver_due(store: &Store, mailer: &Mailer) -> Result<Delivered, NotifyError> {
    deliver(store, mailer, &|| false).await
}

/// What became of one claimed e-mail.
enum One {
    /// Accepted by the relay; recorded with the others of its batch.
    Sent,
    Failed {
        relay_down: bool,
    },
    Deferred,
}

async fn deliver(
    store: &Store,
    mailer: &Mailer,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Delivered, NotifyError> {
    let lease = Span::from_std(mailer.max_send_time()).unwrap_or(RETRY_CAP) + Span::seconds(60);
    let mut done = Delivered::default();
    let width = mailer.concurrency().max(1);
    while done.sent + done.failed + done.deferred < MAX_PER_PASS && !stop() {
        let claimed = store.outbox_claim("email", width as i64, lease).await?;
        if claimed.is_empty() {
            break;
        }
        // The messages to one address go one after another (the per-recipient cap counts what was
        // sent); different addresses in parallel.
        let mut groups: Vec<Vec<popreg_store::OutboxMessage>> = vec![];
        for msg in claimed {
            match groups.iter_mut().find(|g| g[0].recipient == msg.recipient) {
                Some(g) => g.push(msg),
                None => groups.push(vec![msg]),
            }
        }
        let outcomes = futures_util::future::join_all(groups.into_iter().map(|group| async move {
            let mut out = vec![];
            let mut sent_here = 0;
            for msg in group {
                let o = deliver_one(store, mailer, &msg, sent_here).await;
                if matches!(o, Ok(One::Sent)) {
                    sent_here += 1;
                }
                out.push((msg, o));
            }
            out
        }))
        .await;
        let mut relay_down = false;
        let mut sent = vec![];
        let mut failed = None;
        for (msg, outcome) in outcomes.into_iter().flatten() {
            match outcome {
                Ok(One::Sent) => sent.push(msg),
                Ok(One::Deferred) => done.deferred += 1,
                Ok(One::Failed { relay_down: down }) => {
                    done.failed += 1;
                    relay_down |= down;
                }
                Err(e) => {
                    failed = failed.or(Some(e));
                }
            }
        }
        // What the relay took, in one transaction (and before an error of another message is returned):
        // a crash before this commit sends the batch again when its claims lapse, with the same
        // Message-IDs.
        let ids: Vec<i64> = sent.iter().map(|m| m.id).collect();
        store.outbox_sent_many(&ids).await?;
        for msg in &sent {
            metrics::counter!("popreg_outbox_sent_total", "template" => msg.template.clone())
                .increment(1);
            tracing::info!(
                outbox_id = msg.id,
                template = %msg.template,
                template_version = msg.template_version,
                recipient = %msg.recipient,
                attempt = msg.attempts + 1,
                "notification sent"
            );
        }
        done.sent += sent.len();
        if let Some(e) = failed {
            return Err(e);
        }
        if relay_down {
            break;
        }
    }
    Ok(done)
}

/// Deliver one claimed e-mail and record a failure (a delivery is recorded with the others of its batch).
/// `unrecorded`: e-mails to the same address sent in this batch before it.
async fn deliver_one(
    store: &Store,
    mailer: &Mailer,
    msg: &popreg_store::OutboxMessage,
    unrecorded: i64,
) -> Result<One, NotifyError> {
    if deferred_by_cap(store, msg, mailer.recipient_cap(), unrecorded).await? {
        return Ok(One::Deferred);
    }
    mailer.pace().await;
    let sent = if msg.template == popreg_store::FORWARD_TEMPLATE {
        send_forward(store, mailer, msg).await?
    } else {
        let version = version_text(store, msg).await?;
        mailer.send_classified(msg, version.as_ref()).await
    };
    match sent {
        Ok(()) => Ok(One::Sent),
        Err((e, popreg_store::Failure::Permanent))
            if msg.template == popreg_store::FORWARD_TEMPLATE =>
        {
            // The person's provider refuses the forward for good: the address is marked failing
            // and the person told; no retry (G.3.1).
            store.forward_failed(msg.id, &e.reason).await?;
            tracing::warn!(outbox_id = msg.id, recipient = %msg.recipient, error = %e.reason,
                "forward refused for good; address marked failing");
            Ok(One::Failed { relay_down: false })
        }
        Err((e, kind)) => {
            let mut counted = Delivered::default();
            let retry_at = schedule_retry(store, msg, &e.reason, kind, &mut counted).await?;
            tracing::warn!(
                outbox_id = msg.id,
                template = %msg.template,
                recipient = %msg.recipient,
                attempt = msg.attempts + 1,
                retry_at = %retry_at.to_rfc3339(),
                relay = mailer.relay(),
                error = %e.reason,
                "notification not delivered; will retry"
            );
            Ok(One::Failed {
                relay_down: e.relay_down,
            })
        }
    }
}

/// The text of the template version an outbox row records, in the row's language (`None`: the shipped
/// text, version 1, or no saved version in that language up to the row's).
pub(crate) async fn version_text(
    store: &Store,
    msg: &popreg_store::OutboxMessage,
) -> Result<Option<crate::TemplateText>, NotifyError> {
    if msg.template_version <= 1 {
        return Ok(None);
    }
    let lang = popreg_domain::classifiers::Lang::parse(&msg.lang)
        .unwrap_or(popreg_domain::classifiers::Lang::Hy);
    Ok(store
        .template_text(&msg.template, lang.as_str(), msg.template_version)
        .await?
        .map(|v| crate::TemplateText {
            subject: v.subject,
            body: v.body,
        }))
}

/// Send a forward of official mail: its stored signed copy, with the SRS envelope sender of its row.
async fn send_forward(
    store: &Store,
    mailer: &Mailer,
    msg: &popreg_store::OutboxMessage,
) -> Result<Result<(), (crate::SendError, popreg_store::Failure)>, NotifyError> {
    let mail_id = msg.params["mail_id"].as_str().unwrap_or_default();
    let srs = msg.params["srs_from"].as_str().unwrap_or_default();
    Ok(match store.inbound_forward_copy(mail_id).await? {
        Some(copy) => mailer.send_forward(msg, srs, &copy).await,
        None => Err((
            crate::SendError::message(format!("no stored copy of mail {mail_id}")),
            popreg_store::Failure::Technical,
        )),
    })
}

/// Enqueue the reminder (A1.54) for every rejection older than `deadline` that its body has not corrected
/// (see [`Store::outbox_reminders_due`]), to the body's responsible person, in Armenian. At most one per
/// rejection, ever (dedupe key `reminder:{rejection id}`). Returns how many were enqueued.
pub async fn enqueue_reminders(store: &Store, deadline: Span) -> Result<usize, NotifyError> {
    let cutoff = store.clock().now() - deadline;
    let days = deadline.num_days().max(1);
    let mut enqueued = 0;
    loop {
        let due = store.outbox_reminders_due(cutoff, REMINDER_SCAN).await?;
        let n = due.len();
        for (r, to) in due {
            let params = json!({
                "rejection_id": r.id,
                "submission_id": r.submission_id,
                "body_id": r.body_id,
                "kind": r.kind,
                "code": r.code,
                "errors": r.errors,
                "received_at": r.received_at.to_rfc3339(),
                "deadline_days": days,
            });
            let key = format!("reminder:{}", r.id);
            if store
                .outbox_enqueue("email", &to, "reminder", "hy", &params, &key)
                .await?
            {
                enqueued += 1;
                tracing::info!(rejection_id = r.id, body = %r.body_id, "reminder enqueued (A1.54)");
            }
        }
        if (n as i64) < REMINDER_SCAN {
            break;
        }
    }
    Ok(enqueued)
}

/// Deliver the outbox every `every` until `shutdown` completes. A pass under way when it does finishes the
/// message it is sending and stops.
pub async fn run(
    store: Store,
    mailer: Mailer,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    run_with_reminders(store, mailer, every, None, shutdown).await
}

/// [`run`], and also enqueue the A1.54 reminders (at most once a minute) when `reminder_after` is set.
pub async fn run_with_reminders(
    store: Store,
    mailer: Mailer,
    every: Duration,
    reminder_after: Option<Span>,
    shutdown: impl Future<Output = ()>,
) {
    run_email(store, mailer, every, reminder_after, false, shutdown).await
}

/// The e-mail worker; `sms_waiting`: no SMS provider is configured, so say once (not every pass) that the
/// `sms` rows found in the outbox wait there.
async fn run_email(
    store: Store,
    mailer: Mailer,
    every: Duration,
    reminder_after: Option<Span>,
    mut sms_waiting: bool,
    shutdown: impl Future<Output = ()>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};

    tracing::info!(
        relay = mailer.relay(),
        every_secs = every.as_secs(),
        "outbox worker started"
    );
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_scan: Option<Instant> = None;
    let stopping = AtomicBool::new(false);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick.tick() => {}
        }
        if let Some(deadline) = reminder_after
            && last_scan.is_none_or(|t| t.elapsed() >= REMINDER_EVERY)
        {
            last_scan = Some(Instant::now());
            if let Err(e) = enqueue_reminders(&store, deadline).await {
                tracing::error!(error = %e, "reminder scan failed");
            }
        }
        if sms_waiting
            && let Ok(backlog) = store.outbox_backlog().await
            && let Some((_, _, n @ 1..)) = backlog.iter().find(|b| b.0 == "sms")
        {
            sms_waiting = false;
            tracing::warn!(
                undelivered = n,
                "SMS messages wait in the outbox: no SMS provider is configured \
                 (notify.sms.smpp.system_id or notify.sms.http.url)"
            );
        }
        let stop = || stopping.load(Ordering::Relaxed);
        let pass = deliver(&store, &mailer, &stop);
        tokio::pin!(pass);
        let (result, shut) = tokio::select! {
            r = &mut pass => (r, false),
            _ = &mut shutdown => {
                stopping.store(true, Ordering::Relaxed);
                (pass.await, true)
            }
        };
        match result {
            Ok(d) if d.sent + d.failed > 0 => {
                tracing::info!(sent = d.sent, failed = d.failed, "outbox pass")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox pass failed"),
        }
        if shut {
            break;
        }
    }
    tracing::info!("outbox worker stopped");
}

/// Start the worker for `popreg serve`: `None` when `notify.enabled` is false; an error when the settings
/// are unusable (bad sender address, unreadable CA file, half the credentials).
pub fn spawn(
    store: Store,
    cfg: &NotifyConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Option<JoinHandle<()>>, NotifyError> {
    spawn_with_capture(store, cfg, None, shutdown)
}

/// [`spawn`]; with `capture` (the demo only), every e-mail and SMS is kept there instead of being sent,
/// whatever `notify.enabled` and `[notify.sms]` say (`capture.rs`).
pub fn spawn_with_capture(
    store: Store,
    cfg: &NotifyConfig,
    capture: Option<Arc<Capture>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Option<JoinHandle<()>>, NotifyError> {
    if !cfg.enabled && capture.is_none() {
        return Ok(None);
    }
    let mut mailer = Mailer::new(cfg)?;
    let sms = match capture {
        Some(c) => {
            mailer = mailer.with_capture(c.clone());
            // No receipts come from the catcher: the sender side is dropped at once.
            let (_, reports) = tokio::sync::mpsc::channel(1);
            Some((SmsChannel::Capture(c), reports))
        }
        None if cfg.sms.is_configured() => Some(SmsChannel::start(&cfg.sms)?),
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let email = run_email(
        store.clone(),
        mailer,
        cfg.every(),
        cfg.reminder_after(),
        sms.is_none(),
        {
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|s| *s).await;
            }
        },
    );
    let (sms_cfg, every) = (cfg.sms.clone(), cfg.every());
    Ok(Some(tokio::spawn(async move {
        let sms = async move {
            if let Some((channel, reports)) = sms {
                run_sms(store, channel, reports, sms_cfg, every, stop_rx).await;
            }
        };
        let trigger = async move {
            shutdown.await;
            stop_tx.send_replace(true);
        };
        tokio::join!(email, sms, trigger);
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_up_to_an_hour_and_stays_there() {
        assert_eq!(backoff(0), Span::seconds(30));
        assert_eq!(backoff(1), Span::seconds(60));
        assert_eq!(backoff(2), Span::seconds(120));
        assert_eq!(backoff(6), Span::seconds(1920));
        assert_eq!(backoff(7), Span::hours(1));
        assert_eq!(backoff(1000), Span::hours(1));
        assert_eq!(backoff(-3), Span::seconds(30));
    }
}
