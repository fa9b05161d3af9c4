"""The kernel end of the side panel: the 'cnnlive' comm target.

Every message from the panel is validated against the protocol; only the
known actions on known job ids are carried out, and anything else gets an
error reply and changes nothing. Nothing from a message is evaluated or used
as a path.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from .._version import __version__
from ..jobs import JobManager, JobRunningError, JobStateError, UnknownJobError
from ..protocol import PROTOCOL_VERSION, ProtocolError, check_limits, validate
from ..views.panel_transport import PanelTransport
from . import panel_queries
from .compat import keep_replies_on_panel_subshell, kernel_has_subshells

TARGET = "cnnlive"
#: The longest reply text (an error names what is wrong, it does not repeat the message).
MAX_REPLY_CHARS = 1000
log = logging.getLogger("cnnlive")


class PanelBridge:
    """Keeps the open panel comms and answers their requests."""

    def __init__(self, manager: JobManager, rate_hz: float = 10.0) -> None:
        self.manager = manager
        self._comms: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.transport = PanelTransport(manager, self.broadcast, rate_hz=rate_hz)
        self._registered = False

    # -- comm plumbing -----------------------------------------------------
    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "protocol": PROTOCOL_VERSION, "version": __version__,
                "pid": os.getpid(), "subshells": kernel_has_subshells()}

    def register(self) -> None:
        """Register the comm target (panel-initiated connections)."""
        from comm import get_comm_manager

        get_comm_manager().register_target(TARGET, self._on_open)
        self._registered = True
        self.transport.start()

    def announce(self) -> None:
        """Open a comm from the kernel so an already open panel connects now."""
        from comm import create_comm

        try:
            comm = create_comm(target_name=TARGET, data=self.hello())
        except Exception:  # noqa: BLE001 - no frontend (plain IPython)
            log.debug("no front end to announce the panel to", exc_info=True)
            return
        self._adopt(comm)

    def _on_open(self, comm: Any, open_msg: dict) -> None:
        data = open_msg.get("content", {}).get("data", {})
        self._adopt(comm)
        try:
            validate(data)
        except ProtocolError as exc:
            comm.send(self._reply(None, False, str(exc)))
            return
        comm.send(self.hello())

    def _adopt(self, comm: Any) -> None:
        keep_replies_on_panel_subshell(comm)  # Stop/Cancel act while a cell runs (ipykernel 7)
        with self._lock:
            self._comms[comm.comm_id] = comm
        comm.on_msg(lambda msg, c=comm: self._on_msg(c, msg))
        comm.on_close(lambda msg, c=comm: self._forget(c))
        self.transport.send_snapshot(comm.send)

    def _forget(self, comm: Any) -> None:
        with self._lock:
            self._comms.pop(comm.comm_id, None)

    def broadcast(self, msg: dict, buffers: list) -> None:
        with self._lock:
            comms = list(self._comms.values())
        for comm in comms:
            try:
                comm.send(msg, buffers=buffers or None)
            except Exception:  # noqa: BLE001 - a closed comm must not stop others
                log.warning("cnnlive panel: sending to comm %s failed; dropping it", comm.comm_id, exc_info=True)
                self._forget(comm)

    def _on_msg(self, comm: Any, msg: dict) -> None:
        data = msg.get("content", {}).get("data")
        if isinstance(data, dict) and data.get("action") == "snapshot":
            with self.transport.lock:  # no older card may follow this snapshot
                comm.send(self.handle(data))
            return
        answer, buffers = self.respond(data)
        comm.send(answer, buffers=buffers or None)

    def final_update(self) -> None:
        """Send every job's current card now (kernel shutdown: final states)."""
        try:
            self.transport.pump(now=time.monotonic() + self.transport.min_interval)
        except Exception:  # noqa: BLE001 - shutting down: report, never hang
            log.warning("cnnlive panel: the final update failed", exc_info=True)

    def close(self) -> None:
        self.transport.close()
        with self._lock:
            comms, self._comms = list(self._comms.values()), {}
        for comm in comms:
            try:
                comm.close()
            except Exception:  # noqa: BLE001 - already closed by the front end
                log.debug("closing panel comm failed", exc_info=True)
        if self._registered:
            try:
                from comm import get_comm_manager

                get_comm_manager().unregister_target(TARGET, self._on_open)
            except Exception:  # noqa: BLE001 - the comm manager is gone (kernel shutting down)
                log.debug("unregistering the panel's comm target failed", exc_info=True)
            self._registered = False

    # -- requests ----------------------------------------------------------------
    @staticmethod
    def _reply(request_id: Any, ok: bool, message: str) -> dict[str, Any]:
        rid = request_id if isinstance(request_id, str) and len(request_id) <= 64 else None
        if len(message) > MAX_REPLY_CHARS:  # one short error: never the message's content in bulk
            message = message[: MAX_REPLY_CHARS - 1] + "…"
        return {"type": "reply", "request_id": rid, "ok": ok, "message": message}

    def handle(self, data: Any) -> dict[str, Any]:
        """Answer one panel message; never raises."""
        return self.respond(data)[0]

    def respond(self, data: Any) -> tuple[dict[str, Any], list[bytes]]:
        """Answer one panel message and the answer's buffers (a snapshot's
        PNG for ``frame``); never raises."""
        rid = data.get("request_id") if isinstance(data, dict) else None
        try:
            check_limits(data)  # cheap and bounded: a huge or deep message goes no further
        except ProtocolError as exc:
            return self._reply(rid, False, str(exc)), []
        try:
            validate(data, limits=False)  # held to the limits just above
        except ProtocolError as exc:
            query = isinstance(data, dict) and data.get("type") == "request" and \
                data.get("action") in ("runs", "compare", "frame")
            return self._reply(rid, False, (query and panel_queries.explain_request(data)) or str(exc)), []
        if data["type"] == "request" and data["action"] in ("runs", "compare", "frame"):
            return self._query(data)
        return self._act(data), []

    def _query(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """The read-only requests: saved runs, their histories, a snapshot."""
        rid, action = data["request_id"], data["action"]
        try:
            if action == "frame":
                return panel_queries.frame_message(self.manager.get(data["job_id"]), data["index"], rid)
            folder = panel_queries.runs_folder(self.manager)
            if action == "runs":
                return panel_queries.runs_message(folder, rid), []
            return panel_queries.compare_message(folder, data["runs"], rid), []
        except (UnknownJobError, LookupError, ValueError, OSError) as exc:
            return self._reply(rid, False, exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)), []
        except Exception as exc:  # noqa: BLE001 - the panel must get a reply (its slider waits for one)
            log.exception("cnnlive: answering the panel's %s request failed", action)
            what = {"frame": f"snapshot {data.get('index')} of job {data.get('job_id')}",
                    "runs": "the runs list", "compare": "the comparison"}[action]
            return self._reply(rid, False, f"could not send {what}: {type(exc).__name__}: {exc}"), []

    def _act(self, data: dict[str, Any]) -> dict[str, Any]:
        rid = data.get("request_id")
        if data["type"] == "hello":
            if data["protocol"] != PROTOCOL_VERSION:
                return self._reply(None, False, f"protocol mismatch: panel speaks {data['protocol']}, "
                                                f"kernel speaks {PROTOCOL_VERSION}")
            return self.hello()
        action = data["action"]
        if action == "snapshot":
            return self.transport.snapshot()
        try:
            job = self.manager.get(data["job_id"])
            if action == "remove":
                self.manager.remove(job)
                message = f"job {job.id} removed"
            elif action == "adjust":
                message = job.adjust(learning_rate=data.get("learning_rate"), epochs=data.get("epochs"))
            elif action == "stop" and data.get("after"):
                message = job.stop(after=data["after"])
            else:  # stop, cancel, pause, resume (the schema allows no other)
                message = getattr(job, action)()
        except (UnknownJobError, JobRunningError, JobStateError, ValueError) as exc:
            return self._reply(rid, False, str(exc))
        self.transport.wake()
        return self._reply(rid, True, message)
