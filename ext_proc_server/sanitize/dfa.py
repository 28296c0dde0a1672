"""RE2 for scans of lowered bytes: its DFA reads the text once, where sre tries an
alternation of words at every byte (several times slower)."""

from __future__ import annotations

from collections.abc import Sequence

import re2


def _options(*, case_sensitive: bool = True) -> re2.Options:
    options = re2.Options()
    options.never_capture = True
    options.encoding = re2.Options.Encoding.LATIN1
    options.case_sensitive = case_sensitive
    return options


def compile_dfa(pattern: bytes) -> re2._Regexp:
    """Only for patterns without lookaround or backreferences, where RE2's leftmost-first
    matching gives sre's spans. Probes are bytes, one per character (latin-1)."""
    return re2.compile(pattern, _options())


class WordGate:
    """Which of several patterns occur in a text, in one pass for all of them (an
    RE2 set): the gate in front of detectors that each need one of them.

    The patterns are written for lowered ASCII bytes, and match ASCII letters in either
    case: a text's ASCII bytes give the answer its lowered copy would (tests hold the
    two to each other), so the copy is made only for a detector that reads it."""

    __slots__ = ("_set",)

    def __init__(self, patterns: Sequence[bytes]) -> None:
        for pattern in patterns:
            # An upper-case letter (a literal, or an escape such as \S) reads differently
            # once case is ignored (so would a range or hex escape naming one: none here).
            if pattern != pattern.lower():
                raise ValueError(f"not a pattern for lowered bytes: {pattern!r}")
        self._set = re2.Set.SearchSet(_options(case_sensitive=False))
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()

    def present(self, probe: bytes) -> list[int]:
        """Indexes (in the order given) of the patterns found somewhere in ``probe``
        (ASCII bytes, in any case; "?" for other characters)."""
        return self._set.Match(probe) or []
