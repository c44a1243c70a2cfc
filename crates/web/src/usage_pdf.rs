//! The PDF export of the citizen's "who used my data" view (G.3.4, A1.30, A2.9): `GET /my/usage.pdf`, a child
//! module of `my_usage` (it prints exactly the [`Selection`] the page and the CSV show, in the page's texts).
//!
//! The document is PDF/A-2u (archival, every glyph mapped to its Unicode text), checked by krilla's validator
//! while it is written: a document that would not conform is not answered. It has a title, the person's PSN,
//! the filter in effect, the time it was made (Yerevan time), the number of records, a plain-language
//! explanation, then one block per record (when, record number, body with code and name, the data in plain
//! words, the action, purpose, legal basis, channel and the X-Road case number when there is one), and
//! "page N of M" on every page. Its metadata carry the title and the language (`hy`, `en`, `ru`).
//!
//! Text is set in DejaVu Sans (shipped in `crates/web/assets/fonts`, embedded as a subset), which covers
//! Armenian (U+0531–U+0587, with the ligature `և`), Cyrillic and Latin. No shaping is needed for these
//! scripts: each character is its glyph, placed by its advance width. A character the font does not have (or
//! a control character) is printed as `?` (resp. a space), never as the missing-glyph box.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use popreg_domain::classifiers::Lang;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use super::{Selection, YEREVAN_HOURS, action, channel, element, t, yerevan};

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// A4 portrait, in points.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 48.0;
/// Where the text of a page begins and must end; the footer's baseline.
const TOP: f32 = 52.0;
const BOTTOM: f32 = HEIGHT - 58.0;
const FOOTER: f32 = HEIGHT - 30.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.35;

/// The texts only the document has; the rest are the page's ([`t`], [`element`], [`action`], [`channel`]).
struct PdfTexts {
    register: &'static str,
    intro: &'static str,
    generated: &'static str,
    yerevan_time: &'static str,
    /// "Page {n} of {m}" as (before n, between n and m, after m).
    page_of: (&'static str, &'static str, &'static str),
}

fn pdf_texts(lang: Lang) -> &'static PdfTexts {
    match lang {
        Lang::Hy => &PdfTexts {
            register: "Հայաստանի Հանրապետության բնակչության պետական ռեգիստր",
            intro: "Այս փաստաթղթում ներկայացված են Բնակչության պետական ռեգիստրում պահվող ձեր տվյալների \
                    օգտագործումները՝ որ պետական մարմինն է դրանք օգտագործել, երբ, որ տվյալները, ինչ նպատակով և \
                    ինչ իրավական հիմքով։ Յուրաքանչյուր օգտագործում գրանցվել է նախքան տվյալները տրամադրելը և \
                    ներառված է ստորագրված մատյանում, որը հնարավոր չէ աննկատ փոփոխել. «Ով է օգտագործել իմ \
                    տվյալները» էջում կարող եք ստուգել յուրաքանչյուր գրառում՝ ըստ դրա համարի («Ապացույց» \
                    հղումով)։ Օրենքով նախատեսված դեպքերում գրառումը կարող է ժամանակավորապես թաքցված լինել \
                    ձեզանից. այդպիսի գրառումն այս փաստաթղթում չի ներառվում, մինչև ժամկետը լրանա։ Ժամերը նշված \
                    են Երևանի ժամանակով (UTC+4)։",
            generated: "Փաստաթուղթը ստեղծվել է",
            yerevan_time: "Երևանի ժամանակով",
            page_of: ("Էջ ", "-ը ", "-ից"),
        },
        Lang::En => &PdfTexts {
            register: "Population State Register of the Republic of Armenia",
            intro: "This document lists the uses of your data held in the Population State Register: which \
                    state body used them, when, which data, for what purpose and on what legal basis. Each use \
                    was recorded before the data were released and is included in a signed log that cannot be \
                    changed unnoticed; on the “Who used my data” page you can check each record by its record \
                    number (the “Proof” link). Where the law provides for it, a record may be hidden from you \
                    for a time; such a record is not in this document until that period ends. Times are \
                    Yerevan time (UTC+4).",
            generated: "Document made",
            yerevan_time: "Yerevan time",
            page_of: ("Page ", " of ", ""),
        },
        Lang::Ru => &PdfTexts {
            register: "Государственный регистр населения Республики Армения",
            intro: "В этом документе перечислены случаи использования ваших данных из Государственного \
                    регистра населения: какой государственный орган их использовал, когда, какие данные, с \
                    какой целью и на каком правовом основании. Каждое использование записано до выдачи данных \
                    и включено в подписанный журнал, который нельзя незаметно изменить; на странице «Кто \
                    использовал мои данные» вы можете проверить каждую запись по её номеру (ссылка \
                    «Доказательство»). В предусмотренных законом случаях запись может быть временно скрыта от \
                    вас; такая запись не включается в этот документ, пока этот срок не истечёт. Время указано \
                    по Еревану (UTC+4).",
            generated: "Документ сформирован",
            yerevan_time: "по ереванскому времени",
            page_of: ("Страница ", " из ", ""),
        },
    }
}

/// Why no document was written.
#[derive(Debug, thiserror::Error)]
pub(super) enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("PDF: {0}")]
    Krilla(String),
}

/// The font, for drawing (krilla) and for measuring (skrifa).
struct Face {
    font: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Face {
    fn load() -> Result<Face, PdfError> {
        let font_ref = FontRef::new(FONT).map_err(|_| PdfError::Font)?;
        let font = Font::new(FONT.into(), 0).ok_or(PdfError::Font)?;
        Ok(Face {
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: font.units_per_em(),
            font,
        })
    }

    /// The glyph of `c`, if the font has one (never `.notdef`).
    fn glyph(&self, c: char) -> Option<skrifa::GlyphId> {
        self.charmap.map(c).filter(|g| g.to_u32() != 0)
    }

    /// The advance of `c` in ems.
    fn advance(&self, c: char) -> f32 {
        self.glyph(c)
            .and_then(|g| self.metrics.advance_width(g))
            .unwrap_or(0.0)
            / self.units_per_em
    }

    fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// `s` printable in this font: white space and control characters become a space; characters the font
    /// lacks, invisible format characters (bidirectional overrides, zero-width characters, the byte-order
    /// mark) and private-use characters `?`.
    fn clean(&self, s: &str) -> String {
        let invisible = |c: char| {
            matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}' | '\u{E000}'..='\u{F8FF}' | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}' | '\u{FFF0}'..='\u{FFFF}')
        };
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    ' '
                } else if !invisible(c) && self.glyph(c).is_some() {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// `s` broken into lines no wider than `max` points at `size`: at spaces, and inside a word only when
    /// the word alone is wider than a line.
    fn wrap(&self, s: &str, size: f32, max: f32) -> Vec<String> {
        let space = self.advance(' ') * size;
        let mut lines = vec![];
        let (mut line, mut w) = (String::new(), 0.0);
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            let ww = self.width(word, size);
            if !line.is_empty() && w + space + ww <= max {
                line.push(' ');
                line.push_str(word);
                w += space + ww;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            if ww <= max {
                line.push_str(word);
                w = ww;
                continue;
            }
            for c in word.chars() {
                let cw = self.advance(c) * size;
                if !line.is_empty() && w + cw > max {
                    lines.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += cw;
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Draw one line of (clean) text with its baseline at `(x, y)`.
    fn draw(&self, surface: &mut Surface, x: f32, y: f32, size: f32, text: &str) {
        let glyphs: Vec<KrillaGlyph> = text
            .char_indices()
            .filter_map(|(i, c)| {
                let g = self.glyph(c)?;
                Some(KrillaGlyph::new(
                    GlyphId::new(g.to_u32()),
                    self.advance(c),
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                ))
            })
            .collect();
        surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            self.font.clone(),
            text,
            size,
            false,
        );
    }
}

/// What is drawn on a page, top-down coordinates in points.
enum Item {
    /// One line of text, its top at `y`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        gray: bool,
        text: String,
    },
    /// A thin horizontal line across the text column.
    Rule { y: f32 },
}

/// The pages laid out so far and where the next line goes.
struct Layout<'f> {
    face: &'f Face,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Vec<Item> {
        if self.pages.is_empty() {
            self.pages.push(vec![]);
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Room for `height` more points on this page, or a new page.
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM && !self.page().is_empty() {
            self.pages.push(vec![]);
            self.y = TOP;
        }
    }

    /// A paragraph: `text` wrapped to the text column from `x`.
    fn paragraph(&mut self, text: &str, size: f32, gray: bool) {
        let lines = self
            .face
            .wrap(&self.face.clean(text), size, WIDTH - MARGIN - MARGIN);
        for line in lines {
            self.need(size * LEADING);
            let y = self.y;
            self.page().push(Item::Text {
                x: MARGIN,
                y,
                size,
                gray,
                text: line,
            });
            self.y += size * LEADING;
        }
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn rule(&mut self) {
        let y = self.y;
        self.page().push(Item::Rule { y });
    }

    /// Rows of (label, value): labels in a gray column of `label_width`, values wrapped beside them. Kept on
    /// one page when they fit on one.
    fn rows(&mut self, rows: &[(&str, String)], label_width: f32) {
        const SIZE: f32 = 9.0;
        let line = SIZE * LEADING;
        let value_width = WIDTH - MARGIN - MARGIN - label_width;
        let laid: Vec<(Vec<String>, Vec<String>)> = rows
            .iter()
            .map(|(label, value)| {
                (
                    self.face
                        .wrap(&self.face.clean(label), SIZE - 0.5, label_width - 8.0),
                    self.face.wrap(&self.face.clean(value), SIZE, value_width),
                )
            })
            .collect();
        let height: f32 = laid
            .iter()
            .map(|(l, v)| l.len().max(v.len()) as f32 * line)
            .sum();
        if height <= BOTTOM - TOP {
            self.need(height);
        }
        for (labels, values) in laid {
            for i in 0..labels.len().max(values.len()) {
                self.need(line);
                let y = self.y;
                if let Some(l) = labels.get(i) {
                    self.page().push(Item::Text {
                        x: MARGIN,
                        y: y + 0.5,
                        size: SIZE - 0.5,
                        gray: true,
                        text: l.clone(),
                    });
                }
                if let Some(v) = values.get(i) {
                    self.page().push(Item::Text {
                        x: MARGIN + label_width,
                        y,
                        size: SIZE,
                        gray: false,
                        text: v.clone(),
                    });
                }
                self.y += line;
            }
        }
    }
}

/// The filter in effect, in words: "All records", or the body code and the days chosen.
fn filter_in_words(lang: Lang, sel: &Selection) -> String {
    let tx = t(lang);
    let f = &sel.filter;
    let mut parts = vec![];
    if let Some(body) = &f.body {
        parts.push(format!("{}: {body}", tx.body_code));
    }
    if let Some(from) = f.from {
        parts.push(format!("{}: {from}", tx.from));
    }
    if let Some(to) = f.to {
        parts.push(format!("{}: {to}", tx.to));
    }
    if parts.is_empty() {
        tx.all.to_string()
    } else {
        parts.join("; ")
    }
}

/// Lay out the whole document: the pages and what is on them (footers come later, when the number of pages
/// is known).
fn lay_out(face: &Face, lang: Lang, sel: &Selection, now: DateTime<Utc>) -> Vec<Vec<Item>> {
    let (tx, px) = (t(lang), pdf_texts(lang));
    let mut l = Layout {
        face,
        pages: vec![],
        y: TOP,
    };
    l.paragraph(px.register, 9.0, true);
    l.gap(4.0);
    l.paragraph(tx.title, 18.0, false);
    l.gap(6.0);
    let mut head = vec![
        (tx.psn, sel.psn.to_string()),
        (
            px.generated,
            format!("{} ({})", yerevan(now), px.yerevan_time),
        ),
        (tx.filter, filter_in_words(lang, sel)),
        (tx.count, sel.rows.len().to_string()),
    ];
    if sel.more {
        head.push(("", tx.truncated.to_string()));
    }
    let head_labels = head.iter().map(|(k, _)| *k);
    l.rows(&head, label_width(face, head_labels));
    l.gap(8.0);
    l.paragraph(px.intro, 9.5, false);
    l.gap(10.0);
    l.rule();
    l.gap(8.0);
    if sel.rows.is_empty() {
        l.paragraph(tx.none, 10.0, false);
        return l.pages;
    }
    let labels = [
        tx.body, tx.data, tx.action, tx.purpose, tx.basis, tx.channel, tx.issue,
    ];
    let width = label_width(face, labels.into_iter());
    for r in &sel.rows {
        let body = match sel.names.get(&r.body_id).cloned().flatten() {
            Some(name) => format!("{name} ({})", r.body_id),
            None => r.body_id.clone(),
        };
        let data: Vec<&str> = r.elements.iter().map(|e| element(lang, e)).collect();
        let mut rows = vec![
            (tx.when, yerevan(r.at)),
            (tx.record, r.id.to_string()),
            (tx.body, body),
            (tx.data, data.join(", ")),
            (tx.action, action(lang, &r.action).to_string()),
            (tx.purpose, r.purpose.clone()),
            (tx.basis, r.legal_basis.clone()),
            (tx.channel, channel(lang, &r.channel).to_string()),
        ];
        if let Some(issue) = &r.xroad_issue {
            rows.push((tx.issue, issue.clone()));
        }
        l.rows(&rows, width);
        l.gap(4.0);
        l.rule();
        l.gap(6.0);
    }
    l.pages
}

/// The label column: as wide as the widest label (plus a gap), at most a third of the text column.
fn label_width<'a>(face: &Face, labels: impl Iterator<Item = &'a str>) -> f32 {
    let widest = labels.map(|s| face.width(s, 8.5)).fold(0.0_f32, f32::max);
    (widest + 12.0).min((WIDTH - MARGIN - MARGIN) / 3.0)
}

fn gray() -> Option<Fill> {
    Some(Fill {
        paint: rgb::Color::new(85, 85, 85).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::default(),
    })
}

/// The document's date in its metadata: local (Yerevan) time with its offset.
fn pdf_date(now: DateTime<Utc>) -> krilla::metadata::DateTime {
    let local = now + Duration::hours(YEREVAN_HOURS);
    let n = |v: u32| u8::try_from(v).unwrap_or(0);
    krilla::metadata::DateTime::new(u16::try_from(local.year()).unwrap_or(0))
        .month(n(local.month()))
        .day(n(local.day()))
        .hour(n(local.hour()))
        .minute(n(local.minute()))
        .second(n(local.second()))
        .utc_offset_hour(YEREVAN_HOURS as i8)
        .utc_offset_minute(0)
}

/// The PDF/A-2u document of `sel` in `lang`, made at `now`.
pub(super) fn write(lang: Lang, sel: &Selection, now: DateTime<Utc>) -> Result<Vec<u8>, PdfError> {
    let (tx, px) = (t(lang), pdf_texts(lang));
    let face = Face::load()?;
    let pages = lay_out(&face, lang, sel, now);
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| PdfError::Krilla(format!("{e:?}")))?;
    let mut doc = Document::new_with(SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    });
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} — {}", tx.title, sel.psn))
            .language(lang.as_str().to_string())
            .authors(vec![px.register.to_string()])
            .creator("popreg".to_string())
            .creation_date(pdf_date(now)),
    );
    let total = pages.len();
    let footer_left = face.clean(&format!("{} · {}: {}", tx.title, tx.psn, sel.psn));
    for (i, items) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT)
            .ok_or_else(|| PdfError::Krilla("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for item in items {
            match item {
                Item::Text {
                    x,
                    y,
                    size,
                    gray: g,
                    text,
                } => {
                    surface.set_fill(if *g { gray() } else { None });
                    face.draw(&mut surface, *x, y + size, *size, text);
                }
                Item::Rule { y } => {
                    let mut pb = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(MARGIN, *y, WIDTH - MARGIN - MARGIN, 0.6) {
                        pb.push_rect(rect);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_fill(gray());
                        surface.draw_path(&path);
                    }
                }
            }
        }
        let (before, between, after) = px.page_of;
        let number = format!("{before}{}{between}{total}{after}", i + 1);
        surface.set_fill(gray());
        face.draw(&mut surface, MARGIN, FOOTER, 8.0, &footer_left);
        let w = face.width(&number, 8.0);
        face.draw(&mut surface, WIDTH - MARGIN - w, FOOTER, 8.0, &number);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PdfError::Krilla(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character of every text the document prints from its own tables has a glyph in the font, in
    /// each language (so nothing the register itself writes becomes `?`), and the Armenian range with the
    /// ligature `և` (U+0587) is covered.
    #[test]
    fn g_3_4_the_font_covers_armenian_cyrillic_and_every_text() {
        let face = Face::load().unwrap();
        for c in ('\u{0531}'..='\u{0556}').chain('\u{0561}'..='\u{0587}') {
            assert!(face.glyph(c).is_some(), "U+{:04X}", c as u32);
        }
        for c in [
            '\u{0589}', '\u{055D}', '\u{055E}', '«', '»', '—', '·', '“', '”',
        ] {
            assert!(face.glyph(c).is_some(), "U+{:04X}", c as u32);
        }
        for c in ('А'..='я').chain(['ё', 'Ё']) {
            assert!(face.glyph(c).is_some(), "{c}");
        }
        let mut all = popreg_domain::disclosure::element_names();
        all.push("usage_log");
        for lang in Lang::ALL {
            let (tx, px) = (t(lang), pdf_texts(lang));
            let mut texts = vec![
                tx.title,
                tx.psn,
                tx.filter,
                tx.body_code,
                tx.from,
                tx.to,
                tx.all,
                tx.count,
                tx.truncated,
                tx.none,
                tx.when,
                tx.body,
                tx.data,
                tx.action,
                tx.purpose,
                tx.basis,
                tx.channel,
                tx.issue,
                tx.record,
                px.register,
                px.intro,
                px.generated,
                px.yerevan_time,
                px.page_of.0,
                px.page_of.1,
                px.page_of.2,
            ];
            texts.extend(all.iter().map(|e| element(lang, e)));
            for a in [
                "person",
                "person_as_of",
                "history",
                "notice_address",
                "psn_check",
                "usage_search",
            ] {
                texts.push(action(lang, a));
            }
            for c in ["web", "api", "x_road", "import", "system"] {
                texts.push(channel(lang, c));
            }
            for text in texts {
                assert_eq!(face.clean(text), text, "{lang:?}");
            }
        }
    }

    fn record(id: i64, purpose: &str) -> popreg_store::UsageRecord {
        popreg_store::UsageRecord {
            id,
            at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 15, 9, 0, 0).unwrap(),
            psn: String::new(),
            body_id: "TAX-01".into(),
            user_uid: "uid".into(),
            channel: "x_road".into(),
            action: "person".into(),
            elements: vec!["person.names".into(), "person.unknown".into()],
            purpose: purpose.into(),
            legal_basis: "Tax Code, art. 5".into(),
            xroad_client: None,
            xroad_id: None,
            xroad_user_id: None,
            xroad_issue: Some("CASE-1".into()),
            audit_seq: id,
            hidden_until: None,
        }
    }

    /// Text the register does not control (purposes, body names) with characters the font lacks, control
    /// characters and very long words still makes a valid PDF/A-2u document (krilla's validator refuses a
    /// missing glyph), for many records.
    #[test]
    fn g_3_4_odd_text_and_many_records_make_a_valid_pdf_a() {
        let odd =
            "emoji 😀, CJK 漢字, NUL \u{0}, BOM \u{feff}, private \u{e000}, tab\tand\r\nnewline, \
                   long word "
                .to_string()
                + &"Ա".repeat(400);
        let mut names = std::collections::HashMap::new();
        names.insert("TAX-01".to_string(), Some("Կոմիտե 😀 \u{202e}".to_string()));
        let psn = popreg_domain::Psn::allocate(&mut || 4_242_424_242);
        let sel = Selection {
            psn,
            filter: super::super::Filter::parse(Some("body=TAX-01&from=2026-01-01")).unwrap(),
            rows: (0..600).map(|i| record(600 - i, &odd)).collect(),
            more: true,
            place: None,
            names,
            session: None,
        };
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 15, 9, 0, 0).unwrap();
        let started = std::time::Instant::now();
        for lang in Lang::ALL {
            let pdf = write(lang, &sel, now).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
        }
        eprintln!("3 x 600 records: {:?}", started.elapsed());
        let empty = Selection {
            rows: vec![],
            more: false,
            place: None,
            names: Default::default(),
            filter: Default::default(),
            psn,
            session: None,
        };
        assert!(write(Lang::Hy, &empty, now).unwrap().starts_with(b"%PDF-"));
    }

    #[test]
    fn g_3_4_text_is_cleaned_and_wrapped_to_the_column() {
        let face = Face::load().unwrap();
        assert_eq!(face.clean("a\tb\nc\u{0}d 漢"), "a b c d ?");
        assert_eq!(face.clean("\u{feff}x\u{202e}y\u{200b}\u{e000}"), "?x?y??");
        let text = "Պետական եկամուտների կոմիտե ".repeat(20);
        let lines = face.wrap(&text, 9.0, 200.0);
        assert!(lines.len() > 3, "{lines:?}");
        for line in &lines {
            assert!(face.width(line, 9.0) <= 200.0, "{line}");
            assert!(!line.starts_with(' ') && !line.ends_with(' '), "{line}");
        }
        assert_eq!(lines.join(" "), text.trim_end());
        // A word longer than a line is cut inside.
        let long = "X".repeat(300);
        let lines = face.wrap(&long, 9.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), long);
        assert_eq!(face.wrap("", 9.0, 100.0), vec![String::new()]);
    }
}
