"""A company's record under a holder whose name alone makes it a person's: Focus NFe's
NFS-e ``"tomador": {"cnpj": …, "razao_social": …, "endereco": {…}}``. A bare ``cnpj``
member there says the tomador is a company (a person's record names its CPF, and an
employer's CNPJ by its role: ``cnpjEmpresa``), so its address, CEP and name stay as a
record with a ``cnpj`` member keeps them elsewhere (fields.object_place); a name that
reads as a person's (a sole trader's) still goes, read as a razão social is
(legal_names), as company_records does for a CNPJ under ``cpfCnpj``."""

from __future__ import annotations

from collections.abc import Callable, Set

from ext_proc_server.sanitize.secret_keys import Verdict

_CNPJ = "cnpj"
_TOMADOR = "tomador"  # NFS-e's service taker, Focus NFe's "tomador"


def cnpj_alone(holder: Set[str], marks: Set[str]) -> bool:
    """Whether a tomador's record (``holder``: its holder's words) has members
    (``marks``: their names compacted) naming a CNPJ alone and no CPF (a sole trader's
    pair is read as a person's). Only a tomador's here: an XML party such as NF-e's
    ``<dest>`` beside a ``<CNPJ>`` is decided by ``company_parties``."""
    return _TOMADOR in holder and _CNPJ in marks and not any("cpf" in m for m in marks)


def sole_trader_verdicts(
    keys: tuple[str, ...],
    verdicts: tuple[str | None, ...],
    as_person: Callable[[str], str | None],
    names: tuple[Verdict, ...],
    legal_name: Verdict,
) -> tuple[str | None, ...]:
    """``verdicts`` of a company's record under a person's holder, a member the
    person's record would read as a name (``as_person(key)`` in ``names``) read as a
    razão social is (``legal_name``): a sole trader's name is theirs."""
    return tuple(
        legal_name if found is None and as_person(key) in names else found
        for key, found in zip(keys, verdicts, strict=True)
    )
