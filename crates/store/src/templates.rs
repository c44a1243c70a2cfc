//! Versioned notification templates (issue 7, item 2; like GOV.UK Notify).
//!
//! The text shipped in the Fluent files of `popreg-notify` is version 1 of every template and is not
//! stored. An administrator (`manage_access`, the `/admin/templates` pages) saves a new version of one
//! language's subject and body: [`Store::add_template_version`] numbers it (per template, from 2), writes
//! it and the audit act `template.version` in one transaction. Versions never change once written.
//!
//! Every outbox row records the version current when it was enqueued (`outbox.template_version`, filled
//! in by a trigger in the writer's transaction, migration 0014), and delivery renders that version with
//! [`Store::template_text`]: a later edit never changes a queued message.
//!
//! The placeholders of a text are checked by `popreg_notify::templates::check_text` before it is saved
//! (the store does not know which placeholders a template has).

use chrono::{DateTime, SubsecRound, Utc};
use popreg_domain::classifiers::Lang;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::access::{INSERT_EVENT, begin_write, malformed, record, text};
use crate::{Dialect, Inner, Store, StoreError, pg_ops, sqlite_ops};

/// The longest subject of a template version, in characters.
pub const MAX_TEMPLATE_SUBJECT_CHARS: usize = 300;
/// The longest body of a template version, in characters.
pub const MAX_TEMPLATE_BODY_CHARS: usize = 20_000;

/// One saved version of a template in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateVersion {
    pub template: String,
    /// From 2 (version 1 is the shipped text).
    pub version: i64,
    pub lang: String,
    /// The Fluent pattern of the subject (empty for an SMS text).
    pub subject: String,
    /// The Fluent pattern of the body (an SMS: its text).
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// The administrator's user id.
    pub created_by: String,
}

type VersionRow = (String, i64, String, String, String, DateTime<Utc>, String);

fn version_of(r: VersionRow) -> TemplateVersion {
    let (template, version, lang, subject, body, created_at, created_by) = r;
    TemplateVersion {
        template,
        version,
        lang,
        subject,
        body,
        created_at,
        created_by,
    }
}

const COLUMNS: &str =
    "template, CAST(version AS BIGINT), lang, subject, body, created_at, created_by";

/// A template's name: lower-case ASCII letters, digits and `_`, 1 to 64 of them.
fn template_name(s: &str) -> Result<&str, StoreError> {
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(malformed(format!("template name {s:?}")));
    }
    Ok(s)
}

impl Store {
    /// The version new outbox rows of `template` get now: the latest saved one, else 1 (the shipped text).
    pub async fn template_version_current(&self, template: &str) -> Result<i64, StoreError> {
        dispatch!(self, read, pool, ops => {
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(MAX(version) AS BIGINT) FROM template_versions WHERE template = $1",
            )
            .bind(template)
            .fetch_one(pool)
            .await?;
            Ok(v.unwrap_or(1))
        })
    }

    /// Every saved version of `template`, newest first (version 1, the shipped text, is not among them).
    pub async fn template_versions(
        &self,
        template: &str,
    ) -> Result<Vec<TemplateVersion>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM template_versions WHERE template = $1 ORDER BY version DESC"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(template)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(version_of).collect())
        })
    }

    /// The text of `template` in `lang` as version `version` has it: the latest saved version at or
    /// before it in that language; `None` when there is none (the shipped text applies).
    pub async fn template_text(
        &self,
        template: &str,
        lang: &str,
        version: i64,
    ) -> Result<Option<TemplateVersion>, StoreError> {
        if version <= 1 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM template_versions WHERE template = $1 AND lang = $2 AND version <= $3 \
             ORDER BY version DESC LIMIT 1"
        );
        dispatch!(self, read, pool, ops => {
            let row: Option<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(template)
                .bind(lang)
                .bind(version)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(version_of))
        })
    }

    /// Save a new version of `template`: `subject` and `body` in `lang` (the caller has checked the
    /// placeholders). Numbered after the latest one (from 2); written with the audit act
    /// `template.version` (actor `actor`, detail: language, version, SHA-256 of the text) in one
    /// transaction. An unusable name, language or text is `PSR-VAL-0001`.
    pub async fn add_template_version(
        &self,
        actor: &str,
        template: &str,
        lang: &str,
        subject: &str,
        body: &str,
    ) -> Result<TemplateVersion, StoreError> {
        let template = template_name(template)?;
        let lang = Lang::parse(lang)
            .ok_or_else(|| malformed(format!("language {lang:?}")))?
            .as_str();
        if subject.chars().count() > MAX_TEMPLATE_SUBJECT_CHARS
            || subject.chars().any(char::is_control)
        {
            return Err(malformed(format!(
                "subject: at most {MAX_TEMPLATE_SUBJECT_CHARS} characters on one line"
            )));
        }
        if body.trim().is_empty()
            || body.chars().count() > MAX_TEMPLATE_BODY_CHARS
            || body
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(malformed(format!(
                "body: 1 to {MAX_TEMPLATE_BODY_CHARS} characters"
            )));
        }
        let body = body.replace("\r\n", "\n");
        let now = self.clock.now().trunc_subsecs(6);
        let digest = crate::access::hex(&Sha256::digest(format!("{subject}\n{body}").as_bytes()));
        dispatch!(self, write, pool, ops => {
            let mut tx = begin_write!(self, pool);
            if self.dialect() == Dialect::Postgres {
                // One numbering at a time; readers (and the outbox trigger's read) are not blocked.
                sqlx::query("LOCK TABLE template_versions IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let latest: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(MAX(version) AS BIGINT) FROM template_versions WHERE template = $1",
            )
            .bind(template)
            .fetch_one(&mut *tx)
            .await?;
            let version = latest.unwrap_or(1) + 1;
            sqlx::query(
                "INSERT INTO template_versions (template, version, lang, subject, body, created_at, \
                 created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(template)
            .bind(version)
            .bind(lang)
            .bind(subject)
            .bind(&body)
            .bind(now)
            .bind(text("actor", actor)?)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({"lang": lang, "version": version, "sha256": digest});
            record!(tx, now, actor, "template.version", &format!("{template}:{version}"), detail);
            tx.commit().await?;
            Ok(TemplateVersion {
                template: template.to_string(),
                version,
                lang: lang.to_string(),
                subject: subject.to_string(),
                body,
                created_at: now,
                created_by: actor.trim().to_string(),
            })
        })
    }
}
