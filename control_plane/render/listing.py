"""What `mockado render --list` prints: each capture scope and each canary, as tables."""

from __future__ import annotations

from control_plane.render.canary import canaries, canary_path
from control_plane.render.istio import DEBUG_DIR, CaptureTarget, capture_targets, workload_name
from control_plane.render.matchers import percent_text
from ext_proc_server.core.config import MockadoConfig


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]


def _row(scope: str, t: CaptureTarget) -> tuple[str, ...]:
    direction = t.settings.direction
    files = f"istio/{t.namespace}/"
    if t.settings.debug_tap:
        files += f" + {DEBUG_DIR}/{t.namespace}/ (tap)"
    if direction == "both":
        direction = "both (in-mesh calls twice)"
    return (
        scope,
        t.namespace,
        direction,
        f"{percent_text(t.settings.sample_percent)}%",
        workload_name(t.settings.workload_selector) or "all",
        files,
    )


def _scope_rows(config: MockadoConfig) -> list[tuple[str, ...]]:
    cp = config.control_plane
    rows = [("SCOPE", "NAMESPACE", "CAPTURE", "SAMPLE", "WORKLOADS", "FILES")]
    targets = {t.key: t for t in capture_targets(cp)}
    if cp.global_.enabled:
        rows.append(_row("mesh", targets["global"]))
    else:
        rows.append(("mesh", cp.root_namespace, "disabled", "-", "-", "-"))
    for name in sorted(cp.namespaces):
        if name in targets and not targets[name].is_global:
            rows.append(_row("namespace", targets[name]))
        else:
            rows.append(("namespace", name, "disabled", "-", "-", "-"))
    return rows


def _canary_rows(config: MockadoConfig) -> list[tuple[str, ...]]:
    rows = [("CANARY", "WORKLOADS", "MOCKED HOST", "SERVED BY", "FILE")]
    for canary in canaries(config):
        labels = ",".join(f"{k}={v}" for k, v in canary.workload_labels.items())
        for route in canary.routes:
            rows.append((canary.namespace, labels, route.host, route.shard.host,
                         canary_path(canary.namespace)))  # fmt: skip
    return rows


def listing(config: MockadoConfig) -> str:
    """Each scope, where it renders, at what sampling; then each canary's mocked hosts and
    the WireMock shard serving them."""
    collector = config.control_plane.collector
    lines = _table(_scope_rows(config))
    lines.append(
        f"collector: {collector.host}:{collector.port} ({collector.capture_mode}, "
        f"{'fail open' if collector.failure_mode_allow else 'FAIL CLOSED'})"
    )
    canary_rows = _canary_rows(config)
    if len(canary_rows) > 1:
        lines += ["", *_table(canary_rows)]
    return "\n".join(line.rstrip() for line in lines) + "\n"
