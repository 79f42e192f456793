"""JSON logging: one object per line, for the API's own records and uvicorn's.

python-json-logger's orjson formatter writes each record as `{"level", "logger", "message",
...extra fields, "ts"}`: `level` in lower case, `ts` the record's time in UTC (RFC 3339), and a
logged exception's traceback as `exception`.
"""

from __future__ import annotations

from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS, LogData
from pythonjsonlogger.orjson import OrjsonFormatter

# The attributes every LogRecord has are not logged, nor uvicorn's `color_message` (the
# message again, with terminal colour codes); anything else came in through `extra=`.
_NOT_LOGGED = (*RESERVED_ATTRS, "color_message")


class JsonFormatter(OrjsonFormatter):
    """One JSON object per record (see the module)."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            reserved_attrs=_NOT_LOGGED,
            timestamp="ts",
        )

    def process_log_record(self, log_data: LogData) -> LogData:
        log_data["level"] = log_data["level"].lower()
        return log_data


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` document: JSON on stderr for the app and uvicorn.

    Passed to uvicorn as `log_config`, so that every worker process applies it too.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.core.logging.JsonFormatter"}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn's own handlers would print a second, non-JSON line.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
