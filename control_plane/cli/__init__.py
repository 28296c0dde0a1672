"""The ``mockado`` command: one module per subcommand, listed in ``commands.COMMANDS``."""

from control_plane.cli.commands import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
