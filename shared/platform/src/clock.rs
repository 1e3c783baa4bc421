//! The clock: handlers take "now" from here, and rules take the civil date in China derived from
//! it. Tests use [`FixedClock`].

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

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
