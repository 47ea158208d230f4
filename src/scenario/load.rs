//! Strict, line-accurate loading of layered scenario files.
//!
//! A scenario is a TOML file. It may start from another file with
//! `extends = "base.toml"` (resolved relative to the directory of the file that
//! contains it, recursively) and then override settings field by field. After
//! the files, `--set section.key=value` strings from the command line are
//! applied in order.
//!
//! Every key in every file is checked against the set of known settings,
//! which is taken from the serialized `Default` of the typed scenario. A
//! misspelled key is an error that names the file, the line and the closest
//! known setting. The merged table is then deserialized into the typed
//! scenario and checked with its [`Validate`] implementation; problems found
//! there are reported against the file and line where the value was last set.
//!
//! Notes for authors of the typed scenario:
//! * Fields whose default serializes to nothing (an `Option` that defaults to
//!   `None`) do not appear in the schema, so the loader rejects them as
//!   unknown. Give such settings a concrete default instead.
//! * A section whose default is an empty table (for example an empty map) is
//!   treated as free-form: any keys are accepted below it and checked only by
//!   deserialization.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml_edit::{Item, TableLike};

/// The pseudo file name used for settings given on the command line.
const SET_FILE: &str = "--set";

/// Longest rendering of a value quoted inside an error message.
const MAX_VALUE_CHARS: usize = 80;

/// Longest key compared with the known keys for a suggestion, and shown whole in messages.
const MAX_KEY_CHARS: usize = 80;

/// At most this many valid keys are listed when no close suggestion exists.
const MAX_LISTED_KEYS: usize = 12;

/// Where a resolved key's value was last set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Display path of the file (as given or as joined from `extends`), or
    /// `"--set"` for a command-line override.
    pub file: String,
    /// 1-based line of the key in that file; 0 for `--set`.
    pub line: usize,
}

/// One user-facing error about a scenario.
///
/// Its `Display` is a single paragraph naming the file, line and key (those
/// that are known) followed by a message that names the value and what was
/// expected, e.g.
/// `scenarios/x.toml, line 12: key "migration.leave_base": invalid type: string "high", expected a number`.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    /// Display path of the file the problem is in, `"--set"` for a
    /// command-line override, or `None` if no file is involved (for example a
    /// built-in default that fails validation).
    pub file: Option<String>,
    /// 1-based line in `file`, if known.
    pub line: Option<usize>,
    /// Dotted key path of the setting concerned, if any.
    pub key: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl ScenarioError {
    /// An error at an optional file, line and key.
    pub fn new(file: Option<String>, line: Option<usize>, key: Option<String>, message: impl Into<String>) -> Self {
        // A line of 0 means "no line" (command-line overrides, unknown spans).
        let line = line.filter(|&l| l > 0);
        ScenarioError {
            file,
            line,
            key,
            message: message.into(),
        }
    }

    fn at(file: &str, line: usize, key: Option<String>, message: impl Into<String>) -> Self {
        Self::new(Some(file.to_string()), Some(line), key, message)
    }

    fn sort_line(&self) -> usize {
        self.line.unwrap_or(0)
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::new();
        if let Some(file) = &self.file {
            prefix.push_str(file);
        }
        if let Some(line) = self.line {
            if !prefix.is_empty() {
                prefix.push_str(", ");
            }
            prefix.push_str(&format!("line {line}"));
        }
        if let Some(key) = &self.key {
            if !prefix.is_empty() {
                prefix.push_str(": ");
            }
            prefix.push_str(&format!("key \"{key}\""));
        }
        let message = one_paragraph(&self.message);
        // Keys and values come from the user's file: control characters (terminal escapes
        // among them) are shown escaped, never sent raw to the terminal.
        if prefix.is_empty() {
            f.write_str(&escape_controls(&message))
        } else {
            write!(f, "{}: {}", escape_controls(&prefix), escape_controls(&message))
        }
    }
}

/// `s` with every control character (other than a space) written as a `\u{..}` escape.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Read a scenario, experiment or data file as text: only a regular file (not a folder,
/// FIFO or device, which could block or never end), of at most
/// [`crate::limits::MAX_INPUT_BYTES`]. The error says why, in words for a message.
pub fn read_input(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a folder, not a file".into());
    }
    if !meta.is_file() {
        return Err("it is not a regular file (a device, FIFO or socket cannot be read as a scenario)".into());
    }
    let limit = crate::limits::MAX_INPUT_BYTES;
    if meta.len() > limit {
        return Err(format!(
            "it has {} bytes, more than the {} MiB a scenario or experiment file may have",
            meta.len(),
            limit >> 20
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "it has more than the {} MiB a scenario or experiment file may have",
            limit >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Collects range/consistency problems found by a typed `validate` pass,
/// keyed by dotted path.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<(String, String)>,
}

impl Validator {
    /// An empty validator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record a problem at dotted key path `key` (e.g.
    /// `"migration.leave_base"`). The message should name the offending
    /// value and what is expected.
    pub fn error(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push((key.into(), message.into()));
    }

    /// Check `lo <= value <= hi` (and that `value` is finite); the message
    /// names the value and the allowed range.
    pub fn range(&mut self, key: &str, value: f64, lo: f64, hi: f64) {
        if !value.is_finite() {
            self.error(
                key,
                format!("must be a finite number between {lo} and {hi}, but is {value}"),
            );
        } else if !(lo..=hi).contains(&value) {
            self.error(key, format!("must be between {lo} and {hi}, but is {value}"));
        }
    }

    /// Check `lo <= value <= hi` for a whole number; the message names the
    /// value and the allowed range.
    pub fn range_int(&mut self, key: &str, value: i64, lo: i64, hi: i64) {
        if !(lo..=hi).contains(&value) {
            self.error(
                key,
                format!("must be a whole number between {lo} and {hi}, but is {value}"),
            );
        }
    }

    /// True if no problem has been recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The recorded problems as `(dotted key, message)`, in the order they
    /// were recorded.
    pub fn into_errors(self) -> Vec<(String, String)> {
        self.errors
    }
}

/// Implemented by the top-level typed scenario to check ranges and
/// consistency after deserialization.
pub trait Validate {
    /// Record every problem found in `self` into `v`, keyed by dotted path.
    fn validate(&self, v: &mut Validator);
}

/// The result of loading.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// The typed, validated result.
    pub value: T,
    /// The merged raw table (without `extends`).
    pub table: toml::Table,
    /// Dotted key path of every leaf set by a file or `--set` -> where it was
    /// last set. Keys left at their built-in default are absent.
    pub origins: BTreeMap<String, Origin>,
    /// The files read, base first.
    pub files: Vec<PathBuf>,
}

/// Load `path`, following `extends`, apply `sets` (`"section.key=value"`
/// strings), deserialize into `T` and validate.
///
/// The first problem found is returned as a [`ScenarioError`] naming the
/// file, line and key.
pub fn load<T>(path: &Path, sets: &[String]) -> Result<Loaded<T>, ScenarioError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Default + Validate,
{
    let schema = Schema::of::<T>()?;

    let text = read_input(path).map_err(|e| {
        ScenarioError::new(
            Some(path.display().to_string()),
            None,
            None,
            format!("cannot read this file: {e}"),
        )
    })?;
    let mut files = Vec::new();
    let mut chain = Vec::new();
    let (mut table, mut origins) = load_layer(path.to_path_buf(), &text, &schema, &mut chain, &mut files)?;

    for set in sets {
        let (over, over_origins) = parse_set(set, &schema)?;
        origins = merge(&mut table, origins, over, over_origins);
    }
    let value = typed(&table, &origins)?;
    Ok(Loaded {
        value,
        table,
        origins,
        files,
    })
}

/// Deserialize a merged table into `T` and validate it; errors point at the origins.
fn typed<T>(table: &toml::Table, origins: &BTreeMap<String, Origin>) -> Result<T, ScenarioError>
where
    T: serde::de::DeserializeOwned + Validate,
{
    let value: T = serde_path_to_error::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| deserialize_error(&e, table, origins))?;
    let mut validator = Validator::new();
    value.validate(&mut validator);
    if let Some((key, message)) = validator.into_errors().into_iter().next() {
        return Err(validation_error(key, message, origins));
    }
    Ok(value)
}

impl<T> Loaded<T> {
    /// An error about `key`, placed at the file and line that last set it (or marked as a
    /// built-in default).
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        located(&self.origins, Some(key.to_string()), message.into())
    }
}

impl<T> Loaded<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Default + Validate,
{
    /// The value with further `--set`-style overrides applied over what was loaded, without
    /// reading any file again (an experiment applies its factors this way, once per design
    /// point). Errors name the override as `--set` would.
    pub fn with_sets(&self, sets: &[String]) -> Result<T, ScenarioError> {
        let schema = Schema::of::<T>()?;
        let mut table = self.table.clone();
        let mut origins = self.origins.clone();
        for set in sets {
            let (over, over_origins) = parse_set(set, &schema)?;
            origins = merge(&mut table, origins, over, over_origins);
        }
        typed(&table, &origins)
    }
}

/// Whether the setting at dotted `key` of `T` is a whole number (its default serializes as
/// a TOML integer); `None` if there is no such setting.
pub fn is_integer_setting<T: serde::Serialize + Default>(key: &str) -> Option<bool> {
    let root = match toml::Value::try_from(T::default()).ok()? {
        toml::Value::Table(t) => t,
        _ => return None,
    };
    let mut here = &root;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let v = here.get(*part)?;
        if i + 1 == parts.len() {
            return Some(matches!(v, toml::Value::Integer(_)));
        }
        here = v.as_table()?;
    }
    None
}

/// Flatten a table into dotted key paths -> value, sorted. Arrays and scalars
/// are leaves; empty tables produce no entries. Key segments that are not
/// bare TOML keys are quoted (`a."b.c"`).
pub fn flatten(table: &toml::Table) -> BTreeMap<String, toml::Value> {
    fn walk(table: &toml::Table, prefix: &str, out: &mut BTreeMap<String, toml::Value>) {
        for (k, v) in table {
            let path = join(prefix, k);
            match v {
                toml::Value::Table(t) => walk(t, &path, out),
                other => {
                    out.insert(path, other.clone());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(table, "", &mut out);
    out
}

// ---------------------------------------------------------------------------
// Schema

/// The tree of known keys, from the serialized default of the scenario type.
struct Schema {
    root: toml::Table,
    /// Every known dotted path (sections and leaves) with its last segment.
    paths: Vec<(String, String)>,
}

impl Schema {
    fn of<T: serde::Serialize + Default>() -> Result<Self, ScenarioError> {
        let root = match toml::Value::try_from(T::default()) {
            Ok(toml::Value::Table(t)) => t,
            Ok(other) => {
                return Err(ScenarioError::new(
                    None,
                    None,
                    None,
                    format!(
                        "internal error: the built-in scenario defaults are a {} rather than a table of sections",
                        other.type_str()
                    ),
                ))
            }
            Err(e) => {
                return Err(ScenarioError::new(
                    None,
                    None,
                    None,
                    format!(
                        "internal error: the built-in scenario defaults cannot be written as TOML: {}",
                        first_line(&e.to_string())
                    ),
                ))
            }
        };
        fn collect(t: &toml::Table, prefix: &str, out: &mut Vec<(String, String)>) {
            for (k, v) in t {
                let path = join(prefix, k);
                out.push((path.clone(), k.clone()));
                if let toml::Value::Table(sub) = v {
                    collect(sub, &path, out);
                }
            }
        }
        let mut paths = Vec::new();
        collect(&root, "", &mut paths);
        Ok(Schema { root, paths })
    }

    /// Suggestion text (starting with "; ") for unknown key `name` inside
    /// section `section` (dotted, "" for the top level) whose known keys are
    /// `here`.
    fn suggest(&self, here: &toml::Table, section: &str, name: &str) -> String {
        // Edit distance is quadratic in the length: no key is longer than this, so a longer
        // name has no close key and is not compared.
        if name.len() > MAX_KEY_CHARS {
            return String::new();
        }
        let full = join(section, name);
        // 1. A close sibling.
        let best_sibling = here
            .keys()
            .map(|k| (distance(name, k), k))
            .filter(|(d, k)| is_close(name, k, *d))
            .min_by_key(|(d, _)| *d);
        if let Some((_, k)) = best_sibling {
            return format!("; did you mean \"{}\"?", join(section, k));
        }
        // 2. A close key anywhere in the schema, by last segment or full path.
        let best_anywhere = self
            .paths
            .iter()
            .filter_map(|(path, last)| {
                let by_last = distance(name, last);
                let by_path = distance(&full, path);
                let close = is_close(name, last, by_last) || is_close(&full, path, by_path);
                close.then_some((by_last.min(by_path), path))
            })
            .min_by_key(|(d, _)| *d);
        if let Some((_, path)) = best_anywhere {
            return format!("; did you mean \"{path}\"?");
        }
        // 3. List what is allowed here, if that is short.
        if here.is_empty() || here.len() > MAX_LISTED_KEYS {
            return String::new();
        }
        let keys: Vec<&str> = here.keys().map(String::as_str).collect();
        if section.is_empty() {
            format!(
                "; the sections and settings allowed at the top level are: {}",
                keys.join(", ")
            )
        } else {
            format!("; the settings allowed in [{section}] are: {}", keys.join(", "))
        }
    }
}

/// `s` cut to [`MAX_KEY_CHARS`] characters (with an ellipsis and its full length) for messages.
fn shorten(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_KEY_CHARS {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX_KEY_CHARS).collect();
    format!("{head}... ({n} characters)")
}

fn distance(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// Whether an edit distance `d` between `a` and `b` is small enough to
/// suggest `b` for `a`: at most 3 edits, and at most about a third of the
/// longer word (so short words are not matched to unrelated short words).
fn is_close(a: &str, b: &str, d: usize) -> bool {
    let longest = a.chars().count().max(b.chars().count());
    d <= 3 && d * 3 <= longest + 1
}

// ---------------------------------------------------------------------------
// Reading one layer

/// Text of a source, for turning byte offsets into lines.
struct Source<'a> {
    file: &'a str,
    /// Byte offset of the start of every line; empty for `--set`.
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    fn file(file: &'a str, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Source { file, line_starts }
    }

    fn set() -> Self {
        Source {
            file: SET_FILE,
            line_starts: Vec::new(),
        }
    }

    /// 1-based line of a byte offset; 0 when unknown or for `--set`.
    fn line(&self, span: Option<Range<usize>>) -> usize {
        match span {
            Some(span) if !self.line_starts.is_empty() => self.line_starts.partition_point(|&s| s <= span.start),
            _ => 0,
        }
    }
}

/// Walks one parsed layer: checks keys against the schema, converts to a
/// plain `toml::Table` and records the line of every leaf.
struct Walker<'a> {
    src: Source<'a>,
    schema: &'a Schema,
    allow_extends: bool,
    extends: Option<(String, usize)>,
    origins: BTreeMap<String, Origin>,
    errors: Vec<ScenarioError>,
}

impl<'a> Walker<'a> {
    fn new(src: Source<'a>, schema: &'a Schema, allow_extends: bool) -> Self {
        Walker {
            src,
            schema,
            allow_extends,
            extends: None,
            origins: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    fn error(&mut self, line: usize, key: &str, message: String) {
        self.errors
            .push(ScenarioError::at(self.src.file, line, Some(shorten(key)), message));
    }

    /// Walk a table. `schema` is `None` for a free-form section, where every
    /// key is accepted.
    fn table(
        &mut self,
        tbl: &dyn TableLike,
        schema: Option<&toml::Table>,
        path: &str,
        parent_line: usize,
    ) -> toml::Table {
        let mut out = toml::Table::new();
        for (name, item) in tbl.iter() {
            if item.is_none() {
                continue;
            }
            let key_span = tbl.key(name).and_then(|k| k.span());
            let mut line = self.src.line(key_span.or_else(|| item.span()));
            if line == 0 {
                line = parent_line;
            }
            let full = join(path, name);

            if path.is_empty() && name == "extends" && !schema.is_some_and(|s| s.contains_key(name)) {
                self.extends_key(item, line);
                continue;
            }

            let Some(schema) = schema else {
                // Free-form section: accept anything, but keep line numbers.
                if let Some(v) = self.free(item, &full, line) {
                    out.insert(name.to_string(), v);
                }
                continue;
            };

            match schema.get(name) {
                None => {
                    let shown = shorten(name);
                    let what = if path.is_empty() {
                        format!("unknown section or setting \"{shown}\" at the top level")
                    } else {
                        format!("unknown setting \"{shown}\" in section [{}]", shorten(path))
                    };
                    let hint = self.schema.suggest(schema, path, name);
                    self.error(line, &full, format!("{what}{hint}"));
                }
                Some(toml::Value::Table(sub)) => match item.as_table_like() {
                    Some(t) => {
                        let sub = if sub.is_empty() { None } else { Some(sub) };
                        let v = self.table(t, sub, &full, line);
                        out.insert(name.to_string(), toml::Value::Table(v));
                    }
                    None => {
                        let got = item_to_value(item)
                            .map(|v| format!(" (got {})", render(&v)))
                            .unwrap_or_default();
                        self.error(
                            line,
                            &full,
                            format!(
                                "this is a section of settings, not a single value{got}; \
                                 write it as a [{full}] section with settings below it"
                            ),
                        );
                    }
                },
                Some(default) => {
                    if item.as_table_like().is_some() {
                        self.error(
                            line,
                            &full,
                            format!(
                                "this is a single setting, not a section; give it a value \
                                 such as {full} = {}",
                                render(default)
                            ),
                        );
                    } else if let Some(v) = self.leaf(item, &full, line) {
                        out.insert(name.to_string(), v);
                    }
                }
            }
        }
        out
    }

    fn extends_key(&mut self, item: &Item, line: usize) {
        if !self.allow_extends {
            self.error(
                line,
                "extends",
                "\"extends\" can only be used inside a scenario file, not with --set".to_string(),
            );
            return;
        }
        match item.as_str() {
            Some(s) => self.extends = Some((s.to_string(), line)),
            None => {
                let got = item_to_value(item)
                    .map(|v| format!(", but got {}", render(&v)))
                    .unwrap_or_default();
                self.error(
                    line,
                    "extends",
                    format!(
                        "expected the name of another scenario file in quotes, \
                         e.g. extends = \"base.toml\"{got}"
                    ),
                );
            }
        }
    }

    fn free(&mut self, item: &Item, full: &str, line: usize) -> Option<toml::Value> {
        match item.as_table_like() {
            Some(t) => Some(toml::Value::Table(self.table(t, None, full, line))),
            None => self.leaf(item, full, line),
        }
    }

    fn leaf(&mut self, item: &Item, full: &str, line: usize) -> Option<toml::Value> {
        let v = item_to_value(item)?;
        self.origins.insert(
            full.to_string(),
            Origin {
                file: self.src.file.to_string(),
                line,
            },
        );
        // Entries of an array of tables (`[[metric]]`) or of inline tables get their own
        // lines, as `metric[1].name`, so an error in the second entry points at it.
        let entries: Vec<&dyn TableLike> = match item {
            Item::ArrayOfTables(aot) => aot.iter().map(|t| t as &dyn TableLike).collect(),
            Item::Value(toml_edit::Value::Array(arr)) => arr
                .iter()
                .filter_map(|x| x.as_inline_table().map(|t| t as &dyn TableLike))
                .collect(),
            _ => Vec::new(),
        };
        for (i, t) in entries.into_iter().enumerate() {
            let entry = format!("{full}[{i}]");
            let keys: Vec<(String, usize)> = t
                .iter()
                .map(|(k, x)| {
                    (
                        k.to_string(),
                        self.src.line(t.key(k).and_then(|key| key.span()).or_else(|| x.span())),
                    )
                })
                .collect();
            let entry_line = keys.iter().map(|(_, l)| *l).filter(|&l| l > 0).min().unwrap_or(line);
            self.origins.insert(
                entry.clone(),
                Origin {
                    file: self.src.file.to_string(),
                    line: entry_line,
                },
            );
            for (k, key_line) in keys {
                let line = if key_line > 0 { key_line } else { entry_line };
                self.origins.insert(
                    format!("{entry}.{k}"),
                    Origin {
                        file: self.src.file.to_string(),
                        line,
                    },
                );
            }
        }
        Some(v)
    }

    /// The first error in line order, if any.
    fn first_error(&mut self) -> Option<ScenarioError> {
        let errors = std::mem::take(&mut self.errors);
        errors.into_iter().min_by_key(ScenarioError::sort_line)
    }
}

type Layer = (toml::Table, BTreeMap<String, Origin>);

/// Read one file (already read into `text`), check it, follow its `extends`
/// and return the merged result of it over its bases.
fn load_layer(
    path: PathBuf,
    text: &str,
    schema: &Schema,
    chain: &mut Vec<(PathBuf, String)>,
    files: &mut Vec<PathBuf>,
) -> Result<Layer, ScenarioError> {
    let display = path.display().to_string();
    let doc = toml_edit::ImDocument::parse(text).map_err(|e| parse_error(&display, text, &e))?;

    let mut walker = Walker::new(Source::file(&display, text), schema, true);
    let table = walker.table(doc.as_table(), Some(&schema.root), "", 1);
    if let Some(e) = walker.first_error() {
        return Err(e);
    }
    let Walker { extends, origins, .. } = walker;

    let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let result = match extends {
        None => (table, origins),
        Some((target, line)) => {
            let base_path = resolve(&path, &target);
            let base_display = base_path.display().to_string();
            if chain.len() + 1 >= crate::limits::MAX_EXTENDS_DEPTH {
                return Err(ScenarioError::at(
                    &display,
                    line,
                    Some("extends".to_string()),
                    format!(
                        "the chain of extends is deeper than {} files; a scenario should extend a few others at most",
                        crate::limits::MAX_EXTENDS_DEPTH
                    ),
                ));
            }
            let base_text = read_input(&base_path).map_err(|e| {
                ScenarioError::at(
                    &display,
                    line,
                    Some("extends".to_string()),
                    format!("this file extends \"{target}\", but {base_display} cannot be read: {e}"),
                )
            })?;
            let base_canonical = std::fs::canonicalize(&base_path).unwrap_or_else(|_| base_path.clone());
            if base_canonical == canonical || chain.iter().any(|(c, _)| *c == base_canonical) {
                let mut names: Vec<&str> = chain.iter().map(|(_, d)| d.as_str()).collect();
                names.push(&display);
                names.push(&base_display);
                return Err(ScenarioError::at(
                    &display,
                    line,
                    Some("extends".to_string()),
                    format!("scenario files extend each other in a loop: {}", names.join(" -> ")),
                ));
            }
            chain.push((canonical, display.clone()));
            let base = load_layer(base_path, &base_text, schema, chain, files);
            chain.pop();
            let (mut base_table, base_origins) = base?;
            let merged_origins = merge(&mut base_table, base_origins, table, origins);
            (base_table, merged_origins)
        }
    };
    files.push(path);
    Ok(result)
}

/// `target` relative to the directory of `from`, without `.` components.
fn resolve(from: &Path, target: &str) -> PathBuf {
    let dir = from.parent().unwrap_or_else(|| Path::new(""));
    dir.join(target)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

fn parse_error(display: &str, text: &str, e: &toml_edit::TomlError) -> ScenarioError {
    let (line, column) = match e.span() {
        Some(span) => line_col(text, span.start),
        None => (0, 0),
    };
    let message = parse_message(e.message());
    let message = if column > 0 {
        format!("this is not valid TOML (column {column}): {message}")
    } else {
        format!("this is not valid TOML: {message}")
    };
    ScenarioError::new(Some(display.to_string()), Some(line), None, message)
}

/// Condense toml_edit's multi-line message into one phrase: the first
/// meaningful line plus an "expected ..." line if there is one.
fn parse_message(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let Some(first) = lines.first() else {
        return "syntax error".to_string();
    };
    let mut message = first.to_string();
    if let Some(expected) = lines[1..]
        .iter()
        .find(|l| l.starts_with("expected") && !first.contains(*l))
    {
        message.push_str(", ");
        message.push_str(expected);
    }
    message
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

// ---------------------------------------------------------------------------
// --set

fn parse_set(set: &str, schema: &Schema) -> Result<Layer, ScenarioError> {
    let example = "for example --set region.villages=50";
    let Some((key, raw)) = set.split_once('=') else {
        return Err(ScenarioError::new(
            Some(SET_FILE.to_string()),
            None,
            None,
            format!("\"{set}\" is not of the form section.key=value ({example})"),
        ));
    };
    let key = key.trim();
    let keys = toml_edit::Key::parse(key)
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ScenarioError::new(
                Some(SET_FILE.to_string()),
                None,
                Some(key.to_string()),
                format!("\"{key}\" is not a valid setting name ({example})"),
            )
        })?;
    let raw = raw.trim();
    let value: toml_edit::Value = raw.parse().unwrap_or_else(|_| toml_edit::Value::from(raw));

    let mut item = Item::Value(value);
    for k in keys.iter().rev() {
        let mut t = toml_edit::Table::new();
        t.insert(k.get(), item);
        item = Item::Table(t);
    }
    let root = match item {
        Item::Table(t) => t,
        _ => toml_edit::Table::new(),
    };
    let mut walker = Walker::new(Source::set(), schema, false);
    let table = walker.table(&root, Some(&schema.root), "", 0);
    if let Some(e) = walker.first_error() {
        return Err(e);
    }
    Ok((table, walker.origins))
}

// ---------------------------------------------------------------------------
// Merging

/// Merge `over` into `base` (tables recursively, anything else replaces) and
/// return the origins of the merged result.
fn merge(
    base: &mut toml::Table,
    base_origins: BTreeMap<String, Origin>,
    over: toml::Table,
    mut over_origins: BTreeMap<String, Origin>,
) -> BTreeMap<String, Origin> {
    fn merge_tables(base: &mut toml::Table, over: toml::Table) {
        for (k, v) in over {
            match (base.get_mut(&k), v) {
                (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
                (_, v) => {
                    base.insert(k, v);
                }
            }
        }
    }
    merge_tables(base, over);
    let mut base_origins = base_origins;
    flatten(base)
        .into_keys()
        .filter_map(|k| {
            let origin = over_origins.remove(&k).or_else(|| base_origins.remove(&k))?;
            Some((k, origin))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Errors after merging

/// Origin of dotted path `key`: exact, else the closest enclosing leaf, else
/// the first-set leaf inside it.
fn find_origin<'o>(origins: &'o BTreeMap<String, Origin>, key: &str) -> Option<&'o Origin> {
    if let Some(o) = origins.get(key) {
        return Some(o);
    }
    let enclosing = origins
        .iter()
        .filter(|(k, _)| {
            key.strip_prefix(k.as_str())
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
        .max_by_key(|(k, _)| k.len())
        .map(|(_, o)| o);
    if enclosing.is_some() {
        return enclosing;
    }
    let inner_prefix = format!("{key}.");
    origins
        .iter()
        .filter(|(k, _)| key.is_empty() || k.starts_with(&inner_prefix))
        .map(|(_, o)| o)
        .min_by_key(|o| (o.file == SET_FILE, o.line))
}

fn located(origins: &BTreeMap<String, Origin>, key: Option<String>, message: String) -> ScenarioError {
    let origin = key.as_deref().and_then(|k| find_origin(origins, k));
    match origin {
        Some(o) => ScenarioError::new(Some(o.file.clone()), Some(o.line), key, message),
        None => {
            let message = if key.is_some() {
                format!("{message} (this is the built-in default; it is not set in any scenario file)")
            } else {
                message
            };
            ScenarioError::new(None, None, key, message)
        }
    }
}

fn deserialize_error(
    e: &serde_path_to_error::Error<toml::de::Error>,
    table: &toml::Table,
    origins: &BTreeMap<String, Origin>,
) -> ScenarioError {
    use serde_path_to_error::Segment;
    let mut key = String::new();
    let mut value: Option<&toml::Value> = None;
    let mut at_root = true;
    let mut lost = false;
    for segment in e.path() {
        match segment {
            Segment::Map { key: k } => {
                key = join(&key, k);
                value = if at_root {
                    table.get(k)
                } else {
                    value.and_then(|v| v.as_table()).and_then(|t| t.get(k))
                };
                at_root = false;
            }
            Segment::Seq { index } => {
                key.push_str(&format!("[{index}]"));
                value = value.and_then(|v| v.as_array()).and_then(|a| a.get(*index));
            }
            Segment::Enum { .. } => {}
            Segment::Unknown => lost = true,
        }
    }
    if lost || at_root {
        value = None;
    }
    let mut message = humanize(first_line(e.inner().message()));
    if let Some(v) = value {
        let shown = render(v);
        if !message.contains(&shown) {
            message.push_str(&format!("; the value given was {shown}"));
        }
    }
    let key = (!key.is_empty()).then_some(key);
    located(origins, key, message)
}

fn validation_error(key: String, message: String, origins: &BTreeMap<String, Origin>) -> ScenarioError {
    let key = (!key.is_empty()).then_some(key);
    located(origins, key, message)
}

/// Reword serde's type names for a non-programmer.
fn humanize(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("data did not match any variant of untagged enum ") {
        let forms = match rest.trim() {
            "Schedule" => "a number for a constant (0.4), or a list of [year, value] keyframes in increasing years ([[2000, 0.2], [2030, 0.8]])".to_string(),
            other => format!("a value of type {other}"),
        };
        return format!("the value is in none of the forms this setting accepts; expected {forms}");
    }
    let Some(pos) = message.find("expected ") else {
        return message.to_string();
    };
    let (head, tail) = message.split_at(pos + "expected ".len());
    let word_end = tail.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(tail.len());
    let (word, rest) = tail.split_at(word_end);
    let plain = match word {
        "f32" | "f64" => "a number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "char" => "a single character",
        _ => return message.to_string(),
    };
    format!("{head}{plain}{rest}")
}

// ---------------------------------------------------------------------------
// Helpers

/// Append key segment `k` to dotted path `prefix`, quoting non-bare keys.
fn join(prefix: &str, k: &str) -> String {
    let bare = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let seg = if bare { k.to_string() } else { format!("{k:?}") };
    if prefix.is_empty() {
        seg
    } else {
        format!("{prefix}.{seg}")
    }
}

fn first_line(s: &str) -> &str {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

fn one_paragraph(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Convert a toml_edit item into a plain value (`None` for `Item::None`).
fn item_to_value(item: &Item) -> Option<toml::Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(edit_to_value(v)),
        Item::Table(t) => Some(toml::Value::Table(table_like_to_table(t))),
        Item::ArrayOfTables(a) => Some(toml::Value::Array(
            a.iter().map(|t| toml::Value::Table(table_like_to_table(t))).collect(),
        )),
    }
}

fn table_like_to_table(t: &dyn TableLike) -> toml::Table {
    t.iter()
        .filter_map(|(k, item)| item_to_value(item).map(|v| (k.to_string(), v)))
        .collect()
}

fn edit_to_value(v: &toml_edit::Value) -> toml::Value {
    use toml_edit::Value as E;
    match v {
        E::String(s) => toml::Value::String(s.value().clone()),
        E::Integer(i) => toml::Value::Integer(*i.value()),
        E::Float(f) => toml::Value::Float(*f.value()),
        E::Boolean(b) => toml::Value::Boolean(*b.value()),
        E::Datetime(d) => {
            let s = d.value().to_string();
            match s.parse::<toml::value::Datetime>() {
                Ok(d) => toml::Value::Datetime(d),
                Err(_) => toml::Value::String(s),
            }
        }
        E::Array(a) => toml::Value::Array(a.iter().map(edit_to_value).collect()),
        E::InlineTable(t) => toml::Value::Table(table_like_to_table(t)),
    }
}

/// Short TOML-like rendering of a value for messages (never panics).
fn render(v: &toml::Value) -> String {
    fn go(v: &toml::Value, out: &mut String) {
        match v {
            toml::Value::String(s) => out.push_str(&format!("{s:?}")),
            toml::Value::Integer(i) => out.push_str(&i.to_string()),
            toml::Value::Float(f) => {
                if f.is_nan() {
                    out.push_str("nan");
                } else {
                    out.push_str(&format!("{f:?}"));
                }
            }
            toml::Value::Boolean(b) => out.push_str(&b.to_string()),
            toml::Value::Datetime(d) => out.push_str(&d.to_string()),
            toml::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(x, out);
                    if out.len() > MAX_VALUE_CHARS * 4 {
                        break;
                    }
                }
                out.push(']');
            }
            toml::Value::Table(t) => {
                out.push('{');
                for (i, (k, x)) in t.iter().enumerate() {
                    out.push_str(if i > 0 { ", " } else { " " });
                    out.push_str(&join("", k));
                    out.push_str(" = ");
                    go(x, out);
                    if out.len() > MAX_VALUE_CHARS * 4 {
                        break;
                    }
                }
                out.push_str(if t.is_empty() { "}" } else { " }" });
            }
        }
    }
    let mut out = String::new();
    go(v, &mut out);
    if out.chars().count() > MAX_VALUE_CHARS {
        let cut: String = out.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Scen {
        run: Run,
        migration: Migration,
        paths: Paths,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Run {
        seed: u64,
        name: String,
        years: u32,
    }

    impl Default for Run {
        fn default() -> Self {
            Run {
                seed: 1,
                name: "baseline".to_string(),
                years: 30,
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Migration {
        base_hazard: f64,
        wage_gap: Sched,
    }

    impl Default for Migration {
        fn default() -> Self {
            Migration {
                base_hazard: 0.02,
                wage_gap: Sched::Const(0.0),
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Sched {
        Const(f64),
        Steps(Vec<[f64; 2]>),
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Paths {
        legal: Legal,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Legal {
        intensity: f64,
    }

    impl Validate for Scen {
        fn validate(&self, v: &mut Validator) {
            v.range("migration.base_hazard", self.migration.base_hazard, 0.0, 1.0);
            v.range("paths.legal.intensity", self.paths.legal.intensity, 0.0, 1.0);
            v.range_int("run.years", i64::from(self.run.years), 1, 200);
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_ok(path: &Path, sets: &[&str]) -> Loaded<Scen> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match load::<Scen>(path, &sets) {
            Ok(l) => l,
            Err(e) => panic!("expected success, got: {e}"),
        }
    }

    fn load_err(path: &Path, sets: &[&str]) -> ScenarioError {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match load::<Scen>(path, &sets) {
            Ok(l) => panic!("expected an error, got {:?}", l.value),
            Err(e) => {
                let shown = e.to_string();
                assert!(!shown.contains('\n'), "multi-line error: {shown}");
                e
            }
        }
    }

    fn origin(file: &Path, line: usize) -> Origin {
        Origin {
            file: file.display().to_string(),
            line,
        }
    }

    #[test]
    fn happy_path_with_extends_override_and_origins() {
        let dir = tempfile::tempdir().unwrap();
        let base = write(
            dir.path(),
            "scenarios/common/base.toml",
            "# base scenario\n[run]\nseed = 7\nname = \"base\"\n\n[migration]\nbase_hazard = 0.05\nwage_gap = 0.3\n",
        );
        let legal = write(
            dir.path(),
            "scenarios/legal.toml",
            "extends = \"common/base.toml\"\nrun.name = \"legal\"\n\n[migration]\nwage_gap = [[2020, 0.3], [2030, 0.1]]\n\n[paths.legal]\nintensity = 0.8\n",
        );
        let l = load_ok(&legal, &[]);
        assert_eq!(l.value.run.seed, 7);
        assert_eq!(l.value.run.name, "legal");
        assert_eq!(l.value.run.years, 30);
        assert_eq!(l.value.migration.base_hazard, 0.05);
        assert_eq!(
            l.value.migration.wage_gap,
            Sched::Steps(vec![[2020.0, 0.3], [2030.0, 0.1]])
        );
        assert_eq!(l.value.paths.legal.intensity, 0.8);

        assert_eq!(l.files, vec![base.clone(), legal.clone()]);
        assert!(!l.table.contains_key("extends"));
        assert_eq!(l.origins.get("run.seed"), Some(&origin(&base, 3)));
        assert_eq!(l.origins.get("run.name"), Some(&origin(&legal, 2)));
        assert_eq!(l.origins.get("migration.base_hazard"), Some(&origin(&base, 7)));
        assert_eq!(l.origins.get("migration.wage_gap"), Some(&origin(&legal, 5)));
        assert_eq!(l.origins.get("paths.legal.intensity"), Some(&origin(&legal, 8)));
        assert_eq!(l.origins.get("run.years"), None);
        assert_eq!(l.origins.len(), 5);
    }

    #[test]
    fn inline_tables_and_dotted_keys_have_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "x.toml",
            "run = { seed = 3, name = \"n\" }\nmigration.base_hazard = 0.1\n\n[paths]\nlegal = { intensity = 0.5 }\n",
        );
        let l = load_ok(&p, &[]);
        assert_eq!(l.value.run.seed, 3);
        assert_eq!(l.origins.get("run.seed"), Some(&origin(&p, 1)));
        assert_eq!(l.origins.get("run.name"), Some(&origin(&p, 1)));
        assert_eq!(l.origins.get("migration.base_hazard"), Some(&origin(&p, 2)));
        assert_eq!(l.origins.get("paths.legal.intensity"), Some(&origin(&p, 5)));
    }

    #[test]
    fn unknown_key_names_line_and_suggests_sibling() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "x.toml",
            "[run]\nseed = 1\n\n[migration]\nbase_hazrd = 0.1\n",
        );
        let e = load_err(&p, &[]);
        assert_eq!(e.file.as_deref(), Some(p.display().to_string().as_str()));
        assert_eq!(e.line, Some(5));
        assert_eq!(e.key.as_deref(), Some("migration.base_hazrd"));
        let s = e.to_string();
        assert!(s.contains("x.toml, line 5: key \"migration.base_hazrd\""), "{s}");
        assert!(s.contains("did you mean \"migration.base_hazard\"?"), "{s}");
    }

    #[test]
    fn unknown_section_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.toml", "[run]\nseed = 1\n[migraton]\nbase_hazard = 0.1\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("migraton"));
        assert!(e.to_string().contains("did you mean \"migration\"?"), "{e}");

        // A nested section written at the top level.
        let p = write(dir.path(), "b.toml", "\n[legal]\nintensity = 0.1\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("did you mean \"paths.legal\"?"), "{e}");

        // Nothing close: list the valid sections.
        let p = write(dir.path(), "c.toml", "[weather]\nrain = 1\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(1));
        let s = e.to_string();
        assert!(s.contains("key \"weather\""), "{s}");
        assert!(s.contains("migration, paths, run"), "{s}");

        // Unknown key in a nested section, nothing close: list its keys.
        let p = write(dir.path(), "d.toml", "[paths.legal]\nintensity = 0.1\nzzz = 2\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("paths.legal.zzz"));
        assert!(e.to_string().contains("[paths.legal] are: intensity"), "{e}");
    }

    #[test]
    fn misspelled_key_far_from_siblings_gets_dotted_path_suggestion() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.toml", "[run]\nseed = 1\nbase_hazrd = 0.1\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("run.base_hazrd"));
        assert!(e.to_string().contains("did you mean \"migration.base_hazard\"?"), "{e}");
    }

    #[test]
    fn first_unknown_key_in_line_order_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "x.toml",
            "[migration]\nbogus1 = 1\n[run]\nbogus2 = 2\n[migration.sub]\nx = 1\n",
        );
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("migration.bogus1"));
    }

    #[test]
    fn section_and_leaf_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.toml", "seed = 1\nrun = 3\n");
        let e = load_err(&p, &[]);
        // `seed` at the top level is unknown and comes first.
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("did you mean \"run.seed\"?"), "{e}");

        let p = write(dir.path(), "b.toml", "\nrun = 3\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("run"));
        assert!(e.to_string().contains("section"), "{e}");
        assert!(e.to_string().contains("got 3"), "{e}");

        let p = write(dir.path(), "c.toml", "[run]\nname = \"x\"\n[run.seed]\nvalue = 3\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("run.seed"));
        assert!(e.to_string().contains("single setting"), "{e}");
        assert!(e.to_string().contains("run.seed = 1"), "{e}");
    }

    #[test]
    fn malformed_toml_gives_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "bad.toml", "[run]\nseed = 1\nname = \"unterminated\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key, None);
        let s = e.to_string();
        assert!(s.contains("bad.toml, line 3: "), "{s}");
        assert!(s.contains("not valid TOML"), "{s}");
        assert!(s.contains("column"), "{s}");

        let p = write(dir.path(), "bad2.toml", "[run]\n\nseed = = 2\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));

        let p = write(dir.path(), "dup.toml", "[run]\nseed = 1\nseed = 2\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().contains("duplicate"), "{e}");
    }

    #[test]
    fn wrong_type_names_key_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.toml", "[migration]\n\nbase_hazard = \"high\"\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("migration.base_hazard"));
        let s = e.to_string();
        assert!(s.contains("x.toml, line 3: key \"migration.base_hazard\""), "{s}");
        assert!(s.contains("\"high\""), "{s}");
        assert!(s.contains("expected a number"), "{s}");

        let p = write(dir.path(), "y.toml", "[migration]\nwage_gap = [[2020, 0.1], [2030]]\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("migration.wage_gap"));
        let s = e.to_string();
        assert!(s.contains("[[2020, 0.1], [2030]]"), "{s}");

        let p = write(dir.path(), "z.toml", "[run]\nseed = -3\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("-3"), "{e}");
        assert!(e.to_string().contains("whole number"), "{e}");
    }

    #[test]
    fn out_of_range_names_key_line_value_and_range() {
        let dir = tempfile::tempdir().unwrap();
        let base = write(dir.path(), "base.toml", "[paths.legal]\nintensity = 0.5\n");
        let p = write(
            dir.path(),
            "x.toml",
            "extends = \"base.toml\"\n\n[paths.legal]\nintensity = 1.5\n",
        );
        let e = load_err(&p, &[]);
        assert_eq!(e.file.as_deref(), Some(p.display().to_string().as_str()));
        assert_eq!(e.line, Some(4));
        assert_eq!(e.key.as_deref(), Some("paths.legal.intensity"));
        let s = e.to_string();
        assert!(s.contains("1.5"), "{s}");
        assert!(s.contains("between 0 and 1"), "{s}");

        // Integer range, value from the base file.
        write(dir.path(), "base.toml", "[run]\nyears = 0\n");
        write(dir.path(), "x.toml", "extends = \"base.toml\"\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.file.as_deref(), Some(base.display().to_string().as_str()));
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("run.years"));
        assert!(e.to_string().contains("between 1 and 200, but is 0"), "{e}");
    }

    #[test]
    fn validation_error_on_default_has_key_but_no_file() {
        let e = validation_error(
            "run.years".to_string(),
            "must be positive".to_string(),
            &BTreeMap::new(),
        );
        assert_eq!(e.file, None);
        assert_eq!(e.line, None);
        assert_eq!(e.key.as_deref(), Some("run.years"));
        assert!(e.to_string().starts_with("key \"run.years\": must be positive"), "{e}");
    }

    #[test]
    fn extends_cycles_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.toml", "extends = \"b.toml\"\n");
        let b = write(dir.path(), "b.toml", "\nextends = \"a.toml\"\n[run]\nseed = 2\n");
        let e = load_err(&a, &[]);
        assert_eq!(e.file.as_deref(), Some(b.display().to_string().as_str()));
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("extends"));
        let s = e.to_string();
        let chain = format!("{} -> {} -> {}", a.display(), b.display(), a.display());
        assert!(s.contains(&chain), "{s}");

        let selfish = write(dir.path(), "self.toml", "extends = \"self.toml\"\n");
        let e = load_err(&selfish, &[]);
        assert_eq!(e.line, Some(1));
        let chain = format!("{} -> {}", selfish.display(), selfish.display());
        assert!(e.to_string().contains(&chain), "{e}");
        assert!(e.to_string().contains("loop"), "{e}");
    }

    #[test]
    fn missing_or_bad_extends_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "child.toml",
            "# child\n\nextends = \"nope.toml\"\n[run]\nseed = 1\n",
        );
        let e = load_err(&p, &[]);
        assert_eq!(e.file.as_deref(), Some(p.display().to_string().as_str()));
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("extends"));
        let s = e.to_string();
        assert!(s.contains("nope.toml"), "{s}");
        assert!(s.contains("cannot be read"), "{s}");

        write(dir.path(), "child.toml", "\nextends = 3\n");
        let e = load_err(&p, &[]);
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("extends"));
        assert!(e.to_string().contains("got 3"), "{e}");
    }

    #[test]
    fn set_overrides_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.toml", "[run]\nseed = 1\nname = \"file\"\n");
        let l = load_ok(
            &p,
            &[
                "run.seed=99",
                " run.name = foo bar ",
                "migration.wage_gap=[[2020, 0.1]]",
                "paths.legal = { intensity = 0.25 }",
            ],
        );
        assert_eq!(l.value.run.seed, 99);
        assert_eq!(l.value.run.name, "foo bar");
        assert_eq!(l.value.migration.wage_gap, Sched::Steps(vec![[2020.0, 0.1]]));
        assert_eq!(l.value.paths.legal.intensity, 0.25);
        let set = Origin {
            file: "--set".to_string(),
            line: 0,
        };
        assert_eq!(l.origins.get("run.seed"), Some(&set));
        assert_eq!(l.origins.get("paths.legal.intensity"), Some(&set));

        let e = load_err(&p, &["migration.base_hazrd=0.1"]);
        assert_eq!(e.file.as_deref(), Some("--set"));
        assert_eq!(e.line, None);
        assert_eq!(e.key.as_deref(), Some("migration.base_hazrd"));
        assert!(e.to_string().starts_with("--set: key \"migration.base_hazrd\""), "{e}");
        assert!(e.to_string().contains("did you mean \"migration.base_hazard\"?"), "{e}");

        let e = load_err(&p, &["run.seed=abc"]);
        assert_eq!(e.file.as_deref(), Some("--set"));
        assert_eq!(e.key.as_deref(), Some("run.seed"));
        assert!(e.to_string().contains("\"abc\""), "{e}");

        let e = load_err(&p, &["run.seed"]);
        assert_eq!(e.file.as_deref(), Some("--set"));
        assert!(e.to_string().contains("section.key=value"), "{e}");

        let e = load_err(&p, &["=3"]);
        assert!(e.to_string().contains("not a valid setting name"), "{e}");

        let e = load_err(&p, &["extends=base.toml"]);
        assert!(e.to_string().contains("only be used inside a scenario file"), "{e}");

        let e = load_err(&p, &["paths.legal.intensity=2"]);
        assert_eq!(e.file.as_deref(), Some("--set"));
        assert_eq!(e.key.as_deref(), Some("paths.legal.intensity"));
        assert!(e.to_string().contains("between 0 and 1, but is 2"), "{e}");
    }

    #[test]
    fn missing_file_names_path_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("absent.toml");
        let e = load_err(&p, &[]);
        assert_eq!(e.file.as_deref(), Some(p.display().to_string().as_str()));
        assert_eq!(e.line, None);
        let s = e.to_string();
        assert!(s.contains("absent.toml: cannot read this file"), "{s}");
        assert!(s.contains("os error"), "{s}");
    }

    #[test]
    fn flatten_gives_sorted_dotted_leaves() {
        let t: toml::Table =
            toml::from_str("top = 1\n[b]\nx = [1, 2]\n[a.c]\ny = \"s\"\n\"odd.key\" = true\n[empty]\n").unwrap();
        let f = flatten(&t);
        let keys: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["a.c.\"odd.key\"", "a.c.y", "b.x", "top"]);
        assert_eq!(
            f.get("b.x"),
            Some(&toml::Value::Array(vec![
                toml::Value::Integer(1),
                toml::Value::Integer(2)
            ]))
        );
    }

    #[test]
    fn display_formats_present_parts() {
        let e = ScenarioError {
            file: Some("s.toml".into()),
            line: Some(4),
            key: Some("run.seed".into()),
            message: "bad\nthing".into(),
        };
        assert_eq!(e.to_string(), "s.toml, line 4: key \"run.seed\": bad thing");
        let e = ScenarioError {
            file: None,
            line: None,
            key: None,
            message: "plain".into(),
        };
        assert_eq!(e.to_string(), "plain");
    }

    #[test]
    fn validator_collects_in_order() {
        let mut v = Validator::new();
        assert!(v.is_empty());
        v.range("a", 0.5, 0.0, 1.0);
        v.range("b", f64::NAN, 0.0, 1.0);
        v.range_int("c", 5, 0, 3);
        v.error("d", "custom");
        let errors = v.into_errors();
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["b", "c", "d"]);
        assert!(errors[0].1.contains("NaN"));
        assert!(errors[1].1.contains("between 0 and 3, but is 5"));
    }
}
