"""Real servers for the customer outbox: an SMTP server (aiosmtpd) and a gateway (http.server), both on 127.0.0.1."""

from __future__ import annotations

import json
import mailbox
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd storing every message in a Maildir; ``stop()`` / ``start()`` take it down and back on one port."""

    def __init__(self, directory) -> None:
        self.port = free_port()
        self.directory = directory
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox

        self.controller = Controller(Mailbox(str(self.directory)), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list:
        return list(mailbox.Maildir(str(self.directory), factory=None, create=False))


@pytest.fixture
def smtp(settings, tmp_path):
    server = SmtpServer(tmp_path / "maildir")
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


class Gateway:
    """A gateway's reply endpoint: records each POST and answers with the next scripted status.

    A status of ``"hang"`` sleeps longer than the client's timeout.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list = []
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw})
                status = gateway.script.pop(0) if gateway.script else 200
                if status == "hang":
                    gateway.release.wait(5)
                    status = 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status < 300}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/opsdesk/replies"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()
