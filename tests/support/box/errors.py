"""The one error the box raises: what failed, in words a person can act on."""

from __future__ import annotations


class BoxError(Exception):
    """A container, image or manifest the box could not run the way a cluster would."""
