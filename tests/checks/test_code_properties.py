"""Property-based: no source text makes the handler loader or the code analysis raise.

Two generators: handler-shaped Python built from a small grammar (every construct the
front end lowers, nested at random, with the names the sources and sinks use), and
arbitrary text, which mostly fails to parse and must then be a located error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.checks import code, sensitive_logging
from lambdashield.checks._code import HandlerView
from lambdashield.loaders.handlers import ParsedSource, load_handlers, parse_python
from lambdashield.model import ScanError, SourceFile

RULES = (*code.RULES, *sensitive_logging.RULES)
PATH = PurePosixPath("app.py")

names = st.sampled_from(
    ["event", "context", "x", "y", "body", "cmd", "e", "logger", "self", "handler", "f"]
)
modules = st.sampled_from(["os", "subprocess", "requests", "json", "pickle", "yaml", "shlex"])
attributes = st.sampled_from(
    ["system", "run", "get", "loads", "quote", "info", "body", "headers", "execute", "strip"]
)
keys = st.sampled_from(['"body"', '"headers"', '"password"', '"email"', "0", "-1", "x"])
literals = st.sampled_from(
    ['"ls"', "True", "None", "3", '"https://api.example.com/"', '"AKIAIOSFODNN7EXAMPLE"', "b'x'"]
)


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds("{}.{}".format, inner, attributes),
            st.builds("{}[{}]".format, inner, keys),
            st.builds("{}({})".format, inner, inner),
            st.builds("{}({}, shell={})".format, inner, inner, literals),
            st.builds("{} + {}".format, inner, inner),
            st.builds('f"{{{}}}/{{{}}}"'.format, inner, inner),
            st.builds('"%s {{}}".format({})'.format, inner),
            st.builds('"%s" % {}'.format, inner),
            st.builds("[{} for {} in {} if {}]".format, inner, names, inner, inner),
            st.builds("{{{}: {}}}".format, keys, inner),
            st.builds("({}, {})".format, inner, inner),
            st.builds("{} if {} else {}".format, inner, inner, inner),
            st.builds("({} := {})".format, names, inner),
            st.builds("not {}".format, inner),
            st.builds("{} in {}".format, inner, inner),
            st.builds("{} and {}".format, inner, inner),
            st.builds("lambda: {}".format, inner),
            st.builds("*{}".format, inner).map(lambda s: f"[{s}]"),
        )

    base = st.one_of(names, literals, st.builds("{}.{}".format, modules, attributes))
    return st.recursive(base, extend, max_leaves=12)


expr = expressions()


def blocks(depth: int) -> st.SearchStrategy[list[str]]:
    simple = st.one_of(
        st.builds("{} = {}".format, names, expr),
        st.builds("{}, {} = {}".format, names, names, expr),
        st.builds("{} += {}".format, names, expr),
        st.builds("{}[{}] = {}".format, names, keys, expr),
        st.builds("{}".format, expr),
        st.builds("return {}".format, expr),
        st.just("return"),
        st.builds("raise ValueError({})".format, expr),
        st.just("break"),
        st.just("continue"),
        st.just("pass"),
        st.builds("import {}".format, modules),
        st.builds("from {} import {} as {}".format, modules, attributes, names),
        st.builds("assert {}".format, expr),
        st.builds("del {}".format, names),
    ).map(lambda line: [line])
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=4).map(
            lambda groups: [line for group in groups for line in group]
        )
    inner = blocks(depth - 1)

    def indented(lines: list[str]) -> list[str]:
        return ["    " + line for line in lines]

    compound = st.one_of(
        st.builds(
            lambda t, a, b: [f"if {t}:", *indented(a), "else:", *indented(b)], expr, inner, inner
        ),
        st.builds(
            lambda t, a, b: [f"if {t}:", *indented(a), f"elif {t}:", *indented(b)],
            expr,
            inner,
            inner,
        ),
        st.builds(lambda n, i, a: [f"for {n} in {i}:", *indented(a)], names, expr, inner),
        st.builds(lambda t, a: [f"while {t}:", *indented(a)], expr, inner),
        st.builds(
            lambda a, b, c: [
                *("try:", *indented(a)),
                *("except Exception as e:", *indented(b)),
                *("finally:", *indented(c)),
            ],
            inner,
            inner,
            inner,
        ),
        st.builds(lambda c, n, a: [f"with {c} as {n}:", *indented(a)], expr, names, inner),
        st.builds(
            lambda n, a: [f"def {n}(event, context, *args, **kw):", *indented(a)], names, inner
        ),
        st.builds(
            lambda n, a: [f"class {n}(object):", "    def m(self, v):", *indented(indented(a))],
            names,
            inner,
        ),
        st.builds(
            lambda s, a, b: [
                *(f"match {s}:", "    case 1:", *indented(indented(a))),
                *("    case {'k': v, **rest}:", *indented(indented(b))),
            ],
            expr,
            inner,
            inner,
        ),
        st.builds(lambda d, a: [f"@{d}", "def g(x):", *indented(a)], expr, inner),
    )
    return st.lists(st.one_of(simple, compound), min_size=1, max_size=4).map(
        lambda groups: [line for group in groups for line in group]
    )


modules_source = st.builds(
    lambda top, body: (
        "\n".join([*top, "def handler(event, context):", *("    " + b for b in body)]) + "\n"
    ),
    blocks(1),
    blocks(3),
)


def run_rules(text: str) -> int:
    tree = parse_python(text, PATH)
    if isinstance(tree, ScanError):
        return -1
    view = HandlerView(ParsedSource(SourceFile(PATH, "python", (), ("handler",)), text, tree, ()))
    count = 0
    for rule in RULES:
        for hit in rule(view):
            origin = view.locate(hit.pointer)
            start, _end = origin.lines(hit.pointer)
            assert start is not None, (rule.meta.id, hit.pointer)
            assert hit.evidence
            count += 1
    return count


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(modules_source)
def test_generated_handlers_never_make_the_analysis_raise(text: str) -> None:
    run_rules(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_is_a_source_or_a_located_error(text: str) -> None:
    run_rules(text)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "app.py").write_text("def handler(event, context):\n    pass\n" + text, "utf-8")
        loaded = load_handlers([], [(root / "app.py", PATH)], root=root)
        assert len(loaded.sources) + len(loaded.errors) <= 1
        for error in loaded.errors:
            assert error.path == PATH and error.message
