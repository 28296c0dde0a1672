"""The cardholder's name on a line of its own beside a card number: a card written as
a block ("Maestro\\nMateus Azevedo\\n6759 6498 2643 8453 04/31\\nCVV: 123", as a
checkout's note, a support ticket or Faker's ``credit_card_full`` write it). The number
is a card's by its check digit; the name beside it is in no field of its own, and in a
field that is not prose it went out.

Only the line right before the number's line, or right after it (an embossed card
reads number, then name), and only a line that holds nothing but a name's words:
capitalised words or words in capitals ("MATEUS AZEVEDO"), particles and initials
between, and no card's or bank's word ("Visa Gold", "American Express", "Nubank
Ultravioleta" stay). A line opening with a known first name or a title is a name
whatever words follow ("Debbie Mercado", "Latoya Miles", "Dom Fogaça"); any other
needs a known name among its words ("Edu Carlos") and no place's or business's word
("Banco do Brasil", "Posto Shell" stay). A line that is a town whole stays, even one
named as a person is ("Antônio Carlos", "Almirante Tamandaré": a billing city).
Italy's and Spain's names that are also Portuguese words count here ("Felicidad
Cabañas"): beside a card number the line names its holder.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.named_places import places_in
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, TITLES
from ext_proc_server.sanitize.surnames import FOREIGN_FIRST_NAME_WORDS, FOREIGN_SURNAME_WORDS
from ext_proc_server.sanitize.wordlists import fold, word_lists

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_WORD = rf"(?:[{_UP}][{_LO}]+|[{_UP}]{{2,}}|[{_UP}]\.?)(?:['\u2019-][{_UP}]?[{_LO}]+)*"
_PARTICLE = r"(?:d[aeo]s?|D[AEO]S?|de[ ]la|del|di|van|von|y|e)"
# A line of two to six name words (particles between), spaces around them allowed.
_HOLDER_LINE = re.compile(
    rf"[ \t]*(?P<v>{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD}){{1,5}})[ \t]*\r?$"
)
_NAME_WORD = re.compile(rf"[{_UP}{_LO}'\u2019-]+")

# Words a card's or a bank's line holds (schemes, products, labels): such a line
# names no one.
_CARD_WORDS = frozenset(
    {"visa", "mastercard", "master", "maestro", "amex", "american", "express", "diners",
     "discover", "jcb", "elo", "hipercard", "hiper", "cabal", "unionpay", "union", "pay",
     "credit", "debit", "card", "cartao", "credito", "debito", "gold", "platinum",
     "black", "infinite", "signature", "classic", "standard", "international",
     "internacional", "nacional", "virtual", "prepaid", "pre", "pago", "valid", "thru",
     "validade", "titular", "holder", "name", "nome", "number", "numero", "expires",
     "expiry", "digit", "digits", "cvv", "cvc", "code", "codigo", "bandeira", "nubank",
     "itau", "bradesco", "santander", "caixa", "inter", "original", "next", "neon",
     "digio", "personnalite", "uniclass", "prime", "select", "private", "business",
     "corporate", "empresarial", "universitario", "mais", "smiles", "latam", "azul",
     "fidelidade", "rewards", "miles", "test", "teste", "sandbox", "approved", "declined",
     "aprovado", "recusado"}
)  # fmt: skip


def holder_hits(text: str, hits: list[Hit]) -> list[Hit]:
    """Names on the lines beside the card numbers among ``hits``."""
    found: list[Hit] = []
    for hit in hits:
        if hit.cls != "card":
            continue
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.end)
        if line_start > 0:  # the line before
            before = text.rfind("\n", 0, line_start - 1) + 1
            found.extend(_holder(text, before, line_start - 1))
        if line_end >= 0:  # the line after
            after = text.find("\n", line_end + 1)
            found.extend(_holder(text, line_end + 1, len(text) if after < 0 else after))
    return found


def _holder(text: str, start: int, end: int) -> list[Hit]:
    m = _HOLDER_LINE.match(text, start, end)
    if m is None:
        return []
    words = [fold(w).rstrip(".") for w in _NAME_WORD.findall(m.group("v"))]
    if words[0] in _CARD_WORDS:
        return []
    lists = word_lists()
    first = (lists.prose_first_folded, lists.first_or_last_folded, FOREIGN_FIRST_NAME_WORDS)
    opens = words[0] in TITLES or any(words[0] in names for names in first)
    places = places_in(words)
    if places and (
        not opens
        or (0, len(words)) in places
        or any(w in NOT_PERSON or w in PLACE_OPENERS for a, b in places for w in words[a:b])
    ):
        # "Alto Alegre", "Abadia de Goiás", and a town named as a person is, whole
        # ("Antônio Carlos", "Almirante Tamandaré": a billing city more often than a
        # holder); "Antônio Carlos Souza" is a holder, and so is "Maria Helena Serra":
        # a place's word counts in the town's words, not in the surname after them.
        return []
    if opens:
        return [Hit(m.start("v"), m.end("v"), "name")]  # "Debbie Mercado", "James Holder"
    if any(
        w in _CARD_WORDS or (w in NOT_PERSON and w not in lists.place_last_folded) for w in words
    ):
        return []
    known = (*first, lists.prose_last_folded, lists.last_words_folded, FOREIGN_SURNAME_WORDS)
    if not any(len(w) > 1 and any(w in names for names in known) for w in words):
        return []
    return [Hit(m.start("v"), m.end("v"), "name")]
