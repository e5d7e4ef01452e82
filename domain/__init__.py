"""Pure rules and the SQLModel tables. Nothing here imports Prefect or does network I/O."""

import importlib
import pkgutil


def load_all_models() -> None:
    """Import every `domain/models*.py` so SQLModel.metadata holds all tables."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("models"):
            importlib.import_module(f"{__name__}.{info.name}")
