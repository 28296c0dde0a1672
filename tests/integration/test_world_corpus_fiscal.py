"""Brazil's own documents: the published samples of NF-e, NFC-e, CT-e, MDF-e, NFS-e,
BP-e, NF3e and NFCom (nfelib's distribution, fetched by ``make tools``), each sent as a
SEFAZ SOAP call, SEFAZ's distribution answer (the document gzipped in base64), a REST
``POST /v1/nfe`` and a ``GET /v1/notas/{chave}`` (see ``tests/support/fiscal_xml.py``),
go through the pipeline's own steps.

* No personal value of a document (a person's CPF, and the names, phone, e-mail, birth
  date and address lines of a record that holds a CPF) is in any queue entry. A
  company's record (a ``<CNPJ>``) is public. A gzipped document is read unzipped.
* The 44-digit access key stays: each note's stub answers ``GET /v1/notas/{chave}``.
* Each stub, loaded with the others into a real WireMock 3.13.2, answers its own
  request with the recorded status, headers and body; none is refused for an error.
* A person named in a note's free text (``<infCpl>``, ``<infAdFisco>``) with no cue
  before the name is not queued either, and those stubs answer as recorded too.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections import Counter

import pytest

from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from tests.support.fiscal_xml import (
    FiscalSample,
    fiscal_examples,
    personal_values,
    samples,
    unzipped,
)
from tests.support.processes import WireMockHandle
from tests.support.world_corpus import (
    SAME_STUB,
    Run,
    pipeline_runs,
    queued,
    replay_corpus,
    stored_text,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fiscal_runs() -> list[tuple[FiscalSample, Run]]:
    examples = fiscal_examples()
    runs = pipeline_runs([example for _, example in examples])
    return [(sample, run) for (sample, _), run in zip(examples, runs, strict=True)]


def test_no_personal_value_of_a_fiscal_document_is_queued(
    fiscal_runs: list[tuple[FiscalSample, Run]],
) -> None:
    leaks: list[str] = []
    checked = Counter[str]()
    for sample, run in fiscal_runs:
        stored = unzipped(stored_text(run))
        checked["gzipped answers"] += stored != stored_text(run)
        for value, element in sorted(personal_values(sample).items()):
            checked[element] += 1
            # Written in the entry as it is, or as XML writes it (&amp;).
            if queued(value, stored) or queued(html.escape(value, quote=False), stored):
                leaks.append(f"{run.what}: <{element}> {value!r}")
    # The scan is not vacuous: the samples hold people, and every exchange was queued.
    assert len(samples()) > 40
    assert checked["CPF"] > 10 and checked["xNome"] > 20 and checked["CEP"] > 10, checked
    assert checked["fone"] > 5 and checked["email"] > 0, checked
    assert checked["gzipped answers"] == len(samples()), checked
    assert leaks == [], f"{len(leaks)} personal values queued: {leaks}"
    errors = [f"{run.what} ({run.skip})" for _, run in fiscal_runs if run.mapping is None]
    assert errors == [], f"no entry for: {errors}"


def test_the_access_key_stays(fiscal_runs: list[tuple[FiscalSample, Run]]) -> None:
    keyed = [
        (sample, run)
        for sample, run in fiscal_runs
        if sample.chave and run.example.operation_id.startswith("GET")
    ]
    assert len(keyed) > 30
    for sample, run in keyed:
        assert run.mapping is not None, run.what
        assert run.mapping["request"]["urlPath"] == f"/v1/notas/{sample.chave}", run.what


def test_each_fiscal_stub_answers_its_own_request_as_recorded(
    fiscal_runs: list[tuple[FiscalSample, Run]], wiremock: WireMockHandle
) -> None:
    replay = replay_corpus([run for _, run in fiscal_runs], wiremock)
    assert len(replay.replayed) > 0.9 * len(fiscal_runs), (len(replay.replayed), replay.skipped)
    assert replay.wrong == [], (
        f"{len(replay.wrong)} of {len(replay.replayed)} stubs answer wrong: {replay.wrong}"
    )
    assert set(replay.skipped) <= {*STUB_SKIP_REASONS, SAME_STUB}, replay.skipped


# People named in a note's complementary information, as issuers write them: no cue
# word ("cliente", "Sr.") before the name.
NOTE = "Entregar para Maria Aparecida da Silva, apto 12. Recebido por JOAO PEREIRA DOS SANTOS"
NOTED = ("Maria Aparecida da Silva", "JOAO PEREIRA DOS SANTOS")
SANITIZED_NOTE = "Entregar para SANITIZED_NAME, apto 12. Recebido por SANITIZED_NAME"
_INF_CPL = re.compile(r"<infCpl>[^<]*</infCpl>")


@pytest.fixture(scope="module")
def noted_runs() -> list[Run]:
    noted = [
        dataclasses.replace(sample, text=_INF_CPL.sub(f"<infCpl>{NOTE}</infCpl>", sample.text))
        for sample in samples()
        if _INF_CPL.search(sample.text)
    ]
    return pipeline_runs([example for _, example in fiscal_examples(noted)])


def test_a_person_named_in_a_notes_free_text_is_not_queued(
    noted_runs: list[Run], wiremock: WireMockHandle
) -> None:
    assert len(noted_runs) > 20  # the samples with an <infCpl>, three or four calls each
    leaks: list[str] = []
    unreplaced: list[str] = []
    for run in noted_runs:
        stored = unzipped(stored_text(run))
        leaks += [f"{run.what}: {name}" for name in NOTED if queued(name, stored)]
        # The names, and only they, were replaced in the note the exchange carries.
        answer = run.clean.response
        sanitized = [run.clean.request.body, answer.body if answer is not None else b""]
        if not any(SANITIZED_NOTE in unzipped(body.decode()) for body in sanitized):
            unreplaced.append(run.what)
    assert leaks == [], f"{len(leaks)} names queued: {leaks}"
    assert unreplaced == [], unreplaced
    replay = replay_corpus(noted_runs, wiremock)
    assert len(replay.replayed) > 0.9 * len(noted_runs), (len(replay.replayed), replay.skipped)
    assert replay.wrong == [], replay.wrong
