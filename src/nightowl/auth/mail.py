"""Sending mail (password-reset links): a backend interface, console, SMTP and memory.

``Auth(app, mail=...)`` takes a backend; :class:`ConsoleMailBackend` (the default)
prints each message, which suits development. In production::

    Auth(app, mail=SMTPMailBackend("smtp.example.com", 587, username=..., password=...,
                                   starttls=True), from_email="noreply@example.com")
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TextIO

__all__ = ["ConsoleMailBackend", "MailBackend", "MemoryMailBackend", "Message", "SMTPMailBackend"]


@dataclass(frozen=True, slots=True)
class Message:
    """One plain-text email."""

    to: str
    subject: str
    body: str
    from_email: str

    def as_email(self) -> EmailMessage:
        """The message as :class:`email.message.EmailMessage`."""
        email = EmailMessage()
        email["From"] = self.from_email
        email["To"] = self.to
        email["Subject"] = self.subject
        email.set_content(self.body)
        return email


class MailBackend(ABC):
    """Sends messages."""

    @abstractmethod
    async def send(self, message: Message) -> None:
        """Send one message (raise on failure)."""


class ConsoleMailBackend(MailBackend):
    """Writes each message to a stream (standard output by default): for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, message: Message) -> None:
        """Print the message."""
        stream = self.stream or sys.stdout
        stream.write(message.as_email().as_string() + "\n" + "-" * 72 + "\n")
        stream.flush()


class MemoryMailBackend(MailBackend):
    """Keeps messages in :attr:`outbox`: for tests."""

    def __init__(self) -> None:
        self.outbox: list[Message] = []

    async def send(self, message: Message) -> None:
        """Append the message to :attr:`outbox`."""
        self.outbox.append(message)


class SMTPMailBackend(MailBackend):
    """Sends through an SMTP server (in a thread: ``smtplib`` blocks).

    Args:
        host, port: the server.
        username, password: to log in, if the server wants it.
        starttls: upgrade the connection with STARTTLS (port 587).
        use_ssl: connect over TLS from the start (port 465).
        timeout: seconds.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout

    async def send(self, message: Message) -> None:
        """Send the message."""
        await asyncio.to_thread(self._send, message)

    def _send(self, message: Message) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message.as_email())
