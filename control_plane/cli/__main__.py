"""``python -m control_plane.cli``: the ``mockado`` command (how `mockado up` starts its parts)."""

from control_plane.cli.commands import main

raise SystemExit(main())
