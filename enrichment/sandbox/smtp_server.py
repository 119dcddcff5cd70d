"""Loopback SMTP servers that play the sandbox world's mail hosts, and record every session.

One listening socket per mail host address (127.0.0.10, .11, ...), all on the same port, so
the client's single SMTP port setting reaches every host; the host's behaviour is read from
the address a connection arrived on. Nothing listens on the dead host's address (connection
refused). Behaviours:

- normal: 250 for an existing mailbox or any address on a catch-all domain, else 550 5.1.1;
- greylist: the first RCPT of a (client, sender, recipient) triplet gets 451 4.7.1; the same
  triplet asked again at least `greylist_seconds` later gets the truth;
- slow: every reply waits `slow_seconds`;
- blocklist: RCPT gets "554 5.7.1 ... blocked using zen.spamhaus.org";
- accept_all (Microsoft 365 style): every RCPT gets 250.

DATA and VRFY are refused and recorded, so tests can assert a prober never sends them. The
record keeps each session's commands and RCPTs and the per-host concurrency high-water mark.
"""

from __future__ import annotations

import socketserver
import threading
import time
from dataclasses import dataclass, field

from .mail_world import (
    ACCEPT_ALL,
    BLOCKLIST,
    GREYLIST,
    SLOW,
    MailPlan,
    listening_addresses,
)

BANNERS = {
    ACCEPT_ALL: "220 sandbox.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready",
}


@dataclass
class Session:
    """One connection as the server saw it."""

    host: str
    kind: str
    peer: str
    commands: list[str] = field(default_factory=list)
    rcpts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def saw_data(self) -> bool:
        return any(c.split(" ", 1)[0].upper() in ("DATA", "BDAT") for c in self.commands)

    @property
    def saw_vrfy(self) -> bool:
        return any(c.split(" ", 1)[0].upper() in ("VRFY", "EXPN") for c in self.commands)


class _Handler(socketserver.StreamRequestHandler):
    server: _TCPServer
    timeout = 30
    # Replies to pipelined commands leave at once, as real mail hosts flush them (without
    # this, Nagle holds the second reply until the client's delayed ACK: 40 ms a probe).
    disable_nagle_algorithm = True

    def handle(self) -> None:
        owner = self.server.owner
        host = self.request.getsockname()[0]
        kind = self.server.kind
        session = Session(host=host, kind=kind, peer=self.client_address[0])
        owner.opened(session)
        try:
            self._converse(owner, session)
        except OSError:
            pass
        finally:
            owner.closed(session)

    def _reply(self, owner: SandboxSMTP, kind: str, text: str) -> None:
        if kind == SLOW and owner.slow_seconds:
            time.sleep(owner.slow_seconds)
        self.wfile.write(text.encode() + b"\r\n")

    def _converse(self, owner: SandboxSMTP, session: Session) -> None:
        kind = session.kind
        self._reply(owner, kind, BANNERS.get(kind, f"220 {session.host} ESMTP sandbox"))
        helo = sender = None
        while True:
            raw = self.rfile.readline(2048)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            session.commands.append(line)
            verb, _sep, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                helo = arg
                self._reply(owner, kind, "250-sandbox\r\n250-PIPELINING\r\n250 8BITMIME")
            elif verb == "HELO":
                helo = arg
                self._reply(owner, kind, "250 sandbox")
            elif verb == "MAIL":
                if not helo:
                    self._reply(owner, kind, "503 5.5.1 EHLO first")
                    continue
                sender = arg
                self._reply(owner, kind, "250 2.1.0 Ok")
            elif verb == "RCPT":
                if sender is None:
                    self._reply(owner, kind, "503 5.5.1 MAIL first")
                    continue
                address = arg.partition(":")[2].strip().strip("<>").lower()
                code, text = owner.rcpt_answer(kind, session.peer, sender, address)
                session.rcpts.append((address, code))
                self._reply(owner, kind, f"{code} {text}")
            elif verb == "RSET":
                sender = None
                self._reply(owner, kind, "250 2.0.0 Ok")
            elif verb == "NOOP":
                self._reply(owner, kind, "250 2.0.0 Ok")
            elif verb == "QUIT":
                self._reply(owner, kind, "221 2.0.0 Bye")
                return
            elif verb in ("DATA", "BDAT"):
                self._reply(owner, kind, "554 5.5.1 the sandbox never takes mail")
            elif verb in ("VRFY", "EXPN"):
                self._reply(owner, kind, "502 5.5.1 VRFY disabled")
            else:
                self._reply(owner, kind, "500 5.5.2 unknown command")


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SandboxSMTP
    kind: str


class SandboxSMTP:
    """Every listening mail host of the sandbox on one port (port 0: an ephemeral one)."""

    def __init__(
        self,
        plan: MailPlan,
        *,
        port: int = 0,
        greylist_seconds: float = 0.0,
        slow_seconds: float = 0.0,
    ) -> None:
        self.plan = plan
        self.greylist_seconds = greylist_seconds
        self.slow_seconds = slow_seconds
        self.sessions: list[Session] = []
        self.active: dict[str, int] = {}
        self.high_water: dict[str, int] = {}
        self._greylist: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._servers: list[_TCPServer] = []
        self.port = self._bind(port)

    def _bind(self, port: int) -> int:
        hosts = listening_addresses()
        for _attempt in range(20):
            servers: list[_TCPServer] = []
            try:
                chosen = port
                for ip, kind in hosts.items():
                    server = _TCPServer((ip, chosen), _Handler, bind_and_activate=True)
                    server.owner, server.kind = self, kind
                    servers.append(server)
                    chosen = server.server_address[1]
            except OSError:
                for server in servers:
                    server.server_close()
                if port:
                    raise
                continue  # the ephemeral port was taken on another address: draw again
            self._servers = servers
            return chosen
        raise OSError("no free port on every sandbox mail address")

    def start(self) -> SandboxSMTP:
        for server in self._servers:
            threading.Thread(
                target=server.serve_forever,
                daemon=True,
                name=f"sandbox-smtp-{server.server_address[0]}",
            ).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def rcpt_answer(self, kind: str, peer: str, sender: str, address: str) -> tuple[int, str]:
        if kind == BLOCKLIST:
            return 554, (
                f"5.7.1 Service unavailable; Client host [{peer}] blocked using zen.spamhaus.org"
            )
        if kind == ACCEPT_ALL:
            return 250, "2.1.5 Recipient OK"
        if kind == GREYLIST:
            triplet = (peer, sender.lower(), address)
            now = time.monotonic()
            with self._lock:
                first = self._greylist.setdefault(triplet, now)
            if first == now or now - first < self.greylist_seconds:
                return 451, "4.7.1 Greylisted, please try again later"
        if self.plan.accepts(address):
            return 250, "2.1.5 Ok"
        return 550, f"5.1.1 <{address}>: Recipient address rejected: User unknown"

    def opened(self, session: Session) -> None:
        with self._lock:
            self.sessions.append(session)
            count = self.active.get(session.host, 0) + 1
            self.active[session.host] = count
            self.high_water[session.host] = max(self.high_water.get(session.host, 0), count)

    def closed(self, session: Session) -> None:
        with self._lock:
            self.active[session.host] -= 1

    def sessions_on(self, host: str) -> list[Session]:
        with self._lock:
            return [s for s in self.sessions if s.host == host]

    def reset(self) -> None:
        with self._lock:
            self.sessions.clear()
            self.high_water.clear()
            self._greylist.clear()
