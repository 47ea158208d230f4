//! The look of every chart: the embedded font, sizes that stay readable on a projector, the
//! colour-blind-safe palette (Okabe and Ito 2008) with one colour per arm everywhere, a
//! sequential colour map, number formats, and the titles and units of the metrics.

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle, IntoFont, RGBColor, TextStyle};

use crate::error::{Error, Result};

/// DejaVu Sans (assets/fonts, licence in LICENSE-DejaVu.txt), compiled into the binary so that
/// charts never depend on the fonts or libraries of the machine.
static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name the embedded font is registered under (also written into SVG text).
pub const FONT: &str = "sans-serif";

/// Register the embedded font with plotters (once per process).
pub fn register_fonts() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::render(
            "charts",
            "the font embedded in this ruralgov binary cannot be read; rebuild ruralgov",
        ))
    }
}

/// Okabe-Ito (black, orange, sky blue, bluish green, blue, vermillion, reddish purple,
/// yellow), then four darker colours from Paul Tol's muted scheme (wine, olive, indigo, grey)
/// for experiments with more than eight arms.
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 51),
    RGBColor(51, 34, 136),
    RGBColor(119, 119, 119),
];

/// The colour of arm number `i` (in the experiment's order), the same in every chart.
pub fn arm_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour of the line of a single run.
pub const SINGLE: RGBColor = RGBColor(0, 114, 178);
/// Residents in the pyramid.
pub const RESIDENTS: RGBColor = RGBColor(0, 114, 178);
/// Migrants in the pyramid.
pub const MIGRANTS: RGBColor = RGBColor(230, 159, 0);
/// Body text.
pub const INK: RGBColor = RGBColor(34, 34, 34);
/// Secondary text.
pub const MUTED: RGBColor = RGBColor(90, 90, 90);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(222, 222, 222);
/// Axis lines.
pub const AXIS: RGBColor = RGBColor(120, 120, 120);

/// `#rrggbb` of a colour.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Viridis (perceptually uniform, colour-blind-safe, prints in grey): 9 stops.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Viridis at `t` in [0, 1] (clamped; NaN gives light grey).
pub fn viridis(t: f64) -> RGBColor {
    if !t.is_finite() {
        return RGBColor(235, 235, 235);
    }
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Text that reads on `c`: black on light colours, white on dark ones.
pub fn ink_on(c: RGBColor) -> RGBColor {
    let l = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    if l > 140.0 {
        RGBColor(0, 0, 0)
    } else {
        RGBColor(255, 255, 255)
    }
}

/// Sizes of a chart. All lengths are given for 1600x900 and scaled.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Scale from the 1600x900 design.
    pub scale: f64,
}

impl Theme {
    /// A theme for a `width` x `height` canvas drawn `supersample` times larger.
    pub fn new(width: u32, height: u32, supersample: u32) -> Theme {
        let s = supersample.max(1);
        let scale = (width as f64 / 1600.0).min(height as f64 / 900.0) * s as f64;
        Theme {
            width: width * s,
            height: height * s,
            scale,
        }
    }

    /// A length of the 1600x900 design in pixels of this canvas.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    /// The regular font at design size `size`.
    pub fn font(&self, size: f64) -> TextStyle<'static> {
        (FONT, size * self.scale).into_font().color(&INK)
    }

    /// The bold font at design size `size`.
    pub fn bold(&self, size: f64) -> TextStyle<'static> {
        FontDesc::new(FontFamily::Name(FONT), size * self.scale, FontStyle::Bold).color(&INK)
    }
}

/// Design sizes (plotters font sizes; about 0.8 of them is the em size in pixels).
pub mod size {
    /// Chart title.
    pub const TITLE: f64 = 50.0;
    /// Line under the title.
    pub const SUBTITLE: f64 = 31.0;
    /// Axis descriptions.
    pub const AXIS: f64 = 35.0;
    /// Tick labels.
    pub const TICK: f64 = 33.0;
    /// Legend entries.
    pub const LEGEND: f64 = 32.0;
    /// Panel titles of multi-panel charts.
    pub const PANEL: f64 = 33.0;
    /// Tick labels and axis descriptions of multi-panel charts.
    pub const SMALL: f64 = 27.0;
}

/// Decimals of tick labels when at most `labels` ticks at a "nice" step (1, 2 or 5 times a
/// power of ten) cover `span`, as plotters places them.
pub fn decimals_for(span: f64, labels: usize) -> usize {
    if !span.is_finite() || span <= 0.0 {
        return 2;
    }
    let raw = span / labels.max(1) as f64;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * p);
    (-(step.log10().floor())).clamp(0.0, 6.0) as usize
}

/// Decimals for tick labels at `ticks`: the fewest (0 to 6) with which every label is
/// distinct and the gap between neighbouring ticks is written exactly.
pub fn tick_decimals(ticks: &[f64]) -> usize {
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    (0..=6)
        .find(|&d| {
            let labels: Vec<String> = ticks.iter().map(|x| format!("{x:.d$}")).collect();
            let distinct = labels.windows(2).all(|w| w[0] != w[1]);
            let scale = 10f64.powi(d as i32);
            let exact =
                !step.is_finite() || ((step * scale).round() - step * scale).abs() < 1e-6 * (step * scale).max(1.0);
            distinct && exact
        })
        .unwrap_or(6)
}

/// The shortest text that reads back as `x` (for factor values).
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `x` with `decimals` decimals, thousands separated by commas, a true minus sign and no
/// negative zero.
pub fn number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    let digits: Vec<char> = int.chars().collect();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && digits.len() > 4 {
            grouped.push(',');
        }
        grouped.push(*c);
    }
    let zero = s.chars().all(|c| c == '0' || c == '.');
    let mut out = String::new();
    if x < 0.0 && !zero {
        out.push('−');
    }
    out.push_str(&grouped);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

/// A number with about four significant digits (for tables).
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    let d = if a == 0.0 || a >= 1000.0 || (a >= 10.0 && x.fract() == 0.0) {
        0
    } else {
        (3 - a.log10().floor() as i64).clamp(0, 6) as usize
    };
    number(x, d)
}

/// Title and unit of a `metrics.csv` column (unknown columns get their name and no unit).
pub fn metric(name: &str) -> (String, String) {
    match crate::model::observe::Metrics::column(name) {
        Some(c) => (c.title.to_string(), c.unit.to_string()),
        None => (name.replace('_', " "), String::new()),
    }
}

/// A summarised metric label of a sweep (`governance_index_mean_2025_2030`,
/// `trust_branch_end`, `order_mean`) as (column, title, how it was summarised, unit).
pub fn label(label: &str) -> (String, String, String, String) {
    let (base, how) = if let Some(b) = label.strip_suffix("_end") {
        (b.to_string(), "at the end".to_string())
    } else if let Some(b) = label.strip_suffix("_mean") {
        (b.to_string(), "mean over the run".to_string())
    } else {
        let parts: Vec<&str> = label.rsplitn(4, '_').collect();
        match parts.as_slice() {
            [to, from, "mean", b] => match (from.parse::<i32>(), to.parse::<i32>()) {
                (Ok(f), Ok(t)) if f > 0 && t > 0 => (b.to_string(), format!("mean {f}–{}", t - 1)),
                (Ok(f), Ok(_)) if f > 0 => (b.to_string(), format!("mean from {f}")),
                (Ok(_), Ok(t)) if t > 0 => (b.to_string(), format!("mean until {}", t - 1)),
                _ => (label.to_string(), String::new()),
            },
            _ => (label.to_string(), String::new()),
        }
    };
    let (title, unit) = metric(&base);
    (base, title, how, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_split() {
        let (b, t, how, u) = label("governance_index_mean_2025_2030");
        assert_eq!(
            (b.as_str(), t.as_str(), how.as_str(), u.as_str()),
            ("governance_index", "Governance index", "mean 2025–2029", "index [0, 1]")
        );
        assert_eq!(label("trust_branch_end").2, "at the end");
        assert_eq!(label("order_mean").0, "order");
        assert_eq!(label("x_y").1, "x y");
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(12345.678, 0), "12,346");
        assert_eq!(number(1234.5, 1), "1234.5");
        assert_eq!(number(-0.0001, 2), "0.00");
        assert_eq!(number(-0.25, 2), "−0.25");
        assert_eq!(number(f64::NAN, 2), "–");
        assert_eq!(sig(0.0123456), "0.01235");
        assert_eq!(sig(859.8), "859.8");
        assert_eq!(sig(102.0), "102");
        assert_eq!(sig(1.5), "1.500");
        assert_eq!(tick_decimals(&[0.5, 0.55, 0.6, 0.65]), 2);
        assert_eq!(tick_decimals(&[0.5, 0.6, 0.7]), 1);
        assert_eq!(tick_decimals(&[2000.0, 2005.0, 2010.0]), 0);
        assert_eq!(tick_decimals(&[0.0, 0.25, 0.5]), 2);
        assert_eq!(decimals_for(1.0, 6), 1);
        assert_eq!(decimals_for(0.04, 5), 2);
        assert_eq!(decimals_for(0.03, 8), 3);
        assert_eq!(decimals_for(600.0, 6), 0);
        assert_eq!(short(0.8), "0.8");
        assert_eq!(short(2000.0), "2000");
    }

    #[test]
    fn colours() {
        assert_eq!(hex(arm_colour(1)), "#e69f00");
        assert_eq!(arm_colour(12), arm_colour(0));
        assert_ne!(arm_colour(8), arm_colour(0));
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(ink_on(RGBColor(253, 231, 37)), RGBColor(0, 0, 0));
    }
}
