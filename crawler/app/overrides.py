"""``--set NAME=VALUE``: parsed, checked against the setting's default, and turned into Scrapy settings.

A value must read as the type of the setting's default (project settings first, then Scrapy's own), so
a typo fails before a crawl starts instead of deep inside a component; settings with a fixed set of
values are checked against it. An unknown name is an error too, with the closest known names.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Mapping

from scrapy.settings import Settings, default_settings

from crawler import settings as project_settings
from crawler.errors import SettingError
from crawler.nlp.stance_models import STANCE_MODELS

# Settings whose value is one of a few words; other settings are checked by the type of their default.
CHOICES: dict[str, tuple[str, ...]] = {
    "NLP_STANCE_MODEL": STANCE_MODELS,
    "LOG_LEVEL": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}
# Settings whose default is None but whose value, when given, is of this type.
OPTIONAL_TYPES: dict[str, type] = {"NLP_MODEL": str, "SCHEDULE_LOG_FILE": str, "SEEDTRACK_TOPIC": str,
                                   "SEEDTRACK_RUN_ID": str}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_overrides(pairs: list[str] | None) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` as a dict, each checked by ``check_setting``."""
    overrides: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SettingError(f"--set takes NAME=VALUE, not {pair!r}")
        check_setting(name, value)
        overrides[name] = value
    return overrides


def _default(name: str) -> tuple[bool, Any]:
    for module in (project_settings, default_settings):
        if hasattr(module, name):
            return True, getattr(module, name)
    return False, None


def check_setting(name: str, value: str) -> None:
    """SettingError when ``value`` cannot serve as setting ``name``."""
    known, default = _default(name)
    if not known:
        names = [n for n in (*dir(project_settings), *dir(default_settings)) if n.isupper()]
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; the README lists seedtrack's settings"
        raise SettingError(f"--set {name}: unknown setting{hint}")
    if name in CHOICES:
        allowed = CHOICES[name]
        if (value.upper() if name == "LOG_LEVEL" else value) not in allowed:
            raise SettingError(f"--set {name}={value}: choose one of {', '.join(allowed)}")
        return
    kind = OPTIONAL_TYPES.get(name, type(default))
    problem = None
    if kind is bool:
        if value.strip().lower() not in _TRUE + _FALSE:
            problem = "a boolean (true or false)"
    elif kind is int:
        try:
            int(value)
        except ValueError:
            problem = "a whole number"
    elif kind is float:
        try:
            float(value)
        except ValueError:
            problem = "a number"
    elif kind is dict:
        try:
            problem = None if isinstance(json.loads(value), dict) else "a JSON object"
        except ValueError:
            problem = 'a JSON object, such as {"NAME": 100}'
    if problem:
        raise SettingError(f"--set {name}={value}: {name} takes {problem}")


def project_scrapy_settings(overrides: Mapping[str, Any] = ()) -> Settings:
    """Scrapy's defaults, then seedtrack's settings module, then the overrides (command-line priority)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(dict(overrides), priority="cmdline")
    return settings
