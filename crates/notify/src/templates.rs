//! The e-mail templates: Fluent files in `locales/{hy,en,ru}/notify.ftl`, embedded at compile time. A
//! template is a pair of messages, `{name}-subject` and `{name}-body`; the shared pieces (an error's lines,
//! the feed hint, the footer, the local time) are messages of their own.
//!
//! Rendering is a pure function of the outbox row's template, language, parameters and template version,
//! so what a provider receives is fixed by the row and the template texts alone.
//!
//! Versions (issue 7, item 2): the shipped text of a template ([`shipped_text`]) is its version 1. An
//! administrator saves later versions of one language's subject and body (Fluent patterns using the
//! template's placeholders, [`placeholders`], checked by [`check_text`]); the store keeps them
//! (`popreg_store::Store::add_template_version`) and every outbox row records the version current when it
//! was enqueued. [`render_version`] and [`render_sms_version`] render a row with the text of its version.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_domain::{Code, elements};
use serde_json::Value;

/// The templates of e-mails to bodies about their submissions (rendered from a rejection's parameters).
pub const TEMPLATES: &[&str] = &["rejection", "reminder"];

/// The e-Citizen portal's e-mails to persons: the verification of a forwarding address (G.5) and a
/// notification forwarded from the inbox (G.3.2–3). They are sent from the portal's sender.
pub const PORTAL_TEMPLATES: &[&str] = &["verification", "forwarded"];

/// The texts of the portal's `sms` outbox rows (G.7), for the SMS delivery: [`render_sms`].
pub const SMS_TEMPLATES: &[&str] = &["phone_verification", "notification_sms"];

/// The Fluent sources, by language.
pub const SOURCES: &[(Lang, &str)] = &[
    (Lang::Hy, include_str!("../locales/hy/notify.ftl")),
    (Lang::En, include_str!("../locales/en/notify.ftl")),
    (Lang::Ru, include_str!("../locales/ru/notify.ftl")),
];

/// A rendered e-mail: subject and plain-text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Why a message could not be rendered. Permanent for the row: retrying does not help until the row or the
/// templates are fixed, but the row is kept (and retried at the longest interval) all the same.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("template {template}: parameter {param:?} is missing or not of the expected type")]
    MissingParam {
        template: String,
        param: &'static str,
    },
    #[error("template files cannot be used: {0}")]
    Broken(String),
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> Result<&'static [(Lang, Bundle)], TemplateError> {
    static BUNDLES: OnceLock<Result<Vec<(Lang, Bundle)>, String>> = OnceLock::new();
    BUNDLES
        .get_or_init(|| {
            SOURCES
                .iter()
                .map(|(lang, src)| {
                    let res = FluentResource::try_new(src.to_string())
                        .map_err(|(_, errs)| format!("{}: {errs:?}", lang.as_str()))?;
                    let id = lang
                        .as_str()
                        .parse()
                        .map_err(|e| format!("{}: {e}", lang.as_str()))?;
                    let mut b = FluentBundle::new_concurrent(vec![id]);
                    // Plain-text mail: no Unicode isolation marks around the values.
                    b.set_use_isolating(false);
                    b.add_resource(res)
                        .map_err(|errs| format!("{}: {errs:?}", lang.as_str()))?;
                    Ok((*lang, b))
                })
                .collect()
        })
        .as_deref()
        .map_err(|e| TemplateError::Broken(e.clone()))
}

/// The message ids of one language's file, in file order: every line that starts a message (`id =`).
pub fn message_ids(lang: Lang) -> Vec<&'static str> {
    let Some((_, src)) = SOURCES.iter().find(|(l, _)| *l == lang) else {
        return vec![];
    };
    popreg_domain::markup::fluent_message_ids(src)
}

/// One message of one language with its arguments.
fn format(lang: Lang, id: &str, args: &FluentArgs<'_>) -> Result<String, TemplateError> {
    let all = bundles()?;
    let (_, bundle) = all
        .iter()
        .find(|(l, _)| *l == lang)
        .ok_or_else(|| TemplateError::Broken(format!("no bundle for {}", lang.as_str())))?;
    format_in(bundle, lang, id, args)
}

/// One message of `bundle` with its arguments.
fn format_in(
    bundle: &Bundle,
    lang: Lang,
    id: &str,
    args: &FluentArgs<'_>,
) -> Result<String, TemplateError> {
    let pattern = bundle
        .get_message(id)
        .and_then(|m| m.value())
        .ok_or_else(|| TemplateError::Broken(format!("{}: no message {id}", lang.as_str())))?;
    let mut errors = vec![];
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if !errors.is_empty() {
        return Err(TemplateError::Broken(format!(
            "{}: {id}: {errors:?}",
            lang.as_str()
        )));
    }
    Ok(text.into_owned())
}

/// A time as Yerevan's wall clock (UTC+4, no daylight saving time since 2012).
fn local_time(lang: Lang, t: DateTime<Utc>) -> Result<String, TemplateError> {
    let local = (t + Duration::hours(4))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let mut args = FluentArgs::new();
    args.set("time", local);
    format(lang, "local-time", &args)
}

/// The numbered list of a rejection's errors: code, localized title and explanation, field, detail.
fn error_list(lang: Lang, errors: &[Value]) -> Result<String, TemplateError> {
    let mut out = Vec::with_capacity(errors.len());
    for (i, e) in errors.iter().enumerate() {
        let code = e.get("code").and_then(Value::as_str).unwrap_or_default();
        let item = Code::from_code(code).and_then(|c| classifiers().error_code(c));
        let field = match e.get("field").and_then(Value::as_str) {
            Some(f) if !f.trim().is_empty() => f.to_string(),
            _ => format(lang, "whole-submission", &FluentArgs::new())?,
        };
        let mut args = FluentArgs::new();
        args.set("n", (i + 1).to_string());
        args.set("code", code.to_string());
        args.set(
            "title",
            item.map(|c| c.title.get(lang).to_string())
                .unwrap_or_default(),
        );
        args.set(
            "explanation",
            item.map(|c| c.explanation.get(lang).to_string())
                .unwrap_or_default(),
        );
        args.set("field", field);
        args.set(
            "detail",
            e.get("detail")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        );
        // Fluent drops the indentation of continuation lines; the lines under the number are indented here.
        let item = format(lang, "error-item", &args)?;
        out.push(item.lines().collect::<Vec<_>>().join("\n   "));
    }
    Ok(out.join("\n\n"))
}

/// A parameter of the row, read by `get` (`Value::as_str`, `Value::as_i64`).
fn param<'a, T>(
    template: &str,
    params: &'a Value,
    name: &'static str,
    get: fn(&'a Value) -> Option<T>,
) -> Result<T, TemplateError> {
    params
        .get(name)
        .and_then(get)
        .ok_or_else(|| TemplateError::MissingParam {
            template: template.to_string(),
            param: name,
        })
}

fn text<'a>(
    template: &str,
    params: &'a Value,
    name: &'static str,
) -> Result<&'a str, TemplateError> {
    param(template, params, name, Value::as_str)
}

fn number(template: &str, params: &Value, name: &'static str) -> Result<i64, TemplateError> {
    param(template, params, name, Value::as_i64)
}

/// Render an outbox message with the shipped text (version 1). `feed` is the address of the rejection
/// feed (`/api/v1/rejections`, absolute when the register's public address is configured).
pub fn render(
    template: &str,
    lang: Lang,
    params: &Value,
    feed: &str,
) -> Result<Rendered, TemplateError> {
    render_version(template, lang, params, feed, None)
}

/// [`render`] with the text of a saved version in `lang` (`None`: the shipped text).
pub fn render_version(
    template: &str,
    lang: Lang,
    params: &Value,
    feed: &str,
    version: Option<&TemplateText>,
) -> Result<Rendered, TemplateError> {
    if PORTAL_TEMPLATES.contains(&template) {
        return render_portal(template, lang, params, version);
    }
    if !TEMPLATES.contains(&template) {
        return Err(TemplateError::UnknownTemplate(template.to_string()));
    }
    let missing = |param| TemplateError::MissingParam {
        template: template.to_string(),
        param,
    };
    let kind = text(template, params, "kind")?;
    let kind_title = elements::kind(kind)
        .map(|k| k.title.get(lang))
        .unwrap_or(kind);
    let received_at = DateTime::parse_from_rfc3339(text(template, params, "received_at")?)
        .map_err(|_| missing("received_at"))?
        .with_timezone(&Utc);
    let errors = params
        .get("errors")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("errors"))?;

    let mut hint = FluentArgs::new();
    hint.set("feed", feed.to_string());

    let mut args = FluentArgs::new();
    args.set("kind", kind.to_string());
    args.set("kind_title", kind_title.to_string());
    args.set("code", text(template, params, "code")?.to_string());
    args.set("body_id", text(template, params, "body_id")?.to_string());
    args.set(
        "submission_id",
        text(template, params, "submission_id")?.to_string(),
    );
    args.set(
        "rejection_id",
        number(template, params, "rejection_id")?.to_string(),
    );
    args.set("received_at", local_time(lang, received_at)?);
    args.set("errors", error_list(lang, errors)?);
    args.set("feed_hint", format(lang, "feed-hint", &hint)?);
    args.set("footer", format(lang, "footer", &FluentArgs::new())?);
    if template == "reminder" {
        args.set(
            "days",
            FluentValue::from(number(template, params, "deadline_days")?),
        );
    }
    finish(template, lang, &args, version)
}

/// The subject and body of an e-mail from its arguments: the shipped messages `{template}-subject` and
/// `{template}-body`, or the text of a saved version.
fn finish(
    template: &str,
    lang: Lang,
    args: &FluentArgs<'_>,
    version: Option<&TemplateText>,
) -> Result<Rendered, TemplateError> {
    match version {
        None => Ok(Rendered {
            subject: format(lang, &format!("{template}-subject"), args)?,
            body: format(lang, &format!("{template}-body"), args)?,
        }),
        Some(t) => {
            let bundle =
                compiled(lang, t).map_err(|e| TemplateError::Broken(format!("{template}: {e}")))?;
            Ok(Rendered {
                subject: format_in(&bundle, lang, "subject", args)?,
                body: format_in(&bundle, lang, "body", args)?,
            })
        }
    }
}

/// A parameter under `params.secret` (a verification link or code; erased from the row once delivered).
fn secret<'a>(
    template: &str,
    params: &'a Value,
    name: &'static str,
) -> Result<&'a str, TemplateError> {
    params
        .get("secret")
        .and_then(|s| s.get(name))
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::MissingParam {
            template: template.to_string(),
            param: name,
        })
}

fn instant(
    template: &str,
    params: &Value,
    name: &'static str,
) -> Result<DateTime<Utc>, TemplateError> {
    DateTime::parse_from_rfc3339(text(template, params, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| TemplateError::MissingParam {
            template: template.to_string(),
            param: name,
        })
}

/// The portal's e-mails: `verification` (subject exactly "E-Citizen email verification", G.5) and
/// `forwarded`.
fn render_portal(
    template: &str,
    lang: Lang,
    params: &Value,
    version: Option<&TemplateText>,
) -> Result<Rendered, TemplateError> {
    let mut args = FluentArgs::new();
    args.set(
        "portal_footer",
        format(lang, "portal-footer", &FluentArgs::new())?,
    );
    args.set(
        "forwarding_url",
        text(template, params, "forwarding_url")?.to_string(),
    );
    if template == "verification" {
        args.set("link", secret(template, params, "link")?.to_string());
        args.set(
            "expires_at",
            local_time(lang, instant(template, params, "expires_at")?)?,
        );
    } else {
        let legal = params
            .get("legal_significance")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let names: Vec<&str> = params
            .get("attachments")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let attachments = if names.is_empty() {
            format(lang, "attachments-none", &FluentArgs::new())?
        } else {
            let mut a = FluentArgs::new();
            a.set("names", names.join(", "));
            format(lang, "attachments-list", &a)?
        };
        // A subject is one line (the store refuses control characters; this keeps the header safe).
        let subject: String = text(template, params, "subject")?
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        args.set("sender", text(template, params, "sender")?.to_string());
        args.set("subject", subject);
        args.set("text", text(template, params, "text")?.to_string());
        args.set(
            "created_at",
            local_time(lang, instant(template, params, "created_at")?)?,
        );
        args.set(
            "legal",
            format(
                lang,
                if legal { "legal-yes" } else { "legal-no" },
                &FluentArgs::new(),
            )?,
        );
        args.set("attachments", attachments);
        args.set(
            "inbox_url",
            text(template, params, "inbox_url")?.to_string(),
        );
    }
    finish(template, lang, &args, version)
}

/// The text of a portal `sms` outbox row in its language: `phone_verification` (the 6-character code,
/// G.7) or `notification_sms` (a new notification, with the link to the inbox).
pub fn render_sms(template: &str, lang: Lang, params: &Value) -> Result<String, TemplateError> {
    render_sms_version(template, lang, params, None)
}

/// [`render_sms`] with the text of a saved version in `lang` (`None`: the shipped text).
pub fn render_sms_version(
    template: &str,
    lang: Lang,
    params: &Value,
    version: Option<&TemplateText>,
) -> Result<String, TemplateError> {
    let mut args = FluentArgs::new();
    let id = match template {
        "phone_verification" => {
            args.set("token", secret(template, params, "token")?.to_string());
            "phone-verification-sms"
        }
        "notification_sms" => {
            args.set("sender", text(template, params, "sender")?.to_string());
            args.set(
                "inbox_url",
                text(template, params, "inbox_url")?.to_string(),
            );
            "notification-sms"
        }
        other => return Err(TemplateError::UnknownTemplate(other.to_string())),
    };
    match version {
        None => format(lang, id, &args),
        Some(t) => {
            let bundle =
                compiled(lang, t).map_err(|e| TemplateError::Broken(format!("{template}: {e}")))?;
            format_in(&bundle, lang, "body", &args)
        }
    }
}

/// The text of a template in one language: Fluent patterns using the template's placeholders
/// (`{ $name }`). An SMS has no subject (empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplateText {
    pub subject: String,
    pub body: String,
}

/// Every template whose text an administrator may version: e-mails, then SMS texts.
pub fn all_templates() -> impl Iterator<Item = &'static str> {
    TEMPLATES
        .iter()
        .chain(PORTAL_TEMPLATES)
        .chain(SMS_TEMPLATES)
        .copied()
}

/// The Fluent ids of a template's subject (none for an SMS) and body in the shipped files.
fn shipped_ids(template: &str) -> Option<(Option<String>, String)> {
    match template {
        "phone_verification" => Some((None, "phone-verification-sms".into())),
        "notification_sms" => Some((None, "notification-sms".into())),
        t if TEMPLATES.contains(&t) || PORTAL_TEMPLATES.contains(&t) => {
            Some((Some(format!("{t}-subject")), format!("{t}-body")))
        }
        _ => None,
    }
}

/// The pattern of message `id` in a Fluent source, as an administrator edits it: the text after `=` and
/// the continuation lines, without their common indentation.
fn pattern_source(src: &str, id: &str) -> Option<String> {
    let mut lines = src.lines();
    let first = lines.find_map(|l| {
        let (name, rest) = l.split_once('=')?;
        (name.trim_end() == id && !l.starts_with(char::is_whitespace)).then(|| rest.trim())
    })?;
    let cont: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect();
    let end = cont
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let cont = &cont[..end];
    let indent = cont
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = vec![];
    if !first.is_empty() {
        out.push(first.to_string());
    }
    out.extend(
        cont.iter()
            .map(|l| l.get(indent..).unwrap_or("").to_string()),
    );
    Some(out.join("\n"))
}

/// The shipped text of a template in `lang`: its version 1. `None` for an unknown template.
pub fn shipped_text(template: &str, lang: Lang) -> Option<TemplateText> {
    let (subject, body) = shipped_ids(template)?;
    let (_, src) = SOURCES.iter().find(|(l, _)| *l == lang)?;
    Some(TemplateText {
        subject: match subject {
            Some(id) => pattern_source(src, &id)?,
            None => String::new(),
        },
        body: pattern_source(src, &body)?,
    })
}

/// The placeholders of a template: those its text may use, and those it must use somewhere in its
/// subject or body (the message is useless without them). `None` for an unknown template.
pub fn placeholders(template: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    // The reminder's are the rejection's and `days`.
    const REMINDER: &[&str] = &[
        "kind",
        "kind_title",
        "code",
        "body_id",
        "submission_id",
        "rejection_id",
        "received_at",
        "errors",
        "feed_hint",
        "footer",
        "days",
    ];
    let rejection = &REMINDER[..REMINDER.len() - 1];
    Some(match template {
        "rejection" => (rejection, &["submission_id", "errors"]),
        "reminder" => (REMINDER, &["submission_id", "errors"]),
        "verification" => (
            &["portal_footer", "forwarding_url", "link", "expires_at"],
            &["link"],
        ),
        "forwarded" => (
            &[
                "portal_footer",
                "forwarding_url",
                "sender",
                "subject",
                "text",
                "created_at",
                "legal",
                "attachments",
                "inbox_url",
            ],
            &["text", "inbox_url", "forwarding_url"],
        ),
        "phone_verification" => (&["token"], &["token"]),
        "notification_sms" => (&["sender", "inbox_url"], &["inbox_url"]),
        _ => return None,
    })
}

/// Why a template text is refused; `field` is `subject` or `body`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Not a template of ours.
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    /// Empty (an e-mail needs a subject and a body, an SMS a text) or a subject on several lines.
    #[error("{field}: required, and a subject is one line")]
    Empty { field: &'static str },
    /// Not Fluent syntax (an unclosed `{`, a line starting with `[`, `*` or `.`).
    #[error("{field}: not a valid template text: {detail}")]
    Syntax { field: &'static str, detail: String },
    /// A placeholder the template does not have (or a reference to another message, a term or a
    /// function).
    #[error("{field}: unknown placeholder {name}")]
    Unknown { field: &'static str, name: String },
    /// A placeholder the template must use, used nowhere.
    #[error("{field}: the placeholder {{ ${name} }} is required")]
    Missing { field: &'static str, name: String },
}

impl TextError {
    /// The coded error: `PSR-VAL-0006` (empty), `PSR-NTF-0010` (syntax), `PSR-NTF-0008` (unknown
    /// placeholder), `PSR-NTF-0009` (missing placeholder), `PSR-VAL-0001` (unknown template).
    pub fn code(&self) -> Code {
        match self {
            TextError::UnknownTemplate(_) => Code::Malformed,
            TextError::Empty { .. } => Code::MissingField,
            TextError::Syntax { .. } => Code::TemplateSyntax,
            TextError::Unknown { .. } => Code::TemplatePlaceholderUnknown,
            TextError::Missing { .. } => Code::TemplatePlaceholderMissing,
        }
    }

    /// The field the refusal belongs to (`subject`, `body`; `template` for an unknown template).
    pub fn field(&self) -> &'static str {
        match self {
            TextError::UnknownTemplate(_) => "template",
            TextError::Empty { field }
            | TextError::Syntax { field, .. }
            | TextError::Unknown { field, .. }
            | TextError::Missing { field, .. } => field,
        }
    }
}

/// The Fluent source of one message `name` holding `text` (a subject: one line after `=`; a body: an
/// indented block).
fn ftl_part(name: &str, text: &str, block: bool) -> String {
    let mut src = format!("{name} =");
    if !block {
        src.push(' ');
        src.push_str(text.trim());
        src.push('\n');
        return src;
    }
    src.push('\n');
    for line in text.lines() {
        if !line.trim().is_empty() {
            src.push_str("    ");
            src.push_str(line.trim_end());
        }
        src.push('\n');
    }
    src
}

/// The Fluent source of a template text: messages `subject` (unless empty) and `body`.
fn ftl_of(t: &TemplateText) -> String {
    let mut src = String::new();
    if !t.subject.trim().is_empty() {
        src.push_str(&ftl_part("subject", &t.subject, false));
    }
    src.push_str(&ftl_part("body", &t.body, true));
    src
}

/// The variables a pattern uses, or the first reference that is not a variable.
fn variables<'s>(
    p: &fluent_syntax::ast::Pattern<&'s str>,
    out: &mut Vec<&'s str>,
) -> Result<(), String> {
    use fluent_syntax::ast::{Expression, InlineExpression, PatternElement};
    fn inline<'s>(e: &InlineExpression<&'s str>, out: &mut Vec<&'s str>) -> Result<(), String> {
        match e {
            InlineExpression::StringLiteral { .. } | InlineExpression::NumberLiteral { .. } => {
                Ok(())
            }
            InlineExpression::VariableReference { id } => {
                out.push(id.name);
                Ok(())
            }
            InlineExpression::Placeable { expression } => expr(expression, out),
            InlineExpression::FunctionReference { id, .. } => Err(format!("{}()", id.name)),
            InlineExpression::MessageReference { id, .. } => Err(id.name.to_string()),
            InlineExpression::TermReference { id, .. } => Err(format!("-{}", id.name)),
        }
    }
    fn expr<'s>(e: &Expression<&'s str>, out: &mut Vec<&'s str>) -> Result<(), String> {
        match e {
            Expression::Inline(i) => inline(i, out),
            Expression::Select { selector, variants } => {
                inline(selector, out)?;
                variants.iter().try_for_each(|v| variables(&v.value, out))
            }
        }
    }
    p.elements.iter().try_for_each(|el| match el {
        PatternElement::TextElement { .. } => Ok(()),
        PatternElement::Placeable { expression } => expr(expression, out),
    })
}

/// Check a template text an administrator wants to save as a new version of `template` in `lang`: both
/// parts present (an SMS: the body only), valid Fluent, only the template's placeholders, and each
/// required placeholder used somewhere. Then it renders with the sample values like the shipped text.
pub fn check_text(template: &str, lang: Lang, t: &TemplateText) -> Result<(), TextError> {
    let (ids, (allowed, required)) = match (shipped_ids(template), placeholders(template)) {
        (Some(i), Some(p)) => (i, p),
        _ => return Err(TextError::UnknownTemplate(template.to_string())),
    };
    let has_subject = ids.0.is_some();
    if has_subject && (t.subject.trim().is_empty() || t.subject.contains(['\n', '\r'])) {
        return Err(TextError::Empty { field: "subject" });
    }
    if !has_subject && !t.subject.trim().is_empty() {
        return Err(TextError::Syntax {
            field: "subject",
            detail: "an SMS has no subject".into(),
        });
    }
    if t.body.trim().is_empty() {
        return Err(TextError::Empty { field: "body" });
    }
    let mut used = vec![];
    for (field, text) in [("subject", &t.subject), ("body", &t.body)] {
        if text.trim().is_empty() {
            continue;
        }
        let res = match FluentResource::try_new(ftl_part(field, text, field == "body")) {
            Ok(r) => r,
            Err((_, errs)) => {
                return Err(TextError::Syntax {
                    field,
                    detail: errs
                        .first()
                        .map(|e| format!("{:?}", e.kind))
                        .unwrap_or_default(),
                });
            }
        };
        let pattern = res.entries().find_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) if m.id.name == field => m.value.as_ref(),
            _ => None,
        });
        let Some(pattern) = pattern else {
            return Err(TextError::Empty { field });
        };
        let mut vars = vec![];
        variables(pattern, &mut vars).map_err(|name| TextError::Unknown { field, name })?;
        if let Some(v) = vars.iter().find(|v| !allowed.contains(v)) {
            return Err(TextError::Unknown {
                field,
                name: format!("${v}"),
            });
        }
        used.extend(vars.into_iter().map(str::to_string));
    }
    if let Some(r) = required.iter().find(|r| !used.iter().any(|u| u == *r)) {
        return Err(TextError::Missing {
            field: "body",
            name: r.to_string(),
        });
    }
    // It renders with the sample values (a selector without a default variant would not).
    let sample = sample_params(template);
    let rendered = if has_subject {
        render_version(template, lang, &sample, "/api/v1/rejections", Some(t)).map(|_| ())
    } else {
        render_sms_version(template, lang, &sample, Some(t)).map(|_| ())
    };
    rendered.map_err(|e| TextError::Syntax {
        field: "body",
        detail: e.to_string(),
    })
}

/// The bundle of a saved version's text in `lang`, compiled once (versions never change; the cache is
/// keyed by the text itself and emptied when it grows past a few hundred texts).
fn compiled(lang: Lang, t: &TemplateText) -> Result<std::sync::Arc<Bundle>, String> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Cache = Mutex<HashMap<(Lang, TemplateText), Arc<Bundle>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (lang, t.clone());
    if let Some(b) = cache.lock().map_err(|e| e.to_string())?.get(&key) {
        return Ok(b.clone());
    }
    let res = FluentResource::try_new(ftl_of(t)).map_err(|(_, errs)| format!("{errs:?}"))?;
    let id = lang.as_str().parse().map_err(|e| format!("{e}"))?;
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    b.add_resource(res).map_err(|errs| format!("{errs:?}"))?;
    let b = Arc::new(b);
    let mut c = cache.lock().map_err(|e| e.to_string())?;
    if c.len() >= 512 {
        c.clear();
    }
    c.insert(key, b.clone());
    Ok(b)
}

/// Sample values of a template's parameters: the administration's preview shows each template rendered
/// with them (and the tests render every template with them). `Null` for an unknown template.
pub fn sample_params(template: &str) -> Value {
    use serde_json::json;
    match template {
        "rejection" | "reminder" => json!({
            "rejection_id": 42,
            "submission_id": "5f0c",
            "body_id": "MED-0001",
            "kind": "birth",
            "code": "PSR-VAL-0002",
            "errors": [
                {"code": "PSR-VAL-0002", "field": "birth_date", "detail": "2030-01-01 is after today"},
                {"code": "PSR-SUB-0001", "field": "", "detail": "not competent"}
            ],
            "received_at": "2026-11-23T09:00:00+00:00",
            "deadline_days": 5
        }),
        "verification" => json!({
            "expires_at": "2026-11-23T09:00:00+00:00",
            "forwarding_url": "https://e-citizen.example.am/my/forwarding",
            "secret": {"link": "https://e-citizen.example.am/my/forwarding/verify?token=abc123"}
        }),
        "forwarded" => json!({
            "notification_id": "n1",
            "sender": "Պետական եկամուտների կոմիտե",
            "subject": "Ծանուցում հարկային պարտավորության մասին",
            "text": "Հարգելի քաղաքացի,\nխնդրում ենք ներկայանալ։",
            "legal_significance": true,
            "attachments": ["notice.pdf"],
            "created_at": "2026-11-23T09:00:00+00:00",
            "inbox_url": "https://e-citizen.example.am/my/inbox/n1",
            "forwarding_url": "https://e-citizen.example.am/my/forwarding"
        }),
        "phone_verification" => json!({"secret": {"token": "10128d"}}),
        "notification_sms" => json!({
            "sender": "Պետական եկամուտների կոմիտե",
            "inbox_url": "https://e-citizen.example.am/my/inbox/n1"
        }),
        _ => Value::Null,
    }
}

/// One template rendered for the preview: an e-mail (subject and text) or an SMS text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Preview {
    Email(Rendered),
    Sms(String),
}

/// One template rendered with [`sample_params`] in `lang`, with the text of `version` (`None`: the
/// shipped text); `feed` as for [`render`].
pub fn preview(
    template: &str,
    lang: Lang,
    feed: &str,
    version: Option<&TemplateText>,
) -> Result<Preview, TemplateError> {
    let sample = sample_params(template);
    if SMS_TEMPLATES.contains(&template) {
        render_sms_version(template, lang, &sample, version).map(Preview::Sms)
    } else {
        render_version(template, lang, &sample, feed, version).map(Preview::Email)
    }
}

/// Every template rendered with [`sample_params`] in `lang` with its shipped text, in the order of
/// [`TEMPLATES`], [`PORTAL_TEMPLATES`], [`SMS_TEMPLATES`]; `feed` as for [`render`].
pub fn previews(lang: Lang, feed: &str) -> Vec<(&'static str, Result<Preview, TemplateError>)> {
    all_templates()
        .map(|t| (t, preview(t, lang, feed, None)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params() -> Value {
        sample_params("rejection")
    }

    const ALL: [Lang; 3] = [Lang::Hy, Lang::En, Lang::Ru];

    #[test]
    fn every_message_id_exists_in_all_three_languages() {
        let hy = message_ids(Lang::Hy);
        assert!(hy.len() >= 9, "{hy:?}");
        for lang in ALL {
            let ids = message_ids(lang);
            assert_eq!(ids, hy, "{} differs from hy", lang.as_str());
            for t in TEMPLATES {
                for part in ["subject", "body"] {
                    let id = format!("{t}-{part}");
                    assert!(ids.contains(&id.as_str()), "{}: no {id}", lang.as_str());
                }
            }
        }
        bundles().unwrap();
    }

    #[test]
    fn every_template_renders_in_every_language_without_placeholders_left() {
        for t in TEMPLATES {
            for lang in ALL {
                let r = render(
                    t,
                    lang,
                    &params(),
                    "https://register.example.am/api/v1/rejections",
                )
                .unwrap();
                let all = format!("{}\n{}", r.subject, r.body);
                assert!(!all.contains('{') && !all.contains('$'), "{all}");
                assert!(
                    !all.contains('\u{2068}'),
                    "no isolation marks in plain text"
                );
                assert!(!r.subject.contains('\n'));
                for needle in [
                    "PSR-VAL-0002",
                    "PSR-SUB-0001",
                    "birth_date",
                    "5f0c",
                    "MED-0001",
                    "42",
                ] {
                    assert!(
                        r.body.contains(needle),
                        "{} {t}: {needle} missing\n{}",
                        lang.as_str(),
                        r.body
                    );
                }
                assert!(
                    r.body.contains("2026-11-23 13:00"),
                    "Yerevan time\n{}",
                    r.body
                );
                assert!(
                    r.body
                        .contains("https://register.example.am/api/v1/rejections")
                );
            }
        }
    }

    #[test]
    fn armenian_uses_the_titles_of_the_code_list_and_the_kind() {
        let r = render("rejection", Lang::Hy, &params(), "/api/v1/rejections").unwrap();
        assert_eq!(r.subject, "Ներկայացումը մերժվել է՝ Ծնունդ (PSR-VAL-0002)");
        assert!(r.body.contains("Ամսաթիվը ապագայում է"), "{}", r.body);
        assert!(r.body.contains("Դաշտ՝ birth_date"));
        assert!(r.body.contains("Դաշտ՝ ամբողջ ներկայացումը"));
        assert!(
            r.body
                .contains("Ուղղեք նշված տվյալները և կրկին ներկայացրեք")
        );
        let r = render("reminder", Lang::Ru, &params(), "/api/v1/rejections").unwrap();
        assert!(r.body.contains("в течение 5 дней"), "{}", r.body);
        let mut one = params();
        one["deadline_days"] = json!(1);
        let r = render("reminder", Lang::En, &one, "/api/v1/rejections").unwrap();
        assert!(r.body.contains("within 1 day."), "{}", r.body);
    }

    fn portal_params(template: &str) -> Value {
        sample_params(template)
    }

    #[test]
    fn every_template_has_a_preview_in_every_language() {
        for lang in ALL {
            let all = previews(lang, "/api/v1/rejections");
            assert_eq!(
                all.len(),
                TEMPLATES.len() + PORTAL_TEMPLATES.len() + SMS_TEMPLATES.len()
            );
            for (t, p) in all {
                match p.unwrap_or_else(|e| panic!("{t}: {e}")) {
                    Preview::Email(r) => assert!(!r.subject.is_empty() && !r.body.is_empty()),
                    Preview::Sms(text) => {
                        assert!(SMS_TEMPLATES.contains(&t) && !text.contains('{'))
                    }
                }
            }
        }
        assert_eq!(sample_params("no-such-template"), Value::Null);
    }

    #[test]
    fn g_5_portal_templates_render_in_every_language() {
        for t in PORTAL_TEMPLATES {
            for lang in ALL {
                let r = render(t, lang, &portal_params(t), "/").unwrap();
                let all = format!("{}\n{}", r.subject, r.body);
                assert!(!all.contains('{') && !all.contains('$'), "{all}");
                assert!(!r.subject.contains('\n'));
                assert!(
                    r.body
                        .contains("https://e-citizen.example.am/my/forwarding"),
                    "{all}"
                );
                assert!(r.body.contains("2026-11-23 13:00"), "Yerevan time\n{all}");
                if *t == "verification" {
                    assert_eq!(r.subject, "E-Citizen email verification");
                    assert!(r.body.contains("verify?token=abc123"));
                } else {
                    assert!(r.body.contains("notice.pdf"));
                    assert!(r.body.contains("ներկայանալ"));
                    assert!(r.body.contains("https://e-citizen.example.am/my/inbox/n1"));
                }
            }
        }
        let mut p = portal_params("verification");
        p.as_object_mut().unwrap().remove("secret");
        assert!(matches!(
            render("verification", Lang::Hy, &p, "/"),
            Err(TemplateError::MissingParam { param: "link", .. })
        ));
    }

    #[test]
    fn g_7_sms_texts() {
        let p = json!({"secret": {"token": "10128d"}});
        assert_eq!(
            render_sms("phone_verification", Lang::En, &p).unwrap(),
            "To verify this number E-Citizen portal please provide this token: 10128d"
        );
        for lang in ALL {
            assert!(
                render_sms("phone_verification", lang, &p)
                    .unwrap()
                    .ends_with("10128d")
            );
            let n = render_sms("notification_sms", lang, &portal_params("forwarded")).unwrap();
            assert!(
                n.contains("https://e-citizen.example.am/my/inbox/n1"),
                "{n}"
            );
        }
        assert!(render_sms("nonesuch", Lang::Hy, &p).is_err());
    }

    #[test]
    fn a_row_that_cannot_be_rendered_says_why() {
        let mut p = params();
        p.as_object_mut().unwrap().remove("kind");
        assert!(matches!(
            render("rejection", Lang::Hy, &p, "/"),
            Err(TemplateError::MissingParam { param: "kind", .. })
        ));
        assert!(matches!(
            render("nonesuch", Lang::Hy, &params(), "/"),
            Err(TemplateError::UnknownTemplate(_))
        ));
        let mut p = params();
        p.as_object_mut().unwrap().remove("deadline_days");
        assert!(render("reminder", Lang::Hy, &p, "/").is_err());
        assert!(render("rejection", Lang::Hy, &p, "/").is_ok());
    }

    #[test]
    fn issue_7_every_shipped_text_is_version_1_and_renders_the_same() {
        for t in all_templates() {
            for lang in ALL {
                let text = shipped_text(t, lang).unwrap();
                check_text(t, lang, &text)
                    .unwrap_or_else(|e| panic!("{t} {}: {e}\n{text:?}", lang.as_str()));
                assert_eq!(
                    preview(t, lang, "/f", Some(&text)).unwrap(),
                    preview(t, lang, "/f", None).unwrap(),
                    "{t} {}",
                    lang.as_str()
                );
            }
        }
        assert_eq!(shipped_text("nonesuch", Lang::Hy), None);
        assert_eq!(
            shipped_text("notification_sms", Lang::En).unwrap().subject,
            ""
        );
    }

    #[test]
    fn issue_7_a_saved_text_renders_with_the_rows_values() {
        let t = TemplateText {
            subject: "Verify: { $expires_at }".into(),
            body: "Open { $link }\n\n  indented { $forwarding_url }\n{ $portal_footer }".into(),
        };
        check_text("verification", Lang::En, &t).unwrap();
        let r = render_version(
            "verification",
            Lang::En,
            &sample_params("verification"),
            "/",
            Some(&t),
        )
        .unwrap();
        assert_eq!(r.subject, "Verify: 2026-11-23 13:00 (Yerevan time)");
        assert!(
            r.body.starts_with(
                "Open https://e-citizen.example.am/my/forwarding/verify?token=abc123\n\n"
            ),
            "{}",
            r.body
        );
        let sms = TemplateText {
            subject: String::new(),
            body: "Կոդ՝ { $token }".into(),
        };
        check_text("phone_verification", Lang::Hy, &sms).unwrap();
        assert_eq!(
            render_sms_version(
                "phone_verification",
                Lang::Hy,
                &sample_params("phone_verification"),
                Some(&sms)
            )
            .unwrap(),
            "Կոդ՝ 10128d"
        );
    }

    #[test]
    fn issue_7_bad_template_texts_are_refused_with_a_code_at_their_field() {
        let t = |subject: &str, body: &str| TemplateText {
            subject: subject.into(),
            body: body.into(),
        };
        let refused = |template: &str, text: TemplateText| {
            let e = check_text(template, Lang::En, &text).unwrap_err();
            (e.code(), e.field())
        };
        use Code::*;
        for (text, want) in [
            (
                t("S", "x { $nonesuch } { $link }"),
                (TemplatePlaceholderUnknown, "body"),
            ),
            (
                t("S { $token }", "{ $link }"),
                (TemplatePlaceholderUnknown, "subject"),
            ),
            (
                t("S", "{ portal-footer } { $link }"),
                (TemplatePlaceholderUnknown, "body"),
            ),
            (
                t("S", "{ -brand } { $link }"),
                (TemplatePlaceholderUnknown, "body"),
            ),
            (
                t("S", "{ NUMBER($link) }"),
                (TemplatePlaceholderUnknown, "body"),
            ),
            (t("S", "no link here"), (TemplatePlaceholderMissing, "body")),
            (t("S", "{ $link"), (TemplateSyntax, "body")),
            (t("S", "{ $link }\n[x] y"), (TemplateSyntax, "body")),
            (t("S", "{ $link ->\n [a] x\n}"), (TemplateSyntax, "body")),
            (t("", "{ $link }"), (MissingField, "subject")),
            (t("a\nb", "{ $link }"), (MissingField, "subject")),
            (t("S", "  "), (MissingField, "body")),
        ] {
            assert_eq!(refused("verification", text.clone()), want, "{text:?}");
        }
        assert_eq!(
            refused("notification_sms", t("S", "{ $inbox_url }")),
            (TemplateSyntax, "subject")
        );
        assert_eq!(refused("nonesuch", t("S", "B")), (Malformed, "template"));
        // A selector on a number placeholder with a default variant is fine.
        let mut r = shipped_text("reminder", Lang::En).unwrap();
        r.body = r.body.replace("*[other]", "[other]");
        assert_eq!(
            check_text("reminder", Lang::En, &r).unwrap_err().code(),
            TemplateSyntax
        );
    }
}
