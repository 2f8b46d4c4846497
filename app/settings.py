"""Settings, read from the environment with the prefix ``DEMARCHE_``."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMARCHE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/demarche.db"
    """SQLAlchemy URL: a SQLite file, or ``postgresql+psycopg://user@host/db``."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body accepted on ordinary writes; larger ones answer 413."""
    import_max_body_bytes: int = 100 * 1024 * 1024
    """Largest body accepted by ``POST /v1/import``."""
    log_level: str = "INFO"
    cursor_secret: str = "demarche-development-cursor-secret"
    """Key that signs pagination cursors; set a private value in production."""
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache
def get_settings() -> Settings:
    return Settings()
