"""``seedtrack alerts`` on a real crawl of the replay site's story cases: ``--dry-run`` lists the spike day, a
real ``--webhook`` run POSTs it (Slack-compatible JSON) to a local HTTP server once and a second run sends
nothing, and the topic file's ``[alerts]`` e-mail goes through a real local SMTP server (aiosmtpd), once."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.demo.replay.storyset import serve_story_site, story_sources
from helpers import FAST, rows, run_cli, site_sources, write_topic


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alerts")
    with serve_story_site(tmp / "site") as (servers, manifest, cases):
        topic = write_topic(tmp / "topic.toml", site_sources(servers[0], manifest) + story_sources(servers, cases))
        db = tmp / "alerts.duckdb"
        result = run_cli("crawl", "--topic", topic, "--db", db, *FAST, timeout=400)
        assert result.returncode == 0, result.stderr[-3000:]
    return tmp, db, topic, cases


class Recorder(BaseHTTPRequestHandler):
    posts: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    Recorder.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/T000/B000", Recorder.posts
    server.shutdown()


def test_dry_run_lists_the_spike_and_sends_nothing(crawled):
    _, db, topic, cases = crawled
    result = run_cli("alerts", "--db", db, "--topic", topic, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"news:volume:{cases['spike_day']}" in result.stdout
    assert cases["wire"][0]["title"] in result.stdout and "against a baseline of" in result.stdout
    assert rows(db, "SELECT count(*) AS n FROM alerts")[0]["n"] == 0


def test_webhook_sends_each_spike_once(crawled, webhook):
    _, db, topic, cases = crawled
    url, posts = webhook
    first = run_cli("alerts", "--db", db, "--topic", topic, "--webhook", url)
    assert first.returncode == 0, first.stderr
    spike_ids = [r["spike_id"] for r in rows(db, "SELECT spike_id FROM spikes")]
    assert len(posts) == len(spike_ids) >= 1
    path, content_type, payload = next(p for p in posts if cases["spike_day"] in p[2]["text"])
    assert path == "/hooks/T000/B000" and content_type == "application/json"
    assert cases["wire"][0]["title"] in payload["text"] and "favor" in payload["text"]
    assert payload["blocks"][0]["type"] == "section" and "/wire/o1/" in payload["blocks"][1]["text"]["text"]
    sent = rows(db, "SELECT spike_id, channel FROM alerts ORDER BY spike_id")
    assert sent == sorted({"spike_id": s, "channel": "webhook"} for s in spike_ids) or \
        sorted(r["spike_id"] for r in sent) == sorted(spike_ids)
    second = run_cli("alerts", "--db", db, "--topic", topic, "--webhook", url)
    assert second.returncode == 0, second.stderr
    assert "sent 0 alerts" in second.stdout and len(posts) == len(spike_ids)  # nothing repeats


def test_email_through_a_local_smtp_server(crawled):
    from aiosmtpd.controller import Controller

    tmp, db, topic, cases = crawled

    class Inbox:
        mails: list = []

        async def handle_DATA(self, server, session, envelope):
            self.mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:  # a free port (the controller checks its own port by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing = tmp / "mailing.toml"
        mailing.write_text(topic.read_text(encoding="utf-8").replace(
            "\n[[source]]", f'\n[alerts]\nemail_to = ["desk@example.org"]\nemail_from = "seedtrack@example.org"\n'
                            f'smtp = "127.0.0.1:{port}"\n\n[[source]]', 1), encoding="utf-8")
        for _ in range(2):
            result = run_cli("alerts", "--db", db, "--topic", mailing)
            assert result.returncode == 0, result.stderr
    finally:
        controller.stop()
    assert len(inbox.mails) == 1  # the second run had nothing new
    sender, recipients, content = inbox.mails[0]
    mail = message_from_bytes(content)
    assert sender == "seedtrack@example.org" and recipients == ["desk@example.org"]
    assert "spike" in mail["Subject"]
    assert cases["wire"][0]["title"] in mail.get_payload(decode=True).decode()
    assert rows(db, "SELECT count(*) AS n FROM alerts WHERE channel = 'email'")[0]["n"] >= 1


def test_alerts_without_a_channel_is_one_clean_error(crawled):
    _, db, topic, _ = crawled
    result = run_cli("alerts", "--db", db, "--topic", topic)
    assert result.returncode == 2
    assert result.stderr.startswith("seedtrack: error: no alert channel")


def test_schedule_checks_alerts_after_each_crawl(crawled, webhook, tmp_path):
    """The daemon, with [alerts] in the topic file, sends the spikes not sent yet once a crawl has finished."""
    import shutil
    import signal
    import subprocess
    import sys

    import duckdb

    from helpers import REPO, wait_for

    _, db, _, _ = crawled
    url, posts = webhook
    daemon_db = tmp_path / "daemon.duckdb"
    shutil.copy(db, daemon_db)
    con = duckdb.connect(str(daemon_db))
    con.execute("DELETE FROM alerts").fetchall()  # as if nothing had been sent yet
    spikes = con.execute("SELECT count(*) FROM spikes").fetchall()[0][0]
    con.close()
    with serve_story_site(tmp_path / "site") as (servers, _manifest, cases):
        topic = write_topic(tmp_path / "daemon.toml", story_sources(servers, cases)[:1])
        topic.write_text(topic.read_text(encoding="utf-8").replace(
            "\n[[source]]", f'\n[alerts]\nwebhook = "{url}"\n\n[[source]]', 1), encoding="utf-8")
        err = open(tmp_path / "daemon.err", "w")  # noqa: SIM115
        daemon = subprocess.Popen([sys.executable, "-m", "crawler", "schedule", "--topic", str(topic), "--db",
                                   str(daemon_db), "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "NLP_ENABLED=false"],
                                  stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)
        try:
            wait_for(lambda: len(posts) >= spikes, timeout=240, what="the daemon's alerts")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=120)
            err.close()
    assert len(posts) == spikes >= 1
    assert "alerts checked after its crawl" in (tmp_path / "daemon.err").read_text(encoding="utf-8")


def _with_alerts(topic, path, table: str):
    path.write_text(topic.read_text(encoding="utf-8").replace("\n[[source]]", f"\n[alerts]\n{table}\n\n[[source]]", 1),
                    encoding="utf-8")
    return path


def test_spike_rules_from_the_topic_change_the_spikes_found(crawled):
    """The default rules find the spike day; a higher sigma or min_documents in [alerts] finds none, and the
    default rules' query is the view's."""
    import duckdb

    from crawler.storage.alerts import SpikeRules, spikes_sql

    tmp, db, topic, cases = crawled
    default = run_cli("alerts", "--db", db, "--topic", topic, "--dry-run")
    assert default.returncode == 0, default.stderr
    assert f"news:volume:{cases['spike_day']}" in default.stdout
    for i, table in enumerate(("sigma = 50.0", "min_documents = 1000")):
        strict = run_cli("alerts", "--db", db, "--topic", _with_alerts(topic, tmp / f"strict{i}.toml", table), "--dry-run")
        assert strict.returncode == 0, strict.stderr
        assert "news:volume:" not in strict.stdout and "0 spikes not sent yet" in strict.stdout, strict.stdout
    con = duckdb.connect(str(db), read_only=True)
    try:
        view = con.execute("SELECT spike_id, value, baseline FROM spikes ORDER BY spike_id").fetchall()
        same = con.execute(f"SELECT spike_id, value, baseline FROM ({spikes_sql(SpikeRules())}) ORDER BY spike_id").fetchall()
        loose = con.execute(f"SELECT spike_id FROM ({spikes_sql(SpikeRules(sigma=0.0, min_documents=1))})").fetchall()
    finally:
        con.close()
    assert view == same and len(view) >= 1
    assert len(loose) > len(view)  # a lower bar finds more spikes


def test_a_bad_spike_rule_is_one_clean_error(crawled):
    tmp, db, topic, _ = crawled
    result = run_cli("alerts", "--db", db, "--topic", _with_alerts(topic, tmp / "bad.toml", 'sigma = "high"'), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.startswith("seedtrack: error: ") and "sigma" in result.stderr and "Traceback" not in result.stderr
