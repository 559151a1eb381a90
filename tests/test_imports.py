"""The import rules, read from the source with `ast`: arrows point down, no circles.

- `rag/` (the library) imports none of `ui`, `evals`, `cli`, `benchmarks`,
  `devtools`, `tests`;
- `ui`, `evals` and `rag` never import `cli` (the command line sits above them);
- benchmarks import no tests (what they share lives in `devtools/`);
- no circle among the modules of `rag`, `ui`, `evals`, `cli` and `devtools`, counting
  imports made inside functions too;
- each stage of `rag` imports only the stages below it (`ALLOWED`);
- no module of these packages, nor a test, is over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ui", "evals", "cli", "devtools", "benchmarks")


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports (a `from pkg import sub` names the submodule)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_library_imports_no_front_end_eval_or_tool() -> None:
    bad = [(m, t) for m, targets in _graph().items() for t in targets
           if _top(m) == "rag" and _top(t) != "rag"]
    assert not bad, f"rag/ must not import these: {bad}"


def test_only_the_command_line_imports_the_command_line() -> None:
    bad = [(m, t) for m, targets in _graph().items() for t in targets
           if _top(t) == "cli" and _top(m) != "cli"]
    assert not bad


def test_benchmarks_import_no_tests() -> None:
    modules = _modules()
    for name, path in modules.items():
        if _top(name) == "benchmarks":
            text = path.read_text(encoding="utf-8")
            assert "from tests" not in text and "import tests" not in text, name


# What each stage of `rag` may import besides itself (as its docstring says).
_BASE = {"rag.config", "rag.digest", "rag.errors", "rag.types", "rag.vocabulary"}
ALLOWED = {
    "rag.vocabulary": set(), "rag.types": set(), "rag.errors": set(), "rag.config": set(),
    "rag.digest": set(),
    "rag.question": _BASE,
    "rag.index": _BASE,
    "rag.ingest": _BASE | {"rag.index"},
    "rag.retrieve": _BASE | {"rag.index"},
    "rag.answer": _BASE | {"rag.index", "rag.retrieve", "rag.question"},
    "rag.llm": _BASE | {"rag.answer", "rag.retrieve", "rag.question"},
    "rag.cache": _BASE | {"rag.question"},
    "rag.desk": _BASE | {"rag.ingest"},  # above ingest; nothing in `rag` imports it
}


def _stage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_each_stage_imports_only_the_stages_below_it() -> None:
    bad = [(m, t) for m, targets in _graph().items() if _stage(m) in ALLOWED
           for t in targets if _stage(t) != _stage(m) and _stage(t) not in ALLOWED[_stage(m)]]
    assert not bad, f"imports across the stage rules: {bad}"


def test_nothing_in_the_library_imports_the_sources_desk() -> None:
    bad = [(m, t) for m, targets in _graph().items() for t in targets
           if _stage(t) == "rag.desk" and _top(m) == "rag" and _stage(m) != "rag.desk"]
    assert not bad, f"only ui/ and cli/ may use the desk: {bad}"


MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    paths = list(_modules().values()) + list((ROOT / "tests").rglob("*.py"))
    long = {str(p.relative_to(ROOT)): n for p in paths
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules: {long}"


def test_there_is_no_import_circle() -> None:
    graph = {m: t for m, t in _graph().items() if _top(m) != "benchmarks"}
    circles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert not circles, f"import circles: {circles}"


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups
