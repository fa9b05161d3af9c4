"""Job states, the words for how a job ended, and the errors the job layer raises."""

from __future__ import annotations

from enum import Enum


class JobState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({JobState.STOPPED, JobState.CANCELLED, JobState.COMPLETED, JobState.FAILED})

#: ``job.ended_by``: how a finished job ended (``TrainingResult.ended`` uses the same words).
ENDINGS = ("completed", "stop", "stop-forced", "cancel", "halt", "error")

#: The final state each ending leads to.
STATE_OF_ENDING = {
    "completed": JobState.COMPLETED,
    "stop": JobState.STOPPED,
    "stop-forced": JobState.STOPPED,
    "cancel": JobState.CANCELLED,
    "halt": JobState.STOPPED,
    "error": JobState.FAILED,
}

#: Endings a user (or the grace timer) can ask for, weakest first.
REQUESTS = ("stop", "stop-forced", "cancel", "halt")


class UnknownJobError(KeyError):
    """Raised for a job id that the manager does not know."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


class JobStateError(RuntimeError):
    """Raised when a steering request does not fit the job's state or kind
    (pause of a finished job, adjust of a job that does not train, ...)."""


class JobRunningError(RuntimeError):
    """Raised when an action needs a finished job but the job still runs."""
