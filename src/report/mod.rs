//! Charts and a self-contained HTML report of a results folder: `ruralgov plot DIR` and
//! `ruralgov report DIR` (see `docs/report.md`).
//!
//! A folder is read once (`data.rs`), turned into a list of backend-independent chart
//! descriptions (`charts.rs`), and each chart is then drawn with plotters: as a PNG (drawn at
//! twice the size and averaged down, so lines are anti-aliased), as an SVG file, or as SVG
//! inlined into `report.html` (`html.rs`). Text is drawn with the DejaVu Sans font compiled
//! into the binary, so charts look the same on every machine and need no system fonts.
//!
//! A single run gets time series of the key observables, the age pyramid and the yearly
//! distributions of `market` and `civic`; a sweep gets every arm's mean with its band over
//! time, paired differences against the baseline arm, a heatmap for a two-factor factorial
//! design, and Morris or Sobol charts for sensitivity designs. A chart whose data are missing
//! is skipped with the reason, never a failure.

mod charts;
mod data;
mod html;
mod style;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Image formats written by [`plot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG only.
    Png,
    /// SVG only.
    Svg,
    /// PNG and SVG.
    Both,
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        match s {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "both" => Ok(Format::Both),
            _ => Err(Error::option("--format", s, "expected png, svg or both")),
        }
    }
}

/// Options of [`plot`].
#[derive(Debug, Clone)]
pub struct PlotOptions {
    /// Image formats.
    pub format: Format,
    /// Output folder [default: `DIR/charts`].
    pub out: Option<PathBuf>,
    /// Width of every chart in pixels.
    pub width: u32,
    /// Height of every chart in pixels.
    pub height: u32,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            format: Format::Png,
            out: None,
            width: 1600,
            height: 900,
        }
    }
}

/// A chart that was not drawn, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Chart name (or names).
    pub chart: String,
    /// Why it was not drawn.
    pub reason: String,
}

/// What [`plot`] did.
#[derive(Debug, Clone)]
pub struct Plotted {
    /// Folder the charts were written to.
    pub out: PathBuf,
    /// Files written, in chart order.
    pub written: Vec<PathBuf>,
    /// Charts not drawn.
    pub skipped: Vec<Skipped>,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Options of [`report`].
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Output folder for `report.html` [default: `DIR`].
    pub out: Option<PathBuf>,
}

/// What [`report`] did.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The report written.
    pub path: PathBuf,
    /// Charts in the report.
    pub charts: usize,
    /// Charts not drawn.
    pub skipped: Vec<Skipped>,
    /// Size of the report in bytes.
    pub bytes: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Parse a chart size such as `1600x900`.
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
    let bad = || Error::option("--size", s, "expected WIDTHxHEIGHT in pixels, e.g. 1600x900");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    check_size(w, h)?;
    Ok((w, h))
}

fn check_size(w: u32, h: u32) -> Result<()> {
    if !(400..=8000).contains(&w) || !(300..=8000).contains(&h) {
        return Err(Error::option(
            "--size",
            format!("{w}x{h}"),
            "width must be 400 to 8000 pixels and height 300 to 8000",
        ));
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::CreateDir {
            path: dir.to_path_buf(),
            reason: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file with that name exists"),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::CreateDir {
        path: dir.to_path_buf(),
        reason: e,
    })
}

/// Draw every chart that makes sense for the run or sweep folder `dir` into `opts.out`
/// (default `dir/charts`), as `NAME.png` and/or `NAME.svg`.
pub fn plot(dir: &Path, opts: &PlotOptions) -> Result<Plotted> {
    let started = Instant::now();
    check_size(opts.width, opts.height)?;
    style::register_fonts()?;
    let folder = data::load(dir, &charts::KEY)?;
    let (list, skipped) = charts::build(&folder);
    let out = opts.out.clone().unwrap_or_else(|| dir.join("charts"));
    create_dir(&out)?;
    let (w, h) = (opts.width, opts.height);
    let files: Vec<Vec<PathBuf>> = list
        .par_iter()
        .with_max_len(1)
        .map(|c| -> Result<Vec<PathBuf>> {
            let mut written = Vec::new();
            if matches!(opts.format, Format::Png | Format::Both) {
                let p = out.join(format!("{}.png", c.name));
                charts::png(c, w, h, &p)?;
                written.push(p);
            }
            if matches!(opts.format, Format::Svg | Format::Both) {
                let p = out.join(format!("{}.svg", c.name));
                let text = charts::svg(c, w, h)?;
                crate::output::write_file(&p, text.as_bytes())?;
                written.push(p);
            }
            Ok(written)
        })
        .collect::<Result<_>>()?;
    let written: Vec<PathBuf> = files.into_iter().flatten().collect();
    record_charts(&out, &written)?;
    Ok(Plotted {
        out,
        written,
        skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Add the chart files just written to the record of what ruralgov wrote in `out`
/// ([`crate::output::CHARTS_RECORD`]), so that new results remove exactly those files and
/// never a user's own.
fn record_charts(out: &Path, written: &[PathBuf]) -> Result<()> {
    let record = out.join(crate::output::CHARTS_RECORD);
    let mut names: std::collections::BTreeSet<String> = std::fs::read_to_string(&record)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("files").cloned())
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    names.extend(
        written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
    );
    let text = serde_json::json!({ "written_by": "ruralgov plot", "files": names }).to_string();
    crate::output::write_file(&record, text.as_bytes()).map(|_| ())
}

/// Write `report.html` for the run or sweep folder `dir` into `opts.out` (default `dir`): one
/// self-contained page with what was run, a findings table, every chart as inline SVG, the
/// manifest and the commands that reproduce it.
pub fn report(dir: &Path, opts: &ReportOptions) -> Result<Reported> {
    let started = Instant::now();
    style::register_fonts()?;
    let folder = data::load(dir, &charts::KEY)?;
    let (list, skipped) = charts::build(&folder);
    let svgs: Vec<String> = list
        .par_iter()
        .with_max_len(1)
        .map(|c| charts::svg(c, 1600, 900))
        .collect::<Result<_>>()?;
    let out = opts.out.clone().unwrap_or_else(|| dir.to_path_buf());
    let mut command = vec![
        "ruralgov".to_string(),
        "report".into(),
        crate::output::shell_quote(&dir.display().to_string()),
    ];
    if let Some(o) = &opts.out {
        command.push("--out".into());
        command.push(crate::output::shell_quote(&o.display().to_string()));
    }
    let page = html::render(&folder, &list, &svgs, &skipped, &command.join(" "));
    create_dir(&out)?;
    let path = out.join("report.html");
    crate::output::write_file(&path, page.as_bytes())?;
    Ok(Reported {
        path,
        charts: list.len(),
        skipped,
        bytes: page.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
