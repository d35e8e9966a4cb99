"""The house rules of the package, read from its source with `ast`: imports run one way,
from the floors below to the parts of the study and the paper above; no circle; no
private name taken from another package; no module over 400 lines; a part's figures and
section import no trainer; the README's layout table names every folder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "emnn"

# Each folder's floor: a module may import from its own floor or below, never above.
FLOORS = {
    "core": 0,
    "models": 1,
    "typeset": 1,
    "templates": 1,
    "data": 2,
    "study": 3,
    "parts": 4,
    "paper": 5,
    "plan": 6,
    "cli": 6,
    "__main__": 7,
}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imports(module: str) -> list[tuple[str, str]]:
    """(imported module, name) pairs of every import in a module, at any depth; name is ""
    for a module imported whole."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "emnn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "emnn":
                source = node.module
            else:
                continue
            for alias in node.names:
                whole = f"{source}.{alias.name}"
                found.append((whole, "") if whole in MODULES else (source, alias.name))
    return found


def floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None  # the package's face: no floor


def edges() -> set[tuple[str, str]]:
    """Module -> module imports, leaving out the package's face and parent packages (an
    import runs their __init__, which only names what lives there)."""
    out = set()
    for module in MODULES:
        for target, _ in imports(module):
            if target == "emnn" or module.startswith(target + "."):
                continue
            out.add((module, target))
    return out


def test_imports_never_run_from_a_lower_floor_to_a_higher_one():
    upward = [
        f"{a} (floor {floor(a)}) imports {b} (floor {floor(b)})"
        for a, b in sorted(edges())
        if floor(a) is not None and floor(b) is not None and floor(b) > floor(a)
    ]
    assert not upward, "\n".join(upward)


def test_every_module_has_a_floor():
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(FLOORS)


def test_a_part_imports_another_part_only_through_its_contract():
    crossing = [
        f"{a} imports {b}"
        for a, b in sorted(edges())
        if a.startswith("emnn.parts.") and b.startswith("emnn.parts.")
        and a.split(".")[2] != b.split(".")[2] and not b.endswith(".contract")
    ]  # fmt: skip
    assert not crossing, "\n".join(crossing)


def test_the_paper_knows_a_part_by_its_contract_and_its_section_only():
    """emnn.paper assembles the parts' sections through its registry (each part's
    section.py) and reads their table names from their contracts; nothing else."""
    reached = [
        f"{a} imports {b}"
        for a, b in sorted(edges())
        if a.startswith(("emnn.paper.", "emnn.plan")) and b.startswith("emnn.parts.")
        and b.rsplit(".", 1)[-1] not in ("contract", "section")
    ]  # fmt: skip
    assert not reached, "\n".join(reached)


def test_no_circle_of_imports():
    graph: dict[str, set[str]] = {}
    for a, b in edges():
        graph.setdefault(a, set()).add(b)
    # Tarjan's strongly connected components: any of two or more modules is a circle.
    index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, circles


def test_no_private_name_is_imported_from_another_package():
    def folder(module):
        return module.rsplit(".", 1)[0] if MODULES[module].name != "__init__.py" else module

    def private(part: str) -> bool:
        return part.startswith("_") and not part.endswith("__")

    found = [
        f"{module} imports {target}" + (f".{name}" if name else "")
        for module in MODULES
        for target, name in imports(module)
        if target in MODULES and folder(target) != folder(module)
        and (private(name) or any(private(p) for p in target.split(".")))
    ]  # fmt: skip
    assert not found, "\n".join(found)


def test_no_module_is_over_400_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


@pytest.mark.parametrize("entry", ["emnn.paper.figures", "emnn.paper.context"])
def test_figures_and_the_paper_import_no_trainer(entry):
    """They read a part's contract and tables, never the code that trains it, so editing a
    model re-runs its own part and what reads its tables, nothing else."""
    seen, pending = set(), [entry]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending += [t for t, _ in imports(module) if t in MODULES]
    assert not [m for m in seen if m.startswith(("emnn.models.moe", "emnn.parts.moe.runs"))]


def test_the_readme_layout_table_names_every_folder():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `(emnn/[a-z_/]*)/?`", readme, flags=re.M))
    folders = {
        p.relative_to(REPO).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_dir() and (p / "__init__.py").is_file()
    }
    assert folders <= {n.rstrip("/") for n in named}, folders - named


def test_each_folder_says_what_lives_there():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "TODO" not in doc, init
