"""A regex alternation of many literal words written as a tree of their shared
prefixes ("Vi(?:a(?:duto)?|ela|la)"): sre tries an alternation's branches one by one at
every position it reaches, so a list of seventy street types costs seventy tries where
the tree costs one per letter. Matches the same words; a caller puts its own boundary
after it.
"""

from __future__ import annotations

import re


def trie_pattern(words: list[str] | tuple[str, ...]) -> str:
    """A non-capturing regex matching exactly ``words`` (literal, case as written)."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a word
    return _branch(tree)


def _branch(node: dict[str, dict]) -> str:
    ends = "" in node
    parts = [re.escape(char) + _branch(child) for char, child in sorted(node.items()) if char]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    if ends:
        return f"(?:{body})?" if len(parts) == 1 else body + "?"
    return body
