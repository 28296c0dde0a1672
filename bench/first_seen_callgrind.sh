#!/bin/bash
# Instructions per first-seen exchange of one tree (bench/first_seen_steps.py):
#   [SEED=0] bench/first_seen_callgrind.sh TREE CORPUS N OUT
# callgrind counts only the N measured exchanges (instrumentation is switched on after
# the import and the warm-up); prints the instructions per exchange. SEED is the hash
# seed: a change of the code moves a count through layout alone, so compare means of seeds.
# RUN=run-mapped counts the steps after sanitizing alone (bench/first_seen_steps.py).
set -euo pipefail
tree=$1 corpus=$2 n=$3 out=$4
python=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
ready=$(mktemp -u)
cd "$tree"
FIRST_SEEN_READY=$ready PYTHONHASHSEED=${SEED:-0} PYTHONPATH=$tree valgrind --tool=callgrind \
  --instr-atstart=no --callgrind-out-file="$out" \
  "$python" -m bench.first_seen_steps "${RUN:-run}" "$corpus" "$n" >/dev/null 2>"$out.log" &
runner=$!
# A runner that fails before it is ready (no python, an import error) never writes it.
until [ -s "$ready" ]; do
  kill -0 "$runner" 2>/dev/null || { cat "$out.log" >&2; exit 1; }
  sleep 0.2
done
callgrind_control -i on "$(cat "$ready")" >/dev/null 2>&1
touch "$ready.go"
wait "$runner"
rm -f "$ready" "$ready.go"
total=$(grep -h '^totals:\|^summary:' "$out" | head -1 | awk '{print $2}')
echo "$corpus $n $((total / n))"
