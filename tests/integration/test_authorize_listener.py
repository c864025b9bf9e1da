"""The redirect listener: 127.0.0.1 only, 404 elsewhere, one answer only, state checked."""

from __future__ import annotations

import queue
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from oauth_helper.errors import UsageError
from oauth_helper.flows.events import Event
from oauth_helper.flows.loopback import Listener

STATE = "expected-state-123"


@pytest.fixture
def listener() -> Iterator[Listener]:
    inbox: queue.Queue[Event] = queue.Queue()
    with Listener(inbox) as lst:
        lst.state = STATE
        yield lst


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}:{port}{path}", timeout=5) as reply:
            return int(reply.status), reply.read().decode()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read().decode()


def refused(family: int, address: tuple[str, int]) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(address)
        except OSError:
            return True
    return False


def other_local_addresses() -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = [(socket.AF_INET, "127.0.0.2")]
    if socket.has_ipv6:
        found.append((socket.AF_INET6, "::1"))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            address = s.getsockname()[0]
        if not address.startswith("127."):
            found.append((socket.AF_INET, address))
    except OSError:
        pass
    return found


def test_bound_to_127_0_0_1_only(listener: Listener) -> None:
    assert listener.addresses == ["127.0.0.1"]
    for family, address in other_local_addresses():
        try:
            ok = refused(family, (address, listener.port))
        except OSError:  # that address family is not usable here at all
            continue
        assert ok, f"the listener answered on {address}"
    assert get(listener.port, "/nothing")[0] == 404  # but it is there on 127.0.0.1


def test_other_paths_404_and_it_keeps_waiting(listener: Listener) -> None:
    for path in ("/favicon.ico", "/callback?code=abc&state=" + STATE, "/../etc/passwd"):
        assert get(listener.port, path)[0] == 404
    assert listener.inbox.empty()
    status, page = get(listener.port, f"/?code=the-code&state={STATE}")
    assert status == 200 and "Signed in" in page and "the-code" not in page
    event = listener.inbox.get_nowait()
    assert event.kind == "redirect" and event.callback is not None
    assert event.callback.code == "the-code"


def test_wrong_or_missing_state_is_refused_and_it_keeps_waiting(listener: Listener) -> None:
    assert get(listener.port, "/?code=evil&state=other")[0] == 400
    assert get(listener.port, "/?code=evil")[0] == 400
    assert get(listener.port, "/?error=access_denied")[0] == 400  # a drive-by cannot abort it
    assert get(listener.port, "/?state=" + STATE)[0] == 400  # neither code nor error
    assert listener.inbox.empty()
    assert get(listener.port, f"/?code=good&state={STATE}")[0] == 200
    assert listener.inbox.qsize() == 1


def test_one_code_only(listener: Listener) -> None:
    assert get(listener.port, f"/?code=first&state={STATE}")[0] == 200
    status, page = get(listener.port, f"/?code=second&state={STATE}")
    assert status == 409 and "already" in page
    assert listener.inbox.qsize() == 1
    event = listener.inbox.get_nowait()
    assert event.callback is not None and event.callback.code == "first"


def test_error_callback_gets_a_failure_page(listener: Listener) -> None:
    status, page = get(listener.port, f"/?error=access_denied&state={STATE}")
    assert status == 200 and "failed" in page and "access_denied" in page
    event = listener.inbox.get_nowait()
    assert event.callback is not None and event.callback.error == "access_denied"


def test_methods_other_than_get_are_refused(listener: Listener) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{listener.port}/?code=x&state={STATE}", data=b"", method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=5)
    assert caught.value.code == 405
    assert listener.inbox.empty()


def test_idle_connection_does_not_block_the_listener(listener: Listener) -> None:
    # Browsers open speculative connections and send nothing on them.
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5):
        assert get(listener.port, f"/?code=c&state={STATE}")[0] == 200


def test_fixed_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port}"):
            Listener(queue.Queue(), port=port).start()


def test_fixed_port_is_used() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Listener(queue.Queue(), port=port) as lst:
        assert lst.port == port


def test_closed_listener_answers_nothing() -> None:
    lst = Listener(queue.Queue()).start()
    port = lst.port
    lst.close()
    assert refused(socket.AF_INET, ("127.0.0.1", port))
