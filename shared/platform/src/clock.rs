//! The clock: handlers take "now" from here, and rules take the civil date in China derived from
//! it. Tests use [`FixedClock`]; a process started with `SWI_TODAY` runs on a [`DateClock`]
//! ([`from_env`]), so that tests of the binaries and the Lambdas never depend on today's date.
//! Token lifetimes are not business dates: they are checked against the machine's clock.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};

/// China's offset, UTC+8.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

/// The source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in China time.
    fn now(&self) -> DateTime<FixedOffset>;

    /// Today's civil date in China.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().with_timezone(&CHINA)
    }
}

/// A clock that always says the same time (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<FixedOffset>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.0
    }
}

/// A clock that says what it was last set to: journeys that span months of business time in
/// one test (enrol in June, injured in August, claim in September).
#[derive(Debug)]
pub struct SetClock(std::sync::Mutex<DateTime<FixedOffset>>);

impl SetClock {
    /// A clock at `now`.
    #[must_use]
    pub fn new(now: DateTime<FixedOffset>) -> Self {
        SetClock(std::sync::Mutex::new(now))
    }

    /// Moves it to `now`.
    pub fn set(&self, now: DateTime<FixedOffset>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }
}

impl Clock for SetClock {
    fn now(&self) -> DateTime<FixedOffset> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The machine's clock moved to another business date: the time of day runs as usual, the date
/// is the one given (and the next one after midnight). A server, a job or a test run "as of" a
/// day this way, without freezing time.
#[derive(Debug, Clone, Copy)]
pub struct DateClock {
    shift: TimeDelta,
}

impl DateClock {
    /// A clock on which today (China) is `today`.
    #[must_use]
    pub fn new(today: NaiveDate) -> Self {
        DateClock {
            shift: today - SystemClock.today(),
        }
    }
}

impl Clock for DateClock {
    fn now(&self) -> DateTime<FixedOffset> {
        SystemClock.now() + self.shift
    }
}

/// The variable that sets the business date of a process (`YYYY-MM-DD`, China).
pub const TODAY_VAR: &str = "SWI_TODAY";

/// The clock of a process: a [`DateClock`] on `today` when given, else on `SWI_TODAY` when set,
/// else the machine's clock.
///
/// # Errors
/// `SWI_TODAY` set to something that is not a date `YYYY-MM-DD`.
pub fn from_env(today: Option<NaiveDate>) -> Result<Arc<dyn Clock>, String> {
    let today = match today {
        Some(d) => Some(d),
        None => match std::env::var(TODAY_VAR) {
            Ok(s) if !s.trim().is_empty() => Some(
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("{TODAY_VAR}=`{s}` is not a date YYYY-MM-DD"))?,
            ),
            _ => None,
        },
    };
    Ok(match today {
        Some(d) => Arc::new(DateClock::new(d)),
        None => Arc::new(SystemClock),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_clock_keeps_the_time_of_day_on_its_date() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
        let clock = DateClock::new(day);
        let (now, real) = (clock.now(), SystemClock.now()); // tidy: wall clock (the clock's own test)
        // The date is the one given (unless midnight passed between the two reads).
        let moved = real.date_naive() != SystemClock.today(); // tidy: wall clock
        assert!(clock.today() == day || moved);
        let gap = (now - (real + clock.shift)).num_seconds().abs();
        assert!(gap < 5, "{gap}");
    }
}
