"""Settings, read from the environment and `.env` in one place."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the coach; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(Path("./data"), alias="COACH_DATA_DIR")
    knowledge_dir: Path = Field(REPO_ROOT / "knowledge", alias="COACH_KNOWLEDGE_DIR")
    prompts_dir: Path = Field(REPO_ROOT / "prompts", alias="COACH_PROMPTS_DIR")
    model_path: Path | None = Field(None, alias="COACH_MODEL_PATH")
    model_choice: str = Field("1.5b", alias="COACH_MODEL")
    n_gpu_layers: int = Field(0, alias="COACH_N_GPU_LAYERS")
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, alias="COACH_N_THREADS")
    n_ctx: int = Field(4096, alias="COACH_N_CTX")
    # Users whose critiques the in-process model writes in one batch (unset: 8 for the bots, 1 in the terminal).
    llm_parallel: int | None = Field(None, alias="COACH_LLM_PARALLEL", ge=1, le=16)
    embedding_model: str | None = Field(None, alias="COACH_EMBEDDING_MODEL")
    llm_base_url: str | None = Field(None, alias="COACH_LLM_BASE_URL")
    llm_api_key: SecretStr | None = Field(None, alias="COACH_LLM_API_KEY")
    llm_model_name: str = Field("coach", alias="COACH_LLM_MODEL")
    database_url: SecretStr | None = Field(None, alias="COACH_DATABASE_URL")
    chroma_url: str | None = Field(None, alias="COACH_CHROMA_URL")
    discord_token: SecretStr | None = Field(None, alias="DISCORD_TOKEN")
    discord_guild_id: int | None = Field(None, alias="DISCORD_GUILD_ID")
    discord_shards: int | None = Field(None, alias="COACH_DISCORD_SHARDS")
    discord_message_content: bool = Field(False, alias="COACH_DISCORD_MESSAGE_CONTENT")
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str | None = Field(None, alias="COACH_SLACK_API_URL")
    slack_port: int = Field(3000, alias="COACH_SLACK_PORT")

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or a SQLite file in the data folder."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'coach.db').resolve()}"

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        """Folder where the packaged model is assembled."""
        return self.data_dir / "models"

    def secrets(self) -> list[str]:
        """Every secret value that is set, for scrubbing logs."""
        values = [self.llm_api_key, self.discord_token, self.slack_bot_token, self.slack_app_token,
                  self.slack_signing_secret, self.database_url]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
