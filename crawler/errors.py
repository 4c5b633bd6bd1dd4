"""The errors seedtrack explains to its user: each says what went wrong and what to do next.

The command line prints them as one ``seedtrack: error: ...`` line with a non-zero exit code and no
traceback (``--traceback`` or ``SEEDTRACK_DEBUG=1`` shows it).
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user gave (a file, a setting, a database) or with the installation."""


class SettingError(UserError, ValueError):
    """A ``--set NAME=VALUE`` (or a setting in a topic's crawl) that cannot be used."""


class CrawlSetupError(UserError):
    """A crawl that could not start: a pipeline stage, middleware, extension or spider failed to build."""


class CrawlFailed(UserError):
    """A crawl that ran but could not keep what it found (the store stage could not write its last rows)."""
