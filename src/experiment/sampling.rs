//! Experimental designs over `k` factors, each varied over a closed interval `[lo, hi]`, and
//! the sensitivity measures computed from them.
//!
//! * [`full_factorial`]: every combination of explicit per-factor value lists.
//! * [`latin_hypercube`]: a Latin hypercube sample (McKay, Beckman and Conover 1979).
//! * [`morris_design`] and [`morris_indices`]: Morris's (1991) elementary-effects screening
//!   with the trajectory design and the `μ*` measure of Campolongo, Cariboni and Saltelli
//!   (2007), as in Saltelli et al. (2008), *Global Sensitivity Analysis: The Primer*, ch. 3.
//! * [`saltelli_design`] and [`sobol_indices`]: variance-based (Sobol') first-order and total
//!   indices from the radial A/B/AB scheme of Saltelli (2002) and Saltelli et al. (2010), on a
//!   scrambled Sobol' low-discrepancy sequence ([`sobol_sequence`]).
//! * [`variance_decomposition`]: how much of an output's variance over a design with
//!   replicate runs per point is replicate (seed) noise.
//!
//! Bounds are given as `&[(lo, hi)]`, one pair per factor, with `lo < hi` and both finite
//! ([`Factor`] and [`factor_bounds`] convert from named factors). Every design returns its
//! points in the factors' original units, point-major (`design[point][factor]`), and is a
//! deterministic function of its arguments and seed: randomness comes from
//! [`ChaCha8Rng`] seeded with [`rand::SeedableRng::seed_from_u64`].

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::stats::{mean, quantile_sorted, sd};

/// Why a design or an analysis cannot be computed from the arguments given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    /// The design has no factors.
    #[error("a design needs at least one factor")]
    NoFactors,
    /// A factor's bounds are not finite or not increasing.
    #[error("factor {factor} has bounds [{lo}, {hi}]; they must be finite with lo < hi")]
    InvalidBounds {
        /// Index of the factor.
        factor: usize,
        /// Its lower bound.
        lo: f64,
        /// Its upper bound.
        hi: f64,
    },
    /// A sample size, trajectory count or replicate count is zero or too small.
    #[error("{0}")]
    TooFewSamples(String),
    /// The number of Morris levels is not an even number of at least 2.
    #[error("the number of Morris levels must be even and at least 2, not {0}")]
    InvalidLevels(usize),
    /// The design needs more dimensions than the Sobol' direction numbers provide.
    #[error("{factors} factors need {needed} Sobol' dimensions; at most {max} are available")]
    TooManyFactors {
        /// Number of factors asked for.
        factors: usize,
        /// Dimensions the design needs.
        needed: usize,
        /// Dimensions available.
        max: usize,
    },
    /// The outputs (or design) do not have the length the design implies.
    #[error("expected {expected} values, got {got}")]
    LengthMismatch {
        /// Length the design implies.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// A design given to an analysis is not of the kind the analysis expects.
    #[error("malformed design: {0}")]
    MalformedDesign(String),
}

/// A factor of a design: a named model parameter varied over `[lo, hi]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// Name of the parameter (for reports; the designs use only the bounds).
    pub name: String,
    /// Lower bound, in the parameter's own units.
    pub lo: f64,
    /// Upper bound, in the parameter's own units.
    pub hi: f64,
}

/// The `(lo, hi)` bounds of `factors`, in order, as the design functions take them.
pub fn factor_bounds(factors: &[Factor]) -> Vec<(f64, f64)> {
    factors.iter().map(|f| (f.lo, f.hi)).collect()
}

/// Checks design bounds: at least one factor, and every `(lo, hi)` finite with `lo < hi`.
/// Every design function applies this check first.
pub fn check_bounds(bounds: &[(f64, f64)]) -> Result<(), SamplingError> {
    if bounds.is_empty() {
        return Err(SamplingError::NoFactors);
    }
    for (factor, &(lo, hi)) in bounds.iter().enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(SamplingError::InvalidBounds { factor, lo, hi });
        }
    }
    Ok(())
}

/// Maps a point of the unit cube to the factors' units: `x_i = lo_i + u_i (hi_i − lo_i)`.
fn scale(unit: &[f64], bounds: &[(f64, f64)]) -> Vec<f64> {
    unit.iter()
        .zip(bounds)
        .map(|(&u, &(lo, hi))| lo + u * (hi - lo))
        .collect()
}

/// Full factorial design: every combination of one value from each factor's list, in
/// lexicographic order with the **last factor varying fastest** (like nested loops with the
/// first factor outermost). The design has `Π levels[i].len()` points.
///
/// With no factors the design is a single empty point; if any factor has an empty list the
/// design is empty.
pub fn full_factorial(levels: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut points: Vec<Vec<f64>> = vec![Vec::with_capacity(levels.len())];
    for values in levels {
        let mut next = Vec::with_capacity(points.len() * values.len());
        for point in &points {
            for &v in values {
                let mut p = point.clone();
                p.push(v);
                next.push(p);
            }
        }
        points = next;
    }
    points
}

/// Latin hypercube sample of `n` points (McKay, Beckman and Conover 1979): each factor's
/// range is cut into `n` equal strata, every stratum holds exactly one point, and the strata
/// of different factors are matched by independent random permutations. Within its stratum a
/// point is placed uniformly at random, so `x_i = lo_i + (π_i(j) + U) / n · (hi_i − lo_i)`.
///
/// Errors if `bounds` is empty or invalid, or `n = 0`.
pub fn latin_hypercube(bounds: &[(f64, f64)], n: usize, seed: u64) -> Result<Vec<Vec<f64>>, SamplingError> {
    check_bounds(bounds)?;
    if n == 0 {
        return Err(SamplingError::TooFewSamples(
            "a Latin hypercube needs n ≥ 1 points".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = bounds.len();
    let mut unit = vec![vec![0.0; k]; n];
    let mut perm: Vec<usize> = (0..n).collect();
    for i in 0..k {
        perm.shuffle(&mut rng);
        for (j, point) in unit.iter_mut().enumerate() {
            point[i] = (perm[j] as f64 + rng.random::<f64>()) / n as f64;
        }
    }
    Ok(unit.iter().map(|u| scale(u, bounds)).collect())
}

/// Morris (1991) trajectory design in the form of Saltelli et al. (2008, ch. 3): `r`
/// trajectories of `k + 1` points each, `r (k + 1)` points in all, trajectory-major (rows
/// `t(k+1) … t(k+1)+k` are trajectory `t`).
///
/// In the unit cube each factor lives on the `p`-level grid `{0, 1/(p−1), …, 1}` (`p =
/// levels`, even) and moves by `Δ = p / (2(p − 1))`. A trajectory draws for each factor a
/// lower value uniformly from the grid points `x` with `x + Δ ≤ 1`, starts at that value or at
/// `x + Δ` with probability ½ each, and then, in a random order, moves one factor at a time to
/// its other value; this is exactly the matrix construction `B* = (J x* + (Δ/2)((2B − J)D* +
/// J))P*` of Morris, and gives every grid level equal probability. Points are returned in the
/// factors' units.
///
/// Errors if `bounds` is empty or invalid, `r = 0`, or `levels` is odd or below 2.
pub fn morris_design(
    bounds: &[(f64, f64)],
    trajectories: usize,
    levels: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>, SamplingError> {
    check_bounds(bounds)?;
    if trajectories == 0 {
        return Err(SamplingError::TooFewSamples(
            "a Morris design needs at least one trajectory".into(),
        ));
    }
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(SamplingError::InvalidLevels(levels));
    }
    let k = bounds.len();
    let step = 1.0 / (levels - 1) as f64;
    let delta = morris_delta(levels);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut design = Vec::with_capacity(trajectories * (k + 1));
    let mut order: Vec<usize> = (0..k).collect();
    for _ in 0..trajectories {
        // Each factor alternates between `low` and `low + Δ` (kept as grid indices so the
        // values are exact multiples of the step).
        let mut level_index = vec![0usize; k];
        for li in level_index.iter_mut() {
            let low = rng.random_range(0..levels / 2);
            *li = if rng.random::<bool>() { low + levels / 2 } else { low };
        }
        order.shuffle(&mut rng);
        let to_unit = |idx: &[usize]| idx.iter().map(|&l| l as f64 * step).collect::<Vec<f64>>();
        design.push(scale(&to_unit(&level_index), bounds));
        for &i in &order {
            let half = levels / 2;
            level_index[i] = if level_index[i] >= half {
                level_index[i] - half
            } else {
                level_index[i] + half
            };
            design.push(scale(&to_unit(&level_index), bounds));
        }
    }
    debug_assert!((delta - (levels / 2) as f64 * step).abs() < 1e-12);
    Ok(design)
}

/// The Morris step `Δ = p / (2(p − 1))` in the unit cube for `p` levels.
pub fn morris_delta(levels: usize) -> f64 {
    levels as f64 / (2.0 * (levels as f64 - 1.0))
}

/// Morris screening measures of one factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MorrisIndex {
    /// Mean elementary effect `μ = (1/r) Σ EE_t`; effects of opposite sign cancel.
    pub mu: f64,
    /// Mean absolute elementary effect `μ* = (1/r) Σ |EE_t|` (Campolongo et al. 2007), the
    /// measure to rank factors by.
    pub mu_star: f64,
    /// Sample standard deviation of the elementary effects (divisor `r − 1`), a sign of
    /// nonlinearity or interactions; `NaN` when `r = 1`.
    pub sigma: f64,
}

/// Morris elementary-effects measures for each factor from a [`morris_design`] and the model
/// outputs at its points (`outputs[j]` belongs to `design[j]`).
///
/// For each trajectory and each step, the one factor `i` that changed gives the elementary
/// effect `EE_i = (y(x + Δu e_i) − y(x)) / Δu`, where `Δu = ±Δ` is the move **in the unit
/// cube**, i.e. as a fraction of the factor's range `hi_i − lo_i`. So effects, `μ`, `μ*` and
/// `σ` are in **output units per full range of the factor**: a model `y = c·x` on `[0, 10]`
/// has `μ = 10c`. For factors on `[0, 1]` this is the ordinary derivative, and it makes the
/// effects of factors with different units comparable.
///
/// `levels` must be the value the design was built with; the step of every move is checked
/// against its `Δ`. A factor marked in `whole` (a whole-number setting, run at its rounded
/// value; an empty slice marks none) may be off by one unit, and its effect divides by the
/// step actually taken. Errors if the design does not have `r (k + 1)` points of `k` values, if a
/// step does not change exactly one factor by `±Δ`, if a trajectory does not move every
/// factor once, or if the outputs do not match the design.
pub fn morris_indices(
    bounds: &[(f64, f64)],
    whole: &[bool],
    design: &[Vec<f64>],
    outputs: &[f64],
    trajectories: usize,
    levels: usize,
) -> Result<Vec<MorrisIndex>, SamplingError> {
    check_bounds(bounds)?;
    if trajectories == 0 {
        return Err(SamplingError::TooFewSamples(
            "Morris indices need at least one trajectory".into(),
        ));
    }
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(SamplingError::InvalidLevels(levels));
    }
    let k = bounds.len();
    let expected = trajectories * (k + 1);
    if design.len() != expected {
        return Err(SamplingError::LengthMismatch {
            expected,
            got: design.len(),
        });
    }
    if outputs.len() != expected {
        return Err(SamplingError::LengthMismatch {
            expected,
            got: outputs.len(),
        });
    }
    if let Some(bad) = design.iter().position(|p| p.len() != k) {
        return Err(SamplingError::MalformedDesign(format!(
            "point {bad} has {} values, expected {k}",
            design[bad].len()
        )));
    }
    let delta = morris_delta(levels);
    let mut effects = vec![Vec::with_capacity(trajectories); k];
    for t in 0..trajectories {
        let base = t * (k + 1);
        let mut moved = vec![false; k];
        for s in 1..=k {
            let prev = &design[base + s - 1];
            let cur = &design[base + s];
            let changed: Vec<usize> = (0..k).filter(|&i| prev[i] != cur[i]).collect();
            let [i] = changed[..] else {
                return Err(SamplingError::MalformedDesign(format!(
                    "step {s} of trajectory {t} changes {} factors, expected exactly one",
                    changed.len()
                )));
            };
            if moved[i] {
                return Err(SamplingError::MalformedDesign(format!(
                    "trajectory {t} moves factor {i} more than once"
                )));
            }
            moved[i] = true;
            let (lo, hi) = bounds[i];
            // A whole-number setting runs at its rounded value, so each end of its step may be
            // off the grid by half a unit; the effect divides by the step actually taken.
            let du = (cur[i] - prev[i]) / (hi - lo);
            let slack = if whole.get(i).copied().unwrap_or(false) {
                1.0 / (hi - lo) + 1e-9
            } else {
                1e-9
            };
            if du == 0.0 || (du.abs() - delta).abs() > slack {
                return Err(SamplingError::MalformedDesign(format!(
                    "step {s} of trajectory {t} moves factor {i} by {du} of its range, expected ±{delta} for {levels} levels"
                )));
            }
            effects[i].push((outputs[base + s] - outputs[base + s - 1]) / du);
        }
    }
    Ok(effects
        .iter()
        .map(|ee| {
            let abs: Vec<f64> = ee.iter().map(|e| e.abs()).collect();
            MorrisIndex {
                mu: mean(ee),
                mu_star: mean(&abs),
                sigma: sd(ee),
            }
        })
        .collect())
}

/// Joe and Kuo's direction numbers for the Sobol' sequence, dimensions 2 to 64, one row per
/// dimension as `(s, a, [m_1 … m_s])`: the degree `s` of the primitive polynomial, its inner
/// coefficients `a` as bits (most significant first), and the initial odd direction integers.
/// Source: S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
/// projections", SIAM J. Sci. Comput. 30 (2008) 2635–2654, table `new-joe-kuo-6.21201`
/// (© 2008 Frances Y. Kuo and Stephen Joe, distributed under a BSD-style licence).
/// Dimension 1 is the van der Corput sequence and needs no row.
const JOE_KUO: &[(u32, u32, &[u32])] = &[
    (1, 0, &[1]),
    (2, 1, &[1, 3]),
    (3, 1, &[1, 3, 1]),
    (3, 2, &[1, 1, 1]),
    (4, 1, &[1, 1, 3, 3]),
    (4, 4, &[1, 3, 5, 13]),
    (5, 2, &[1, 1, 5, 5, 17]),
    (5, 4, &[1, 1, 5, 5, 5]),
    (5, 7, &[1, 1, 7, 11, 19]),
    (5, 11, &[1, 1, 5, 1, 1]),
    (5, 13, &[1, 1, 1, 3, 11]),
    (5, 14, &[1, 3, 5, 5, 31]),
    (6, 1, &[1, 3, 3, 9, 7, 49]),
    (6, 13, &[1, 1, 1, 15, 21, 21]),
    (6, 16, &[1, 3, 1, 13, 27, 49]),
    (6, 19, &[1, 1, 1, 15, 7, 5]),
    (6, 22, &[1, 3, 1, 15, 13, 25]),
    (6, 25, &[1, 1, 5, 5, 19, 61]),
    (7, 1, &[1, 3, 7, 11, 23, 15, 103]),
    (7, 4, &[1, 3, 7, 13, 13, 15, 69]),
    (7, 7, &[1, 1, 3, 13, 7, 35, 63]),
    (7, 8, &[1, 3, 5, 9, 1, 25, 53]),
    (7, 14, &[1, 3, 1, 13, 9, 35, 107]),
    (7, 19, &[1, 3, 1, 5, 27, 61, 31]),
    (7, 21, &[1, 1, 5, 11, 19, 41, 61]),
    (7, 28, &[1, 3, 5, 3, 3, 13, 69]),
    (7, 31, &[1, 1, 7, 13, 1, 19, 1]),
    (7, 32, &[1, 3, 7, 5, 13, 19, 59]),
    (7, 37, &[1, 1, 3, 9, 25, 29, 41]),
    (7, 41, &[1, 3, 5, 13, 23, 1, 55]),
    (7, 42, &[1, 3, 7, 3, 13, 59, 17]),
    (7, 50, &[1, 3, 1, 3, 5, 53, 69]),
    (7, 55, &[1, 1, 5, 5, 23, 33, 13]),
    (7, 56, &[1, 1, 7, 7, 1, 61, 123]),
    (7, 59, &[1, 1, 7, 9, 13, 61, 49]),
    (7, 62, &[1, 3, 3, 5, 3, 55, 33]),
    (8, 14, &[1, 3, 1, 15, 31, 13, 49, 245]),
    (8, 21, &[1, 3, 5, 15, 31, 59, 63, 97]),
    (8, 22, &[1, 3, 1, 11, 11, 11, 77, 249]),
    (8, 38, &[1, 3, 1, 11, 27, 43, 71, 9]),
    (8, 47, &[1, 1, 7, 15, 21, 11, 81, 45]),
    (8, 49, &[1, 3, 7, 3, 25, 31, 65, 79]),
    (8, 50, &[1, 3, 1, 1, 19, 11, 3, 205]),
    (8, 52, &[1, 1, 5, 9, 19, 21, 29, 157]),
    (8, 56, &[1, 3, 7, 11, 1, 33, 89, 185]),
    (8, 67, &[1, 3, 3, 3, 15, 9, 79, 71]),
    (8, 70, &[1, 3, 7, 11, 15, 39, 119, 27]),
    (8, 84, &[1, 1, 3, 1, 11, 31, 97, 225]),
    (8, 97, &[1, 1, 1, 3, 23, 43, 57, 177]),
    (8, 103, &[1, 3, 7, 7, 17, 17, 37, 71]),
    (8, 115, &[1, 3, 1, 5, 27, 63, 123, 213]),
    (8, 122, &[1, 1, 3, 5, 11, 43, 53, 133]),
    (9, 8, &[1, 3, 5, 5, 29, 17, 47, 173, 479]),
    (9, 13, &[1, 3, 3, 11, 3, 1, 109, 9, 69]),
    (9, 16, &[1, 1, 1, 5, 17, 39, 23, 5, 343]),
    (9, 22, &[1, 3, 1, 5, 25, 15, 31, 103, 499]),
    (9, 25, &[1, 1, 1, 11, 11, 17, 63, 105, 183]),
    (9, 44, &[1, 1, 5, 11, 9, 29, 97, 231, 363]),
    (9, 47, &[1, 1, 5, 15, 19, 45, 41, 7, 383]),
    (9, 52, &[1, 3, 7, 7, 31, 19, 83, 137, 221]),
    (9, 55, &[1, 1, 1, 3, 23, 15, 111, 223, 83]),
    (9, 59, &[1, 1, 5, 13, 31, 15, 55, 25, 161]),
    (9, 62, &[1, 1, 3, 13, 25, 47, 39, 87, 257]),
];

/// Number of dimensions [`sobol_sequence`] supports.
pub const SOBOL_MAX_DIMS: usize = 64;

/// Bits of resolution of the Sobol' points.
const SOBOL_BITS: usize = 32;

/// Direction integers `v_j` (as 32-bit fractions) of one dimension, by the recurrence of
/// Bratley and Fox (1988): `v_j = v_{j−s} ⊕ (v_{j−s} ≫ s) ⊕ a_1 v_{j−1} ⊕ … ⊕ a_{s−1} v_{j−s+1}`.
fn sobol_directions(dim: usize) -> [u32; SOBOL_BITS] {
    let mut v = [0u32; SOBOL_BITS];
    if dim == 0 {
        for (j, vj) in v.iter_mut().enumerate() {
            *vj = 1 << (31 - j);
        }
        return v;
    }
    let (s, a, m) = JOE_KUO[dim - 1];
    let s = s as usize;
    for j in 0..SOBOL_BITS {
        if j < s {
            v[j] = m[j] << (31 - j);
        } else {
            let mut x = v[j - s] ^ (v[j - s] >> s);
            for kk in 1..s {
                if (a >> (s - 1 - kk)) & 1 == 1 {
                    x ^= v[j - kk];
                }
            }
            v[j] = x;
        }
    }
    v
}

/// Applies Matoušek's (1998) random linear matrix scramble to the direction integers of one
/// dimension: output digit `r` (most significant first) becomes the parity of a random
/// lower-triangular, unit-diagonal combination of digits `1 … r`. The scrambled generator
/// matrix is still non-singular, so every net property of the sequence is kept.
fn linear_scramble(v: &mut [u32; SOBOL_BITS], rng: &mut ChaCha8Rng) {
    let mut rows = [0u32; SOBOL_BITS];
    for (r, row) in rows.iter_mut().enumerate() {
        let above = if r == 0 { 0 } else { u32::MAX << (32 - r) };
        *row = (rng.random::<u32>() & above) | (1 << (31 - r));
    }
    for vj in v.iter_mut() {
        let mut out = 0u32;
        for (r, row) in rows.iter().enumerate() {
            out |= ((row & *vj).count_ones() & 1) << (31 - r);
        }
        *vj = out;
    }
}

/// The first `n` points of the `dims`-dimensional Sobol' sequence (Sobol' 1967) in the unit
/// cube `[0, 1)^dims`, point-major, in natural (not Gray-code) order: point `i` is the XOR of
/// the direction integers selected by the binary digits of `i`, with Joe and Kuo's (2008)
/// direction numbers, at 32-bit resolution.
///
/// With `scramble = Some(seed)` each dimension gets Matoušek's random linear matrix scramble
/// followed by a random digital shift (as in SciPy's `qmc.Sobol`), drawn from a
/// [`ChaCha8Rng`] seeded with `seed`: the points stay a low-discrepancy sequence but are no
/// longer anchored at the origin, and estimates built from them become unbiased. With `None`
/// the classic unscrambled sequence is returned (its first point is the origin). The balance
/// properties hold for prefixes whose length is a power of two, so prefer such `n`.
///
/// Errors if `dims` is 0 or above [`SOBOL_MAX_DIMS`], or `n` is 0 or above `2³²`.
pub fn sobol_sequence(n: usize, dims: usize, scramble: Option<u64>) -> Result<Vec<Vec<f64>>, SamplingError> {
    if dims == 0 {
        return Err(SamplingError::NoFactors);
    }
    if dims > SOBOL_MAX_DIMS {
        return Err(SamplingError::TooManyFactors {
            factors: dims,
            needed: dims,
            max: SOBOL_MAX_DIMS,
        });
    }
    if n == 0 || (n as u64) > (1u64 << SOBOL_BITS) {
        return Err(SamplingError::TooFewSamples(format!(
            "a Sobol' sequence has between 1 and 2^32 points, not {n}"
        )));
    }
    let mut rng = scramble.map(ChaCha8Rng::seed_from_u64);
    let mut directions = Vec::with_capacity(dims);
    let mut shifts = Vec::with_capacity(dims);
    for d in 0..dims {
        let mut v = sobol_directions(d);
        let shift = match rng.as_mut() {
            Some(rng) => {
                linear_scramble(&mut v, rng);
                rng.random::<u32>()
            }
            None => 0,
        };
        directions.push(v);
        shifts.push(shift);
    }
    const SCALE: f64 = 1.0 / 4_294_967_296.0; // 2^-32
    Ok((0..n as u64)
        .map(|i| {
            directions
                .iter()
                .zip(&shifts)
                .map(|(v, &shift)| {
                    let mut x = shift;
                    let mut bits = i;
                    let mut j = 0;
                    while bits != 0 {
                        if bits & 1 == 1 {
                            x ^= v[j];
                        }
                        bits >>= 1;
                        j += 1;
                    }
                    f64::from(x) * SCALE
                })
                .collect()
        })
        .collect())
}

/// Saltelli's design for Sobol' indices (Saltelli 2002; Saltelli et al. 2010): `N (k + 2)`
/// points for `k` factors and `N = n` base rows.
///
/// Two `N × k` matrices `A` and `B` are the first and last `k` columns of the first `N`
/// points of a `2k`-dimensional scrambled Sobol' sequence ([`sobol_sequence`] with
/// `scramble = Some(seed)`). `AB⁽ⁱ⁾` is `A` with its column `i` taken from `B`. **Order:** for
/// each base row `j` in `0..N`, the design holds `A_j`, then `B_j`, then `AB⁽⁰⁾_j, …,
/// AB⁽ᵏ⁻¹⁾_j`; so row `j`'s block starts at `j (k + 2)`, `A_j` is at offset 0, `B_j` at 1 and
/// `AB⁽ⁱ⁾_j` at `2 + i`. Evaluate the model at every point in this order and pass the outputs
/// to [`sobol_indices`]. Use a power of two for `n` (e.g. 512–8192).
///
/// With more than 32 factors (`2k` above [`SOBOL_MAX_DIMS`]) or more than `2³²` base rows,
/// the `2k` columns are plain uniform random numbers from a [`ChaCha8Rng`] seeded with `seed`
/// instead; the estimators stay valid but converge more slowly.
///
/// Errors if `bounds` is empty or invalid, or `n = 0`.
pub fn saltelli_design(bounds: &[(f64, f64)], n: usize, seed: u64) -> Result<Vec<Vec<f64>>, SamplingError> {
    check_bounds(bounds)?;
    let k = bounds.len();
    if n == 0 {
        return Err(SamplingError::TooFewSamples(
            "a Saltelli design needs n ≥ 1 base rows".into(),
        ));
    }
    let base = match sobol_sequence(n, 2 * k, Some(seed)) {
        Ok(points) => points,
        Err(_) => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..n)
                .map(|_| (0..2 * k).map(|_| rng.random::<f64>()).collect())
                .collect()
        }
    };
    let mut design = Vec::with_capacity(n * (k + 2));
    for row in &base {
        let (a, b) = row.split_at(k);
        design.push(scale(a, bounds));
        design.push(scale(b, bounds));
        for i in 0..k {
            let mut ab = a.to_vec();
            ab[i] = b[i];
            design.push(scale(&ab, bounds));
        }
    }
    Ok(design)
}

/// Sobol' sensitivity indices of one factor, with bootstrap confidence intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolIndex {
    /// First-order index `S_i = V[E(Y | X_i)] / V(Y)`: the share of output variance due to
    /// factor `i` alone.
    pub first: f64,
    /// 95% bootstrap percentile interval for `first`.
    pub first_ci: (f64, f64),
    /// Total index `S_Ti = E[V(Y | X_~i)] / V(Y)`: the share due to factor `i` including all
    /// its interactions.
    pub total: f64,
    /// 95% bootstrap percentile interval for `total`.
    pub total_ci: (f64, f64),
}

/// First-order and total estimates for every factor over the base rows `rows` (which may
/// repeat, for the bootstrap).
fn sobol_estimates(outputs: &[f64], k: usize, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let stride = k + 2;
    let count = rows.len() as f64;
    // V(Y) from the pooled A and B outputs (two-pass, divisor 2N).
    let mut sum = 0.0;
    for &j in rows {
        sum += outputs[j * stride] + outputs[j * stride + 1];
    }
    let m = sum / (2.0 * count);
    let mut ss = 0.0;
    for &j in rows {
        let da = outputs[j * stride] - m;
        let db = outputs[j * stride + 1] - m;
        ss += da * da + db * db;
    }
    let var = ss / (2.0 * count);
    let mut first = vec![0.0; k];
    let mut total = vec![0.0; k];
    for &j in rows {
        let ya = outputs[j * stride];
        let yb = outputs[j * stride + 1];
        for i in 0..k {
            let yab = outputs[j * stride + 2 + i];
            first[i] += yb * (yab - ya);
            total[i] += (ya - yab) * (ya - yab);
        }
    }
    for i in 0..k {
        first[i] /= count * var;
        total[i] /= 2.0 * count * var;
    }
    (first, total)
}

/// Sobol' first-order and total indices from model outputs on a [`saltelli_design`] of `k`
/// factors and `n` base rows (`outputs` in the design's order, `n (k + 2)` values).
///
/// With `f_A`, `f_B` and `f_ABi` the outputs at `A_j`, `B_j` and `AB⁽ⁱ⁾_j`, and `V` the
/// variance of the pooled `f_A` and `f_B` values:
/// * first order by Saltelli et al. (2010, table 2 (b)):
///   `S_i = (1/N) Σ_j f_B(j) (f_ABi(j) − f_A(j)) / V`;
/// * total by Jansen (1999): `S_Ti = (1/2N) Σ_j (f_A(j) − f_ABi(j))² / V`.
///
/// The confidence intervals are 95% bootstrap percentile intervals over `bootstrap`
/// resamples of the `N` base rows (each resample draws `N` rows with replacement and
/// recomputes both estimators, `V` included), from a [`ChaCha8Rng`] seeded with `seed`. With
/// `bootstrap = 0` the intervals are `(NaN, NaN)`. Treating the rows as independent makes the
/// intervals conservative for a quasi-random design. If the outputs are constant (`V = 0`)
/// the indices are undefined and every value is `NaN`. Estimates of small indices can fall
/// slightly below 0 and are not clipped.
///
/// The outputs are first centred on the mean of the `f_A` and `f_B` values, which leaves the
/// estimators unbiased but keeps the first-order estimator's variance from growing with the
/// squared mean of the output.
///
/// Errors if `k = 0`, `n = 0`, `outputs.len() ≠ n (k + 2)`, or an output is not finite.
pub fn sobol_indices(
    outputs: &[f64],
    k: usize,
    n: usize,
    bootstrap: usize,
    seed: u64,
) -> Result<Vec<SobolIndex>, SamplingError> {
    if k == 0 {
        return Err(SamplingError::NoFactors);
    }
    if n == 0 {
        return Err(SamplingError::TooFewSamples(
            "Sobol' indices need n ≥ 1 base rows".into(),
        ));
    }
    let expected = n * (k + 2);
    if outputs.len() != expected {
        return Err(SamplingError::LengthMismatch {
            expected,
            got: outputs.len(),
        });
    }
    if let Some(bad) = outputs.iter().position(|y| !y.is_finite()) {
        return Err(SamplingError::MalformedDesign(format!("output {bad} is not finite")));
    }
    // Centre the outputs on the mean of the A and B values: the estimators are unchanged in
    // expectation, but the first-order estimator's variance grows with the squared mean, so
    // an output far from zero relative to its spread (a share near 0.6 varying by 0.05, say)
    // would give useless intervals at practical N (as SALib does, by standardising).
    let centre = {
        let (mut sum, mut m) = (0.0, 0usize);
        for j in 0..n {
            sum += outputs[j * (k + 2)] + outputs[j * (k + 2) + 1];
            m += 2;
        }
        sum / m as f64
    };
    let centred: Vec<f64> = outputs.iter().map(|y| y - centre).collect();
    let outputs = &centred[..];
    let all: Vec<usize> = (0..n).collect();
    let (first, total) = sobol_estimates(outputs, k, &all);
    let nan = (f64::NAN, f64::NAN);
    let mut first_ci = vec![nan; k];
    let mut total_ci = vec![nan; k];
    if bootstrap > 0 && first.iter().all(|s| s.is_finite()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut boot_first = vec![Vec::with_capacity(bootstrap); k];
        let mut boot_total = vec![Vec::with_capacity(bootstrap); k];
        let mut rows = vec![0usize; n];
        for _ in 0..bootstrap {
            for r in rows.iter_mut() {
                *r = rng.random_range(0..n);
            }
            let (f, t) = sobol_estimates(outputs, k, &rows);
            for i in 0..k {
                boot_first[i].push(f[i]);
                boot_total[i].push(t[i]);
            }
        }
        let interval = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (quantile_sorted(v, 0.025), quantile_sorted(v, 0.975))
        };
        for i in 0..k {
            first_ci[i] = interval(&mut boot_first[i]);
            total_ci[i] = interval(&mut boot_total[i]);
        }
    }
    Ok((0..k)
        .map(|i| SobolIndex {
            first: first[i],
            first_ci: first_ci[i],
            total: total[i],
            total_ci: total_ci[i],
        })
        .collect())
}

/// Splits the variance of an output over a design with replicate runs per point into the
/// part due to the design point and the part due to replicate (seed) noise.
///
/// `outputs_by_point[i]` holds the outputs of the replicates at design point `i`. The
/// estimator is the one-way random-effects ANOVA (method of moments): with `g` points, `n_i`
/// replicates at point `i`, `N = Σ n_i`, point means `ȳ_i` and grand mean `ȳ`,
/// * within-point variance `σ²_w = MSW = Σ_i Σ_j (y_ij − ȳ_i)² / (N − g)`: the seed noise of
///   one run;
/// * between-point variance `σ²_b = max(0, (MSB − MSW) / n₀)` with
///   `MSB = Σ_i n_i (ȳ_i − ȳ)² / (g − 1)` and `n₀ = (N − Σ n_i² / N) / (g − 1)` (`n₀` is the
///   replicate count for a balanced design): the variance of the true point means, with
///   the noise that the replicate means still carry removed;
/// * `noise_share = σ²_w / (σ²_b + σ²_w)`: the fraction of one run's output variance that is
///   seed noise (`NaN` if both are 0).
///
/// Returns `(between_point_variance, within_point_variance, noise_share)`. Errors if there are
/// fewer than two points, a point has no replicates, no point has two or more replicates, or
/// a value is not finite.
pub fn variance_decomposition(outputs_by_point: &[Vec<f64>]) -> Result<(f64, f64, f64), SamplingError> {
    let g = outputs_by_point.len();
    if g < 2 {
        return Err(SamplingError::TooFewSamples(
            "a variance decomposition needs at least two points".into(),
        ));
    }
    if let Some(empty) = outputs_by_point.iter().position(|p| p.is_empty()) {
        return Err(SamplingError::TooFewSamples(format!(
            "design point {empty} has no replicates"
        )));
    }
    if outputs_by_point.iter().flatten().any(|y| !y.is_finite()) {
        return Err(SamplingError::MalformedDesign("an output is not finite".into()));
    }
    let total_n: usize = outputs_by_point.iter().map(Vec::len).sum();
    if total_n <= g {
        return Err(SamplingError::TooFewSamples(
            "a variance decomposition needs a point with at least two replicates".into(),
        ));
    }
    let big_n = total_n as f64;
    let means: Vec<f64> = outputs_by_point.iter().map(|p| mean(p)).collect();
    let grand = mean(&outputs_by_point.iter().flatten().copied().collect::<Vec<f64>>());
    let ssw: f64 = outputs_by_point
        .iter()
        .zip(&means)
        .map(|(p, &m)| p.iter().map(|y| (y - m) * (y - m)).sum::<f64>())
        .sum();
    let ssb: f64 = outputs_by_point
        .iter()
        .zip(&means)
        .map(|(p, &m)| p.len() as f64 * (m - grand) * (m - grand))
        .sum();
    let msw = ssw / (big_n - g as f64);
    let msb = ssb / (g as f64 - 1.0);
    let sum_sq_n: f64 = outputs_by_point.iter().map(|p| (p.len() * p.len()) as f64).sum();
    let n0 = (big_n - sum_sq_n / big_n) / (g as f64 - 1.0);
    let between = ((msb - msw) / n0).max(0.0);
    let within = msw;
    let total = between + within;
    let share = if total > 0.0 { within / total } else { f64::NAN };
    Ok((between, within, share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_factorial_last_factor_fastest() {
        let d = full_factorial(&[vec![1.0, 2.0], vec![10.0, 20.0, 30.0]]);
        assert_eq!(d.len(), 6);
        assert_eq!(d[0], vec![1.0, 10.0]);
        assert_eq!(d[1], vec![1.0, 20.0]);
        assert_eq!(d[2], vec![1.0, 30.0]);
        assert_eq!(d[3], vec![2.0, 10.0]);
        assert_eq!(d[5], vec![2.0, 30.0]);
        assert_eq!(full_factorial(&[]), vec![Vec::<f64>::new()]);
        assert!(full_factorial(&[vec![1.0], vec![]]).is_empty());
    }

    #[test]
    fn latin_hypercube_stratifies_every_factor() {
        let bounds = [(0.0, 1.0), (-5.0, 5.0), (100.0, 200.0)];
        let n = 37;
        let d = latin_hypercube(&bounds, n, 3).unwrap();
        assert_eq!(d.len(), n);
        for (i, &(lo, hi)) in bounds.iter().enumerate() {
            let mut strata: Vec<usize> = d
                .iter()
                .map(|p| {
                    assert!(p[i] >= lo && p[i] < hi);
                    ((p[i] - lo) / (hi - lo) * n as f64).floor() as usize
                })
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
        assert_eq!(d, latin_hypercube(&bounds, n, 3).unwrap());
        assert_ne!(d, latin_hypercube(&bounds, n, 4).unwrap());
        assert!(latin_hypercube(&bounds, 0, 3).is_err());
        assert!(latin_hypercube(&[], 5, 3).is_err());
        assert!(matches!(
            latin_hypercube(&[(1.0, 1.0)], 5, 3),
            Err(SamplingError::InvalidBounds { factor: 0, .. })
        ));
        assert!(latin_hypercube(&[(0.0, f64::INFINITY)], 5, 3).is_err());
        assert!(latin_hypercube(&[(f64::NAN, 1.0)], 5, 3).is_err());
    }

    #[test]
    fn direction_numbers_are_well_formed() {
        assert_eq!(JOE_KUO.len() + 1, SOBOL_MAX_DIMS);
        for &(s, a, m) in JOE_KUO {
            assert_eq!(m.len(), s as usize);
            assert!(a < 1 << (s - 1).max(1) || s == 1);
            for (j, &mj) in m.iter().enumerate() {
                assert!(mj % 2 == 1 && mj < 1 << (j + 1), "m_{j} = {mj}");
            }
        }
    }

    #[test]
    fn sobol_first_points_match_the_classic_sequence() {
        // Natural (binary) order: dimension 1 is van der Corput, dimension 2 has m = (1, 3).
        let p = sobol_sequence(8, 3, None).unwrap();
        let dim1: Vec<f64> = p.iter().map(|x| x[0]).collect();
        let dim2: Vec<f64> = p.iter().map(|x| x[1]).collect();
        assert_eq!(dim1, vec![0.0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875]);
        assert_eq!(dim2, vec![0.0, 0.5, 0.75, 0.25, 0.625, 0.125, 0.375, 0.875]);
    }

    /// Every one-dimensional projection of the first 2^m points has exactly one point in each
    /// interval [j/2^m, (j+1)/2^m), scrambled or not.
    #[test]
    fn sobol_projections_are_stratified() {
        let m = 8;
        let n = 1 << m;
        for scramble in [None, Some(11)] {
            let p = sobol_sequence(n, SOBOL_MAX_DIMS, scramble).unwrap();
            for d in 0..SOBOL_MAX_DIMS {
                let mut cells: Vec<usize> = p.iter().map(|x| (x[d] * n as f64) as usize).collect();
                cells.sort_unstable();
                assert_eq!(
                    cells,
                    (0..n).collect::<Vec<_>>(),
                    "dimension {d}, scramble {scramble:?}"
                );
            }
            // Dimensions 1 and 2 form a (0, m, 2)-net: every 2^-a × 2^-(m-a) box holds one point.
            for a in 0..=m {
                let mut boxes: Vec<usize> = p
                    .iter()
                    .map(|x| {
                        ((x[0] * (1 << a) as f64) as usize) * (1 << (m - a)) + (x[1] * (1 << (m - a)) as f64) as usize
                    })
                    .collect();
                boxes.sort_unstable();
                assert_eq!(boxes, (0..n).collect::<Vec<_>>());
            }
        }
    }

    /// A smooth integrand in many dimensions: quasi-Monte Carlo error far below Monte Carlo's.
    #[test]
    fn sobol_integrates_a_product_function() {
        // ∫ Π_d (1 + (x_d − ½)/ (d+1)) dx = 1 over the unit cube.
        let n = 1 << 12;
        for scramble in [None, Some(5)] {
            let p = sobol_sequence(n, SOBOL_MAX_DIMS, scramble).unwrap();
            let est: f64 = p
                .iter()
                .map(|x| {
                    x.iter()
                        .enumerate()
                        .map(|(d, &u)| 1.0 + (u - 0.5) / (d + 1) as f64)
                        .product::<f64>()
                })
                .sum::<f64>()
                / n as f64;
            // Plain Monte Carlo with 4096 points has a standard error near 0.01 here.
            assert!((est - 1.0).abs() < 2e-3, "estimate {est}");
        }
    }

    #[test]
    fn sobol_sequence_validates() {
        assert!(sobol_sequence(0, 2, None).is_err());
        assert!(sobol_sequence(4, 0, None).is_err());
        assert!(matches!(
            sobol_sequence(4, SOBOL_MAX_DIMS + 1, None),
            Err(SamplingError::TooManyFactors { .. })
        ));
        assert_eq!(
            sobol_sequence(16, 4, Some(1)).unwrap(),
            sobol_sequence(16, 4, Some(1)).unwrap()
        );
        assert_ne!(
            sobol_sequence(16, 4, Some(1)).unwrap(),
            sobol_sequence(16, 4, Some(2)).unwrap()
        );
    }

    fn morris_run(bounds: &[(f64, f64)], r: usize, p: usize, seed: u64, f: impl Fn(&[f64]) -> f64) -> Vec<MorrisIndex> {
        let design = morris_design(bounds, r, p, seed).unwrap();
        assert_eq!(design.len(), r * (bounds.len() + 1));
        let outputs: Vec<f64> = design.iter().map(|x| f(x)).collect();
        morris_indices(bounds, &[], &design, &outputs, r, p).unwrap()
    }

    #[test]
    fn morris_design_moves_one_factor_at_a_time_on_the_grid() {
        let bounds = [(0.0, 1.0), (10.0, 20.0), (-1.0, 1.0), (0.0, 3.0)];
        let (r, p) = (25, 6);
        let d = morris_design(&bounds, r, p, 9).unwrap();
        let delta = morris_delta(p);
        assert!((delta - 0.6).abs() < 1e-15);
        let k = bounds.len();
        let mut level_counts = vec![0usize; p];
        for t in 0..r {
            for s in 0..=k {
                let x = &d[t * (k + 1) + s];
                for (i, &(lo, hi)) in bounds.iter().enumerate() {
                    let level = (x[i] - lo) / (hi - lo) * (p - 1) as f64;
                    assert!((level - level.round()).abs() < 1e-9, "off the grid: {level}");
                    assert!((0.0..=(p - 1) as f64 + 1e-9).contains(&level));
                    if i == 0 {
                        level_counts[level.round() as usize] += 1;
                    }
                }
                if s > 0 {
                    let prev = &d[t * (k + 1) + s - 1];
                    let changed: Vec<usize> = (0..k).filter(|&i| x[i] != prev[i]).collect();
                    assert_eq!(changed.len(), 1);
                    let i = changed[0];
                    let du = (x[i] - prev[i]) / (bounds[i].1 - bounds[i].0);
                    assert!((du.abs() - delta).abs() < 1e-12);
                }
            }
        }
        assert!(level_counts.iter().all(|&c| c > 0), "{level_counts:?}");
        assert_eq!(d, morris_design(&bounds, r, p, 9).unwrap());
        assert!(matches!(
            morris_design(&bounds, r, 5, 9),
            Err(SamplingError::InvalidLevels(5))
        ));
        assert!(morris_design(&bounds, 0, 4, 9).is_err());
    }

    #[test]
    fn morris_ranks_a_linear_model_by_its_slopes() {
        let bounds = [(0.0, 1.0); 3];
        let idx = morris_run(&bounds, 10, 4, 1, |x| 1.0 * x[0] + 5.0 * x[1] + 10.0 * x[2]);
        for (i, slope) in [1.0, 5.0, 10.0].into_iter().enumerate() {
            assert!((idx[i].mu_star - slope).abs() < 1e-9, "{:?}", idx[i]);
            assert!((idx[i].mu - slope).abs() < 1e-9);
            assert!(idx[i].sigma.abs() < 1e-9);
        }
        assert!(idx[2].mu_star > idx[1].mu_star && idx[1].mu_star > idx[0].mu_star);
    }

    #[test]
    fn morris_effects_are_per_full_range() {
        // y = 2 x on [0, 10]: the effect of a full-range change is 20.
        let idx = morris_run(&[(0.0, 10.0), (5.0, 6.0)], 4, 4, 2, |x| 2.0 * x[0]);
        assert!((idx[0].mu_star - 20.0).abs() < 1e-9);
        assert!(idx[1].mu_star.abs() < 1e-12);
    }

    #[test]
    fn morris_sigma_flags_interactions() {
        let bounds = [(0.0, 1.0); 3];
        let idx = morris_run(&bounds, 20, 4, 3, |x| x[0] * x[1] + 2.0 * x[2]);
        assert!(idx[0].sigma > 0.1 && idx[1].sigma > 0.1, "{idx:?}");
        assert!(idx[2].sigma.abs() < 1e-9 && (idx[2].mu_star - 2.0).abs() < 1e-9);
    }

    #[test]
    fn rounded_whole_number_factors_use_the_step_taken() {
        // A whole-number factor on [2, 6] with 4 levels: the grid 2, 3.33, 4.67, 6 runs as
        // 2, 3, 5, 6, so every step is 3 units, not the grid's 2.67.
        let bounds = [(2.0, 6.0), (0.0, 1.0)];
        let mut d = morris_design(&bounds, 6, 4, 9).unwrap();
        for p in &mut d {
            p[0] = p[0].round();
        }
        let y: Vec<f64> = d.iter().map(|x| 0.5 * x[0] + x[1]).collect();
        assert!(matches!(
            morris_indices(&bounds, &[], &d, &y, 6, 4),
            Err(SamplingError::MalformedDesign(_))
        ));
        let idx = morris_indices(&bounds, &[true, false], &d, &y, 6, 4).unwrap();
        // Exact: 0.5 per unit = 2 per full range of 4 units, whatever the rounded step.
        assert!(
            (idx[0].mu - 2.0).abs() < 1e-12 && idx[0].sigma.abs() < 1e-12,
            "{:?}",
            idx[0]
        );
        assert!((idx[1].mu - 1.0).abs() < 1e-12);
    }

    #[test]
    fn morris_indices_validate_the_design() {
        let bounds = [(0.0, 1.0); 2];
        let d = morris_design(&bounds, 3, 4, 1).unwrap();
        let y = vec![0.0; d.len()];
        assert!(matches!(
            morris_indices(&bounds, &[], &d, &y[1..], 3, 4),
            Err(SamplingError::LengthMismatch { .. })
        ));
        assert!(matches!(
            morris_indices(&bounds, &[], &d, &y, 3, 6),
            Err(SamplingError::MalformedDesign(_))
        ));
        let lhs = latin_hypercube(&bounds, 9, 1).unwrap();
        assert!(matches!(
            morris_indices(&bounds, &[], &lhs, &y, 3, 4),
            Err(SamplingError::MalformedDesign(_))
        ));
        // One trajectory: σ is undefined.
        let d1 = morris_design(&bounds, 1, 4, 1).unwrap();
        let idx = morris_indices(&bounds, &[], &d1, &[0.0, 1.0, 2.0], 1, 4).unwrap();
        assert!(idx[0].sigma.is_nan());
    }

    #[test]
    fn saltelli_design_layout() {
        let bounds = [(0.0, 1.0), (10.0, 20.0), (-3.0, 3.0)];
        let (k, n) = (bounds.len(), 16);
        let d = saltelli_design(&bounds, n, 4).unwrap();
        assert_eq!(d.len(), n * (k + 2));
        for j in 0..n {
            let a = &d[j * (k + 2)];
            let b = &d[j * (k + 2) + 1];
            for i in 0..k {
                let ab = &d[j * (k + 2) + 2 + i];
                for c in 0..k {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
            for (c, &(lo, hi)) in bounds.iter().enumerate() {
                assert!(a[c] >= lo && a[c] < hi && b[c] >= lo && b[c] < hi);
            }
        }
        // Past 32 factors the design falls back to random columns, in the same layout.
        let wide = saltelli_design(&[(0.0, 1.0); 33], 8, 1).unwrap();
        assert_eq!(wide.len(), 8 * 35);
        assert!(wide.iter().flatten().all(|&x| (0.0..1.0).contains(&x)));
        assert_eq!(wide, saltelli_design(&[(0.0, 1.0); 33], 8, 1).unwrap());
        assert_eq!(saltelli_design(&[(0.0, 1.0); 32], 8, 1).unwrap().len(), 8 * 34);
        assert!(saltelli_design(&bounds, 0, 1).is_err());
        assert!(saltelli_design(&[(1.0, 0.0)], 4, 1).is_err());
    }

    fn ishigami(x: &[f64]) -> f64 {
        let (a, b) = (7.0, 0.1);
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    }

    #[test]
    fn sobol_indices_of_the_ishigami_function() {
        use std::f64::consts::PI;
        let (a, b) = (7.0_f64, 0.1_f64);
        let pi4 = PI.powi(4);
        let pi8 = PI.powi(8);
        let v1 = 0.5 * (1.0 + b * pi4 / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = 8.0 * b * b * pi8 / 225.0;
        let v = v1 + v2 + v13;
        let first_true = [v1 / v, v2 / v, 0.0];
        let total_true = [(v1 + v13) / v, v2 / v, v13 / v];
        assert!((first_true[0] - 0.3139).abs() < 1e-4 && (total_true[2] - 0.2437).abs() < 1e-4);

        let bounds = [(-PI, PI); 3];
        let n = 1 << 13;
        let design = saltelli_design(&bounds, n, 2024).unwrap();
        let outputs: Vec<f64> = design.iter().map(|x| ishigami(x)).collect();
        let idx = sobol_indices(&outputs, 3, n, 200, 99).unwrap();
        for i in 0..3 {
            let s = idx[i];
            assert!((s.first - first_true[i]).abs() < 0.05, "S{i} = {s:?}");
            assert!((s.total - total_true[i]).abs() < 0.05, "ST{i} = {s:?}");
            assert!(
                s.first_ci.0 <= first_true[i] && first_true[i] <= s.first_ci.1,
                "S{i} CI {s:?}"
            );
            assert!(
                s.total_ci.0 <= total_true[i] && total_true[i] <= s.total_ci.1,
                "ST{i} CI {s:?}"
            );
            assert!(s.first_ci.1 - s.first_ci.0 < 0.1 && s.total_ci.1 - s.total_ci.0 < 0.1);
        }
        assert_eq!(idx, sobol_indices(&outputs, 3, n, 200, 99).unwrap());
    }

    #[test]
    fn sobol_indices_validate_and_handle_constant_output() {
        assert!(matches!(
            sobol_indices(&[0.0; 9], 2, 2, 10, 1),
            Err(SamplingError::LengthMismatch { expected: 8, got: 9 })
        ));
        assert!(sobol_indices(&[0.0; 8], 0, 2, 10, 1).is_err());
        assert!(sobol_indices(&[f64::NAN; 8], 2, 2, 10, 1).is_err());
        let idx = sobol_indices(&[1.0; 8], 2, 2, 10, 1).unwrap();
        assert!(idx[0].first.is_nan() && idx[0].total_ci.0.is_nan());
        let idx = sobol_indices(&[1.0, 2.0, 1.5, 1.0, 3.0, 0.0, 2.0, 1.0], 2, 2, 0, 1).unwrap();
        assert!(idx[1].first.is_finite() && idx[1].first_ci.0.is_nan());
    }

    #[test]
    fn variance_decomposition_exact_small_case() {
        // Means 2 and 6, MSW = 2, MSB = 16, n0 = 2: between = 7, share = 2/9.
        let (between, within, share) = variance_decomposition(&[vec![1.0, 3.0], vec![5.0, 7.0]]).unwrap();
        assert!((between - 7.0).abs() < 1e-12);
        assert!((within - 2.0).abs() < 1e-12);
        assert!((share - 2.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn variance_decomposition_recovers_synthetic_components() {
        use crate::experiment::stats::tests::normal;
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        // 200 points with true means of sd 2 (variance 4), 10 replicates with noise sd 1.
        let data: Vec<Vec<f64>> = (0..200)
            .map(|_| {
                let mu = 5.0 + 2.0 * normal(&mut rng);
                (0..10).map(|_| mu + normal(&mut rng)).collect()
            })
            .collect();
        let (between, within, share) = variance_decomposition(&data).unwrap();
        assert!((within - 1.0).abs() < 0.1, "within {within}");
        assert!((between - 4.0).abs() < 1.0, "between {between}");
        assert!((share - 0.2).abs() < 0.05, "share {share}");
        // Pure noise: the between component is clipped at 0 or near it.
        let noise: Vec<Vec<f64>> = (0..100).map(|_| (0..5).map(|_| normal(&mut rng)).collect()).collect();
        let (b, w, s) = variance_decomposition(&noise).unwrap();
        assert!(b < 0.1 && (w - 1.0).abs() < 0.15 && s > 0.9);
        // Unbalanced designs work; a point with one replicate is fine.
        assert!(variance_decomposition(&[vec![1.0], vec![2.0, 4.0], vec![3.0, 3.5, 2.5]]).is_ok());
    }

    #[test]
    fn variance_decomposition_validates() {
        assert!(variance_decomposition(&[vec![1.0, 2.0]]).is_err());
        assert!(variance_decomposition(&[vec![1.0], vec![2.0]]).is_err());
        assert!(variance_decomposition(&[vec![1.0, 2.0], vec![]]).is_err());
        assert!(variance_decomposition(&[vec![1.0, f64::NAN], vec![2.0, 3.0]]).is_err());
        let (b, w, s) = variance_decomposition(&[vec![1.0, 1.0], vec![1.0, 1.0]]).unwrap();
        assert!(b == 0.0 && w == 0.0 && s.is_nan());
    }

    #[test]
    fn factor_bounds_in_order() {
        let f = [
            Factor {
                name: "a".into(),
                lo: 0.0,
                hi: 1.0,
            },
            Factor {
                name: "b".into(),
                lo: -2.0,
                hi: 2.0,
            },
        ];
        assert_eq!(factor_bounds(&f), vec![(0.0, 1.0), (-2.0, 2.0)]);
    }
}
