"""Fixtures for the notification tests: preferences, a local webhook receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.models import NotificationSettings, WebhookEndpoint


@pytest.fixture
def set_prefs(db):
    """``set_prefs(user, routine=[...], ...)`` saves a person's notification settings."""

    def save(user, *, routine=None, important=None, critical=None, **fields):
        prefs, _ = NotificationSettings.objects.get_or_create(user=user)
        if routine is not None:
            prefs.routine_channels = routine
        if important is not None:
            prefs.important_channels = important
        if critical is not None:
            prefs.critical_channels = critical
        for name, value in fields.items():
            setattr(prefs, name, value)
        prefs.save()
        user.notification_settings = prefs
        return prefs

    return save


class Receiver:
    """A tiny HTTP server in a thread that records requests and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": raw})
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                payload = json.dumps({"ok": status < 400}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def endpoint(db, receiver):
    return WebhookEndpoint.objects.create(name="Relay", url=receiver.url, secret="s3cret", timeout=2)
