"""The topic loader: one TOML file says what seedtrack tracks and where it looks.

Tables: ``[topic]`` (name, slug, description, languages), ``[terms]`` (include, exclude, search),
``[crawl]`` (user_agent, contact), ``[[entity]]`` (name, label, aliases) and ``[[source]]`` (name,
kind, url, interval or cron, queries, enabled; other keys are spider options).  Every key is
documented in the shipped ``crawler/topic/seedance.toml``.  Every problem raises TopicError,
whose message reads ``PATH:LINE: problem`` and says what to do.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from crawler.errors import UserError
from crawler.spiders.kinds import KINDS, SOURCE_KINDS, url_problem  # noqa: F401 (SOURCE_KINDS: the kinds' names)
from crawler.text.dates import parse_interval

DEFAULT_TOPIC = Path(__file__).with_name("seedance.toml")
REQUIRED = ...
# Accepted keys of each table: key -> (type, default); str is a non-empty string, tuple a list of
# non-empty strings.  A later issue that adds a table or a key adds it here.
SCHEMA: dict[str, dict[str, tuple[type, Any]]] = {
    "topic": {"name": (str, REQUIRED), "slug": (str, None), "description": (str, ""), "languages": (tuple, ("en",))},
    "terms": {"include": (tuple, REQUIRED), "exclude": (tuple, ()), "search": (tuple, None)},
    "crawl": {"user_agent": (str, None), "contact": (str, None), "allow_private": (tuple, ())},
    "privacy": {"pseudonymise": (bool, False)},
    "alerts": {"webhook": (str, None), "email_to": (tuple, ()), "email_from": (str, None), "smtp": (str, None),
               "smtp_user": (str, None), "smtp_starttls": (bool, False),
               # spike rules (crawler/storage/alerts.py SpikeRules; None: its default)
               "baseline_days": (int, None), "baseline_hours": (int, None), "sigma": (float, None),
               "min_documents": (int, None), "min_gap": (int, None), "stance_shift": (float, None)},
    "entity": {"name": (str, REQUIRED), "label": (str, REQUIRED), "aliases": (tuple, ()), "role": (str, "other")},
    "frame": {"name": (str, REQUIRED), "cues": (tuple, REQUIRED), "description": (str, "")},
    "source": {"name": (str, REQUIRED), "kind": (str, REQUIRED), "url": (str, REQUIRED), "interval": (str, None),
               "cron": (str, None), "queries": (tuple, None), "enabled": (bool, True)},  # other keys: options
}
ARRAYS = ("entity", "frame", "source")  # written [[name]], zero or more; the other tables are single [name] tables
NER_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART",
              "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")
# An entity's role for stance: "topic" (the tracked thing, its maker and its apps: a sentence naming one is
# about the topic), "rival" (a competitor: a sentence about it alone does not move the topic's stance), "other".
ROLES = ("topic", "rival", "other")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


class TopicError(UserError, ValueError):
    """A topic file problem; ``str()`` is ``PATH:LINE: problem`` (``PATH: problem`` if no line)."""

    def __init__(self, path: str, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


@dataclass(frozen=True)
class Source:
    """One [[source]] table: where a spider looks, and how often."""

    name: str  # unique within the topic: [a-z0-9][a-z0-9_-]*
    kind: str  # one of crawler.spiders.kinds.KINDS
    url: str  # http(s) URL; for the search kinds a template with {query}
    interval: str | None = None  # "90s", "15m", "1h", "1d"; the loader makes it "1h" when cron is unset
    cron: str | None = None  # 5-field cron expression, instead of interval
    queries: tuple[str, ...] = ()  # queries (kinds that send them); default: Topic.search
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # other keys, for the spider
    enabled: bool = True
    line: int = 0  # line of the [[source]] header in the topic file (0 when unknown)

    @property
    def interval_seconds(self) -> int | None:
        return parse_interval(self.interval) if self.interval else None


@dataclass(frozen=True)
class Entity:
    name: str  # canonical name
    label: str  # spaCy NER label, one of NER_LABELS
    aliases: tuple[str, ...] = ()
    role: str = "other"  # one of ROLES


@dataclass(frozen=True)
class Frame:
    name: str  # e.g. "copyright"
    cues: tuple[str, ...]  # words and phrases that put a sentence in this frame (matched like terms)
    description: str = ""


@dataclass(frozen=True)
class Topic:
    name: str
    slug: str  # lowercase id for file and database names
    description: str
    path: str  # the file it was loaded from ("<string>" for parse_topic text)
    terms: tuple[str, ...]  # [terms].include: a page mentioning one of these is on topic
    exclude: tuple[str, ...]  # [terms].exclude: a page mentioning one of these is dropped
    search: tuple[str, ...]  # [terms].search: default queries of search sources (default: terms)
    entities: tuple[Entity, ...]
    sources: tuple[Source, ...]
    user_agent: str | None = None  # [crawl].user_agent
    contact: str | None = None  # [crawl].contact
    allow_private: tuple[str, ...] = ()  # [crawl].allow_private: non-public hosts links may lead to
    languages: tuple[str, ...] = ("en",)
    pseudonymise: bool = False  # [privacy].pseudonymise: social authors stored as keyed hashes
    frames: tuple[Frame, ...] = ()  # [[frame]]: the controversies a text is sorted into
    alerts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # [alerts]: where spikes go
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)  # the parsed TOML

    def source(self, name: str) -> Source:
        """The source called name; TopicError listing the known names if there is none."""
        if found := [s for s in self.sources if s.name == name]:
            return found[0]
        raise TopicError(self.path, None, f"unknown source {name!r}; known: {', '.join(s.name for s in self.sources)}")

    def alias_map(self) -> dict[str, str]:
        """Casefolded name or alias (also with a leading "the ") -> canonical entity name."""
        return alias_map(self.entities)

    def with_source_urls(self, urls: Mapping[str, str]) -> Topic:
        """A copy whose named sources fetch other URLs (local test servers, mirrors)."""
        for name, url in urls.items():
            if problem := _url_problem(self.source(name).kind, url):
                raise TopicError(self.path, None, f"source {name!r}: {problem}")
        sources = tuple(dataclasses.replace(s, url=urls[s.name]) if s.name in urls else s for s in self.sources)
        return dataclasses.replace(self, sources=sources)


def alias_map(entities: tuple[Entity, ...]) -> dict[str, str]:
    """Casefolded name or alias (also with a leading "the ") -> canonical entity name."""
    out: dict[str, str] = {}
    for ent in entities:
        for alias in (ent.name, *ent.aliases):
            out.setdefault(alias.casefold(), ent.name)
    for key, name in list(out.items()):
        if key[:1].isascii() and not key.startswith("the "):
            out.setdefault("the " + key, name)
    return out


def _matchable(name: str) -> bool:
    """Whether a term or name has a letter, a digit or a symbol ("C++", "$", an emoji): one made only of
    punctuation, spaces and hyphens ("---", ".*", "@") would match the punctuation of any text."""
    return any(unicodedata.category(char)[0] in "LNS" for char in name)


def _url_problem(kind: str, url: str) -> str | None:
    problem = url_problem(url, template=KINDS[kind].url == "template")
    if problem and "{query}" in problem:
        problem += f" (a {kind} source)"
    return problem


def _hint(key: str, table: str = "") -> str:
    home = next((t for t in ("topic", "terms", "crawl") if key in SCHEMA[t] and t != table), None)
    return f" ({key} belongs in [{home}]: is that header missing?)" if home else ""


class _Reader:
    """Checks the parsed TOML against SCHEMA; finds lines in the raw text so every error names one."""

    def __init__(self, text: str, path: str, data: dict):
        self.path, self.data, self.lines = path, data, text.splitlines()
        self.headers = [(i + 1, re.sub(r"[\s\"']", "", m[1]))
                        for i, line in enumerate(self.lines) if (m := _HEADER.match(line))]

    def fail(self, line: int | None, problem: str):
        raise TopicError(self.path, line, problem)

    def names(self, where: str, key: str, values: tuple[str, ...], line: int | None) -> None:
        """Fails on the first of values (a key's names or terms) that ``_matchable`` refuses."""
        for value in values:
            if not _matchable(value):
                self.fail(self.key(key, line), f"{where} {key}: {value!r} has no letter, digit or symbol, so it would "
                                               "match the punctuation of any text; use a word or a name")

    def header(self, name: str, nth: int = 0) -> int | None:
        """Line of the nth [name] or [[name]] header, else of a top-level `name =` key."""
        hits = [ln for ln, header in self.headers if header == name]
        return hits[nth] if nth < len(hits) else self.key(name)

    def key(self, key: str, table_line: int | None = None) -> int | None:
        """Line of `key =` between the header at table_line and the next header (else table_line)."""
        start = table_line or 0
        end = next((ln for ln, _ in self.headers if ln > start), len(self.lines) + 1)
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*[=.]""")
        return next((i + 1 for i in range(start, end - 1) if pattern.match(self.lines[i])), table_line)

    def tables(self, name: str) -> list[tuple[dict, int | None]]:
        """[(checked values, header line)] of the [name] table or of each [[name]] table."""
        if name in ("topic", "terms") and name not in self.data:
            self.fail(None, f"missing [{name}] table; add it (see {DEFAULT_TOPIC} for an example)")
        value = self.data.get(name, [] if name in ARRAYS else {})
        if name in ARRAYS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            self.fail(self.header(name), f"{name} must be written as [[{name}]] tables")
        if name not in ARRAYS and not isinstance(value, dict):
            self.fail(self.header(name), f"{name} must be written as a [{name}] table")
        return [self.check(name, tbl, self.header(name, i)) for i, tbl in enumerate(value if name in ARRAYS else [value])]

    def check(self, name: str, tbl: dict, line: int | None) -> tuple[dict, int | None]:
        """The table's values, stripped, typed and with defaults filled in."""
        where = f"[{name}]" if name not in ARRAYS else f"[[{name}]]" if not isinstance(tbl.get("name"), str) \
            else f"{name} {tbl['name']!r}:"
        out = {}
        for key, value in tbl.items():
            if key not in SCHEMA[name] and name != "source":
                self.fail(self.key(key, line), f"unknown key {key!r} in [{name}]{_hint(key, name)}; "
                                               f"accepted: {', '.join(SCHEMA[name])}")
            want, at = SCHEMA[name].get(key, (None,))[0], self.key(key, line)
            if want is str and not (isinstance(value, str) and value.strip()):
                self.fail(at, f'{where} {key}: expected a non-empty string, e.g. {key} = "..."; got {value!r}')
            if want is tuple and not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
                self.fail(at, f'{where} {key}: expected a list of non-empty strings, e.g. {key} = ["a", "b"]; '
                              f"got {value!r}")
            if want is bool and not isinstance(value, bool):
                self.fail(at, f"{where} {key}: expected true or false, got {value!r}")
            numeric = (int, float) if want is float else int
            if want in (int, float) and (isinstance(value, bool) or not isinstance(value, numeric)
                                         or value < (0 if want is float else 1)):
                self.fail(at, f"{where} {key}: expected {'a number >= 0' if want is float else 'a whole number >= 1'}, "
                              f"e.g. {key} = {3.0 if want is float else 14}; got {value!r}")
            out[key] = value.strip() if want is str else tuple(v.strip() for v in value) if want is tuple else value
        for key, (want, default) in SCHEMA[name].items():
            if default is REQUIRED and key in out and not out[key]:
                self.fail(self.key(key, line), f"{where} {key} must not be empty")
            if default is REQUIRED and key not in out:
                self.fail(line, f"{where} needs {key} = " + ('"..."' if want is str else '["...", "..."]'))
            out.setdefault(key, default)
        return out, line

    def topic(self) -> Topic:
        for key in [k for k in self.data if k not in SCHEMA][:1]:
            tables = ", ".join(f"[[{k}]]" if k in ARRAYS else f"[{k}]" for k in SCHEMA)
            self.fail(self.header(key), f"unknown top-level table or key {key!r}{_hint(key)}; accepted tables: {tables}")
        [(topic, line)], [(terms, _)], [(crawl, _)], [(privacy, _)] = map(self.tables, ("topic", "terms", "crawl", "privacy"))
        self.names("[topic]", "name", (topic["name"],), line)
        slug = topic["slug"] or re.sub(r"[^a-z0-9]+", "-", topic["name"].lower()).strip("-")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
            self.fail(self.key("slug", line), f'[topic] slug {slug!r}: use lowercase letters, digits and "-", '
                                              'e.g. slug = "my-topic"')
        terms_line = self.header("terms")
        for key in ("include", "exclude"):
            self.names("[terms]", key, terms[key], terms_line)
        search, entities = terms["search"] or terms["include"], self.entities()
        if not self.data.get("source"):
            self.fail(None, "no [[source]] tables; add at least one with name, kind and url")
        return Topic(name=topic["name"], slug=slug, description=topic["description"], path=self.path,
                     terms=terms["include"], exclude=terms["exclude"], search=search, entities=entities,
                     sources=tuple(self.sources(search)), user_agent=crawl["user_agent"], contact=crawl["contact"],
                     allow_private=crawl["allow_private"],
                     languages=topic["languages"], pseudonymise=privacy["pseudonymise"], frames=self.frames(),
                     alerts=MappingProxyType(self.tables("alerts")[0][0]),
                     raw=MappingProxyType(self.data))

    def entities(self) -> tuple[Entity, ...]:
        found, owner = [], {}
        for ent, line in self.tables("entity"):
            if ent["label"] not in NER_LABELS:
                self.fail(self.key("label", line), f"entity {ent['name']!r}: unknown label {ent['label']!r}; "
                                                   f"use a spaCy NER label: {', '.join(NER_LABELS)}")
            self.names(f"entity {ent['name']!r}:", "name", (ent["name"],), line)
            self.names(f"entity {ent['name']!r}:", "aliases", ent["aliases"], line)
            for alias in (ent["name"], *ent["aliases"]):
                if (first := owner.setdefault(alias.casefold(), ent["name"])) != ent["name"]:
                    self.fail(line, f"entity {ent['name']!r}: {alias!r} already names entity {first!r}; keep it on one")
            if ent["role"] not in ROLES:
                self.fail(self.key("role", line), f"entity {ent['name']!r}: unknown role {ent['role']!r}; "
                                                  f"use one of: {', '.join(ROLES)}")
            found.append(Entity(ent["name"], ent["label"], ent["aliases"], ent["role"]))
        return tuple(found)

    def frames(self) -> tuple[Frame, ...]:
        found: dict[str, Frame] = {}
        for frame, line in self.tables("frame"):
            if not _NAME.match(frame["name"]):
                self.fail(self.key("name", line), f"frame {frame['name']!r}: name must match [a-z0-9][a-z0-9_-]*")
            self.names(f"frame {frame['name']!r}:", "cues", frame["cues"], line)
            if frame["name"] in found:
                self.fail(self.key("name", line), f"frame {frame['name']!r} is defined twice; merge the cues")
            found[frame["name"]] = Frame(frame["name"], frame["cues"], frame["description"])
        return tuple(found.values())

    def sources(self, search: tuple[str, ...]):
        seen: dict[str, int | None] = {}
        for src, line in self.tables("source"):
            name, kind, interval, cron = src["name"], src["kind"], src["interval"], src["cron"]
            where, at = f"source {name!r}:", lambda key: self.key(key, line)
            if not _NAME.match(name):
                self.fail(at("name"), f"{where} name must match [a-z0-9][a-z0-9_-]* (lowercase, digits, '-', '_')")
            if name in seen:
                self.fail(at("name"), f"{where} duplicate source name (first at line {seen[name]}); rename one")
            seen[name] = line
            if kind not in KINDS:
                self.fail(at("kind"), f"{where} unknown kind {kind!r}; use one of: {', '.join(SOURCE_KINDS)}")
            if problem := _url_problem(kind, src["url"]):
                self.fail(at("url"), f"{where} {problem}")
            if interval and cron:
                self.fail(at("cron"), f"{where} give interval or cron, not both")
            try:
                parse_interval(interval or "1h")
            except ValueError as exc:
                self.fail(at("interval"), f"{where} {exc}")
            if cron and (len(cron.split()) != 5 or not all(map(_CRON_FIELD.match, cron.split()))):
                self.fail(at("cron"), f"{where} bad cron {cron!r}: use 5 fields (minute hour day month weekday) of "
                                      'digits, names and * , - /, e.g. "*/30 * * * *"')
            sends_queries = KINDS[kind].queries
            if src["queries"] is not None and not sends_queries:
                self.fail(at("queries"), f"{where} queries only apply to kinds "
                                         f"{', '.join(k.name for k in KINDS.values() if k.queries)}")
            options = {k: v for k, v in src.items() if k not in SCHEMA["source"]}
            accepted = KINDS[kind].all_options()
            for key, value in options.items():
                if key not in accepted:
                    self.fail(at(key), f"{where} unknown key {key!r} for a {kind} source; accepted: "
                                       f"{', '.join([*SCHEMA['source'], *accepted])}")
                if problem := accepted[key](value):
                    self.fail(at(key), f"{where} {key} {problem}")
            yield Source(name, kind, src["url"], interval or (None if cron else "1h"), cron,
                         src["queries"] or (search if sends_queries else ()), MappingProxyType(options),
                         src["enabled"], line or 0)


def parse_topic(text: str, path: str = "<string>") -> Topic:
    """Parse and check topic TOML; raises TopicError naming the file, the line and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg := str(exc))
        line = int(m[1]) if m else max(len(text.splitlines()), 1)
        what = msg[:m.start()] if m else re.sub(r"\s*\(at end of document\)$", "", msg)
        where = f"column {m[2]}" if m else "end of file"
        raise TopicError(str(path), line, f"invalid TOML ({where}): {what}; fix the syntax (https://toml.io)") from None
    return _Reader(text, str(path), data).topic()


def load_topic(path: str | Path | None = None) -> Topic:
    """Load a topic file; ``None`` loads the shipped default topic (DEFAULT_TOPIC)."""
    path = Path(path) if path is not None else DEFAULT_TOPIC
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopicError(str(path), None, f"topic file not found; check the path, or omit it for {DEFAULT_TOPIC}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopicError(str(path), None, f"cannot read the topic file ({exc}); it must be UTF-8 TOML") from None
    return parse_topic(text, str(path))
