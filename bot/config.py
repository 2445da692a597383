"""Settings, read from the environment and `.env` in one place."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import annotated_types
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent

# What each checked setting expects, in the words of the sentence a wrong value gets. A field's bounds (ge, gt, le,
# lt) are added to it from the field itself when the words do not already say them (`expected`).
EXPECTS = {
    "COACH_DATA_DIR": "a folder (it is created when missing), not a file",
    "COACH_N_GPU_LAYERS": "a whole number of layers to offload to the GPU, -1 or more (-1 = all, 0 = CPU only)",
    "COACH_N_THREADS": "a whole number of CPU threads, 1 or more",
    "COACH_N_CTX": "a whole number of tokens, 256 or more (default 4096)",
    "COACH_DEBUG": "1 or 0",
    "COACH_DISCORD_MESSAGE_CONTENT": "1 or 0",
    "DISCORD_GUILD_ID": "a Discord server id (a number)",
    "COACH_DISCORD_SHARDS": "a whole number of shards (0 = as many as Discord recommends)",
    "COACH_SLACK_PORT": "a port number from 1 to 65535",
    "COACH_MAX_AUDIO_SECONDS": "a number of seconds",
    "COACH_MAX_AUDIO_MB": "a number of megabytes",
    "COACH_INTERVIEWER_SECONDS": "a whole number of seconds per question, 0 or more (0 = no time limit)",
}
# COACH_ names that are not settings but knobs of the test harness, CI and the reliability report; never warned about.
NOT_SETTINGS = ("COACH_TEST_", "COACH_RELIABILITY_", "COACH_LLM_LABELED_")
SECRET_NAMES = frozenset({"COACH_LLM_API_KEY", "COACH_DATABASE_URL", "DISCORD_TOKEN", "SLACK_BOT_TOKEN",
                          "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"})


class Settings(BaseSettings):
    """Every setting of the coach; secrets are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(Path("./data"), alias="COACH_DATA_DIR")
    knowledge_dir: Path = Field(REPO_ROOT / "knowledge", alias="COACH_KNOWLEDGE_DIR")
    prompts_dir: Path = Field(REPO_ROOT / "prompts", alias="COACH_PROMPTS_DIR")
    model_path: Path | None = Field(None, alias="COACH_MODEL_PATH")
    model_choice: str = Field("1.5b", alias="COACH_MODEL")
    n_gpu_layers: int = Field(0, ge=-1, alias="COACH_N_GPU_LAYERS")
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, alias="COACH_N_THREADS")
    n_ctx: int = Field(4096, ge=256, alias="COACH_N_CTX")
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
    slack_port: int = Field(3000, ge=1, le=65535, alias="COACH_SLACK_PORT")
    slack_reviewers: str = Field("", alias="COACH_SLACK_REVIEWERS")   # Slack user ids, comma-separated
    slack_managers: str = Field("", alias="COACH_SLACK_MANAGERS")     # who may run team practice besides admins

    stt_model: Path | None = Field(None, alias="COACH_STT_MODEL")
    stt_base_url: str | None = Field(None, alias="COACH_STT_BASE_URL")
    stt_api_key: SecretStr | None = Field(None, alias="COACH_STT_API_KEY")
    stt_server_model: str = Field("whisper-1", alias="COACH_STT_SERVER_MODEL")
    stt_threads: int | None = Field(None, alias="COACH_STT_THREADS")
    max_audio_seconds: float = Field(300.0, gt=0, alias="COACH_MAX_AUDIO_SECONDS")
    max_audio_mb: float = Field(25.0, gt=0, alias="COACH_MAX_AUDIO_MB")

    interviewer_seconds: int = Field(240, ge=0, alias="COACH_INTERVIEWER_SECONDS")

    debug: bool = Field(False, alias="COACH_DEBUG")

    @field_validator("data_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        if value.expanduser().exists() and not value.expanduser().is_dir():
            raise ValueError("is a file")
        return value

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

    @property
    def max_audio_bytes(self) -> int:
        """The largest audio file accepted, in bytes."""
        return int(self.max_audio_mb * 1_000_000)

    def user_keys(self, names: str, platform: str = "slack") -> frozenset[str]:
        """A comma- or space-separated list of user ids as engine user keys ("slack:U123")."""
        return frozenset(f"{platform}:{n}" for n in names.replace(",", " ").split())

    def secrets(self) -> list[str]:
        """Every secret value that is set, for scrubbing logs."""
        from bot.logs import url_password

        values = [self.llm_api_key, self.stt_api_key, self.discord_token, self.slack_bot_token, self.slack_app_token,
                  self.slack_signing_secret, self.database_url]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        password = url_password(self.database_url.get_secret_value()) if self.database_url else None
        return found + ([password] if password else [])

    @property
    def log_path(self) -> Path:
        """The log file of crashes, in the data folder."""
        return self.data_dir / "logs" / "coach.log"


def load_settings() -> Settings:
    """The settings from the environment and `.env`; a wrong value is a ConfigError naming the setting.

    A COACH_ name that is no setting (a typo) gets one warning on standard error, once per process."""
    for name, close in unknown_names():
        if name not in _WARNED:
            _WARNED.add(name)
            print(f"Warning: {unknown_sentence(name, close)}", file=sys.stderr)
    try:
        return Settings()
    except ValidationError as exc:
        raise setting_error(exc) from None
    except UnicodeDecodeError:
        raise ConfigError("The .env file is not UTF-8 text; save it as UTF-8.") from None


_WARNED: set[str] = set()


def setting_names() -> frozenset[str]:
    """Every environment name the settings read."""
    return frozenset(str(f.alias) for f in Settings.model_fields.values() if f.alias)


def unknown_names(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """COACH_ names in the environment (or `.env`) that are no setting, each with the closest real name or None."""
    names = set(os.environ if environ is None else environ)
    env_file = Settings.model_config.get("env_file")
    if environ is None and isinstance(env_file, str | Path) and Path(env_file).is_file():
        from dotenv import dotenv_values

        with contextlib.suppress(OSError, UnicodeDecodeError):   # an unreadable .env is load_settings' to say
            names |= set(dotenv_values(env_file))
    known = setting_names()
    odd = sorted(n for n in names if n.startswith("COACH_") and n not in known and not n.startswith(NOT_SETTINGS))
    return [(n, next(iter(difflib.get_close_matches(n, sorted(known), n=1, cutoff=0.6)), None)) for n in odd]


def unknown_sentence(name: str, close: str | None) -> str:
    """One sentence on a COACH_ name that is no setting."""
    guess = f"; did you mean {close}?" if close else " (see .env.example for every setting)."
    return f"{name} is not a setting, so it is ignored{guess}"


def expected(name: str) -> str | None:
    """What a setting expects, with its bounds derived from the field's constraints; None for an unknown name."""
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    if field is None:
        return EXPECTS.get(name)
    words = EXPECTS.get(name) or _kind_of(field.annotation)
    bounds = _bounds(field.metadata)
    return words if not bounds or bounds in words else f"{words}, {bounds}"


def _bounds(metadata: list[object]) -> str:
    """A field's numeric constraints in words: "0 or more", "more than 0", "from 1 to 65535", "at most 9"."""
    low = high = None
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"{item.ge:g} or more"
        elif isinstance(item, annotated_types.Gt):
            low = f"more than {item.gt:g}"
        elif isinstance(item, annotated_types.Le):
            high = f"at most {item.le:g}"
        elif isinstance(item, annotated_types.Lt):
            high = f"less than {item.lt:g}"
    if low and high and low.endswith(" or more") and high.startswith("at most"):
        return f"from {low.removesuffix(' or more')} to {high.removeprefix('at most ')}"
    return ", ".join(b for b in (low, high) if b)


def _kind_of(annotation: object) -> str:
    """A reader's words for a field's type."""
    text = str(annotation)
    for word, words in (("int", "a whole number"), ("float", "a number"), ("bool", "1 or 0"), ("Path", "a path")):
        if word in text:
            return words
    return "a valid value"


def setting_error(exc: ValidationError) -> ConfigError:
    """One sentence for the first wrong setting: its name, the value given (never a secret's), what it expects."""
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first.get("loc") else "a setting"
    given = first.get("input")
    expects = expected(name) or _expected_kind(str(first.get("type", "")))
    if name in SECRET_NAMES or not isinstance(given, str | int | float):
        return ConfigError(f"{name} must be {expects}.")
    return ConfigError(f"{name} is '{given}', but it must be {expects}.")


def _expected_kind(kind: str) -> str:
    """A reader's word for pydantic's error type."""
    for prefix, words in (("int", "a whole number"), ("float", "a number"), ("bool", "1 or 0"),
                          ("path", "a path"), ("url", "a URL")):
        if kind.startswith(prefix):
            return words
    return "a valid value"


def debug_enabled() -> bool:
    """COACH_DEBUG=1: tracebacks go to standard error too (read here, even when the other settings are wrong)."""
    return os.environ.get("COACH_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
