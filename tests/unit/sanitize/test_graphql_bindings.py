"""Which argument each variable of a GraphQL document fills (graphql_bindings): lists,
input objects, aliases, directives and fragments; strings, comments and the variables'
own definitions bind nothing; ``operationName`` picks the operation read."""

from __future__ import annotations

from ext_proc_server.sanitize.graphql_bindings import Binding, bindings

_TWO_OPERATIONS = (
    "mutation Lote($x: String) { registrarLote(codigo: $x) { id } } "
    "mutation Paciente($x: String) { criarPaciente(nome: $x) { id } } "
    "fragment Campos on Paciente { contato(telefone: $x) }"
)


def test_operation_name_picks_the_operation_whose_arguments_are_read() -> None:
    assert bindings(_TWO_OPERATIONS, "Paciente") == {
        "x": (Binding("nome", "criarPaciente"), Binding("telefone", "contato"))
    }
    assert bindings(_TWO_OPERATIONS, "Lote")["x"][0] == Binding("codigo", "registrarLote")
    assert len(bindings(_TWO_OPERATIONS, "Nenhuma")["x"]) == 3  # no such one: every one


def test_bindings_read_lists_input_objects_aliases_and_skip_strings_and_definitions() -> None:
    query = (
        'query Q($a: [String] = ["$b"], $c: Boolean) { novo: pessoas(filtro: {nomes: [$a], '
        'contatos: [{email: $d}]}, texto: "obs: $e") @include(if: $c) { id } } # x: $f'
    )
    assert bindings(query) == {
        "a": (Binding("nomes", "pessoas"),),
        "d": (Binding("email", "pessoas"),),
        "c": (Binding("if", "include"),),
    }
