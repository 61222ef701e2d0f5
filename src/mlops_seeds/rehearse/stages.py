"""The rehearsal's stages: each printed as it starts and ends, with its wall time."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Echo = Callable[[str], None]


@dataclass
class Stage:
    """One stage: its name, what it does, how long it took and how it ended."""

    name: str
    title: str
    seconds: float = 0.0
    status: str = "running"
    detail: str = ""


@dataclass
class Timeline:
    """The stages run so far, in order."""

    echo: Echo
    stages: list[Stage] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, title: str) -> Iterator[Stage]:
        """Run the body as stage `name`: print its start and its end with the wall time;
        an exception marks it failed and propagates."""
        current = Stage(name, title)
        self.stages.append(current)
        self.echo(f"==> [{len(self.stages)}] {name}: {title}")
        started = time.perf_counter()
        try:
            yield current
        except BaseException as err:
            current.status = "failed"
            current.detail = current.detail or str(err)
            raise
        else:
            if current.status == "running":
                current.status = "ok"
        finally:
            current.seconds = time.perf_counter() - started
            note = f" ({current.detail})" if current.detail else ""
            self.echo(f"    {name} {current.status} in {current.seconds:.1f} s{note}")

    def line(self, text: str) -> None:
        """A progress line inside the current stage."""
        self.echo(f"    {text}")

    @property
    def total(self) -> float:
        """Wall time of all stages."""
        return sum(s.seconds for s in self.stages)
