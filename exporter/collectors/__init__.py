"""One module per collector; each registers itself with `exporter.collector.register`.

`load_all()` imports every module in this package, so a new collector needs no other edit.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> list[str]:
    """Import every collector module (registering its collectors); returns the module names."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names
