"""Spanish field names read as their Portuguese peers.

Spanish-speaking APIs (Mercado Libre and Mercado Pago, Rappi, Despegar, Spanish and
Mexican banks, Argentina's AFIP, Colombia's DIAN) name a person's fields ``nombre``,
``apellidos``, ``telefono``, ``direccion``, ``colonia``, ``codigo_postal``. Every rule
that classifies a field reads its words (field_names.key_words), so each Spanish word
is given as the Portuguese word those rules already know: ``nombre`` is read as
``nome`` (a person's name in a person's record, a product's in a product's),
``razon_social`` as ``razao_social`` (a company's). Accents and case are folded
before (``Teléfono``, ``TELEFONO``). Words that also mean something else elsewhere
(``cp``, ``rfc``: a Request for Comments) are read so only as the whole name, with
a number's words at most (``numero_rfc``).
"""

from __future__ import annotations

# Spanish words (folded) and the Portuguese words the classifying rules know.
_WORDS = {
    "nombre": ("nome",),
    "nombres": ("nomes",),
    "apellido": ("sobrenome",),
    "apellidos": ("sobrenome",),
    "primer": ("primeiro",),
    "razon": ("razao",),
    "telefono": ("telefone",),
    "telefonos": ("telefones",),
    "movil": ("celular",),
    "moviles": ("celulares",),
    "direccion": ("endereco",),
    "direcciones": ("enderecos",),
    "calle": ("rua",),
    "colonia": ("bairro",),  # Mexico's neighbourhood
    "barrio": ("bairro",),
    "ciudad": ("cidade",),
    "nacionalidad": ("nacionalidade",),
    "madre": ("mae",),
    "padre": ("pai",),
    "conyuge": ("conjuge",),
    # whose object a key holds (owner_words): a person's
    "persona": ("pessoa",),
    "personas": ("pessoas",),
    "contacto": ("contato",),
    "contactos": ("contatos",),
    "alumno": ("aluno",),
    "empleado": ("funcionario",),
    "pasajero": ("passageiro",),
    "conductor": ("motorista",),
    "huesped": ("hospede",),
    "deudor": ("devedor",),
    "ciudadano": ("cidadao",),
    # or another's: a product's, a store's, a company's
    "producto": ("produto",),
    "productos": ("produtos",),
    "articulo": ("item",),
    "articulos": ("itens",),
    "tienda": ("loja",),
    "tiendas": ("lojas",),
    "comercio": ("merchant",),
    "compania": ("company",),
    "proveedor": ("fornecedor",),
    "sucursal": ("filial",),
    "servicio": ("servico",),
    "servicios": ("servicos",),
}
# Identity and tax numbers of a person (and, for some, of a company too), read as
# another country's identity document is (document_names: "dni"): Spain's NIE and
# NIF, Chile's RUT, Mexico's CURP and RFC, Argentina's CUIT and CUIL.
_DOCUMENTS = frozenset({"nie", "nif", "rut", "curp", "rfc", "cuit", "cuil"})
# Spain's and Mexico's postal code, written short.
_POSTAL_CODE = frozenset({"cp"})
# Words that may stand beside a document's or a postal code's abbreviation.
_NUMBER_WORDS = frozenset({"numero", "nro", "num", "no", "n", "nr", "de", "del", "documento"})

# Every Spanish word read here: a name with none of them is left as it is (one test).
SPANISH_WORDS = frozenset(_WORDS) | _DOCUMENTS | _POSTAL_CODE
# Words the body probe looks for in keys (field_probe), few: every word costs each text
# the detectors' gate reads (these six 0.7 % of a first-seen personal exchange; with
# "colonia" and "movil" 0.9 %). A Spanish person's record names one of them or a word a
# Portuguese probe word meets ("telefono" holds "tel"; "domicilio", "codigo_postal",
# "fecha_nacimiento", "celular", "dni", "cedula"); a body holding only a NIE, NIF, RUT
# or RFC is not read.
PROBE_WORDS = ("nombre", "apellido", "direcc", "curp", "cuit", "cuil")


def portuguese_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """A field's folded words with the Spanish ones given as their Portuguese peers."""
    if SPANISH_WORDS.isdisjoint(words):
        return words
    alone = all(w in _NUMBER_WORDS or w in _DOCUMENTS or w in _POSTAL_CODE for w in words)
    out: list[str] = []
    for word in words:
        if word in _WORDS:
            out.extend(_WORDS[word])
        elif word in _DOCUMENTS and alone:
            out.append("dni")
        elif word in _POSTAL_CODE and alone:
            out.append("cep")
        else:
            out.append(word)
    return tuple(out)
