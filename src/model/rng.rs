//! Random streams and the procedural social network.
//!
//! Every random draw comes from a ChaCha8 stream derived from `(seed, village, step, phase)`:
//! the stream id is the village, the word position encodes step and phase. No generator is
//! shared between villages, cloned, or drawn from a thread-local, so results do not depend on
//! which thread ran which village, nor on how many threads there are.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random stream of one unit of work.
pub type Stream = ChaCha8Rng;

/// Phases that draw random numbers (the process order of `docs/ODD.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Initialisation of a village.
    Init = 0,
    /// 1. Demography.
    Demography = 1,
    /// 3. Value dynamics.
    Values = 3,
    /// 4. Migration and return.
    Migration = 4,
    /// 5. Disputes and order.
    Disputes = 5,
    /// 6. Public goods and services.
    Services = 6,
    /// 7. Culture.
    Culture = 7,
    /// 8. Elections.
    Elections = 8,
    /// 9. Allocation and capture.
    Allocation = 9,
    /// 11. Party organisation.
    Party = 11,
    /// Region-level draws (village sizes).
    Region = 15,
}

/// The stream for `(seed, village, step, phase)`.
///
/// ```
/// use ruralgov::model::rng::{stream, Phase};
/// use rand::Rng;
/// let a: u64 = stream(7, 3, 10, Phase::Values).random();
/// let b: u64 = stream(7, 3, 10, Phase::Values).random();
/// let c: u64 = stream(7, 4, 10, Phase::Values).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn stream(seed: u64, village: u32, step: u32, phase: Phase) -> Stream {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(village as u64);
    r.set_word_pos(((step as u128) << 48) | ((phase as u128) << 40));
    r
}

/// SplitMix64 finaliser: a fast, well-mixed hash of a 64-bit value.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of `text` from the starting value `init`, as 16 hex digits (fingerprints).
pub fn hash_text(text: &str, init: u64) -> String {
    let mut h = init;
    for chunk in text.as_bytes().chunks(8) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(b));
    }
    format!("{h:016x}")
}

/// The procedural small-world network of one village.
///
/// Tie `k` of slot `i` is, before rewiring, the ring-lattice neighbour at offset
/// `±(k/2 + 1)`; with probability `rewire` it is instead a slot drawn uniformly from the
/// village. Which ties are rewired, and where to, is a hash of `(seed, village, i, k)`, so the
/// network costs no memory. Slots start sorted by clan, so lattice ties are mostly clan ties
/// (clan-clustered small world, Watts and Strogatz 1998).
#[derive(Debug, Clone, Copy)]
pub struct Network {
    key: u64,
    cap: u32,
    ties: u32,
    rewire_below: u64,
}

impl Network {
    /// The network of village `village` with `cap` slots.
    pub fn new(seed: u64, village: u32, cap: usize, ties: u32, rewire: f64) -> Self {
        let rewire_below = if rewire >= 1.0 {
            u64::MAX
        } else {
            (rewire * u64::MAX as f64) as u64
        };
        Network {
            key: mix(seed ^ mix(village as u64 ^ 0x5EED)),
            cap: cap as u32,
            ties,
            rewire_below,
        }
    }

    /// Ties per slot.
    pub fn ties(&self) -> u32 {
        self.ties
    }

    /// The `k`-th tie of slot `i`.
    #[inline]
    pub fn tie(&self, i: usize, k: u32) -> usize {
        let cap = self.cap.max(1) as u64;
        let h = mix(self.key ^ ((i as u64) << 8) ^ k as u64);
        if h < self.rewire_below {
            return (mix(h) % cap) as usize;
        }
        let off = (k / 2 + 1) as u64 % cap;
        let i = i as u64;
        (if k % 2 == 0 {
            (i + off) % cap
        } else {
            (i + cap - off) % cap
        }) as usize
    }

    /// A uniformly chosen tie of slot `i`.
    #[inline]
    pub fn random_tie(&self, i: usize, rng: &mut Stream) -> usize {
        if self.ties == 0 {
            return rng.random_range(0..self.cap.max(1) as usize);
        }
        self.tie(i, rng.random_range(0..self.ties))
    }
}

/// Monthly probability from an annual hazard rate.
#[inline]
pub fn monthly(annual_rate: f64) -> f64 {
    1.0 - (-annual_rate.max(0.0) / 12.0).exp()
}

/// Bernoulli draw.
#[inline]
pub fn chance(rng: &mut Stream, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

/// Standard normal draw (Box-Muller).
pub fn normal(rng: &mut Stream) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Standard Gumbel draw (for random-utility choice).
pub fn gumbel(rng: &mut Stream) -> f64 {
    let u: f64 = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
    -(-u.ln()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_is_deterministic_and_mostly_local() {
        let n = Network::new(1, 2, 1000, 6, 0.1);
        let mut local = 0;
        for i in 0..1000 {
            for k in 0..6 {
                let j = n.tie(i, k);
                assert!(j < 1000);
                assert_eq!(j, n.tie(i, k));
                let d = (j as i64 - i as i64)
                    .rem_euclid(1000)
                    .min((i as i64 - j as i64).rem_euclid(1000));
                if d <= 3 {
                    local += 1;
                }
            }
        }
        let share = local as f64 / 6000.0;
        assert!((0.85..0.95).contains(&share), "local share {share}");
    }

    #[test]
    fn monthly_probability_matches_annual_rate() {
        let p = monthly(0.12);
        let annual = 1.0 - (1.0 - p).powi(12);
        assert!((annual - (1.0 - (-0.12f64).exp())).abs() < 1e-12);
    }
}
