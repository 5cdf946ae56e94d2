"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(monkeypatch, to: str = "data-team@example.com"):
    """Run an SMTP server on 127.0.0.1 and point the lake's LAKE_SMTP_* settings at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LAKE_SMTP_PORT", str(port))
    monkeypatch.setenv("LAKE_ALERT_EMAIL", to)
    try:
        yield inbox
    finally:
        controller.stop()
