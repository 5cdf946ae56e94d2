"""Alerts reach a real SMTP server when one is configured, and the outbox always."""

from __future__ import annotations

from smtp_support import free_port, smtp_server

from lake.aws.sns import publish, read_outbox
from lake.home import LakeHome


def test_an_alert_is_mailed_over_smtp_and_kept_in_the_outbox(tmp_path, monkeypatch):
    home = LakeHome(tmp_path).ensure()
    with smtp_server(monkeypatch) as inbox:
        sent = publish(home, "movement-lake: FAILED at Validate", "the file has no header")
    assert [m["Subject"] for m in inbox.messages] == ["movement-lake: FAILED at Validate"]
    assert inbox.messages[0]["To"] == "data-team@example.com"
    assert "the file has no header" in inbox.messages[0].get_content()
    [kept] = read_outbox(home)
    assert kept["subject"] == "movement-lake: FAILED at Validate"
    assert kept["file"] == str(sent.path)
    assert kept["delivery"].startswith("sent to data-team@example.com")


def test_without_smtp_settings_the_alert_is_only_in_the_outbox_and_says_so(tmp_path, monkeypatch):
    for name in ("LAKE_SMTP_HOST", "LAKE_SMTP_PORT", "LAKE_ALERT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    home = LakeHome(tmp_path).ensure()
    publish(home, "subject", "body")
    [kept] = read_outbox(home)
    assert kept["delivery"].startswith("not sent")
    assert kept["body"].strip() == "body"


def test_a_mail_server_that_is_down_does_not_lose_the_alert(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LAKE_SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("LAKE_ALERT_EMAIL", "ops@example.com")
    home = LakeHome(tmp_path).ensure()
    publish(home, "subject", "body")
    [kept] = read_outbox(home)
    assert kept["delivery"].startswith("failed")


def test_alerts_are_listed_newest_first(tmp_path, monkeypatch):
    monkeypatch.delenv("LAKE_SMTP_HOST", raising=False)
    home = LakeHome(tmp_path).ensure()
    for subject in ("first", "second", "third"):
        publish(home, subject, "body")
    assert [a["subject"] for a in read_outbox(home)] == ["third", "second", "first"]
