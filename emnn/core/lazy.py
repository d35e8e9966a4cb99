"""Names a package exports, each imported from its module only on first use, so that a
job imports (and its rule depends on) only the code it runs."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str], names: list[str]):
    """The package's __getattr__ and __dir__: exports maps a name to its module, relative
    to package; names is the package's __all__."""

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__
