"""The house's map and its layers: every module is in ``docs/architecture.md``, every path the map
names exists, and the imports between fusion modules follow the layers of ``fusion/__init__.py``
with no cycles. Only files are read (imports are parsed with ``ast``, nothing is imported)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "docs" / "architecture.md"

# core < data < render < model < evaluation < demo/cli (fusion/__init__.py's docstring)
LAYERS = ("core", "data", "render", "model", "evaluation", "top")
CORE = {"fusion.melody", "fusion.features", "fusion.paths", "fusion.config", "fusion.registry"}
TOP = {"fusion", "fusion.demo", "fusion.cli", "fusion.__main__"}  # ``fusion``: the public API in __init__.py
SUBPACKAGES = {"fusion.data": "data", "fusion.render": "render", "fusion.model": "model",
               "fusion.evaluation": "evaluation"}
ABOVE_FUSION = ("listening_test", "app", "ui")  # nothing in fusion/ may import these


def documented_files() -> list[Path]:
    """Every module of the project (and every script), as paths relative to the root."""
    files = [ROOT / "app.py"]
    for folder in ("fusion", "listening_test", "bench", "ui"):
        files += (ROOT / folder).rglob("*.py")
    files += [f for f in (ROOT / "scripts").iterdir() if f.is_file()]
    return sorted(f.relative_to(ROOT) for f in files if "__pycache__" not in f.parts)


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def fusion_modules() -> dict[str, Path]:
    return {module_name(f.relative_to(ROOT)): f for f in sorted((ROOT / "fusion").rglob("*.py"))}


def layer_of(module: str) -> str:
    if module in CORE:
        return "core"
    if module in TOP:
        return "top"
    for package, layer in SUBPACKAGES.items():
        if module == package or module.startswith(package + "."):
            return layer
    raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/test_architecture.py, to the "
                         f"docstring of fusion/__init__.py and to docs/architecture.md")


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules named in every import statement of ``path`` (lazy ones inside functions too):
    ``from a import b`` is module ``a.b`` when that is a module, else ``a``. Names outside the
    project's packages are kept by their first component (``listening_test``, ``app``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()

    def add(name: str) -> None:
        if name.split(".")[0] != "fusion":
            found.add(name.split(".")[0])
            return
        while name and name not in known:  # ``import fusion.data.corpus.x`` -> the longest known module
            name = name.rpartition(".")[0]
        if name:
            found.add(name)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..data import y
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    found.discard(module)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    mods = fusion_modules()
    return {m: imports_of(p, m, set(mods)) for m, p in mods.items()}


def test_every_module_and_script_is_in_the_architecture_map():
    text = MAP.read_text()
    missing = [str(p) for p in documented_files() if f"`{p.as_posix()}`" not in text]
    assert not missing, f"add these to docs/architecture.md (as `path`): {missing}"


def test_every_path_the_map_names_exists():
    text = MAP.read_text()
    named = set(re.findall(r"`((?:fusion|listening_test|scripts|bench|tests|docs|ui)/[\w./-]*\w)`", text))
    named |= {"app.py"} if "`app.py`" in text else set()
    gone = sorted(p for p in named if not (ROOT / p).exists())
    assert not gone, f"docs/architecture.md names paths that do not exist: {gone}"


def test_every_fusion_module_has_a_layer():
    for module in fusion_modules():
        assert layer_of(module) in LAYERS


def test_no_fusion_module_imports_from_a_higher_layer(graph):
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target in ABOVE_FUSION:
                wrong.append(f"{module} imports {target}, which is above the fusion package")
            elif (target == "fusion" or target.startswith("fusion.")) and LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(module)):
                wrong.append(f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_between_fusion_modules(graph):
    edges = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def connect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    assert not cycles, f"modules that import each other (directly or around a loop): {cycles}"


def test_the_checks_themselves_see_what_they_should(tmp_path):
    """The import parser on a hand-made package: absolute, relative, lazy and aliased imports."""
    pkg = tmp_path / "fusion" / "model"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text("import fusion.render.midi as midi\nfrom . import sampling\nfrom ..data import corpus\n"
                              "from fusion import registry, GENRES\n\ndef f():\n    from listening_test import db\n")
    known = {"fusion", "fusion.model", "fusion.model.m", "fusion.model.sampling", "fusion.render",
             "fusion.render.midi", "fusion.data", "fusion.data.corpus", "fusion.registry"}
    got = imports_of(pkg / "m.py", "fusion.model.m", known)
    assert got == {"fusion.render.midi", "fusion.model.sampling", "fusion.data.corpus", "fusion.registry",
                   "fusion", "listening_test"}
    assert layer_of("fusion.data.corpus") == "data" and layer_of("fusion.cli") == "top"
