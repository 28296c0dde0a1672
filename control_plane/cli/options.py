"""What most subcommands share: --config, --log-format and --log-level, and loading them.

Imports happen inside the functions, so ``mockado --help`` is fast and one part's
optional dependency never breaks another part.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ext_proc_server.core.config import MockadoConfig

# What ``ArgumentParser.add_subparsers()`` returns; each command adds its parser to it.
SubParsers = argparse._SubParsersAction

CONFIG_HELP = "mockado.yaml (default: $MOCKADO_CONFIG, else built-in defaults + MOCKADO_* env)"


def common_options() -> argparse.ArgumentParser:
    """A parent parser with the shared options (``parents=[common_options()]``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    common.add_argument("--log-format", choices=("text", "json"), default="text")
    common.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    return common


def add_command(
    subparsers: SubParsers, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand taking the shared options."""
    return subparsers.add_parser(
        name, parents=[common_options()], help=help, description=description
    )


def load(args: argparse.Namespace, overrides: dict | None = None) -> MockadoConfig:
    from ext_proc_server.core.config import load_config

    return load_config(args.config, overrides=overrides)


def setup_logs(args: argparse.Namespace, component: str) -> None:
    from ext_proc_server.core.logs import setup_logging

    setup_logging(component=component, log_format=args.log_format, level=args.log_level)
