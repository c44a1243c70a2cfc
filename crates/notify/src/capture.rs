//! The demo's mail catcher (issue "portal", item 11): in `popreg demo` only, e-mails and SMS are not handed
//! to a relay or an SMSC but kept here, so that a visitor can read them on the demo's page and follow a
//! verification link. Everything else is as in production: the outbox rows are claimed, rendered from their
//! templates into the same message (`Mailer::compose`), and recorded as delivered.
//!
//! Nothing in the configuration file can turn this on: only the demo builds a [`Capture`] and passes it to
//! [`crate::spawn_with_capture`]. Kept in memory, newest first, at most [`Capture::LIMIT`] messages.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// One caught message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caught {
    pub at: DateTime<Utc>,
    /// `email` or `sms`.
    pub channel: &'static str,
    pub to: String,
    /// The e-mail's sender; empty for an SMS.
    pub from: String,
    /// The e-mail's subject; empty for an SMS.
    pub subject: String,
    /// The text as the recipient reads it.
    pub body: String,
    /// The whole message as it would go over SMTP (headers and encoded body); empty for an SMS.
    pub raw: String,
}

/// The catcher: a bounded list of caught messages, shared by the worker and the demo's page.
#[derive(Debug, Default)]
pub struct Capture {
    items: Mutex<VecDeque<Caught>>,
}

impl Capture {
    /// How many messages are kept; older ones are dropped.
    pub const LIMIT: usize = 200;

    pub fn push(&self, m: Caught) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.push_front(m);
        items.truncate(Self::LIMIT);
    }

    /// The caught messages, newest first.
    pub fn list(&self) -> Vec<Caught> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_come_first_and_the_list_stays_bounded() {
        let c = Capture::default();
        for i in 0..Capture::LIMIT + 5 {
            c.push(Caught {
                at: Utc::now(),
                channel: "sms",
                to: format!("+3749{i:07}"),
                from: String::new(),
                subject: String::new(),
                body: format!("code {i}"),
                raw: String::new(),
            });
        }
        let l = c.list();
        assert_eq!(l.len(), Capture::LIMIT);
        assert_eq!(l[0].body, format!("code {}", Capture::LIMIT + 4));
        assert_eq!(l.last().map(|m| m.body.as_str()), Some("code 5"));
    }
}
