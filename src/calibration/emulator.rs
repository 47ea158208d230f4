//! Gaussian-process emulators of the model's summary outputs (history matching's fast
//! stand-in for the model).
//!
//! One emulator per target: a linear mean in the inputs plus a Gaussian process on the
//! residuals (Vernon, Goldstein and Bower 2010, section 3), fitted to one wave's design points.
//! Inputs are the free parameters mapped to the unit cube and then to the bounding box of the
//! wave's design (a later wave's design fills a small part of the cube); the output at a design point is the
//! mean over its replicated seeds, so the noise of each training value is known: the seed
//! variance divided by the replications (`noise_var`). The covariance is squared-exponential
//! with one length per input, `sigma2 * exp(-sum((x_j - x'_j)^2 / (2 l_j^2)))`, plus a
//! diagonal of the known noise and a fitted nugget `tau2` for whatever the smooth surface
//! misses. `sigma2`, `tau2` and the lengths maximise the log marginal likelihood (Rasmussen
//! and Williams 2006, eq. 2.30) by Nelder-Mead (argmin) from a fixed start, in log space and
//! within bounds, so a fit is deterministic. The linear algebra (Cholesky factor, triangular
//! solves, least squares) is nalgebra's.
//!
//! Why not an existing GP crate: `friedrich` (checked, 0.5) fits one homoscedastic noise
//! and no known per-point noise, and its hyper-parameter fit stops on a wall-clock budget,
//! which would make calibrations depend on the machine's load.
//!
//! The regression coefficients are a plug-in (least squares, their uncertainty is not added
//! to the prediction), as in most history-matching applications; the leave-one-out check
//! ([`Emulator::loo`]) shows whether the predicted variances are honest.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;
use nalgebra::{DMatrix, DVector};

/// Why an emulator could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmulatorError {
    /// Too few design points for the inputs.
    #[error("{points} design points are too few to emulate {inputs} parameters (at least {needed} are needed)")]
    TooFewPoints {
        /// Points given.
        points: usize,
        /// Inputs.
        inputs: usize,
        /// Points needed.
        needed: usize,
    },
    /// An output was not a finite number.
    #[error("design point {0} has an output that is not a finite number")]
    NotFinite(usize),
    /// The covariance matrix could not be factorised.
    #[error("the covariance of the design points is singular (design points repeated?)")]
    Singular,
}

/// A fitted emulator of one output.
#[derive(Debug, Clone)]
pub struct Emulator {
    /// Training inputs, rescaled to the design's bounding box.
    x: Vec<Vec<f64>>,
    /// Per input: the box's low end and width (a later wave's design fills a small part of
    /// the unit cube; lengths are fitted relative to it).
    offset: Vec<f64>,
    width: Vec<f64>,
    /// Output centre and scale (outputs are standardised before fitting).
    centre: f64,
    scale: f64,
    /// Linear mean coefficients on standardised outputs: intercept, then one per input.
    beta: Vec<f64>,
    /// Fitted hyper-parameters (standardised output units).
    sigma2: f64,
    tau2: f64,
    lengths: Vec<f64>,
    /// Known noise variance of each training output (standardised units).
    noise: f64,
    /// `K^-1 (y - H beta)`.
    alpha: DVector<f64>,
    /// Lower Cholesky factor of `K`.
    chol: DMatrix<f64>,
    /// Diagonal of `K^-1` (for leave-one-out).
    kinv_diag: Vec<f64>,
    /// Standardised training outputs.
    y: Vec<f64>,
}

/// One leave-one-out check: the emulator refitted without point `i` (with the same
/// hyper-parameters), predicting that point's observed output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LooCheck {
    /// Design point.
    pub point: usize,
    /// The output observed there (mean over replicates).
    pub observed: f64,
    /// Predicted mean without that point.
    pub mean: f64,
    /// Predicted standard deviation of the observed output without that point.
    pub sd: f64,
}

impl LooCheck {
    /// Standardised error `(observed - mean) / sd`: about standard normal for an honest
    /// emulator.
    pub fn z(&self) -> f64 {
        (self.observed - self.mean) / self.sd
    }
}

/// Bounds of the log hyper-parameters: length in the unit cube, variances relative to the
/// standardised output.
const LOG_LENGTH: (f64, f64) = (-3.0, 2.5);
const LOG_SIGMA2: (f64, f64) = (-9.0, 3.0);
const LOG_TAU2: (f64, f64) = (-13.0, 1.0);

fn sq_exp(a: &[f64], b: &[f64], lengths: &[f64]) -> f64 {
    let mut s = 0.0;
    for ((x, y), l) in a.iter().zip(b).zip(lengths) {
        let d = (x - y) / l;
        s += d * d;
    }
    (-0.5 * s).exp()
}

/// The negative log marginal likelihood of the residuals for log hyper-parameters `theta`
/// (`[log sigma2, log tau2, log l_1, ...]`), `None` where the covariance does not factorise.
fn neg_log_likelihood(x: &[Vec<f64>], r: &DVector<f64>, noise: f64, theta: &[f64]) -> Option<f64> {
    let n = x.len();
    let (sigma2, tau2) = (theta[0].exp(), theta[1].exp());
    let lengths: Vec<f64> = theta[2..].iter().map(|t| t.exp()).collect();
    let k = covariance(x, sigma2, tau2 + noise, &lengths);
    let chol = k.cholesky()?;
    let alpha = chol.solve(r);
    let log_det: f64 = chol.l_dirty().diagonal().iter().map(|d| 2.0 * d.ln()).sum();
    Some(0.5 * r.dot(&alpha) + 0.5 * log_det + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln())
}

fn covariance(x: &[Vec<f64>], sigma2: f64, diag: f64, lengths: &[f64]) -> DMatrix<f64> {
    let n = x.len();
    DMatrix::from_fn(n, n, |i, j| {
        let c = sigma2 * sq_exp(&x[i], &x[j], lengths);
        if i == j {
            c + diag + 1e-10
        } else {
            c
        }
    })
}

struct Likelihood<'a> {
    x: &'a [Vec<f64>],
    r: &'a DVector<f64>,
    noise: f64,
}

impl CostFunction for Likelihood<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        // Outside the bounds, or where the matrix does not factorise: a large cost with a
        // slope back toward the box, so the simplex returns.
        let mut outside = 0.0;
        let bound = |t: f64, (lo, hi): (f64, f64)| {
            if t < lo {
                lo - t
            } else if t > hi {
                t - hi
            } else {
                0.0
            }
        };
        outside += bound(theta[0], LOG_SIGMA2) + bound(theta[1], LOG_TAU2);
        for &t in &theta[2..] {
            outside += bound(t, LOG_LENGTH);
        }
        if outside > 0.0 {
            return Ok(1e10 * (1.0 + outside));
        }
        Ok(neg_log_likelihood(self.x, self.r, self.noise, theta).unwrap_or(1e12))
    }
}

impl Emulator {
    /// Fit an emulator to design points `x` (each in the unit cube) with outputs `y` (means
    /// over replicates) whose noise variance is `noise_var` (seed variance / replicates).
    pub fn fit(x: &[Vec<f64>], y: &[f64], noise_var: f64) -> Result<Emulator, EmulatorError> {
        let n = x.len();
        let d = x.first().map_or(0, Vec::len);
        let needed = d + 3;
        if n < needed {
            return Err(EmulatorError::TooFewPoints {
                points: n,
                inputs: d,
                needed,
            });
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(EmulatorError::NotFinite(i));
        }
        let mut offset = vec![f64::INFINITY; d];
        let mut width = vec![f64::NEG_INFINITY; d];
        for p in x {
            for j in 0..d {
                offset[j] = offset[j].min(p[j]);
                width[j] = width[j].max(p[j]);
            }
        }
        for j in 0..d {
            // The box's width; a parameter the design holds (nearly) fixed keeps a small one.
            width[j] = (width[j] - offset[j]).max(1e-6);
        }
        let scaled: Vec<Vec<f64>> = x
            .iter()
            .map(|p| (0..d).map(|j| (p[j] - offset[j]) / width[j]).collect())
            .collect();
        let x = &scaled[..];
        let centre = y.iter().sum::<f64>() / n as f64;
        let var = y.iter().map(|v| (v - centre).powi(2)).sum::<f64>() / (n - 1) as f64;
        // A constant output: any positive scale will do.
        let scale = if var > 0.0 { var.sqrt() } else { 1.0 };
        let ys: Vec<f64> = y.iter().map(|v| (v - centre) / scale).collect();
        let noise = noise_var.max(0.0) / (scale * scale);

        // Linear mean by least squares.
        let h = DMatrix::from_fn(n, d + 1, |i, j| if j == 0 { 1.0 } else { x[i][j - 1] });
        let yv = DVector::from_vec(ys.clone());
        let beta = h
            .clone()
            .svd(true, true)
            .solve(&yv, 1e-12)
            .map(|b| b.iter().copied().collect::<Vec<f64>>())
            .unwrap_or_else(|_| vec![0.0; d + 1]);
        let r = &yv - &h * DVector::from_vec(beta.clone());

        // Hyper-parameters: Nelder-Mead from a fixed simplex around a neutral start.
        let resid_var = (r.dot(&r) / n as f64).max(1e-6);
        let mut start = vec![
            resid_var.ln().clamp(LOG_SIGMA2.0, LOG_SIGMA2.1),
            (-6.0f64).max(LOG_TAU2.0),
        ];
        start.extend(std::iter::repeat_n((0.4f64).ln(), d));
        let mut simplex = vec![start.clone()];
        for k in 0..start.len() {
            let mut p = start.clone();
            p[k] += if k < 2 { 1.5 } else { 0.8 };
            simplex.push(p);
        }
        let problem = Likelihood { x, r: &r, noise };
        let theta = NelderMead::new(simplex)
            .with_sd_tolerance(1e-7)
            .ok()
            .and_then(|solver| {
                Executor::new(problem, solver)
                    .configure(|s| s.max_iters(300 * (d as u64 + 2)))
                    .run()
                    .ok()
                    .and_then(|res| res.state().get_best_param().cloned())
            })
            .unwrap_or(start);

        let (sigma2, tau2) = (theta[0].exp(), theta[1].exp());
        let lengths: Vec<f64> = theta[2..].iter().map(|t| t.exp()).collect();
        let k = covariance(x, sigma2, tau2 + noise, &lengths);
        let chol = k.cholesky().ok_or(EmulatorError::Singular)?;
        let alpha = chol.solve(&r);
        let kinv = chol.inverse();
        let kinv_diag = (0..n).map(|i| kinv[(i, i)]).collect();
        Ok(Emulator {
            x: x.to_vec(),
            offset,
            width,
            centre,
            scale,
            beta,
            sigma2,
            tau2,
            lengths,
            noise,
            alpha,
            chol: chol.l(),
            kinv_diag,
            y: ys,
        })
    }

    fn mean_fn(&self, x: &[f64]) -> f64 {
        self.beta[0] + self.beta[1..].iter().zip(x).map(|(b, v)| b * v).sum::<f64>()
    }

    /// Predicted expected output at `x` (unit cube) and the variance of that prediction (the
    /// emulator's uncertainty about the model's mean output; seed noise excluded).
    pub fn predict(&self, x: &[f64]) -> (f64, f64) {
        let x: Vec<f64> = x
            .iter()
            .zip(self.offset.iter().zip(&self.width))
            .map(|(v, (o, w))| (v - o) / w)
            .collect();
        let x = &x[..];
        let kstar = DVector::from_iterator(
            self.x.len(),
            self.x.iter().map(|xi| self.sigma2 * sq_exp(xi, x, &self.lengths)),
        );
        let mean = self.mean_fn(x) + kstar.dot(&self.alpha);
        let v = self
            .chol
            .solve_lower_triangular(&kstar)
            .map(|v| v.dot(&v))
            .unwrap_or(self.sigma2);
        let var = (self.sigma2 - v).max(0.0);
        (self.centre + self.scale * mean, var * self.scale * self.scale)
    }

    /// Leave-one-out checks at every design point (Rasmussen and Williams 2006, eq. 5.12),
    /// with the fitted hyper-parameters held fixed. The standard deviation includes the
    /// point's own noise, since the observed output does.
    pub fn loo(&self) -> Vec<LooCheck> {
        (0..self.x.len())
            .map(|i| {
                let kii = self.kinv_diag[i];
                let mean = self.y[i] - self.alpha[i] / kii;
                LooCheck {
                    point: i,
                    observed: self.centre + self.scale * self.y[i],
                    mean: self.centre + self.scale * mean,
                    sd: self.scale * (1.0 / kii).sqrt(),
                }
            })
            .collect()
    }

    /// The fitted hyper-parameters in output units: `(sigma2, tau2, noise, lengths)`; the
    /// lengths are relative to the design's bounding box in the unit cube.
    pub fn hyper(&self) -> (f64, f64, f64, &[f64]) {
        let s2 = self.scale * self.scale;
        (self.sigma2 * s2, self.tau2 * s2, self.noise * s2, &self.lengths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, seed: u64) -> Vec<Vec<f64>> {
        crate::experiment::sampling::latin_hypercube(&[(0.0, 1.0), (0.0, 1.0)], n, seed).unwrap()
    }

    fn f(x: &[f64]) -> f64 {
        (3.0 * x[0]).sin() + 0.5 * x[1] * x[1]
    }

    #[test]
    fn a_smooth_function_is_emulated_within_its_stated_uncertainty() {
        let x = grid(40, 3);
        let y: Vec<f64> = x.iter().map(|p| f(p)).collect();
        let em = Emulator::fit(&x, &y, 0.0).unwrap();
        let test = grid(200, 99);
        let mut inside = 0;
        let mut worst: f64 = 0.0;
        for p in &test {
            let (m, v) = em.predict(p);
            let err = (m - f(p)).abs();
            worst = worst.max(err);
            if err <= 3.0 * v.sqrt() + 1e-9 {
                inside += 1;
            }
        }
        assert!(worst < 0.05, "largest error {worst}");
        assert!(inside >= 190, "{inside} of 200 within 3 sd");
    }

    #[test]
    fn noisy_outputs_give_honest_leave_one_out_errors() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let x = grid(60, 5);
        let sd = 0.05;
        let y: Vec<f64> = x
            .iter()
            .map(|p| f(p) + sd * (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5) * 2.0)
            .collect();
        let em = Emulator::fit(&x, &y, sd * sd).unwrap();
        let z: Vec<f64> = em.loo().iter().map(LooCheck::z).collect();
        let within2 = z.iter().filter(|z| z.abs() < 2.0).count();
        assert!(within2 >= 52, "only {within2} of 60 standardised errors within 2");
        let mean_sq = z.iter().map(|z| z * z).sum::<f64>() / z.len() as f64;
        assert!(
            (0.3..2.5).contains(&mean_sq),
            "mean squared standardised error {mean_sq}"
        );
        // Far from the data the emulator says it does not know.
        let (_, v_near) = em.predict(&x[0]);
        let (_, v_far) = em.predict(&[3.0, 3.0]);
        assert!(v_far > 10.0 * v_near);
    }

    #[test]
    fn too_few_points_and_bad_outputs_are_refused() {
        let x = grid(4, 1);
        assert!(matches!(
            Emulator::fit(&x, &[1.0; 4], 0.0),
            Err(EmulatorError::TooFewPoints { .. })
        ));
        let x = grid(10, 1);
        let mut y = vec![1.0; 10];
        y[3] = f64::NAN;
        assert_eq!(Emulator::fit(&x, &y, 0.0).unwrap_err(), EmulatorError::NotFinite(3));
    }

    #[test]
    fn a_fit_is_deterministic() {
        let x = grid(30, 2);
        let y: Vec<f64> = x.iter().map(|p| f(p)).collect();
        let a = Emulator::fit(&x, &y, 1e-4).unwrap();
        let b = Emulator::fit(&x, &y, 1e-4).unwrap();
        assert_eq!(a.predict(&[0.3, 0.7]), b.predict(&[0.3, 0.7]));
    }
}
