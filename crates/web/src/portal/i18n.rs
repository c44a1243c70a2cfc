//! The portal's texts: Fluent files `locales/{hy,en,ru}/portal.ftl` of this crate, embedded at compile time.
//! Armenian is the default and the reference: every message exists in all three files (a test checks).

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use popreg_domain::classifiers::Lang;

/// The Fluent sources, by language.
pub(crate) const SOURCES: &[(Lang, &str)] = &[
    (Lang::Hy, include_str!("../../locales/hy/portal.ftl")),
    (Lang::En, include_str!("../../locales/en/portal.ftl")),
    (Lang::Ru, include_str!("../../locales/ru/portal.ftl")),
];

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> Option<&'static Bundle> {
    static BUNDLES: OnceLock<Vec<(Lang, Bundle)>> = OnceLock::new();
    BUNDLES
        .get_or_init(|| {
            SOURCES
                .iter()
                .filter_map(|(lang, src)| {
                    // A broken file is caught by the tests; at run time its messages show as their ids.
                    let res = FluentResource::try_new(src.to_string())
                        .map_err(|(_, e)| {
                            tracing::error!(lang = lang.as_str(), "portal.ftl: {e:?}")
                        })
                        .ok()?;
                    let mut b = FluentBundle::new_concurrent(vec![lang.as_str().parse().ok()?]);
                    // The texts are escaped into HTML by the pages; no Unicode isolation marks.
                    b.set_use_isolating(false);
                    b.add_resource(res).ok()?;
                    Some((*lang, b))
                })
                .collect()
        })
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, b)| b)
}

/// Message `id` in `lang` with `args` (plain text, not yet escaped). A missing message answers its id, so a
/// page never fails for a text; the tests make sure none is missing.
pub(crate) fn tr_args(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let Some(b) = bundle(lang) else {
        return id.to_string();
    };
    let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
        tracing::warn!(lang = lang.as_str(), id, "portal text missing");
        return id.to_string();
    };
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        fa.set(*k, v.clone());
    }
    let mut errors = vec![];
    b.format_pattern(pattern, Some(&fa), &mut errors)
        .into_owned()
}

/// Message `id` in `lang`.
pub(crate) fn tr(lang: Lang, id: &str) -> String {
    tr_args(lang, id, &[])
}

/// Whether message `id` exists in `lang`.
pub(crate) fn has(lang: Lang, id: &str) -> bool {
    bundle(lang).is_some_and(|b| b.has_message(id))
}

/// The message ids of one language's file, in file order.
#[cfg(test)]
pub(crate) fn message_ids(lang: Lang) -> Vec<&'static str> {
    let Some((_, src)) = SOURCES.iter().find(|(l, _)| *l == lang) else {
        return vec![];
    };
    popreg_domain::markup::fluent_message_ids(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_2_every_portal_text_exists_in_armenian_english_and_russian() {
        let hy = message_ids(Lang::Hy);
        assert!(hy.len() > 50, "portal.ftl (hy) has {} messages", hy.len());
        for lang in Lang::ALL {
            let ids = message_ids(lang);
            for id in &hy {
                assert!(ids.contains(id), "{id} missing in {}", lang.as_str());
                assert!(has(lang, id), "{id} does not parse in {}", lang.as_str());
            }
            assert_eq!(ids.len(), hy.len(), "{} has extra messages", lang.as_str());
            for (l, src) in SOURCES {
                if *l == lang {
                    FluentResource::try_new(src.to_string()).expect("portal.ftl parses");
                }
            }
        }
    }

    #[test]
    fn g_2_armenian_and_russian_texts_are_in_their_own_script() {
        // Latin letters are allowed only in names of things that have no translation (ID, PSN codes, URLs,
        // e-mail addresses, "Mobile ID", "E-Citizen", "PDF", "CSV", "HTML", "HTTPS", "PIN").
        let allowed = [
            "support@e-citizen.am",
            "noreply@e-citizen.am",
            "Mobile ID",
            "E-Citizen",
            "HTTPS",
            "PIN",
            "ID",
            "CSV",
            "PDF",
            "HTML",
            "e-citizen.am",
            "https",
            "SameSite",
        ];
        for lang in [Lang::Hy, Lang::Ru] {
            for id in message_ids(lang) {
                let mut text = tr_args(
                    lang,
                    id,
                    &[
                        ("name", "".into()),
                        ("minutes", 1.into()),
                        ("hours", 1.into()),
                        ("url", "".into()),
                        ("method", "".into()),
                        ("time", "".into()),
                        ("psn", "".into()),
                        ("body", "".into()),
                        ("date", "".into()),
                        ("entry", 1.into()),
                        ("reason", "".into()),
                        ("count", 1.into()),
                        ("unread", 1.into()),
                        ("page", 1.into()),
                        ("pages", 1.into()),
                        ("address", "".into()),
                        ("until", "".into()),
                        ("service", "".into()),
                        ("purpose", "".into()),
                        ("id", "".into()),
                        ("class", "".into()),
                        ("booked", 1.into()),
                        ("capacity", 1.into()),
                        ("day", "".into()),
                        ("encoding", "".into()),
                        ("units", 1.into()),
                        ("parts", 1.into()),
                        ("version", 1.into()),
                        ("list", "".into()),
                        ("required", "".into()),
                        ("lang", "".into()),
                    ],
                );
                for a in allowed {
                    text = text.replace(a, "");
                }
                assert!(
                    !text.chars().any(|c| c.is_ascii_alphabetic()),
                    "{} {id}: Latin letters in {text:?}",
                    lang.as_str()
                );
            }
        }
    }

    #[test]
    fn g_2_the_armenian_ligature_ev_is_one_letter_in_the_texts() {
        // «և» is written as the ligature U+0587 in running text, never as «եւ» split by a mistake of input.
        for id in message_ids(Lang::Hy) {
            let t = tr(Lang::Hy, id);
            assert!(!t.contains("եւ"), "{id}: «եւ» instead of «և» in {t:?}");
        }
    }
}
