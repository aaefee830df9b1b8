"""Session files are checked and completed as documented; rejects of our messages are traced to their orders."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from allocator.errors import ConfigError
from allocator.orders.fix_message import Reply
from allocator.orders.fix_session import QueryFailed, SessionState, read_session_file, reply_to_reject


def session_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "broker.cfg"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_relative_paths_resolve_against_the_file_and_defaults_fill_in(tmp_path: Path) -> None:
    path = session_file(tmp_path, "# broker UAT\n[DEFAULT]\nSocketConnectHost=10.0.0.5\nSocketConnectPort=9878\n"
                                  "FileStorePath=store\nFileLogPath=/var/log/fix\nUseDataDictionary=N\n\n[SESSION]\n"
                                  "BeginString=FIX.4.4\nSenderCompID=DESK\nTargetCompID=GS\nHeartBtInt=20\n")
    parsed = read_session_file(path)
    assert parsed.name == "FIX.4.4:DESK->GS" and parsed.address == "10.0.0.5:9878"
    assert parsed.get("FileStorePath") == str(tmp_path / "conf" / "store")
    assert parsed.get("FileLogPath") == "/var/log/fix"
    assert (parsed.get("StartTime"), parsed.get("EndTime"), parsed.get("HeartBtInt")) == ("00:00:00", "00:00:00",
                                                                                          "20")
    assert parsed.get("DataDictionary") is None  # UseDataDictionary=N: none filled in
    assert "SenderCompID" not in parsed.defaults and parsed.defaults["FileStorePath"].endswith("store")


@pytest.mark.parametrize(("text", "message"), [
    ("SocketConnectPort=1\n", ":1: a setting before any [DEFAULT] or [SESSION] section"),
    ("[SESSIONS]\n", ":1: unknown section [SESSIONS]; use [DEFAULT] or [SESSION]"),
    ("[SESSION]\nnonsense\n", ":2: expected Key=Value, got 'nonsense'; fix the line"),
    ("[DEFAULT]\nSocketConnectPort=1\n", ": defines 0 [SESSION] sections; allocate send uses exactly one"),
])
def test_malformed_session_files_are_refused_with_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = session_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_session_file(path)
    assert caught.value.message().startswith(f"{path}{message}")


def test_missing_keys_are_listed_together(tmp_path: Path) -> None:
    path = session_file(tmp_path, "[SESSION]\nBeginString=FIX.4.4\n")
    with pytest.raises(ConfigError) as caught:
        read_session_file(path)
    assert caught.value.details == ["SenderCompID: missing", "TargetCompID: missing", "SocketConnectHost: missing",
                                    "SocketConnectPort: missing"]
    with pytest.raises(ConfigError, match="session file not found"):
        read_session_file(tmp_path / "absent.cfg")


def test_rejects_are_traced_to_the_order_they_refuse() -> None:
    shared = SessionState(inbox=queue.Queue())
    shared.sent.update({7: ("D", "AL-SPY"), 8: ("H", "AL-IWM")})
    session_reject = reply_to_reject(shared, {35: "3", 45: "7", 58: "Value is incorrect (out of range) for this tag",
                                      373: "5"}, business=False)
    assert session_reject == Reply(client_order_id="AL-SPY", exec_id=None, status="REJECTED",
                                   text="session reject: Value is incorrect (out of range) for this tag (reason 5)")
    refused_query = reply_to_reject(shared, {35: "j", 45: "8", 372: "H", 380: "3", 58: "unsupported"}, business=True)
    assert refused_query == QueryFailed("AL-IWM", "business reject: unsupported (reason 3)")
    by_reference = reply_to_reject(shared, {35: "j", 45: "99", 372: "D", 379: "AL-QQQ", 380: "2", 58: "no"},
                                   business=True)
    assert isinstance(by_reference, Reply) and by_reference.client_order_id == "AL-QQQ"
    assert reply_to_reject(shared, {35: "3", 45: "99"}, business=False) is None  # not one of ours: ignored
