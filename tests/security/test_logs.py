"""What a real craton-api writes to its log: request ids on every line, and never a secret.

The server runs as a subprocess (two workers, debug level, access log on) against PostgreSQL
with a password in its database URL. The test drives good and failed authentications, user
creation and key rotation (the only responses that carry keys), hostile headers and bodies,
then reads everything the processes printed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from benchmarks.load import ServerProcess, bootstrap_credentials
from tests.conftest import throwaway_database

PASSWORD = "Db-Pa55word-never-logged"
ACCESS_MESSAGE = re.compile(
    r"^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) (/\S*) (\d{3}) \d+\.\dms user=(\S+) project=(\S+)$"
)
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\w+) ([\w.]+) \[(req-[0-9a-f-]{36}|-)\] (.*)$")


def records(output: str, fmt: str) -> list[dict[str, str]]:
    """Craton's own log records (uvicorn's start-up lines are not Craton's): logger, request id, message."""
    found = []
    for line in output.splitlines():
        if fmt == "json":
            if line.startswith("{"):
                entry = json.loads(line)
                found.append(
                    {
                        "logger": entry["logger"],
                        "request_id": entry["request_id"],
                        "message": entry["message"],
                        "level": entry["level"],
                    }
                )
        elif match := TEXT_LINE.match(line):
            found.append(
                {
                    "level": match.group(1),
                    "logger": match.group(2),
                    "request_id": match.group(3),
                    "message": match.group(4),
                }
            )
    return found


@pytest.fixture(scope="module", params=["text", "json"])
def logged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    fmt = request.param
    tmp = tmp_path_factory.mktemp("logs")
    with throwaway_database("postgresql", tmp) as url:
        # PostgreSQL on the test machines trusts loopback, so the password is carried but unused:
        # exactly what must not leak into the log.
        with_password = sa.engine.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
        headers = bootstrap_credentials(url)
        server = ServerProcess(
            with_password,
            workers=2,
            log_path=tmp / "api.log",
            env={"CRATON_LOG_LEVEL": "debug", "CRATON_ACCESS_LOG": "true", "CRATON_LOG_FORMAT": fmt},
        )
        with server:
            secrets, responses = _drive(server, headers)
        yield {"output": server.output(), "secrets": secrets, "responses": responses, "headers": headers, "format": fmt}


def _drive(server: ServerProcess, root: dict[str, str]) -> tuple[set[str], list[httpx.Response]]:
    secrets = {root["X-Auth-Token"], PASSWORD}
    responses: list[httpx.Response] = []
    with httpx.Client(base_url=server.url, headers=root, timeout=30) as client:
        project = client.post("/v1/projects", json={"name": "logs"}).json()["id"]
        responses.append(client.post("/v1/users", json={"username": "svc", "project_id": project, "is_admin": True}))
        user = responses[-1].json()
        secrets.add(user["api_key"])
        user_headers = {"X-Auth-Project": project, "X-Auth-User": "svc", "X-Auth-Token": user["api_key"]}
        responses.append(client.post(f"/v1/users/{user['id']}/api-key", params={"grace_seconds": 60}))
        secrets.add(responses[-1].json()["api_key"])
        responses.append(client.post(f"/v1/users/{user['id']}/api-key"))
        secrets.add(responses[-1].json()["api_key"])
        wrong = "wrong-token-" + "x" * 20
        secrets.add(wrong)
        for headers in (
            user_headers,  # rotated away: a failed authentication with a real former key
            {**root, "X-Auth-Token": wrong},
            {**root, "X-Auth-User": "nobody"},
            {"X-Auth-Project": "not-a-uuid", "X-Auth-User": "x", "X-Auth-Token": wrong},
        ):
            responses.append(httpx.get(f"{server.url}/v1/clouds", headers=headers, timeout=30))
        responses.append(client.get("/v1/clouds", params={"X-Auth-Token": root["X-Auth-Token"]}))  # 400, in a URL
        responses.append(client.get("/v1/clouds/999999"))
        responses.append(client.post("/v1/clouds", content=b"{not json", headers={"content-type": "application/json"}))
        responses.append(client.put(f"/v1/projects/{project}/variables", json={"password": "variable-secret-value"}))
        secrets.add("variable-secret-value")
        responses.append(client.get("/healthz"))
        for path in FORGING_PATHS:  # unauthenticated, as an attacker would
            responses.append(httpx.get(server.url + path, timeout=30))
            responses.append(client.get(path, params={"q": "x\n" + FORGED}))
    _hang_up_mid_body(server, root)
    return secrets, responses


def _hang_up_mid_body(server: ServerProcess, headers: dict[str, str]) -> None:
    """A client that promises 100 bytes, sends 9 and closes the connection."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw = (
        f"POST /v1/clouds HTTP/1.1\r\nHost: x\r\n{head}Content-Type: application/json\r\n"
        f'Content-Length: 100\r\n\r\n{{"name":'
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        try:
            sock.recv(100)
        except OSError:
            pass
    httpx.get(f"{server.url}/healthz", timeout=10)  # let the server finish with it


FORGED = "2026-12-03 06:00:00,000 INFO craton.access [req-00000000-0000-0000-0000-000000000000] FORGED LINE"
FORGING_PATHS = (
    "/v1/x%0a" + FORGED.replace(" ", "%20"),
    "/v1/x%0d%0a" + FORGED.replace(" ", "%20"),
    "/v1/x%e2%80%a8" + FORGED.replace(" ", "%20"),  # U+2028, a line break to some log viewers
    "/v1/x%1b%5b2J%1b%5bH" + "FORGED",  # terminal escapes: clear the screen
    "/v1/x%22,%22level%22:%22ERROR%22,%22message%22:%22FORGED",  # breaking out of a JSON string
)


def test_a_request_cannot_forge_a_log_line(logged: dict[str, Any]) -> None:
    """Percent-encoded line breaks, escapes and quotes in a path stay inside their own access line
    (issue #19, item 12): every line that mentions FORGED is one real record of craton.access."""
    output = logged["output"]
    assert "\x1b" not in output and "\u2028" not in output and "\r" not in output
    forged_lines = [line for line in output.splitlines() if "FORGED" in line]
    assert len(forged_lines) == 2 * len(FORGING_PATHS), forged_lines
    for line in forged_lines:
        assert not line.startswith("2026-12-03 06:00:00,000"), line
        if logged["format"] == "json":
            entry = json.loads(line)
            assert entry["logger"] == "craton.access" and entry["level"] == "INFO", line
            assert entry["request_id"].startswith("req-") and "FORGED" in entry["message"], line
        else:
            match = TEXT_LINE.match(line)
            assert match and match.group(2) == "craton.access" and match.group(3).startswith("req-"), line
            assert ACCESS_MESSAGE.match(match.group(4)), line


def test_no_key_token_or_password_is_ever_logged(logged: dict[str, Any]) -> None:
    output = logged["output"]
    assert "craton.access" in output, output[-2000:]
    for secret in logged["secrets"]:
        assert secret not in output, f"a secret ({secret[:6]}...) is in the log"


def test_every_request_has_one_access_line_with_its_request_id(logged: dict[str, Any]) -> None:
    found = records(logged["output"], logged["format"])
    access = [record for record in found if record["logger"] == "craton.access"]
    assert access, logged["output"][-2000:]
    parsed: dict[str, Any] = {}
    for record in access:
        match = ACCESS_MESSAGE.match(record["message"])
        assert match, f"not an access line: {record}"
        assert record["request_id"] not in parsed, f"two access lines for {record['request_id']}"
        parsed[record["request_id"]] = match
    for response in logged["responses"]:
        request_id = response.headers["x-openstack-request-id"]
        match = parsed.get(request_id)
        assert match is not None, f"{request_id} ({response.request.method} {response.request.url}) not logged"
        assert match.group(1) == response.request.method
        sent_path = response.request.url.raw_path.split(b"?")[0].decode()
        assert match.group(2) == sent_path, "the path is logged as sent, without its query string"
        assert int(match.group(3)) == response.status_code
        if response.status_code == 401:
            assert match.group(4) == "-" and match.group(5) == "-", "an unauthenticated caller is logged as nobody"
    assert any(match.group(5) == logged["headers"]["X-Auth-Project"] for match in parsed.values())


def test_every_craton_log_line_carries_a_request_id_field(logged: dict[str, Any]) -> None:
    """Lines written while serving a request name it; others (start-up, shutdown) say '-'."""
    found = records(logged["output"], logged["format"])
    assert found and all(r["request_id"] == "-" or r["request_id"].startswith("req-") for r in found)
    if logged["format"] == "json":
        craton_lines = [line for line in logged["output"].splitlines() if '"logger": "craton' in line]
        assert all(line.startswith("{") for line in craton_lines)


def test_a_client_that_hangs_up_mid_body_is_not_a_server_error(logged: dict[str, Any]) -> None:
    """A disconnect is the client's doing: no traceback, no 500 in the log. (Was part of .bugs/security.md #5.)"""
    output = logged["output"]
    assert "Traceback" not in output, output[output.find("Traceback") - 300 :][:1500]
    assert not re.search(r"POST /v1/clouds 500 ", output)
