"""Steering a running job: ``pause()``/``resume()``, ``stop(after=)`` and
``adjust(learning_rate=, epochs=)`` (the requests; :mod:`cnnlive.jobs.steering`
holds what the work reads).

``pause()`` closes a gate that the work's next safe point waits at (state
"paused"; elapsed time excludes the pause); ``resume()`` opens it.
``stop()``, ``cancel()`` and ``halt()`` open the gate too, so they end a
paused job; the stop's grace starts when the stop is asked for, and the work
is already woken then, so the grace never runs out while the work waits in a
pause. ``stop(after="epoch")`` and ``adjust()`` pass requests to a training
engine.
"""

from __future__ import annotations

import time

from .state import JobState, JobStateError
from .steering import TRAINING_KINDS, check_epochs, check_learning_rate


class Steered:
    """The steering half of :class:`~cnnlive.jobs.job.Job` (a mixin: the
    job's lock, state and gate are the Job's)."""

    def _check_steerable(self, what: str) -> None:
        if self.done:
            raise JobStateError(f"job {self.id} ({self.name}) already {self._state.value}: only a running "
                                f"job can be {what}")

    def _check_training(self, what: str) -> None:
        if self.kind not in TRAINING_KINDS:
            raise JobStateError(f"{what} needs a training job (kind {' or '.join(TRAINING_KINDS)}); job "
                                f"{self.id} ({self.name}) is a {self.kind} job")

    def pause(self) -> str:
        """Pause the work at its next safe point (state "paused") until
        ``resume()``; ``stop()``/``cancel()`` end a paused job. A finished or
        stopping job raises JobStateError."""
        with self._ctl:
            self._check_steerable("paused")
            ending = self._end_request() or (self.steering.stop_after and f"stop after the {self.steering.stop_after}")
            if ending:
                raise JobStateError(f"job {self.id} ({self.name}) is ending ({ending}); it cannot be paused")
            if self._paused_since is not None:
                if self._state is JobState.PAUSED:
                    return f"job {self.id}: already paused"
                return f"job {self.id}: already pausing: the work pauses at its next safe point (resume() takes it back)"
            with self._state_lock:
                self._paused_since = time.time()
            self._gate.close()
            if self.started is not None:  # "paused" once the work rests at the gate (see _held)
                self._set_state(self._state, "pausing: the work pauses at its next safe point")
        return f"job {self.id}: paused at its next safe point"

    def _held(self) -> None:
        """(the work's thread) The work rests at the pause gate: now it is paused."""
        with self._ctl:
            if self._paused_since is not None and self._state in (JobState.RUNNING, JobState.PENDING):
                self._set_state(JobState.PAUSED, "paused: the work rests at a safe point until resume()")

    def resume(self) -> str:
        """Let a paused job go on, or take back a pause not yet reached (state
        still running, note "pausing"). A finished job raises JobStateError."""
        with self._ctl:
            self._check_steerable("resumed")
            if self._paused_since is None:
                return f"job {self.id}: not paused"
            self._unpause()
            if self._state in (JobState.PAUSED, JobState.RUNNING):  # paused, or still pausing
                self._set_state(JobState.RUNNING if self.started is not None else JobState.PENDING, "resumed")
        return f"job {self.id}: resumed"

    def _unpause(self) -> None:
        """(caller holds ``_ctl``) Count the pause and open the gate."""
        with self._state_lock:  # readers (elapsed) see the pause counted once, never twice or not at all
            if self._paused_since is not None:
                self._paused_s = self._pause_total(time.time())
                self._paused_since = None
        self._gate.open()

    def _stop_after(self, after: str) -> str:
        with self._ctl:
            if self.done:
                return f"job {self.id} already {self._state.value}: nothing to stop"
            self._check_training(f"stop(after={after!r})")
            if self._end_request():
                return f"job {self.id}: stop already requested"
            self.steering.stop_after = after
            self._unpause()
            self._set_state(JobState.STOPPING, f"stop requested at the end of the current {after}")
        return f"job {self.id}: stops at the end of the current {after}"

    def adjust(self, learning_rate: float | None = None, epochs: int | None = None) -> str:
        """Change a training job while it runs: ``learning_rate`` from the next
        batch (a schedule continues from the new value), ``epochs`` the total
        epochs of this run (never below the epochs done). Checked before
        anything changes; works while paused (applied on resume)."""
        with self._ctl:
            self._check_steerable("adjusted")
            self._check_training("adjust()")
            if learning_rate is None and epochs is None:
                raise ValueError("adjust() needs learning_rate= and/or epochs=")
            lr = None if learning_rate is None else check_learning_rate(learning_rate)
            steer = self.steering
            n = None if epochs is None else check_epochs(epochs, steer.epochs_done, steer.max_epochs)
            if lr is not None:
                steer.request_learning_rate(lr)
            if n is not None:
                steer.epochs = n
            parts = ([f"learning rate {lr:g} from the next batch"] if lr is not None else []) + (
                [f"{n} epochs in all"] if n is not None else [])
        self.channels.publish("log", f"adjusted: {', '.join(parts)}\n")
        return f"job {self.id}: " + ", ".join(parts)


__all__ = ["Steered"]
