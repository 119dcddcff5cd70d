"""RFC 2920: a host that offers PIPELINING gets MAIL FROM and RCPT TO in one write (one round
trip per recipient, or per batch), the next recipients in the same transaction; a host that
does not is spoken to one command at a time. The transcript reads the same either way."""

import socket
import threading

import pytest

from enrichment.discovery.smtp import ProbeIdentity, SmtpSession

IDENTITY = ProbeIdentity("sonde.sourcier-demo.fr", "verification@sourcier-demo.fr")


class LineServer(threading.Thread):
    """One SMTP conversation; records the commands each read from the socket carried."""

    def __init__(self, *, pipelining: bool):
        super().__init__(daemon=True)
        self.pipelining = pipelining
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.reads: list[list[str]] = []

    def run(self):
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(b"220 test ESMTP\r\n")
            pending = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\r\n")
                self.reads.append([line.decode() for line in lines])
                for line in lines:
                    conn.sendall(self.answer(line.decode()))
                    if line.upper() == b"QUIT":
                        return

    def answer(self, line: str) -> bytes:
        verb = line.split(" ", 1)[0].upper()
        if verb == "EHLO":
            extra = "250-PIPELINING\r\n" if self.pipelining else ""
            return f"250-test\r\n{extra}250 8BITMIME\r\n".encode()
        if verb == "RCPT":
            ok = "<jean.dupont@" in line
            return b"250 2.1.5 Ok\r\n" if ok else b"550 5.1.1 No such user\r\n"
        return {"QUIT": b"221 Bye\r\n"}.get(verb, b"250 Ok\r\n")


@pytest.mark.parametrize("pipelining", [True, False])
def test_one_write_per_recipient_only_where_the_host_offers_pipelining(pipelining):
    server = LineServer(pipelining=pipelining)
    server.start()
    session = SmtpSession("mx.exemple.fr", "127.0.0.1", server.port, IDENTITY, timeout=5)
    assert session.open().code == 250
    assert session.pipelining is pipelining
    yes = session.check("jean.dupont@exemple.fr")
    no = session.check("personne@exemple.fr")
    both = session.check_many(["personne@exemple.fr", "jean.dupont@exemple.fr"])
    session.close()
    server.join(5)

    assert (yes.code, no.code) == (250, 550)
    assert [reply.code for reply in both] == [550, 250]
    assert session.rcpts == 4
    per_recipient = [read for read in server.reads if any(c.startswith("RCPT") for c in read)]
    if pipelining:
        # One transaction: MAIL FROM once, then the recipients, a batch in one write.
        assert [[c.split(":")[0] for c in read] for read in per_recipient] == [
            ["MAIL FROM", "RCPT TO"], ["RCPT TO"], ["RCPT TO", "RCPT TO"]
        ]
    else:
        assert all(len(read) == 1 for read in server.reads)
    sent = [c for read in server.reads for c in read]
    assert sum(c.startswith("MAIL FROM") for c in sent) == 1 and "RSET" not in sent
    # Each command followed by its reply, as in a conversation one command at a time.
    text = "\n".join(session.transcript)
    assert "C: RCPT TO:<jean.dupont@exemple.fr>\nS: 250 2.1.5 Ok\nC: RCPT TO:<personne" in text
    assert "C: RCPT TO:<personne@exemple.fr>\nS: 550 5.1.1 No such user" in text


class ForgetfulServer(LineServer):
    """Forgets the transaction after its first RCPT: the next RCPT gets 503 until MAIL FROM."""

    def __init__(self):
        super().__init__(pipelining=True)
        self.in_mail = False

    def answer(self, line: str) -> bytes:
        verb = line.split(" ", 1)[0].upper()
        if verb == "MAIL":
            self.in_mail = True
        elif verb == "RCPT":
            if not self.in_mail:
                return b"503 5.5.1 Error: need MAIL command\r\n"
            self.in_mail = False
        elif verb == "RSET":
            self.in_mail = False
        return super().answer(line)


def test_a_host_that_drops_the_transaction_gets_a_new_one_and_the_question_again():
    server = ForgetfulServer()
    server.start()
    session = SmtpSession("mx.exemple.fr", "127.0.0.1", server.port, IDENTITY, timeout=5)
    session.open()
    first = session.check("personne@exemple.fr")
    second = session.check("jean.dupont@exemple.fr")
    session.close()
    server.join(5)

    assert (first.code, second.code) == (550, 250)
    sent = [c.split(":")[0] for read in server.reads for c in read]
    assert sent[-5:] == ["RCPT TO", "RSET", "MAIL FROM", "RCPT TO", "QUIT"]


class OddServer(LineServer):
    """Answers a recipient with a NUL in its reply, and records every command."""

    def answer(self, line: str) -> bytes:
        if line.split(" ", 1)[0].upper() == "RCPT":
            return b"550 5.1.1 no\x00such user\r\n"
        return super().answer(line)


def test_a_nul_in_a_reply_is_shown_never_kept():
    """PostgreSQL refuses NUL in text: a host that sends one must not make its answer (and
    the answers written with it) impossible to store."""
    server = OddServer(pipelining=True)
    server.start()
    session = SmtpSession("mx.exemple.fr", "127.0.0.1", server.port, IDENTITY, timeout=5)
    session.open()
    reply = session.check("personne@exemple.fr")
    session.close()
    server.join(5)
    assert reply.code == 550
    assert "\x00" not in reply.text and "\x00" not in "\n".join(session.transcript)
    assert reply.text == "5.1.1 no\ufffdsuch user"


def test_an_internationalized_domain_is_asked_in_its_ascii_form():
    server = LineServer(pipelining=True)
    server.start()
    session = SmtpSession("mx.exemple.fr", "127.0.0.1", server.port, IDENTITY, timeout=5)
    session.open()
    session.check("jean.dupont@bücher.example")
    session.check("jean.dupont@straße.example")  # IDNA 2008: not strasse.example
    session.close()
    server.join(5)
    sent = [c for read in server.reads for c in read]
    assert "RCPT TO:<jean.dupont@xn--bcher-kva.example>" in sent
    assert "RCPT TO:<jean.dupont@xn--strae-oqa.example>" in sent
