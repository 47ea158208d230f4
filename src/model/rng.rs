//! Random streams, keyed draws and the procedural social network.
//!
//! Every random number depends only on `(seed, village, step, phase)` and, for per-villager
//! draws, the slot (`docs/ODD.md`, section 4.9):
//!
//! - [`stream`]: a xoshiro256++ generator (Blackman and Vigna 2021; passes BigCrush and
//!   PractRand, period 2^256 - 1) whose state is four SplitMix64 outputs of a hash of the key,
//!   for sequential draws;
//! - [`Keyed`]: counter-based draws, the draw of slot `i` a hash of the key and `i`, for the
//!   frequent per-villager decisions: no sequential state, and a villager's draw is the same in
//!   two runs that share a seed wherever they differ elsewhere (common random numbers);
//! - [`Events`]: rare events by skip-ahead, the gap to the next event drawn from its geometric
//!   law instead of a coin per villager.
//!
//! No generator is shared between villages, cloned, or drawn from a thread-local, so results
//! do not depend on which thread ran which village, nor on how many threads there are.

use rand::RngCore;

/// The random stream of one unit of work: xoshiro256++ seeded from its key.
#[derive(Debug, Clone)]
pub struct Stream {
    s: [u64; 4],
}

impl Stream {
    /// A stream from a 64-bit key (the state is four SplitMix64 outputs of the key).
    pub fn from_key(key: u64) -> Stream {
        let mut s = [0u64; 4];
        let mut z = key;
        for w in &mut s {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *w = mix(z);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Stream { s }
    }

    /// Next 64 random bits.
    #[inline(always)]
    pub fn u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; bias below 2^-32 for `n < 2^32`).
    #[inline(always)]
    pub fn below(&mut self, n: usize) -> usize {
        ((self.u64() as u128 * n as u128) >> 64) as usize
    }

    /// Bernoulli draw against a 64-bit threshold from [`threshold`].
    #[inline(always)]
    pub fn hit(&mut self, threshold: u64) -> bool {
        self.u64() < threshold
    }

    /// Number of failures before the next success of Bernoulli trials whose failure
    /// probability has logarithm `ln_q` (< 0): `floor(E / -ln_q)` with `E` a standard
    /// exponential draw (ziggurat method, Marsaglia and Tsang 2000, as in `rand_distr`),
    /// which is exactly geometric. Saturates at `u64::MAX` when `ln_q` is 0 (no success
    /// ever).
    #[inline]
    pub fn gap(&mut self, ln_q: f64) -> u64 {
        if ln_q >= 0.0 || ln_q.is_nan() {
            return u64::MAX;
        }
        let e: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, self);
        (e / -ln_q) as u64
    }
}

impl RngCore for Stream {
    #[inline(always)]
    fn next_u32(&mut self) -> u32 {
        (self.u64() >> 32) as u32
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        self.u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let b = self.u64().to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
    }
}

/// The 64-bit threshold `t` with `P(u64 < t) = p` (to 2^-64), for [`Stream::hit`].
#[inline]
pub fn threshold(p: f64) -> u64 {
    if p <= 0.0 || p.is_nan() {
        0
    } else if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

/// Indices `0..n` at which independent Bernoulli(p) events happen, drawn by skip-ahead:
/// the gap to the next event is geometric, so the cost is one draw per event, not one per
/// index. For `p` above [`Events::DENSE`] one draw per index is cheaper, and is used.
///
/// ```
/// use ruralgov::model::rng::{stream, Events, Phase};
/// let mut rng = stream(1, 0, 1, Phase::Values);
/// let mut ev = Events::new(0.1, 1000);
/// let mut count = 0;
/// while let Some(i) = ev.next(&mut rng) {
///     assert!(i < 1000);
///     count += 1;
/// }
/// assert!((50..150).contains(&count));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Events {
    next: usize,
    n: usize,
    ln_q: f64,
    thresh: u64,
    dense: bool,
    started: bool,
}

impl Events {
    /// Above this probability, draw one number per index instead of skipping.
    pub const DENSE: f64 = 0.25;

    /// Events of probability `p` at each of the indices `0..n`.
    pub fn new(p: f64, n: usize) -> Events {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        Events {
            next: 0,
            n: if p > 0.0 { n } else { 0 },
            ln_q: (-p).ln_1p(),
            thresh: threshold(p),
            dense: p > Self::DENSE,
            started: false,
        }
    }

    /// The next index with an event, or `None` when past the end.
    #[inline]
    pub fn next(&mut self, rng: &mut Stream) -> Option<usize> {
        if self.dense {
            while self.next < self.n {
                let i = self.next;
                self.next += 1;
                if rng.hit(self.thresh) {
                    return Some(i);
                }
            }
            return None;
        }
        if self.next >= self.n {
            return None;
        }
        let step = rng.gap(self.ln_q);
        let at = if self.started {
            (self.next as u64).saturating_add(1).saturating_add(step)
        } else {
            self.started = true;
            (self.next as u64).saturating_add(step)
        };
        if at >= self.n as u64 {
            self.next = self.n;
            return None;
        }
        self.next = at as usize;
        Some(self.next)
    }
}

/// Phases that draw random numbers (the process order of `docs/ODD.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Initialisation of a village.
    Init = 0,
    /// 1. Demography.
    Demography = 1,
    /// 2. Market exposure.
    Market = 2,
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
    /// 10. Trust.
    Trust = 10,
    /// 11. Party organisation.
    Party = 11,
    /// 12. Observation.
    Observation = 12,
    /// Personal traits fixed for life (confidence bounds): keyed by the villager's birth month.
    Trait = 13,
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
    Stream::from_key(unit_key(0x243F_6A88_85A3_08D3, seed, village, step, phase))
}

/// A 64-bit hash of `(seed, village, step, phase)`; `salt` tells the kinds of generator apart.
fn unit_key(salt: u64, seed: u64, village: u32, step: u32, phase: Phase) -> u64 {
    let k = mix(seed ^ salt);
    let k = mix(k ^ village as u64);
    mix(k ^ ((step as u64) << 8 | phase as u64))
}

/// Counter-based draws of one unit of work: the draw of slot `i` is a hash of the unit's key
/// and `i` (see [`Keyed::u64`]). A villager's draw thus
/// depends only on `(seed, village, step, phase, slot)`, not on how many draws came before:
/// draws are independent across slots (no sequential state), cheap, and stay matched between
/// two runs that share a seed (common random numbers) even where the runs differ elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct Keyed {
    key: u64,
}

impl Keyed {
    /// The draws of `(seed, village, step, phase)` (independent of that phase's [`Stream`]).
    pub fn new(seed: u64, village: u32, step: u32, phase: Phase) -> Keyed {
        Keyed {
            key: unit_key(0x1319_8A2E_0370_7344, seed, village, step, phase),
        }
    }

    /// The 64 random bits of slot `i`: [`mum`] of `key XOR i x P0`.
    #[inline(always)]
    pub fn u64(&self, i: usize) -> u64 {
        mum(self.key ^ (i as u64).wrapping_mul(0xA076_1D64_78BD_642F))
    }
}

/// Counter-based 32-bit draws of one unit of work, like [`Keyed`] but from a 32-bit hash
/// ([`fmix32`]), so that a pass over every slot vectorises: the draw of slot `i` is
/// `fmix32(key XOR i x P)`, and [`Keyed32::second`] gives a second, independent draw of the
/// same slot from the first.
#[derive(Debug, Clone, Copy)]
pub struct Keyed32 {
    key: u32,
}

impl Keyed32 {
    /// The 32-bit draws of `(seed, village, step, phase)`.
    pub fn new(seed: u64, village: u32, step: u32, phase: Phase) -> Keyed32 {
        Keyed32 {
            key: (unit_key(0xA409_3822_299F_31D0, seed, village, step, phase) >> 32) as u32,
        }
    }

    /// The 32 random bits of slot `i`.
    #[inline(always)]
    pub fn u32(&self, i: usize) -> u32 {
        fmix32(self.key ^ (i as u32).wrapping_mul(0x9E37_79B1))
    }

    /// A second draw of a slot from its first, `first` = [`Keyed32::u32`] of the slot
    /// (independent of it), as a uniform in [0, 1) with 24 bits.
    #[inline(always)]
    pub fn second(first: u32) -> f32 {
        (fmix32(first ^ 0x68E3_1DA4) >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// Personal traits fixed for life, without storage: a villager's traits are a hash of the
/// seed, the village, the slot and the month of the villager's birth (`stamp - age`, with
/// `stamp` the step counter, which advances with age), so they stay the same from month to
/// month and a new occupant of the slot gets new ones. (A repack moves villagers to new slots
/// and so redraws their traits; repacks are rare and deterministic.) The hash is 32-bit
/// (MurmurHash3's finaliser, Appleby 2008) so that a pass over all slots vectorises.
#[derive(Debug, Clone, Copy)]
pub struct Traits {
    key: u32,
    stamp: u32,
}

impl Traits {
    /// The traits of village `village` at step counter `stamp`.
    pub fn new(seed: u64, village: u32, stamp: u32) -> Traits {
        Traits {
            key: (unit_key(0x082E_FA98_EC4E_6C89, seed, village, 0, Phase::Trait) >> 32) as u32,
            stamp,
        }
    }

    #[inline(always)]
    fn hash(&self, i: usize, age: u16) -> u32 {
        let birth = self.stamp.wrapping_sub(age as u32);
        fmix32(self.key ^ (i as u32).wrapping_mul(0x9E37_79B1) ^ birth.wrapping_mul(0x85EB_CA77))
    }

    /// The first trait of slot `i` aged `age` months (the confidence bound's) as one of 256
    /// equally likely levels (the top byte of its hash): index a table of quantiles with it
    /// ([`normal_quantiles`]).
    #[inline(always)]
    pub fn level(&self, i: usize, age: u16) -> u8 {
        (self.hash(i, age) >> 24) as u8
    }

    /// The second trait of slot `i` aged `age` months (the disposition to trust),
    /// independent of the first, as a standard score: the Irwin-Hall sum of the four bytes of
    /// a second hash, `z = (b1 + b2 + b3 + b4 - 510) / 255 x sqrt(3)` (mean 0, variance
    /// 1.0039, within ±3.46; close to normal, and integer arithmetic, so a pass over every
    /// slot vectorises).
    #[inline(always)]
    pub fn disposition(&self, i: usize, age: u16) -> f32 {
        let h = fmix32(self.hash(i, age) ^ 0x5851_F42D);
        let sum = (h & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 16) & 0xFF) + (h >> 24);
        (sum as f32 - 510.0) * (1.732_050_8 / 255.0)
    }
}

/// MurmurHash3's 32-bit finaliser (Appleby 2008): an invertible, well-mixed hash of `h`.
#[inline(always)]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// The standard normal quantiles at the midpoints of 256 equal-probability levels, so that a
/// trait level (0-255, uniform) maps to a standard normal value.
pub fn normal_quantiles() -> [f64; 256] {
    let mut q = [0.0; 256];
    for (k, x) in q.iter_mut().enumerate() {
        *x = crate::numeric::normal_quantile((k as f64 + 0.5) / 256.0);
    }
    q
}

/// The wyrand output function (Wang Yi): the 128-bit product of `s` and `s XOR P`, folded to
/// 64 bits. One multiplication; used for the keyed draws and the network's hashes.
#[inline(always)]
pub fn mum(s: u64) -> u64 {
    let r = (s as u128).wrapping_mul((s ^ 0xE703_7ED1_A0B4_28DB) as u128);
    (r >> 64) as u64 ^ r as u64
}

/// SplitMix64 finaliser: a fast, well-mixed hash of a 64-bit value.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of `text` from the starting value `init`, as 16 hex digits (fingerprints
/// and checksums of result files).
pub fn hash_text(text: &str, init: u64) -> String {
    hash_bytes(text.as_bytes(), init)
}

/// A 64-bit hash of `bytes` (their length included) from `init`, as 16 hex digits. Not
/// cryptographic: it detects damage and edits, not an adversary.
pub fn hash_bytes(bytes: &[u8], init: u64) -> String {
    let mut h = init;
    for chunk in bytes.chunks(8) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(b));
    }
    h = mix(h ^ bytes.len() as u64);
    format!("{h:016x}")
}

/// The procedural small-world network of one village.
///
/// Tie `k` of slot `i` is, before rewiring, the ring-lattice neighbour at offset
/// `±(k/2 + 1)`; with probability `rewire` it is instead a slot drawn uniformly from the
/// village. Which ties are rewired, and where to, is a hash of `(seed, village, i, k)`, so the
/// network costs no memory (the hash is [`mum`] of the key and `(i, k)`). Slots start sorted by clan, so lattice ties are mostly clan ties
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
        let h = mum(self.key ^ (((i as u64) << 8) ^ k as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        if h < self.rewire_below {
            return ((mum(h) as u128 * cap as u128) >> 64) as usize;
        }
        let mut off = (k / 2 + 1) as u64;
        if off >= cap {
            off %= cap;
        }
        let i = i as u64;
        let j = if k.is_multiple_of(2) { i + off } else { i + cap - off };
        (if j >= cap { j - cap } else { j }) as usize
    }

    /// A uniformly chosen tie of slot `i`.
    #[inline]
    pub fn random_tie(&self, i: usize, rng: &mut Stream) -> usize {
        if self.ties == 0 {
            return rng.below(self.cap.max(1) as usize);
        }
        self.tie(i, rng.below(self.ties as usize) as u32)
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
    p > 0.0 && rng.f64() < p
}

/// Standard normal draw (Box-Muller).
pub fn normal(rng: &mut Stream) -> f64 {
    let u1: f64 = rng.f64().max(1e-300);
    let u2: f64 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Standard Gumbel draw (for random-utility choice).
pub fn gumbel(rng: &mut Stream) -> f64 {
    let u: f64 = rng.f64().clamp(1e-12, 1.0 - 1e-12);
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
    fn xoshiro_matches_the_reference_outputs() {
        // xoshiro256++ from the state (1, 2, 3, 4), reference values of the C implementation.
        let mut r = Stream { s: [1, 2, 3, 4] };
        assert_eq!([r.u64(), r.u64(), r.u64()], [41943041, 58720359, 3588806011781223]);
    }

    #[test]
    fn streams_differ_by_every_part_of_the_key() {
        let first = |seed, v, s, p| stream(seed, v, s, p).u64();
        let base = first(1, 2, 3, Phase::Values);
        assert_eq!(base, first(1, 2, 3, Phase::Values));
        for other in [
            first(2, 2, 3, Phase::Values),
            first(1, 3, 3, Phase::Values),
            first(1, 2, 4, Phase::Values),
            first(1, 2, 3, Phase::Migration),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn uniforms_and_bounded_draws_are_uniform() {
        let mut r = stream(9, 1, 1, Phase::Init);
        let n = 200_000;
        let mut bins = [0u32; 10];
        let mut sum = 0.0;
        for _ in 0..n {
            let u = r.f64();
            assert!((0.0..1.0).contains(&u));
            sum += u;
            bins[r.below(10)] += 1;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
        for b in bins {
            // Expected 20,000 each, sd about 134.
            assert!((b as i64 - 20_000).abs() < 700, "{bins:?}");
        }
        assert!((0..1000).all(|_| r.below(1) == 0));
    }

    #[test]
    fn keyed_draws_are_uniform_and_independent_of_order() {
        let k = Keyed::new(3, 1, 7, Phase::Migration);
        assert_eq!(k.u64(5), Keyed::new(3, 1, 7, Phase::Migration).u64(5));
        assert_ne!(k.u64(5), Keyed::new(3, 2, 7, Phase::Migration).u64(5));
        assert_ne!(k.u64(5), Keyed::new(3, 1, 8, Phase::Migration).u64(5));
        assert_ne!(k.u64(5), Keyed::new(4, 1, 7, Phase::Migration).u64(5));
        assert_ne!(k.u64(5), Keyed::new(3, 1, 7, Phase::Values).u64(5));
        assert_ne!(k.u64(5), stream(3, 1, 7, Phase::Migration).u64());
        // Uniform bits: every bit is set about half the time, and deciles are even.
        let n = 200_000;
        let mut ones = [0u32; 64];
        let mut bins = [0u32; 10];
        for i in 0..n {
            let x = k.u64(i);
            for (b, o) in ones.iter_mut().enumerate() {
                *o += (x >> b) as u32 & 1;
            }
            bins[((x >> 11) as f64 / (1u64 << 53) as f64 * 10.0) as usize] += 1;
        }
        for o in ones {
            assert!((o as i64 - 100_000).abs() < 1_000, "{ones:?}");
        }
        for b in bins {
            assert!((b as i64 - 20_000).abs() < 700, "{bins:?}");
        }
        // Neighbouring slots, and the same slot under neighbouring keys (the next step, the
        // next village), are uncorrelated.
        let u = |k: &Keyed, i: usize| (k.u64(i) >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let corr = |f: &dyn Fn(usize) -> f64| (0..n).map(f).sum::<f64>() / n as f64 / (1.0 / 12.0);
        let c = corr(&|i| u(&k, i) * u(&k, i + 1));
        assert!(c.abs() < 0.01, "lag-1 correlation {c}");
        let next_step = Keyed::new(3, 1, 8, Phase::Migration);
        let next_village = Keyed::new(3, 2, 7, Phase::Migration);
        for other in [next_step, next_village] {
            let c = corr(&|i| u(&k, i) * u(&other, i));
            assert!(c.abs() < 0.01, "correlation across keys {c}");
        }
    }

    #[test]
    fn thresholds_give_the_probability() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(-1.0), 0);
        assert_eq!(threshold(f64::NAN), 0);
        assert_eq!(threshold(1.0), u64::MAX);
        let mut r = stream(5, 0, 0, Phase::Init);
        let t = threshold(0.3);
        let hits = (0..100_000).filter(|_| r.hit(t)).count();
        assert!((hits as i64 - 30_000).abs() < 700, "{hits}");
    }

    /// Events by skip-ahead and by one draw per index have the Bernoulli law: the count is
    /// binomial, every index is equally likely, and gaps are geometric.
    #[test]
    fn events_are_independent_bernoulli_trials() {
        for p in [0.001, 0.02, 0.2, 0.5, 0.9] {
            let n = 1000;
            let reps = 400;
            let mut per_index = vec![0u32; n];
            let mut total = 0u64;
            let mut r = stream(11, 0, 0, Phase::Values);
            for _ in 0..reps {
                let mut ev = Events::new(p, n);
                let mut last = None;
                while let Some(i) = ev.next(&mut r) {
                    assert!(i < n);
                    assert!(last.is_none_or(|l| i > l), "strictly increasing");
                    last = Some(i);
                    per_index[i] += 1;
                    total += 1;
                }
            }
            let expected = p * (n * reps) as f64;
            let sd = (expected * (1.0 - p)).sqrt();
            assert!(
                (total as f64 - expected).abs() < 4.0 * sd,
                "p {p}: {total} events, expected {expected}"
            );
            // The first and second halves of the index range get the same share.
            let first: u32 = per_index[..n / 2].iter().sum();
            let second: u32 = per_index[n / 2..].iter().sum();
            let half = total as f64 / 2.0;
            assert!(
                (first as f64 - half).abs() < 4.0 * (half / 2.0).sqrt() + 1.0,
                "p {p}: {first} vs {second}"
            );
            // Index 0 is not special (the first gap is drawn like the others).
            let at0 = per_index[0] as f64 / reps as f64;
            assert!(
                (at0 - p).abs() < 4.0 * (p * (1.0 - p) / reps as f64).sqrt() + 0.01,
                "p {p}: {at0}"
            );
        }
        let mut r = stream(1, 0, 0, Phase::Values);
        assert!(Events::new(0.0, 100).next(&mut r).is_none());
        let mut all = Events::new(1.0, 5);
        let got: Vec<usize> = std::iter::from_fn(|| all.next(&mut r)).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn gaps_are_geometric() {
        let p: f64 = 0.05;
        let mut r = stream(2, 0, 0, Phase::Values);
        let n = 100_000;
        let gaps: Vec<u64> = (0..n).map(|_| r.gap((-p).ln_1p())).collect();
        let mean = gaps.iter().sum::<u64>() as f64 / n as f64;
        // Failures before a success: mean (1 - p) / p = 19.
        assert!((mean - 19.0).abs() < 0.3, "mean gap {mean}");
        let zeros = gaps.iter().filter(|&&g| g == 0).count() as f64 / n as f64;
        assert!((zeros - p).abs() < 0.003, "P(gap 0) {zeros}");
        assert_eq!(r.gap(0.0), u64::MAX);
    }

    #[test]
    fn monthly_probability_matches_annual_rate() {
        let p = monthly(0.12);
        let annual = 1.0 - (1.0 - p).powi(12);
        assert!((annual - (1.0 - (-0.12f64).exp())).abs() < 1e-12);
    }
}
