//! The vocabulary of the Access Control System (A1.5.3, A1.33–34): types of bodies, the functions an
//! employee or API client may be permitted, and the identified caller of a request.
//!
//! Storage of bodies, keys, employees and grants lives in `popreg-store`; resolving a request to a
//! [`Caller`] lives at the HTTP edge. Both speak these types.

use serde::{Deserialize, Serialize};

use crate::entry::{Channel, ExternalIds};

/// What kind of body an organisation is; decides which submissions it is competent for (A1.32, A1.38–48).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyType {
    /// Hospitals and maternity homes on the health ministry's list (A1.38).
    MedicalOrganization,
    /// Civil status acts registration (ZAGS).
    CivilRegistry,
    GuardianshipBody,
    /// Embassies and consulates.
    DiplomaticMission,
    JudicialDepartment,
    PenitentiaryService,
    /// The authorized body (migration and citizenship service, passport service).
    AuthorizedBody,
    /// The register's operator and manager.
    Operator,
    /// Any other state body (consumers of data).
    Other,
}

impl BodyType {
    pub const ALL: &'static [BodyType] = &[
        BodyType::MedicalOrganization,
        BodyType::CivilRegistry,
        BodyType::GuardianshipBody,
        BodyType::DiplomaticMission,
        BodyType::JudicialDepartment,
        BodyType::PenitentiaryService,
        BodyType::AuthorizedBody,
        BodyType::Operator,
        BodyType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::MedicalOrganization => "medical_organization",
            BodyType::CivilRegistry => "civil_registry",
            BodyType::GuardianshipBody => "guardianship_body",
            BodyType::DiplomaticMission => "diplomatic_mission",
            BodyType::JudicialDepartment => "judicial_department",
            BodyType::PenitentiaryService => "penitentiary_service",
            BodyType::AuthorizedBody => "authorized_body",
            BodyType::Operator => "operator",
            BodyType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<BodyType> {
        BodyType::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

/// A permission that an employee or API client of a body may hold (A1.33–34).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// Submit data of every kind the body is competent for.
    Submit,
    /// Submit births only (within the body's competence).
    SubmitBirths,
    /// Submit deaths only (within the body's competence).
    SubmitDeaths,
    /// Submit addresses only — main and additional addresses, addresses abroad, consular registration —
    /// within the body's competence.
    SubmitAddresses,
    /// Read persons within the body's read grants.
    ReadPersons,
    /// Monitor and reject entries, manage suspensions (the register's manager).
    ManageRegister,
    /// Manage bodies, employees, functions and grants.
    ManageAccess,
    ManageCases,
    StaffAppointments,
    ArchiveAccess,
    /// Search the data-usage log and see its anomalies (the manager's supervisor, the data protection
    /// authority).
    AuditUsage,
    /// Hide a usage record from the person until a date, for a lawful covert reason.
    HideUsage,
    /// Send notifications to persons' portal inboxes, forwarded to their verified e-mail addresses and
    /// phones (A1.5.6, G.3.2–3).
    SendNotifications,
    /// Publish public notices in the portal, visible to everyone, and withdraw them (G.3.5).
    PublishNotices,
}

impl Function {
    pub const ALL: &'static [Function] = &[
        Function::Submit,
        Function::SubmitBirths,
        Function::SubmitDeaths,
        Function::SubmitAddresses,
        Function::ReadPersons,
        Function::ManageRegister,
        Function::ManageAccess,
        Function::ManageCases,
        Function::StaffAppointments,
        Function::ArchiveAccess,
        Function::AuditUsage,
        Function::HideUsage,
        Function::SendNotifications,
        Function::PublishNotices,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Function::Submit => "submit",
            Function::SubmitBirths => "submit_births",
            Function::SubmitDeaths => "submit_deaths",
            Function::SubmitAddresses => "submit_addresses",
            Function::ReadPersons => "read_persons",
            Function::ManageRegister => "manage_register",
            Function::ManageAccess => "manage_access",
            Function::ManageCases => "manage_cases",
            Function::StaffAppointments => "staff_appointments",
            Function::ArchiveAccess => "archive_access",
            Function::AuditUsage => "audit_usage",
            Function::HideUsage => "hide_usage",
            Function::SendNotifications => "send_notifications",
            Function::PublishNotices => "publish_notices",
        }
    }

    pub fn parse(s: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.as_str() == s)
    }

    /// Whether this function lets its holder submit `kind` (the body's competence is checked apart).
    pub fn submits(self, kind: &str) -> bool {
        match self {
            Function::Submit => true,
            Function::SubmitBirths => kind == "birth",
            Function::SubmitDeaths => kind == "death",
            Function::SubmitAddresses => ADDRESS_KINDS.contains(&kind),
            _ => false,
        }
    }

    /// `submit` or one of the per-kind submission functions.
    pub fn is_submit(self) -> bool {
        matches!(
            self,
            Function::Submit
                | Function::SubmitBirths
                | Function::SubmitDeaths
                | Function::SubmitAddresses
        )
    }
}

/// The submission kinds of [`Function::SubmitAddresses`].
pub const ADDRESS_KINDS: &[&str] = &[
    "main_address",
    "additional_address",
    "address_abroad",
    "consular_registration",
];

/// Whether `held` satisfies a requirement of `wanted`. Asking for [`Function::Submit`] asks for the right to
/// submit at all (a staff page, the rejection feed), which any per-kind submission function gives; which kinds
/// may be submitted is [`Caller::may_submit`].
pub fn holds(held: &[Function], wanted: Function) -> bool {
    held.contains(&wanted) || (wanted == Function::Submit && held.iter().any(|f| f.is_submit()))
}

/// The identified caller of one request: the body it acts for, the identified user (A1.37), what it may
/// do, and how the request came in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The body's identifier (stable, e.g. `MED-0001`).
    pub body_id: String,
    pub body_type: BodyType,
    /// The identified user's UID: an employee's PSN, the X-Road user id, or the API key owner.
    pub user_uid: String,
    pub functions: Vec<Function>,
    pub channel: Channel,
    pub external: ExternalIds,
}

impl Caller {
    pub fn may(&self, f: Function) -> bool {
        holds(&self.functions, f)
    }

    /// Whether the caller's functions let it submit `kind` (A1.34; the body's competence, A1.32, is checked
    /// apart).
    pub fn may_submit(&self, kind: &str) -> bool {
        self.functions.iter().any(|f| f.submits(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_34_per_kind_submission_functions_permit_their_kinds_only() {
        let c = |fs: &[Function]| Caller {
            body_id: "MED-1".into(),
            body_type: BodyType::MedicalOrganization,
            user_uid: "u".into(),
            functions: fs.to_vec(),
            channel: Channel::Api,
            external: Default::default(),
        };
        let births = c(&[Function::SubmitBirths]);
        assert!(births.may_submit("birth") && !births.may_submit("death"));
        assert!(births.may(Function::Submit), "a right to submit at all");
        assert!(!births.may(Function::SubmitDeaths));
        let addresses = c(&[Function::SubmitAddresses, Function::ReadPersons]);
        assert!(addresses.may_submit("address_abroad") && !addresses.may_submit("birth"));
        let all = c(&[Function::Submit]);
        assert!(all.may_submit("death") && all.may_submit("marriage"));
        let reader = c(&[Function::ReadPersons]);
        assert!(!reader.may_submit("birth") && !reader.may(Function::Submit));
    }

    #[test]
    fn body_types_and_functions_round_trip_through_their_names() {
        for t in BodyType::ALL {
            assert_eq!(BodyType::parse(t.as_str()), Some(*t));
            let j = serde_json::to_string(t).unwrap();
            assert_eq!(j, format!("\"{}\"", t.as_str()));
        }
        for f in Function::ALL {
            assert_eq!(Function::parse(f.as_str()), Some(*f));
        }
        assert_eq!(BodyType::parse("hospital"), None);
    }
}
