//! Delivery of the outbox's `sms` rows (G.7, G.3.3): claim a window of due rows (the same lease as
//! e-mails; on PostgreSQL `FOR UPDATE SKIP LOCKED`), render their texts, hand them to the SMS provider
//! together (the SMPP window, `notify.sms.smpp.window`), and record the outcomes, the accepted ones with the
//! provider's ids of their parts in one transaction; delivery receipts then mark them delivered or failed.
//!
//! - A temporary or technical failure is retried with the e-mails' backoff ([`crate::backoff`]); a
//!   permanent one (the number does not exist, the text is too long, the daily cap is reached, a failed
//!   receipt) ends the attempts (`given_up_at`), with the reason in `last_error`.
//! - The per-number caps: at most `notify.sms.daily_cap_per_number` SMS to one number in 24 hours (one
//!   more fails for good), and at most `notify.sms.recipient_max_per_hour` in an hour (the next ones wait
//!   in the outbox, deferred, until the hour frees a place).
//! - Logs name the row, the template and the masked number (`+37491****67`), never the text (it may carry
//!   a verification code).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Duration as Span;
use popreg_domain::classifiers::Lang;
use popreg_store::{Failure, OutboxMessage, ReceiptEffect, SmsReceipt, Store};
use tokio::sync::{mpsc, watch};

use crate::config::SmsConfig;
use crate::sms::{DeliveryReport, Msisdn, ProviderIds, SmsChannel, SmsError, SmsSender};
use crate::worker::{Delivered, MAX_PER_PASS, deferred_by_cap, schedule_retry};
use crate::{NotifyError, templates};

/// Receipts that matched no message yet (they can overtake the record of the send) wait and are tried
/// again this many times, 1 s, 2 s, 4 s, … apart (about a minute in all).
const RECEIPT_RETRIES: u32 = 6;
/// Receipts waiting for such a retry at most; more are logged and dropped.
const RECEIPT_BACKLOG: usize = 1000;

/// What became of one attempt.
enum Attempt {
    Sent(ProviderIds),
    /// Ends the attempts.
    GiveUp(String),
    /// Retried; `provider` when the provider itself failed (not this message): the pass stops.
    Retry {
        reason: String,
        kind: Failure,
        provider: bool,
    },
}

/// What became of one claimed message in a window.
enum Outcome {
    /// Boxed: a row is large beside the other variants.
    Attempted(Box<OutboxMessage>, Attempt),
    /// Put back by the hourly cap.
    Deferred,
    /// Not attempted: the provider failed for an earlier message to the same number in this window; put
    /// back as due, no attempt counted.
    Released,
}

/// The lease of a claimed SMS: every part may take the whole timeout, plus a minute.
fn lease(cfg: &SmsConfig) -> Span {
    let parts = cfg.max_parts.clamp(1, 255) as u32 + 2;
    Span::from_std(cfg.timeout() * parts).unwrap_or(crate::RETRY_CAP) + Span::seconds(60)
}

/// One pass: deliver every `sms` row due now through `sender`, a window at a time: up to
/// `notify.sms.smpp.window` rows claimed at once and in flight together (the ones to one number one after
/// another, so the caps count right), what the provider accepted recorded in one transaction. Stops early
/// when the provider fails (no session, throttled, refused credentials): the rest are tried next pass.
pub async fn deliver_sms_due<S: SmsSender + Sync>(
    store: &Store,
    sender: &S,
    cfg: &SmsConfig,
) -> Result<Delivered, NotifyError> {
    deliver_sms(store, sender, cfg, &|| false).await
}

pub(crate) async fn deliver_sms<S: SmsSender + Sync>(
    store: &Store,
    sender: &S,
    cfg: &SmsConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Delivered, NotifyError> {
    let lease = lease(cfg);
    let width = cfg.in_flight();
    let mut done = Delivered::default();
    while done.sent + done.failed + done.deferred < MAX_PER_PASS && !stop() {
        let claimed = store.outbox_claim("sms", width as i64, lease).await?;
        if claimed.is_empty() {
            break;
        }
        let mut groups: Vec<Vec<OutboxMessage>> = vec![];
        for msg in claimed {
            match groups.iter_mut().find(|g| g[0].recipient == msg.recipient) {
                Some(g) => g.push(msg),
                None => groups.push(vec![msg]),
            }
        }
        let outcomes = futures_util::future::join_all(
            groups
                .into_iter()
                .map(|group| send_group(store, sender, cfg, group)),
        )
        .await;
        let mut sent = vec![];
        let mut attempted = vec![];
        let mut provider_down = false;
        let mut failed = None;
        for outcome in outcomes.into_iter().flatten() {
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    // Recorded after what the provider took, which must not be lost with it.
                    failed = failed.or(Some(e));
                    continue;
                }
            };
            match outcome {
                Outcome::Deferred => done.deferred += 1,
                Outcome::Released => provider_down = true,
                Outcome::Attempted(msg, Attempt::Sent(ids)) => {
                    sent.push((msg.id, ids.0.clone()));
                    attempted.push((msg, Attempt::Sent(ids)));
                }
                Outcome::Attempted(msg, a) => attempted.push((msg, a)),
            }
        }
        // What the provider took, first and together: after a crash before this commit, the window is sent
        // again when its claims lapse (the SMSC sees each dedupe key's message twice at worst).
        store.outbox_sms_sent_many(&sent).await?;
        if let Some(e) = failed {
            return Err(e);
        }
        for (msg, a) in attempted {
            provider_down |= record(store, &msg, a, &mut done).await?;
        }
        if provider_down {
            break;
        }
    }
    Ok(done)
}

/// Send the claimed messages to one number, one after another. When the provider fails, the rest are
/// released (due again at once, no attempt counted).
async fn send_group<S: SmsSender + Sync>(
    store: &Store,
    sender: &S,
    cfg: &SmsConfig,
    group: Vec<OutboxMessage>,
) -> Vec<Result<Outcome, NotifyError>> {
    let mut out = Vec::with_capacity(group.len());
    let mut sent_here = 0i64;
    let mut down = false;
    for msg in group {
        if down {
            out.push(
                store
                    .outbox_defer(msg.id, store.clock().now())
                    .await
                    .map(|()| Outcome::Released)
                    .map_err(NotifyError::from),
            );
            continue;
        }
        let o = async {
            if deferred_by_cap(store, &msg, cfg.recipient_max_per_hour, sent_here).await? {
                return Ok(Outcome::Deferred);
            }
            let to = Msisdn::parse(&msg.recipient);
            let a = attempt(store, sender, cfg, &msg, to, sent_here).await?;
            Ok(Outcome::Attempted(Box::new(msg), a))
        }
        .await;
        match &o {
            Ok(Outcome::Attempted(_, Attempt::Sent(_))) => sent_here += 1,
            Ok(Outcome::Attempted(_, Attempt::Retry { provider: true, .. })) | Err(_) => {
                down = true
            }
            _ => {}
        }
        out.push(o);
    }
    out
}

/// Record an attempt other than a success (those are recorded together), log it and count it. Answers
/// whether the provider itself failed (the pass stops).
async fn record(
    store: &Store,
    msg: &OutboxMessage,
    a: Attempt,
    done: &mut Delivered,
) -> Result<bool, NotifyError> {
    let to = Msisdn::parse(&msg.recipient);
    let masked = to.as_ref().map(Msisdn::masked).unwrap_or_default();
    match a {
        Attempt::Sent(ids) => {
            done.sent += 1;
            metrics::counter!("popreg_outbox_sent_total", "template" => msg.template.clone())
                .increment(1);
            tracing::info!(
                outbox_id = msg.id,
                template = %msg.template,
                to = %masked,
                parts = ids.0.len(),
                attempt = msg.attempts + 1,
                "SMS handed to the provider"
            );
            Ok(false)
        }
        Attempt::GiveUp(reason) => {
            store.outbox_gave_up(msg.id, &reason).await?;
            done.failed += 1;
            metrics::counter!("popreg_outbox_failed_total", "template" => msg.template.clone())
                .increment(1);
            tracing::warn!(
                outbox_id = msg.id,
                template = %msg.template,
                to = %masked,
                error = %reason,
                "SMS not delivered; permanent failure, not tried again"
            );
            Ok(false)
        }
        Attempt::Retry {
            reason,
            kind,
            provider,
        } => {
            let retry_at = schedule_retry(store, msg, &reason, kind, done).await?;
            tracing::warn!(
                outbox_id = msg.id,
                template = %msg.template,
                to = %masked,
                attempt = msg.attempts + 1,
                retry_at = %retry_at.to_rfc3339(),
                error = %reason,
                "SMS not delivered; will retry"
            );
            Ok(provider)
        }
    }
}

async fn attempt<S: SmsSender + Sync>(
    store: &Store,
    sender: &S,
    cfg: &SmsConfig,
    msg: &OutboxMessage,
    to: Result<Msisdn, crate::sms::MsisdnError>,
    unrecorded: i64,
) -> Result<Attempt, NotifyError> {
    let to = match to {
        Ok(to) => to,
        Err(e) => return Ok(Attempt::GiveUp(format!("not a mobile number: {e}"))),
    };
    let cap = cfg.daily_cap_per_number;
    if cap > 0 {
        let since = store.clock().now() - Span::hours(24);
        let sent = store.sms_sent_since(&msg.recipient, since).await? + unrecorded;
        if sent >= i64::from(cap) {
            return Ok(Attempt::GiveUp(format!(
                "daily cap reached: {sent} SMS to this number in the last 24 hours \
                 (notify.sms.daily_cap_per_number = {cap})"
            )));
        }
    }
    let lang = Lang::parse(&msg.lang).unwrap_or(Lang::Hy);
    let version = crate::worker::version_text(store, msg).await?;
    let text =
        match templates::render_sms_version(&msg.template, lang, &msg.params, version.as_ref()) {
            Ok(t) => t,
            Err(e) => {
                return Ok(Attempt::Retry {
                    reason: format!("the text cannot be rendered: {e}"),
                    kind: Failure::Technical,
                    provider: false,
                });
            }
        };
    Ok(match sender.send(&to, &text, &msg.dedupe_key).await {
        Ok(ids) => Attempt::Sent(ids),
        Err(SmsError::Permanent(e)) => Attempt::GiveUp(e),
        Err(SmsError::Temporary(e)) => Attempt::Retry {
            reason: e,
            kind: Failure::Temporary,
            provider: true,
        },
        Err(SmsError::Technical(e)) => Attempt::Retry {
            reason: e,
            kind: Failure::Technical,
            provider: true,
        },
    })
}

/// Record one delivery receipt on its message. `None` when no message has that id (yet).
pub async fn apply_report(
    store: &Store,
    report: &DeliveryReport,
) -> Result<Option<SmsReceipt>, NotifyError> {
    let r = store
        .sms_receipt(
            &report.provider_id,
            report.status.as_str(),
            report.error.as_deref(),
        )
        .await?;
    if let Some(r) = r {
        match r.effect {
            ReceiptEffect::Delivered => {
                tracing::info!(outbox_id = r.outbox_id, "SMS delivery receipt: delivered")
            }
            ReceiptEffect::Failed => tracing::warn!(
                outbox_id = r.outbox_id,
                status = report.status.as_str(),
                error = report.error.as_deref().unwrap_or(""),
                "SMS delivery receipt: not delivered (permanent failure)"
            ),
            ReceiptEffect::Pending => {}
        }
    }
    Ok(r)
}

/// Record the channel's receipts until `stop` turns true. A receipt that matches no message yet is tried
/// again a few times (it may have overtaken the record of its send), then logged and dropped.
pub async fn record_receipts(
    store: Store,
    mut reports: mpsc::Receiver<DeliveryReport>,
    mut stop: watch::Receiver<bool>,
) {
    let waiting = Arc::new(AtomicUsize::new(0));
    loop {
        let report = tokio::select! {
            r = reports.recv() => match r { Some(r) => r, None => break },
            _ = stop.wait_for(|s| *s) => break,
        };
        match apply_report(&store, &report).await {
            Ok(Some(_)) => {}
            Ok(None) if waiting.load(Ordering::Relaxed) < RECEIPT_BACKLOG => {
                waiting.fetch_add(1, Ordering::Relaxed);
                let (store, waiting) = (store.clone(), waiting.clone());
                tokio::spawn(async move {
                    retry_receipt(&store, &report).await;
                    waiting.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Ok(None) => unknown_receipt(&report),
            Err(e) => tracing::error!(error = %e, "SMS delivery receipt not recorded"),
        }
    }
}

async fn retry_receipt(store: &Store, report: &DeliveryReport) {
    for n in 0..RECEIPT_RETRIES {
        tokio::time::sleep(Duration::from_secs(1 << n)).await;
        match apply_report(store, report).await {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "SMS delivery receipt not recorded"),
        }
    }
    unknown_receipt(report);
}

fn unknown_receipt(report: &DeliveryReport) {
    tracing::warn!(
        provider_id = %report.provider_id,
        status = report.status.as_str(),
        "SMS delivery receipt for a message the outbox does not know: ignored"
    );
}

/// Deliver the `sms` rows every `every` and record the receipts, until `stop` turns true; then end the
/// provider's session (SMPP: `unbind`).
pub(crate) async fn run_sms(
    store: Store,
    channel: SmsChannel,
    reports: mpsc::Receiver<DeliveryReport>,
    cfg: SmsConfig,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(every_secs = every.as_secs(), "SMS delivery started");
    let receipts = tokio::spawn(record_receipts(store.clone(), reports, stop.clone()));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let stopping = stop.clone();
        let halt = move || *stopping.borrow();
        match deliver_sms(&store, &channel, &cfg, &halt).await {
            Ok(d) if d.sent + d.failed > 0 => {
                tracing::info!(sent = d.sent, failed = d.failed, "SMS pass")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "SMS pass failed"),
        }
    }
    let _ = receipts.await;
    if let SmsChannel::Smpp(c) = &channel {
        c.shutdown().await;
    }
    tracing::info!("SMS delivery stopped");
}
