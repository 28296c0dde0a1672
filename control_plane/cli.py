"""The ``mockado`` command and its subcommands.

Each subcommand loads the configuration once and hands it to its module's
entry point. Imports happen inside the handlers, so ``mockado --help`` is fast
and one part's optional dependency never breaks another part.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ext_proc_server.core.errors import MockadoError

CONFIG_HELP = "mockado.yaml (default: $MOCKADO_CONFIG, else built-in defaults + MOCKADO_* env)"


def _load(args: argparse.Namespace, overrides: dict | None = None):
    from ext_proc_server.core.config import load_config

    return load_config(args.config, overrides=overrides)


def _setup_logs(args: argparse.Namespace, component: str) -> None:
    from ext_proc_server.core.logs import setup_logging

    setup_logging(component=component, log_format=args.log_format, level=args.log_level)


def cmd_up(args: argparse.Namespace) -> int:
    from control_plane.local.stack import StackOptions, run_stack

    _setup_logs(args, "stack")
    config = _load(args)
    options = StackOptions(
        upstream=args.upstream,
        proxy_port=args.proxy_port,
        wiremock_port=args.wiremock_port,
        state_dir=Path(args.state_dir),
        config_path=Path(args.config) if args.config else None,
        log_format=args.log_format,
        shards=args.shards,
    )
    return run_stack(config, options=options)


def cmd_ext_proc(args: argparse.Namespace) -> int:
    from ext_proc_server.capture import main

    _setup_logs(args, "ext-proc")
    overrides = {}
    if args.grpc_port is not None:
        overrides["collector.grpc_port"] = args.grpc_port
    if args.http_port is not None:
        overrides["collector.http_port"] = args.http_port
    config = _load(args, overrides)
    return main(config, workers=args.workers)


def cmd_loader(args: argparse.Namespace) -> int:
    from ext_proc_server.loader.consumer import main

    _setup_logs(args, "loader")
    overrides = {}
    if args.http_port is not None:
        overrides["loader.http_port"] = args.http_port
    return main(_load(args, overrides))


def cmd_restore(args: argparse.Namespace) -> int:
    from ext_proc_server.loader.backup import restore_main

    _setup_logs(args, "restore")
    return restore_main(
        _load(args), backup_dir=Path(args.backup_dir), wiremock_url=args.wiremock_url
    )


def cmd_sanitize(args: argparse.Namespace) -> int:
    from ext_proc_server.sanitize import cli_main

    _setup_logs(args, "sanitize")
    return cli_main(_load(args), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)


def cmd_render(args: argparse.Namespace) -> int:
    from control_plane.render.legacy import main

    _setup_logs(args, "render")
    return main(
        _load(args),
        out_dir=Path(args.out) if args.out else None,
        list_only=args.list,
        check=args.check,
        schemas_dir=Path(args.schemas_dir) if args.schemas_dir else None,
    )


def cmd_config_show(args: argparse.Namespace) -> int:
    import yaml

    from ext_proc_server.core.config import redacted_dump

    data = redacted_dump(_load(args))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(yaml.safe_dump(data, sort_keys=False), end="")
    return 0


def cmd_demo_api(args: argparse.Namespace) -> int:
    from control_plane.local.demo_api import main

    return main(["--host", args.host, "--port", str(args.port)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockado",
        description="Turn real service-mesh traffic into safe, working WireMock mocks.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    common.add_argument("--log-format", choices=("text", "json"), default="text")
    common.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    up = sub.add_parser(
        "up",
        parents=[common],
        help="start the local stack: Envoy, ext_proc server, Redis, loader, WireMock",
        description="Start the local stack as child processes and print where everything is. "
        "Ctrl-C or SIGTERM stops every child.",
    )
    up.add_argument(
        "--upstream", metavar="URL", help="the real service (default: bundled demo API)"
    )
    up.add_argument(
        "--proxy-port", type=int, default=10000, metavar="P", help="Envoy listener (10000)"
    )
    up.add_argument("--wiremock-port", type=int, default=8080, metavar="W", help="WireMock (8080)")
    up.add_argument(
        "--state-dir", default=".state", metavar="DIR", help="logs, data, backups (.state)"
    )
    up.add_argument(
        "--shards", type=int, default=1, metavar="N",
        help="WireMock shards; shard i listens on W+i (1)",
    )  # fmt: skip
    up.set_defaults(handler=cmd_up)

    ext = sub.add_parser(
        "ext-proc",
        parents=[common],
        help="run the Envoy ext_proc capture server",
        description="Run the gRPC ExternalProcessor server that captures exchanges, "
        "plus /healthz, /readyz and /metrics on the HTTP port.",
    )
    ext.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processes on one port (SO_REUSEPORT)"
    )
    ext.add_argument("--grpc-port", type=int, metavar="PORT", help="overrides collector.grpc_port")
    ext.add_argument("--http-port", type=int, metavar="PORT", help="overrides collector.http_port")
    ext.set_defaults(handler=cmd_ext_proc)

    loader = sub.add_parser(
        "loader",
        parents=[common],
        help="move queued mappings from Redis into WireMock",
        description="Consume the Redis queue and import mappings into WireMock, "
        "at least once, batched, with retries, dead-letter and backups.",
    )
    loader.add_argument("--http-port", type=int, metavar="PORT", help="overrides loader.http_port")
    loader.set_defaults(handler=cmd_loader)

    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="load a backup directory into a running WireMock",
        description="Import BACKUP_DIR/mappings/*.json into a running WireMock.",
    )
    restore.add_argument("backup_dir", metavar="BACKUP_DIR")
    restore.add_argument("--wiremock-url", required=True, metavar="URL")
    restore.set_defaults(handler=cmd_restore)

    sanitize = sub.add_parser(
        "sanitize",
        parents=[common],
        help="sanitize capture records (JSON Lines, stdin to stdout)",
        description="Read capture records as JSON Lines on stdin; write sanitized records on "
        "stdout in the same order. See README, 'Capture format'.",
    )
    sanitize.set_defaults(handler=cmd_sanitize)

    render = sub.add_parser(
        "render",
        parents=[common],
        help="render Istio EnvoyFilters, Envoy configs and Kubernetes manifests",
        description="Render every file from control_plane/templates/ for the enabled namespaces.",
    )
    render.add_argument(
        "--out", metavar="DIR", help="output root (default: istio/ and envoy_configs/)"
    )
    render.add_argument(
        "--list", action="store_true", help="print what is enabled, where and at what sampling"
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="validate with real Envoy and the Istio/Kubernetes schemas",
    )
    render.add_argument(
        "--schemas-dir", metavar="DIR", help="Istio CRD schemas (default: ../shared/schemas)"
    )
    render.set_defaults(handler=cmd_render)

    config = sub.add_parser("config", help="inspect the configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser(
        "show", parents=[common], help="print the effective config, secrets redacted"
    )
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_config_show)

    demo = sub.add_parser("demo-api", help="run the bundled demo upstream API")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(handler=cmd_demo_api)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except MockadoError as exc:
        print(f"mockado {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
