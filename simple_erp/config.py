"""Application settings, from the environment first (pydantic-settings).

Safe defaults for a first run: a SQLite file in ``data/``, the local sandboxes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    # "dev" (default) or "prod": production refuses placeholder secrets.
    simple_erp_env: str = Field(default="dev", alias="SIMPLE_ERP_ENV")
    data_dir: Path = Field(default=PROJECT_ROOT / "data", alias="SIMPLE_ERP_DATA_DIR")
    database_url: str = Field(default="", alias="DATABASE_URL")
    # Reflex reads REFLEX_REDIS_URL itself; the change feed reads it too.
    redis_url: str = Field(default="", alias="REFLEX_REDIS_URL")
    # Fernet key (urlsafe base64, 32 bytes) for secrets at rest. When absent, one is
    # generated into data/secret.key on first run (git-ignored).
    secret_key: str = Field(default="", alias="SIMPLE_ERP_SECRET_KEY")
    # Public address of the pages (payment page links); default: Reflex's deploy URL.
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    # Where the backend (API, webhooks) is reached from outside; default: REFLEX_API_URL.
    public_api_url: str = Field(default="", alias="PUBLIC_API_URL")
    session_days: int = Field(default=14, alias="SIMPLE_ERP_SESSION_DAYS")
    # A session also ends after this many hours without any request from its browser.
    session_idle_hours: float = Field(default=8, gt=0, alias="SIMPLE_ERP_SESSION_IDLE_HOURS")
    # Sign-in throttling: after this many failures within the window, for one email
    # (whether or not the account exists) or one client address, sign-in is refused
    # for the lock period.
    signin_max_failures: int = Field(default=5, gt=0, alias="SIMPLE_ERP_SIGNIN_MAX_FAILURES")
    signin_max_failures_per_address: int = Field(default=20, gt=0, alias="SIMPLE_ERP_SIGNIN_MAX_FAILURES_PER_ADDRESS")
    signin_window_seconds: int = Field(default=900, gt=0, alias="SIMPLE_ERP_SIGNIN_WINDOW_SECONDS")
    signin_lock_seconds: int = Field(default=900, gt=0, alias="SIMPLE_ERP_SIGNIN_LOCK_SECONDS")
    # Mollie: the SDK's endpoint ("" = the real Mollie API). With MOLLIE_SANDBOX=1 the
    # endpoint is the local sandbox and companies without a key use a test key.
    mollie_api_endpoint: str = Field(default="", alias="MOLLIE_API_ENDPOINT")
    mollie_sandbox: bool = Field(default=False, alias="MOLLIE_SANDBOX")
    # SendGrid: the SDK's host ("" = the real API); SENDGRID_SANDBOX=1 as for Mollie.
    sendgrid_host: str = Field(default="", alias="SENDGRID_HOST")
    sendgrid_sandbox: bool = Field(default=False, alias="SENDGRID_SANDBOX")
    # Seconds to wait for SendGrid's answer (then the send is "Envoi incertain").
    # At most 60 s: a send must end well within emails.SEND_CLAIM_TIMEOUT (5 minutes).
    sendgrid_timeout: float = Field(default=15.0, gt=0, le=60, alias="SENDGRID_TIMEOUT")
    # Public key (base64) of the SendGrid Event Webhook, to verify its signatures.
    sendgrid_event_public_key: str = Field(default="", alias="SENDGRID_EVENT_PUBLIC_KEY")
    # Signed SendGrid events older than this (by their signed timestamp) are refused as replays.
    sendgrid_event_max_age_seconds: int = Field(default=600, gt=0, alias="SENDGRID_EVENT_MAX_AGE_SECONDS")
    # Largest body accepted on Reflex's upload endpoint (/_upload), multipart overhead
    # included: the only upload is a company logo of 1 MB at most.
    upload_max_bytes: int = Field(default=2 * 1024 * 1024, gt=0, alias="SIMPLE_ERP_UPLOAD_MAX_BYTES")

    @property
    def is_production(self) -> bool:
        return self.simple_erp_env.lower() in {"prod", "production"}

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'simple_erp.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
