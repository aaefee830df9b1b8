"""The batch's progress bar on stderr: accounts done of the total, failed and in band, elapsed time and ETA."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from allocator.batch.account_run import AccountOutcome, Status


class BatchProgress:
    """A rich progress bar fed by ``run_batch`` (``start`` once, ``advance`` per chunk); silent when disabled."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None
        self.failed = 0
        self.in_band = 0

    def __enter__(self) -> BatchProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[states]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), console=Console(stderr=True))
            self.bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, error, trace)

    def start(self, total: int, resumed: int, engine: str) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task(f"batch ({engine})", total=total, completed=resumed,
                                          states=self._states())

    def advance(self, outcomes: Sequence[AccountOutcome]) -> None:
        self.failed += sum(o.status in (Status.INFEASIBLE, Status.ERROR) for o in outcomes)
        self.in_band += sum(o.status is Status.IN_BAND for o in outcomes)
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=len(outcomes), states=self._states())

    def _states(self) -> str:
        return f"failed {self.failed}, in band {self.in_band}"
