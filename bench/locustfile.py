"""Members who sign up, chat and browse their history: a locust scenario.

Run through bench/load_run.py, which starts haruchat and the fake upstream.
A member's daily allowance runs out during a run; the 429 that follows is
the behaviour asked for, so it is reported under its own name ("quota spent")
and not as a failure. Anything else that is not 2xx is a failure.
"""

from __future__ import annotations

import itertools
import random
import uuid

from locust import HttpUser, between, task

WORDS = ["breath", "exam", "sleep", "river", "grammar", "habit", "tea", "garden"]
_members = itertools.count()


class Member(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        number = next(_members)
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        response = self.client.post(
            "/api/auth/signup",
            json={"email": email, "password": "load test pass phrase", "nickname": f"load {number}"},
            name="/api/auth/signup",
        )
        self.client.headers["Authorization"] = f"Bearer {response.json()['access']}"
        self.conversations: list[int] = []
        self.new_conversation()

    def new_conversation(self) -> None:
        response = self.client.post("/api/conversations", json={}, name="/api/conversations [create]")
        if response.ok:
            self.conversations.append(response.json()["id"])

    def send(self, *, stream: bool) -> None:
        if not self.conversations:
            return
        conversation = random.choice(self.conversations)
        body = {"content": f"Tell me about {random.choice(WORDS)}.", "stream": stream}
        name = "/api/conversations/{id}/messages" + (" [stream]" if stream else "")
        with self.client.post(
            f"/api/conversations/{conversation}/messages", json=body, name=name, stream=stream, catch_response=True
        ) as response:
            if response.status_code == 429 and response.json().get("code") == "quota_exceeded":
                response.success()
                response.request_meta["name"] = "quota spent (429, expected)"
            elif stream and response.ok:
                events = response.content.decode()
                if "event: done" not in events:
                    response.failure("the stream did not end with a done event")

    @task(4)
    def browse(self) -> None:
        self.client.get("/api/conversations", name="/api/conversations [list]")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/api/conversations?search={random.choice(WORDS)}", name="/api/conversations [search]")

    @task(3)
    def open_conversation(self) -> None:
        if self.conversations:
            self.client.get(f"/api/conversations/{random.choice(self.conversations)}", name="/api/conversations/{id}")

    @task(1)
    def quota(self) -> None:
        self.client.get("/api/quota")

    @task(2)
    def chat(self) -> None:
        self.send(stream=False)

    @task(2)
    def chat_streamed(self) -> None:
        self.send(stream=True)

    @task(1)
    def start_another(self) -> None:
        self.new_conversation()
