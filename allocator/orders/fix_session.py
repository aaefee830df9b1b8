"""A FIX 4.4 initiator session on QuickFIX for ``allocate send`` (the optional ``allocate[fix]`` extra).

The session file is QuickFIX's own format (``[DEFAULT]`` and one ``[SESSION]`` of ``Key=Value`` lines; see the
QuickFIX configuration reference). ``allocate`` reads it, checks it describes one FIX.4.4 initiator, resolves
relative paths (``FileStorePath``, ``FileLogPath``, ``DataDictionary`` ...) against the file's folder, and fills
in what a broker session rarely changes: ``StartTime``/``EndTime`` 00:00:00 (a 24-hour session), ``HeartBtInt``
30 and, unless ``UseDataDictionary=N``, the FIX 4.4 data dictionary shipped with QuickFIX. Without
``FileStorePath`` sequence numbers live in memory (fine for a test gateway; a broker needs a store).

Replies arrive on QuickFIX's thread and are handed over, parsed into ``Reply`` (or ``QueryFailed``), on a queue:
the journal is written by the caller's thread only. Messages QuickFIX would re-send from its store on a
ResendRequest (PossDupFlag=Y) are suppressed when they are orders or status requests: whether an order is sent
again is the journal's decision, never the engine's, so a stale order cannot go out twice.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from allocator.errors import ConfigError, OrderError
from allocator.files.reading import read_text
from allocator.orders.fix_message import REJECTED, SOH, FixFormatError, Reply, decode, execution_report_reply, field_map

PATH_KEYS = ("FileStorePath", "FileLogPath", "DataDictionary", "TransportDataDictionary", "AppDataDictionary",
             "CertificateFile", "PrivateKeyFile", "CertificationAuthoritiesFile", "CertificationAuthoritiesDirectory")
SESSION_ID_KEYS = ("BeginString", "SenderCompID", "TargetCompID", "SessionQualifier")
REQUIRED_KEYS = ("BeginString", "SenderCompID", "TargetCompID", "SocketConnectHost", "SocketConnectPort")
DEFAULTS = {"StartTime": "00:00:00", "EndTime": "00:00:00", "HeartBtInt": "30", "ReconnectInterval": "5"}
MAX_SESSION_FILE_BYTES = 1_048_576
LOGOUT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class QueryFailed:
    """The broker refused a status request for ``client_order_id`` (it does not support them, or the request was
    malformed): the order stays in doubt."""

    client_order_id: str
    text: str


@dataclass(frozen=True)
class SessionFile:
    """A validated QuickFIX session file for one FIX.4.4 initiator, paths made absolute."""

    path: Path
    defaults: dict[str, str]
    session: dict[str, str]

    def get(self, key: str) -> str | None:
        return self.session.get(key, self.defaults.get(key))

    @property
    def name(self) -> str:
        return f"{self.get('BeginString')}:{self.get('SenderCompID')}->{self.get('TargetCompID')}"

    @property
    def address(self) -> str:
        return f"{self.get('SocketConnectHost')}:{self.get('SocketConnectPort')}"


def fix44_dictionary() -> Path:
    """The FIX 4.4 data dictionary (FIX44.xml) installed with the ``quickfix`` package."""
    try:
        dist = metadata.distribution("quickfix")
        for file in dist.files or []:
            if file.name == "FIX44.xml":
                located = Path(str(dist.locate_file(file))).resolve()
                if located.is_file():
                    return located
    except metadata.PackageNotFoundError:
        pass
    fallback = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    if fallback.is_file():
        return fallback
    raise ConfigError("DataDictionary", "the FIX 4.4 data dictionary of the quickfix package was not found",
                      "set DataDictionary=/path/to/FIX44.xml in the session file, or install allocate[fix]")


def read_session_file(path: Path) -> SessionFile:
    """Parse and check a QuickFIX session file (``ConfigError`` naming the line or key on any problem)."""
    where = str(path)
    if not path.is_file():
        raise ConfigError(where, "session file not found", "check the --fix-config path")
    text = read_text(path, MAX_SESSION_FILE_BYTES, "session file", error=ConfigError, expected="QuickFIX settings",
                     too_large_fix="check that this is a QuickFIX session file")
    sections: list[tuple[str, dict[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().upper()
            if name not in ("DEFAULT", "SESSION"):
                raise ConfigError(f"{where}:{number}", f"unknown section [{line[1:-1]}]", "use [DEFAULT] or [SESSION]")
            sections.append((name, {}))
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{where}:{number}", f"expected Key=Value, got {line!r}", "fix the line")
        if not sections:
            raise ConfigError(f"{where}:{number}", "a setting before any [DEFAULT] or [SESSION] section",
                              "start the file with [DEFAULT] or [SESSION]")
        sections[-1][1][key.strip()] = value.strip()
    defaults: dict[str, str] = {}
    sessions = []
    for name, values in sections:
        if name == "DEFAULT":
            defaults.update(values)
        else:
            sessions.append(values)
    if len(sessions) != 1:
        raise ConfigError(where, f"defines {len(sessions)} [SESSION] sections; allocate send uses exactly one",
                          "keep the broker's order session only")
    session = sessions[0]
    merged = {**DEFAULTS, **defaults, **session}
    problems = [f"{key}: missing" for key in REQUIRED_KEYS if not merged.get(key)]
    if merged.get("BeginString", "FIX.4.4") != "FIX.4.4":
        problems.append(f"BeginString: {merged['BeginString']!r}; allocate sends FIX.4.4 orders")
    if merged.get("ConnectionType", "initiator") != "initiator":
        problems.append(f"ConnectionType: {merged['ConnectionType']!r}; allocate send connects as the initiator")
    if not merged.get("SocketConnectPort", "0").isdigit():
        problems.append(f"SocketConnectPort: {merged['SocketConnectPort']!r} is not a port number")
    if problems:
        raise ConfigError(where, "not a usable FIX 4.4 initiator session", "fix the keys below", details=problems)
    merged["ConnectionType"] = "initiator"
    for key in PATH_KEYS:
        if merged.get(key) and not os.path.isabs(merged[key]):
            merged[key] = os.path.normpath(path.parent / merged[key])
    if merged.get("UseDataDictionary", "Y").upper() not in ("N", "NO") and not merged.get("DataDictionary"):
        merged["DataDictionary"] = str(fix44_dictionary())
    shared = {k: v for k, v in merged.items() if k not in SESSION_ID_KEYS}  # QuickFIX's logs read the defaults
    return SessionFile(path=path, defaults=shared, session=merged)


@dataclass
class SessionState:
    """State shared between the caller's thread and QuickFIX's."""

    inbox: queue.Queue[Reply | QueryFailed]
    logged_on: threading.Event = field(default_factory=threading.Event)
    logged_out: threading.Event = field(default_factory=threading.Event)
    session_id: Any = None
    logout_text: str | None = None
    sent: dict[int, tuple[str, str]] = field(default_factory=dict)  # MsgSeqNum -> (MsgType, ClOrdID)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _parse(message: Any) -> list[tuple[int, str]]:
    try:
        return decode(message.toString(), SOH)
    except FixFormatError:
        return []


def reply_to_reject(shared: SessionState, found: dict[int, str], business: bool) -> Reply | QueryFailed | None:
    """A session Reject (35=3) or BusinessMessageReject (35=j) of one of our messages, by the order it names."""
    ref_seq = int(found[45]) if found.get(45, "").isdigit() else None
    with shared.lock:
        msg_type, client_order_id = shared.sent.get(ref_seq, ("", "")) if ref_seq is not None else ("", "")
    msg_type = found.get(372, msg_type)
    client_order_id = (found.get(379) if business else None) or client_order_id
    if not client_order_id:
        return None
    kind = "business reject" if business else "session reject"
    text = f"{kind}: {found.get(58, 'no text')} (reason {found.get(380 if business else 373, '?')})"
    if msg_type == "H":
        return QueryFailed(client_order_id, text)
    return Reply(client_order_id=client_order_id, exec_id=None, status=REJECTED, text=text)


def _application(shared: SessionState) -> Any:
    import quickfix as fix

    class Application(fix.Application):  # type: ignore[misc]
        def onCreate(self, session_id: Any) -> None:
            shared.session_id = session_id

        def onLogon(self, session_id: Any) -> None:
            shared.logged_on.set()

        def onLogout(self, session_id: Any) -> None:
            shared.logged_on.clear()
            shared.logged_out.set()

        def toAdmin(self, message: Any, session_id: Any) -> None:
            return None

        def fromAdmin(self, message: Any, session_id: Any) -> None:
            found = field_map(_parse(message))
            if found.get(35) == "5" and found.get(58):
                shared.logout_text = found[58]
            elif found.get(35) == "3":
                item = reply_to_reject(shared, found, business=False)
                if item is not None:
                    shared.inbox.put(item)

        def toApp(self, message: Any, session_id: Any) -> None:
            found = field_map(_parse(message))
            if found.get(43) == "Y" and found.get(35) in ("D", "H"):
                raise fix.DoNotSend()
            if found.get(34, "").isdigit():
                with shared.lock:
                    shared.sent[int(found[34])] = (found.get(35, ""), found.get(11, ""))

        def fromApp(self, message: Any, session_id: Any) -> None:
            fields = _parse(message)
            found = field_map(fields)
            item: Reply | QueryFailed | None = None
            if found.get(35) == "8":
                item = execution_report_reply(fields)
            elif found.get(35) == "j":
                item = reply_to_reject(shared, found, business=True)
            if item is not None:
                shared.inbox.put(item)

    return Application()


def import_quickfix() -> Any:
    """``quickfix``, keeping Python's Ctrl-C handling (its module init resets SIGINT to the default action, which
    would kill the process mid-send instead of letting it log out cleanly)."""
    handler = signal.getsignal(signal.SIGINT)
    try:
        import quickfix
    except ImportError:
        raise OrderError("allocate send", "the quickfix package is not installed",
                         "install the FIX extra: pip install 'allocate[fix]'") from None
    if threading.current_thread() is threading.main_thread() and handler is not None:
        signal.signal(signal.SIGINT, handler)
    return quickfix


class FixSession:
    """A logged-on QuickFIX initiator; ``send`` hands messages to the engine, replies arrive on ``inbox``."""

    def __init__(self, session_file: SessionFile) -> None:
        self.file = session_file
        self.inbox: queue.Queue[Reply | QueryFailed] = queue.Queue()
        self._shared = SessionState(inbox=self.inbox)
        self._initiator: Any = None

    def start(self, logon_timeout_seconds: float) -> None:
        """Connect and log on; ``OrderError`` if that does not happen within the timeout."""
        fix = import_quickfix()
        settings = fix.SessionSettings()
        defaults = fix.Dictionary()
        for key, value in self.file.defaults.items():
            defaults.setString(key, value)
        settings.set(defaults)
        values = fix.Dictionary()
        for key, value in self.file.session.items():
            values.setString(key, value)
        qualifier = self.file.session.get("SessionQualifier", "")
        session_id = fix.SessionID(self.file.get("BeginString"), self.file.get("SenderCompID"),
                                   self.file.get("TargetCompID"), qualifier)
        where = str(self.file.path)
        try:
            settings.set(session_id, values)
            store = (fix.FileStoreFactory(settings) if self.file.get("FileStorePath")
                     else fix.MemoryStoreFactory())
            application = _application(self._shared)
            logs = [fix.FileLogFactory(settings)] if self.file.get("FileLogPath") else []
            self._initiator = fix.ThreadedSocketInitiator(application, store, settings, *logs)
            self._application = application  # QuickFIX keeps a raw pointer: keep the object alive
            self._initiator.start()
        except fix.ConfigError as exc:
            raise ConfigError(where, f"QuickFIX refused the session settings: {exc}", "fix the session file") from None
        except (fix.RuntimeError, fix.IOException, RuntimeError) as exc:
            raise OrderError(where, f"QuickFIX could not start the session: {exc}",
                             "check the session file's paths and permissions") from None
        if not self._shared.logged_on.wait(logon_timeout_seconds):
            reason = self._shared.logout_text
            self.stop()
            raise OrderError(f"{where}: {self.file.name}",
                             f"could not log on to {self.file.address} within {logon_timeout_seconds:g} s"
                             + (f" (the broker said: {reason})" if reason else ""),
                             "check the host, port and CompIDs with the broker, and that the gateway is up; "
                             "no order was sent")

    @property
    def logged_on(self) -> bool:
        return self._shared.logged_on.is_set()

    def wait_logged_on(self, timeout_seconds: float) -> bool:
        return self._shared.logged_on.wait(timeout_seconds)

    def send(self, msg_type: str, body: Sequence[tuple[int, str]], poss_resend: bool = False) -> bool:
        """Hand one application message to the engine; False if the session is not there to take it."""
        import quickfix as fix

        message = fix.Message()
        header = message.getHeader()
        header.setField(35, msg_type)
        if poss_resend:
            header.setField(97, "Y")
        for tag, value in body:
            message.setField(tag, value)
        return bool(fix.Session.sendToTarget(message, self._shared.session_id))

    def stop(self) -> None:
        """Log out (waiting briefly for the broker's Logout reply) and disconnect."""
        if self._initiator is None:
            return
        import quickfix as fix

        if self.logged_on:
            session = fix.Session.lookupSession(self._shared.session_id)
            if session is not None:
                self._shared.logged_out.clear()
                session.logout("allocate send finished")
                self._shared.logged_out.wait(LOGOUT_WAIT_SECONDS)
        self._initiator.stop(True)  # already logged out: skip QuickFIX's one-second logout polling
        self._initiator = None
