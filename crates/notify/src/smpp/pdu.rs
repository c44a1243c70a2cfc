//! The SMPP 3.4 PDUs the client speaks, encoded and decoded by hand (the protocol is small: a 16-octet header
//! and a few C-strings and octets per body).
//!
//! Framing is defensive: a `command_length` below 16 or above [`MAX_PDU`] is refused before anything is
//! allocated for it, and every C-string has the maximum length of SMPP 3.4's field tables.

use std::fmt;

use crate::sms::{DeliveryReport, DeliveryStatus};

/// The largest PDU accepted from the network. SMPP 3.4 bodies are a few hundred octets; a `deliver_sm`
/// with a `message_payload` TLV can be larger, up to 64 KiB of payload.
pub const MAX_PDU: usize = 64 * 1024 + 512;
/// The header: command_length, command_id, command_status, sequence_number.
pub const HEADER: usize = 16;

pub const GENERIC_NACK: u32 = 0x8000_0000;
pub const SUBMIT_SM: u32 = 0x0000_0004;
pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
pub const DELIVER_SM: u32 = 0x0000_0005;
pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
pub const UNBIND: u32 = 0x0000_0006;
pub const UNBIND_RESP: u32 = 0x8000_0006;
pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
pub const ENQUIRE_LINK: u32 = 0x0000_0015;
pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;

/// SMPP 3.4 interface version.
pub const INTERFACE_VERSION: u8 = 0x34;

/// `esm_class`: UDH indicator (the short message starts with a user data header).
pub const ESM_UDHI: u8 = 0x40;
/// `esm_class` message type bits (2–5) of a `deliver_sm`.
const ESM_TYPE_MASK: u8 = 0x3C;
const ESM_TYPE_RECEIPT: u8 = 0x04;
const ESM_TYPE_INTERMEDIATE: u8 = 0x20;
/// `registered_delivery`: an SMSC delivery receipt on success and on failure.
pub const REGISTERED_DELIVERY_RECEIPT: u8 = 0x01;

/// TLV tags read from a `deliver_sm`.
const TLV_RECEIPTED_MESSAGE_ID: u16 = 0x001E;
const TLV_MESSAGE_PAYLOAD: u16 = 0x0424;
const TLV_MESSAGE_STATE: u16 = 0x0427;

/// Command status values (SMPP 3.4 table 5-2) the client sends or names.
pub mod status {
    pub const ESME_ROK: u32 = 0x00;
    pub const ESME_RINVCMDLEN: u32 = 0x02;
    pub const ESME_RINVCMDID: u32 = 0x03;
    pub const ESME_RSYSERR: u32 = 0x08;
    pub const ESME_RX_T_APPN: u32 = 0x64;
    pub const ESME_RX_P_APPN: u32 = 0x65;
}

/// One PDU: the header's fields and the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Pdu {
    pub command_id: u32,
    pub status: u32,
    pub seq: u32,
    pub body: Vec<u8>,
}

/// The body can hold the password of a bind: never shown.
impl fmt::Debug for Pdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pdu")
            .field("command_id", &format_args!("{:#010x}", self.command_id))
            .field("status", &self.status)
            .field("seq", &self.seq)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Pdu {
    pub fn new(command_id: u32, seq: u32, body: Vec<u8>) -> Pdu {
        Pdu {
            command_id,
            status: 0,
            seq,
            body,
        }
    }

    pub fn response(command_id: u32, status: u32, seq: u32, body: Vec<u8>) -> Pdu {
        Pdu {
            command_id,
            status,
            seq,
            body,
        }
    }

    pub fn is_response(&self) -> bool {
        self.command_id & GENERIC_NACK != 0
    }

    pub fn encode(&self) -> Vec<u8> {
        let len = HEADER + self.body.len();
        let mut out = Vec::with_capacity(len);
        // Bodies built here are a few hundred octets: the length fits.
        out.extend((len as u32).to_be_bytes());
        out.extend(self.command_id.to_be_bytes());
        out.extend(self.status.to_be_bytes());
        out.extend(self.seq.to_be_bytes());
        out.extend(&self.body);
        out
    }
}

/// A byte stream that is not SMPP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("command_length {0} is outside 16..={MAX_PDU}")]
    Length(u32),
}

/// Take one whole PDU off the front of `buf`, `None` while it is incomplete. The length is checked before
/// the body is waited for, so a hostile peer cannot make the reader buffer more than [`MAX_PDU`].
pub fn take(buf: &mut Vec<u8>) -> Result<Option<Pdu>, FrameError> {
    let Some(head) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*head);
    let ulen = len as usize;
    if !(HEADER..=MAX_PDU).contains(&ulen) {
        return Err(FrameError::Length(len));
    }
    if buf.len() < ulen {
        return Ok(None);
    }
    let word = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    let pdu = Pdu {
        command_id: word(4),
        status: word(8),
        seq: word(12),
        body: buf[HEADER..ulen].to_vec(),
    };
    buf.drain(..ulen);
    Ok(Some(pdu))
}

/// Writes a body.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    /// A C-string, cut to `max` octets including the NUL (the callers validate lengths beforehand).
    fn cstr(mut self, s: &str, max: usize) -> Body {
        let b = s.as_bytes();
        self.0.extend(&b[..b.len().min(max.saturating_sub(1))]);
        self.0.push(0);
        self
    }

    fn u8(mut self, v: u8) -> Body {
        self.0.push(v);
        self
    }
}

/// An SME address with its type of number and numbering plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub ton: u8,
    pub npi: u8,
    pub addr: String,
}

/// The body of `bind_transceiver`.
pub fn bind_transceiver(system_id: &str, password: &str, system_type: &str) -> Vec<u8> {
    Body::default()
        .cstr(system_id, 16)
        .cstr(password, 9)
        .cstr(system_type, 13)
        .u8(INTERFACE_VERSION)
        .u8(0)
        .u8(0)
        .cstr("", 41)
        .0
}

/// What `submit_sm` carries besides the defaults (no service type, no scheduling, default validity).
pub struct SubmitSm<'a> {
    pub source: &'a Address,
    pub dest: &'a Address,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    /// At most 254 octets (UDH included).
    pub short_message: &'a [u8],
}

impl SubmitSm<'_> {
    pub fn body(&self) -> Vec<u8> {
        let sm = &self.short_message[..self.short_message.len().min(254)];
        let mut b = Body::default()
            .cstr("", 6)
            .u8(self.source.ton)
            .u8(self.source.npi)
            .cstr(&self.source.addr, 21)
            .u8(self.dest.ton)
            .u8(self.dest.npi)
            .cstr(&self.dest.addr, 21)
            .u8(self.esm_class)
            .u8(0) // protocol_id
            .u8(0) // priority_flag
            .cstr("", 17) // schedule_delivery_time: now
            .cstr("", 17) // validity_period: the SMSC default
            .u8(self.registered_delivery)
            .u8(0) // replace_if_present_flag
            .u8(self.data_coding)
            .u8(0) // sm_default_msg_id
            .u8(sm.len() as u8)
            .0;
        b.extend(sm);
        b
    }
}

/// A body that does not follow its command's layout.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what}")]
pub struct BodyError {
    what: &'static str,
}

/// Reads a body.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn cstr(&mut self, max: usize, what: &'static str) -> Result<String, BodyError> {
        let end = self
            .b
            .iter()
            .take(max)
            .position(|&c| c == 0)
            .ok_or(BodyError { what })?;
        let s = String::from_utf8_lossy(&self.b[..end]).into_owned();
        self.b = &self.b[end + 1..];
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, BodyError> {
        let (&v, rest) = self.b.split_first().ok_or(BodyError { what })?;
        self.b = rest;
        Ok(v)
    }

    fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BodyError> {
        if self.b.len() < n {
            return Err(BodyError { what });
        }
        let (v, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(v)
    }

    fn tlvs(&mut self) -> Result<Vec<(u16, Vec<u8>)>, BodyError> {
        let mut out = Vec::new();
        while !self.b.is_empty() {
            let h = self.bytes(4, "TLV header")?;
            let tag = u16::from_be_bytes([h[0], h[1]]);
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            out.push((tag, self.bytes(len, "TLV value")?.to_vec()));
        }
        Ok(out)
    }
}

/// The `message_id` of a `submit_sm_resp` (empty when the SMSC sent no body, as it may on an error).
pub fn submit_sm_resp_id(body: &[u8]) -> Result<String, BodyError> {
    if body.is_empty() {
        return Ok(String::new());
    }
    Reader { b: body }.cstr(65, "submit_sm_resp")
}

/// A `deliver_sm`: a receipt or a mobile-originated message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverSm {
    pub source_addr: String,
    pub destination_addr: String,
    pub esm_class: u8,
    pub data_coding: u8,
    pub short_message: Vec<u8>,
    pub tlvs: Vec<(u16, Vec<u8>)>,
}

impl DeliverSm {
    pub fn parse(body: &[u8]) -> Result<DeliverSm, BodyError> {
        let mut r = Reader { b: body };
        let w = "deliver_sm";
        r.cstr(6, w)?; // service_type
        r.u8(w)?;
        r.u8(w)?;
        let source_addr = r.cstr(21, w)?;
        r.u8(w)?;
        r.u8(w)?;
        let destination_addr = r.cstr(21, w)?;
        let esm_class = r.u8(w)?;
        r.u8(w)?; // protocol_id
        r.u8(w)?; // priority_flag
        r.cstr(17, w)?; // schedule_delivery_time
        r.cstr(17, w)?; // validity_period
        r.u8(w)?; // registered_delivery
        r.u8(w)?; // replace_if_present_flag
        let data_coding = r.u8(w)?;
        r.u8(w)?; // sm_default_msg_id
        let sm_length = usize::from(r.u8(w)?);
        let short_message = r.bytes(sm_length, w)?.to_vec();
        let tlvs = r.tlvs()?;
        Ok(DeliverSm {
            source_addr,
            destination_addr,
            esm_class,
            data_coding,
            short_message,
            tlvs,
        })
    }

    fn tlv(&self, tag: u16) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }

    pub fn is_receipt(&self) -> bool {
        matches!(
            self.esm_class & ESM_TYPE_MASK,
            ESM_TYPE_RECEIPT | ESM_TYPE_INTERMEDIATE
        )
    }

    /// The delivery report of a receipt: the TLVs `receipted_message_id` and `message_state` when the SMSC
    /// sends them, else the text of appendix B, `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…
    /// text:…`. `None` for a mobile-originated message or a receipt that names no message or state.
    pub fn receipt(&self) -> Option<DeliveryReport> {
        if !self.is_receipt() {
            return None;
        }
        let payload = if self.short_message.is_empty() {
            self.tlv(TLV_MESSAGE_PAYLOAD).unwrap_or_default()
        } else {
            &self.short_message
        };
        let text = String::from_utf8_lossy(payload);
        let text = receipt_fields(&text);
        let tlv_id = self
            .tlv(TLV_RECEIPTED_MESSAGE_ID)
            .map(|v| String::from_utf8_lossy(v.split(|&c| c == 0).next().unwrap_or(v)).into_owned())
            .filter(|s| !s.is_empty());
        let tlv_state = self
            .tlv(TLV_MESSAGE_STATE)
            .and_then(|v| v.first().copied())
            .and_then(DeliveryStatus::from_message_state);
        Some(DeliveryReport {
            provider_id: tlv_id.or(text.id)?,
            status: tlv_state.or(text.stat)?,
            error: text.err,
            done_at: text.done,
        })
    }
}

#[derive(Default)]
struct ReceiptText {
    id: Option<String>,
    stat: Option<DeliveryStatus>,
    err: Option<String>,
    done: Option<String>,
}

/// The fields of a receipt's text. `text:` comes last and may contain anything, so the search stops there.
fn receipt_fields(text: &str) -> ReceiptText {
    let lower = text.to_ascii_lowercase();
    let end = lower.find("text:").unwrap_or(lower.len());
    let (lower, text) = (&lower[..end], &text[..end]);
    let field = |key: &str| -> Option<String> {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let at = from + i;
            // A key starts the text or follows a space ("id:" must not match inside "xid:").
            if at == 0 || lower.as_bytes()[at - 1] == b' ' {
                let v = &text[at + key.len()..];
                let v = v.split(' ').next().unwrap_or_default();
                return (!v.is_empty()).then(|| v.to_string());
            }
            from = at + key.len();
        }
        None
    };
    ReceiptText {
        id: field("id:"),
        stat: field("stat:").and_then(|w| DeliveryStatus::from_smpp_stat(&w)),
        err: field("err:"),
        done: field("done date:"),
    }
}

/// A `deliver_sm_resp` body: an unused, empty `message_id`.
pub fn deliver_sm_resp_body() -> Vec<u8> {
    vec![0]
}

/// The SMPP 3.4 name of a command status, for logs and errors.
pub fn status_name(status: u32) -> &'static str {
    match status {
        0x00 => "ESME_ROK",
        0x01 => "ESME_RINVMSGLEN",
        0x02 => "ESME_RINVCMDLEN",
        0x03 => "ESME_RINVCMDID",
        0x04 => "ESME_RINVBNDSTS",
        0x05 => "ESME_RALYBND",
        0x06 => "ESME_RINVPRTFLG",
        0x07 => "ESME_RINVREGDLVFLG",
        0x08 => "ESME_RSYSERR",
        0x0A => "ESME_RINVSRCADR",
        0x0B => "ESME_RINVDSTADR",
        0x0C => "ESME_RINVMSGID",
        0x0D => "ESME_RBINDFAIL",
        0x0E => "ESME_RINVPASWD",
        0x0F => "ESME_RINVSYSID",
        0x11 => "ESME_RCANCELFAIL",
        0x13 => "ESME_RREPLACEFAIL",
        0x14 => "ESME_RMSGQFUL",
        0x15 => "ESME_RINVSERTYP",
        0x33 => "ESME_RINVNUMDESTS",
        0x34 => "ESME_RINVDLNAME",
        0x40 => "ESME_RINVDESTFLAG",
        0x42 => "ESME_RINVSUBREP",
        0x43 => "ESME_RINVESMCLASS",
        0x44 => "ESME_RCNTSUBDL",
        0x45 => "ESME_RSUBMITFAIL",
        0x48 => "ESME_RINVSRCTON",
        0x49 => "ESME_RINVSRCNPI",
        0x50 => "ESME_RINVDSTTON",
        0x51 => "ESME_RINVDSTNPI",
        0x53 => "ESME_RINVSYSTYP",
        0x54 => "ESME_RINVREPFLAG",
        0x55 => "ESME_RINVNUMMSGS",
        0x58 => "ESME_RTHROTTLED",
        0x61 => "ESME_RINVSCHED",
        0x62 => "ESME_RINVEXPIRY",
        0x63 => "ESME_RINVDFTMSGID",
        0x64 => "ESME_RX_T_APPN",
        0x65 => "ESME_RX_P_APPN",
        0x66 => "ESME_RX_R_APPN",
        0x67 => "ESME_RQUERYFAIL",
        0xC0 => "ESME_RINVOPTPARSTREAM",
        0xC1 => "ESME_ROPTPARNOTALLWD",
        0xC2 => "ESME_RINVPARLEN",
        0xC3 => "ESME_RMISSINGOPTPARAM",
        0xC4 => "ESME_RINVOPTPARAMVAL",
        0xFE => "ESME_RDELIVERYFAILURE",
        0xFF => "ESME_RUNKNOWNERR",
        0x400..=0x4FF => "SMSC vendor-specific error",
        _ => "reserved command status",
    }
}

/// How a refused `submit_sm` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The SMSC is busy or failed for now: retry later.
    Temporary,
    /// This destination or this message will never be accepted.
    Permanent,
    /// Our account, our settings or our PDUs: an operator must act.
    Technical,
}

/// The kind of failure a `submit_sm_resp` (or `generic_nack`) status means. Unknown and vendor-specific
/// codes count as temporary: the message is tried again rather than given up on.
pub fn classify(status: u32) -> Failure {
    match status {
        // Queue full, throttled, system error, submit failed, temporary application error, delivery
        // failure, unknown; also a session in the wrong state (the client rebinds).
        0x14 | 0x58 | 0x08 | 0x45 | 0x64 | 0xFE | 0xFF | 0x04 | 0x05 => Failure::Temporary,
        // Invalid destination address, TON, NPI, number of destinations, destination flag; message length;
        // permanent application error; rejected by the application.
        0x0B | 0x50 | 0x51 | 0x33 | 0x40 | 0x01 | 0x65 | 0x66 => Failure::Permanent,
        0x400..=0x4FF => Failure::Temporary,
        // Command length or id, source address/TON/NPI, credentials, ESM class, service type, parameters.
        _ if status <= 0xFF => Failure::Technical,
        _ => Failure::Temporary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_7_framing_refuses_hostile_lengths_before_allocating() {
        let mut buf = vec![0xFF, 0xFF, 0xFF, 0xF0, 0, 0];
        assert_eq!(take(&mut buf), Err(FrameError::Length(0xFFFF_FFF0)));
        let mut buf = 8u32.to_be_bytes().to_vec();
        assert_eq!(take(&mut buf), Err(FrameError::Length(8)));
        let mut buf = ((MAX_PDU + 1) as u32).to_be_bytes().to_vec();
        assert!(take(&mut buf).is_err());
        // Incomplete: nothing yet, the bytes stay.
        let whole = Pdu::new(ENQUIRE_LINK, 7, vec![]).encode();
        let mut buf = whole[..10].to_vec();
        assert_eq!(take(&mut buf), Ok(None));
        buf.extend(&whole[10..]);
        buf.extend(&whole[..3]);
        let pdu = take(&mut buf).unwrap().unwrap();
        assert_eq!(
            (pdu.command_id, pdu.seq, pdu.body.len()),
            (ENQUIRE_LINK, 7, 0)
        );
        assert_eq!(buf, whole[..3]);
    }

    #[test]
    fn g_7_bind_body_and_debug_hide_the_password() {
        let body = bind_transceiver("popreg", "hunter2", "");
        assert_eq!(body, b"popreg\0hunter2\0\0\x34\0\0\0");
        let pdu = Pdu::new(BIND_TRANSCEIVER, 1, body);
        assert!(!format!("{pdu:?}").contains("hunter2"));
        let wire = pdu.encode();
        assert_eq!(wire[..4], (16 + 20u32).to_be_bytes());
        assert_eq!(wire[4..8], [0, 0, 0, 9]);
    }

    #[test]
    fn g_7_submit_sm_layout() {
        let src = Address {
            ton: 5,
            npi: 0,
            addr: "e-Citizen".into(),
        };
        let dst = Address {
            ton: 1,
            npi: 1,
            addr: "37491234567".into(),
        };
        let sm = [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x05, 0x31];
        let body = SubmitSm {
            source: &src,
            dest: &dst,
            esm_class: ESM_UDHI,
            registered_delivery: 1,
            data_coding: 8,
            short_message: &sm,
        }
        .body();
        let mut want =
            b"\0\x05\0e-Citizen\0\x01\x0137491234567\0\x40\0\0\0\0\x01\0\x08\0\x08".to_vec();
        want.extend(sm);
        assert_eq!(body, want);
    }

    fn deliver_body(esm: u8, sm: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut b = b"\0\x01\x0137491234567\0\x05\0e-Citizen\0".to_vec();
        b.extend([esm, 0, 0, 0, 0, 0, 0, 0, 0, sm.len() as u8]);
        b.extend(sm);
        b.extend(tlvs);
        b
    }

    #[test]
    fn g_7_receipts_from_text_and_from_tlvs() {
        let text = b"id:7f3a sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:id:xx stat:REJECTD";
        let d = DeliverSm::parse(&deliver_body(0x04, text, &[])).unwrap();
        assert_eq!(d.source_addr, "37491234567");
        assert_eq!(
            d.receipt(),
            Some(DeliveryReport {
                provider_id: "7f3a".into(),
                status: DeliveryStatus::Delivered,
                error: Some("000".into()),
                done_at: Some("2601011201".into()),
            })
        );
        for (word, status) in [
            ("UNDELIV", DeliveryStatus::Undeliverable),
            ("EXPIRED", DeliveryStatus::Expired),
            ("REJECTD", DeliveryStatus::Rejected),
        ] {
            let t = format!("id:42 sub:001 dlvrd:000 stat:{word} err:011");
            let d = DeliverSm::parse(&deliver_body(0x04, t.as_bytes(), &[])).unwrap();
            assert_eq!(d.receipt().unwrap().status, status);
        }
        // TLVs win over the text; the id TLV is a C-string.
        let tlvs = [
            0x00, 0x1E, 0x00, 0x04, b'a', b'b', b'c', 0, 0x04, 0x27, 0x00, 0x01, 0x05,
        ];
        let d = DeliverSm::parse(&deliver_body(0x04, b"id:zzz stat:DELIVRD", &tlvs)).unwrap();
        let r = d.receipt().unwrap();
        assert_eq!(
            (r.provider_id.as_str(), r.status),
            ("abc", DeliveryStatus::Undeliverable)
        );
        // A mobile-originated message is no receipt; a receipt without a state is ignored.
        let mo = DeliverSm::parse(&deliver_body(0x00, b"id:1 stat:DELIVRD", &[])).unwrap();
        assert_eq!(mo.receipt(), None);
        let vague = DeliverSm::parse(&deliver_body(0x04, b"id:1", &[])).unwrap();
        assert_eq!(vague.receipt(), None);
    }

    #[test]
    fn g_7_malformed_deliver_sm_is_an_error_not_a_panic() {
        let good = deliver_body(0x04, b"id:1 stat:DELIVRD", &[0x04, 0x27, 0x00, 0x01, 0x02]);
        for cut in 0..good.len() {
            // Every truncation either fails or (at a TLV boundary) parses.
            let _ = DeliverSm::parse(&good[..cut]);
        }
        assert!(DeliverSm::parse(&good[..good.len() - 1]).is_err());
        // An unterminated C-string longer than its field.
        assert!(DeliverSm::parse(&[b'x'; 40]).is_err());
        // sm_length beyond the body.
        let mut bad = deliver_body(0x04, b"", &[]);
        *bad.last_mut().unwrap() = 200;
        assert!(DeliverSm::parse(&bad).is_err());
    }

    #[test]
    fn g_7_smsc_errors_are_temporary_permanent_or_technical() {
        assert_eq!(classify(0x58), Failure::Temporary); // ESME_RTHROTTLED
        assert_eq!(classify(0x14), Failure::Temporary); // ESME_RMSGQFUL
        assert_eq!(classify(0x0B), Failure::Permanent); // ESME_RINVDSTADR
        assert_eq!(classify(0x0E), Failure::Technical); // ESME_RINVPASWD
        assert_eq!(classify(0x0A), Failure::Technical); // ESME_RINVSRCADR
        assert_eq!(classify(0x0450), Failure::Temporary);
        assert_eq!(status_name(0x58), "ESME_RTHROTTLED");
        assert_eq!(status_name(0x0B), "ESME_RINVDSTADR");
    }
}
