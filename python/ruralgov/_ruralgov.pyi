"""Type stubs of the native module (see ``ruralgov/__init__.py`` for the documented API)."""

from os import PathLike
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

_Path = Union[str, PathLike[str]]

class ScenarioError(ValueError):
    """A scenario, experiment or setting is wrong; ``file``, ``line`` and ``key`` say where."""

    file: Optional[str]
    line: Optional[int]
    key: Optional[str]
    message: str

class Scenario:
    """A resolved, validated scenario. Immutable: :meth:`set` returns a new one."""

    @staticmethod
    def load(path: _Path, sets: Optional[List[str]] = None) -> "Scenario":
        """Load a scenario file (following ``extends``) with optional "key=value" overrides."""
    def set(self, key: str, value: Any = None) -> "Scenario":
        """A new scenario with ``key`` set to ``value`` (or ``set("key=value")``)."""
    def show(self) -> str:
        """The resolved scenario as TOML."""
    def to_json(self) -> str:
        """The resolved scenario as JSON text."""
    def diff(self, other: "Scenario") -> List[Tuple[str, Optional[str], Optional[str]]]:
        """(key, value here, value there) for every setting that differs, values as TOML."""
    @property
    def name(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def files(self) -> List[Path]: ...
    @property
    def overrides(self) -> List[str]: ...

def run_tables(
    scenario: Scenario,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    allow_large: bool = False,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> Dict[str, Any]: ...
def sweep(
    experiment: _Path,
    out: Optional[_Path] = None,
    jobs: Optional[int] = None,
    shard: Optional[Tuple[int, int]] = None,
    restart: bool = False,
    allow_large: bool = False,
    format: str = "csv",
) -> str: ...
def compare_table(folder: _Path, baseline: Optional[str] = None, bootstrap: int = 2000) -> bytes: ...
def to_parquet(name: str, csv: bytes) -> bytes: ...
def version() -> str: ...
