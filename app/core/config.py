"""Settings, read once from `OCOP_*` environment variables."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "ocop.db"
# "N/period", e.g. "600/minute"; see app.ratelimit.middleware.Rate.parse.
RATE_PATTERN = r"^[1-9][0-9]{0,8}/(second|minute|hour|day)$"
COMMAND_TIMEOUT_MARGIN_S = 1.0
# What a browser sends as `Origin`: a scheme, a host and maybe a port; no path, not even "/".
ORIGIN_PATTERN = re.compile(r"^https?://[^/?#\s]+\Z")


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every setting the service reads. Built once per process and injected."""

    model_config = SettingsConfigDict(
        env_prefix="OCOP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(
        default=Environment.development,
        description="development, test or production; production refuses insecure values.",
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///./{DEFAULT_SQLITE_PATH.as_posix()}",
        description="SQLAlchemy URL: sqlite+aiosqlite:///... or postgresql+asyncpg://...",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="PostgreSQL connections per process, kept open once opened; a request "
        "that finds them all busy waits for one (up to database_pool_timeout_s).",
    )
    database_echo: bool = False
    database_connect_timeout_s: float = Field(
        default=3, gt=0, le=60, description="How long opening a database connection may take."
    )
    database_statement_timeout_ms: int = Field(
        default=5000,
        ge=1,
        le=3_600_000,
        description="PostgreSQL: the longest a statement may run (lock waits included) before "
        "the server cancels it (503 database_timeout).",
    )
    database_idle_in_transaction_timeout_ms: int = Field(
        default=30_000,
        ge=1,
        le=3_600_000,
        description="PostgreSQL: how long the server keeps a transaction whose client went "
        "silent (its locks with it) before ending that session.",
    )
    database_pool_timeout_s: float = Field(
        default=5,
        gt=0,
        le=60,
        description="How long a request waits for a free database connection (503 beyond).",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    forwarded_allow_ips: str = Field(
        default="",
        max_length=2000,
        description="Addresses (comma-separated; `*` for any) of the proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto `ocop serve` trusts; empty: none.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Origins (comma-separated, e.g. `https://shop.example,http://localhost:3000`) "
        "whose browser apps may call the API (CORS); `*` for any; empty: none.",
    )
    public_cache_max_age_s: int = Field(
        default=30,
        ge=0,
        le=86400,
        description="How long a public catalogue read (a GET without a key) may be reused by "
        "caches, and as long again while they revalidate; 0: revalidate every time.",
    )
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    log_level: str = "info"
    redis_url: SecretStr | None = Field(
        default=None, description="Redis for limits shared by every API process."
    )
    redis_prefix: str = Field(
        default="ocop:", description="Prefix of every Redis key, to share one Redis safely."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body accepted (413 beyond)."
    )
    rate_limit_admin: str = Field(
        default="6000/minute", pattern=RATE_PATTERN, description="Requests per admin key."
    )
    rate_limit_owner: str = Field(
        default="1200/minute", pattern=RATE_PATTERN, description="Requests per owner key."
    )
    rate_limit_partner: str = Field(
        default="1200/minute", pattern=RATE_PATTERN, description="Requests per partner key."
    )
    rate_limit_anonymous: str = Field(
        default="300/minute",
        pattern=RATE_PATTERN,
        description="Requests per client address without a key.",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Development and tests only: allow http:// and loopback webhook targets.",
    )
    webhooks_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="How long one webhook request may take."
    )
    webhooks_lease_s: int = Field(
        default=60,
        ge=1,
        description="How long a worker owns a claimed delivery; after that (a crash) another "
        "worker retries it.",
    )
    webhooks_max_failures: int = Field(
        default=100, ge=1, description="Failed attempts in a row that disable an endpoint."
    )
    webhooks_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for work."
    )
    webhooks_secret_overlap_s: int = Field(
        default=24 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description="After a secret rotation, how long deliveries are also signed with the "
        "secret it replaced (unless the rotation asks otherwise).",
    )
    api_key_touch_interval_s: int = Field(
        default=60, ge=0, description="How often a key's last_used_at is written at most."
    )
    idempotency_lock_s: int = Field(
        default=60,
        ge=1,
        description="How long an Idempotency-Key claim left in progress blocks a retry, which "
        "then takes it over.",
    )
    idempotency_retention_h: int = Field(
        default=48, ge=24, description="How long stored answers are kept (at least 24 hours)."
    )
    housekeeping_interval_s: float = Field(
        default=3600,
        gt=0,
        description=(
            "How often `ocop worker` deletes stored answers past their retention and recomputes"
            " the stars that a new day changed."
        ),
    )
    bookings_sweep_interval_s: float = Field(
        default=30,
        gt=0,
        description="How often `ocop worker` marks holds past their expiry `expired` (places "
        "are free at the expiry instant anyway).",
    )
    bookings_hold_s: float | None = Field(
        default=None,
        gt=0,
        le=7200,
        description="Development and tests only: every new hold lasts this many seconds, "
        "whatever the experience's `hold_minutes` or a reseller's `expirationMinutes` say (to "
        "watch holds expire without waiting minutes); unset: as they say.",
    )
    check_in_clock_skew_s: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far ahead of the server's clock a gate's check-in time (`at`) may be "
        "before it is refused as in the future.",
    )
    low_stock_threshold: Decimal = Field(
        default=Decimal(10),
        ge=0,
        description="An order that takes a product's stock to this or below sends `stock.low`.",
    )
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh", description="The province's time zone for local dates."
    )
    octo_supplier_id: str = Field(
        default="ocop-lang-son",
        min_length=1,
        max_length=100,
        description="OCTO: the supplier's id resellers see (`GET /octo/supplier`).",
    )
    octo_supplier_name: str = Field(
        default="OCOP Lạng Sơn", min_length=1, max_length=200, description="OCTO: its name."
    )
    octo_supplier_website: str | None = Field(default=None, description="OCTO: its website.")
    octo_supplier_email: str | None = Field(
        default=None, description="OCTO: the e-mail address resellers and tourists write to."
    )
    octo_supplier_telephone: str | None = Field(
        default=None, description="OCTO: the phone number resellers and tourists call."
    )
    octo_supplier_address: str | None = Field(
        default="Lạng Sơn, Việt Nam", description="OCTO: its postal address."
    )
    feed_settle_s: float = Field(
        default=15,
        gt=0,
        le=3600,
        description="Change feeds (`updated_since`) serve a change once it is this old: longer "
        "than `feed_commit_deadline_s`, plus a margin for the commit itself and for clock "
        "differences between API processes (see app.core.changes).",
    )
    feed_commit_deadline_s: float | None = Field(
        default=10,
        gt=0,
        le=3600,
        description="How long after it first writes a row with `updated_at` a transaction may "
        "still commit; later, its commit is refused (503) rather than hidden from the change "
        "feeds. Must be below `feed_settle_s`; unset (tests only) turns the guard off.",
    )

    @property
    def database_command_timeout_s(self) -> float:
        """How long the client waits for any answer from PostgreSQL before it gives the
        connection up as lost. A second more than the statement timeout, so that a merely slow
        statement is cancelled by the server (a clean error on a connection that stays usable)
        and only a database that does not answer at all meets this one."""
        return self.database_statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_S

    @property
    def hold_override(self) -> timedelta | None:
        """How long every new hold lasts (`OCOP_BOOKINGS_HOLD_S`), if set."""
        return timedelta(seconds=self.bookings_hold_s) if self.bookings_hold_s else None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return [origin.strip() for origin in value.split(",") if origin.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not ORIGIN_PATTERN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], without a path or "
                    "a trailing slash (or `*`)"
                )
        return origins

    @model_validator(mode="after")
    def _feed_window_covers_commits(self) -> Settings:
        deadline = self.feed_commit_deadline_s
        if deadline is not None and deadline >= self.feed_settle_s:
            raise ValueError("OCOP_FEED_COMMIT_DEADLINE_S must be below OCOP_FEED_SETTLE_S")
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment is Environment.production:
            if self.feed_commit_deadline_s is None:
                raise ValueError("OCOP_FEED_COMMIT_DEADLINE_S must be set in production")
            if self.webhooks_allow_private:
                raise ValueError("OCOP_WEBHOOKS_ALLOW_PRIVATE must be off in production")
            if self.bookings_hold_s is not None:
                raise ValueError("OCOP_BOOKINGS_HOLD_S is for development and tests only")
            if self.database_echo:
                raise ValueError("OCOP_DATABASE_ECHO logs parameters; keep it off in production")
        return self


def settings_of(request: Request) -> Settings:
    """The app's settings, read from a request at hand: what `SettingsDep` gives, without a
    dependency of its own (on hot paths, each dependency costs every request its solving)."""
    settings: Settings = request.app.state.settings
    return settings


async def settings_dependency(request: Request) -> Settings:
    return settings_of(request)


SettingsDep = Annotated[Settings, Depends(settings_dependency)]
"""The app's settings, for routers (`settings_of(request)` where the request is at hand;
never `request.app.state.settings`)."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached: environment variables are read once)."""
    return Settings()
