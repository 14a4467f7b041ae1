"""Read a Server-Sent Events stream over real HTTP, event by event, with arrival times."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse


@dataclass
class Event:
    name: str
    data: dict[str, Any]
    at: float  # seconds since the request was sent
    id: str | None = None  # the event's `id:` (what Last-Event-ID resumes from)


class SSEStream:
    def __init__(self, url: str, token: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None):
        """POST `body` as JSON; with no body, GET (e.g. an answer's stream, with a Last-Event-ID header)."""
        parsed = urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        self.started = time.monotonic()
        self.connection.request(
            "GET" if body is None else "POST",
            parsed.path,
            body=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
        )
        self.response = self.connection.getresponse()

    @property
    def status(self) -> int:
        return self.response.status

    def header(self, name: str) -> str | None:
        return self.response.getheader(name)

    def events(self) -> Iterator[Event]:
        name, data, event_id = "message", [], None
        while True:
            line = self.response.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                yield Event(name, json.loads("\n".join(data)), time.monotonic() - self.started, event_id)
                name, data, event_id = "message", [], None

    def close(self) -> None:
        self.connection.sock.close() if self.connection.sock else None
        self.connection.close()
