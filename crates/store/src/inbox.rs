//! Notifications to persons (A1.5.6 Notification System, G.3.2–3): the portal inbox and the transaction of
//! the sending API.
//!
//! A state body holding `send_notifications` sends a notification to a person by PSN
//! ([`Store::send_notification`]). One transaction writes the inbox message (with its attachments), one
//! outbox e-mail (template `forwarded`, in the address's language) per **verified** e-mail address of the
//! person, one outbox `sms` row (template `notification_sms`) per verified mobile number, and the act in the
//! audit trail. The same idempotency key from the same body gives the same notification id, never a second
//! message. [`Store::notification_status`] reports delivery per destination to the sending body only.
//!
//! For the portal (the person's own pages; the caller passes the logged-in person's PSN):
//! - [`Store::inbox`]`(psn, offset, limit)` → [`InboxPage`] (newest first, with the unread count and total);
//! - [`Store::open_message`]`(psn, id)` → the whole message; the first opening records delivery
//!   (`opened_at`) and writes the act `notification.open` to the audit trail. Another person's message is
//!   `None`, exactly like a message that does not exist;
//! - [`Store::attachment`]`(psn, id, n)` → one attachment's bytes (serve it with `Content-Disposition:
//!   attachment` and `X-Content-Type-Options: nosniff`: the media type is the sender's word).

use chrono::{DateTime, SubsecRound, Utc};
use popreg_domain::access::{Caller, Function};
use popreg_domain::{Code, Psn};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::audit::{Leaf, sha256_hex};
use crate::contacts::{ContactSettings, Owner};
use crate::usage::refused;
use crate::{Dialect, Inner, Store, StoreError, pg_ops, sqlite_ops};

/// The longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest text, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Attachments per notification.
pub const MAX_ATTACHMENTS: usize = 5;
/// The largest attachment, in bytes (decoded). The request as a whole is also bounded by
/// `server.max_body_bytes`.
pub const MAX_ATTACHMENT_BYTES: usize = 2 << 20;
/// Notifications in one batch ([`Store::send_notifications`]).
pub const MAX_BATCH: usize = 1000;
/// All attachments of one notification together, in bytes (decoded).
pub const MAX_ATTACHMENTS_TOTAL: usize = 4 << 20;

/// An outbox row written inside another change's transaction, with what it belongs to (`source`).
pub(crate) const OUTBOX_INSERT: &str = "INSERT INTO outbox (channel, recipient, template, lang, params, dedupe_key, \
     created_at, next_attempt_at, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) \
     ON CONFLICT (dedupe_key) DO NOTHING";

/// The statements of sending a notification, shared by the sqlx path and SQLite's batch writer
/// (`inbox/sqlite_writer.rs`).
pub(crate) const ATTACHMENT_INSERT: &str = "INSERT INTO inbox_attachments (message_id, n, name, media_type, size, \
     sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const BY_IDEMPOTENCY_KEY: &str = "SELECT id, request_sha256, created_at FROM inbox_messages WHERE body_id = $1 \
     AND idempotency_key = $2";
const PERSON_EXISTS: &str = "SELECT 1 FROM persons WHERE psn = $1";
const INBOX_INSERT: &str = "INSERT INTO inbox_messages (id, recipient_psn, body_id, user_uid, channel, \
     idempotency_key, request_sha256, subject, text, legal_significance, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const BODY_NAMES: &str = "SELECT name_hy, name_en, name_ru FROM bodies WHERE id = $1";
const VERIFIED_POINTS: &str = "SELECT id, kind, address, lang FROM contact_points WHERE psn = $1 \
     AND verified_at IS NOT NULL ORDER BY id";

mod sqlite_writer;

/// One outbox row of a notification: its forward to a verified address or number.
struct Forward {
    channel: &'static str,
    address: String,
    template: &'static str,
    lang: String,
    params: serde_json::Value,
    dedupe_key: String,
}

/// The forwards of notification `id` to the recipient's verified contact points `(id, kind, address,
/// lang)`: the e-mail with the whole text, the SMS with a link to the inbox.
fn forwards(
    points: &[(i64, String, String, String)],
    id: &str,
    sender: &Sender,
    n: &NewNotification,
    now: DateTime<Utc>,
    settings: &ContactSettings,
) -> Vec<Forward> {
    let inbox_url = settings.inbox_link_of(&n.recipient, id);
    let files: Vec<&str> = n.attachments.iter().map(|a| a.name.as_str()).collect();
    points
        .iter()
        .map(|(cid, kind, address, lang)| {
            let (channel, template, params) = if kind == "email" {
                (
                    "email",
                    "forwarded",
                    json!({
                        "notification_id": id,
                        "sender": sender.name(lang),
                        "subject": n.subject,
                        "text": n.text,
                        "legal_significance": n.legal_significance,
                        "attachments": files,
                        "created_at": now.to_rfc3339(),
                        "inbox_url": inbox_url,
                        "forwarding_url": settings.forwarding_link_of(&n.recipient),
                    }),
                )
            } else {
                (
                    "sms",
                    "notification_sms",
                    json!({
                        "notification_id": id,
                        "sender": sender.name(lang),
                        "inbox_url": inbox_url,
                    }),
                )
            };
            Forward {
                channel,
                address: address.clone(),
                template,
                lang: lang.clone(),
                params,
                dedupe_key: format!("notification:{id}:{cid}"),
            }
        })
        .collect()
}

/// The audit act of a sent notification.
fn send_act(
    caller: &Caller,
    id: &str,
    psn: &str,
    fingerprint: &str,
    n: &NewNotification,
    forwards: usize,
) -> Leaf {
    Leaf::act(
        "notification.send",
        &format!("{}/{}", caller.body_id, caller.user_uid),
        id,
        json!({
            "recipient": psn,
            "sha256": fingerprint,
            "legal_significance": n.legal_significance,
            "forwards": forwards,
        }),
    )
}

/// A notification whose idempotency key was used before: the same one again (`fingerprint` the same as
/// the stored `same`), or `PSR-SUB-0004`.
fn replay(
    id: String,
    same: &str,
    fingerprint: &str,
    created_at: DateTime<Utc>,
) -> Result<Sent, StoreError> {
    if same != fingerprint {
        return Err(refused(
            Code::IdempotencyConflict,
            "this idempotency key was used for another notification",
        ));
    }
    Ok(Sent::Replay(SentNotification {
        id,
        created_at,
        replayed: true,
    }))
}

fn unknown_person(psn: &str) -> StoreError {
    refused(Code::PsnUnknown, format!("no person with PSN {psn}"))
}

/// A refusal of the `i`-th notification of a batch names it.
fn numbered(i: usize, e: StoreError) -> StoreError {
    match e {
        StoreError::Domain(mut d) => {
            d.detail = format!("notifications[{i}]: {}", d.detail);
            StoreError::Domain(d)
        }
        other => other,
    }
}

/// Write a message's attachments (numbered from 0) inside the transaction `$tx`.
macro_rules! insert_attachments {
    ($tx:ident, $id:expr, $attachments:expr) => {
        for (i, a) in $attachments.iter().enumerate() {
            sqlx::query(crate::inbox::ATTACHMENT_INSERT)
                .bind($id)
                .bind(i as i64)
                .bind(&a.name)
                .bind(&a.media_type)
                .bind(a.content.len() as i64)
                .bind(crate::access::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                    &a.content,
                )))
                .bind(a.content.clone())
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use insert_attachments;

/// A file sent with a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// A notification to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    /// A person by PSN, or a company by TIN (G.6): the message goes to the company inbox, forwarded to the
    /// company's verified addresses.
    pub recipient: Owner,
    pub subject: String,
    pub text: String,
    /// The notification has legal effect (e.g. a summons): its opening is the moment of delivery.
    pub legal_significance: bool,
    pub attachments: Vec<NewAttachment>,
    /// The sender's idempotency key: the same key from the same body is the same notification.
    pub idempotency_key: Option<String>,
}

/// Whether `s` is a media type (`type/subtype`, RFC 6838 tokens).
pub fn valid_media_type(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 64
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    s.split_once('/').is_some_and(|(a, b)| token(a) && token(b))
}

impl NewNotification {
    /// Refuse what cannot be sent: an empty or too long subject or text (`PSR-VAL-0006`, `PSR-VAL-0011`),
    /// attachments without a usable name or media type (`PSR-NTF-0004`), too many or too large ones
    /// (`PSR-NTF-0003`).
    pub fn check(&self) -> Result<(), StoreError> {
        for (field, value, max) in [
            ("subject", &self.subject, MAX_SUBJECT_CHARS),
            ("text", &self.text, MAX_TEXT_CHARS),
        ] {
            if value.trim().is_empty() {
                return Err(refused(Code::MissingField, format!("{field} is empty")));
            }
            if value.chars().count() > max {
                return Err(refused(
                    Code::ValueOutOfRange,
                    format!("{field} is longer than {max} characters"),
                ));
            }
        }
        if self.subject.chars().any(char::is_control) {
            return Err(refused(
                Code::Malformed,
                "subject must be one line without control characters",
            ));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(refused(
                Code::AttachmentTooLarge,
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut total = 0usize;
        for (i, a) in self.attachments.iter().enumerate() {
            let name_ok = !a.name.trim().is_empty()
                && a.name.chars().count() <= 200
                && !a
                    .name
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '/' | '\\'))
                && a.name != "."
                && a.name != "..";
            if !name_ok {
                return Err(refused(
                    Code::AttachmentInvalid,
                    format!(
                        "attachments[{i}].name must be a file name (1 to 200 characters, no path)"
                    ),
                ));
            }
            if !valid_media_type(&a.media_type) {
                return Err(refused(
                    Code::AttachmentInvalid,
                    format!(
                        "attachments[{i}].media_type must be a media type such as application/pdf"
                    ),
                ));
            }
            if a.content.is_empty() {
                return Err(refused(
                    Code::AttachmentInvalid,
                    format!("attachments[{i}].content is empty"),
                ));
            }
            if a.content.len() > MAX_ATTACHMENT_BYTES {
                return Err(refused(
                    Code::AttachmentTooLarge,
                    format!("attachments[{i}] is larger than {MAX_ATTACHMENT_BYTES} bytes"),
                ));
            }
            total += a.content.len();
        }
        if total > MAX_ATTACHMENTS_TOTAL {
            return Err(refused(
                Code::AttachmentTooLarge,
                format!("the attachments together are larger than {MAX_ATTACHMENTS_TOTAL} bytes"),
            ));
        }
        if let Some(k) = &self.idempotency_key
            && (k.is_empty() || k.chars().count() > 200)
        {
            return Err(refused(
                Code::Malformed,
                "the idempotency key must have 1 to 200 characters",
            ));
        }
        Ok(())
    }

    /// What identifies the content: the same key with other content is a conflict.
    fn fingerprint(&self) -> String {
        let files: Vec<_> = self
            .attachments
            .iter()
            .map(|a| {
                json!([
                    a.name,
                    a.media_type,
                    crate::access::hex(&<sha2::Sha256 as sha2::Digest>::digest(&a.content))
                ])
            })
            .collect();
        sha256_hex(
            &json!([
                self.recipient.to_string(),
                self.subject,
                self.text,
                self.legal_significance,
                files
            ])
            .to_string(),
        )
    }
}

/// The body that sent a message, named in the three languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sender {
    pub body_id: String,
    pub name_hy: String,
    pub name_en: String,
    pub name_ru: String,
}

impl Sender {
    /// The name in a language (`hy`, `en`, `ru`; Armenian otherwise).
    pub fn name(&self, lang: &str) -> &str {
        in_lang(lang, &self.name_hy, &self.name_en, &self.name_ru)
    }
}

/// The one of three names for a language (`hy`, `en`, `ru`; Armenian otherwise).
pub(crate) fn in_lang<'a>(lang: &str, hy: &'a str, en: &'a str, ru: &'a str) -> &'a str {
    match lang {
        "en" => en,
        "ru" => ru,
        _ => hy,
    }
}

/// An attachment as listed (without its bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    /// Its number in the message, from 0: [`Store::attachment`] takes it.
    pub n: i64,
    pub name: String,
    pub media_type: String,
    pub size: i64,
}

/// An attachment with its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// One line of the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: String,
    pub sender: Sender,
    /// `notification` (a state body's), `official_mail` (received at the official address, G.3.1),
    /// `forward_failure` (the portal's notice that a forwarding address bounced).
    pub source: String,
    pub subject: String,
    pub legal_significance: bool,
    pub created_at: DateTime<Utc>,
    /// When the person first opened it (delivery); `None`: unread.
    pub opened_at: Option<DateTime<Utc>>,
    pub attachments: i64,
}

/// One page of the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboxPage {
    /// Newest first.
    pub items: Vec<InboxItem>,
    /// Messages never opened, in the whole inbox.
    pub unread: i64,
    /// Messages in the whole inbox.
    pub total: i64,
}

/// A whole message, as the person reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboxMessage {
    pub id: String,
    pub recipient_psn: String,
    pub sender: Sender,
    /// As [`InboxItem::source`].
    pub source: String,
    /// Official mail that could not be parsed as MIME: only its raw form is meaningful.
    pub malformed: bool,
    pub subject: String,
    pub text: String,
    pub legal_significance: bool,
    pub created_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub attachments: Vec<AttachmentInfo>,
}

/// The answer to a sending body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentNotification {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// The same idempotency key was used before: this is that notification, nothing new was sent.
    #[serde(skip)]
    pub replayed: bool,
}

/// Delivery to one destination, with Notify's statuses: `created`, `sending`, `delivered`,
/// `temporary-failure`, `permanent-failure`, `technical-failure`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryStatus {
    /// `portal` (the inbox; delivered when the person opens it), `email`, `sms`.
    pub channel: String,
    /// The address, masked (`a***@example.am`, `+374*****567`); empty for the portal.
    pub to: String,
    pub status: String,
    pub attempts: i64,
    /// When it was delivered (sent to the relay, or opened in the portal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The version of the template the e-mail or SMS is rendered from: the one current when it was
    /// enqueued (`templates.rs`); absent for the portal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_version: Option<i64>,
}

/// What the sending body may see of its notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationStatus {
    pub id: String,
    /// The person it was sent to; absent for a company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_psn: Option<String>,
    /// The company it was sent to (G.6); absent for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_tin: Option<String>,
    pub legal_significance: bool,
    pub created_at: DateTime<Utc>,
    pub destinations: Vec<DeliveryStatus>,
}

/// An address with most of it hidden: the sending body learns that a forward went out, not where.
pub fn mask_address(channel: &str, to: &str) -> String {
    if channel == "email" {
        let (local, domain) = to.split_once('@').unwrap_or((to, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    } else {
        let n = to.chars().count();
        to.chars()
            .enumerate()
            .map(|(i, c)| if i < 4 || i + 3 >= n { c } else { '*' })
            .collect()
    }
}

/// Notify's status of an outbox row that was not given up. `sent_at`: handed over, and whether that was
/// its delivery (an e-mail accepted by the relay) or a receipt said so (an SMS).
fn outbox_status(
    sent_at: Option<Option<DateTime<Utc>>>,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> &'static str {
    match (sent_at, attempts, failure) {
        (Some(Some(_)), _, _) => "delivered",
        (Some(None), _, _) => "sending",
        (None, 0, _) if next_attempt_at > now => "sending",
        (None, 0, _) => "created",
        (None, _, Some("permanent")) => "permanent-failure",
        (None, _, Some("technical")) => "technical-failure",
        (None, _, _) => "temporary-failure",
    }
}

type ItemRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i64,
    String,
    Option<String>,
);

const ITEM_SELECT: &str = "SELECT m.id, m.body_id, b.name_hy, b.name_en, b.name_ru, m.subject, m.legal_significance, \
     m.created_at, m.opened_at, (SELECT COUNT(*) FROM inbox_attachments a WHERE a.message_id = m.id), \
     m.source, i.from_header \
     FROM inbox_messages m LEFT JOIN bodies b ON b.id = m.body_id LEFT JOIN inbound_mail i ON i.id = m.mail_id";

/// The sender of a message: the state body that sent it, or the `From:` of official mail.
fn sender_or_mail(
    body_id: String,
    hy: Option<String>,
    en: Option<String>,
    ru: Option<String>,
    from_header: Option<String>,
) -> Sender {
    match from_header {
        Some(from) => sender_of(body_id, Some(from.clone()), Some(from.clone()), Some(from)),
        None => sender_of(body_id, hy, en, ru),
    }
}

pub(crate) fn sender_of(
    body_id: String,
    hy: Option<String>,
    en: Option<String>,
    ru: Option<String>,
) -> Sender {
    Sender {
        name_hy: hy.unwrap_or_else(|| body_id.clone()),
        name_en: en.unwrap_or_else(|| body_id.clone()),
        name_ru: ru.unwrap_or_else(|| body_id.clone()),
        body_id,
    }
}

fn item_of(r: ItemRow) -> InboxItem {
    InboxItem {
        id: r.0,
        sender: sender_or_mail(r.1, r.2, r.3, r.4, r.11),
        source: r.10,
        subject: r.5,
        legal_significance: r.6,
        created_at: r.7,
        opened_at: r.8,
        attachments: r.9,
    }
}

/// What the send transaction decided.
pub(crate) enum Sent {
    New(SentNotification),
    /// The key was used before with the same content.
    Replay(SentNotification),
    /// A concurrent request with the same key committed first: look again.
    Raced,
}

macro_rules! inbox_ops {
    ($module:ident, $db:ty, $ops:ident) => {
        pub(crate) mod $module {
            use super::*;
            type DB = $db;

            pub(crate) async fn send(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                caller: &Caller,
                n: &NewNotification,
                fingerprint: &str,
                settings: &ContactSettings,
            ) -> Result<Sent, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let sender = sender_in(&mut *tx, &caller.body_id).await?;
                let (sent, act) = write(&mut *tx, now, caller, &sender, n, fingerprint, settings).await?;
                if let Some(act) = act {
                    crate::$ops::audit::append(&mut tx, now, &[act]).await?;
                    tx.commit().await?;
                }
                Ok(sent)
            }

            /// [`send`] for several notifications of one body in one transaction (the batch form of
            /// the sending API): all are written, with their audit acts, or none. A race on an
            /// idempotency key is `Raced` for the whole batch. (SQLite's batch goes through
            /// `inbox/sqlite_writer.rs`; this one serves PostgreSQL.)
            #[allow(dead_code)]
            pub(crate) async fn send_batch(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                caller: &Caller,
                ns: &[(NewNotification, String)],
                settings: &ContactSettings,
            ) -> Result<Option<Vec<SentNotification>>, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let mut out = Vec::with_capacity(ns.len());
                let mut acts = vec![];
                let sender = sender_in(&mut *tx, &caller.body_id).await?;
                for (i, (n, fingerprint)) in ns.iter().enumerate() {
                    let (sent, act) = write(&mut *tx, now, caller, &sender, n, fingerprint, settings)
                        .await
                        .map_err(|e| numbered(i, e))?;
                    match sent {
                        Sent::New(s) | Sent::Replay(s) => out.push(s),
                        Sent::Raced => return Ok(None),
                    }
                    acts.extend(act);
                }
                crate::$ops::audit::append(&mut tx, now, &acts).await?;
                tx.commit().await?;
                Ok(Some(out))
            }

            /// The sending body with its names, as the recipient's message shows it.
            async fn sender_in(
                tx: &mut <DB as sqlx::Database>::Connection,
                body_id: &str,
            ) -> Result<Sender, StoreError> {
                let names: Option<(String, String, String)> =
                    sqlx::query_as(BODY_NAMES).bind(body_id).fetch_optional(&mut *tx).await?;
                let (hy, en, ru) = names.map_or((None, None, None), |(a, b, c)| (Some(a), Some(b), Some(c)));
                Ok(sender_of(body_id.to_string(), hy, en, ru))
            }

            /// Write one notification in `tx`: its inbox message, attachments and outbox rows; the
            /// audit act to append is returned (none for a replay or a race).
            async fn write(
                tx: &mut <DB as sqlx::Database>::Connection,
                now: DateTime<Utc>,
                caller: &Caller,
                sender: &Sender,
                n: &NewNotification,
                fingerprint: &str,
                settings: &ContactSettings,
            ) -> Result<(Sent, Option<Leaf>), StoreError> {
                if let Some(key) = &n.idempotency_key {
                    let row = sqlx::query(BY_IDEMPOTENCY_KEY)
                        .bind(&caller.body_id)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(r) = row {
                        let same: String = r.try_get(1)?;
                        return Ok((replay(r.try_get(0)?, &same, fingerprint, r.try_get(2)?)?, None));
                    }
                }
                let psn = n.recipient.key();
                // A person must be in the register; a company is not kept here (the caller checked it
                // against the legal-entity registry).
                if let Owner::Person(p) = n.recipient
                    && sqlx::query(PERSON_EXISTS)
                        .bind(p.to_string())
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_none()
                {
                    return Err(unknown_person(&psn));
                }
                let id = crate::access::random_hex(16)?;
                let inserted = sqlx::query(INBOX_INSERT)
                    .bind(&id)
                    .bind(&psn)
                    .bind(&caller.body_id)
                    .bind(&caller.user_uid)
                    .bind(caller.channel.as_str())
                    .bind(&n.idempotency_key)
                    .bind(fingerprint)
                    .bind(&n.subject)
                    .bind(&n.text)
                    .bind(n.legal_significance)
                    .bind(now)
                    .execute(&mut *tx)
                    .await;
                match inserted {
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Ok((Sent::Raced, None)),
                    Err(e) => return Err(e.into()),
                    Ok(_) => {}
                }
                insert_attachments!(tx, &id, &n.attachments);
                let points: Vec<(i64, String, String, String)> = sqlx::query_as(VERIFIED_POINTS)
                    .bind(&psn)
                    .fetch_all(&mut *tx)
                    .await?;
                let source = format!("notification:{id}");
                for f in forwards(&points, &id, sender, n, now, settings) {
                    sqlx::query(OUTBOX_INSERT)
                        .bind(f.channel)
                        .bind(&f.address)
                        .bind(f.template)
                        .bind(&f.lang)
                        .bind(f.params.to_string())
                        .bind(&f.dedupe_key)
                        .bind(now)
                        .bind(&source)
                        .execute(&mut *tx)
                        .await?;
                }
                let act = send_act(caller, &id, &psn, fingerprint, n, points.len());
                Ok((Sent::New(SentNotification { id, created_at: now, replayed: false }), Some(act)))
            }

            pub(crate) async fn open(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                owner: Owner,
                reader: Psn,
                id: &str,
            ) -> Result<Option<InboxMessage>, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let row = sqlx::query(
                    "SELECT m.id, m.body_id, b.name_hy, b.name_en, b.name_ru, m.subject, m.text, \
                     m.legal_significance, m.created_at, m.opened_at, m.source, i.from_header, i.malformed \
                     FROM inbox_messages m LEFT JOIN bodies b ON b.id = m.body_id \
                     LEFT JOIN inbound_mail i ON i.id = m.mail_id WHERE m.id = $1 AND m.recipient_psn = $2",
                )
                .bind(id)
                .bind(owner.key())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(r) = row else {
                    return Ok(None);
                };
                let mut opened_at: Option<DateTime<Utc>> = r.try_get(9)?;
                if opened_at.is_none() {
                    sqlx::query("UPDATE inbox_messages SET opened_at = $1 WHERE id = $2 AND opened_at IS NULL")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let mut details = json!({ "body": r.try_get::<String, _>(1)? });
                    if let Owner::Company(tin) = owner {
                        details["company"] = json!(tin.as_str());
                    }
                    let act = Leaf::act("notification.open", &reader.to_string(), id, details);
                    crate::$ops::audit::append(&mut tx, now, &[act]).await?;
                    opened_at = Some(now);
                }
                let files: Vec<(i64, String, String, i64)> = sqlx::query_as(
                    "SELECT n, name, media_type, size FROM inbox_attachments WHERE message_id = $1 ORDER BY n",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(InboxMessage {
                    id: r.try_get(0)?,
                    recipient_psn: owner.key(),
                    sender: sender_or_mail(
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(11)?,
                    ),
                    source: r.try_get(10)?,
                    malformed: r.try_get::<Option<bool>, _>(12)?.unwrap_or(false),
                    subject: r.try_get(5)?,
                    text: r.try_get(6)?,
                    legal_significance: r.try_get(7)?,
                    created_at: r.try_get(8)?,
                    opened_at,
                    attachments: files
                        .into_iter()
                        .map(|(n, name, media_type, size)| AttachmentInfo { n, name, media_type, size })
                        .collect(),
                }))
            }
        }
    };
}

inbox_ops!(sqlite_inbox, sqlx::Sqlite, sqlite_ops);
inbox_ops!(pg_inbox, sqlx::Postgres, pg_ops);

impl Store {
    /// Send a notification to a person (A1.5.6, G.3.2): the inbox message, its forwards to the person's
    /// verified addresses and the audit act, in one transaction. Needs `send_notifications`
    /// (`PSR-API-0007`); an unknown PSN is `PSR-PSN-0004`; the content is checked by
    /// [`NewNotification::check`]; a reused idempotency key with other content is `PSR-SUB-0004`.
    pub async fn send_notification(
        &self,
        caller: &Caller,
        n: &NewNotification,
        settings: &ContactSettings,
    ) -> Result<SentNotification, StoreError> {
        if !caller.may(Function::SendNotifications) {
            return Err(refused(
                Code::Forbidden,
                "sending notifications needs the function send_notifications",
            ));
        }
        n.check()?;
        let fingerprint = n.fingerprint();
        for _ in 0..2 {
            let now = self.clock.now().trunc_subsecs(6);
            let sent = match &self.inner {
                Inner::Sqlite { write, .. } => {
                    sqlite_inbox::send(write, now, caller, n, &fingerprint, settings).await?
                }
                Inner::Postgres(pool) => {
                    pg_inbox::send(pool, now, caller, n, &fingerprint, settings).await?
                }
            };
            match sent {
                Sent::New(s) | Sent::Replay(s) => return Ok(s),
                Sent::Raced => continue,
            }
        }
        Err(StoreError::Database(
            "the notification could not be written; try again".into(),
        ))
    }

    /// The batch form of [`Store::send_notification`]: up to [`MAX_BATCH`] notifications of one body
    /// (e.g. one text to a list of recipients) written in one transaction, all or none, each with its
    /// inbox message, outbox rows and audit act as if sent alone. A refusal names the notification
    /// (`notifications[i]: …`); the ids come back in order.
    pub async fn send_notifications(
        &self,
        caller: &Caller,
        ns: &[NewNotification],
        settings: &ContactSettings,
    ) -> Result<Vec<SentNotification>, StoreError> {
        if !caller.may(Function::SendNotifications) {
            return Err(refused(
                Code::Forbidden,
                "sending notifications needs the function send_notifications",
            ));
        }
        if ns.is_empty() || ns.len() > MAX_BATCH {
            return Err(refused(
                Code::ValueOutOfRange,
                format!("1 to {MAX_BATCH} notifications in one batch"),
            ));
        }
        let mut checked = Vec::with_capacity(ns.len());
        for (i, n) in ns.iter().enumerate() {
            n.check().map_err(|e| numbered(i, e))?;
            checked.push((n.clone(), n.fingerprint()));
        }
        for _ in 0..2 {
            let now = self.clock.now().trunc_subsecs(6);
            let sent = match &self.inner {
                Inner::Sqlite { write, .. } => {
                    sqlite_writer::send_batch(write, now, caller, &checked, settings).await?
                }
                Inner::Postgres(pool) => {
                    pg_inbox::send_batch(pool, now, caller, &checked, settings).await?
                }
            };
            if let Some(sent) = sent {
                return Ok(sent);
            }
        }
        Err(StoreError::Database(
            "the notifications could not be written; try again".into(),
        ))
    }

    /// Delivery of a notification per destination, for the body that sent it (`None` for any other body,
    /// and for an unknown id).
    pub async fn notification_status(
        &self,
        body_id: &str,
        id: &str,
    ) -> Result<Option<NotificationStatus>, StoreError> {
        let now = self.clock.now();
        type OutRow = (
            String,
            String,
            Option<DateTime<Utc>>,
            i64,
            DateTime<Utc>,
            Option<String>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            i64,
        );
        let cast = match self.dialect() {
            Dialect::Postgres => "CAST(attempts AS BIGINT)",
            Dialect::Sqlite => "attempts",
        };
        let out_sql = format!(
            "SELECT channel, recipient, sent_at, {cast}, next_attempt_at, failure, delivered_at, \
             given_up_at, CAST(COALESCE(template_version, 1) AS BIGINT) FROM outbox WHERE source = $1 ORDER BY id"
        );
        type HeadRow = (String, String, bool, DateTime<Utc>, Option<DateTime<Utc>>);
        let (head, rows): (Option<HeadRow>, Vec<OutRow>) = dispatch!(self, read, pool, ops => {
            let head: Option<HeadRow> = sqlx::query_as(
                "SELECT id, recipient_psn, legal_significance, created_at, opened_at FROM inbox_messages \
                 WHERE id = $1 AND body_id = $2",
            )
            .bind(id)
            .bind(body_id)
            .fetch_optional(pool)
            .await?;
            let rows: Vec<OutRow> = if head.is_some() {
                sqlx::query_as(sqlx::AssertSqlSafe(out_sql))
                    .bind(format!("notification:{id}"))
                    .fetch_all(pool)
                    .await?
            } else {
                vec![]
            };
            (head, rows)
        });
        let Some((id, recipient, legal, created_at, opened_at)) = head else {
            return Ok(None);
        };
        let mut destinations = vec![DeliveryStatus {
            channel: "portal".into(),
            to: String::new(),
            status: if opened_at.is_some() {
                "delivered"
            } else {
                "created"
            }
            .into(),
            attempts: 0,
            delivered_at: opened_at,
            template_version: None,
        }];
        for (channel, to, sent_at, attempts, next, failure, delivered_at, given_up_at, version) in
            rows
        {
            // An SMS is delivered by its receipt; until then, handed to the provider, it is on its way.
            let (sent_at, delivered_at) = if channel == "sms" {
                (sent_at.map(|_| delivered_at), delivered_at)
            } else {
                (sent_at.map(Some), sent_at)
            };
            let status = if given_up_at.is_some() {
                "permanent-failure"
            } else {
                outbox_status(sent_at, attempts, next, failure.as_deref(), now)
            };
            destinations.push(DeliveryStatus {
                status: status.into(),
                to: mask_address(&channel, &to),
                channel,
                attempts,
                delivered_at,
                template_version: Some(version),
            });
        }
        Ok(Some(NotificationStatus {
            id,
            recipient_psn: match Owner::from_key(&recipient) {
                Some(Owner::Company(_)) => None,
                _ => Some(recipient.clone()),
            },
            recipient_tin: match Owner::from_key(&recipient) {
                Some(Owner::Company(t)) => Some(t.to_string()),
                _ => None,
            },
            legal_significance: legal,
            created_at,
            destinations,
        }))
    }

    /// A page of a person's inbox, newest first, with the unread count and the total.
    pub async fn inbox(
        &self,
        owner: impl Into<Owner>,
        offset: i64,
        limit: i64,
    ) -> Result<InboxPage, StoreError> {
        let owner: Owner = owner.into();
        let sql = format!(
            "{ITEM_SELECT} WHERE m.recipient_psn = $1 ORDER BY m.created_at DESC, m.id LIMIT $2 OFFSET $3"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(owner.key())
                .bind(limit.clamp(1, 500))
                .bind(offset.max(0))
                .fetch_all(pool)
                .await?;
            let counts = sqlx::query(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN opened_at IS NULL THEN 1 ELSE 0 END), 0) \
                 FROM inbox_messages WHERE recipient_psn = $1",
            )
            .bind(owner.key())
            .fetch_one(pool)
            .await?;
            Ok(InboxPage {
                items: rows.into_iter().map(item_of).collect(),
                total: counts.try_get(0)?,
                unread: counts.try_get(1)?,
            })
        })
    }

    /// Open one of the person's messages. The first opening records delivery (`opened_at`) and the act
    /// `notification.open` in the audit trail. `None` for another person's message or an unknown id.
    pub async fn open_message(
        &self,
        psn: Psn,
        id: &str,
    ) -> Result<Option<InboxMessage>, StoreError> {
        self.open_message_of(Owner::Person(psn), psn, id).await
    }

    /// Open a message of `owner`'s inbox as the person `reader`: the person themselves, or for a company
    /// (G.6) a person the caller has checked holds a role in it. The act names the reader (and the company).
    pub async fn open_message_of(
        &self,
        owner: Owner,
        reader: Psn,
        id: &str,
    ) -> Result<Option<InboxMessage>, StoreError> {
        if id.len() > 64 {
            return Ok(None);
        }
        let now = self.clock.now().trunc_subsecs(6);
        match &self.inner {
            Inner::Sqlite { write, .. } => sqlite_inbox::open(write, now, owner, reader, id).await,
            Inner::Postgres(pool) => pg_inbox::open(pool, now, owner, reader, id).await,
        }
    }

    /// Attachment `n` (from 0) of one of the person's messages; `None` if the message is not theirs or
    /// has no such attachment.
    pub async fn attachment(
        &self,
        owner: impl Into<Owner>,
        id: &str,
        n: i64,
    ) -> Result<Option<Attachment>, StoreError> {
        let owner: Owner = owner.into();
        dispatch!(self, read, pool, ops => {
            let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
                "SELECT a.name, a.media_type, a.content FROM inbox_attachments a JOIN inbox_messages m \
                 ON m.id = a.message_id WHERE a.message_id = $1 AND a.n = $2 AND m.recipient_psn = $3",
            )
            .bind(id)
            .bind(n)
            .bind(owner.key())
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(name, media_type, content)| Attachment { name, media_type, content }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_for_the_sending_body() {
        assert_eq!(mask_address("email", "anna@example.am"), "a***@example.am");
        assert_eq!(mask_address("sms", "+37491234567"), "+374*****567");
    }

    #[test]
    fn outbox_rows_get_notify_statuses() {
        let t = chrono::Utc::now();
        let later = t + chrono::Duration::minutes(5);
        assert_eq!(outbox_status(Some(Some(t)), 1, t, None, t), "delivered");
        assert_eq!(outbox_status(Some(None), 1, t, None, t), "sending");
        assert_eq!(outbox_status(None, 0, t, None, t), "created");
        assert_eq!(outbox_status(None, 0, later, None, t), "sending");
        assert_eq!(
            outbox_status(None, 2, later, Some("temporary"), t),
            "temporary-failure"
        );
        assert_eq!(
            outbox_status(None, 2, later, Some("permanent"), t),
            "permanent-failure"
        );
        assert_eq!(
            outbox_status(None, 1, later, Some("technical"), t),
            "technical-failure"
        );
    }
}
