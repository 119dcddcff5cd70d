"""An RCPT-only SMTP conversation with one mail host, and what its replies mean.

One `SmtpSession` is one TCP connection: banner, EHLO, MAIL FROM once, then one RCPT TO per
address in that one transaction (RSET only if the host loses track of it), QUIT to end it.
It never sends DATA or VRFY: nothing is ever delivered, and VRFY is both
disabled almost everywhere and a red flag to mail admins. Every line sent and received is
kept in `transcript`.

`classify` turns a reply into accepted / rejected / deferred / blocked; `accepts_all_provider`
names the providers whose "250" is known to mean nothing (Microsoft 365 and Yahoo accept
every recipient at RCPT time on many tenants and bounce later).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from prospects import normalize

from .scoring import SMTP_ACCEPTED, SMTP_BLOCKED, SMTP_DEFERRED, SMTP_REJECTED

# Reserved names (RFC 2606, RFC 6761): a probe that introduces itself with one of these is
# refused by careful hosts and looks like spam to the others.
_RESERVED = re.compile(
    r"(^|\.)(localhost|localdomain|example|invalid|test|local)$"
    r"|(^|\.)example\.(com|net|org)$"
)
_BLOCK_TEXT = re.compile(
    r"block|black ?list|deny ?list|spamhaus|spamcop|barracuda|\brbl\b|dnsbl|\blisted\b"
    r"|reputation|banned",
    re.IGNORECASE,
)
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_QUIRKS = (
    (
        "microsoft",
        (
            ".mail.protection.outlook.com",
            ".olc.protection.outlook.com",
            ".outlook.com",
            ".hotmail.com",
        ),
    ),
    ("yahoo", (".yahoodns.net", ".yahoo.com", ".aol.com")),
)
MAX_LINE = 2048


class ProbeConfigError(ImproperlyConfigured):
    """HELO or MAIL FROM cannot be used for probing (missing, localhost, example domain)."""


class SmtpConnectError(OSError):
    """The host could not be reached or would not talk (try the next MX)."""


class SmtpSessionLost(OSError):
    """The connection broke in the middle of a conversation."""


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    @property
    def enhanced(self) -> str:
        match = _ENHANCED.match(self.text)
        return ".".join(match.groups()) if match else ""


@dataclass(frozen=True)
class ProbeIdentity:
    """How the prober introduces itself: EHLO name and envelope sender."""

    helo: str
    mail_from: str

    @classmethod
    def from_settings(cls) -> ProbeIdentity:
        identity = cls(
            settings.SOURCIER_SMTP_HELO.strip(), settings.SOURCIER_SMTP_MAIL_FROM.strip()
        )
        identity.check()
        return identity

    def check(self) -> None:
        """Refuse an identity a mail host would reject or hold against the sending IP."""
        if not self.helo or not self.mail_from:
            raise ProbeConfigError(
                _(
                    "SMTP probing needs SOURCIER_SMTP_HELO (a host name of yours) and "
                    "SOURCIER_SMTP_MAIL_FROM (an address on a domain of yours)."
                )
            )
        sender_domain = self.mail_from.rpartition("@")[2].lower()
        for what, name in (
            ("SOURCIER_SMTP_HELO", self.helo.lower()),
            ("SOURCIER_SMTP_MAIL_FROM", sender_domain),
        ):
            if "." not in name or _RESERVED.search(name):
                raise ProbeConfigError(
                    _(
                        "%(setting)s must name a real domain you own, not “%(name)s”: mail "
                        "hosts refuse or blocklist probes from localhost and example domains."
                    )
                    % {"setting": what, "name": name}
                )
        if "@" not in self.mail_from:
            raise ProbeConfigError(
                _("SOURCIER_SMTP_MAIL_FROM must be an address (name@domain).")
            )


def classify(reply: Reply) -> str:
    """accepted, rejected, deferred (try later) or blocked (the host refuses us, not them)."""
    if 200 <= reply.code < 300:
        return SMTP_ACCEPTED
    if 400 <= reply.code < 500:
        return SMTP_DEFERRED
    blocklist = reply.code == 554 or reply.enhanced.startswith("5.7.")
    if blocklist and _BLOCK_TEXT.search(reply.text):
        return SMTP_BLOCKED
    return SMTP_REJECTED


def accepts_all_provider(mail_host: str, banner: str = "") -> str:
    """'microsoft' or 'yahoo' when the host belongs to a provider whose "yes" means little."""
    name = "." + mail_host.lower().rstrip(".")
    for provider, suffixes in _QUIRKS:
        if name.endswith(suffixes):
            return provider
    if "microsoft esmtp mail service" in banner.lower():
        return "microsoft"
    return ""


@dataclass
class SmtpSession:
    """One connection to one mail host, reused for many RCPT TO."""

    host: str
    address: str
    port: int
    identity: ProbeIdentity
    connect_timeout: float = 10.0
    timeout: float = 20.0
    transcript: list[str] = field(default_factory=list)
    banner: str = ""
    rcpts: int = 0
    # The host said PIPELINING (RFC 2920): MAIL FROM and the RCPT TOs go in one write.
    pipelining: bool = False
    # MAIL FROM was accepted: the next RCPT TOs go in the same transaction.
    in_transaction: bool = False
    _sock: socket.socket | None = field(default=None, repr=False)
    _reader: object = field(default=None, repr=False)

    def open(self) -> Reply:
        """Connect, read the banner, introduce ourselves (EHLO, then HELO if refused)."""
        self.transcript.append(f"-- {self.host} [{self.address}]:{self.port}")
        try:
            self._sock = socket.create_connection(
                (self.address, self.port), timeout=self.connect_timeout
            )
            self._sock.settimeout(self.timeout)
            self._reader = self._sock.makefile("rb")
            banner = self._read()
        except OSError as exc:
            self.transcript.append(f"!! {type(exc).__name__}: {exc}")
            self.close(quit_=False)
            raise SmtpConnectError(str(exc)) from exc
        self.banner = banner.text
        if banner.code != 220:
            return banner
        try:
            hello = self.command(f"EHLO {self.identity.helo}")
            if hello.code >= 500:
                hello = self.command(f"HELO {self.identity.helo}")
            else:
                self.pipelining = "PIPELINING" in hello.text.upper().split()
        except SmtpSessionLost as exc:
            raise SmtpConnectError(str(exc)) from exc
        return hello

    def check(self, address: str) -> Reply:
        """The host's answer about one recipient (see `check_many`)."""
        return self.check_many([address])[0]

    def check_many(self, addresses: list[str]) -> list[Reply]:
        """The host's answer about each of `addresses`: one RCPT TO each, in the session's
        open transaction (MAIL FROM once, the first time; RSET only where needed, when the
        host lost track of it). A PIPELINING host gets them in one write (one round trip
        for the lot); another gets one command at a time. Nothing is ever delivered: DATA
        is never sent, and QUIT ends the transaction. A refused MAIL FROM answers for every
        address."""
        if not addresses:
            return []
        rcpts = [f"RCPT TO:<{ascii_address(address)}>" for address in addresses]
        opening = [] if self.in_transaction else [f"MAIL FROM:<{self.identity.mail_from}>"]
        if self.pipelining:
            replies = self._exchange(opening + rcpts)
            self.rcpts += len(addresses)
            sender, answers = (replies[0] if opening else None), replies[len(opening) :]
        else:
            sender = self.command(opening[0]) if opening else None
            answers = []
            if sender is None or sender.code < 400:
                for line in rcpts:
                    self.rcpts += 1
                    answers.append(self.command(line))
        if sender is not None and sender.code >= 400:
            return [sender] * len(addresses)
        self.in_transaction = True
        if any(answer.code == 503 for answer in answers):
            # "Bad sequence": the host dropped the transaction. A new one, and the recipients
            # asked again in it when the old one was reused (their 503 said nothing of them).
            self.command("RSET")
            self.in_transaction = False
            if not opening:
                return self.check_many(addresses)
        return answers

    def command(self, line: str) -> Reply:
        return self._exchange([line])[0]

    def _exchange(self, lines: list[str]) -> list[Reply]:
        """Send the lines in one write, then read one reply per line, in order."""
        if self._sock is None:
            raise SmtpSessionLost("not connected")
        for line in lines:
            verb = line.split(" ", 1)[0].upper()
            # Belt and braces: nothing in this class may ever deliver or enumerate.
            if verb in ("DATA", "VRFY", "EXPN", "BDAT"):
                raise ValueError(f"{verb} is never sent by a probe")
        try:
            self._sock.sendall(b"".join(ln.encode("ascii", "replace") + b"\r\n" for ln in lines))
            replies = []
            for line in lines:
                self.transcript.append(f"C: {line}")
                replies.append(self._read())
            return replies
        except OSError as exc:
            self.transcript.append(f"!! {type(exc).__name__}: {exc}")
            self.close(quit_=False)
            raise SmtpSessionLost(str(exc)) from exc

    def _read(self) -> Reply:
        lines = []
        while True:
            raw = self._reader.readline(MAX_LINE)  # type: ignore[attr-defined]
            if not raw:
                raise SmtpSessionLost("connection closed by the host")
            # A NUL could never be stored (PostgreSQL refuses it in text): shown, not kept.
            text = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\x00", "\ufffd")
            self.transcript.append(f"S: {text}")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                break
        code = int(lines[-1][:3]) if lines[-1][:3].isdigit() else 0
        return Reply(code, " ".join(line[4:] for line in lines).strip())

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self, *, quit_: bool = True) -> None:
        if self._sock is None:
            return
        if quit_:
            try:
                self.transcript.append("C: QUIT")
                self._sock.sendall(b"QUIT\r\n")
                self._read()
            except OSError:
                pass
        try:
            self._sock.close()
        finally:
            self._sock = None
            self._reader = None
            self.in_transaction = False


def per_recipient(lines: list[str], chunk: list[str]) -> list[str]:
    """Each recipient's part of a batch's transcript: what came before the first RCPT (the
    session's opening, MAIL FROM), its own RCPT TO and reply, and what followed the last (an
    RSET, where one was needed). One recipient keeps the whole transcript, as asked alone."""
    starts = [i for i, line in enumerate(lines) if line.startswith("C: RCPT TO:")]
    if len(chunk) == 1 or len(starts) != len(chunk):
        return ["\n".join(lines)] * len(chunk)
    ends = [*starts[1:], _after_last(lines, starts[-1])]
    head, tail = lines[: starts[0]], lines[ends[-1] :]
    return [
        "\n".join([*head, *lines[start:end], *tail])
        for start, end in zip(starts, ends, strict=True)
    ]


def _after_last(lines: list[str], start: int) -> int:
    """Where the last RCPT's block (its command and reply lines) ends."""
    end = start + 1
    while end < len(lines) and not lines[end].startswith("C: "):
        end += 1
    return end


def ascii_address(address: str) -> str:
    """The address as sent on the wire: an internationalized domain in its ASCII (IDNA,
    punycode) form, so that jean@bücher.de is asked as jean@xn--bcher-kva.de and never as
    jean@b?cher.de, an address that does not exist."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{normalize.ascii_host(domain)}"
    except UnicodeError:
        return address
