//! Parquet outputs (`--format csv|parquet|both`) of `run`, `sweep` and `merge`: the Parquet
//! copy holds exactly the CSV's numbers with typed columns, the bytes do not depend on the
//! thread count, a folder never keeps the copy of another format, and a sweep in Parquet can
//! still be compared.

use std::fs;
use std::path::Path;

use arrow_array::{
    Array, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{arg, assert_clean_error, names_in, run_tiny, ruralgov, tiny, write, Csv};

/// Every record batch of a Parquet file.
fn batches(path: &Path) -> Vec<RecordBatch> {
    let f = fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("a Parquet file")
        .build()
        .expect("a reader");
    reader.map(|b| b.expect("a batch")).collect()
}

/// Column `name` of a Parquet file as text, each cell as the CSV writes it.
fn cells(path: &Path, name: &str) -> (DataType, Vec<String>) {
    let mut out = Vec::new();
    let mut dt = DataType::Null;
    for b in batches(path) {
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name} in {}", path.display()));
        dt = col.data_type().clone();
        for i in 0..col.len() {
            let cell = if col.is_null(i) {
                String::new()
            } else if let Some(a) = col.as_any().downcast_ref::<Float64Array>() {
                ruralgov::output::num(a.value(i))
            } else if let Some(a) = col.as_any().downcast_ref::<Int64Array>() {
                a.value(i).to_string()
            } else if let Some(a) = col.as_any().downcast_ref::<UInt64Array>() {
                a.value(i).to_string()
            } else if let Some(a) = col.as_any().downcast_ref::<BooleanArray>() {
                a.value(i).to_string()
            } else if let Some(a) = col
                .as_any()
                .downcast_ref::<DictionaryArray<arrow_array::types::Int32Type>>()
            {
                let values = a
                    .values()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("string values");
                values.value(a.keys().value(i) as usize).to_string()
            } else {
                panic!("unexpected column type {dt:?}")
            };
            out.push(cell);
        }
    }
    (dt, out)
}

/// Assert that `dir/stem.parquet` holds, column by column, the cells of `dir/stem.csv`
/// (`csv_dir` when the CSV is in another folder).
fn assert_same_table(csv_dir: &Path, dir: &Path, stem: &str) {
    let csv = Csv::read(&csv_dir.join(format!("{stem}.csv")));
    let pq = dir.join(format!("{stem}.parquet"));
    for (j, name) in csv.header.iter().enumerate() {
        let (_, got) = cells(&pq, name);
        let want: Vec<String> = csv.rows.iter().map(|r| r[j].clone()).collect();
        // The CSV writes a whole double without a fraction and other doubles in the shortest
        // form; `num` does the same, so the texts agree exactly when the numbers do.
        let norm = |s: &String| {
            s.parse::<f64>()
                .map(ruralgov::output::num)
                .unwrap_or_else(|_| s.clone())
        };
        assert_eq!(
            got.iter().map(norm).collect::<Vec<_>>(),
            want.iter().map(norm).collect::<Vec<_>>(),
            "{stem}.{name}"
        );
    }
}

#[test]
fn run_in_both_formats_writes_typed_parquet_with_the_csv_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("both");
    run_tiny(&out, &["--format", "both", "--threads", "2"]);
    for stem in ["metrics", "villages", "pyramid", "distributions"] {
        assert_same_table(&out, &out, stem);
    }
    let m = out.join("metrics.parquet");
    assert_eq!(cells(&m, "step").0, DataType::Int64);
    assert_eq!(cells(&m, "residents").0, DataType::Float64, "metrics are doubles");
    let v = out.join("villages.parquet");
    assert_eq!(cells(&v, "residents").0, DataType::Int64, "counts are integers");
    assert_eq!(cells(&v, "contested").0, DataType::Boolean);
    assert!(matches!(cells(&v, "controller").0, DataType::Dictionary(_, _)));
    let manifest = fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"format\": \"both\""));
    assert!(manifest.contains("\"metrics.parquet\""));

    // The same bytes at one thread.
    let one = dir.path().join("one");
    run_tiny(&one, &["--format", "parquet", "--threads", "1"]);
    for stem in ["metrics", "villages", "pyramid", "distributions"] {
        let name = format!("{stem}.parquet");
        assert_eq!(fs::read(out.join(&name)).ok(), fs::read(one.join(&name)).ok(), "{name}");
    }
    // Parquet only: no CSV tables.
    assert!(
        !names_in(&one).iter().any(|n| n.ends_with(".csv")),
        "{:?}",
        names_in(&one)
    );
}

#[test]
fn a_rerun_in_another_format_leaves_no_copy_of_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    run_tiny(&out, &["--format", "parquet"]);
    run_tiny(&out, &["--format", "csv"]);
    let names = names_in(&out);
    assert!(!names.iter().any(|n| n.ends_with(".parquet")), "{names:?}");
    assert!(names.contains(&"metrics.csv".to_string()));
    run_tiny(&out, &["--format", "parquet"]);
    let names = names_in(&out);
    assert!(!names.iter().any(|n| n.ends_with(".csv")), "{names:?}");
}

#[test]
fn a_wrong_format_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x");
    let o = ruralgov(&["run", &arg(&tiny()), "--out", &arg(&out), "--format", "xlsx"]);
    assert_clean_error(&o, &["--format xlsx", "csv, parquet or both"]);
    assert!(!out.exists());
}

#[test]
fn a_sweep_in_parquet_keeps_what_compare_reads_and_matches_the_csv_sweep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exp = write(
        dir.path(),
        "exp.toml",
        &format!(
            "name = \"pq\"\nbase = '{}'\nseed = 3\nreplications = 2\nset = {{ \"run.end_year\" = 2006, \"region.villages\" = 3, \"output.villages\" = true }}\n\n[[arm]]\nname = \"baseline\"\nset = {{ \"paths.legal.intensity\" = 0 }}\n\n[[arm]]\nname = \"legal\"\nset = {{ \"paths.legal.intensity\" = 1.5 }}\n\n[[metric]]\nname = \"governance_index\"\nstat = \"mean\"\n",
            tiny().display()
        ),
    );
    let csv = dir.path().join("csv");
    let pq = dir.path().join("pq");
    ruralgov(&["sweep", &arg(&exp), "--out", &arg(&csv), "--quiet"]).assert_success();
    ruralgov(&[
        "sweep",
        &arg(&exp),
        "--out",
        &arg(&pq),
        "--quiet",
        "--format",
        "parquet",
    ])
    .assert_success();
    let names = names_in(&pq);
    for n in [
        "runs.csv",
        "summary.csv",
        "runs.parquet",
        "model.parquet",
        "villages.parquet",
        "summary.parquet",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing: {names:?}");
    }
    for n in ["model.csv", "villages.csv"] {
        assert!(!names.contains(&n.to_string()), "{n} written with --format parquet");
    }
    for stem in ["runs", "model", "villages", "summary"] {
        assert_same_table(&csv, &pq, stem);
    }
    assert_eq!(cells(&pq.join("runs.parquet"), "seed").0, DataType::UInt64);
    assert!(matches!(
        cells(&pq.join("runs.parquet"), "arm").0,
        DataType::Dictionary(_, _)
    ));
    ruralgov(&["compare", &arg(&pq)]).assert_success();
    // Back to CSV: the Parquet copies go, the CSV tables come back.
    ruralgov(&["sweep", &arg(&exp), "--out", &arg(&pq), "--quiet"]).assert_success();
    let names = names_in(&pq);
    assert!(!names.iter().any(|n| n.ends_with(".parquet")), "{names:?}");
    assert_eq!(
        fs::read(pq.join("model.csv")).ok(),
        fs::read(csv.join("model.csv")).ok()
    );
}
