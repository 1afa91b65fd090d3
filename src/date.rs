//! Calendar dates: exception expiry, scan days, the trend of a report.

/// A calendar date, compared as (year, month, day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub u32, pub u32, pub u32);

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let y = parts.next()?.parse().ok()?;
        let m: u32 = parts.next()?.parse().ok()?;
        let d: u32 = parts.next()?.parse().ok()?;
        ((1..=12).contains(&m) && (1..=31).contains(&d) && text.trim().len() == 10)
            .then_some(Date(y, m, d))
    }

    /// Today (UTC), from the system clock.
    ///
    /// `SOURCE_DATE_EPOCH` (seconds), when set, is the time instead of the
    /// clock, as for the scan time results carry: a scan replayed with it
    /// judges expiry as on that day.
    pub fn today() -> Date {
        let seconds = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
        civil_from_days((seconds / 86_400) as i64)
    }
}

impl Date {
    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        civil_from_days(days)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        let (y, m, d) = (i64::from(self.0), i64::from(self.1), i64::from(self.2));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.0, self.1, self.2)
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date(y as u32, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Date::from_days(0), Date(1970, 1, 1));
        assert_eq!(Date::from_days(20_412), Date(2025, 11, 20));
        assert_eq!(Date::from_days(11_016), Date(2000, 2, 29));
        assert_eq!(Date::parse("2027-03-31"), Some(Date(2027, 3, 31)));
        assert_eq!(Date::parse("2027-3-31"), None);
        assert_eq!(Date::parse("2027-13-01"), None);
        assert!(Date(2026, 1, 2) < Date(2026, 2, 1));
    }

    #[test]
    fn days_round_trip() {
        for days in [-1, 0, 59, 11_016, 20_412, 36_524] {
            assert_eq!(Date::from_days(days).days(), days);
        }
    }
}
