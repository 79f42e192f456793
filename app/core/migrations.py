"""Where this release's Alembic migrations are, and which revision is their head."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

# The source tree (app/core/ is two levels down), then the working directory: an installed
# package (the Docker image) keeps alembic.ini and migrations/ in its WORKDIR.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def alembic_ini() -> Path | None:
    """The alembic.ini beside the migrations, or None when there is none to be found."""
    candidates = [_SOURCE_ROOT / "alembic.ini", Path.cwd() / "alembic.ini"]
    return next((path for path in candidates if path.is_file()), None)


@lru_cache
def head_revision() -> str | None:
    """The revision the migrations end at, read once per process; None if they are missing."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    ini = alembic_ini()
    if ini is None:
        logger.error("alembic.ini not found: the database schema cannot be checked")
        return None
    head: str | None = ScriptDirectory.from_config(Config(str(ini))).get_current_head()
    return head
