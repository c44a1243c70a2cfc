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
    /// Submit data of the kinds the body is competent for.
    Submit,
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
        self.functions.contains(&f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
