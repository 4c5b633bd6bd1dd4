"""``seedtrack alerts``: each spike of the ``spikes`` view not sent yet, sent once per channel.

Channels: a Slack-compatible JSON webhook (one POST a spike: ``{"text": ..., "blocks": [...]}``) and e-mail by
SMTP (one message a run, listing every new spike), configured in the topic file's ``[alerts]`` table or, for
the webhook, by ``--webhook``; the same table's spike keys (``SpikeRules``: baseline_days, sigma, ...) decide
what is a spike. A spike sent on a channel is recorded in the ``alerts`` table, so a second run,
a restart or the scheduler's check after the next crawl sends it no more. The SMTP password, when the server
wants one, comes from ``SEEDTRACK_SMTP_PASSWORD`` (never from the topic file).
"""

from __future__ import annotations

import json
import os
import smtplib
import sys
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, TextIO

from crawler.errors import UserError
from crawler.storage import Database
from crawler.storage.alerts import SpikeRules, pending_spikes, record_sent


@dataclass(frozen=True)
class Channel:
    name: str  # "webhook" or "email": the alerts table's channel
    target: str  # the webhook URL, or the recipients
    options: tuple = ()  # email: (smtp host, port, from, user, starttls)


def channels_of(topic, webhook: str | None = None) -> list[Channel]:
    """The channels of the topic's ``[alerts]`` table; ``webhook`` (``--webhook``) replaces its webhook."""
    conf = dict(getattr(topic, "alerts", {}) or {})
    out = []
    if webhook or conf.get("webhook"):
        out.append(Channel("webhook", webhook or conf["webhook"]))
    if conf.get("email_to"):
        if not conf.get("smtp"):
            raise UserError(f"{topic.path}: [alerts] email_to needs smtp = \"HOST:PORT\"")
        host, _, port = conf["smtp"].rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"{topic.path}: [alerts] smtp: expected HOST:PORT, e.g. smtp = \"mail.example.com:587\"; "
                            f"got {conf['smtp']!r}")
        sender = conf.get("email_from") or "seedtrack@localhost"
        out.append(Channel("email", ", ".join(conf["email_to"]),
                           (host, int(port), sender, conf.get("smtp_user"), bool(conf.get("smtp_starttls")))))
    return out


def describe(spike: dict[str, Any]) -> str:
    """One line: the period, what rose, by how much."""
    news = spike["scope"] == "news"
    when = spike["period"].strftime("%Y-%m-%d" if news else "%Y-%m-%d %H:00 UTC")
    noun, unit = ("news articles", "day") if news else ("posts", "hour")
    if spike["kind"] == "volume":
        return (f"{when}: {spike['documents']} {noun} against a baseline of {spike['baseline']:.1f} a {unit} "
                f"({spike['score']:.1f} sigma above)")
    return (f"{when}: the share of 'against' in {noun} rose to {spike['value']:.0%} from {spike['baseline']:.0%} "
            f"({spike['documents']} documents)")


def message(spike: dict[str, Any]) -> str:
    mix = spike["mix"]
    lines = [f"seedtrack spike ({spike['kind'].replace('_', ' ')}, {spike['scope']}) {describe(spike)}",
             f"stance: {mix['favor']} favor, {mix['against']} against, {mix['neutral']} neutral", "top stories:"]
    for story in spike["top"]:
        lines.append(f"- {story['title'] or '(untitled)'} ({story['documents']} documents, {story['outlets']} outlets; "
                     f"first {story['outlet']}) {story['url']}")
    return "\n".join(lines)


def slack_payload(spike: dict[str, Any]) -> dict[str, Any]:
    text = message(spike)
    stories = "\n".join(f"• <{s['url']}|{s['title'] or s['url']}> ({s['documents']} documents, {s['outlets']} outlets)"
                        for s in spike["top"])
    mix = spike["mix"]
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*seedtrack spike*: {describe(spike)}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": stories or "(no stories)"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"stance: {mix['favor']} favor, "
                                          f"{mix['against']} against, {mix['neutral']} neutral"}]},
    ]}


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 15.0) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "seedtrack-alerts"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered HTTP {response.status}")


def send_email(channel: Channel, spikes: list[dict[str, Any]], timeout: float = 30.0) -> None:
    host, port, sender, user, starttls = channel.options
    mail = EmailMessage()
    mail["Subject"] = (f"seedtrack: {len(spikes)} new spike{'s' if len(spikes) != 1 else ''}: "
                       f"{describe(spikes[0])}")[:180]
    mail["From"], mail["To"] = sender, channel.target
    mail.set_content("\n\n".join(message(s) for s in spikes) + "\n")
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        if starttls:
            smtp.starttls()
        if user:
            smtp.login(user, os.environ.get("SEEDTRACK_SMTP_PASSWORD", ""))
        smtp.send_message(mail)


def rules_of(topic) -> SpikeRules:
    """The spike rules of the topic's ``[alerts]`` table (baseline_days, sigma, ...; the defaults otherwise)."""
    return SpikeRules.of(getattr(topic, "alerts", None))


def send_alerts(database: Database, channels: list[Channel], dry_run: bool = False,
                out: TextIO | None = None, rules: SpikeRules | None = None) -> list[tuple[str, str]]:
    """Send every pending spike (under ``rules``, default the ``spikes`` view's) on each channel (or only print
    them); returns the (spike_id, channel) sent."""
    with database.reading() as con:
        pending = pending_spikes(con, [c.name for c in channels] or ["dry-run"], rules)
    if dry_run:
        for spike in pending:
            print(f"{spike['spike_id']}  {message(spike)}\n", file=out or sys.stdout)
        print(f"{len(pending)} spikes not sent yet (dry run: nothing sent)", file=out or sys.stdout)
        return []
    sent, failed = [], []
    for channel in channels:
        todo = [s for s in pending if channel.name in s["channels"]]
        if not todo:
            continue
        try:
            if channel.name == "webhook":
                for spike in todo:
                    post_webhook(channel.target, slack_payload(spike))
                    _record(database, spike, channel)
                    sent.append((spike["spike_id"], channel.name))
            else:
                send_email(channel, todo)
                for spike in todo:
                    _record(database, spike, channel)
                    sent.append((spike["spike_id"], channel.name))
        except (OSError, smtplib.SMTPException) as exc:
            failed.append(f"{channel.name} ({channel.target}): {exc}")
    if failed:
        raise UserError(f"sent {len(sent)} alerts, but could not send on " + "; ".join(failed))
    return sent


def _record(database: Database, spike: dict[str, Any], channel: Channel) -> None:
    with database.writing() as con:
        record_sent(con, spike["spike_id"], channel.name, message(spike))
