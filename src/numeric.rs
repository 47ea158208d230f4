//! Numerical functions shared by the model and the experiment layer.

/// Quantile (inverse CDF) of the standard normal distribution at probability `p`.
///
/// Wichura's algorithm AS 241 (`PPND16`, Applied Statistics 37, 1988, 477–484): three
/// rational approximations of degree 7, on the central region `|p − ½| ≤ 0.425` and on two
/// tail regions in `r = √(−ln min(p, 1−p))`, with a relative accuracy of about 1e−16.
///
/// Returns `−∞` at `p = 0`, `+∞` at `p = 1`, and `NaN` outside `[0, 1]`.
#[allow(clippy::excessive_precision)] // coefficients exactly as published
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    fn rational(num: &[f64; 8], den: &[f64; 8], x: f64) -> f64 {
        let horner = |c: &[f64; 8]| c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci);
        horner(num) / horner(den)
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * rational(&A, &B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let z = if r <= 5.0 {
        rational(&C, &D, r - 1.6)
    } else {
        rational(&E, &F, r - 5.0)
    };
    if q < 0.0 {
        -z
    } else {
        z
    }
}

/// Number of intervals of a [`LogisticTable`].
const LOGISTIC_INTERVALS: usize = 1024;

/// The logistic function `1 / (1 + e^-x)` tabulated at 1,025 equally spaced points of
/// `[lo, hi]` and interpolated linearly between them (clamped outside), in `f32`: a cheap
/// propensity for passes over every villager. Over an interval of width `h` the error of
/// linear interpolation is at most `h² / 8` times the largest second derivative of the
/// logistic (about 0.096), so below 3e-7 for a range of 5.
#[derive(Debug, Clone)]
pub struct LogisticTable {
    lo: f32,
    per_unit: f32,
    values: Box<[f32; LOGISTIC_INTERVALS + 1]>,
}

impl LogisticTable {
    /// The table over `[lo, hi]` (a degenerate range is widened to one unit).
    pub fn new(lo: f64, hi: f64) -> LogisticTable {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let h = (hi - lo) / LOGISTIC_INTERVALS as f64;
        let mut values = Box::new([0.0f32; LOGISTIC_INTERVALS + 1]);
        for (k, v) in values.iter_mut().enumerate() {
            *v = (1.0 / (1.0 + (-(lo + k as f64 * h)).exp())) as f32;
        }
        LogisticTable {
            lo: lo as f32,
            per_unit: (1.0 / h) as f32,
            values,
        }
    }

    /// The interpolated logistic at `x`.
    #[inline(always)]
    pub fn at(&self, x: f32) -> f32 {
        let t = ((x - self.lo) * self.per_unit).clamp(0.0, LOGISTIC_INTERVALS as f32);
        let k = (t as usize).min(LOGISTIC_INTERVALS - 1);
        let w = t - k as f32;
        let (a, b) = (self.values[k], self.values[k + 1]);
        a + w * (b - a)
    }
}

#[cfg(test)]
mod logistic_tests {
    use super::LogisticTable;

    #[test]
    fn the_table_is_within_its_stated_error_of_the_logistic() {
        let t = LogisticTable::new(-3.0, 2.0);
        let mut worst = 0.0f64;
        for k in 0..=100_000 {
            let x = -3.5 + 6.0 * k as f64 / 100_000.0;
            let exact = 1.0 / (1.0 + (-x.clamp(-3.0, 2.0)).exp());
            worst = worst.max((t.at(x as f32) as f64 - exact).abs());
        }
        assert!(worst < 5e-7, "largest error {worst}");
        assert_eq!(t.at(-100.0), t.at(-3.0));
        assert_eq!(t.at(100.0), t.at(2.0));
    }
}
