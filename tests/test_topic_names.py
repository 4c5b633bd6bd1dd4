"""Topic files with odd names: whatever the loader accepts, the tagger and the relevance stage accept and match.

One set of odd names: social handles and other leading symbols, punctuation, hyphens and apostrophes,
Chinese, emoji, a name of 200+ characters, regular-expression syntax, spaces inside. Each is written into
a topic file as a term and as an entity's alias; the loader accepts it, or rejects it with a TopicError
naming the key and its line (one line at the command line, no traceback). Every accepted name goes into
one topic file whose real tagger (the English model, loaded once for the module) must build, find the
name as its entity with the canonical name as ``norm``, and whose relevance matcher must match it.
"""

from __future__ import annotations

import pytest

from crawler.cli import main
from crawler.text.terms import RelevanceMatcher
from crawler.topic import TopicError, load_topic
from helpers import toml_value

LONG = "Seedance " + " ".join(f"chapter{i}" for i in range(30))  # 219 characters
NAMES = {
    "handle": "@seedance_ai", "hashtag": "#seedance2", "cashtag": "$SEED", "leading-dot": ".seedance",
    "bang": "seedance!", "interrobang": "Seedance?!", "abbreviation": "Dr. Seedance", "hyphenated": "Jean-Luc Picard",
    "apostrophe": "O'Brien", "apostrophes": "rock'n'roll", "leading-hyphen": "-dash-lead", "trailing-hyphen": "trail-",
    "cjk": "即梦", "cjk-latin": "即梦AI", "cjk-space-latin": "字节跳动 Seedance", "emoji": "🚀", "word-emoji": "Seedance 🚀",
    "emoji-word": "🎬Seedance", "long": LONG, "c++": "C++", "alternation": "(a|b)*", "class": "[x]", "escape": "\\d",
    "dotted": "a.b", "optional": "x?", "anchors": "^start$", "braces": "{1,2}", "interpolation": "${name}",
    "percent": "%(x)s", "quotes": 'say "hi"', "backslash": "C:\\path", "two-spaces": "Seedance  2",
    "fullwidth": "ＡＢＣ", "accents": "Ångström", "dotted-i": "İstanbul", "dollar": "$",
    # nothing but punctuation, spaces and hyphens: would match the punctuation of any text, so refused
    "dot-star": ".*", "hyphens": "---", "spaced-hyphens": "- -", "at": "@", "ellipsis": "...", "dash": "–",
}
REJECTED = {".*", "---", "- -", "@", "...", "–"}
ACCEPTED = {key: name for key, name in NAMES.items() if name not in REJECTED}


def topic_text(names: list[str], term: bool = True, alias: bool = True) -> str:
    """A topic with each name as an include term and/or as the alias of an entity ``Oddity N``."""
    entities = "".join(f'\n[[entity]]\nname = "Oddity {i}"\nlabel = "PRODUCT"\nrole = "topic"\n'
                       f"aliases = [{toml_value(name) if alias else ''}]\n" for i, name in enumerate(names))
    include = toml_value(names if term else ["placeholder"])
    return (f'[topic]\nname = "Odd names"\nslug = "odd-names"\n\n[terms]\ninclude = {include}\n{entities}\n'
            '[[source]]\nname = "news"\nkind = "feed"\nurl = "https://news.example/feed.xml"\n')


def write(tmp_path, text: str):
    path = tmp_path / "topic.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
@pytest.mark.parametrize(("term", "alias"), [(True, False), (False, True)], ids=["term", "alias"])
def test_loader_accepts_a_name_or_names_its_key_and_line(tmp_path, name, term, alias):
    text = topic_text([name], term, alias)
    path = write(tmp_path, text)
    if name not in REJECTED:
        topic = load_topic(path)
        assert (name in topic.terms) is term and (topic.entities[0].aliases == (name,)) is alias
        return
    key = "include" if term else "aliases"
    with pytest.raises(TopicError) as caught:
        load_topic(path)
    assert caught.value.line == line_of(text, f"{key} = ")
    assert f"{key}: {name!r} has no letter, digit or symbol" in caught.value.problem


@pytest.mark.parametrize("name", ["@seedance_ai", "(a|b)*", ".*", "---"])
def test_sources_command_lists_or_refuses_in_one_line(tmp_path, capsys, name):
    path = write(tmp_path, topic_text([name]))
    code = main(["sources", "--topic", str(path)])
    out, err = capsys.readouterr()
    if name in REJECTED:
        assert code == 2 and out == "" and "Traceback" not in err
        assert err.startswith(f"seedtrack: error: {path}:6: [terms] include: {name!r}") and err.count("\n") == 1
    else:
        assert code == 0 and "news" in out and err == ""


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """(topic, tagger, relevance matcher) of one topic file holding every accepted name; the model loads once."""
    from crawler.nlp.tagger import Tagger, TaggerSpec

    topic = load_topic(write(tmp_path_factory.mktemp("odd-names"), topic_text(list(ACCEPTED.values()))))
    return topic, Tagger(TaggerSpec.from_topic(topic, stance_model="textcat")), RelevanceMatcher(topic.terms, topic.exclude)


def canonical(topic, name: str) -> str:
    [entity] = [e for e in topic.entities if e.aliases == (name,)]
    return entity.name


@pytest.mark.model
@pytest.mark.parametrize(("lang", "template"), [("en", "Yesterday {} was in the news again."),
                                                ("zh", "昨天 {} 又上了新闻。")], ids=["en", "zh"])
@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_tagger_and_relevance_match_every_accepted_name(odd, name, lang, template):
    topic, tagger, matcher = odd
    text = template.format(name)
    verdict = matcher.check(title=None, summary=None, text=text)
    assert verdict.relevant and name in verdict.terms
    [result] = tagger.analyse([text], [lang])
    found = [(e["text"], e["norm"]) for e in result["entities"]]
    assert (name, canonical(topic, name)) in found
    assert any(name in sentence for sentence in result["evidence"])  # it names the topic (the name is a term)
