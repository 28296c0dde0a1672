"""What most subcommands share: --config, --log-format and --log-level, and loading them.

Imports happen inside the functions, so ``mockado --help`` is fast and one part's
optional dependency never breaks another part.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ext_proc_server.core.config import MockadoConfig

CONFIG_HELP = "mockado.yaml (default: $MOCKADO_CONFIG, else built-in defaults + MOCKADO_* env)"


@dataclass(frozen=True)
class Command:
    """How a subcommand presents itself in ``mockado --help`` and its own ``--help``."""

    name: str
    help: str
    description: str
    # One typical invocation, shown at the end of the command's --help.
    example: str
    # --config, --log-format and --log-level.
    shared_options: bool = True
    # A second word (``mockado config show``).
    action: str | None = None


def common_options() -> argparse.ArgumentParser:
    """A parent parser with the shared options (``parents=[common_options()]``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    common.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text for people, json for one JSON object per line (text)",
    )
    common.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the least severe level logged (INFO)",
    )
    return common


def add_command(subparsers: Any, command: Command) -> argparse.ArgumentParser:
    """The parser of ``command`` (of its action, when it has one), with its example."""
    options = {
        "parents": [common_options()] if command.shared_options else [],
        "description": command.description,
        "epilog": f"example:\n  {command.example}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    if command.action is None:
        return subparsers.add_parser(command.name, help=command.help, **options)
    group = subparsers.add_parser(command.name, help=command.help)
    actions = group.add_subparsers(dest=f"{command.name}_action", metavar="ACTION", required=True)
    return actions.add_parser(command.action, help=command.help, **options)


def load(args: argparse.Namespace, overrides: dict | None = None) -> MockadoConfig:
    from ext_proc_server.core.config import load_config

    return load_config(args.config, overrides=overrides)


def setup_logs(args: argparse.Namespace, component: str) -> None:
    from ext_proc_server.core.logs import setup_logging

    setup_logging(component=component, log_format=args.log_format, level=args.log_level)


def add_port_options(parser: argparse.ArgumentParser, ports: dict[str, str]) -> None:
    """A ``--<name>-port`` option per config key in ``ports`` ({"http": "loader.http_port"})."""
    for name, key in ports.items():
        parser.add_argument(f"--{name}-port", type=int, metavar="PORT", help=f"overrides {key}")


def port_overrides(args: argparse.Namespace, ports: dict[str, str]) -> dict[str, Any]:
    """The config overrides of the ``--<name>-port`` options given (see add_port_options)."""
    given = {key: getattr(args, f"{name}_port") for name, key in ports.items()}
    return {key: port for key, port in given.items() if port is not None}
