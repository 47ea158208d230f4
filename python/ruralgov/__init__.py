"""ruralgov: an agent-based simulation of rural governance in China, from Python.

The model runs in the Rust engine (the same library as the ``ruralgov`` command, with the
same determinism: a scenario and seed give the same numbers at any thread count, from
Python as from the command line). Tables come back as pandas DataFrames, or polars ones
with ``backend="polars"``.

>>> import ruralgov
>>> sc = ruralgov.Scenario.load("scenarios/tiny.toml").set("paths.legal.intensity", 1.0)
>>> result = ruralgov.run(sc, seed=7, threads=2)
>>> result.metrics[["year", "month", "governance_index"]].tail(1)   # doctest: +SKIP

Errors in a scenario, an experiment or a setting raise :class:`ScenarioError` (a
``ValueError``) with the file, line and key the command line would name.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ._ruralgov import Scenario, ScenarioError, compare_table, run_tables, to_parquet
from ._ruralgov import sweep as _sweep
from ._ruralgov import version as _version

__all__ = [
    "Scenario",
    "ScenarioError",
    "Result",
    "SweepResult",
    "run",
    "sweep",
    "compare",
    "read_table",
    "__version__",
]

__version__: str = _version()

PathLike = Union[str, "os.PathLike[str]"]

#: The tables of a run, by attribute name and file name (as in a run folder).
TABLES: Dict[str, str] = {
    "metrics": "metrics.csv",
    "villages": "villages.csv",
    "pyramid": "pyramid.csv",
    "distributions": "distributions.csv",
}


def read_table(source: Union[bytes, PathLike], backend: str = "pandas") -> Any:
    """Read a ruralgov table, CSV or Parquet (bytes or a file), into a DataFrame.

    CSV floats are parsed to the nearest double (pandas' ``round_trip`` parser before pandas
    3, whose default parser is exact), so every number is the one the engine computed:
    ruralgov writes the shortest form that reads back exactly (tested against the engine's
    own bytes). Parquet files (``--format parquet``) carry their column types; pandas reads
    them with pyarrow (``pip install pyarrow``). ``backend`` is ``"pandas"`` or ``"polars"``.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    parquet = data[:4] == b"PAR1"
    if backend == "pandas":
        import pandas as pd

        if parquet:
            return pd.read_parquet(io.BytesIO(data))
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        return pd.read_csv(io.BytesIO(data), **exact)
    if backend == "polars":
        try:
            import polars as pl
        except ImportError as e:  # pragma: no cover - depends on what is installed
            raise ImportError("backend='polars' needs polars: pip install polars") from e
        if parquet:
            return pl.read_parquet(io.BytesIO(data))
        return pl.read_csv(io.BytesIO(data), infer_schema_length=None)
    raise ValueError(f"backend must be 'pandas' or 'polars', not {backend!r}")


class Result:
    """What a run produced: its tables as DataFrames and its manifest.

    ``metrics`` (region metrics by month), ``villages`` (each village every December, when the
    scenario's ``output.villages`` is true; otherwise ``None``), ``pyramid`` (residents and
    migrants by age and sex at the start and the end), ``distributions`` (histograms of
    ``market`` and ``civic``), and ``manifest`` (a dict: scenario, seed, versions, timing).
    Each table is parsed on first use. ``raw`` holds the CSV bytes, identical to the files
    ``ruralgov run`` writes.
    """

    def __init__(self, tables: Dict[str, Any], backend: str = "pandas") -> None:
        if backend not in ("pandas", "polars"):
            raise ValueError(f"backend must be 'pandas' or 'polars', not {backend!r}")
        self.backend = backend
        self.manifest: Dict[str, Any] = json.loads(tables["manifest.json"])
        self.raw: Dict[str, bytes] = {k: v for k, v in tables.items() if k.endswith(".csv")}
        self._parsed: Dict[str, Any] = {}

    def _table(self, name: str) -> Any:
        file = TABLES[name]
        if file not in self.raw:
            return None
        if name not in self._parsed:
            self._parsed[name] = read_table(self.raw[file], self.backend)
        return self._parsed[name]

    @property
    def metrics(self) -> Any:
        """Region metrics, one row per recorded month."""
        return self._table("metrics")

    @property
    def villages(self) -> Any:
        """One row per village and year (None unless the scenario sets output.villages)."""
        return self._table("villages")

    @property
    def pyramid(self) -> Any:
        """Residents and migrants by age group and sex, at the start and at the end."""
        return self._table("pyramid")

    @property
    def distributions(self) -> Any:
        """Histograms of residents' market and civic values, at the start and every December."""
        return self._table("distributions")

    def save(self, folder: PathLike, format: str = "csv") -> Path:
        """Write the tables (``format``: ``"csv"``, ``"parquet"`` or ``"both"``, as ``ruralgov
        run --format``) and the manifest into ``folder`` (created if needed). Files already
        there are refused, never overwritten; each file appears complete or not at all."""
        if format not in ("csv", "parquet", "both"):
            raise ValueError(f"format must be 'csv', 'parquet' or 'both', not {format!r}")
        files: Dict[str, bytes] = {}
        for name, data in self.raw.items():
            if format != "parquet":
                files[name] = data
            if format != "csv":
                files[name[: -len(".csv")] + ".parquet"] = to_parquet(name, data)
        manifest = dict(self.manifest, outputs=list(files) + ["manifest.json"], format=format)
        files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        existing = [n for n in files if (out / n).exists()]
        if existing:
            raise FileExistsError(f"{out} already holds {', '.join(existing)}; nothing was written")
        for name, data in files.items():
            tmp = out / f".{name}.partial"
            tmp.write_bytes(data)
            tmp.replace(out / name)
        return out

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Result(scenario={m.get('scenario_name')!r}, seed={m.get('seed')}, "
            f"steps={m.get('steps')}, tables={sorted(self.raw)})"
        )


def _scenario(scenario: Union[Scenario, PathLike]) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return Scenario.load(os.fspath(scenario))
    raise TypeError(f"expected a ruralgov.Scenario or a path to a scenario file, not {type(scenario).__name__}")


def run(
    scenario: Union[Scenario, PathLike],
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    *,
    backend: str = "pandas",
    allow_large: bool = False,
    progress: Optional[Callable[[int, int], None]] = None,
) -> Result:
    """Run a scenario (a :class:`Scenario` or a path) and return its :class:`Result`.

    ``seed`` overrides the scenario's seed (0 to 2**53 - 1); ``threads`` defaults to the
    machine's cores and never changes the result. The GIL is released while the model runs;
    Ctrl-C stops it (``KeyboardInterrupt``) within a month of simulation. ``progress(done,
    total)`` is called after every month. A scenario estimated to need more memory than the
    machine has is refused unless ``allow_large=True``.
    """
    tables = run_tables(_scenario(scenario), seed=seed, threads=threads, allow_large=allow_large, progress=progress)
    return Result(tables, backend)


class SweepResult:
    """A finished sweep folder: ``runs`` (one row per run, with its arm, seed, factors and end
    metrics), ``model`` (every run's metrics over time), ``summary`` (by arm), ``villages``
    (when recorded), and :meth:`compare`."""

    def __init__(self, folder: PathLike, backend: str = "pandas") -> None:
        self.folder = Path(folder)
        self.backend = backend

    def _read(self, file: str) -> Any:
        # A sweep written with format="parquet" has some tables only as Parquet.
        for path in (self.folder / file, self.folder / file.replace(".csv", ".parquet")):
            if path.exists():
                return read_table(path, self.backend)
        return None

    @property
    def runs(self) -> Any:
        """One row per run (`runs.csv`)."""
        return self._read("runs.csv")

    @property
    def model(self) -> Any:
        """Every run's recorded metrics (`model.csv`)."""
        return self._read("model.csv")

    @property
    def summary(self) -> Any:
        """Means and intervals by arm (`summary.csv`)."""
        return self._read("summary.csv")

    @property
    def villages(self) -> Any:
        """Village rows of every run (`villages.csv`), or None when not recorded."""
        return self._read("villages.csv")

    def compare(self, baseline: Optional[str] = None, bootstrap: int = 2000) -> Any:
        """Paired differences of every arm from the baseline arm (see :func:`compare`)."""
        return compare(self.folder, baseline=baseline, bootstrap=bootstrap, backend=self.backend)

    def __repr__(self) -> str:
        return f"SweepResult({str(self.folder)!r})"


def sweep(
    experiment: PathLike,
    out: Optional[PathLike] = None,
    jobs: Optional[int] = None,
    *,
    shard: Optional[Tuple[int, int]] = None,
    restart: bool = False,
    allow_large: bool = False,
    format: str = "csv",
    backend: str = "pandas",
) -> SweepResult:
    """Run (or resume) the sweep of an experiment file, exactly as ``ruralgov sweep``: into
    ``out`` (default ``results/<experiment name>``), ``jobs`` runs at a time (default: the
    machine's cores), finished runs skipped, byte-identical outputs however it was
    interrupted. ``shard=(i, n)`` runs every n-th run from i; ``format`` is that of ``ruralgov
    sweep --format`` (``"csv"``, ``"parquet"`` or ``"both"``). Returns the folder's tables."""
    folder = _sweep(
        os.fspath(experiment),
        out=None if out is None else os.fspath(out),
        jobs=jobs,
        shard=shard,
        restart=restart,
        allow_large=allow_large,
        format=format,
    )
    return SweepResult(folder, backend)


def compare(
    folder: PathLike,
    baseline: Optional[str] = None,
    bootstrap: int = 2000,
    *,
    backend: str = "pandas",
) -> Any:
    """Compare the arms of a finished sweep with the baseline arm, as ``ruralgov compare``:
    per arm and metric, the mean paired difference over common seeds with its bootstrap 95%
    interval (and per 100,000 yuan of extra spending). Nothing is written."""
    return read_table(compare_table(os.fspath(folder), baseline=baseline, bootstrap=bootstrap), backend)
