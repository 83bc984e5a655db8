"""The transform's settings, read from the Lambda environment once per container.

A bad value raises SettingsError while the module loads, so the function fails at
cold start with a message naming the variable, instead of serving requests with a
setting nobody asked for (the template constrains the same values with AllowedValues).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

# safe: technical fields only (metadata's safe view); full: every field, GPS included, an
# explicit opt-in; off: showExif serves the image. no-gps is what earlier versions called a
# GPS-free view; it now means safe, so existing stacks keep working and give away less.
EXIF_QUERY_MODES = ("safe", "full", "off", "no-gps")
DEFAULT_EXIF_QUERY = "safe"
EXIF_QUERY_ALIASES = {"no-gps": "safe"}
DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024
_TRUE_WORDS = ("true", "1", "yes")
_FALSE_WORDS = ("false", "0", "no", "")


class SettingsError(ValueError):
    """An environment variable holds a value the transform cannot use."""


class Settings(NamedTuple):
    exif_query: str = DEFAULT_EXIF_QUERY
    keep_copyright: bool = False
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES


def _exif_query(raw: str | None) -> str:
    value = (raw or DEFAULT_EXIF_QUERY).strip().lower()
    if value not in EXIF_QUERY_MODES:
        msg = f"EXIF_QUERY must be one of {', '.join(EXIF_QUERY_MODES)}; got {raw!r}"
        raise SettingsError(msg)
    return EXIF_QUERY_ALIASES.get(value, value)


def _keep_copyright(raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    msg = f"KEEP_COPYRIGHT must be true or false; got {raw!r}"
    raise SettingsError(msg)


def _max_input_bytes(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_MAX_INPUT_BYTES
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"MAX_INPUT_BYTES must be a positive whole number of bytes; got {raw!r}"
        raise SettingsError(msg)
    return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from EXIF_QUERY, KEEP_COPYRIGHT and MAX_INPUT_BYTES (unset means the default)."""
    return Settings(
        exif_query=_exif_query(environ.get("EXIF_QUERY")),
        keep_copyright=_keep_copyright(environ.get("KEEP_COPYRIGHT")),
        max_input_bytes=_max_input_bytes(environ.get("MAX_INPUT_BYTES")),
    )
