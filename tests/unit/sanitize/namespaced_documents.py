"""Generated XML documents whose namespace and schema-location URIs hold what looks like
data (an e-mail, an 11-digit run, a CPF, a UUID, a name slug) and whose text and
ordinary ``ref`` attributes hold planted e-mails: a sanitized one must keep every
name and lose every planted value."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import make_cpf

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SLUGS = st.sampled_from(["maria-souza", "joao-pereira", "ana-lima", "carlos-oliveira"])
_LOCAL = st.sampled_from(["cadastro", "pedido", "item", "registro", "dados", "envio", "Lote"])
_PREFIX = st.sampled_from(["p", "ns1", "cad", "tns", "v2"])
_USER = st.sampled_from(["joao.silva", "ana.costa", "maria_souza", "rafael88", "lucia.prado"])
_HOST = st.sampled_from(["loja.com.br", "example.com", "gov.br", "empresa.pt", "correo.es"])
_PLANT = st.one_of(
    st.builds("{}@{}".format, _USER, _HOST),
    st.from_regex(r"[1-9][0-9]{10}", fullmatch=True),
    st.from_regex(r"[0-9]{9}", fullmatch=True).map(make_cpf),
    st.uuids().map(str),
    SLUGS,
)
_URI = st.one_of(
    st.builds("https://{}/{}/v1".format, _HOST, _PLANT),
    st.builds("urn:{}:{}".format, _LOCAL, _PLANT),
)
# Secrets in text and ordinary attributes: e-mails at a domain no namespace uses.
_SECRET = st.builds("{}@clientes-{}".format, _USER, _HOST)


@st.composite
def namespaced_documents(
    draw: st.DrawFn, quotes: tuple[str, ...] = ('"',)
) -> tuple[str, list[str]]:
    """(document, the secrets planted in its text and ``ref`` attributes)."""
    q = draw(st.sampled_from(quotes))
    prefixes = draw(st.lists(_PREFIX, min_size=1, max_size=3, unique=True))
    declarations = " ".join(f"xmlns:{p}={q}{draw(_URI)}{q}" for p in prefixes)
    default = draw(_URI)
    schema = f"{default} https://schemas.example.com/{draw(_PLANT)}/s.xsd"
    secrets, children = [], []
    for _ in range(draw(st.integers(1, 4))):
        prefix = draw(st.sampled_from([*prefixes, ""]))
        tag = f"{prefix}:{draw(_LOCAL)}" if prefix else draw(_LOCAL)
        text, attribute = draw(_SECRET), draw(_SECRET)
        secrets += [text, attribute]
        children.append(f"<{tag} ref={q}{attribute}{q}>Contato: {text}</{tag}>")
    root = draw(_LOCAL)
    body = (
        f"<{root} xmlns={q}{default}{q} {declarations} xmlns:xsi={q}{XSI}{q} "
        f"xsi:schemaLocation={q}{schema}{q}>{''.join(children)}</{root}>"
    )
    assert not any(is_token(secret) for secret in secrets)
    return body, secrets


def element_tags(root: ET.Element) -> list[str]:
    """Every element's ``{namespace URI}local name``, in document order."""
    return [element.tag for element in root.iter()]


def assert_names_kept_values_gone(body: str, sanitized: str, secrets: list[str]) -> None:
    before, after = ET.fromstring(body), ET.fromstring(sanitized)
    assert element_tags(after) == element_tags(before)  # every namespace URI and local name
    schema = f"{{{XSI}}}schemaLocation"
    assert after.get(schema) == before.get(schema)
    for element in after.iter():
        for value in (element.text or "", element.get("ref") or ""):
            assert not any(secret in value for secret in secrets)
