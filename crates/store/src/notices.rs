//! Public notices of state bodies (G.3.5): published by a body holding `publish_notices`, visible to
//! everyone in the portal (`/notices`) and its Atom feed.
//!
//! A notice has a title and a text in Armenian (required) and optionally in English and Russian, the time
//! it was published and an optional last day of validity. It is never deleted: a withdrawal keeps the row
//! and marks it withdrawn (with a reason), and the portal shows it so. Publishing and withdrawing are acts
//! of the audit trail, written in the same transaction.
//!
//! Search is case-insensitive over the title and text in the reader's language (Armenian where the notice
//! has none in it): the store keeps a folded copy per language ([`fold_for_text_search`]) and folds the
//! query the same way, so "ԵՐԵՎԱՆ" and "երեվան" find "Երևան".

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use popreg_domain::Code;
use popreg_domain::access::{Caller, Function};
use popreg_domain::names::fold_for_text_search;
use serde::Serialize;
use serde_json::json;

use crate::audit::Leaf;
use crate::inbox::{Sender, sender_of};
use crate::usage::refused;
use crate::{Inner, Store, StoreError, pg_ops, sqlite_ops};

/// The longest title, in characters.
pub const MAX_NOTICE_TITLE_CHARS: usize = 300;
/// The longest text, in characters.
pub const MAX_NOTICE_TEXT_CHARS: usize = 20_000;
/// The longest reason of a withdrawal, in characters.
pub const MAX_WITHDRAW_REASON_CHARS: usize = 1_000;
/// The longest search query, in characters.
pub const MAX_NOTICE_QUERY_CHARS: usize = 200;

/// The title and text of a notice in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeText {
    pub title: String,
    pub text: String,
}

/// A notice to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    /// Armenian: required.
    pub hy: NoticeText,
    pub en: Option<NoticeText>,
    pub ru: Option<NoticeText>,
    /// The last day the notice is in force, if it has one.
    pub valid_until: Option<NaiveDate>,
}

impl NewNotice {
    /// Refuse what cannot be published: no Armenian title or text (`PSR-PUB-0003`), an empty title or text
    /// in another language (`PSR-VAL-0006`), too long ones (`PSR-VAL-0011`), a title on several lines
    /// (`PSR-VAL-0001`).
    pub fn check(&self) -> Result<(), StoreError> {
        if self.hy.title.trim().is_empty() || self.hy.text.trim().is_empty() {
            return Err(refused(
                Code::NoticeArmenianRequired,
                "hy.title and hy.text are required",
            ));
        }
        for (lang, t) in [
            ("hy", Some(&self.hy)),
            ("en", self.en.as_ref()),
            ("ru", self.ru.as_ref()),
        ] {
            let Some(t) = t else { continue };
            for (field, value, max) in [
                ("title", &t.title, MAX_NOTICE_TITLE_CHARS),
                ("text", &t.text, MAX_NOTICE_TEXT_CHARS),
            ] {
                if value.trim().is_empty() {
                    return Err(refused(
                        Code::MissingField,
                        format!("{lang}.{field} is empty"),
                    ));
                }
                if value.chars().count() > max {
                    return Err(refused(
                        Code::ValueOutOfRange,
                        format!("{lang}.{field} is longer than {max} characters"),
                    ));
                }
            }
            if t.text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(refused(
                    Code::Malformed,
                    format!(
                        "{lang}.text must not contain control characters other than line breaks and tabs"
                    ),
                ));
            }
            if t.title.chars().any(char::is_control) {
                return Err(refused(
                    Code::Malformed,
                    format!("{lang}.title must be one line without control characters"),
                ));
            }
        }
        Ok(())
    }
}

/// A published notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub id: String,
    pub body: Sender,
    pub hy: NoticeText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<NoticeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ru: Option<NoticeText>,
    pub published_at: DateTime<Utc>,
    pub valid_until: Option<NaiveDate>,
    /// When it was withdrawn; `None`: in force.
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
}

impl Notice {
    /// The title and text in a language (`hy`, `en`, `ru`), Armenian where the notice has none in it.
    pub fn text(&self, lang: &str) -> &NoticeText {
        match lang {
            "en" => self.en.as_ref(),
            "ru" => self.ru.as_ref(),
            _ => None,
        }
        .unwrap_or(&self.hy)
    }

    /// The language [`Notice::text`] gives for `lang`.
    pub fn text_lang(&self, lang: &str) -> &'static str {
        match lang {
            "en" if self.en.is_some() => "en",
            "ru" if self.ru.is_some() => "ru",
            _ => "hy",
        }
    }
}

/// Which notices to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    /// Words to find in the title or text (case-insensitive), in the reader's language.
    pub q: Option<String>,
    /// Only this body's notices.
    pub body: Option<String>,
    /// The reader's language (`hy`, `en`, `ru`).
    pub lang: String,
    pub offset: i64,
    pub limit: i64,
}

/// One page of notices, newest first, with how many match in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticePage {
    pub items: Vec<Notice>,
    pub total: i64,
}

const NOTICE_SELECT: &str = "SELECT n.id, n.body_id, b.name_hy, b.name_en, b.name_ru, n.title_hy, n.text_hy, \
     n.title_en, n.text_en, n.title_ru, n.text_ru, n.published_at, n.valid_until, n.withdrawn_at, \
     n.withdrawn_reason FROM notices n LEFT JOIN bodies b ON b.id = n.body_id";

type NoticeRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<NaiveDate>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// A body's id and its names in hy, en, ru.
type BodyRow = (String, Option<String>, Option<String>, Option<String>);

fn pair(title: Option<String>, text: Option<String>) -> Option<NoticeText> {
    Some(NoticeText {
        title: title?,
        text: text?,
    })
}

fn notice_of(r: NoticeRow) -> Notice {
    Notice {
        id: r.0,
        body: sender_of(r.1, r.2, r.3, r.4),
        hy: NoticeText {
            title: r.5,
            text: r.6,
        },
        en: pair(r.7, r.8),
        ru: pair(r.9, r.10),
        published_at: r.11,
        valid_until: r.12,
        withdrawn_at: r.13,
        withdrawn_reason: r.14,
    }
}

fn folded(t: &NoticeText) -> String {
    fold_for_text_search(&format!("{}\n{}", t.title, t.text))
}

/// A `LIKE` pattern that finds `q` (already folded) anywhere, with `\` as the escape character.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A notice's, service's, slot's or booking's id: up to 64 hex digits.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// Publish a notice (G.3.5): the row and the act `notice.publish` in one transaction. Needs
    /// `publish_notices` (`PSR-API-0007`); the content is checked by [`NewNotice::check`].
    pub async fn publish_notice(
        &self,
        caller: &Caller,
        n: &NewNotice,
    ) -> Result<Notice, StoreError> {
        if !caller.may(Function::PublishNotices) {
            return Err(refused(
                Code::Forbidden,
                "publishing notices needs the function publish_notices",
            ));
        }
        n.check()?;
        let id = crate::access::random_hex(16)?;
        let now = self.clock.now().trunc_subsecs(6);
        let actor = format!("{}/{}", caller.body_id, caller.user_uid);
        let languages: Vec<&str> = [
            Some("hy"),
            n.en.as_ref().map(|_| "en"),
            n.ru.as_ref().map(|_| "ru"),
        ]
        .into_iter()
        .flatten()
        .collect();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query(
                "INSERT INTO notices (id, body_id, user_uid, title_hy, text_hy, title_en, text_en, title_ru, \
                 text_ru, search_hy, search_en, search_ru, published_at, valid_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&id)
            .bind(&caller.body_id)
            .bind(&caller.user_uid)
            .bind(&n.hy.title)
            .bind(&n.hy.text)
            .bind(n.en.as_ref().map(|t| &t.title))
            .bind(n.en.as_ref().map(|t| &t.text))
            .bind(n.ru.as_ref().map(|t| &t.title))
            .bind(n.ru.as_ref().map(|t| &t.text))
            .bind(folded(&n.hy))
            .bind(n.en.as_ref().map(folded))
            .bind(n.ru.as_ref().map(folded))
            .bind(now)
            .bind(n.valid_until)
            .execute(&mut *tx)
            .await?;
            let act = Leaf::act(
                "notice.publish",
                &actor,
                &id,
                json!({
                    "body": caller.body_id,
                    "title_hy": n.hy.title,
                    "languages": languages,
                    "sha256": crate::audit::sha256_hex(&format!("{}\n{}", n.hy.title, n.hy.text)),
                    "valid_until": n.valid_until,
                }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        self.notice(&id)
            .await?
            .ok_or_else(|| StoreError::Database("the published notice is not there".into()))
    }

    /// Withdraw a notice of the caller's body: the row stays, marked withdrawn, and the act
    /// `notice.withdraw` is written in the same transaction. Another body's notice or an unknown id is
    /// `PSR-PUB-0001`; a notice withdrawn before is `PSR-PUB-0002`.
    pub async fn withdraw_notice(
        &self,
        caller: &Caller,
        id: &str,
        reason: Option<&str>,
    ) -> Result<Notice, StoreError> {
        if !caller.may(Function::PublishNotices) {
            return Err(refused(
                Code::Forbidden,
                "withdrawing notices needs the function publish_notices",
            ));
        }
        if let Some(r) = reason
            && r.chars().count() > MAX_WITHDRAW_REASON_CHARS
        {
            return Err(refused(
                Code::ValueOutOfRange,
                format!("reason is longer than {MAX_WITHDRAW_REASON_CHARS} characters"),
            ));
        }
        let unknown = || refused(Code::NoticeUnknown, "no notice with this id from this body");
        if !valid_id(id) {
            return Err(unknown());
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let now = self.clock.now().trunc_subsecs(6);
        let actor = format!("{}/{}", caller.body_id, caller.user_uid);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let row: Option<(Option<DateTime<Utc>>,)> =
                sqlx::query_as("SELECT withdrawn_at FROM notices WHERE id = $1 AND body_id = $2")
                    .bind(id)
                    .bind(&caller.body_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match row {
                None => return Err(unknown()),
                Some((Some(_),)) => {
                    return Err(refused(Code::NoticeWithdrawn, "this notice was already withdrawn"));
                }
                Some((None,)) => {}
            }
            sqlx::query(
                "UPDATE notices SET withdrawn_at = $1, withdrawn_reason = $2 WHERE id = $3 AND withdrawn_at IS NULL",
            )
            .bind(now)
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let act = Leaf::act(
                "notice.withdraw",
                &actor,
                id,
                json!({ "body": caller.body_id, "reason": reason }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        self.notice(id).await?.ok_or_else(unknown)
    }

    /// One notice, withdrawn or not; `None` for an unknown id.
    pub async fn notice(&self, id: &str) -> Result<Option<Notice>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let sql = format!("{NOTICE_SELECT} WHERE n.id = $1");
        dispatch!(self, read, pool, ops => {
            let row: Option<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(notice_of))
        })
    }

    /// A page of notices, newest first: all of them, or those of one body, or those whose title or text
    /// in the reader's language contains the query (case-insensitive, Armenian folded). Withdrawn notices
    /// are listed too; the reader sees them marked.
    pub async fn notices(&self, q: &NoticeQuery) -> Result<NoticePage, StoreError> {
        let column = match q.lang.as_str() {
            "en" => "COALESCE(n.search_en, n.search_hy)",
            "ru" => "COALESCE(n.search_ru, n.search_hy)",
            _ => "n.search_hy",
        };
        let words =
            q.q.as_deref()
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let w: String = w.chars().take(MAX_NOTICE_QUERY_CHARS).collect();
                    like_pattern(&fold_for_text_search(&w))
                });
        let body = q.body.as_deref().filter(|b| !b.is_empty());
        let filter = format!(
            "WHERE ($1 IS NULL OR {column} LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR n.body_id = $2)"
        );
        let list = format!(
            "{NOTICE_SELECT} {filter} ORDER BY n.published_at DESC, n.id DESC LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM notices n {filter}");
        // PostgreSQL must know the type of a parameter that is only compared with NULL.
        let (list, count) = match self.dialect() {
            crate::Dialect::Postgres => (
                list.replace("$1 IS NULL", "CAST($1 AS TEXT) IS NULL")
                    .replace("$2 IS NULL", "CAST($2 AS TEXT) IS NULL"),
                count
                    .replace("$1 IS NULL", "CAST($1 AS TEXT) IS NULL")
                    .replace("$2 IS NULL", "CAST($2 AS TEXT) IS NULL"),
            ),
            crate::Dialect::Sqlite => (list, count),
        };
        dispatch!(self, read, pool, ops => {
            let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(list))
                .bind(&words)
                .bind(body)
                .bind(q.limit.clamp(1, 200))
                .bind(q.offset.max(0))
                .fetch_all(pool)
                .await?;
            let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(count))
                .bind(&words)
                .bind(body)
                .fetch_one(pool)
                .await?;
            Ok(NoticePage { items: rows.into_iter().map(notice_of).collect(), total })
        })
    }

    /// The bodies that have published notices, by id (for the portal's filter).
    pub async fn notice_bodies(&self) -> Result<Vec<Sender>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows: Vec<BodyRow> = sqlx::query_as(
                "SELECT DISTINCT n.body_id, b.name_hy, b.name_en, b.name_ru FROM notices n \
                 LEFT JOIN bodies b ON b.id = n.body_id ORDER BY n.body_id",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(id, hy, en, ru)| sender_of(id, hy, en, ru)).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn g_3_5_a_notice_needs_armenian() {
        let t = |s: &str| NoticeText {
            title: s.into(),
            text: s.into(),
        };
        let mut n = NewNotice {
            hy: t(""),
            en: Some(t("Notice")),
            ru: None,
            valid_until: None,
        };
        assert_eq!(n.check().unwrap_err().code(), Code::NoticeArmenianRequired);
        n.hy = t("Հայտարարություն");
        assert!(n.check().is_ok());
        n.en = Some(NoticeText {
            title: "x".repeat(MAX_NOTICE_TITLE_CHARS + 1),
            text: "y".into(),
        });
        assert_eq!(n.check().unwrap_err().code(), Code::ValueOutOfRange);
    }
}
