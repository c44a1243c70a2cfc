//! Entries: the immutable log records that are the register's truth (A2.1).
//!
//! An entry is never updated or deleted. A correction is a new entry whose `supersedes` names the old one; a
//! manual rejection is a [`Fact::Retraction`]. Every entry carries who submitted it (provider body and user UID,
//! A1.37), through which channel (A1.35), the external ids of the request, the transaction time it was recorded
//! and the valid time of its fact.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Fact;
use crate::psn::Psn;

/// Through which channel an entry arrived (A1.35).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Api,
    XRoad,
    /// Bulk import (initial load, synthetic population).
    Import,
    /// Derived by the register itself from another entry.
    System,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::XRoad => "x_road",
            Channel::Import => "import",
            Channel::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s {
            "web" => Channel::Web,
            "api" => Channel::Api,
            "x_road" => Channel::XRoad,
            "import" => Channel::Import,
            "system" => Channel::System,
            _ => return None,
        })
    }
}

/// Identifiers of the request that carried the entry; kept with the entry for tracing and idempotency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xroad_client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xroad_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xroad_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xroad_issue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Who submitted a group of entries, and how. Shared by all entries written in one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The provider body's identifier.
    pub provider: String,
    /// The identified user's UID (A1.37).
    pub user_uid: String,
    pub channel: Channel,
    #[serde(default)]
    pub external: ExternalIds,
}

/// An entry to be appended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEntry {
    pub subject: Psn,
    pub fact: Fact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<i64>,
}

impl NewEntry {
    pub fn new(subject: Psn, fact: Fact) -> NewEntry {
        NewEntry {
            subject,
            fact,
            supersedes: None,
        }
    }
}

/// A recorded entry as read back from the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    pub subject: Psn,
    pub kind: String,
    pub fact: Fact,
    pub provider: String,
    pub user_uid: String,
    pub channel: Channel,
    #[serde(default)]
    pub external: ExternalIds,
    /// Transaction time: when the register recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Valid time: from when the fact holds, and until when if it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<i64>,
}

impl Entry {
    /// Build the recorded form of a new entry (the store assigns `id` and `recorded_at`).
    pub fn recorded(
        id: i64,
        recorded_at: DateTime<Utc>,
        new: NewEntry,
        prov: &Provenance,
    ) -> Entry {
        let (valid_from, valid_to) = new.fact.valid_period();
        Entry {
            id,
            subject: new.subject,
            kind: new.fact.kind().to_string(),
            fact: new.fact,
            provider: prov.provider.clone(),
            user_uid: prov.user_uid.clone(),
            channel: prov.channel,
            external: prov.external.clone(),
            recorded_at,
            valid_from,
            valid_to,
            supersedes: new.supersedes,
        }
    }
}
