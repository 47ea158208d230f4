#!/usr/bin/env bash
# Regenerate results/examples/: the HTML report and the PNG charts of the bundled paths
# experiment (scenarios/experiments/paths.toml), as shown in the README.
#
# The sweep itself (6 arms x 20 replications, about 25 s on 2 cores) goes to
# target/examples-paths and is not committed; only report.html and the PNGs are written into
# results/examples/. Run from anywhere: scripts/examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
bin=target/release/ruralgov
sweep=target/examples-paths
experiment=scenarios/experiments/paths.toml

# A finished sweep of the same plan is reused; one of another program version is redone.
if ! "$bin" sweep "$experiment" --out "$sweep" --quiet; then
  echo "the sweep in $sweep is of another plan or program version: running it again" >&2
  "$bin" sweep "$experiment" --out "$sweep" --quiet --restart
fi
"$bin" compare "$sweep" --bootstrap 2000 > /dev/null

mkdir -p results/examples
rm -f results/examples/*.png results/examples/*.svg results/examples/report.html results/examples/.ruralgov-charts.json
"$bin" plot "$sweep" --out results/examples --format png
"$bin" report "$sweep" --out results/examples
du -sh results/examples
