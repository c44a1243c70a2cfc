//! The sending API of the Notification System (A1.5.6, G.3.2–3) for state bodies:
//!
//! - `POST /api/v1/notifications` (JSON in; JSON or XML out): a notification to a person by PSN
//!   (`recipient_psn`), or to a company by TIN (`recipient_tin`, G.6: checked against the legal-entity
//!   registry, stored in the company inbox and forwarded to the company's verified addresses) — subject,
//!   text, optional attachments (base64), legal significance, an idempotency key (`Idempotency-Key` header
//!   or `idempotency_key` field). One transaction writes the inbox message and its forwards to the person's
//!   verified e-mail addresses and phones. With `"paper_delivery": true` the answer also carries the
//!   address for official notices (A1.21.2.b), read through the access gate: the body then needs
//!   `read_persons` and a grant of `person.notice_address`, and the read is in the usage log.
//! - `POST /api/v1/notifications/batch`: the batch form, `{"notifications": [ … ]}` with 1 to
//!   [`MAX_BATCH`] notifications as above (each with its own `idempotency_key`; no `Idempotency-Key`
//!   header, no `paper_delivery`), within the server's body limit. **All or none**: one transaction writes
//!   them all, or a refusal names the first notification that cannot be sent (`notifications[i]: …`) and
//!   none is. The answer lists each notification's id, time, status URL and whether it was a replay of
//!   its idempotency key, in the order sent.
//! - `GET /api/v1/notifications/{id}`: delivery per destination (Notify's statuses), to the sending body
//!   only.
//!
//! All need the function `send_notifications`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use popreg_domain::access::Function;
use popreg_domain::{Code, Psn, Tin};
use popreg_store::{
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_BATCH, NewAttachment, NewNotification, Owner,
    Released, View,
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;
use crate::manage::{detached, json_body, require_json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", post(send))
        .route("/notifications/batch", post(send_batch))
        .route("/notifications/{id}", get(status))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentIn {
    name: String,
    media_type: String,
    /// The file, base64 (RFC 4648, with padding).
    content_base64: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    recipient_psn: Option<String>,
    /// A company by its taxpayer number (G.6): the company inbox, forwarded to its verified addresses.
    recipient_tin: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    legal_significance: bool,
    #[serde(default)]
    attachments: Vec<AttachmentIn>,
    #[serde(default)]
    paper_delivery: bool,
    idempotency_key: Option<String>,
}

#[derive(Serialize)]
struct SendAnswer {
    id: String,
    created_at: chrono::DateTime<chrono::Utc>,
    status_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    paper_delivery: Option<PaperDelivery>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    notifications: Vec<SendRequest>,
}

#[derive(Serialize)]
struct BatchItem {
    id: String,
    created_at: chrono::DateTime<chrono::Utc>,
    status_url: String,
    /// Its idempotency key was used before: this is that notification, nothing new was sent.
    replayed: bool,
}

#[derive(Serialize)]
struct BatchAnswer {
    notifications: Vec<BatchItem>,
}

#[derive(Serialize)]
struct PaperDelivery {
    date: chrono::NaiveDate,
    /// `null`: the register knows no address for official notices on that day.
    notice_address: Option<popreg_domain::person::NoticeAddress>,
    usage_id: i64,
}

fn malformed(ctx: &Ctx, code: Code, detail: impl Into<String>) -> ApiError {
    ctx.err(ApiError::new(code, detail))
}

/// `POST /api/v1/notifications`
async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::SendNotifications).map_err(|e| ctx.err(e))?;
    require_json(&ctx, &headers, "the notification")?;
    let req: SendRequest = json_body(&ctx, &body)?;
    let paper_delivery = req.paper_delivery;
    let n = notification_of(&ctx, who.external.idempotency_key.as_ref(), req)?;
    let recipient = n.recipient;
    if paper_delivery && matches!(recipient, Owner::Company(_)) {
        return Err(malformed(
            &ctx,
            Code::Malformed,
            "paper_delivery is for persons only: the register keeps no address of a company",
        ));
    }

    // Paper delivery: the official-notice address (A1.21.2.b), through the gate, before anything is sent.
    // A company must exist in the legal-entity registry (G.6); the register keeps none itself.
    company_exists(&state, &ctx, recipient).await?;
    let paper = if let (true, Owner::Person(psn)) = (paper_delivery, recipient) {
        let date = popreg_store::armenian_date(state.0.store.clock().now());
        let r = state
            .0
            .store
            .read_person(&who, psn, View::NoticeAddress(date))
            .await
            .map_err(|e| ctx.err(e))?
            .ok_or_else(|| {
                malformed(&ctx, Code::PsnUnknown, format!("no person with PSN {psn}"))
            })?;
        let Released::NoticeAddress(notice_address) = r.data else {
            return Err(malformed(
                &ctx,
                Code::Internal,
                "the gate released no address",
            ));
        };
        Some(PaperDelivery {
            date,
            notice_address,
            usage_id: r.usage_id,
        })
    } else {
        None
    };

    let store = state.0.store.clone();
    let settings = state.0.config.contacts.clone();
    let sent = detached(&ctx, "notification", async move {
        store.send_notification(&who, &n, &settings).await
    })
    .await?;
    let mut resp = ctx.render(
        "notification",
        &SendAnswer {
            status_url: format!("/api/v1/notifications/{}", sent.id),
            id: sent.id,
            created_at: sent.created_at,
            paper_delivery: paper,
        },
    )?;
    if sent.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    } else {
        *resp.status_mut() = StatusCode::CREATED;
    }
    Ok(resp)
}

/// `POST /api/v1/notifications/batch`: all or none (see the module's documentation).
async fn send_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::SendNotifications).map_err(|e| ctx.err(e))?;
    require_json(&ctx, &headers, "the notifications")?;
    if who.external.idempotency_key.is_some() {
        return Err(malformed(
            &ctx,
            Code::Malformed,
            "the batch form takes an idempotency_key in each notification, not the Idempotency-Key header",
        ));
    }
    let req: BatchRequest = json_body(&ctx, &body)?;
    if req.notifications.is_empty() || req.notifications.len() > MAX_BATCH {
        return Err(malformed(
            &ctx,
            Code::ValueOutOfRange,
            format!("1 to {MAX_BATCH} notifications in one batch"),
        ));
    }
    let mut ns: Vec<NewNotification> = Vec::with_capacity(req.notifications.len());
    for (i, item) in req.notifications.into_iter().enumerate() {
        let named = |mut e: ApiError| {
            e.detail = format!("notifications[{i}]: {}", e.detail);
            e
        };
        if item.paper_delivery {
            return Err(named(malformed(
                &ctx,
                Code::Malformed,
                "paper_delivery is not available in the batch form: send that notification alone",
            )));
        }
        let n = notification_of(&ctx, None, item).map_err(named)?;
        // Each company once.
        if !ns.iter().any(|m| m.recipient == n.recipient) {
            company_exists(&state, &ctx, n.recipient)
                .await
                .map_err(named)?;
        }
        ns.push(n);
    }
    let store = state.0.store.clone();
    let settings = state.0.config.contacts.clone();
    let sent = detached(&ctx, "notifications", async move {
        store.send_notifications(&who, &ns, &settings).await
    })
    .await?;
    let all_replayed = sent.iter().all(|s| s.replayed);
    let mut resp = ctx.render(
        "notifications",
        &BatchAnswer {
            notifications: sent
                .into_iter()
                .map(|s| BatchItem {
                    status_url: format!("/api/v1/notifications/{}", s.id),
                    id: s.id,
                    created_at: s.created_at,
                    replayed: s.replayed,
                })
                .collect(),
        },
    )?;
    if !all_replayed {
        *resp.status_mut() = StatusCode::CREATED;
    }
    Ok(resp)
}

/// The notification a request describes, checked; `header_key`: the `Idempotency-Key` header.
fn notification_of(
    ctx: &Ctx,
    header_key: Option<&String>,
    req: SendRequest,
) -> Result<NewNotification, ApiError> {
    let recipient = match (req.recipient_psn.as_deref(), req.recipient_tin.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(malformed(
                ctx,
                Code::Malformed,
                "name the recipient by recipient_psn or by recipient_tin, not both",
            ));
        }
        (Some(p), None) => Owner::Person(Psn::parse(p).map_err(|e| ctx.err(e))?),
        (None, Some(t)) => Owner::Company(Tin::parse(t).map_err(|e| ctx.err(e))?),
        (None, None) => {
            return Err(malformed(
                ctx,
                Code::MissingField,
                "recipient_psn (a person) or recipient_tin (a company) is required",
            ));
        }
    };
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(malformed(
            ctx,
            Code::AttachmentTooLarge,
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut attachments = Vec::with_capacity(req.attachments.len());
    for (i, a) in req.attachments.into_iter().enumerate() {
        // Refuse before decoding what cannot fit.
        if a.content_base64.len() > MAX_ATTACHMENT_BYTES.div_ceil(3) * 4 + 4 {
            return Err(malformed(
                ctx,
                Code::AttachmentTooLarge,
                format!("attachments[{i}] is larger than {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        let content = popreg_store::base64_decode(a.content_base64.trim()).ok_or_else(|| {
            malformed(
                ctx,
                Code::AttachmentInvalid,
                format!("attachments[{i}].content_base64 is not base64"),
            )
        })?;
        attachments.push(NewAttachment {
            name: a.name,
            media_type: a.media_type.trim().to_ascii_lowercase(),
            content,
        });
    }
    let key = match (header_key, req.idempotency_key) {
        (Some(h), Some(b)) if *h != b => {
            return Err(malformed(
                ctx,
                Code::Malformed,
                "the Idempotency-Key header and idempotency_key differ",
            ));
        }
        (Some(h), _) => Some(h.clone()),
        (None, b) => b,
    };
    let n = NewNotification {
        recipient,
        subject: req.subject,
        text: req.body,
        legal_significance: req.legal_significance,
        attachments,
        idempotency_key: key,
    };
    n.check().map_err(|e| ctx.err(e))?;
    Ok(n)
}

/// A company must exist in the legal-entity registry (G.6); the register keeps none itself. A person
/// passes.
async fn company_exists(state: &AppState, ctx: &Ctx, recipient: Owner) -> Result<(), ApiError> {
    if let Owner::Company(tin) = recipient {
        match state.0.config.registries.company(tin).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(malformed(
                    ctx,
                    Code::CompanyUnknown,
                    format!("the legal-entity registry has no company with TIN {tin}"),
                ));
            }
            Err(e) => return Err(ctx.err(e)),
        }
    }
    Ok(())
}

/// `GET /api/v1/notifications/{id}`
async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::SendNotifications).map_err(|e| ctx.err(e))?;
    let found = if id.len() <= 64 {
        state
            .0
            .store
            .notification_status(&who.body_id, &id)
            .await
            .map_err(|e| ctx.err(e))?
    } else {
        None
    };
    match found {
        Some(s) => ctx.render("notification_status", &s),
        None => Err(malformed(
            &ctx,
            Code::NotificationUnknown,
            "no notification with this id from this body",
        )),
    }
}
