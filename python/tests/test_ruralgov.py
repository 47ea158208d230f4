"""Tests of the ruralgov Python package, as a user meets it: installed by pip into a fresh
virtual environment (see .ci/run), run from the repository root's scenarios.

The comparison with the command line needs the release binary (`cargo build --release`);
with RURALGOV_REQUIRE_CLI=1 (set by .ci/run) its absence is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import ruralgov

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TINY = SCENARIOS / "tiny.toml"


def cli() -> Path:
    exe = Path(os.environ.get("RURALGOV_BIN", ROOT / "target" / "release" / "ruralgov"))
    if not exe.exists():
        if os.environ.get("RURALGOV_REQUIRE_CLI") == "1":
            pytest.fail(f"the ruralgov binary {exe} is missing (cargo build --release)")
        pytest.skip(f"no ruralgov binary at {exe}")
    return exe


# --- scenarios ----------------------------------------------------------------------------


def test_load_set_show_and_diff():
    sc = ruralgov.Scenario.load(TINY)
    assert sc.name == "tiny"
    assert [p.name for p in sc.files] == ["baseline.toml", "tiny.toml"]
    b = sc.set("paths.legal.intensity", 1.0).set("region.villages", 4).set("output.villages", False)
    # Immutable: the original is unchanged.
    assert sc.overrides == []
    assert b.overrides == ["paths.legal.intensity=1.0", "region.villages=4", "output.villages=false"]
    assert "intensity = 1.0" in b.show()
    assert dict((k, (x, y)) for k, x, y in sc.diff(b)) == {
        "paths.legal.intensity": ("0.5", "1.0"),
        "region.villages": ("6", "4"),
        "output.villages": ("true", "false"),
    }
    assert sc.diff(sc) == []
    # The command line's form, and a schedule as a list of pairs.
    c = sc.set("region.villages=5").set("paths.culture.intensity", [[2005, 0.0], [2008, 1.0]])
    assert "region.villages=5" in c.overrides
    assert json.loads(c.to_json())["name"] == "tiny"


def test_a_wrong_setting_raises_scenario_error_with_the_key():
    sc = ruralgov.Scenario.load(TINY)
    with pytest.raises(ruralgov.ScenarioError) as e:
        sc.set("paths.legal.intensty", 1.0)
    assert isinstance(e.value, ValueError)
    assert e.value.key == "paths.legal.intensty"
    assert 'did you mean "paths.legal.intensity"' in str(e.value)
    with pytest.raises(ruralgov.ScenarioError) as e:
        sc.set("paths.legal.intensity", "high")
    assert e.value.key == "paths.legal.intensity"
    with pytest.raises(ruralgov.ScenarioError):
        sc.set("region.villages", -3)


def test_a_wrong_file_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        textwrap.dedent(
            f"""\
            extends = "{TINY.as_posix()}"
            name = "bad"
            [migration]
            leave_base = "high"
            """
        )
    )
    with pytest.raises(ruralgov.ScenarioError) as e:
        ruralgov.Scenario.load(bad)
    err = e.value
    assert err.file == str(bad)
    assert err.line == 4
    assert err.key == "migration.leave_base"
    # The same message as the command line's.
    if (ROOT / "target" / "release" / "ruralgov").exists() or os.environ.get("RURALGOV_REQUIRE_CLI") == "1":
        p = subprocess.run([str(cli()), "validate", str(bad)], capture_output=True, text=True)
        assert p.returncode == 2
        assert str(err) in p.stderr
    with pytest.raises(ruralgov.ScenarioError) as e:
        ruralgov.Scenario.load(tmp_path / "missing.toml")
    assert "cannot read this file" in str(e.value)


# --- runs ---------------------------------------------------------------------------------


def test_run_gives_the_command_lines_numbers_bitwise(tmp_path):
    out = tmp_path / "cli"
    subprocess.run(
        [str(cli()), "run", str(TINY), "--seed", "7", "--threads", "2", "--out", str(out), "--quiet"],
        check=True,
    )
    result = ruralgov.run(ruralgov.Scenario.load(TINY), seed=7, threads=2)
    for name in ["metrics.csv", "villages.csv", "pyramid.csv", "distributions.csv"]:
        assert result.raw[name] == (out / name).read_bytes(), name
    # The DataFrames hold exactly the numbers of the files.
    pd.testing.assert_frame_equal(result.metrics, ruralgov.read_table(out / "metrics.csv"))
    assert result.metrics["governance_index"].dtype == "float64"
    # Every float is exactly the one written (Python's float() rounds correctly).
    text = result.raw["metrics.csv"].decode().splitlines()
    column = text[0].split(",").index("governance_index")
    written = [float(line.split(",")[column]) for line in text[1:]]
    assert result.metrics["governance_index"].tolist() == written
    assert result.metrics["step"].dtype == "int64"
    assert result.villages["contested"].dtype == bool
    assert result.manifest["seed"] == 7
    assert result.manifest["scenario"]["name"] == "tiny"
    assert result.manifest["fingerprint"] == json.loads((out / "manifest.json").read_text())["fingerprint"]


def test_a_path_passed_as_text_runs_the_same():
    a = ruralgov.run(str(TINY), seed=3, threads=1)
    b = ruralgov.run(ruralgov.Scenario.load(TINY), seed=3, threads=1)
    assert a.raw == b.raw


def test_results_do_not_depend_on_threads():
    sc = ruralgov.Scenario.load(TINY)
    one = ruralgov.run(sc, seed=11, threads=1)
    two = ruralgov.run(sc, seed=11, threads=2)
    assert one.raw == two.raw
    other = ruralgov.run(sc, seed=12, threads=2)
    assert other.raw["metrics.csv"] != one.raw["metrics.csv"]


def test_a_lever_changes_the_run():
    sc = ruralgov.Scenario.load(TINY).set("output.villages", False)
    none = ruralgov.run(sc.set("paths.legal.intensity", 0.0), seed=5)
    full = ruralgov.run(sc.set("paths.legal.intensity", 1.0), seed=5)
    assert none.villages is None
    assert not none.metrics.equals(full.metrics)


def test_polars_backend():
    if os.environ.get("RURALGOV_REQUIRE_POLARS") == "1":
        import polars as pl
    else:
        pl = pytest.importorskip("polars")
    result = ruralgov.run(TINY, seed=7, backend="polars")
    assert isinstance(result.metrics, pl.DataFrame)
    pandas_metrics = ruralgov.read_table(result.raw["metrics.csv"])
    assert result.metrics["governance_index"].to_list() == pandas_metrics["governance_index"].to_list()


def test_seed_limits_and_memory_check():
    sc = ruralgov.Scenario.load(TINY)
    with pytest.raises(ruralgov.ScenarioError) as e:
        ruralgov.run(sc, seed=2**53)
    assert e.value.key == "run.seed"
    huge = sc.set("region.villages", 2_000_000).set("population.adults_per_village", 5000)
    with pytest.raises(ValueError, match="allow_large=True"):
        ruralgov.run(huge)
    with pytest.raises(ValueError):
        ruralgov.run(sc, threads=0)


def test_progress_is_called_and_its_exception_stops_the_run():
    seen = []
    ruralgov.run(TINY, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (1, 72) and seen[-1] == (72, 72)

    def stop(done, total):
        if done == 10:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        ruralgov.run(TINY, progress=stop)


def test_the_gil_is_released_while_the_model_runs():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    sc = ruralgov.Scenario.load(SCENARIOS / "baseline.toml").set("run.end_year", 2005)
    t = threading.Thread(target=count)
    t.start()
    started = time.perf_counter()
    ruralgov.run(sc, threads=1)
    ended = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if started < x < ended]
    # A thread holding the GIL for the whole run would leave no ticks inside it.
    assert len(during) > 20, f"{len(during)} ticks during a {ended - started:.2f} s run"


def interrupted(call: str, setup: str, wait: float, timeout: float, what: str) -> None:
    """Run `setup` and then `call` in a fresh Python, send SIGINT after `wait` seconds, and
    check that it ends in KeyboardInterrupt within `timeout` seconds."""
    code = (
        "import ruralgov, sys\n"
        + setup
        + "\nprint('started', flush=True)\ntry:\n    "
        + call
        + "\nexcept KeyboardInterrupt:\n    print('interrupted', flush=True)\n    sys.exit(3)\nprint('finished', flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "started"
    time.sleep(wait)
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail(f"the {what} did not stop on SIGINT")
    assert p.returncode == 3, out
    assert "interrupted" in out


def test_ctrl_c_stops_a_run():
    # About two minutes of simulation on one thread (2,000 villages for a century): stopped by
    # SIGINT within a month of simulation, it ends in well under the 60 s allowed; a run that
    # ignored the signal until it finished would exceed it.
    setup = (
        f"sc = ruralgov.Scenario.load({str(SCENARIOS / 'baseline.toml')!r})"
        ".set('region.villages', 2000).set('run.end_year', 2100).set('output.villages', False)"
    )
    interrupted("ruralgov.run(sc, threads=1)", setup, 1.5, 60, "run")


def test_save_writes_the_run_and_never_overwrites(tmp_path):
    result = ruralgov.run(TINY, seed=7)
    folder = result.save(tmp_path / "run")
    assert (folder / "metrics.csv").read_bytes() == result.raw["metrics.csv"]
    assert (folder / "manifest.json").exists()
    with pytest.raises(FileExistsError):
        result.save(folder)


# --- sweeps -------------------------------------------------------------------------------


def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name = "pytest_paths"
            base = "{TINY.as_posix()}"
            seed = 99
            replications = 3
            set = {{ "region.villages" = 4, "run.end_year" = 2007, "output.record_every" = 12 }}

            [[metric]]
            name = "governance_index"
            stat = "mean"
            from = 2005
            to = 2006

            [[arm]]
            name = "baseline"
            set = {{ "paths.legal.intensity" = 0.0 }}

            [[arm]]
            name = "legal"
            set = {{ "paths.legal.intensity" = 1.0 }}
            """
        )
    )
    return path


def test_sweep_and_compare(tmp_path):
    exp = experiment(tmp_path)
    out = tmp_path / "sweep"
    s = ruralgov.sweep(exp, out=out, jobs=2)
    assert len(s.runs) == 6
    assert set(s.runs["arm"]) == {"baseline", "legal"}
    assert (s.runs["seed"] < 2**53).all()
    assert s.model is not None and len(s.model) > 0
    runs_before = (out / "runs.csv").read_bytes()
    # Running it again resumes: nothing to do, the same bytes.
    again = ruralgov.sweep(exp, out=out, jobs=1)
    assert (again.folder / "runs.csv").read_bytes() == runs_before
    table = s.compare(bootstrap=200)
    assert {"arm", "metric", "n"} <= set(table.columns)
    assert set(table["arm"]) == {"legal"}
    assert (table["n"] == 3).all()
    # The same table as the command line's compare.
    if (ROOT / "target" / "release" / "ruralgov").exists() or os.environ.get("RURALGOV_REQUIRE_CLI") == "1":
        subprocess.run([str(cli()), "compare", str(out), "--bootstrap", "200"], check=True, capture_output=True)
        pd.testing.assert_frame_equal(table, ruralgov.read_table(out / "compare.csv"))


def test_ctrl_c_stops_a_sweep_and_releases_its_folder(tmp_path):
    # 60 runs of the baseline county (about 3 s each, so about 90 s on 2 cores): stopped by
    # SIGINT, the runs in flight stop within a month and the call ends well inside the 45 s
    # allowed; a sweep that ignored the signal would exceed it.
    exp = tmp_path / "long.toml"
    exp.write_text(
        textwrap.dedent(
            f"""\
            name = "long"
            base = "{(SCENARIOS / "baseline.toml").as_posix()}"
            seed = 1
            replications = 60
            set = {{ "output.record_every" = 12 }}

            [[metric]]
            name = "governance_index"
            stat = "end"

            [[arm]]
            name = "baseline"
            """
        )
    )
    out = tmp_path / "long_out"
    interrupted(f"ruralgov.sweep({str(exp)!r}, out={str(out)!r}, jobs=2)", "", 2.0, 45, "sweep")
    assert not (out / ".ruralgov.lock").exists(), "the folder's lock was not released"
    assert not (out / "runs.csv").exists(), "an interrupted sweep must not look finished"


def test_a_sweep_over_another_experiment_is_refused(tmp_path):
    exp = experiment(tmp_path)
    out = tmp_path / "sweep"
    ruralgov.sweep(exp, out=out, jobs=1)
    exp.write_text(exp.read_text().replace("replications = 3", "replications = 2"))
    with pytest.raises(Exception) as e:
        ruralgov.sweep(exp, out=out, jobs=1)
    assert "restart" in str(e.value)


def test_a_wrong_experiment_raises_scenario_error(tmp_path):
    path = tmp_path / "bad_exp.toml"
    path.write_text('name = "x"\nbase = "nowhere.toml"\nreplications = 2\n')
    with pytest.raises(ruralgov.ScenarioError):
        ruralgov.sweep(path, out=tmp_path / "o")


# --- Parquet ------------------------------------------------------------------------------


def test_parquet_copies_load_in_pandas_and_polars_with_their_types(tmp_path):
    pl = pytest.importorskip("polars") if os.environ.get("RURALGOV_REQUIRE_POLARS") != "1" else None
    if pl is None:
        import polars as pl
    pytest.importorskip("pyarrow")
    result = ruralgov.run(TINY, seed=7, threads=2)
    folder = result.save(tmp_path / "pq", format="parquet")
    assert sorted(p.name for p in folder.iterdir()) == [
        "distributions.parquet",
        "manifest.json",
        "metrics.parquet",
        "pyramid.parquet",
        "villages.parquet",
    ]
    for name in ["metrics", "villages", "pyramid", "distributions"]:
        from_parquet = pd.read_parquet(folder / f"{name}.parquet")
        from_csv = getattr(result, name)
        pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False, check_categorical=False)
        assert pl.read_parquet(folder / f"{name}.parquet").shape == from_csv.shape
    villages = pd.read_parquet(folder / "villages.parquet")
    assert str(villages["residents"].dtype) == "int64"
    assert str(villages["controller"].dtype) == "category"
    assert villages["contested"].dtype == bool
    assert str(pd.read_parquet(folder / "metrics.parquet")["residents"].dtype) == "float64"
    # ruralgov.read_table reads Parquet too.
    pd.testing.assert_frame_equal(ruralgov.read_table(folder / "metrics.parquet"), pd.read_parquet(folder / "metrics.parquet"))
    # The command line's --format parquet writes the same bytes.
    out = tmp_path / "cli"
    subprocess.run(
        [str(cli()), "run", str(TINY), "--seed", "7", "--out", str(out), "--quiet", "--format", "parquet"],
        check=True,
    )
    for name in ["metrics", "villages", "pyramid", "distributions"]:
        assert (out / f"{name}.parquet").read_bytes() == (folder / f"{name}.parquet").read_bytes(), name


def test_a_sweep_in_parquet_reads_back(tmp_path):
    pytest.importorskip("pyarrow")
    s = ruralgov.sweep(experiment(tmp_path), out=tmp_path / "pq", jobs=2, format="parquet")
    assert not (s.folder / "model.csv").exists()
    assert (s.folder / "model.parquet").exists()
    runs = pd.read_parquet(s.folder / "runs.parquet")
    assert str(runs["seed"].dtype) == "uint64"
    assert len(s.model) > 0 and len(s.runs) == 6
    csv = ruralgov.sweep(experiment(tmp_path), out=tmp_path / "csv", jobs=2)
    pd.testing.assert_frame_equal(s.model, csv.model, check_dtype=False, check_categorical=False)
