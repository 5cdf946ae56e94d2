"""SNS with an e-mail subscription, played locally: a message becomes an e-mail sent over SMTP
when `LAKE_SMTP_HOST`, `LAKE_SMTP_PORT` and `LAKE_ALERT_EMAIL` are set (`LAKE_SMTP_FROM`
optional), and is ALWAYS written to `<home>/outbox/` as an .eml file, so no alert is ever lost
to a missing mail server. The alert Lambda publishes through `LocalSnsClient`, as it publishes
through boto3's SNS client on AWS."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import os
import smtplib
import uuid
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lake.home import LOCAL_ACCOUNT, LOCAL_REGION, LakeHome

DELIVERY_HEADER = "X-Lake-Delivery"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    to: str
    sender: str

    @classmethod
    def from_env(cls) -> SmtpConfig | None:
        host, port, to = (
            os.environ.get(f"LAKE_{n}") for n in ("SMTP_HOST", "SMTP_PORT", "ALERT_EMAIL")
        )
        if not (host and port and to):
            return None
        return cls(
            host, int(port), to, os.environ.get("LAKE_SMTP_FROM") or "movement-lake@localhost"
        )


@dataclass(frozen=True)
class SentAlert:
    message_id: str
    path: Path
    delivery: str


def topic_arn(home: LakeHome) -> str:
    return f"arn:aws:sns:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{home.settings.alert_topic_name}"


def publish(home: LakeHome, subject: str, body: str) -> SentAlert:
    """Deliver one message to the alert topic's e-mail subscriber (SMTP if configured) and
    keep it in the outbox."""
    smtp = SmtpConfig.from_env()
    message = EmailMessage()
    message_id = str(uuid.uuid4())
    message["Subject"] = subject[:100]  # SNS e-mail subjects are at most 100 characters
    message["From"] = smtp.sender if smtp else "movement-lake@localhost"
    message["To"] = smtp.to if smtp else (home.settings.alert_email or "alerts@localhost")
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{message_id}@movement-lake.local>"
    message["X-Lake-Topic"] = topic_arn(home)
    message.set_content(body)
    if smtp is None:
        delivery = "not sent: set LAKE_SMTP_HOST, LAKE_SMTP_PORT and LAKE_ALERT_EMAIL to e-mail"
    else:
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=15) as client:
                client.send_message(message)
            delivery = f"sent to {smtp.to} via {smtp.host}:{smtp.port}"
        except (OSError, smtplib.SMTPException) as e:
            delivery = f"failed: {smtp.host}:{smtp.port} said {e}"
    message[DELIVERY_HEADER] = delivery
    home.outbox.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = home.outbox / f"{stamp}-{message_id[:8]}.eml"
    path.write_bytes(message.as_bytes(policy=email.policy.SMTP))
    return SentAlert(message_id, path, delivery)


def read_outbox(home: LakeHome) -> list[dict[str, Any]]:
    """The alerts in the outbox, newest first."""
    alerts = []
    for path in sorted(home.outbox.glob("*.eml"), reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))

        def header(name: str, message=message) -> str:
            return " ".join(str(message[name] or "").split())  # unfolded

        alerts.append(
            {
                "date": header("Date"),
                "subject": header("Subject"),
                "to": header("To"),
                "delivery": header(DELIVERY_HEADER),
                "file": str(path),
                "body": body.get_content() if body else "",
            }
        )
    return alerts


class LocalSnsClient:
    """The `publish` call of boto3's SNS client, delivering to the alert topic's subscriber."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home

    def publish(self, *, TopicArn: str, Message: str, Subject: str = "", **_: Any) -> dict:
        if TopicArn != topic_arn(self.home):
            raise ValueError(
                f"no topic {TopicArn!r} in this lake (its topic: {topic_arn(self.home)})"
            )
        sent = publish(self.home, Subject or self.home.settings.alert_topic_name, Message)
        return {"MessageId": sent.message_id}
