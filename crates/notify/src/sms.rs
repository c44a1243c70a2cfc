//! The SMS channel (G.3.3, G.7): what a text costs in parts, how it is encoded, the Armenian number it goes
//! to, and the interface both providers implement — an SMSC over SMPP 3.4 ([`crate::smpp`]) or an HTTP
//! SMS gateway ([`crate::sms_http`]).
//!
//! **Encoding.** A text that the GSM 03.38 default alphabet (with its extension table) can carry travels in
//! GSM-7: 160 septets in one message, 153 per part when concatenated (the 6-octet UDH takes the rest of the
//! 140 octets); an extension character (`^ { } \ [ ~ ] | €`, form feed) costs two septets and is never split
//! between parts. Anything else — Armenian and Russian always — travels in UCS-2: 70 UTF-16 code units in
//! one message, 67 per part. A character outside the Basic Multilingual Plane (an emoji) is a surrogate pair,
//! two units, and also never split (phones read data coding 8 as UTF-16). The Armenian ligature `և` (U+0587)
//! is one character and one unit; texts are not normalised.
//!
//! **Concatenation.** A longer text is cut into parts, each carrying the 6-octet user data header
//! `05 00 03 <reference> <total> <number>` (IEI 0x00, 8-bit reference) with the UDHI bit set in `esm_class`.
//! At most 255 parts exist in that scheme; the configuration sets a lower limit (`max_parts`).

mod gsm7;
mod msisdn;

use std::future::Future;
use std::time::Duration;

pub use msisdn::{Msisdn, MsisdnError};
use serde::{Deserialize, Serialize};

use crate::config::{SmsConfig, SmsProviderKind};
use crate::smpp::SmppClient;
use crate::sms_http::HttpGateway;

/// How a text is encoded on the air.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsEncoding {
    /// The GSM 03.38 default alphabet, one septet per character (two for the extension table).
    Gsm7,
    /// UCS-2 (in practice UTF-16 big-endian), two octets per code unit.
    Ucs2,
}

impl SmsEncoding {
    /// SMPP `data_coding`: 0 (the SMSC default alphabet, GSM 03.38) or 8 (UCS-2).
    pub fn data_coding(self) -> u8 {
        match self {
            SmsEncoding::Gsm7 => 0,
            SmsEncoding::Ucs2 => 8,
        }
    }

    /// Septets or code units in a message that is not split.
    pub fn single_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 70,
        }
    }

    /// Septets or code units in each part of a concatenated message.
    pub fn part_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 153,
            SmsEncoding::Ucs2 => 67,
        }
    }
}

/// What a text will cost: its encoding, the number of messages it is sent as, and how much each holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SmsPlan {
    pub encoding: SmsEncoding,
    /// Messages sent (1 for an empty text).
    pub parts: usize,
    /// Septets (GSM-7) or UTF-16 units (UCS-2) one part holds: 160/70 for a single message, 153/67 each
    /// when concatenated.
    pub chars_per_part: usize,
    /// Septets or units of the whole text (an extension character counts 2, an emoji 2).
    pub units: usize,
}

/// The plan of a text, as [`encode`] will cut it.
pub fn plan(text: &str) -> SmsPlan {
    let enc = encode(text);
    SmsPlan {
        encoding: enc.encoding,
        parts: enc.parts.len(),
        chars_per_part: if enc.parts.len() > 1 {
            enc.encoding.part_limit()
        } else {
            enc.encoding.single_limit()
        },
        units: enc.units,
    }
}

/// A text cut into the payloads of its messages (without their UDH).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub encoding: SmsEncoding,
    /// GSM-7: unpacked septets, one per octet. UCS-2: UTF-16 big-endian.
    pub parts: Vec<Vec<u8>>,
    pub units: usize,
}

/// One character's encoded bytes and its weight in septets or code units.
fn atoms(text: &str, encoding: SmsEncoding) -> Vec<(Vec<u8>, usize)> {
    text.chars()
        .map(|c| match encoding {
            SmsEncoding::Gsm7 => {
                let mut b = Vec::with_capacity(2);
                // `encoding` is GSM-7 only when every character fits.
                let s = gsm7::septets(c).unwrap_or(gsm7::Septets::One(0x20));
                s.push_to(&mut b);
                (b, s.len())
            }
            SmsEncoding::Ucs2 => {
                let mut units = [0u16; 2];
                let units = c.encode_utf16(&mut units);
                (
                    units.iter().flat_map(|u| u.to_be_bytes()).collect(),
                    units.len(),
                )
            }
        })
        .collect()
}

/// Encode a text and cut it into parts that never split an escape sequence or a surrogate pair.
pub fn encode(text: &str) -> Encoded {
    let encoding = if gsm7::fits(text) {
        SmsEncoding::Gsm7
    } else {
        SmsEncoding::Ucs2
    };
    let atoms = atoms(text, encoding);
    let units: usize = atoms.iter().map(|a| a.1).sum();
    if units <= encoding.single_limit() {
        return Encoded {
            encoding,
            parts: vec![atoms.into_iter().flat_map(|a| a.0).collect()],
            units,
        };
    }
    let mut parts = Vec::new();
    let mut part = Vec::new();
    let mut used = 0;
    for (bytes, weight) in atoms {
        if used + weight > encoding.part_limit() {
            parts.push(std::mem::take(&mut part));
            used = 0;
        }
        part.extend(bytes);
        used += weight;
    }
    parts.push(part);
    Encoded {
        encoding,
        parts,
        units,
    }
}

/// The concatenation user data header of part `number` (1-based) of `total`: IEI 0x00, 8-bit reference.
pub fn concat_udh(reference: u8, total: u8, number: u8) -> [u8; 6] {
    [0x05, 0x00, 0x03, reference, total, number]
}

/// The most parts the 8-bit concatenation scheme can number.
pub const MAX_PARTS: usize = 255;

/// What the provider calls the message: one id per part, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderIds(pub Vec<String>);

/// Why a message was not handed over.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Try again later: the provider is busy, throttling, unreachable or did not answer in time.
    #[error("temporary SMS failure: {0}")]
    Temporary(String),
    /// This message to this number will not go as it is: the number does not exist or is barred, the text
    /// is too long.
    #[error("permanent SMS failure: {0}")]
    Permanent(String),
    /// Our side or the protocol: refused credentials, a malformed answer, a provider that does not understand
    /// us. Needs an operator; retrying alone will not help.
    #[error("technical SMS failure: {0}")]
    Technical(String),
}

impl SmsError {
    pub fn is_temporary(&self) -> bool {
        matches!(self, SmsError::Temporary(_))
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, SmsError::Permanent(_))
    }
}

/// What became of a message, from a delivery receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// On its way (not final).
    Enroute,
    /// Reached the phone.
    Delivered,
    /// Its validity ran out before it could be delivered.
    Expired,
    /// Deleted at the SMSC.
    Deleted,
    /// Cannot be delivered (unknown subscriber, barred, …).
    Undeliverable,
    /// Accepted on the subscriber's behalf (not final for us).
    Accepted,
    /// The SMSC does not know.
    Unknown,
    /// Refused by the network.
    Rejected,
}

impl DeliveryStatus {
    /// The `stat:` word of an SMPP receipt (SMPP 3.4 appendix B): `DELIVRD`, `EXPIRED`, `DELETED`, `UNDELIV`,
    /// `ACCEPTD`, `UNKNOWN`, `REJECTD`, and `ENROUTE`.
    pub fn from_smpp_stat(word: &str) -> Option<DeliveryStatus> {
        Some(match word.to_ascii_uppercase().as_str() {
            "DELIVRD" => DeliveryStatus::Delivered,
            "EXPIRED" => DeliveryStatus::Expired,
            "DELETED" => DeliveryStatus::Deleted,
            "UNDELIV" => DeliveryStatus::Undeliverable,
            "ACCEPTD" => DeliveryStatus::Accepted,
            "UNKNOWN" => DeliveryStatus::Unknown,
            "REJECTD" => DeliveryStatus::Rejected,
            "ENROUTE" => DeliveryStatus::Enroute,
            _ => return None,
        })
    }

    /// The SMPP `message_state` value (TLV 0x0427, table 5-6).
    pub fn from_message_state(v: u8) -> Option<DeliveryStatus> {
        Some(match v {
            1 => DeliveryStatus::Enroute,
            2 => DeliveryStatus::Delivered,
            3 => DeliveryStatus::Expired,
            4 => DeliveryStatus::Deleted,
            5 => DeliveryStatus::Undeliverable,
            6 => DeliveryStatus::Accepted,
            7 => DeliveryStatus::Unknown,
            8 => DeliveryStatus::Rejected,
            _ => return None,
        })
    }

    /// The status word (as in JSON): `delivered`, `undeliverable`, …
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Enroute => "enroute",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Expired => "expired",
            DeliveryStatus::Deleted => "deleted",
            DeliveryStatus::Undeliverable => "undeliverable",
            DeliveryStatus::Accepted => "accepted",
            DeliveryStatus::Unknown => "unknown",
            DeliveryStatus::Rejected => "rejected",
        }
    }

    /// Whether nothing more will happen to the message.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            DeliveryStatus::Enroute | DeliveryStatus::Accepted | DeliveryStatus::Unknown
        )
    }
}

/// A delivery receipt: which message (the provider's id of one part) and what became of it. In JSON (the
/// HTTP gateway's status answer and callback) the id is `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    #[serde(rename = "id")]
    pub provider_id: String,
    pub status: DeliveryStatus,
    /// The network's error code, as the provider gives it (`err:` of an SMPP receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it happened, as the provider gives it (`done date:` of an SMPP receipt, `YYMMDDhhmm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
}

/// A provider that hands SMS to the network. `reference` is the caller's idempotency key (the outbox row's
/// dedupe key); it goes into logs, and to an HTTP gateway, never into the message.
pub trait SmsSender {
    fn send(
        &self,
        to: &Msisdn,
        text: &str,
        reference: &str,
    ) -> impl Future<Output = Result<ProviderIds, SmsError>> + Send;
}

/// The configured provider.
#[derive(Debug)]
pub enum SmsChannel {
    Smpp(SmppClient),
    Http(HttpGateway),
    /// The demo's catcher (`capture.rs`): kept, not sent; no receipts.
    Capture(std::sync::Arc<crate::capture::Capture>),
}

impl SmsChannel {
    /// Start the provider `[notify.sms]` names. Its delivery receipts arrive on the receiver: for SMPP from
    /// the SMSC's `deliver_sm`; for HTTP from the gateway's callbacks, which whoever hosts the callback route
    /// passes to [`HttpGateway::callback`] ([`HttpGateway::status`] polls answer directly).
    pub fn start(
        cfg: &SmsConfig,
    ) -> Result<(SmsChannel, tokio::sync::mpsc::Receiver<DeliveryReport>), crate::NotifyError> {
        match cfg.provider {
            SmsProviderKind::Smpp => {
                let (client, reports) = SmppClient::start(cfg)?;
                Ok((SmsChannel::Smpp(client), reports))
            }
            SmsProviderKind::Http => {
                let (gateway, reports) = HttpGateway::new(cfg)?.with_reports(1024);
                Ok((SmsChannel::Http(gateway), reports))
            }
        }
    }
}

impl SmsSender for SmsChannel {
    async fn send(
        &self,
        to: &Msisdn,
        text: &str,
        reference: &str,
    ) -> Result<ProviderIds, SmsError> {
        match self {
            SmsChannel::Smpp(c) => c.send(to, text, reference).await,
            SmsChannel::Http(c) => c.send(to, text, reference).await,
            SmsChannel::Capture(c) => {
                c.push(crate::capture::Caught {
                    at: chrono::Utc::now(),
                    channel: "sms",
                    to: to.to_string(),
                    from: String::new(),
                    subject: String::new(),
                    body: text.to_string(),
                    raw: String::new(),
                });
                Ok(ProviderIds(vec![format!("demo-{reference}")]))
            }
        }
    }
}

/// Refuse what no provider should be asked to send: an empty text or one over the configured parts.
pub(crate) fn check_text(text: &str, max_parts: usize) -> Result<Encoded, SmsError> {
    if text.is_empty() {
        return Err(SmsError::Permanent("empty text".into()));
    }
    let enc = encode(text);
    let limit = max_parts.clamp(1, MAX_PARTS);
    if enc.parts.len() > limit {
        return Err(SmsError::Permanent(format!(
            "the text needs {} parts, more than the {limit} allowed",
            enc.parts.len()
        )));
    }
    Ok(enc)
}

/// A token bucket: at most `n` messages a second on average, and up to `burst` at once after a quiet spell
/// (the bucket's size); each caller waits for its token. Kept as the "generic cell rate algorithm": the
/// theoretical arrival time of the next message, so the state is one instant.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    every: Option<Duration>,
    burst: u32,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    /// `n` = 0: no limit. One at a time, evenly spread.
    pub(crate) fn per_second(n: u32) -> RateLimiter {
        RateLimiter::bucket(n, 1)
    }

    /// `n` a second, `burst` (at least 1) at once; `n` = 0: no limit.
    pub(crate) fn bucket(n: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            every: (n > 0).then(|| Duration::from_secs(1) / n),
            burst: burst.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    pub(crate) async fn wait(&self) {
        let Some(every) = self.every else { return };
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + every;
            // The bucket holds `burst` tokens: a message may go `burst - 1` intervals ahead of its slot.
            at.checked_sub(every * (self.burst - 1))
                .map_or(now, |t| t.max(now))
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn g_3_3_the_token_bucket_lets_a_burst_through_then_paces() {
        use std::time::Instant;
        let bucket = RateLimiter::bucket(20, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            bucket.wait().await;
        }
        // Three at once: the bucket starts full.
        assert!(
            t0.elapsed() < Duration::from_millis(40),
            "{:?}",
            t0.elapsed()
        );
        for _ in 0..3 {
            bucket.wait().await;
        }
        // Then one every 50 ms.
        let paced = t0.elapsed();
        assert!(
            paced >= Duration::from_millis(145) && paced < Duration::from_millis(400),
            "{paced:?}"
        );
        // After a quiet spell the bucket is full again.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t1 = Instant::now();
        for _ in 0..3 {
            bucket.wait().await;
        }
        assert!(
            t1.elapsed() < Duration::from_millis(40),
            "{:?}",
            t1.elapsed()
        );
        // One at a time: evenly spread from the first.
        let even = RateLimiter::per_second(20);
        let t2 = Instant::now();
        for _ in 0..3 {
            even.wait().await;
        }
        assert!(
            t2.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t2.elapsed()
        );
        // No limit: no wait.
        let t3 = Instant::now();
        let free = RateLimiter::bucket(0, 5);
        for _ in 0..100 {
            free.wait().await;
        }
        assert!(t3.elapsed() < Duration::from_millis(40));
    }
    use proptest::prelude::*;

    fn decode(enc: &Encoded) -> String {
        enc.parts
            .iter()
            .map(|p| match enc.encoding {
                SmsEncoding::Gsm7 => gsm7::decode(p),
                SmsEncoding::Ucs2 => {
                    let units: Vec<u16> = p
                        .chunks(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect();
                    String::from_utf16(&units).expect("no part splits a surrogate pair")
                }
            })
            .collect()
    }

    #[test]
    fn g_7_exactly_160_and_161_gsm7_characters() {
        let p = plan(&"a".repeat(160));
        assert_eq!(
            p,
            SmsPlan {
                encoding: SmsEncoding::Gsm7,
                parts: 1,
                chars_per_part: 160,
                units: 160
            }
        );
        let p = plan(&"a".repeat(161));
        assert_eq!((p.parts, p.chars_per_part), (2, 153));
        assert_eq!(plan(&"a".repeat(306)).parts, 2);
        assert_eq!(plan(&"a".repeat(307)).parts, 3);
        assert_eq!(plan("").parts, 1);
    }

    #[test]
    fn g_7_extension_characters_count_double_and_stay_whole() {
        // 159 + one euro sign = 161 septets: two parts.
        let text = format!("{}€", "a".repeat(159));
        let p = plan(&text);
        assert_eq!((p.encoding, p.units, p.parts), (SmsEncoding::Gsm7, 161, 2));
        assert_eq!(plan(&format!("{}€", "a".repeat(158))).parts, 1);
        // A part boundary that falls between the escape and its code moves the whole character on.
        let text = format!("{}[{}", "a".repeat(152), "tail".repeat(3));
        let enc = encode(&text);
        assert_eq!(enc.parts[0].len(), 152);
        assert_eq!(enc.parts[1][..2], [gsm7::ESCAPE, 0x3C]);
        assert_eq!(decode(&enc), text);
    }

    #[test]
    fn g_7_armenian_and_russian_travel_in_ucs2() {
        let hy = "Ձեր հեռախոսահամարը հաստատելու համար մուտքագրեք կոդը՝ 10128d";
        let p = plan(hy);
        assert_eq!(p.encoding, SmsEncoding::Ucs2);
        assert_eq!((p.parts, p.chars_per_part), (1, 70));
        assert_eq!(plan(&"ա".repeat(70)).parts, 1);
        assert_eq!(plan(&"ա".repeat(71)).parts, 2);
        assert_eq!(plan(&"ա".repeat(134)).parts, 2);
        assert_eq!(plan(&"ա".repeat(135)).parts, 3);
        assert_eq!(plan("Привет").encoding, SmsEncoding::Ucs2);
        // One Armenian letter in a Latin text switches the whole text.
        assert_eq!(
            plan(&format!("{}և", "a".repeat(100))).encoding,
            SmsEncoding::Ucs2
        );
        let enc = encode("Բարև");
        assert_eq!(
            enc.parts,
            vec![vec![0x05, 0x32, 0x05, 0x61, 0x05, 0x80, 0x05, 0x87]]
        );
    }

    #[test]
    fn g_7_the_ligature_yev_is_one_unit() {
        let p = plan(&"և".repeat(70));
        assert_eq!((p.units, p.parts), (70, 1));
        assert_eq!(plan(&"և".repeat(71)).parts, 2);
    }

    #[test]
    fn g_7_emoji_are_surrogate_pairs_never_split() {
        let p = plan(&"😀".repeat(35));
        assert_eq!((p.encoding, p.units, p.parts), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(plan(&format!("{}😀", "ա".repeat(69))).parts, 2);
        // 66 units, then a pair that does not fit the 67th: it moves to part two whole.
        let text = format!("{}😀{}", "ա".repeat(66), "բ".repeat(10));
        let enc = encode(&text);
        assert_eq!(enc.parts[0].len(), 66 * 2);
        assert_eq!(enc.parts[1][..4], [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode(&enc), text);
    }

    #[test]
    fn g_7_too_long_or_empty_texts_are_refused() {
        assert!(check_text("", 5).unwrap_err().is_permanent());
        assert!(check_text(&"ա".repeat(67 * 3), 3).is_ok());
        assert!(
            check_text(&"ա".repeat(67 * 3 + 1), 3)
                .unwrap_err()
                .is_permanent()
        );
    }

    #[test]
    fn g_7_receipt_words() {
        assert_eq!(
            DeliveryStatus::from_smpp_stat("DELIVRD"),
            Some(DeliveryStatus::Delivered)
        );
        assert_eq!(
            DeliveryStatus::from_smpp_stat("undeliv"),
            Some(DeliveryStatus::Undeliverable)
        );
        assert_eq!(
            DeliveryStatus::from_smpp_stat("REJECTD"),
            Some(DeliveryStatus::Rejected)
        );
        assert_eq!(
            DeliveryStatus::from_smpp_stat("EXPIRED"),
            Some(DeliveryStatus::Expired)
        );
        assert_eq!(DeliveryStatus::from_smpp_stat("OK"), None);
        assert_eq!(
            DeliveryStatus::from_message_state(2),
            Some(DeliveryStatus::Delivered)
        );
        assert!(DeliveryStatus::Rejected.is_final());
        for v in 1..=8 {
            let s = DeliveryStatus::from_message_state(v).unwrap();
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(!DeliveryStatus::Enroute.is_final());
    }

    #[tokio::test]
    async fn g_7_the_rate_limit_spreads_messages() {
        let limit = RateLimiter::per_second(50);
        let start = std::time::Instant::now();
        for _ in 0..11 {
            limit.wait().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(195), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let none = RateLimiter::per_second(0);
        let start = std::time::Instant::now();
        for _ in 0..100 {
            none.wait().await;
        }
        assert!(start.elapsed() < Duration::from_millis(100));
    }

    /// Text from a mix of Latin, GSM extension, Armenian, Cyrillic and astral characters.
    fn text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(vec!['€', '[', '^', '|', '{', '\u{0C}', '@', '£', 'Δ']),
            1 => proptest::char::range('\u{0531}', '\u{0587}'),
            1 => proptest::char::range('а', 'я'),
            1 => proptest::sample::select(vec!['😀', '👍', '𝄞']),
        ];
        proptest::collection::vec(ch, 0..700).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn g_7_parts_respect_the_limits_and_rebuild_the_text(s in text()) {
            let enc = encode(&s);
            prop_assert_eq!(decode(&enc), s.clone());
            let p = plan(&s);
            prop_assert_eq!(p.parts, enc.parts.len());
            let bytes_per_unit = match enc.encoding { SmsEncoding::Gsm7 => 1, SmsEncoding::Ucs2 => 2 };
            let limit = if enc.parts.len() == 1 { enc.encoding.single_limit() } else { enc.encoding.part_limit() };
            prop_assert_eq!(p.chars_per_part, limit);
            for part in &enc.parts {
                prop_assert!(part.len() <= limit * bytes_per_unit);
                // A part never ends on an escape or a high surrogate.
                match enc.encoding {
                    SmsEncoding::Gsm7 => prop_assert_ne!(part.last(), Some(&gsm7::ESCAPE)),
                    SmsEncoding::Ucs2 => if part.len() >= 2 {
                        let last = u16::from_be_bytes([part[part.len() - 2], part[part.len() - 1]]);
                        prop_assert!(!(0xD800..0xDC00).contains(&last));
                    },
                }
            }
            // The greedy cut wastes at most one unit per full part.
            if p.parts > 1 {
                prop_assert!(p.parts >= p.units.div_ceil(limit));
                prop_assert!(p.parts <= p.units.div_ceil(limit - 1));
            }
            prop_assert_eq!(enc.encoding == SmsEncoding::Gsm7, gsm7::fits(&s));
        }
    }
}
