//! Date arithmetic that never panics: out-of-range results saturate instead.

use chrono::{Datelike, Months, NaiveDate, TimeDelta};

pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub(crate) fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n))
        .unwrap_or(if n < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// `d` moved by whole years; 29 February becomes 28 February in common years.
pub(crate) fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    add_months(d, years.saturating_mul(12))
}

pub(crate) fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let m = Months::new(months.unsigned_abs());
    let r = if months >= 0 {
        d.checked_add_months(m)
    } else {
        d.checked_sub_months(m)
    };
    r.unwrap_or(if months < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// Completed years from `birth` to `on` (negative before birth).
pub(crate) fn age(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut y = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_days_and_ages() {
        assert_eq!(add_years(ymd(2000, 2, 29), 1), ymd(2001, 2, 28));
        assert_eq!(add_years(ymd(2000, 2, 29), -4), ymd(1996, 2, 29));
        assert_eq!(age(ymd(2000, 2, 29), ymd(2018, 2, 28)), 17);
        assert_eq!(age(ymd(2000, 2, 29), ymd(2018, 3, 1)), 18);
        assert_eq!(age(ymd(2000, 6, 1), ymd(1999, 1, 1)), -2);
    }
}
