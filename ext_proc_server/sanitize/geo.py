"""Coordinates: a precise point tied to a person is personal data, so it is coarsened.

A latitude or longitude keeps two decimals (about 1 km) and its type: a JSON number
stays a number, a string stays a string. Values already that coarse are left alone.
Counted as class ``geo``; the value's location is recorded like any replacement, so a
stub matches any value there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ext_proc_server.sanitize.run import Run

CLASS = "geo"
_DECIMALS = 2
# A key's last word: "lat", "pickup_lat", "driverLatitude", "LONGITUDE".
_LAST_WORD = re.compile(r"(?:^|[^A-Za-z]|(?<=[a-z])(?=[A-Z]))([A-Za-z][a-z]*|[A-Z]+)$")
_LATITUDE = frozenset({"lat", "latitude"})
_LONGITUDE = frozenset({"lng", "longitude"})
# "long" and "lon" are a coordinate only beside a latitude (else a Java long, a word).
_AMBIGUOUS = frozenset({"lon", "long"})
_GEOJSON = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
# What a value to coarsen holds: a body without it (most bodies: prices have two
# decimals) costs one sre scan between its first and last dot, and nothing else.
_FINE_DECIMAL = re.compile(r"\.[0-9]{3}")
# Key endings a coordinate's key has, lowercased with its closing quote.
_HINTS = ('lat"', 'lng"', 'lon"', 'long"', 'tude"', 'coordinates"', 'location"', 'coords"')
# A [latitude, longitude] pair (or GeoJSON's [longitude, latitude]) by its key's name:
# Faker's and many apps' "current_location", Google's "latLng", a tracker's "gps".
# Not "position" or "point": a layout's [x, y].
_PAIR_NAMES = frozenset({"location", "latlng", "latlon", "latlong", "lnglat", "lonlat",
                         "coords", "gps", "geo"})  # fmt: skip
_NAME_ENDINGS = frozenset({"lat", "lng", "lon", "ong", "ude"})
# A key and its plain decimal value, in a text with escapes masked (every '"' delimits).
_MEMBER = re.compile(r'"([^"]{1,64})"\s*:\s*("?)(-?[0-9]{1,3}\.[0-9]+)\2(?=\s*[,}\]])')
_POSITIONS = re.compile(r'"([^"]{1,64})"\s*:\s*(\[[-\[\]\s0-9.,]*\])')
_NUMBER = re.compile(r"-?[0-9]{1,3}\.[0-9]+")


def axis(key: str) -> str | None:
    """``lat``, ``lng`` or ``lon?`` (a longitude only beside a latitude) for a key
    naming a coordinate; None for any other key."""
    found = _LAST_WORD.search(key)
    if found is None:
        return None
    word = found.group(1).lower()
    if word in _LATITUDE:
        return "lat"
    if word in _LONGITUDE:
        return "lng"
    return "lon?" if word in _AMBIGUOUS else None


def coarse(text: str, limit: float) -> str | None:
    """``text`` (a plain decimal) with two decimals, or None when it has no more
    already or is out of range for its axis."""
    whole, dot, fraction = text.partition(".")
    if not dot or len(fraction) <= _DECIMALS or not whole.lstrip("-").isdigit():
        return None
    if not fraction.isdigit() or abs(float(text)) > limit:
        return None
    fresh = f"{round(float(text), _DECIMALS):.{_DECIMALS}f}"
    return "0.00" if fresh == "-0.00" else fresh


def may_hold(text: str) -> bool:
    """Whether a JSON text may hold a coordinate to coarsen: a fine decimal, then a
    key ending as a coordinate's does."""
    first = text.find(".")  # memchr: the scan runs from the first dot to the last
    if first < 0 or _FINE_DECIMAL.search(text, first, text.rfind(".") + 4) is None:
        return False
    low = text.lower()
    return any(hint in low for hint in _HINTS)


def coarsen_json(run: Run, text: str, where: str) -> str:
    """A JSON document with its coordinates coarsened (``where`` locates them)."""
    if not may_hold(text):
        return text
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # NaN, Infinity, a lone surrogate, a raw tab in a string (raw_controls)
            document = json.loads(text, strict=False)
        except ValueError:
            return _lines(run, text, where) if "\n" in text else text
    return _coarsen_document(run, text, document, where)


def _lines(run: Run, text: str, where: str) -> str:
    """JSON Lines: each line's coordinates, located at ``where`` (as its replacements)."""
    lines = text.split("\n")
    inner = run.child(run.charset)
    fresh = "\n".join(coarsen_json(inner, line, "") for line in lines)
    run.add_counts(inner.counts)
    if fresh != text:
        run.locations.add(where)
    return fresh


def _coarsen_document(run: Run, text: str, document: object, where: str) -> str:
    """The document's coordinates (read from its tree) rewritten in its text."""
    members: set[tuple[str, float]] = set()
    positions: set[float] = set()
    arrays: set[str] = set()  # the keys of position arrays
    pointers = []
    for pointer, key, value in _coordinates(document, ""):
        if isinstance(value, list):
            positions.update(_flat(value))
            arrays.add(key)
        else:
            members.add((key, float(value)))
        pointers.append(f"{where}.json:{pointer}")
    if not members and not positions:
        return text
    plain = re.sub(r"\\.", "__", text) if "\\" in text else text
    out: list[str] = []
    last = 0
    for start, end, fresh in _edits(plain, members, positions, arrays):
        out.append(text[last:start])
        out.append(fresh)
        last = end
        run.counts[CLASS] = run.counts.get(CLASS, 0) + 1
    if out:  # an exponent (-2.3561414e1) is read, not rewritten: no location then
        run.locations.update(pointers)
    out.append(text[last:])
    return "".join(out)


def _edits(
    plain: str, members: set[tuple[str, float]], positions: set[float], arrays: set[str]
) -> Iterator[tuple[int, int, str]]:
    """Spans to rewrite, in order: each approved member's value, each approved
    GeoJSON position's numbers."""
    spans: list[tuple[int, int, str]] = []
    for match in _MEMBER.finditer(plain):
        number = match.group(3)
        if (match.group(1), float(number)) in members:
            fresh = coarse(number, 180)
            if fresh is not None:
                spans.append((match.start(3), match.end(3), fresh))
    if positions:
        for array in _POSITIONS.finditer(plain):
            if array.group(1) not in arrays:
                continue
            for number in _NUMBER.finditer(plain, array.start(2), array.end(2)):
                fresh = coarse(number.group(), 180)
                if fresh is not None and float(number.group()) in positions:
                    spans.append((number.start(), number.end(), fresh))
    return iter(sorted(spans))


def _coordinates(node: Any, pointer: str) -> Iterator[tuple[str, str, Any]]:
    """(pointer, key, value) of each coordinate to coarsen in a parsed document."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict | list):
                yield from _coordinates(item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict):
        return
    axes = {key: axis(key) for key in node}
    has_latitude = "lat" in axes.values()
    geojson = node.get("type") in _GEOJSON
    for key, value in node.items():
        here = f"{pointer}/{_escaped(key)}"
        if isinstance(value, dict | list):
            geojson_positions = key == "coordinates" and geojson
            if (geojson_positions and any(_coarsened(_flat(value)))) or _is_pair(key, value):
                yield here, key, value  # or "current_location": [-23.561414, -46.655881]
            else:
                yield from _coordinates(value, here)
            continue
        kind = axes[key]
        if kind == "lon?" and not has_latitude:
            continue
        if kind is not None and _fine(value, 90 if kind == "lat" else 180):
            yield here, key, value


def _is_pair(key: str, value: object) -> bool:
    """Two numbers in range, one at least finer than two decimals, under a pair's name
    (its last word, or the whole name: "current_location", "lat_lng")."""
    if not isinstance(value, list) or len(value) != 2 or not _pair_name(key):
        return False
    numbers = [n for n in value if isinstance(n, int | float) and not isinstance(n, bool)]
    return (
        len(numbers) == 2 and all(abs(n) <= 180 for n in numbers) and any(_coarsened(iter(numbers)))
    )


def _pair_name(key: str) -> bool:
    found = _LAST_WORD.search(key)
    if found is not None and found.group(1).lower() in _PAIR_NAMES:
        return True
    return "".join(filter(str.isalpha, key.lower())) in _PAIR_NAMES


def _fine(value: object, limit: float) -> bool:
    """A number (or numeric string) in range with more than two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    text = value if isinstance(value, str) else repr(value)
    return coarse(text.strip(), limit) is not None and text == text.strip()


def _flat(value: Any) -> Iterator[float]:
    """Every number in nested position arrays."""
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield float(value)


def _coarsened(numbers: Iterator[float]) -> Iterator[bool]:
    return (coarse(repr(n), 180) is not None for n in numbers)


def _escaped(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def coarsen_pairs(run: Run, names: list[str], value: Callable[[int], str]) -> dict[int, str]:
    """Query or form fields holding a coordinate, by index: their coarsened values
    (``value(i)`` is field i's, read only when a name may be a coordinate's)."""
    for name in names:  # most queries name no coordinate: one slice and set lookup each
        if name[-3:].lower() in _NAME_ENDINGS:
            break
    else:
        return {}
    axes = [axis(name) if len(name) <= 64 else None for name in names]
    has_latitude = "lat" in axes
    fresh: dict[int, str] = {}
    for i, kind in enumerate(axes):
        if kind is None or (kind == "lon?" and not has_latitude):
            continue
        coarsened = coarse(value(i), 90 if kind == "lat" else 180)
        if coarsened is not None:
            fresh[i] = coarsened
            run.counts[CLASS] = run.counts.get(CLASS, 0) + 1
    return fresh
