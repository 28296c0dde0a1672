"""The web console: a read-only view of what the mocks hold, served by the loader on its
HTTP port under /console/ (``Console(config, stubs=..., misses=...).routes()``).

Namespaces, their hosts and each host's endpoints (path templates) with stub counts,
last capture and misses; one stub's request matcher and sanitized response; the miss
report with each miss's closest stub. Server-rendered HTML, no JavaScript; HTTP Basic
with the loader's console credentials (``auth``). See docs/console.md.
"""

from ext_proc_server.console.auth import ConsoleAuth
from ext_proc_server.console.inventory import build_inventory, stub_path_template
from ext_proc_server.console.pages import CONSOLE_PATH, Console

__all__ = ["CONSOLE_PATH", "Console", "ConsoleAuth", "build_inventory", "stub_path_template"]
