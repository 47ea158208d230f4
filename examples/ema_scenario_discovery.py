"""Scenario discovery with EMA Workbench: under which conditions does each path raise the
governance index by at least a chosen amount?

ruralgov is wrapped as an EMA Workbench model. The uncertainties are drivers and uncertain
parameters of the baseline (urban pull, market exposure, state transfers, clan strength and
the largest clan's share, administrative pressure, the discipline commission's reach); the
levers are the four path intensities. Each sampled world is run without any path and with
each path alone at full intensity, with the same seed (common random numbers), and the
outcome is the path's effect: its governance index (mean of the Decembers 2025-2029) minus
that of the same world without a path. PRIM (Friedman and Fisher 1999, as in EMA Workbench)
then finds, for each path, the box of conditions in which the effect reaches the threshold.

Run from the repository root, with the package and EMA Workbench installed:

    python3 -m venv .venv && .venv/bin/pip install ./python "ema-workbench>=2.5,<2.6"
    .venv/bin/python examples/ema_scenario_discovery.py                # 200 worlds, about 5 minutes
    .venv/bin/python examples/ema_scenario_discovery.py --scenarios 24 --villages 6   # quick
    .venv/bin/python examples/ema_scenario_discovery.py --replications 3              # less seed noise

It writes into --out (default results/ema): experiments.csv (every world and policy with its
outcomes), boxes.csv (each path's PRIM box: the restricted uncertainties with their ranges,
coverage and density, per threshold), boxes.md (the same as a readable table), and
prim_<path>_<threshold>.png (the box's limits against the sampled ranges).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import ruralgov

PATHS = ["legal", "services", "culture", "self_government"]
ROOT = Path(__file__).resolve().parents[1]

# Uncertainties: (name, low, high, what it changes). Multipliers scale the baseline's
# schedule values (kept within each setting's range); the others set a value.
UNCERTAINTIES = [
    ("urban_pull", 0.6, 1.6, "multiplier of the urban wage schedule (economy.urban_wage)"),
    ("market_exposure", 0.6, 1.25, "multiplier of the market exposure schedule (region.market_exposure, at most 1)"),
    ("transfers", 0.4, 2.0, "multiplier of the state transfers schedule (economy.transfers)"),
    ("clan_strength", 0.3, 3.0, "strength of clan loyalty and force (governance.clan_strength)"),
    ("largest_clan_share", 0.2, 0.7, "share of the largest clan (population.largest_clan_share)"),
    ("admin_pressure", 0.5, 1.6, "multiplier of the township's administrative pressure (governance.admin_pressure, at most 1)"),
    ("discipline", 0.3, 1.5, "multiplier of the discipline commission's reach (party_state.discipline, at most 1)"),
]


def scaled(schedule, factor: float, cap: float | None = None):
    """A scenario schedule (a number or [[year, value], ...]) with its values multiplied."""

    def one(v: float) -> float:
        x = v * factor
        return min(x, cap) if cap is not None else x

    if isinstance(schedule, list):
        return [[year, one(value)] for year, value in schedule]
    return one(schedule)


class World:
    """The base scenario and the runs of one sampled world, cached so that the no-path run is
    made once per world, not once per policy."""

    def __init__(self, villages: int, adults: int, seed: int, replications: int, threads: int) -> None:
        base = ruralgov.Scenario.load(ROOT / "scenarios" / "baseline.toml")
        self.base = (
            base.set("region.villages", villages)
            .set("population.adults_per_village", adults)
            .set("output.villages", False)
            .set("output.record_every", 12)
        )
        self.resolved = json.loads(self.base.to_json())
        self.seeds = [seed + r for r in range(replications)]
        self.threads = threads
        self.runs = 0

    def scenario(self, u: dict, path: str | None) -> ruralgov.Scenario:
        r = self.resolved
        sc = (
            self.base.set("economy.urban_wage", scaled(r["economy"]["urban_wage"], u["urban_pull"]))
            .set("region.market_exposure", scaled(r["region"]["market_exposure"], u["market_exposure"], 1.0))
            .set("economy.transfers", scaled(r["economy"]["transfers"], u["transfers"]))
            .set("governance.clan_strength", float(u["clan_strength"]))
            .set("population.largest_clan_share", float(u["largest_clan_share"]))
            .set("governance.admin_pressure", scaled(r["governance"]["admin_pressure"], u["admin_pressure"], 1.0))
            .set("party_state.discipline", scaled(r["party_state"]["discipline"], u["discipline"], 1.0))
        )
        for p in PATHS:
            sc = sc.set(f"paths.{p}.intensity", 1.0 if p == path else 0.0)
        return sc

    @functools.lru_cache(maxsize=None)
    def index(self, key: tuple, path: str | None) -> float:
        """Mean governance index of the Decembers 2025-2029 in world `key` with `path` on,
        averaged over the replications' seeds (the same seeds with and without the path)."""
        sc = self.scenario(dict(key), path)
        total = 0.0
        for seed in self.seeds:
            m = ruralgov.run(sc, seed=seed, threads=self.threads).metrics
            self.runs += 1
            window = m[(m.month == 12) & (m.year >= 2025) & (m.year <= 2029)]
            total += float(window.governance_index.mean())
        return total / len(self.seeds)


def discover(path, threshold, table, names, lines, out, prim, plt):
    """PRIM for one path and threshold: appends a line to `lines`, writes the box's chart, and
    returns the rows of boxes.csv."""
    rows = []
    sel = table["policy"] == path
    x = table.loc[sel, names].reset_index(drop=True)
    effect = table.loc[sel, "effect"].to_numpy()
    y = effect >= threshold
    share = float(y.mean())
    limits = "none: it never succeeds" if share == 0 else "none: it always succeeds"
    coverage = density = float("nan")
    if 0 < share < 1:
        finder = prim.Prim(x, y, threshold=0.8, peel_alpha=0.1)
        box = finder.find_box()
        coverage, density = float(box.coverage), float(box.density)
        lim, whole = box.box_lim, box.box_lims[0]
        parts = []
        for n in names:
            lo, hi = float(lim[n].iloc[0]), float(lim[n].iloc[1])
            lo0, hi0 = float(whole[n].iloc[0]), float(whole[n].iloc[1])
            # Restricted: narrower than the box around all the sampled worlds.
            if (lo, hi) != (lo0, hi0):
                parts.append(f"{n} in [{lo:.2f}, {hi:.2f}]")
                rows.append(
                    {"path": path, "threshold": threshold, "share_succeeding": share, "uncertainty": n,
                     "min": lo, "max": hi, "coverage": coverage, "density": density}
                )
        limits = "; ".join(parts) if parts else "(no restriction found)"
        fig, ax = plt.subplots(figsize=(7, 3.2))
        for k, n in enumerate(names):
            lo0, hi0 = float(whole[n].iloc[0]), float(whole[n].iloc[1])
            lo, hi = float(lim[n].iloc[0]), float(lim[n].iloc[1])
            ax.plot([0, 1], [k, k], color="#dddddd", lw=6, solid_capstyle="butt")
            ax.plot([(lo - lo0) / (hi0 - lo0), (hi - lo0) / (hi0 - lo0)], [k, k], color="#1f77b4", lw=6, solid_capstyle="butt")
            ax.text(1.02, k, f"{lo:.2f} - {hi:.2f}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlim(0, 1.25)
        ax.set_xticks([0, 0.5, 1], ["lowest sampled", "", "highest sampled"])
        ax.set_title(
            f"{path}: effect >= {threshold} in the box (coverage {coverage:.2f}, density {density:.2f})", fontsize=10
        )
        fig.tight_layout()
        fig.savefig(out / f"prim_{path}_{threshold}.png", dpi=110)
        plt.close(fig)
    if not rows:
        rows.append(
            {"path": path, "threshold": threshold, "share_succeeding": share, "uncertainty": "",
             "min": np.nan, "max": np.nan, "coverage": coverage, "density": density}
        )
    lines.append(
        f"| {path} | {threshold} | {share:.0%} | {effect.mean():+.4f} | {limits} | {coverage:.2f} | {density:.2f} |"
    )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=200, help="sampled worlds (Latin hypercube)")
    ap.add_argument("--villages", type=int, default=12, help="villages per world")
    ap.add_argument("--adults", type=int, default=400, help="registered adults per village")
    ap.add_argument(
        "--threshold",
        type=float,
        nargs="+",
        default=[0.02, 0.05],
        help="effects on the index that count as success (one PRIM analysis per path and threshold)",
    )
    ap.add_argument("--seed", type=int, default=2026, help="seed of the sample and of the first replication")
    ap.add_argument(
        "--replications",
        type=int,
        default=1,
        help="seeds per world and path, averaged (paired: the same seeds with and without the path)",
    )
    ap.add_argument("--threads", type=int, default=None, help="threads per run (default: all cores)")
    ap.add_argument("--out", type=Path, default=Path("results/ema"))
    args = ap.parse_args()

    os.environ.setdefault("TQDM_DISABLE", "1")  # EMA Workbench's progress bar, one line per run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed": not needed here
        from ema_workbench import Constant, Model, Policy, RealParameter, ScalarOutcome, perform_experiments
        from ema_workbench.analysis import prim
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    world = World(args.villages, args.adults, args.seed, args.replications, args.threads)
    names = [u[0] for u in UNCERTAINTIES]

    def model(**kw):
        key = tuple((n, float(kw[n])) for n in names)
        on = [p for p in PATHS if kw[p] > 0]
        path = on[0] if on else None
        none = world.index(key, None)
        index = world.index(key, path) if path else none
        return {"index": index, "effect": index - none}

    m = Model("ruralgov", function=model)
    m.uncertainties = [RealParameter(n, lo, hi) for n, lo, hi, _ in UNCERTAINTIES]
    m.levers = [RealParameter(p, 0.0, 1.0) for p in PATHS]
    m.constants = [Constant("seed", args.seed)]
    m.outcomes = [ScalarOutcome("index"), ScalarOutcome("effect")]
    policies = [Policy(p, **{q: 1.0 if q == p else 0.0 for q in PATHS}) for p in PATHS]

    np.random.seed(args.seed)  # EMA Workbench's Latin hypercube draws from numpy's global stream
    started = time.time()
    experiments, outcomes = perform_experiments(m, scenarios=args.scenarios, policies=policies)
    seconds = time.time() - started

    args.out.mkdir(parents=True, exist_ok=True)
    table = experiments.copy()
    table["policy"] = table["policy"].astype(str)
    for k, v in outcomes.items():
        table[k] = v
    table.to_csv(args.out / "experiments.csv", index=False)

    rows = []
    lines = [
        "# Scenario discovery: where does each path raise the governance index by at least a threshold?",
        "",
        f"{args.scenarios} worlds (Latin hypercube, seed {args.seed}) x 4 paths, {args.villages} villages of "
        f"{args.adults} adults, 2000-2029, {args.replications} paired seed(s) per world; effect = index "
        f"(Decembers 2025-2029) with the path minus without. {world.runs} runs in {seconds:.0f} s.",
        "",
        "| path | threshold | worlds where it succeeds | mean effect | box (restricted uncertainties) | coverage | density |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in PATHS:
        for threshold in args.threshold:
            rows.extend(discover(path, threshold, table, names, lines, args.out, prim, plt))
    pd.DataFrame(rows).to_csv(args.out / "boxes.csv", index=False)
    text = "\n".join(lines) + "\n"
    (args.out / "boxes.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
