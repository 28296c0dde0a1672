"""The words of a key holding an object that make the object a person's (``customer``,
``tomador``, ``titular``) or another's: a company's, a product's, a plan's, a bank's
(``emit``, ``merchant``, ``produto``). fields.object_place reads them.
"""

from __future__ import annotations

PERSON_BLOCK = frozenset(
    {"customer", "customers", "cliente", "clientes", "user", "users", "usuario", "usuarios",
     "person", "persons", "people", "pessoa", "pessoas", "titular", "titulares", "holder",
     "cardholder", "payer", "pagador", "recipient", "destinatario", "dest", "buyer",
     "comprador", "consumer", "consumidor", "contact", "contacts", "contato", "contatos",
     "owner", "proprietario", "beneficiary", "beneficiario", "beneficiarios", "patient",
     "paciente", "student", "aluno", "employee", "funcionario", "colaborador", "member",
     "membro", "associado", "segurado", "insured", "tomador", "responsavel", "guardian",
     "dependente", "dependent", "dependentes", "spouse", "conjuge", "mae", "pai", "mother",
     "father", "filiacao", "passenger", "passageiro", "driver", "motorista", "lead",
     "subscriber", "assinante", "debtor", "devedor", "requester", "solicitante", "profile",
     "perfil", "applicant", "candidato", "proponente", "signer", "signatario", "socio",
     "socios", "avalista", "fiador", "individual", "cidadao", "citizen", "morador",
     "resident", "tenant", "inquilino", "locatario", "hospede", "guest", "traveler",
     "viajante", "responsaveis", "pacientes", "alunos", "funcionarios", "colaboradores",
     "membros", "segurados", "compradores", "pagadores", "destinatarios", "passageiros",
     "motoristas", "hospedes", "moradores", "signatarios", "patients", "students",
     "owners", "holders", "author", "committer", "tagger",  # git's: a commit's, a tag's
     "sacado", "sacados"}  # a bank slip's payer (CNAB's, Banco do Brasil's)
)  # fmt: skip
OTHER_BLOCK = frozenset(
    {"company", "companies", "empresa", "empresas", "emit", "emitente", "merchant",
     "merchants", "store", "stores", "loja", "lojas", "seller", "sellers", "vendedor",
     "establishment", "estabelecimento", "organization", "organisation", "org",
     "organizacao", "fornecedor", "supplier", "vendor", "bank", "banco", "bancos", "agencia",
     "branch", "filial", "matriz", "transporta", "transportadora", "carrier", "parceiro",
     "partner", "issuer", "emissor", "acquirer", "credenciadora", "provider", "fabricante",
     "manufacturer", "brand", "marca", "product", "products", "produto", "produtos", "prod",
     "item", "items", "itens", "plan", "plans", "plano", "planos", "category", "categories",
     "categoria", "categorias", "offer", "offers", "oferta", "ofertas", "service",
     "services", "servico", "servicos", "app", "application", "device", "dispositivo",
     "event", "events", "evento", "course", "curso", "campaign", "campanha", "project",
     "projeto", "team", "group", "grupo", "file", "files", "arquivo", "tag", "tags", "sku",
     "catalog", "catalogo", "shop", "restaurant", "restaurante", "hotel", "hospital",
     "clinica", "school", "escola", "instituicao", "institution", "bandeira", "operadora",
     "platform", "plataforma", "channel", "canal", "system", "sistema", "department",
     "departamento", "role", "city", "cidade", "state", "estado", "country", "pais",
     "terminal", "razao", "fantasia", "employer", "empregador",
     # a package manifest's dependency maps (package.json, composer.json): package names
     "dependencies", "require", "resolutions", "overrides"}
)  # fmt: skip
