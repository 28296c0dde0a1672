"""The one backoff of the loader and restore."""

from __future__ import annotations

import pytest

from ext_proc_server.loader.retry import backoff_s


@pytest.mark.parametrize("attempt", [0, 1, 3, 10, 50])
def test_backoff_grows_with_jitter_and_is_capped(attempt):
    delays = [backoff_s(attempt, base_s=0.5, max_s=8.0) for _ in range(200)]
    full = min(8.0, 0.5 * 2**attempt)
    assert all(full / 2 <= d <= full for d in delays)
    assert len(set(delays)) > 1
