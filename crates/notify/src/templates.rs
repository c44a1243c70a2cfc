//! The e-mail templates: Fluent files in `locales/{hy,en,ru}/notify.ftl`, embedded at compile time. A
//! template is a pair of messages, `{name}-subject` and `{name}-body`; the shared pieces (an error's lines,
//! the feed hint, the footer, the local time) are messages of their own.
//!
//! Rendering is a pure function of the outbox row's template, language and parameters, so what a provider
//! receives is fixed by the row and the template files alone.

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

/// Render an outbox message. `feed` is the address of the rejection feed (`/api/v1/rejections`, absolute
/// when the register's public address is configured).
pub fn render(
    template: &str,
    lang: Lang,
    params: &Value,
    feed: &str,
) -> Result<Rendered, TemplateError> {
    if PORTAL_TEMPLATES.contains(&template) {
        return render_portal(template, lang, params);
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
    Ok(Rendered {
        subject: format(lang, &format!("{template}-subject"), &args)?,
        body: format(lang, &format!("{template}-body"), &args)?,
    })
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
fn render_portal(template: &str, lang: Lang, params: &Value) -> Result<Rendered, TemplateError> {
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
    Ok(Rendered {
        subject: format(lang, &format!("{template}-subject"), &args)?,
        body: format(lang, &format!("{template}-body"), &args)?,
    })
}

/// The text of a portal `sms` outbox row in its language: `phone_verification` (the 6-character code,
/// G.7) or `notification_sms` (a new notification, with the link to the inbox).
pub fn render_sms(template: &str, lang: Lang, params: &Value) -> Result<String, TemplateError> {
    let mut args = FluentArgs::new();
    match template {
        "phone_verification" => {
            args.set("token", secret(template, params, "token")?.to_string());
            format(lang, "phone-verification-sms", &args)
        }
        "notification_sms" => {
            args.set("sender", text(template, params, "sender")?.to_string());
            args.set(
                "inbox_url",
                text(template, params, "inbox_url")?.to_string(),
            );
            format(lang, "notification-sms", &args)
        }
        other => Err(TemplateError::UnknownTemplate(other.to_string())),
    }
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

/// Every template rendered with [`sample_params`] in `lang`, in the order of [`TEMPLATES`],
/// [`PORTAL_TEMPLATES`], [`SMS_TEMPLATES`]; `feed` as for [`render`].
pub fn previews(lang: Lang, feed: &str) -> Vec<(&'static str, Result<Preview, TemplateError>)> {
    let mail = TEMPLATES.iter().chain(PORTAL_TEMPLATES).map(|t| {
        let r = render(t, lang, &sample_params(t), feed).map(Preview::Email);
        (*t, r)
    });
    let sms = SMS_TEMPLATES
        .iter()
        .map(|t| (*t, render_sms(t, lang, &sample_params(t)).map(Preview::Sms)));
    mail.chain(sms).collect()
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
}
