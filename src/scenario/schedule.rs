//! Time-varying drivers: a constant, or `[year, value]` keyframes interpolated linearly.
//!
//! A schedule is written in a scenario as either a number (`exposure = 0.4`) or an array of
//! `[year, value]` pairs (`exposure = [[2000, 0.2], [2030, 0.8]]`). Between keyframes the value
//! is interpolated linearly; before the first and after the last keyframe it is held constant.
//! Years may be fractional (`2008.5` is July 2008).

use serde::{Deserialize, Serialize};

use super::load::Validator;

/// A driver or path intensity that may change over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Schedule {
    /// The same value in every month.
    Constant(f64),
    /// `[year, value]` keyframes, years strictly increasing.
    Keyframes(Vec<[f64; 2]>),
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Constant(0.0)
    }
}

impl From<f64> for Schedule {
    fn from(v: f64) -> Self {
        Schedule::Constant(v)
    }
}

impl Schedule {
    /// Keyframe schedule from pairs.
    ///
    /// ```
    /// use ruralgov::scenario::Schedule;
    /// let s = Schedule::keys(&[(2000.0, 0.0), (2010.0, 1.0)]);
    /// assert_eq!(s.at(2005.0), 0.5);
    /// assert_eq!(s.at(1990.0), 0.0);
    /// assert_eq!(s.at(2020.0), 1.0);
    /// ```
    pub fn keys(pairs: &[(f64, f64)]) -> Self {
        Schedule::Keyframes(pairs.iter().map(|&(y, v)| [y, v]).collect())
    }

    /// The value at (fractional) `year`.
    pub fn at(&self, year: f64) -> f64 {
        match self {
            Schedule::Constant(v) => *v,
            Schedule::Keyframes(k) => {
                let (Some(first), Some(last)) = (k.first(), k.last()) else {
                    return 0.0;
                };
                if year <= first[0] {
                    return first[1];
                }
                if year >= last[0] {
                    return last[1];
                }
                for w in k.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if year >= a[0] && year <= b[0] {
                        let span = b[0] - a[0];
                        if span <= 0.0 {
                            return b[1];
                        }
                        return a[1] + (b[1] - a[1]) * (year - a[0]) / span;
                    }
                }
                last[1]
            }
        }
    }

    /// Largest value the schedule takes.
    pub fn max(&self) -> f64 {
        match self {
            Schedule::Constant(v) => *v,
            Schedule::Keyframes(k) => k.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Multiply every value by `f` (used for equal-budget scaling).
    pub fn scaled(&self, f: f64) -> Schedule {
        match self {
            Schedule::Constant(v) => Schedule::Constant(v * f),
            Schedule::Keyframes(k) => Schedule::Keyframes(k.iter().map(|p| [p[0], p[1] * f]).collect()),
        }
    }

    /// Check keyframe order and that every value lies in `[lo, hi]`.
    pub fn check(&self, v: &mut Validator, key: &str, lo: f64, hi: f64) {
        match self {
            Schedule::Constant(x) => v.range(key, *x, lo, hi),
            Schedule::Keyframes(k) => {
                if k.is_empty() {
                    v.error(key, "a schedule needs at least one [year, value] keyframe");
                    return;
                }
                if k.len() > crate::limits::MAX_KEYFRAMES {
                    v.error(
                        key,
                        format!(
                            "a schedule may have at most {} keyframes (one a month for over 400 years), this one has {}",
                            crate::limits::MAX_KEYFRAMES,
                            k.len()
                        ),
                    );
                    return;
                }
                for (i, p) in k.iter().enumerate() {
                    if !p[0].is_finite() || !(1900.0..=2200.0).contains(&p[0]) {
                        v.error(
                            key,
                            format!(
                                "keyframe {} has year {}, expected a year between 1900 and 2200",
                                i + 1,
                                p[0]
                            ),
                        );
                    }
                    if !p[1].is_finite() || p[1] < lo || p[1] > hi {
                        v.error(
                            key,
                            format!(
                                "keyframe [{}, {}] has value {}, outside the allowed range [{}, {}]",
                                p[0], p[1], p[1], lo, hi
                            ),
                        );
                    }
                    if i > 0 && p[0] <= k[i - 1][0] {
                        v.error(
                            key,
                            format!("keyframe years must increase: {} follows {}", p[0], k[i - 1][0]),
                        );
                    }
                }
            }
        }
    }
}
