"""Prefect Block types of clubflow; `register_block_types` is called by the start command."""

from blocks.channels import NotificationChannels
from blocks.systems import ExternalSystem

BLOCK_TYPES = (NotificationChannels, ExternalSystem)


def register_block_types() -> None:
    for block_type in BLOCK_TYPES:
        block_type.register_type_and_schema()
