"""Prefect pull steps of clubflow's deployments.

`prefect.yaml`'s pull section runs `deployments.steps.prepare_run` in every flow-run process a
worker starts. It finds the project from the installed package (so no folder of the deploying
machine is baked into the deployment) and does what `deployments/serve.py` does before it serves:
masking of phone and ID numbers in logs, the schema, the project folder on `sys.path` and as the
working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import deployments

ROOT_MARKER = "prefect.yaml"


def project_root() -> Path:
    """The project folder of the installed clubflow (an editable install: the checkout)."""
    root = Path(deployments.__file__).resolve().parent.parent
    if not (root / ROOT_MARKER).is_file():
        raise RuntimeError(
            f"clubflow is installed at {root}, which has no {ROOT_MARKER}: install the project "
            "from its folder (uv sync) on this machine"
        )
    return root


def prepare_process(*, register_blocks: bool = False) -> None:
    """Masking first (so nothing after it logs a phone), then the schema (and block types)."""
    from clubflow.core.db import migrate
    from clubflow.core.logging import install_masking
    from clubflow.core.settings import get_settings

    install_masking()
    migrate(get_settings().database_url)
    if register_blocks:
        from blocks import register_block_types

        register_block_types()


def prepare_run() -> dict[str, str]:
    """The pull step: returns the folder Prefect changes into before it loads the flow."""
    root = project_root()
    os.chdir(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    prepare_process()
    return {"directory": str(root)}
