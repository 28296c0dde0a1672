"""RE2 for scans of lowered bytes: its DFA reads the text once, where sre tries an
alternation of words at every byte (several times slower)."""

from __future__ import annotations

from collections.abc import Sequence

import re2


def _options() -> re2.Options:
    options = re2.Options()
    options.never_capture = True
    options.encoding = re2.Options.Encoding.LATIN1
    return options


def compile_dfa(pattern: bytes) -> re2._Regexp:
    """Only for patterns without lookaround or backreferences, where RE2's leftmost-first
    matching gives sre's spans. Probes are bytes, one per character (latin-1)."""
    return re2.compile(pattern, _options())


class WordGate:
    """Which of several patterns occur in a text, in one pass for all of them (an
    RE2 set): the gate in front of detectors that each need one of them."""

    __slots__ = ("_set",)

    def __init__(self, patterns: Sequence[bytes]) -> None:
        self._set = re2.Set.SearchSet(_options())
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()

    def present(self, probe: bytes) -> list[int]:
        """Indexes (in the order given) of the patterns found somewhere in ``probe``."""
        return self._set.Match(probe) or []
