"""``make bench``: every benchmark the issues name, side by side in one run.

Each ``bench/bench_<area>.py`` exposes ``run(*, quick: bool = False) -> dict``.
Results are merged into one JSON object in ``bench/results.json``, printed as a
table, and the main figures are drawn in ``bench/results.png``.

``MOCKADO_BENCH_QUICK=1`` runs the short variants; ``MOCKADO_BENCH_ONLY=a,b``
runs a subset.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
AREAS = ("sanitizer", "mappings", "ext_proc", "loader", "serving", "chaos")

# Figures drawn in the chart, with their goals (None: no goal line).
CHART = (
    ("ext_proc.cpu_ratio_to_floor", 1.2, "lower"),
    ("ext_proc.cpu_ratio_to_floor_repeats", 1.05, "lower"),
    ("ext_proc.captured_ratio_at_1000", 0.999, "higher"),
    ("ext_proc.p99_ratio_to_off", 1.1, "lower"),
    ("sanitizer.mb_per_s", 20, "higher"),
    ("mappings.fidelity", 0.99, "higher"),
    ("mappings.wrong_responses", 0, "lower"),
    ("loader.ratio_to_direct", 0.9, "higher"),
    ("serving.rps_ratio_to_stock", 20, "higher"),
)


def run_all(*, quick: bool, only: set[str] | None) -> dict[str, object]:
    results: dict[str, object] = {
        "meta.started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "meta.quick": quick,
        "meta.cpus": os.cpu_count() or 0,
        "meta.python": platform.python_version(),
    }
    for area in AREAS:
        if only and area not in only:
            continue
        try:
            module = importlib.import_module(f"bench.bench_{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.bench_{area}":
                results[f"{area}.status"] = "not built yet"
                continue
            raise
        started = time.monotonic()
        print(f"== {area} ...", flush=True)
        try:
            figures = module.run(quick=quick)
            results.update(figures)
            results[f"{area}.status"] = "ok"
        except Exception as exc:
            traceback.print_exc()
            results[f"{area}.status"] = f"failed: {type(exc).__name__}"
        results[f"{area}.bench_seconds"] = round(time.monotonic() - started, 1)
    return results


def print_table(results: dict[str, object]) -> None:
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")


def draw_chart(results: dict[str, object], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [
        (k, float(results[k]), goal, better)
        for k, goal, better in CHART
        if isinstance(results.get(k), int | float)
    ]
    if not shown:
        return False
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.4), squeeze=False)
    for ax, (key, value, goal, better) in zip(axes[0], shown, strict=True):
        met = value <= goal if better == "lower" else value >= goal
        ax.bar([0], [value], color="#2e7d32" if met else "#c62828", width=0.5)
        ax.axhline(goal, color="black", linestyle="--", linewidth=1, label=f"goal {goal}")
        ax.set_title(key, fontsize=8)
        ax.set_xticks([])
        ax.text(0, value, f"{value:.4g}", ha="center", va="bottom", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("mockado bench (green: goal met)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> int:
    quick = os.environ.get("MOCKADO_BENCH_QUICK") == "1"
    only_env = os.environ.get("MOCKADO_BENCH_ONLY")
    only = {a.strip() for a in only_env.split(",")} if only_env else None
    out = HERE / "results.json"
    previous: dict[str, object] = {}
    if only and out.exists():
        # A partial run updates its own keys and keeps the others.
        previous = json.loads(out.read_text())
    results = {**previous, **run_all(quick=quick, only=only)}
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print("\nmockado bench results")
    print_table(results)
    chart = HERE / "results.png"
    if draw_chart(results, chart):
        print(f"\nwrote {out} and {chart}")
    else:
        print(f"\nwrote {out}")
    failed = [
        k for k, v in results.items() if k.endswith(".status") and str(v).startswith("failed")
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
