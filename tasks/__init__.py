"""I/O steps. Importing this package installs phone/ID masking on the run loggers."""

from clubflow.core.logging import install_masking

install_masking()
