//! Ages, the legal retirement age and who may enrol by age (Art. 6-8).
//!
//! Ages are full years on a date: a birthday completes a year. One convention for dates that a
//! month lacks, everywhere in this module (民法典 Art. 202: 没有对应日的，月末日为期间的最后一日):
//! a period counted in years or months that ends on a day its last month does not have ends on
//! that month's last day. So a 29 February birthday completes a year on 28 February in common
//! years, and a person born on 31 January 1965 reaches 60 years and 1 month on 28 February 2025,
//! inside the retirement month of the table. The legal retirement age follows the gradual rise
//! decided on 2024-09-13 (FIGURES §D), read from the `retirement.*` parameters.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;

use crate::RuleError;
use crate::category::Category;
use crate::citation::{Citation, Doc, art, doc};
use crate::ids::Sex;
use crate::params::{Determination, ParamSet, Trace};

/// 民法典 Art. 202, the month-end convention of every age computed here.
const CIVIL_CODE_202: Citation = Citation {
    doc: Doc::CivilCode,
    article: Some(202),
};

/// The day on which a person born on `birth` completes `months` months of age: the same day of
/// the month, or that month's last day when it is shorter (民法典 Art. 202).
#[must_use]
pub fn completes_months(birth: NaiveDate, months: u32) -> Option<NaiveDate> {
    birth.checked_add_months(Months::new(months))
}

/// The first day on which a person born on `birth` is `years` old.
#[must_use]
pub fn anniversary(birth: NaiveDate, years: u32) -> Option<NaiveDate> {
    completes_months(birth, years.checked_mul(12)?)
}

/// Age in full years (周岁) of a person born on `birth`, on `on`; −1 before birth.
#[must_use]
pub fn full_years(birth: NaiveDate, on: NaiveDate) -> i32 {
    if on < birth {
        return -1;
    }
    let years = on.year() - birth.year();
    let reached = u32::try_from(years)
        .ok()
        .and_then(|y| anniversary(birth, y))
        .is_some_and(|d| d <= on);
    if reached { years } else { years - 1 }
}

/// A retirement-age track (FIGURES §D): men; women whose original age was 50 or 55.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// 男职工: 60 rising to 63.
    Male,
    /// 原法定退休年龄五十周岁的女职工: 50 rising to 55.
    Female50,
    /// 原法定退休年龄五十五周岁的女职工: 55 rising to 58.
    Female55,
}

impl Track {
    /// The identifier (`male`, `female_50`, `female_55`), also the parameter's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Track::Male => "male",
            Track::Female50 => "female_50",
            Track::Female55 => "female_55",
        }
    }

    /// Parses an identifier.
    ///
    /// # Errors
    /// An identifier that is not a track.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "male" => Ok(Track::Male),
            "female_50" => Ok(Track::Female50),
            "female_55" => Ok(Track::Female55),
            _ => Err(format!("unknown track `{s}` (male, female_50, female_55)")),
        }
    }

    /// The sex the track is for.
    #[must_use]
    pub const fn sex(self) -> Sex {
        match self {
            Track::Male => Sex::Male,
            Track::Female50 | Track::Female55 => Sex::Female,
        }
    }
}

/// A track travels as its identifier (`"female_55"`).
impl serde::Serialize for Track {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Track {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Track::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// When a person reaches the legal retirement age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retirement {
    /// The retirement age: years …
    pub age_years: u32,
    /// … and months.
    pub age_months: u32,
    /// The day on which that age is reached: the birth date plus the age, or the last day of
    /// that month when it has no such day (民法典 Art. 202); always inside the retirement month.
    pub reached_on: NaiveDate,
}

impl Retirement {
    /// The month (year, month) in which the age is reached (the table's 退休时间).
    #[must_use]
    pub fn month(&self) -> (i32, u32) {
        (self.reached_on.year(), self.reached_on.month())
    }
}

/// The legal retirement age of a person born on `birth` on `track` (Art. 6, 8; 全国人大常委会
/// 关于实施渐进式延迟法定退休年龄的决定): cohorts from the track's first birth month retire one
/// month later for every `months_per_step` months of birth, up to the target age.
///
/// # Errors
/// A broken `retirement.*` parameter, or a date beyond the calendar's range.
pub fn retirement(
    params: &ParamSet,
    birth: NaiveDate,
    track: Track,
) -> Result<Determination<'_, Retirement>, RuleError> {
    let mut t = Trace::new(
        params,
        &[art(6), art(8), doc(Doc::RetirementDecision), CIVIL_CODE_202],
    );
    let rule = t.retirement(track.as_str())?;
    let (fy, fm) = rule
        .first_cohort_month()
        .map_err(|e| RuleError::UnknownParameter(format!("retirement.{}: {e}", track.as_str())))?;
    let since =
        (i64::from(birth.year()) - i64::from(fy)) * 12 + i64::from(birth.month()) - i64::from(fm);
    let max_delay = i64::from(rule.target_age - rule.original_age) * 12;
    let delay = if since < 0 {
        0
    } else {
        (since / i64::from(rule.months_per_step) + 1).min(max_delay)
    };
    let total = i64::from(rule.original_age) * 12 + delay;
    let total = u32::try_from(total).map_err(|_| RuleError::InvalidFacts("age overflow".into()))?;
    let reached_on = completes_months(birth, total)
        .ok_or_else(|| RuleError::InvalidFacts("retirement date out of range".into()))?;
    Ok(t.finish(Retirement {
        age_years: total / 12,
        age_months: total % 12,
        reached_on,
    }))
}

/// When the legal retirement age is reached, as far as the facts tell: on one day when the
/// track is known; for a woman whose track is not given, somewhere between the earliest and the
/// latest day of the women's tracks (every one of them has been reached by the latest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetirementSpan {
    /// The earliest day it may have been reached.
    pub earliest: NaiveDate,
    /// The day by which it has certainly been reached.
    pub latest: NaiveDate,
}

/// The retirement span of a person (see [`RetirementSpan`]), folding the tracks' figures into
/// `t`. A track that contradicts the sex has been refused before.
fn retirement_span(
    t: &mut Trace<'_>,
    birth: NaiveDate,
    track: Option<Track>,
    sex: Sex,
) -> Result<RetirementSpan, RuleError> {
    let given;
    let tracks: &[Track] = match (track, sex) {
        (Some(track), _) => {
            given = [track];
            &given
        }
        (None, Sex::Male) => &[Track::Male],
        (None, Sex::Female) => &[Track::Female50, Track::Female55],
    };
    let mut span: Option<RetirementSpan> = None;
    for &track in tracks {
        let r = retirement(t.params(), birth, track)?;
        absorb(t, &r);
        let d = r.value.reached_on;
        span = Some(span.map_or(
            RetirementSpan {
                earliest: d,
                latest: d,
            },
            |s| RetirementSpan {
                earliest: s.earliest.min(d),
                latest: s.latest.max(d),
            },
        ));
    }
    span.ok_or_else(|| RuleError::UnknownParameter("retirement".into()))
}

fn track_required(category: Category) -> RuleError {
    RuleError::InvalidFacts(format!(
        "track (female_50 or female_55) is required to decide a woman's {category} enrolment on this date: \
         she is past the legal retirement age on one women's track and not on the other"
    ))
}

/// Why a person may not be enrolled in a category on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// Over-age cover needs the legal retirement age reached (Art. 6(b)1, 8).
    BelowRetirementAge {
        /// When it will be reached.
        reached_on: NaiveDate,
    },
    /// Over-age persons are covered at most up to 70 (Art. 6(b)1).
    AboveMaximumAge {
        /// The highest age admitted.
        max: u32,
    },
    /// Interns must be at least 16 (Art. 6(b)2).
    BelowMinimumAge {
        /// The lowest age admitted.
        min: u32,
    },
    /// An intern's cover ends with the internship agreement (Art. 7).
    AgreementEnded {
        /// The agreement's last day.
        end: NaiveDate,
    },
    /// Flexible workers must pay basic pension insurance (Art. 6(b)7).
    NoBasicPension,
    /// An ordinary employee past the legal retirement age is switched to over-age cover (Art. 8).
    ReachedRetirementAge {
        /// When it was reached; for a woman whose track was not given, the day by which it was
        /// reached on every women's track.
        reached_on: NaiveDate,
    },
}

impl Ineligible {
    /// A stable code for answers.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Ineligible::BelowRetirementAge { .. } => "below_retirement_age",
            Ineligible::AboveMaximumAge { .. } => "above_maximum_age",
            Ineligible::BelowMinimumAge { .. } => "below_minimum_age",
            Ineligible::AgreementEnded { .. } => "agreement_ended",
            Ineligible::NoBasicPension => "no_basic_pension",
            Ineligible::ReachedRetirementAge { .. } => "reached_retirement_age",
        }
    }

    /// A sentence for people.
    #[must_use]
    pub fn message(self) -> String {
        match self {
            Ineligible::BelowRetirementAge { reached_on } => format!(
                "over-age cover needs the legal retirement age, reached on {reached_on} (Art. 6, 8)"
            ),
            Ineligible::AboveMaximumAge { max } => {
                format!("over-age persons are covered up to the age of {max} (Art. 6)")
            }
            Ineligible::BelowMinimumAge { min } => {
                format!("interns must be at least {min} years old (Art. 6)")
            }
            Ineligible::AgreementEnded { end } => {
                format!("the internship agreement ended on {end} (Art. 7)")
            }
            Ineligible::NoBasicPension => {
                "flexible workers must pay basic pension insurance (Art. 6)".to_owned()
            }
            Ineligible::ReachedRetirementAge { reached_on } => format!(
                "the legal retirement age was reached by {reached_on}: enrol as over_age instead (Art. 8)"
            ),
        }
    }
}

/// The facts eligibility is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// Category asked for.
    pub category: Category,
    /// Date of birth (from the resident ID).
    pub birth: NaiveDate,
    /// Sex (from the resident ID).
    pub sex: Sex,
    /// Retirement track; men default to `male`; women need it where retirement matters.
    pub track: Option<Track>,
    /// Interns: the internship agreement's last day.
    pub agreement_end: Option<NaiveDate>,
    /// Flexible workers: whether they pay basic pension insurance (unknown when `None`).
    pub pays_basic_pension: Option<bool>,
}

/// Eligibility on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eligibility {
    /// Why not, when not eligible.
    pub ineligible: Option<Ineligible>,
    /// The last day of cover when the rules bound it (interns' agreement end; over-age: the day
    /// before the 71st birthday).
    pub cover_end: Option<NaiveDate>,
}

impl Eligibility {
    /// Whether the person may be enrolled.
    #[must_use]
    pub const fn eligible(&self) -> bool {
        self.ineligible.is_none()
    }
}

fn track_for(p: &Person) -> Result<Option<Track>, RuleError> {
    match p.track {
        Some(t) if t.sex() != p.sex => Err(RuleError::InvalidFacts(format!(
            "track {} does not match the sex in the resident ID ({})",
            t.as_str(),
            p.sex.as_str()
        ))),
        track => Ok(track),
    }
}

/// Whether a person may be enrolled in a category on `on` (Art. 6-8): over-age persons past the
/// legal retirement age and at most 70; interns at least 16 and within their agreement; flexible
/// workers paying basic pension; employees not yet past the legal retirement age.
///
/// A refusal that the facts given already decide is answered before anything more is asked: an
/// over-age person past 70 or an under-16 intern needs no track or agreement end, and a woman
/// below (or past) the retirement age of every women's track needs no track. The last day of
/// cover is answered only for an eligible person.
///
/// # Errors
/// `InvalidFacts` when `on` is before birth, an intern old enough has no agreement end, a
/// woman's track is needed to decide and missing, or the track contradicts the sex; parameter
/// errors.
pub fn eligibility<'p>(
    params: &'p ParamSet,
    person: &Person,
    on: NaiveDate,
) -> Result<Determination<'p, Eligibility>, RuleError> {
    let mut t = Trace::new(params, &[art(6), art(7)]);
    let age = full_years(person.birth, on);
    if age < 0 {
        return Err(RuleError::InvalidFacts(format!(
            "{on} is before the date of birth"
        )));
    }
    let age = age.unsigned_abs();
    let track = track_for(person)?;
    let mut ineligible = None;
    let mut cover_end = None;
    match person.category {
        Category::OverAge => {
            t.cite(art(8));
            t.cite(CIVIL_CODE_202);
            let max = t
                .scalar("age.over_age_max", on)?
                .to_u32()
                .unwrap_or(u32::MAX);
            cover_end = anniversary(person.birth, max + 1).and_then(|d| d.pred_opt());
            if age > max {
                ineligible = Some(Ineligible::AboveMaximumAge { max });
            } else {
                let span = retirement_span(&mut t, person.birth, track, person.sex)?;
                if on < span.earliest {
                    ineligible = Some(Ineligible::BelowRetirementAge {
                        reached_on: span.earliest,
                    });
                } else if on < span.latest {
                    return Err(track_required(person.category));
                }
            }
        }
        Category::Intern => {
            let min = t.scalar("age.intern_min", on)?.to_u32().unwrap_or(0);
            if age < min {
                ineligible = Some(Ineligible::BelowMinimumAge { min });
            } else {
                let end = person.agreement_end.ok_or_else(|| {
                    RuleError::InvalidFacts("agreement_end is required for an intern".into())
                })?;
                cover_end = Some(end);
                if on > end {
                    ineligible = Some(Ineligible::AgreementEnded { end });
                }
            }
        }
        Category::Flexible if person.pays_basic_pension == Some(false) => {
            ineligible = Some(Ineligible::NoBasicPension);
        }
        Category::Employee => {
            let mut probe = Trace::new(params, &[]);
            let span = retirement_span(&mut probe, person.birth, track, person.sex)?;
            if on >= span.latest {
                t.cite(art(8));
                absorb(&mut t, &probe.finish(()));
                ineligible = Some(Ineligible::ReachedRetirementAge {
                    reached_on: span.latest,
                });
            } else if on >= span.earliest {
                return Err(track_required(person.category));
            }
        }
        _ => {}
    }
    if ineligible.is_some() {
        cover_end = None;
    }
    Ok(t.finish(Eligibility {
        ineligible,
        cover_end,
    }))
}

/// Folds a sub-determination's basis and figures into a trace.
pub(crate) fn absorb<'p, T>(t: &mut Trace<'p>, d: &Determination<'p, T>) {
    for c in &d.basis {
        t.cite(*c);
    }
    t.adopt(&d.used);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn params() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn a_birthday_completes_a_year() {
        assert_eq!(full_years(d("1955-06-15"), d("2025-06-14")), 69);
        assert_eq!(full_years(d("1955-06-15"), d("2025-06-15")), 70);
        assert_eq!(full_years(d("2008-02-29"), d("2024-02-28")), 15);
        assert_eq!(full_years(d("2008-02-29"), d("2024-02-29")), 16);
        // No 29 February in 2025: the year is completed on the month's last day (民法典 Art. 202).
        assert_eq!(full_years(d("2008-02-29"), d("2025-02-27")), 16);
        assert_eq!(full_years(d("2008-02-29"), d("2025-02-28")), 17);
        assert_eq!(full_years(d("2009-02-28"), d("2025-02-28")), 16);
        assert_eq!(anniversary(d("2008-02-29"), 17), Some(d("2025-02-28")));
        assert_eq!(full_years(d("2000-06-15"), d("2000-06-14")), -1);
        assert_eq!(full_years(d("2000-06-15"), d("1990-01-01")), -1);
        assert_eq!(full_years(d("2000-06-15"), d("2000-06-15")), 0);
        assert_eq!(full_years(d("2000-06-15"), d("2001-06-14")), 0);
    }

    #[test]
    fn the_retirement_track_is_named_among_the_figures_used() {
        let r = retirement(params(), d("1970-05-05"), Track::Female55).unwrap();
        assert_eq!(r.used.len(), 1);
        assert_eq!(r.used[0].parameter, "retirement.female_55");
    }

    #[test]
    fn a_retirement_day_the_month_lacks_is_its_last_day_inside_the_retirement_month() {
        let r = retirement(params(), d("1965-01-31"), Track::Male)
            .unwrap()
            .value;
        assert_eq!((r.age_years, r.age_months), (60, 1));
        assert_eq!(r.reached_on, d("2025-02-28"));
        assert_eq!(r.month(), (2025, 2));
    }

    #[test]
    fn men_born_before_1965_retire_at_60() {
        let r = retirement(params(), d("1964-12-10"), Track::Male)
            .unwrap()
            .value;
        assert_eq!((r.age_years, r.age_months, r.month()), (60, 0, (2024, 12)));
    }

    #[test]
    fn the_reform_adds_a_month_per_four_months_of_birth_for_men() {
        let r = |b| retirement(params(), d(b), Track::Male).unwrap().value;
        assert_eq!(
            (r("1965-01-15").age_years, r("1965-01-15").age_months),
            (60, 1)
        );
        assert_eq!(r("1965-01-15").month(), (2025, 2));
        assert_eq!(r("1965-04-30").age_months, 1);
        assert_eq!(r("1965-05-01").age_months, 2);
        assert_eq!(
            (r("1976-08-01").age_years, r("1976-08-01").age_months),
            (62, 11)
        );
        assert_eq!(
            (r("1976-09-01").age_years, r("1976-09-01").age_months),
            (63, 0)
        );
        assert_eq!(
            (r("1990-01-01").age_years, r("1990-01-01").age_months),
            (63, 0)
        );
    }

    #[test]
    fn women_on_the_50_track_rise_a_month_per_two_months_to_55() {
        let r = |b| retirement(params(), d(b), Track::Female50).unwrap().value;
        assert_eq!(
            (r("1974-12-01").age_years, r("1974-12-01").age_months),
            (50, 0)
        );
        assert_eq!(
            (r("1975-01-01").age_years, r("1975-01-01").age_months),
            (50, 1)
        );
        assert_eq!(
            (r("1975-03-01").age_years, r("1975-03-01").age_months),
            (50, 2)
        );
        assert_eq!(
            (r("1984-10-01").age_years, r("1984-10-01").age_months),
            (54, 11)
        );
        assert_eq!(
            (r("1984-11-01").age_years, r("1984-11-01").age_months),
            (55, 0)
        );
    }

    #[test]
    fn women_on_the_55_track_rise_to_58() {
        let r = |b| retirement(params(), d(b), Track::Female55).unwrap().value;
        assert_eq!(
            (r("1969-12-01").age_years, r("1969-12-01").age_months),
            (55, 0)
        );
        assert_eq!(
            (r("1970-01-01").age_years, r("1970-01-01").age_months),
            (55, 1)
        );
        assert_eq!(
            (r("1981-09-01").age_years, r("1981-09-01").age_months),
            (58, 0)
        );
    }

    fn person(category: Category, birth: &str, sex: Sex) -> Person {
        Person {
            category,
            birth: d(birth),
            sex,
            track: None,
            agreement_end: None,
            pays_basic_pension: None,
        }
    }

    #[test]
    fn over_age_admits_until_the_day_before_the_71st_birthday() {
        let p = person(Category::OverAge, "1955-06-15", Sex::Male);
        let e = |on| eligibility(params(), &p, d(on)).unwrap().value;
        assert!(e("2026-06-14").eligible());
        assert_eq!(e("2026-06-14").cover_end, Some(d("2026-06-14")));
        assert_eq!(
            e("2026-06-15").ineligible,
            Some(Ineligible::AboveMaximumAge { max: 70 })
        );
    }

    #[test]
    fn over_age_needs_the_retirement_age_reached() {
        let p = person(Category::OverAge, "1965-03-10", Sex::Male);
        let e = |on| eligibility(params(), &p, d(on)).unwrap().value;
        assert_eq!(
            e("2025-04-09").ineligible,
            Some(Ineligible::BelowRetirementAge {
                reached_on: d("2025-04-10")
            })
        );
        assert!(e("2025-04-10").eligible());
        // Born 1970-03: past the 50 track (2020-03-10), not yet the 55 track (55y1m, 2025-04-10).
        let woman = person(Category::OverAge, "1970-03-10", Sex::Female);
        assert!(eligibility(params(), &woman, d("2025-01-01")).is_err());
        // Past every women's track: decidable without one.
        assert!(
            eligibility(params(), &woman, d("2025-06-10"))
                .unwrap()
                .value
                .eligible()
        );
    }

    #[test]
    fn interns_are_at_least_16_and_cover_ends_with_the_agreement() {
        let mut p = person(Category::Intern, "2010-03-01", Sex::Female);
        p.agreement_end = Some(d("2026-08-31"));
        let e = |on| eligibility(params(), &p, d(on)).unwrap().value;
        assert_eq!(
            e("2026-02-28").ineligible,
            Some(Ineligible::BelowMinimumAge { min: 16 })
        );
        assert!(e("2026-03-01").eligible());
        assert_eq!(e("2026-03-01").cover_end, Some(d("2026-08-31")));
        assert_eq!(
            e("2026-09-01").ineligible,
            Some(Ineligible::AgreementEnded {
                end: d("2026-08-31")
            })
        );
    }

    #[test]
    fn a_woman_employee_past_every_track_needs_no_track_to_be_refused() {
        let woman = person(Category::Employee, "1962-05-01", Sex::Female);
        let e = eligibility(params(), &woman, d("2025-06-01")).unwrap();
        assert_eq!(
            e.value.ineligible.map(Ineligible::code),
            Some("reached_retirement_age")
        );
        let young = person(Category::Employee, "1990-05-01", Sex::Female);
        assert!(
            eligibility(params(), &young, d("2025-06-01"))
                .unwrap()
                .value
                .eligible()
        );
        let between = person(Category::Employee, "1972-05-01", Sex::Female);
        assert!(eligibility(params(), &between, d("2025-06-01")).is_err());
    }

    #[test]
    fn an_under_age_intern_is_refused_without_an_agreement_end() {
        let p = person(Category::Intern, "2010-03-01", Sex::Male);
        let e = eligibility(params(), &p, d("2025-06-01")).unwrap().value;
        assert_eq!(e.ineligible, Some(Ineligible::BelowMinimumAge { min: 16 }));
        assert_eq!(e.cover_end, None);
    }

    #[test]
    fn a_track_that_contradicts_the_id_is_refused() {
        let mut p = person(Category::OverAge, "1960-01-01", Sex::Male);
        p.track = Some(Track::Female55);
        assert!(matches!(
            eligibility(params(), &p, d("2025-06-01")),
            Err(RuleError::InvalidFacts(_))
        ));
    }
}
