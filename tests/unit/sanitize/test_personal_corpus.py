"""The personal-data corpus (sanitize_corpus/personal.json): nothing planted survives,
no decoy is destroyed, in tokens and pseudonyms modes."""

from __future__ import annotations

import json
from collections import Counter

from tests.unit.sanitize.personal_eval import load, request, score
from tests.unit.sanitize.sanitize_helpers import sanitizer

CASES = load()


def test_the_corpus_plants_200_values_per_class_and_decoys_in_every_format() -> None:
    planted = Counter(cls for case in CASES for cls, _ in case["planted"])
    assert set(planted) == {"name", "birth_date", "address", "cep", "rg", "phone"}
    assert min(planted.values()) >= 200, planted
    formats = Counter()
    for case in CASES:
        kind = "query" if case.get("query") else case["content_type"].rpartition("/")[2]
        formats[kind] += len(case["decoys"])
    for kind in ("json", "xml", "x-www-form-urlencoded", "query", "plain"):
        assert formats[kind] >= 50, formats


def test_every_planted_value_is_in_its_request() -> None:
    from tests.unit.sanitize.personal_eval import haystack

    for case in CASES:
        text = haystack(request(case), case["content_type"])
        assert all(value in text for _, value in case["planted"]), case["name"]
        assert all(decoy in text for decoy in case["decoys"]), case["name"]


def test_nothing_planted_survives_and_every_decoy_is_kept() -> None:
    result = score(sanitizer(), CASES)
    assert result.details == []
    assert result.recall == 1.0 and result.decoys_kept == 1.0


def test_pseudonyms_replace_the_same_places_and_keep_every_decoy() -> None:
    """Detection does not depend on the mode, so the places replaced are the tokens
    mode's. (A fake word may equal another field's planted word, a bairro "Cardoso"
    and a fake surname "Cardoso": that is a pseudonym, not a leak, so survival is
    scored in tokens mode.)"""
    from ext_proc_server.core.exchange import Exchange

    tokens, pseudonyms = sanitizer(), sanitizer(sanitize_mode="pseudonyms", pseudonym_key="corpus")
    for case in CASES:
        exchange = Exchange(id=case["name"], request=request(case))
        assert tokens.sanitize(exchange).redactions == pseudonyms.sanitize(exchange).redactions
    assert score(pseudonyms, CASES).decoys_kept == 1.0


def test_json_cases_stay_valid_json() -> None:
    from ext_proc_server.core.exchange import Exchange

    s = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="corpus")
    for case in CASES:
        if case["content_type"].endswith("json") and case["body"]:
            out = s.sanitize(Exchange(id=case["name"], request=request(case))).request
            json.loads(out.body)


def test_the_generator_builds_the_stored_corpus_byte_for_byte() -> None:
    """Dates are drawn from the day the file was built (personal_corpus.TODAY), not the
    day the generator runs; a Faker release with other word lists would change it too."""
    from faker import VERSION

    from tests.unit.sanitize import personal_corpus

    built = json.dumps(personal_corpus.build(), ensure_ascii=False, indent=1) + "\n"
    stored = personal_corpus.OUT.read_text(encoding="utf-8")
    assert built == stored, f"personal.json is not what Faker {VERSION} builds"
