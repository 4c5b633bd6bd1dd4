"""`seedtrack tag`, `eval` and `retag` for real: subprocesses, the real model, real DuckDB files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from helpers import REPO, rows, run_cli, site_sources, write_topic
from realdata import REALDATA

pytestmark = pytest.mark.model
TEXTCAT = ("--stance-model", "textcat")


def test_tag_text_from_stdin():
    result = run_cli("tag", "-", *TEXTCAT, stdin="The MPA said Seedance 2.0 infringes copyrights on a massive scale.")
    assert result.returncode == 0, result.stderr
    tagged = json.loads(result.stdout)
    assert set(tagged) >= {"stance", "stance_score", "stance_confidence", "frames", "frame_stances", "entities", "actors",
                           "evidence"}
    assert tagged["analysed"] is True and tagged["lang"] == "en"
    assert {"text": "MPA", "label": "ORG", "norm": "Motion Picture Association"} in tagged["entities"]
    assert "copyright" in tagged["frames"] and tagged["actors"][0]["actor"] == "Motion Picture Association"


def test_tag_jsonl_passes_fields_through_in_order(tmp_path):
    lines = [{"id": 1, "text": "Seedance 2.0 is breathtaking and the best video model yet.", "source": "x"},
             {"id": 2, "text": "字节跳动的Seedance 2.0被指侵权，迪士尼发出律师函。"},
             {"id": 3, "text": "Un texte en français sur Seedance 2.0 et ByteDance, publié aujourd'hui."}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    result = run_cli("tag", path, "--jsonl", *TEXTCAT)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3] and out[0]["source"] == "x" and "text" not in out[0]
    assert (out[1]["lang"], out[1]["analysed"], out[1]["stance"]) == ("zh", True, "against")
    assert (out[2]["lang"], out[2]["analysed"], out[2]["stance"]) == ("fr", False, None)


def test_tag_jsonl_bad_line_is_named(tmp_path):
    result = run_cli("tag", "--jsonl", *TEXTCAT, stdin='{"text": "fine"}\n{"txt": "no text field"}\n')
    assert result.returncode != 0 and "line 2" in result.stderr and result.stdout == ""


def test_eval_on_a_sample_prints_scores():
    args = ["eval", *TEXTCAT, "--limit", "60", "--dataset", "reception", "--dataset", "reception-zh"]
    if (REALDATA / "newsmtsc").exists():
        args += ["--dataset", "newsmtsc-rw", "--newsmtsc", REALDATA / "newsmtsc" / "original"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "stance model: textcat" in result.stdout
    for name in ("reception", "reception-zh", *(["newsmtsc-rw"] if len(args) > 9 else [])):
        assert f"{name}: 60 examples, accuracy " in result.stdout
    assert "confusion (rows gold, columns predicted)" in result.stdout
    assert "copyright" in result.stdout  # per-frame precision / recall on the project's set
    macro = [float(line.split("macro-F1 ")[1].split(",")[0]) for line in result.stdout.splitlines() if "macro-F1" in line]
    assert all(0.3 < m <= 1 for m in macro)  # far above chance is not asserted here: the benchmark reports it


def test_eval_unknown_dataset_is_explained():
    result = run_cli("eval", *TEXTCAT, "--dataset", "nope")
    assert result.returncode != 0 and "unknown dataset 'nope'" in result.stderr


@pytest.fixture(scope="module")
def crawled_db(replay, tmp_path_factory):
    server, manifest = replay
    tmp = tmp_path_factory.mktemp("retag")
    topic = write_topic(tmp / "topic.toml", site_sources(server, manifest))
    db = tmp / "site.duckdb"
    result = run_cli("crawl", "--topic", topic, "--db", db, "-q", "--set", "AUTOTHROTTLE_ENABLED=false",
                     "--set", "NLP_STANCE_MODEL=textcat")
    assert result.returncode == 0, result.stderr
    return db, topic


def test_retag_after_a_topic_change(crawled_db, tmp_path):
    db, topic = crawled_db
    db_copy = tmp_path / "copy.duckdb"
    db_copy.write_bytes(db.read_bytes())
    before = rows(db_copy, "SELECT id, nlp_version FROM documents WHERE analysed")
    assert rows(db_copy, "SELECT count(*) AS n FROM frames WHERE frame = 'launch'")[0]["n"] == 0
    changed = tmp_path / "topic.toml"
    changed.write_text(topic.read_text(encoding="utf-8") +
                       '\n[[frame]]\nname = "launch"\ncues = ["Seedance", "即梦"]\n', encoding="utf-8")
    result = run_cli("retag", "--db", db_copy, "--topic", changed, *TEXTCAT)
    assert result.returncode == 0, result.stderr
    assert f"retagged {len(before)} of {len(before)} documents" in result.stdout
    after = rows(db_copy, "SELECT id, nlp_version FROM documents WHERE analysed")
    assert {r["id"] for r in after} == {r["id"] for r in before}
    assert len({r["nlp_version"] for r in after}) == 1 and after[0]["nlp_version"] != before[0]["nlp_version"]
    launch = rows(db_copy, "SELECT count(DISTINCT doc_id) AS n FROM frames WHERE frame = 'launch'")[0]["n"]
    assert launch == len(before)  # every stored document names the topic
    assert rows(db_copy, "SELECT count(*) AS n FROM (SELECT doc_id, frame FROM frames GROUP BY ALL HAVING count(*) > 1)"
                )[0]["n"] == 0  # replaced, not added twice
    again = run_cli("retag", "--db", db_copy, "--topic", changed, *TEXTCAT)
    assert "already tagged" in again.stdout


def test_retag_killed_midway_leaves_each_document_whole(crawled_db, tmp_path):
    db, topic = crawled_db
    db_copy = tmp_path / "copy.duckdb"
    db_copy.write_bytes(db.read_bytes())
    changed = tmp_path / "topic.toml"
    changed.write_text(topic.read_text(encoding="utf-8") + '\n[[frame]]\nname = "launch"\ncues = ["Seedance", "即梦"]\n',
                       encoding="utf-8")
    total = rows(db_copy, "SELECT count(*) AS n FROM documents WHERE analysed")[0]["n"]
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "retag", "--db", str(db_copy), "--topic", str(changed), *TEXTCAT,
         "--batch-size", "2"], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    for line in process.stderr:  # wait for two committed batches, then kill without warning
        if line.startswith("retag: 4/") or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    versions = rows(db_copy, "SELECT d.nlp_version, count(DISTINCT f.doc_id) AS launch, count(DISTINCT d.id) AS docs "
                             "FROM documents d LEFT JOIN frames f ON f.doc_id = d.id AND f.frame = 'launch' "
                             "WHERE d.analysed GROUP BY ALL")
    new = [v for v in versions if v["launch"]]
    assert len(new) == 1 and new[0]["launch"] == new[0]["docs"] and 4 <= new[0]["docs"] < total
    result = run_cli("retag", "--db", db_copy, "--topic", changed, *TEXTCAT)
    assert result.returncode == 0, result.stderr
    assert f"retagged {total - new[0]['docs']} of {total - new[0]['docs']}" in result.stdout
    assert rows(db_copy, "SELECT count(DISTINCT doc_id) AS n FROM frames WHERE frame = 'launch'")[0]["n"] == total
