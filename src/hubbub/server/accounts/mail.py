"""Verification mail: one message with the code, through the configured SMTP server.

Blocking (a socket to the mail server): run it on a worker thread. The
address and the code are never logged; the caller logs that a code was
sent for an account.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from hubbub.config import SmtpServer

#: Seconds to wait for the mail server.
TIMEOUT = 20.0


class MailError(Exception):
    """The mail could not be handed to the mail server (a sentence why)."""


def verification_message(
    sender: str, to: str, *, account: str, code: str, network: str
) -> EmailMessage:
    """The message that carries ``code`` for ``account``."""
    msg = EmailMessage()
    msg["Subject"] = f"Your {network} verification code: {code}"
    msg["From"] = sender
    msg["To"] = to
    msg.set_content(
        f"Someone (hopefully you) registered the account {account} on {network}\n"
        f"with this e-mail address. To finish, type in your IRC client:\n\n"
        f"    /msg NickServ VERIFY {account} {code}\n\n"
        f"(or, with a client that speaks IRCv3 account registration: VERIFY {account} {code})\n\n"
        f"The code works for 24 hours. If this was not you, ignore this mail:\n"
        f"the account is forgotten when the code expires.\n"
    )
    return msg


def send(smtp: SmtpServer, msg: EmailMessage) -> None:
    """Hand ``msg`` to the mail server; MailError with a reason."""
    try:
        if smtp.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT)
        with client:
            client.ehlo()
            if not smtp.tls and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{smtp}: {exc}") from None
