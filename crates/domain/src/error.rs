//! Stable error codes (`PSR-AREA-NNNN`) and the domain error type.
//!
//! Every code has a message in Armenian, English and Russian in `data/classifiers/error-codes.json`; a test
//! checks that each variant here has its entry there, so a code can never ship without its explanation.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident = $code:literal, $status:literal;)*) => {
        /// A stable, greppable error code. The string form never changes once released.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code string, e.g. `PSR-PSN-0003`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// The HTTP status this code maps to at the edge.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $status),* }
            }

            pub fn from_code(s: &str) -> Option<Code> {
                match s { $($code => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    PsnLength = "PSR-PSN-0001", 400;
    PsnDigits = "PSR-PSN-0002", 400;
    PsnChecksum = "PSR-PSN-0003", 400;
    PsnUnknown = "PSR-PSN-0004", 404;
    PsnExhausted = "PSR-PSN-0005", 500;
    TinFormat = "PSR-TIN-0001", 400;
    TinUnknown = "PSR-TIN-0002", 422;
    TinRegistryUnavailable = "PSR-TIN-0003", 503;
    RegistryUnavailable = "PSR-REG-0001", 503;
    CompanyUnknown = "PSR-REG-0002", 422;
    CompanyNotYours = "PSR-REG-0003", 404;
    InvalidDate = "PSR-VAL-0001", 400;
    DateInFuture = "PSR-VAL-0002", 422;
    PeriodOrder = "PSR-VAL-0003", 422;
    SexInvalid = "PSR-VAL-0004", 400;
    UnknownClassifierCode = "PSR-VAL-0005", 422;
    MissingField = "PSR-VAL-0006", 400;
    Malformed = "PSR-VAL-0007", 400;
    NameInvalid = "PSR-VAL-0008", 400;
    UnknownField = "PSR-VAL-0009", 400;
    UnsupportedSchemaVersion = "PSR-VAL-0010", 400;
    ValueOutOfRange = "PSR-VAL-0011", 400;
    TooComplex = "PSR-VAL-0012", 400;
    XmlForbidden = "PSR-VAL-0013", 400;
    BadEncoding = "PSR-VAL-0014", 400;
    DuplicateField = "PSR-VAL-0015", 400;
    DeathBeforeBirth = "PSR-CON-0001", 422;
    BirthDateConflict = "PSR-CON-0002", 422;
    AlreadyDead = "PSR-CON-0003", 422;
    AlreadyMarried = "PSR-CON-0004", 422;
    NotMarried = "PSR-CON-0005", 422;
    PersonExists = "PSR-CON-0006", 409;
    SubjectDead = "PSR-CON-0007", 422;
    EntryUnknown = "PSR-CON-0008", 404;
    ParentDeadBeforeBirth = "PSR-CON-0009", 422;
    GuardianshipOfAdult = "PSR-CON-0010", 422;
    UnderMarriageAge = "PSR-CON-0011", 422;
    SelfReference = "PSR-CON-0012", 422;
    NoSuchGuardianship = "PSR-CON-0013", 422;
    NoSuchConviction = "PSR-CON-0014", 422;
    AddressNotAbroad = "PSR-CON-0015", 422;
    PlaceNotAbroad = "PSR-CON-0016", 422;
    LikelyDuplicate = "PSR-DUP-0001", 202;
    NotCompetent = "PSR-SUB-0001", 403;
    BodySuspended = "PSR-SUB-0002", 403;
    UnknownKind = "PSR-SUB-0003", 404;
    IdempotencyConflict = "PSR-SUB-0004", 409;
    WebhookRefused = "PSR-SUB-0005", 422;
    NotAcceptable = "PSR-API-0001", 406;
    Unauthorized = "PSR-API-0002", 401;
    UnsupportedMediaType = "PSR-API-0003", 415;
    PayloadTooLarge = "PSR-API-0004", 413;
    BadQuery = "PSR-API-0005", 400;
    RouteNotFound = "PSR-API-0006", 404;
    Forbidden = "PSR-API-0007", 403;
    TooManyFailures = "PSR-API-0008", 429;
    AuthNoCertificate = "PSR-AUTH-0001", 401;
    AuthCertificateExpired = "PSR-AUTH-0002", 401;
    AuthCertificateNotYetValid = "PSR-AUTH-0003", 401;
    AuthCertificateRevoked = "PSR-AUTH-0004", 401;
    AuthUnknownIssuer = "PSR-AUTH-0005", 401;
    AuthNoPsn = "PSR-AUTH-0006", 401;
    AuthCertificateInvalid = "PSR-AUTH-0007", 401;
    AuthXRoadClientMismatch = "PSR-AUTH-0008", 403;
    AuthUntrustedProxy = "PSR-AUTH-0009", 403;
    AuthClientCertNotRegistered = "PSR-AUTH-0010", 401;
    AccessUnknown = "PSR-ACC-0001", 404;
    AccessConflict = "PSR-ACC-0002", 409;
    NoReadGrant = "PSR-ACC-0003", 403;
    UsageLogUnavailable = "PSR-AUD-0001", 503;
    AuditNotFound = "PSR-AUD-0002", 404;
    NotificationUnknown = "PSR-NTF-0001", 404;
    RecipientByTinUnsupported = "PSR-NTF-0002", 422;
    AttachmentTooLarge = "PSR-NTF-0003", 413;
    AttachmentInvalid = "PSR-NTF-0004", 400;
    SmsReceiptUnauthorized = "PSR-NTF-0005", 401;
    SmsReceiptInvalid = "PSR-NTF-0006", 400;
    SmsReceiptUnknown = "PSR-NTF-0007", 503;
    TemplatePlaceholderUnknown = "PSR-NTF-0008", 422;
    TemplatePlaceholderMissing = "PSR-NTF-0009", 422;
    TemplateSyntax = "PSR-NTF-0010", 422;
    NoticeUnknown = "PSR-PUB-0001", 404;
    NoticeWithdrawn = "PSR-PUB-0002", 409;
    NoticeArmenianRequired = "PSR-PUB-0003", 422;
    SlotTaken = "PSR-BKG-0001", 409;
    SlotUnknown = "PSR-BKG-0002", 404;
    SlotInPast = "PSR-BKG-0003", 422;
    BookingUnknown = "PSR-BKG-0004", 404;
    BookingClosed = "PSR-BKG-0005", 409;
    PersonBusy = "PSR-BKG-0006", 409;
    ServiceUnknown = "PSR-BKG-0007", 404;
    SlotPlanInvalid = "PSR-BKG-0008", 422;
    VisitNotDue = "PSR-BKG-0009", 409;
    ContactLimit = "PSR-CNT-0001", 422;
    EmailMalformed = "PSR-CNT-0002", 400;
    PhoneMalformed = "PSR-CNT-0003", 400;
    ContactExists = "PSR-CNT-0004", 409;
    ContactUnknown = "PSR-CNT-0005", 404;
    TokenInvalid = "PSR-CNT-0006", 400;
    TokenExpired = "PSR-CNT-0007", 410;
    TooManyAttempts = "PSR-CNT-0008", 429;
    ResendTooSoon = "PSR-CNT-0009", 429;
    AlreadyVerified = "PSR-CNT-0010", 409;
    MobileIdCodeInvalid = "PSR-MID-0001", 401;
    MobileIdCodeExpired = "PSR-MID-0002", 410;
    MobileIdCodeUsed = "PSR-MID-0003", 409;
    MobileIdKeyInvalid = "PSR-MID-0004", 400;
    MobileIdDeviceUnknown = "PSR-MID-0005", 404;
    MobileIdDeviceRevoked = "PSR-MID-0006", 403;
    MobileIdNoPendingLogin = "PSR-MID-0007", 404;
    MobileIdChallengeInvalid = "PSR-MID-0008", 410;
    MobileIdSignatureInvalid = "PSR-MID-0009", 401;
    MobileIdTooManyTries = "PSR-MID-0010", 429;
    Internal = "PSR-SYS-0001", 500;
    StorageUnavailable = "PSR-SYS-0002", 503;
    StorageCorrupt = "PSR-SYS-0003", 500;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        let s = String::deserialize(d)?;
        Code::from_code(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s}")))
    }
}

/// A domain error: a code plus a detail for the log and the developer (never personal data beyond what the
/// caller sent).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct DomainError {
    pub code: Code,
    pub detail: String,
}

impl DomainError {
    pub fn new(code: Code, detail: impl Into<String>) -> DomainError {
        DomainError {
            code,
            detail: detail.into(),
        }
    }
}
