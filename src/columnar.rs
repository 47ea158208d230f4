//! Parquet copies of the output tables (`--format parquet` or `both`).
//!
//! Every table is first made as the CSV that `ruralgov` has always written; its Parquet copy
//! is converted from those bytes, so the two hold the same numbers (the CSV's floats are the
//! shortest text that reads back to the same double) and the columns are declared once. The
//! column types come from what the table's rows are in Rust, not from the values of one run,
//! so every run of a table has the same schema:
//!
//! - identifiers (`run_id`, `point`, `replicate`, `step`, `year`, `month`) and every integer
//!   field of a row type (villages' counts, pyramid's ages and counts) are 64-bit integers;
//! - `seed` is an unsigned 64-bit integer;
//! - metrics and every `f64` field are doubles (an empty CSV cell, which is how NaN and a
//!   missing value are written, is a null);
//! - `bool` fields are booleans;
//! - text (`arm`, `scenario`, `controller`, `sex`, ...) is dictionary-encoded strings;
//! - a column no row type declares (the factors and metric labels of `runs.csv`, the columns
//!   of `summary.csv` and `sensitivity.csv`) is a double when every cell is a number or
//!   empty, and dictionary-encoded text otherwise.
//!
//! Files are Snappy-compressed, written in row groups of 65,536 rows, and carry no time stamp:
//! the same results give the same bytes.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Which files a run or a sweep writes its tables as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// CSV only (the default).
    #[default]
    Csv,
    /// Parquet (a sweep keeps the small CSV tables `compare`, `sensitivity` and `merge` read).
    Parquet,
    /// CSV and Parquet.
    Both,
}

impl Format {
    /// Whether CSV files are written.
    pub fn csv(self) -> bool {
        self != Format::Parquet
    }

    /// Whether Parquet files are written.
    pub fn parquet(self) -> bool {
        self != Format::Csv
    }

    /// The name used on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Both => "both",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        let f = match s {
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            "both" => Format::Both,
            _ => return Err(Error::option("--format", s, "expected csv, parquet or both")),
        };
        if f.parquet() && !cfg!(feature = "parquet") {
            return Err(Error::option(
                "--format",
                s,
                "this ruralgov was built without Parquet support (the default cargo feature `parquet`); use --format csv, or rebuild with default features",
            ));
        }
        Ok(f)
    }
}

/// The type of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A signed 64-bit integer.
    Int,
    /// An unsigned 64-bit integer (seeds).
    Seed,
    /// A double; empty cells are nulls.
    Float,
    /// A boolean (`true` or `false`).
    Bool,
    /// Dictionary-encoded text.
    Text,
}

/// The Parquet file name of a CSV table (`metrics.csv` -> `metrics.parquet`).
pub fn parquet_name(csv_name: &str) -> String {
    format!("{}.parquet", csv_name.strip_suffix(".csv").unwrap_or(csv_name))
}

/// The kinds a row type declares, from its default value serialized: integers, doubles
/// (and optional doubles, `null` by default), booleans and text.
fn declared<T: serde::Serialize + Default>() -> Vec<(String, Kind)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(T::default()) else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(k, v)| {
            let kind = match v {
                serde_json::Value::Number(n) if n.is_f64() => Kind::Float,
                serde_json::Value::Number(_) => Kind::Int,
                serde_json::Value::Bool(_) => Kind::Bool,
                serde_json::Value::String(_) => Kind::Text,
                _ => Kind::Float,
            };
            (k, kind)
        })
        .collect()
}

/// The declared column kinds of table `name` (a file name of a run or sweep folder).
pub fn kinds(name: &str) -> BTreeMap<String, Kind> {
    let mut k: BTreeMap<String, Kind> = [
        ("run_id", Kind::Int),
        ("point", Kind::Int),
        ("replicate", Kind::Int),
        ("step", Kind::Int),
        ("year", Kind::Int),
        ("month", Kind::Int),
        ("n", Kind::Int),
        ("seed", Kind::Seed),
        ("arm", Kind::Text),
        ("scenario", Kind::Text),
    ]
    .into_iter()
    .map(|(n, kind)| (n.to_string(), kind))
    .collect();
    let rows = match name {
        "metrics.csv" | "model.csv" => crate::model::observe::Metrics::COLUMNS
            .iter()
            .map(|c| (c.name.to_string(), Kind::Float))
            .collect(),
        "villages.csv" => declared::<crate::sim::VillageRow>(),
        "pyramid.csv" => declared::<crate::model::census::PyramidRow>(),
        "distributions.csv" => declared::<crate::model::census::HistogramRow>(),
        "compare.csv" => declared::<crate::experiment::compare::Row>(),
        _ => Vec::new(),
    };
    k.extend(rows);
    k
}

/// Convert the CSV table `name` (its bytes, with a header) to Parquet.
#[cfg(feature = "parquet")]
pub fn to_parquet(name: &str, csv: &[u8]) -> Result<Vec<u8>> {
    imp::to_parquet(name, csv).map_err(|e| Error::render(parquet_name(name), e))
}

/// Without the `parquet` feature there is no converter ([`Format`] refuses to ask for one).
#[cfg(not(feature = "parquet"))]
pub fn to_parquet(name: &str, _csv: &[u8]) -> Result<Vec<u8>> {
    Err(Error::render(parquet_name(name), "built without the `parquet` feature"))
}

#[cfg(feature = "parquet")]
mod imp {
    use std::sync::Arc;

    use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringDictionaryBuilder, UInt64Builder};
    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    use super::{kinds, Kind};

    /// Rows per row group (and per record batch).
    const GROUP: usize = 65_536;

    type Failure = Box<dyn std::error::Error + Send + Sync>;

    enum Column {
        Int(Int64Builder),
        Seed(UInt64Builder),
        Float(Float64Builder),
        Bool(BooleanBuilder),
        Text(StringDictionaryBuilder<Int32Type>),
    }

    impl Column {
        fn new(kind: Kind) -> Column {
            match kind {
                Kind::Int => Column::Int(Int64Builder::new()),
                Kind::Seed => Column::Seed(UInt64Builder::new()),
                Kind::Float => Column::Float(Float64Builder::new()),
                Kind::Bool => Column::Bool(BooleanBuilder::new()),
                Kind::Text => Column::Text(StringDictionaryBuilder::new()),
            }
        }

        fn data_type(kind: Kind) -> DataType {
            match kind {
                Kind::Int => DataType::Int64,
                Kind::Seed => DataType::UInt64,
                Kind::Float => DataType::Float64,
                Kind::Bool => DataType::Boolean,
                Kind::Text => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            }
        }

        fn push(&mut self, cell: &str, column: &str, row: usize) -> Result<(), Failure> {
            let bad = |what: &str| -> Failure { format!("row {row}, column {column}: {cell:?} is not {what}").into() };
            match self {
                Column::Int(b) if cell.is_empty() => b.append_null(),
                Column::Int(b) => b.append_value(cell.parse().map_err(|_| bad("an integer"))?),
                Column::Seed(b) if cell.is_empty() => b.append_null(),
                Column::Seed(b) => b.append_value(cell.parse().map_err(|_| bad("a seed"))?),
                Column::Float(b) if cell.is_empty() => b.append_null(),
                Column::Float(b) => b.append_value(cell.parse().map_err(|_| bad("a number"))?),
                Column::Bool(b) => b.append_value(match cell {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("true or false")),
                }),
                Column::Text(b) => {
                    b.append(cell)?;
                }
            }
            Ok(())
        }

        fn finish(&mut self) -> ArrayRef {
            match self {
                Column::Int(b) => Arc::new(b.finish()),
                Column::Seed(b) => Arc::new(b.finish()),
                Column::Float(b) => Arc::new(b.finish()),
                Column::Bool(b) => Arc::new(b.finish()),
                Column::Text(b) => Arc::new(b.finish()),
            }
        }
    }

    pub(super) fn to_parquet(name: &str, csv: &[u8]) -> Result<Vec<u8>, Failure> {
        let declared = kinds(name);
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv);
        let header: Vec<String> = reader.headers()?.iter().map(String::from).collect();
        // Undeclared columns: a double if every cell is a number or empty, text otherwise.
        let mut numeric = vec![true; header.len()];
        if header.iter().any(|h| !declared.contains_key(h)) {
            for rec in csv::ReaderBuilder::new().has_headers(true).from_reader(csv).records() {
                let rec = rec?;
                for (j, cell) in rec.iter().enumerate().take(header.len()) {
                    numeric[j] &= cell.is_empty() || cell.parse::<f64>().is_ok();
                }
            }
        }
        let column_kinds: Vec<Kind> = header
            .iter()
            .zip(&numeric)
            .map(|(h, &num)| {
                declared
                    .get(h)
                    .copied()
                    .unwrap_or(if num { Kind::Float } else { Kind::Text })
            })
            .collect();
        let schema = Arc::new(Schema::new(
            header
                .iter()
                .zip(&column_kinds)
                .map(|(h, &k)| Field::new(h, Column::data_type(k), !matches!(k, Kind::Text | Kind::Bool)))
                .collect::<Vec<_>>(),
        ));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(GROUP))
            .set_created_by(format!("ruralgov {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?;
        let mut columns: Vec<Column> = column_kinds.iter().map(|&k| Column::new(k)).collect();
        let mut rows = 0usize;
        let flush = |columns: &mut Vec<Column>, writer: &mut ArrowWriter<Vec<u8>>| -> Result<(), Failure> {
            let arrays: Vec<ArrayRef> = columns.iter_mut().map(Column::finish).collect();
            writer.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
            Ok(())
        };
        for (i, rec) in reader.records().enumerate() {
            let rec = rec?;
            if rec.len() != header.len() {
                return Err(format!("row {}: {} cells for {} columns", i + 1, rec.len(), header.len()).into());
            }
            for ((col, cell), h) in columns.iter_mut().zip(rec.iter()).zip(&header) {
                col.push(cell, h, i + 1)?;
            }
            rows += 1;
            if rows.is_multiple_of(GROUP) {
                flush(&mut columns, &mut writer)?;
            }
        }
        if !rows.is_multiple_of(GROUP) || rows == 0 {
            flush(&mut columns, &mut writer)?;
        }
        Ok(writer.into_inner()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_types_declare_their_column_kinds() {
        let v = kinds("villages.csv");
        assert_eq!(v["residents"], Kind::Int);
        assert_eq!(v["governance_index"], Kind::Float);
        assert_eq!(v["contested"], Kind::Bool);
        assert_eq!(v["controller"], Kind::Text);
        let m = kinds("metrics.csv");
        assert_eq!(m["residents"], Kind::Float, "metrics are doubles, even when whole");
        assert_eq!(m["step"], Kind::Int);
        assert_eq!(kinds("runs.csv")["seed"], Kind::Seed);
        assert_eq!(kinds("compare.csv")["per_100k_yuan"], Kind::Float);
        assert_eq!(kinds("pyramid.csv")["sex"], Kind::Text);
    }

    #[test]
    fn formats_parse_and_refuse_others() {
        assert_eq!("csv".parse::<Format>().ok(), Some(Format::Csv));
        assert!("xlsx".parse::<Format>().is_err());
        assert_eq!(parquet_name("model.csv"), "model.parquet");
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn a_table_converts_with_its_types_and_the_same_bytes_each_time() {
        let csv = b"run_id,arm,seed,x,label\n0,base,9007199254740991,0.1,a\n1,legal,3,,b\n";
        let a = to_parquet("runs.csv", csv).expect("converts");
        let b = to_parquet("runs.csv", csv).expect("converts");
        assert_eq!(a, b, "deterministic bytes");
        assert_eq!(&a[..4], b"PAR1");
        assert!(to_parquet("villages.csv", b"residents\nmany\n").is_err());
    }
}
