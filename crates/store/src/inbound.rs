//! The official mail domain (G.3.1): mail received by the register's SMTP server for `<PSN>@domain`.
//!
//! - [`Store::mailbox_exists`] answers whether a PSN has a mailbox (a person in the register) and nothing
//!   else: the SMTP server asks it at `RCPT TO` and learns no personal data.
//! - [`Store::store_inbound_mail`] writes, in **one transaction** (shared with the other messages
//!   arriving at the same time: a group-commit writer, see [`inbound_writer`]), the raw message (append-only, byte for
//!   byte), one inbox message per recipient (source `official_mail`, with the extracted attachments), one
//!   outbox e-mail (template [`FORWARD_TEMPLATE`]) per verified, not failing e-mail address of each
//!   recipient, and the act `mail.receive` in the audit trail. The server answers `250` only after it
//!   committed: a message is either stored and acknowledged, or not acknowledged.
//! - [`Store::inbound_raw`] gives a person the raw message of one of their inbox messages;
//!   [`Store::inbound_forward_copy`] gives the worker the signed copy to forward.
//! - [`Store::forward_failed`] (a permanent SMTP failure of a forward) and [`Store::inbound_bounce`] (a
//!   bounce arriving for an SRS address) mark the forwarding address as failing and put a notice (source
//!   `forward_failure`) into the person's inbox.
//!
//! Company addresses (`<TIN>@domain`, G.6): a recipient is an [`Owner`]; a company's message goes to its
//! inbox (owner key `tin:…`) and is forwarded to the company's verified addresses, exactly like a person's.

use chrono::SubsecRound;
use popreg_domain::Psn;
use serde_json::json;

use crate::audit::Leaf;
use crate::inbox::{NewAttachment, OUTBOX_INSERT};
use crate::{Inner, Owner, Store, StoreError, pg_ops, sqlite_ops};

type Reply = tokio::sync::oneshot::Sender<Result<StoredMail, StoreError>>;
/// The sending end of the official mail writer's queue.
pub(crate) type Queue = tokio::sync::mpsc::UnboundedSender<(NewInboundMail, Reply)>;
/// Most messages committed together, and the raw bytes after which a batch is closed.
const MAX_BATCH: usize = 128;
const MAX_BATCH_BYTES: usize = 16 << 20;

/// The outbox template of a forwarded official mail: the worker sends the stored signed copy as it is.
pub const FORWARD_TEMPLATE: &str = "inbound_forward";
/// The body id of inbox messages that no state body sent (official mail, the portal's own notices).
pub const MAIL_SENDER: &str = "@mail";

/// A received message, parsed, with the copy to forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInboundMail {
    /// The recipients (each a mailbox that exists: a person in the register, or a company the
    /// legal-entity registry knows, G.6), in `RCPT TO` order.
    pub recipients: Vec<Owner>,
    /// The client's address and the name it gave in HELO/EHLO.
    pub remote_addr: String,
    pub helo: String,
    /// The envelope sender (`MAIL FROM`), empty for the null sender.
    pub mail_from: String,
    /// The raw message, byte for byte as received (after dot-unstuffing).
    pub raw: Vec<u8>,
    /// The message could not be parsed as MIME: it is kept raw and shown as such.
    pub malformed: bool,
    /// The `From:` header as text (the sender the portal shows).
    pub from_header: String,
    pub subject: String,
    /// The text body (HTML reduced to text), never markup.
    pub text: String,
    pub attachments: Vec<NewAttachment>,
    /// The copy the forwards carry (the signature headers on top of the raw message) and the SRS
    /// envelope sender they go out with; `None`: no forwarding (no signing key configured).
    pub forward: Option<(Vec<u8>, String)>,
}

/// What was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMail {
    pub mail_id: String,
    /// One inbox message id per recipient, in order.
    pub message_ids: Vec<String>,
    /// Outbox rows written (forwards).
    pub forwards: usize,
}

/// The longest subject kept, in characters (longer ones are cut).
const SUBJECT_CHARS: usize = 500;
/// The longest reason kept for a failing address.
const REASON_CHARS: usize = 500;

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The official mail writer (group commit). Each message committed alone cost an fsync each (22–41
/// messages/s on SQLite); the writer takes every message waiting (up to [`MAX_BATCH`] or
/// [`MAX_BATCH_BYTES`]), writes them in one transaction, commits once, and only then answers each, so
/// the SMTP server's `250` still follows the commit that holds its message. A lone message is committed
/// at once: nothing waits for a batch to fill.
async fn inbound_writer(
    store: Store,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(NewInboundMail, Reply)>,
) {
    while let Some(first) = rx.recv().await {
        let mut bytes = first.0.raw.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(j) => {
                    bytes += j.0.raw.len();
                    batch.push(j);
                }
                Err(_) => break,
            }
        }
        let (mails, replies): (Vec<NewInboundMail>, Vec<Reply>) = batch.into_iter().unzip();
        match store.write_inbound(&mails).await {
            Ok(results) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every message in it is refused (451, resent later).
                tracing::error!(error = %e, messages = mails.len(), "official mail batch not committed");
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
}

/// The contact id in a forward's dedupe key `inbound:{mail id}:{recipient}:{contact id}`.
fn contact_of_key(key: &str) -> Option<i64> {
    key.rsplit(':').next()?.parse().ok()
}

impl Store {
    /// Whether `psn` has an official mailbox: a person with that PSN is in the register. Answers a yes or
    /// no and reads nothing else (the SMTP server asks at `RCPT TO`).
    pub async fn mailbox_exists(&self, psn: Psn) -> Result<bool, StoreError> {
        dispatch!(self, read, pool, ops => {
            Ok(sqlx::query("SELECT 1 FROM persons WHERE psn = $1")
                .bind(psn.to_string())
                .fetch_optional(pool)
                .await?
                .is_some())
        })
    }

    /// Store a received message for its recipients with its forwards, in one transaction (see the module
    /// documentation), through the group-commit writer: answers once the transaction that holds the
    /// message is committed. A person no longer in the register makes the whole message fail
    /// (`PSR-PSN-0004`): nothing of it is stored and the server answers with an error; the other messages
    /// of the same batch are not affected.
    pub async fn store_inbound_mail(&self, m: NewInboundMail) -> Result<StoredMail, StoreError> {
        let queue = self.inbound.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(inbound_writer(self.clone(), rx));
            tx
        });
        let stopped = || StoreError::Unavailable("the official mail writer has stopped".into());
        let (reply, answer) = tokio::sync::oneshot::channel();
        queue.send((m, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Write a batch of received messages in one transaction: one answer per message, in order. `Err`:
    /// nothing of the batch was committed.
    async fn write_inbound(
        &self,
        batch: &[NewInboundMail],
    ) -> Result<Vec<Result<StoredMail, StoreError>>, StoreError> {
        use popreg_domain::Code;
        let now = self.clock.now().trunc_subsecs(6);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let mut out = Vec::with_capacity(batch.len());
            let mut acts = vec![];
            for m in batch {
                // Checked before anything of the message is written: a refused message leaves nothing.
                let mut missing = None;
                for owner in &m.recipients {
                    if let Owner::Person(psn) = owner
                        && sqlx::query("SELECT 1 FROM persons WHERE psn = $1")
                            .bind(psn.to_string())
                            .fetch_optional(&mut *tx)
                            .await?
                            .is_none()
                    {
                        missing = Some(*psn);
                        break;
                    }
                }
                if let Some(psn) = missing {
                    out.push(Err(crate::usage::refused(Code::PsnUnknown, format!("no person with PSN {psn}"))));
                    continue;
                }
                let mail_id = crate::access::random_hex(16)?;
                let sha = crate::access::hex(&<sha2::Sha256 as sha2::Digest>::digest(&m.raw));
                let subject = cut(&m.subject, SUBJECT_CHARS);
                let (copy, srs) = match &m.forward {
                    Some((c, s)) => (Some(c.as_slice()), Some(s.as_str())),
                    None => (None, None),
                };
                sqlx::query(
                    "INSERT INTO inbound_mail (id, received_at, remote_addr, helo, mail_from, srs_from, from_header, \
                     malformed, size, sha256, raw, forward_copy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&mail_id)
                .bind(now)
                .bind(&m.remote_addr)
                .bind(&m.helo)
                .bind(&m.mail_from)
                .bind(srs)
                .bind(cut(&m.from_header, SUBJECT_CHARS))
                .bind(m.malformed)
                .bind(m.raw.len() as i64)
                .bind(&sha)
                .bind(m.raw.as_slice())
                .bind(copy)
                .execute(&mut *tx)
                .await?;
                let mut message_ids = vec![];
                let mut forwards = 0;
                for owner in &m.recipients {
                    let key = owner.key();
                    let id = crate::access::random_hex(16)?;
                    sqlx::query(
                        "INSERT INTO inbox_messages (id, recipient_psn, body_id, user_uid, channel, request_sha256, \
                         subject, text, legal_significance, created_at, source, mail_id) \
                         VALUES ($1, $2, $3, '', 'smtp', $4, $5, $6, FALSE, $7, 'official_mail', $8)",
                    )
                    .bind(&id)
                    .bind(&key)
                    .bind(MAIL_SENDER)
                    .bind(&sha)
                    .bind(&subject)
                    .bind(&m.text)
                    .bind(now)
                    .bind(&mail_id)
                    .execute(&mut *tx)
                    .await?;
                    crate::inbox::insert_attachments!(tx, &id, &m.attachments);
                    if let Some(srs) = srs {
                        // A company's verified addresses are kept under its key like a person's (G.6).
                        let points: Vec<(i64, String, String)> = sqlx::query_as(
                            "SELECT id, address, lang FROM contact_points WHERE psn = $1 AND kind = 'email' \
                             AND verified_at IS NOT NULL AND failing_since IS NULL ORDER BY id",
                        )
                        .bind(&key)
                        .fetch_all(&mut *tx)
                        .await?;
                        for (cid, address, lang) in points {
                            let params = json!({ "mail_id": mail_id, "message_id": id, "srs_from": srs });
                            sqlx::query(OUTBOX_INSERT)
                                .bind("email")
                                .bind(&address)
                                .bind(FORWARD_TEMPLATE)
                                .bind(&lang)
                                .bind(params.to_string())
                                .bind(format!("inbound:{mail_id}:{key}:{cid}"))
                                .bind(now)
                                .bind(format!("inbound:{mail_id}"))
                                .execute(&mut *tx)
                                .await?;
                            forwards += 1;
                        }
                    }
                    acts.push(Leaf::act(
                        "mail.receive",
                        &format!("smtp/{}", m.remote_addr),
                        &id,
                        json!({ "recipient": key, "mail": mail_id, "sha256": sha, "size": m.raw.len() }),
                    ));
                    message_ids.push(id);
                }
                out.push(Ok(StoredMail { mail_id, message_ids, forwards }));
            }
            if !acts.is_empty() {
                ops::audit::append(&mut tx, now, &acts).await?;
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// The raw message behind one of the owner's inbox messages (official mail only; a person's, or a
    /// company's, G.6); `None` for another owner's message, an unknown id, or a message that did not come
    /// by mail.
    pub async fn inbound_raw(
        &self,
        owner: impl Into<Owner>,
        message_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let owner: Owner = owner.into();
        dispatch!(self, read, pool, ops => {
            let row: Option<(Vec<u8>,)> = sqlx::query_as(
                "SELECT i.raw FROM inbound_mail i JOIN inbox_messages m ON m.mail_id = i.id \
                 WHERE m.id = $1 AND m.recipient_psn = $2",
            )
            .bind(message_id)
            .bind(owner.key())
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| r.0))
        })
    }

    /// The signed copy of a received message that its forwards carry (for the outbox worker).
    pub async fn inbound_forward_copy(&self, mail_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row: Option<(Option<Vec<u8>>,)> =
                sqlx::query_as("SELECT forward_copy FROM inbound_mail WHERE id = $1")
                    .bind(mail_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(row.and_then(|r| r.0))
        })
    }

    /// A forward of official mail failed for good (the relay's 5xx): the row is given up, its address
    /// marked failing and the person told in the inbox. `false` if the row is not such a forward.
    pub async fn forward_failed(&self, outbox_id: i64, reason: &str) -> Result<bool, StoreError> {
        let key: Option<(String,)> = dispatch!(self, read, pool, ops => {
            sqlx::query_as("SELECT dedupe_key FROM outbox WHERE id = $1 AND template = $2")
                .bind(outbox_id)
                .bind(FORWARD_TEMPLATE)
                .fetch_optional(pool)
                .await?
        });
        let Some(cid) = key.and_then(|k| contact_of_key(&k.0)) else {
            return Ok(false);
        };
        self.outbox_gave_up(outbox_id, reason).await?;
        self.mark_forwarding_failing(cid, reason).await
    }

    /// A bounce (DSN) arrived for the SRS address `srs_rcpt`: the forwards that went out with that
    /// envelope sender to one of `failed_recipients` (the DSN's `Final-Recipient`s; when the DSN names
    /// none and only one address was forwarded to, that one) have their addresses marked failing.
    /// Answers how many addresses were marked.
    pub async fn inbound_bounce(
        &self,
        srs_rcpt: &str,
        failed_recipients: &[String],
        reason: &str,
    ) -> Result<usize, StoreError> {
        let rows: Vec<(String, String)> = dispatch!(self, read, pool, ops => {
            sqlx::query_as(
                "SELECT o.dedupe_key, o.recipient FROM outbox o JOIN inbound_mail i \
                 ON o.source = 'inbound:' || i.id WHERE i.srs_from = $1 AND o.template = $2",
            )
            .bind(srs_rcpt)
            .bind(FORWARD_TEMPLATE)
            .fetch_all(pool)
            .await?
        });
        let wanted: Vec<String> = failed_recipients
            .iter()
            .map(|r| r.to_ascii_lowercase())
            .collect();
        let mut contacts: Vec<i64> = rows
            .iter()
            .filter(|(_, to)| wanted.contains(&to.to_ascii_lowercase()))
            .filter_map(|(k, _)| contact_of_key(k))
            .collect();
        if wanted.is_empty() && rows.len() == 1 {
            contacts.extend(contact_of_key(&rows[0].0));
        }
        contacts.sort_unstable();
        contacts.dedup();
        let mut marked = 0;
        for cid in contacts {
            if self.mark_forwarding_failing(cid, reason).await? {
                marked += 1;
            }
        }
        Ok(marked)
    }

    /// Mark a forwarding address failing (once) and put the notice into its person's inbox, in one
    /// transaction. `false` when it was failing already or is gone.
    async fn mark_forwarding_failing(
        &self,
        contact_id: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now().trunc_subsecs(6);
        let reason = cut(reason, REASON_CHARS);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT psn, address FROM contact_points WHERE id = $1 AND failing_since IS NULL",
            )
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((psn, address)) = row else {
                return Ok(false);
            };
            sqlx::query("UPDATE contact_points SET failing_since = $1, failing_reason = $2 WHERE id = $3")
                .bind(now)
                .bind(&reason)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?;
            let id = crate::access::random_hex(16)?;
            // The portal writes the notice in the reader's language; subject and text keep its facts.
            sqlx::query(
                "INSERT INTO inbox_messages (id, recipient_psn, body_id, user_uid, channel, request_sha256, \
                 subject, text, legal_significance, created_at, source) \
                 VALUES ($1, $2, $3, '', 'portal', '', $4, $5, FALSE, $6, 'forward_failure')",
            )
            .bind(&id)
            .bind(&psn)
            .bind(MAIL_SENDER)
            .bind(&address)
            .bind(&reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let act = Leaf::act(
                "contact.failing",
                "smtp",
                &contact_id.to_string(),
                json!({ "psn": psn, "notice": id }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_is_the_last_part_of_a_forward_key() {
        assert_eq!(contact_of_key("inbound:ab12:3920481576:7"), Some(7));
        assert_eq!(contact_of_key("notification:x"), None);
    }
}
