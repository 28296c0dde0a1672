"""The sanitizer: nothing downstream (Redis, WireMock, backups, logs) holds a raw secret.

``Sanitizer(config).sanitize(exchange)`` replaces secrets and personal data in every
part of an exchange; ``cli_main`` is ``mockado sanitize``. See readme for the classes.
"""

from ext_proc_server.sanitize.cli import cli_main
from ext_proc_server.sanitize.sanitizer import Sanitizer

__all__ = ["Sanitizer", "cli_main"]
