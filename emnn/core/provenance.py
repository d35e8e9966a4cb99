"""Where a result came from: versions, and a hash of exactly the code that produced it.

The source files a stage depends on are derived from the code itself: the
import closure of the `emnn` command that runs the stage (read with `ast`, so
nothing is imported), plus the package files (data, templates, schema) each
module in it declares it reads in a module-level `PACKAGE_FILES`. The workflow
declares these files as rule inputs, so editing a file re-runs the stages that
depend on it and nothing else, and each record carries the hash of the files
it was made with.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import platform
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
ROOT = PACKAGE.parent
NAME = PACKAGE.name
# `git archive` substitutes the commit into this file (.gitattributes: export-subst).
PACKAGE_FILES = ("archive-commit.txt",)
ARCHIVE_COMMIT = HERE / PACKAGE_FILES[0]

# The `emnn` command's handler (in emnn/cli.py) that each stage of the study runs.
STAGE_COMMANDS = {
    "train": "_run",
    "aggregate": "_aggregate",
    "figures": "_figure",
    "estep_cost": "_estep_cost",
    "ablation": "_ablation",
    "moe": "_moe",
    "moe_tables": "_moe_tables",
    "scaling": "_scaling",
    "report": "_report",
    "pdf": "_pdf",
    "paper_source": "_paper_source",
}


def train_sources(model_module: str) -> list[str]:
    """Source files a training job depends on: the run command's closure and its model's."""
    return stage_sources("train", model_module)


def stage_sources(stage: str, *modules: str) -> list[str]:
    """Source files a stage's job depends on: its command's closure, and the closure of
    the modules the job imports by name (a figure's painter)."""
    return _files(STAGE_COMMANDS[stage], modules)


@functools.cache
def _files(command: str, extra: tuple[str, ...]) -> list[str]:
    """The files behind `python -m emnn COMMAND`: __main__ and cli, what cli imports at
    module level and in that command's handler, and the closure of those."""
    cli = f"{NAME}.cli"
    entry = [*_imports(cli, _MODULE_LEVEL), *_imports(cli, command), *extra]
    modules = closure(entry) | {cli, f"{NAME}.__main__"}
    files = {_relative(_module_path(m)) for m in modules}
    for module in modules:
        files.update(_package_files(module))
    return sorted(files)


def closure(modules) -> set[str]:
    """Every package module that importing `modules` can import, their packages included.

    Imports inside functions count too: a module that may import another depends on it.
    """
    seen: set[str] = set()
    pending = list(modules)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        pending.extend(_imports(name))
    return seen


@functools.cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_module_path(module).read_text(encoding="utf-8"))


def _module_path(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _is_module(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return (base / "__init__.py").is_file() or base.with_suffix(".py").is_file()


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


_MODULE_LEVEL = "<module>"


def _imports(module: str, scope: str | None = None) -> list[str]:
    """Package modules that `module` imports: anywhere in it (scope None), at module
    level only (_MODULE_LEVEL), or inside the top-level function named `scope`.

    `from package import Name` also follows the package's `_EXPORTS`, the names its
    __init__ resolves lazily to submodules.
    """
    tree = _tree(module)
    if scope == _MODULE_LEVEL:
        nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    elif scope is not None:
        (function,) = [n for n in tree.body if getattr(n, "name", None) == scope]
        nodes = list(ast.walk(function))
    else:
        nodes = list(ast.walk(tree))
    is_package = _module_path(module).name == "__init__.py"
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names if a.name.split(".")[0] == NAME)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node, is_package)
            if base is None:
                continue
            found.append(base)
            exports = _exports(base)
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}"):
                    found.append(f"{base}.{alias.name}")
                elif alias.name in exports:
                    found.append(_resolve(base, exports[alias.name]))
    return found


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module if node.module and node.module.split(".")[0] == NAME else None
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _literal(module: str, name: str):
    """A module-level constant, read from the source without importing it."""
    for node in _tree(module).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", None) == name for t in targets):
                return ast.literal_eval(node.value)
    return None


def _exports(package: str) -> dict:
    if _module_path(package).name != "__init__.py":
        return {}
    return _literal(package, "_EXPORTS") or {}


def _resolve(package: str, relative: str) -> str:
    return f"{package}{relative}" if relative.startswith(".") else relative


def _package_files(module: str) -> set[str]:
    """The files a module declares it reads, relative to its own directory."""
    base = _module_path(module).parent
    files = set()
    for name in _literal(module, "PACKAGE_FILES") or ():
        path = base / name
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files.update(_relative(p) for p in found if "__pycache__" not in p.parts)
    return files


def code_hash(files: list[str]) -> str:
    """SHA-256 over the files' paths and contents, in sorted order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def code(files: list[str]) -> dict:
    return {"files": sorted(files), "sha256": code_hash(files)}


DISTRIBUTIONS = ("numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "jinja2")


def versions() -> dict:
    """The versions of Python and the libraries, from their installed metadata (importing
    matplotlib for its version would cost every training job half a second)."""
    from importlib.metadata import version

    from .. import __version__

    return {
        "emnn": __version__,
        "python": platform.python_version(),
        **{name: version(name) for name in DISTRIBUTIONS},
    }


# A tool's output is bytes: read as UTF-8, any other byte replaced (git quotes or passes
# through file names in whatever encoding the file system holds them).
_TEXT = {"encoding": "utf-8", "errors": "replace"}


def git_commit() -> str:
    """The checked-out commit, marked when the work tree has uncommitted changes; outside
    a git checkout, the commit `git archive` wrote into ARCHIVE_COMMIT, if it did."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, check=True, **_TEXT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, check=True, **_TEXT,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return archive_commit() or "unknown (not a git checkout)"
    return commit + (" (with uncommitted changes)" if dirty else "")


def archive_commit(path: Path = ARCHIVE_COMMIT) -> str | None:
    """'<commit> (from a git archive)' when `git archive` substituted the file, else None."""
    text = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return f"{text} (from a git archive)"
    return None
