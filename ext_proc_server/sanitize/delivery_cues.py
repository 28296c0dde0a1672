"""Words before a street with no number that say a parcel goes there: "Endereço: Praia
Silva", "entregar em Loteamento Luigi da Luz", "ship to Maple Grove Drive". Read as the
words that say one lives there are (personal_text), but a town or a neighbourhood after
them ("entregar em Campo Grande", "enviar para Vila Velha") is no one's address: it
stays.
"""

from __future__ import annotations

from ext_proc_server.sanitize.named_places import is_known_place

# Portuguese and Spanish phrases, lowered, each with the space after it (lookbehinds of
# fixed width: personal_text groups them by width).
DELIVERY_PHRASES = (
    *(f"{verb} {to} " for verb in ("entregar", "entrega", "enviar") for to in ("em", "na", "no")),
    *(f"{verb} para {the}" for verb in ("entregar", "enviar") for the in ("", "a ", "o ")),
    *(f"{label}: " for label in ("endereço", "endereco", "endereço de entrega", "dirección")),
    "entregar en ", "enviar a ",
)  # fmt: skip
# The United States' phrases (a regex, read in any casing): before a numberless street
# and a common suffix ("ship to Maple Grove Drive, Springfield"). An order to deliver
# there, not a report of where goods went ("12 items shipped to North Main Street": a
# store's).
US_DELIVERY_CUE = (
    r"ship[ \t]+to|deliver[ \t]+to|send[ \t]+(?:it[ \t]+)?to"
    r"|(?:shipping|delivery|mailing|home)[ \t]+address[ \t]*:?"
)
# The same on the lowered probe's bytes.
US_DELIVERY_PROBE = US_DELIVERY_CUE.encode()

_LONGEST = max(map(len, DELIVERY_PHRASES))


def delivered_to_a_place(text: str, start: int, street: str) -> bool:
    """Whether ``street``, found at ``start`` after a delivery phrase, is a town or a
    neighbourhood (named_places) rather than a street: "entregar em Campo Grande"."""
    before = text[max(0, start - _LONGEST) : start].lower()
    return any(before.endswith(p) for p in DELIVERY_PHRASES) and is_known_place(street)
