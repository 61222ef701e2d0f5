"""Production traffic during a rehearsal: an application invoking the prod endpoint with
rows of the project's data, in a thread, while a deployment runs."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mlops_seeds import aws

PAUSE = 0.02  # seconds between requests


def feature_rows(data: Path, label_column: str = "target") -> list[str]:
    """The CSV data's rows without its header and its label column, as request bodies."""
    lines = [line for line in data.read_text().splitlines() if line.strip()]
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name != label_column]
    return [",".join(row.split(",")[i] for i in keep) for row in lines[1:]]


@dataclass
class Traffic:
    """Requests sent to an endpoint from a thread until stopped, and their answers."""

    session: boto3.Session
    endpoint: str
    rows: list[str]
    answers: Counter[str] = field(default_factory=Counter)  # answered | ModelError | ...
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Traffic:
        """Start sending."""
        self._thread = threading.Thread(target=self._send, name="prod-traffic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending (waits for the request in flight)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _send(self) -> None:
        runtime: Any = aws.client("sagemaker-runtime", self.session)
        index = 0
        while not self._stop.wait(PAUSE):
            row = self.rows[index % len(self.rows)]
            index += 1
            try:
                runtime.invoke_endpoint(
                    EndpointName=self.endpoint, ContentType="text/csv", Body=row
                )
                self.answers["answered"] += 1
            except ClientError as err:
                self.answers[str(err.response.get("Error", {}).get("Code", "error"))] += 1
            except BotoCoreError as err:  # no answer at all (connection, timeout)
                self.answers[type(err).__name__] += 1

    def line(self) -> str:
        """`N requests: A answered, E ModelError`."""
        total = sum(self.answers.values())
        parts = ", ".join(f"{count} {kind}" for kind, count in self.answers.most_common())
        return f"{total} requests to {self.endpoint}: {parts or 'none'}"
