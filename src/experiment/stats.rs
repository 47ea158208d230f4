//! Descriptive and inferential statistics for experiment outputs: means and standard
//! deviations, Student t and normal quantiles, t confidence intervals for one sample and for
//! paired differences, and a percentile bootstrap interval for a mean.
//!
//! Everything here is pure arithmetic with no I/O. Randomness (the bootstrap) comes from
//! [`rand_chacha::ChaCha8Rng`] seeded with [`rand::SeedableRng::seed_from_u64`], so a result is
//! a function of its inputs and its seed alone.
//!
//! Conventions: a probability or confidence `level` must lie strictly between 0 and 1; a
//! function that is given a bad argument returns `None` (or `NaN` for the scalar functions,
//! as documented on each).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Arithmetic mean of `xs`, computed in two passes: the naive mean `m = Σx / n` and then the
/// correction `m + Σ(x − m) / n`, which removes most of the rounding error of the first pass
/// (Björck's "corrected two-pass" idea).
///
/// Returns `NaN` for an empty slice, and `NaN` if any value is `NaN`.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let correction = xs.iter().map(|x| x - m).sum::<f64>() / n;
    m + correction
}

/// The `p` quantile of `xs` (NaN values left out) by linear interpolation between order
/// statistics (Hyndman and Fan's type 7, the default of R and numpy); NaN for no values.
pub fn quantile(xs: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Sample standard deviation of `xs` with the `n − 1` divisor, by the corrected two-pass
/// formula `s² = (Σd² − (Σd)² / n) / (n − 1)` with `d = x − mean` (Chan, Golub and LeVeque
/// 1983), which is accurate even when the mean is large compared with the spread.
///
/// Returns exactly `0.0` when every value is equal, and `NaN` for fewer than two values.
pub fn sd(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    if xs.iter().all(|&x| x == xs[0]) {
        return 0.0;
    }
    let n = xs.len() as f64;
    let m = mean(xs);
    let (sum_sq, sum) = xs.iter().fold((0.0, 0.0), |(sq, s), &x| {
        let d = x - m;
        (sq + d * d, s + d)
    });
    ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0).sqrt()
}

pub use crate::numeric::normal_quantile;

/// Complementary error function `erfc(x) = 1 − erf(x)`: the Maclaurin series of `erf` for
/// `|x| < 2`, and for `x ≥ 2` the continued fraction
/// `erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))` evaluated by Lentz's
/// method; relative accuracy around 1e−14.
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf(x) = 2/√π Σ (−1)ⁿ x^{2n+1} / (n! (2n + 1)).
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            let n = n as f64;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
    }
    if x > 27.0 {
        return 0.0;
    }
    // Lentz: b_0 = x, a_n = n/2, b_n = x.
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for n in 1..500 {
        let a = 0.5 * n as f64;
        d = x + a * d;
        d = away_from_zero(d);
        c = x + a / c;
        c = away_from_zero(c);
        d = 1.0 / d;
        let del = c * d;
        f *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Cumulative distribution function `Φ(x) = ½ erfc(−x/√2)` of the standard normal
/// distribution, accurate to about 1e−14 relative (also in the far lower tail).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Natural logarithm of the gamma function for `x > 0`, by the Lanczos approximation
/// (g = 7, nine coefficients; relative accuracy about 1e−15), with the reflection formula
/// below ½.
#[allow(clippy::excessive_precision)] // coefficients exactly as published
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx); only used for 0 < x < ½ here, where sin(πx) > 0.
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, &c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `x`, or +1e-300 when `x` is closer to zero than that: keeps the modified
/// Lentz method's denominators away from zero.
#[inline]
fn away_from_zero(x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    if x.abs() < TINY {
        TINY
    } else {
        x
    }
}

/// Continued fraction for the regularized incomplete beta function, evaluated by the modified
/// Lentz method (Numerical Recipes, `betacf`). Converges quickly for `x < (a + 1) / (a + b + 2)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const EPS: f64 = 1e-16;
    const MAX_ITER: usize = 100_000;
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = away_from_zero(d);
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = away_from_zero(d);
        c = 1.0 + aa / c;
        c = away_from_zero(c);
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = away_from_zero(d);
        c = 1.0 + aa / c;
        c = away_from_zero(c);
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Regularized incomplete beta function `I_x(a, b)` for `a, b > 0` and `0 ≤ x ≤ 1`.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// Upper tail `P(T > t)` of Student's t with `df` degrees of freedom, for `t ≥ 0`:
/// `½ I_{df/(df+t²)}(df/2, ½)`, computed without cancellation.
fn t_upper_tail(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    if !t2.is_finite() {
        return 0.0;
    }
    // x = df / (df + t²) and 1 − x = t² / (df + t²), each without cancellation.
    let x = df / (df + t2);
    let one_minus_x = t2 / (df + t2);
    let a = 0.5 * df;
    let b = 0.5;
    if x < (a + 1.0) / (a + b + 2.0) {
        0.5 * incomplete_beta(a, b, x)
    } else {
        // I_x(a, b) = 1 − I_{1−x}(b, a): evaluate the complement directly.
        let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * one_minus_x.ln();
        0.5 * (1.0 - ln_front.exp() * beta_continued_fraction(b, a, one_minus_x) / b)
    }
}

/// Cumulative distribution function `P(T ≤ t)` of Student's t distribution with `df > 0`
/// degrees of freedom (`df` need not be an integer), through the regularized incomplete beta
/// function: `P(T > |t|) = ½ I_{df/(df+t²)}(df/2, ½)`.
///
/// Returns `NaN` if `df ≤ 0` or either argument is `NaN`; an infinite `df` gives the normal
/// distribution function.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return normal_cdf(t);
    }
    let upper = t_upper_tail(t.abs(), df);
    if t >= 0.0 {
        1.0 - upper
    } else {
        upper
    }
}

/// Quantile (inverse CDF) of Student's t distribution with `df > 0` degrees of freedom at
/// probability `p`: the `t` with `P(T ≤ t) = p`.
///
/// The tail probability `q = min(p, 1 − p)` is inverted by bisection on the exact upper-tail
/// function `½ I_{df/(df+t²)}(df/2, ½)` (regularized incomplete beta by Lentz's continued
/// fraction, log-gamma by Lanczos), bracketing first by doubling; the bisection runs to the
/// resolution of `f64`, so the result is accurate to far better than 1e−6 for any `df ≥ 1`
/// (the error is that of the incomplete beta function, around 1e−13 relative). For
/// `df > 1e5` the Cornish–Fisher expansion around the normal quantile (Abramowitz and Stegun
/// 26.7.5, terms to `df⁻⁴`) is used instead, and `df = ∞` gives [`normal_quantile`].
///
/// Returns `∓∞` at `p = 0` or `1`, and `NaN` for `p` outside `[0, 1]` or `df ≤ 0`.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || !(0.0..=1.0).contains(&p) || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    if df > 1e5 {
        let z = normal_quantile(p);
        if df.is_infinite() {
            return z;
        }
        let z2 = z * z;
        let g1 = (z2 + 1.0) * z / 4.0;
        let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
        let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
        let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92_160.0;
        return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
    }
    let q = p.min(1.0 - p);
    // Find hi with P(T > hi) ≤ q, starting from the normal quantile as a guide.
    let mut lo = 0.0_f64;
    let mut hi = (-normal_quantile(q)).max(1.0);
    let mut guard = 0;
    while t_upper_tail(hi, df) > q {
        lo = hi;
        hi *= 2.0;
        guard += 1;
        if guard > 2_100 || !hi.is_finite() {
            return if p < 0.5 { f64::NEG_INFINITY } else { f64::INFINITY };
        }
    }
    for _ in 0..2_200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_upper_tail(mid, df) > q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    if p < 0.5 {
        -t
    } else {
        t
    }
}

/// A one-sample summary: size, mean, sample standard deviation and a two-sided Student t
/// confidence interval for the mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n − 1`); `NaN` when `n = 1`.
    pub sd: f64,
    /// Lower bound of the confidence interval `mean − t_{(1+level)/2, n−1} · sd / √n`;
    /// `NaN` when `n = 1`.
    pub ci_low: f64,
    /// Upper bound of the confidence interval `mean + t_{(1+level)/2, n−1} · sd / √n`;
    /// `NaN` when `n = 1`.
    pub ci_high: f64,
}

impl Summary {
    /// Half-width of the confidence interval, `(ci_high − ci_low) / 2`.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.ci_high - self.ci_low)
    }

    /// Whether `value` lies inside the closed confidence interval (false when the interval is
    /// undefined).
    pub fn contains(&self, value: f64) -> bool {
        self.ci_low <= value && value <= self.ci_high
    }
}

fn valid_level(level: f64) -> bool {
    level > 0.0 && level < 1.0
}

/// Summarises `xs` with a two-sided Student t confidence interval at confidence `level`
/// (e.g. `0.95`): `mean ± t_{(1+level)/2, n−1} · sd / √n`.
///
/// Returns `None` for an empty slice or a `level` outside `(0, 1)`. For a single
/// observation (`n = 1`) the spread and the interval are undefined: the summary is returned
/// with `sd`, `ci_low` and `ci_high` set to `NaN`. A constant sample has `sd = 0` and a
/// zero-width interval at the mean.
pub fn summary(xs: &[f64], level: f64) -> Option<Summary> {
    if xs.is_empty() || !valid_level(level) {
        return None;
    }
    let n = xs.len();
    let m = mean(xs);
    if n == 1 {
        return Some(Summary {
            n,
            mean: m,
            sd: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        });
    }
    let s = sd(xs);
    let t = t_quantile(0.5 * (1.0 + level), (n - 1) as f64);
    let half = t * s / (n as f64).sqrt();
    Some(Summary {
        n,
        mean: m,
        sd: s,
        ci_low: m - half,
        ci_high: m + half,
    })
}

/// Paired comparison of two matched samples: the [`summary`] (mean, sd and Student t interval
/// at confidence `level`) of the differences `b[i] − a[i]`.
///
/// Pairing removes the variation that the two members of a pair share (in a simulation, the
/// common random numbers of one seed run under two treatments), so the interval for the mean
/// difference is narrower than the one from two independent samples whenever that shared
/// variation is positive.
///
/// Returns `None` unless `a` and `b` have the same length of at least 2 and `level` is in
/// `(0, 1)`.
pub fn paired(a: &[f64], b: &[f64], level: f64) -> Option<Summary> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    summary(&diffs, level)
}

/// Linear-interpolation quantile (Hyndman and Fan type 7, R's default) of an ascending,
/// non-empty slice at probability `p ∈ [0, 1]`.
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile bootstrap confidence interval for the mean of `diffs` (typically paired
/// differences), at confidence `level`.
///
/// Draws `resamples` samples of size `n` with replacement from `diffs` (Efron 1979), takes
/// the mean of each, and returns the `(1 − level)/2` and `(1 + level)/2` quantiles of those
/// means (linear interpolation between order statistics). The draws come from a
/// [`ChaCha8Rng`] seeded with `seed`, so the interval is deterministic for a seed. The
/// percentile interval is slightly too narrow for small `n` (coverage near 0.93 for a
/// nominal 0.95 at `n = 20`); prefer [`paired`] when the differences look roughly normal.
///
/// Returns `None` for fewer than two values, `resamples < 2`, a `level` outside `(0, 1)`,
/// or non-finite values.
pub fn bootstrap_mean_ci(diffs: &[f64], resamples: usize, level: f64, seed: u64) -> Option<(f64, f64)> {
    if diffs.len() < 2 || resamples < 2 || !valid_level(level) || diffs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = diffs.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let total: f64 = (0..n).map(|_| diffs[rng.random_range(0..n)]).sum();
            total / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Some((
        quantile_sorted(&means, 0.5 * alpha),
        quantile_sorted(&means, 1.0 - 0.5 * alpha),
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Standard normal draws by the Box–Muller transform.
    pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    #[test]
    fn mean_and_sd_basic() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!((mean(&xs) - 5.0).abs() < 1e-15);
        // Sum of squared deviations is 32, n − 1 = 7.
        assert!((sd(&xs) - (32.0_f64 / 7.0).sqrt()).abs() < 1e-14);
        assert!(mean(&[]).is_nan());
        assert!(sd(&[1.0]).is_nan());
    }

    #[test]
    fn sd_is_accurate_with_a_large_offset() {
        let xs: Vec<f64> = [4.0, 7.0, 13.0, 16.0].iter().map(|x| x + 1e9).collect();
        assert!((sd(&xs) - 30.0_f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn constant_sample_has_zero_sd_and_zero_width_interval() {
        let xs = [0.1; 7];
        let s = summary(&xs, 0.95).unwrap();
        assert_eq!(s.n, 7);
        assert_eq!(s.sd, 0.0);
        assert_eq!(s.mean, 0.1);
        assert_eq!(s.ci_low, 0.1);
        assert_eq!(s.ci_high, 0.1);
    }

    #[test]
    fn summary_edge_cases() {
        assert!(summary(&[], 0.95).is_none());
        assert!(summary(&[1.0, 2.0], 1.0).is_none());
        assert!(summary(&[1.0, 2.0], 0.0).is_none());
        let one = summary(&[3.5], 0.95).unwrap();
        assert_eq!(one.n, 1);
        assert_eq!(one.mean, 3.5);
        assert!(one.sd.is_nan() && one.ci_low.is_nan() && one.ci_high.is_nan());
        assert!(!one.contains(3.5));
        // n = 2: mean 1, sd √2, half-width 12.7062 · √2 / √2.
        let two = summary(&[0.0, 2.0], 0.95).unwrap();
        assert!((two.half_width() - 12.706_204_736).abs() < 1e-6);
    }

    #[test]
    fn paired_rejects_bad_input() {
        assert!(paired(&[1.0], &[2.0], 0.95).is_none());
        assert!(paired(&[1.0, 2.0], &[2.0], 0.95).is_none());
        let s = paired(&[1.0, 2.0, 3.0], &[2.0, 2.5, 4.5], 0.95).unwrap();
        assert!((s.mean - 1.0).abs() < 1e-15);
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        assert!((normal_quantile(0.025) + 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.841_344_746_068_542_9) - 1.0).abs() < 1e-9);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-9);
        assert!((normal_quantile(1e-300) + 37.047_096_499_804_77).abs() < 1e-6);
        assert!(normal_quantile(0.0).is_infinite() && normal_quantile(1.0).is_infinite());
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn normal_cdf_known_values_and_inverse() {
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-14);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((normal_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-14);
        assert!((normal_cdf(-6.361_340_902_404_056) / 1e-10 - 1.0).abs() < 1e-10);
        for p in [1e-12, 1e-5, 0.01, 0.2, 0.5, 0.7, 0.99] {
            assert!((normal_cdf(normal_quantile(p)) / p - 1.0).abs() < 1e-12, "p {p}");
        }
        assert!((t_cdf(1.0, f64::INFINITY) - normal_cdf(1.0)).abs() < 1e-16);
    }

    #[test]
    fn t_quantile_known_values() {
        let cases = [
            (0.975, 1.0, 12.706_204_736_174_7),
            (0.975, 2.0, 4.302_652_729_749_464),
            (0.975, 5.0, 2.570_581_835_636_314),
            (0.975, 19.0, 2.093_024_054_408_263),
            (0.975, 30.0, 2.042_272_456_301_238),
            (0.975, 1000.0, 1.962_339_065_764_9),
            (0.95, 10.0, 1.812_461_122_811_676),
            (0.995, 3.0, 5.840_909_309_733_35),
            (0.999, 7.0, 4.785_289_814_659_19),
        ];
        for (p, df, expected) in cases {
            let got = t_quantile(p, df);
            assert!(
                (got - expected).abs() < 1e-6,
                "t({p}, {df}) = {got}, expected {expected}"
            );
            let low = t_quantile(1.0 - p, df);
            assert!((low + expected).abs() < 1e-6, "t({}, {df}) = {low}", 1.0 - p);
        }
        // Closed forms: df 1 is Cauchy, df 2 is t = (2p − 1) / √(2p(1 − p)).
        for p in [0.6, 0.9, 0.99, 0.9999, 0.02] {
            let cauchy = (std::f64::consts::PI * (p - 0.5)).tan();
            assert!((t_quantile(p, 1.0) - cauchy).abs() < 1e-8 * cauchy.abs().max(1.0));
            let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            assert!((t_quantile(p, 2.0) - two).abs() < 1e-8 * two.abs().max(1.0));
        }
        // Large df approaches the normal quantile.
        assert!((t_quantile(0.975, 1e7) - 1.959_963_984_540_054).abs() < 1e-6);
        assert!((t_quantile(0.975, f64::INFINITY) - 1.959_963_984_540_054).abs() < 1e-12);
        // Continuity across the Cornish–Fisher switch.
        assert!((t_quantile(0.975, 1e5) - t_quantile(0.975, 1.000_001e5)).abs() < 1e-9);
        assert!(t_quantile(0.5, 3.0) == 0.0);
        assert!(t_quantile(0.9, 0.0).is_nan());
    }

    #[test]
    fn t_cdf_inverts_t_quantile() {
        for df in [1.0, 2.5, 4.0, 17.0, 250.0] {
            for p in [0.001, 0.05, 0.3, 0.7, 0.95, 0.999] {
                let t = t_quantile(p, df);
                assert!((t_cdf(t, df) - p).abs() < 1e-12, "df {df} p {p}");
            }
        }
        assert!((t_cdf(0.0, 3.0) - 0.5).abs() < 1e-15);
    }

    /// One simulated paired experiment: 20 seeds, each with a shared component of sd 2 that
    /// both arms see, and independent noise of sd 1/√2 per arm (so differences have sd 1).
    fn paired_experiment(rng: &mut ChaCha8Rng, n: usize, true_diff: f64) -> (Vec<f64>, Vec<f64>) {
        let noise = std::f64::consts::FRAC_1_SQRT_2;
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for _ in 0..n {
            let common = 10.0 + 2.0 * normal(rng);
            a.push(common + noise * normal(rng));
            b.push(common + true_diff + noise * normal(rng));
        }
        (a, b)
    }

    #[test]
    fn paired_t_interval_has_nominal_coverage() {
        let mut rng = ChaCha8Rng::seed_from_u64(20_240_601);
        let true_diff = 0.3;
        let experiments = 1000;
        let mut covered = 0;
        let mut paired_width = 0.0;
        let mut unpaired_width = 0.0;
        for _ in 0..experiments {
            let (a, b) = paired_experiment(&mut rng, 20, true_diff);
            let s = paired(&a, &b, 0.95).unwrap();
            if s.contains(true_diff) {
                covered += 1;
            }
            paired_width += s.half_width();
            unpaired_width += summary(&b, 0.95).unwrap().half_width();
        }
        let coverage = covered as f64 / experiments as f64;
        assert!((0.93..=0.97).contains(&coverage), "coverage {coverage}");
        // Pairing matters: the shared component makes each arm much noisier than the difference.
        assert!(paired_width < 0.6 * unpaired_width);
    }

    #[test]
    fn bootstrap_interval_has_near_nominal_coverage() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let true_diff = 0.3;
        let experiments = 400;
        let mut covered = 0;
        for e in 0..experiments {
            let (a, b) = paired_experiment(&mut rng, 20, true_diff);
            let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
            let (lo, hi) = bootstrap_mean_ci(&diffs, 500, 0.95, e as u64).unwrap();
            assert!(lo < hi);
            if lo <= true_diff && true_diff <= hi {
                covered += 1;
            }
        }
        let coverage = covered as f64 / experiments as f64;
        assert!((0.90..=0.98).contains(&coverage), "coverage {coverage}");
    }

    #[test]
    fn bootstrap_is_deterministic_and_validates() {
        let xs = [0.1, -0.4, 1.2, 0.8, 0.3, 0.0, 0.9];
        let a = bootstrap_mean_ci(&xs, 200, 0.9, 42).unwrap();
        let b = bootstrap_mean_ci(&xs, 200, 0.9, 42).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_mean_ci(&xs, 200, 0.9, 43).unwrap();
        assert_ne!(a, c);
        assert!(bootstrap_mean_ci(&[1.0], 200, 0.95, 1).is_none());
        assert!(bootstrap_mean_ci(&xs, 1, 0.95, 1).is_none());
        assert!(bootstrap_mean_ci(&xs, 100, 1.5, 1).is_none());
        assert!(bootstrap_mean_ci(&[1.0, f64::NAN], 100, 0.95, 1).is_none());
    }

    #[test]
    fn quantile_sorted_interpolates() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&xs, 0.0), 1.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 4.0);
        assert!((quantile_sorted(&xs, 0.5) - 2.5).abs() < 1e-15);
    }
}
