//! Vector kernels chosen at run time.
//!
//! The default build targets the x86-64 baseline (SSE2: four 32-bit lanes, no 32-bit vector
//! multiply), so it runs on any x86-64 machine. The dense passes over every slot of a village
//! (market exposure, value dynamics, culture's invitations, trust, migration's savings) are
//! written as branch-free loops that the compiler vectorises; [`crate::kernel!`] compiles such a
//! process twice, once for the baseline and once with AVX2 enabled (eight lanes, native
//! 32-bit multiplies for the hashes), and picks the AVX2 copy when the CPU has it.
//!
//! Both copies are the same Rust code, so they compute the same values: integer arithmetic is
//! exact, f32 and f64 operations are IEEE operations in the same order (Rust never fuses a
//! multiply and an add on its own, and AVX2 alone does not enable FMA; the compiler does not
//! reorder floating-point reductions). Outputs are therefore bitwise identical between the
//! two copies and across CPUs; `tests/suite/determinism.rs` runs scenarios both ways and
//! compares the files byte for byte.
//!
//! Set the environment variable `RURALGOV_SCALAR=1` to force the baseline copies (for that
//! test, or to measure what the vector kernels gain).

use std::sync::OnceLock;

/// Which copy of the kernels runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// The x86-64 baseline (or the only copy on other architectures).
    Baseline,
    /// The AVX2 copy.
    Avx2,
}

impl Kernels {
    /// The name shown by `ruralgov bench`.
    pub fn name(self) -> &'static str {
        match self {
            Kernels::Baseline => "baseline (SSE2)",
            Kernels::Avx2 => "AVX2",
        }
    }
}

/// The kernels this process uses: AVX2 where the CPU has it, unless `RURALGOV_SCALAR` is set
/// (to anything but an empty string or `0`). Decided once.
pub fn kernels() -> Kernels {
    static CHOICE: OnceLock<Kernels> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let forced = std::env::var_os("RURALGOV_SCALAR").is_some_and(|v| !v.is_empty() && v != "0");
        if !forced && detected() {
            Kernels::Avx2
        } else {
            Kernels::Baseline
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn detected() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn detected() -> bool {
    false
}

/// Define a function compiled twice: for the baseline and with AVX2, choosing at run time
/// ([`kernels`]). The body is written once; it and everything it inlines get the AVX2 copy's
/// instructions (functions it calls without inlining keep the baseline's).
#[macro_export]
#[doc(hidden)]
macro_rules! kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $crate::simd::kernels() == $crate::simd::Kernels::Avx2 {
                    // SAFETY: the CPU has AVX2, checked at run time by `kernels`.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::kernel! {
        /// A kernel of the kind the processes use: a hash and a float update per slot.
        fn mix_all(xs: &mut [f32], key: u32) {
            for (i, x) in xs.iter_mut().enumerate() {
                let h = crate::model::rng::fmix32(key ^ (i as u32).wrapping_mul(0x9E37_79B1));
                let u = (h >> 8) as f32 * (1.0 / 16_777_216.0);
                *x = (*x + 0.25 * (u - *x)).clamp(0.0, 1.0);
            }
        }
    }

    #[test]
    fn the_kernel_copy_in_use_matches_a_plain_loop() {
        let mut a: Vec<f32> = (0..1000).map(|i| (i % 17) as f32 / 17.0).collect();
        let mut b = a.clone();
        mix_all(&mut a, 7);
        for (i, x) in b.iter_mut().enumerate() {
            let h = crate::model::rng::fmix32(7 ^ (i as u32).wrapping_mul(0x9E37_79B1));
            let u = (h >> 8) as f32 * (1.0 / 16_777_216.0);
            *x = (*x + 0.25 * (u - *x)).clamp(0.0, 1.0);
        }
        assert_eq!(a, b);
        // Deciding twice gives the same answer.
        assert_eq!(kernels(), kernels());
    }
}
