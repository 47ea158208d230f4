//! One declaration per scenario key.
//!
//! Every setting of a scenario is declared once, in the `section!` lists of
//! `src/scenario/mod.rs`: its name, type, default, allowed range, unit, documentation and
//! the reason or source of its default. From that one list come the typed section struct
//! (with serde), its `Default`, its range validation, and the table of parameters in
//! `docs/parameters.md` (checked by a test to match), so a default, a range or a source
//! cannot drift apart in three hand-kept copies.

use super::load::Validator;
use super::Schedule;

/// What the documentation says of one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Dotted key, e.g. `population.adults_per_village`.
    pub key: String,
    /// Default, as TOML.
    pub default: String,
    /// Allowed range, e.g. `[10, 100000]`, or the allowed values; empty if any value of the type.
    pub range: String,
    /// Unit.
    pub unit: &'static str,
    /// What the setting is.
    pub doc: String,
    /// Reason or source of the default ("guess: ..." where it is one).
    pub source: &'static str,
}

/// The mark [`Param::range_text`] puts after the range of a schedule.
const SCHEDULE_MARK: &str = " (schedule)";

impl ParamInfo {
    /// Whether the setting is a schedule (a number or `[year, value]` keyframes), which may
    /// change over a run.
    pub fn is_schedule(&self) -> bool {
        self.range.ends_with(SCHEDULE_MARK)
    }
}

/// A setting's type: how its range is checked and written.
pub trait Param {
    /// Check `self` against `[lo, hi]`.
    fn check_range(&self, v: &mut Validator, key: &str, lo: f64, hi: f64);
    /// The range as written in the docs.
    fn range_text(lo: f64, hi: f64) -> String {
        format!("[{}, {}]", short(lo), short(hi))
    }
}

/// A number as short as it reads back (integers without a decimal point).
pub fn short(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl Param for f64 {
    fn check_range(&self, v: &mut Validator, key: &str, lo: f64, hi: f64) {
        v.range(key, *self, lo, hi);
    }
}

impl Param for u32 {
    fn check_range(&self, v: &mut Validator, key: &str, lo: f64, hi: f64) {
        v.range_int(key, *self as i64, lo as i64, hi as i64);
    }
}

impl Param for i32 {
    fn check_range(&self, v: &mut Validator, key: &str, lo: f64, hi: f64) {
        v.range_int(key, *self as i64, lo as i64, hi as i64);
    }
}

impl Param for Schedule {
    fn check_range(&self, v: &mut Validator, key: &str, lo: f64, hi: f64) {
        self.check(v, key, lo, hi);
    }
    fn range_text(lo: f64, hi: f64) -> String {
        format!("[{}, {}]{SCHEDULE_MARK}", short(lo), short(hi))
    }
}

/// The default of a setting as TOML text.
pub fn render<T: serde::Serialize>(x: &T) -> String {
    match toml::Value::try_from(x) {
        Ok(toml::Value::String(s)) => format!("\"{s}\""),
        Ok(v) => v.to_string(),
        Err(_) => String::new(),
    }
}

/// Declare a section of settings: the struct, its `Default`, `check_ranges` and `params`.
///
/// ```text
/// section! {
///     /// `[population]`: demography and the initial population.
///     Population "population" {
///         /// Mean registered adults (16+) per village at the start.
///         adults_per_village: u32 = 1000, [10, 100_000], "adults", "reason or source";
///         /// How initial values are drawn (no range: any variant).
///         initial: Initial = Initial::Normal, [], "", "reason";
///     }
/// }
/// ```
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident $key:literal {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $default:expr , [ $( $lo:expr , $hi:expr )? ] , $unit:literal , $source:literal ;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The section's key in a scenario file.
            pub const KEY: &'static str = $key;

            /// Check every setting of the section against its declared range.
            #[allow(unused_variables)]
            pub fn check_ranges(&self, v: &mut $crate::scenario::Validator) {
                $( $(
                    $crate::scenario::params::Param::check_range(
                        &self.$field,
                        v,
                        concat!($key, ".", stringify!($field)),
                        $lo as f64,
                        $hi as f64,
                    );
                )? )*
            }

            /// What the documentation says of every setting of the section.
            pub fn params() -> Vec<$crate::scenario::params::ParamInfo> {
                let d = Self::default();
                vec![ $(
                    $crate::scenario::params::ParamInfo {
                        key: concat!($key, ".", stringify!($field)).to_string(),
                        default: $crate::scenario::params::render(&d.$field),
                        range: $crate::scenario::params::range_text!($ty; $( $lo, $hi )?),
                        unit: $unit,
                        doc: [$($fdoc),*].iter().map(|s| s.trim()).collect::<Vec<_>>().join(" "),
                        source: $source,
                    },
                )* ]
            }
        }
    };
}

pub(crate) use section;

/// The range text of a declared setting (empty when it has none).
macro_rules! range_text {
    ($ty:ty;) => {
        String::new()
    };
    ($ty:ty; $lo:expr, $hi:expr) => {
        <$ty as $crate::scenario::params::Param>::range_text($lo as f64, $hi as f64)
    };
}

pub(crate) use range_text;

/// The table of every setting, as `docs/parameters.md` holds it.
pub fn markdown(params: &[ParamInfo]) -> String {
    let mut s = String::from(
        "# Scenario parameters\n\n\
         Generated from the declarations in `src/scenario/mod.rs` (`cargo test` checks that this file \
         matches them; `RURALGOV_UPDATE_DOCS=1 cargo test --test tests parameters` rewrites it). \
         Every key, its default, its allowed range, its unit, what it is, and the reason or source of \
         its default. \"Guess\" marks a default that no data or literature fixes; the model's \
         description is `docs/ODD.md`.\n",
    );
    let mut section = String::new();
    for p in params {
        let sec = p.key.rsplit_once('.').map(|(a, _)| a).unwrap_or("").to_string();
        if sec != section {
            s.push_str(&format!(
                "\n## `[{sec}]`\n\n| Key | Default | Range | Unit | Meaning | Reason or source |\n|---|---|---|---|---|---|\n"
            ));
            section = sec;
        }
        let cell = |x: &str| x.replace('|', "\\|").replace('\n', " ");
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} |\n",
            p.key,
            cell(&p.default),
            cell(&p.range),
            cell(p.unit),
            cell(&p.doc),
            cell(p.source)
        ));
    }
    s
}
