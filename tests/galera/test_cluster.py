"""Craton on a 3-node Galera cluster (deploy/galera/cluster.sh; run by ``make test-galera``).

CRATON_TEST_GALERA_NODES names the three nodes' admin URLs, comma-separated; without it
these tests are skipped. The conflicts here are real ones between real nodes, provoked at a
chosen moment: just before the API's transaction commits on one node, another node commits a
write to the same row (a certification failure, ``ER_LOCK_DEADLOCK`` at commit), or the
node's connection is killed (a connection lost mid-transaction). Either way the request must
be retried and answered as if nothing happened.

CRATON_TEST_GALERA_FAULT=1 also runs the fault test of benchmarks/galera.py at a small size:
``kill -9`` of the node HAProxy writes to, under a load of 16 clients. It kills and restarts
nodes, so it must not share the cluster with other tests running at the same time.
"""

from __future__ import annotations

import argparse
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from craton.storage.engine import is_transient
from tests.conftest import LiveServer, running_server, throwaway_database

NODES = [u.strip() for u in os.environ.get("CRATON_TEST_GALERA_NODES", "").split(",") if u.strip()]

pytestmark = pytest.mark.skipif(
    len(NODES) != 3, reason="no Galera cluster: set CRATON_TEST_GALERA_NODES (make test-galera does)"
)


def on_node(url: str, node: int) -> str:
    """``url`` (a database on the cluster) reached through node ``node`` (1-3) directly."""
    direct = sa.engine.make_url(NODES[node - 1])
    return sa.engine.make_url(url).set(host=direct.host, port=direct.port).render_as_string(hide_password=False)


def autocommit(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database("mariadb", tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="module")
def node1_server(database: str) -> Iterator[LiveServer]:
    """A craton-api whose pool connects to node 1 only."""
    with running_server("mariadb", on_node(database, 1)) as live:
        yield live


def before_next_commit(engine: sa.Engine, action: Any) -> list[int]:
    """Run ``action(connection)`` once, just before the next transaction of ``engine`` commits."""
    fired: list[int] = []

    def hook(conn: sa.Connection) -> None:
        if not fired:
            fired.append(1)
            action(conn)

    sa.event.listen(engine, "commit", hook)
    return fired


def test_the_nodes_form_one_synced_cluster() -> None:
    for url in NODES:
        with autocommit(url).connect() as conn:
            status = dict(
                conn.exec_driver_sql(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment')"
                ).all()
            )
        assert status == {"wsrep_cluster_size": "3", "wsrep_local_state_comment": "Synced"}, url


def test_a_conflicting_commit_on_another_node_is_a_transient_error(database: str) -> None:
    """The raw behaviour the API relies on: the loser of a certification conflict gets 1213 at COMMIT."""
    with autocommit(on_node(database, 1)).connect() as setup:
        setup.exec_driver_sql("CREATE TABLE galera_probe (id INT PRIMARY KEY, v INT)")
        setup.exec_driver_sql("INSERT INTO galera_probe VALUES (1, 0)")
    one = sa.create_engine(on_node(database, 1), poolclass=sa.pool.NullPool)
    two = autocommit(on_node(database, 2))
    try:
        with pytest.raises(sa.exc.DBAPIError) as raised, one.connect() as conn:  # noqa: PT012
            with conn.begin():
                conn.exec_driver_sql("UPDATE galera_probe SET v = 1 WHERE id = 1")
                with two.connect() as other:
                    other.exec_driver_sql("UPDATE galera_probe SET v = 2 WHERE id = 1")  # commits first, on node 2
        assert raised.value.orig.args[0] == 1213, raised.value  # ER_LOCK_DEADLOCK
        assert is_transient(raised.value)
        with two.connect() as other:
            assert other.exec_driver_sql("SELECT v FROM galera_probe").scalar_one() == 2
    finally:
        one.dispose()


def test_a_certification_failure_is_retried_not_reported(
    node1_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = node1_server.client()
    cloud = client.post("/v1/clouds", json={"name": f"c-{uuid.uuid4().hex[:6]}"}).json()
    path = f"/v1/clouds/{cloud['id']}/variables"
    assert client.put(path, json={"owner": "first"}).status_code == 200
    node2 = autocommit(on_node(node1_server.database_url, 2))

    def write_on_node2(conn: sa.Connection) -> None:
        with node2.connect() as other:
            changed = other.exec_driver_sql(
                "UPDATE variables SET value = '\"node2\"' "
                "WHERE owner_kind = 'cloud' AND owner_id = %s AND `key` = 'owner'",
                (str(cloud["id"]),),
            ).rowcount
            assert changed == 1

    fired = before_next_commit(node1_server.engine, write_on_node2)
    with caplog.at_level(logging.WARNING, logger="craton.api"):
        response = client.put(path, json={"owner": "api"})
    assert fired, "the conflicting write did not happen"
    assert response.status_code == 200, response.text
    retries = [r.getMessage() for r in caplog.records if "transient database error" in r.getMessage()]
    assert retries and "OperationalError" in retries[0], retries
    with node2.connect() as other:  # the retried request won, on every node
        stored = other.exec_driver_sql(
            "SELECT value FROM variables WHERE owner_kind = 'cloud' AND owner_id = %s AND `key` = 'owner'",
            (str(cloud["id"]),),
        ).scalar_one()
    assert stored == '"api"'
    assert client.get(path).json()["variables"]["owner"] == "api"


def test_a_connection_lost_mid_transaction_is_retried_and_commits_once(
    node1_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = node1_server.client()
    admin = autocommit(on_node(node1_server.database_url, 1))

    def kill_this_connection(conn: sa.Connection) -> None:
        thread_id = conn.connection.dbapi_connection.thread_id()  # type: ignore[union-attr]
        with admin.connect() as other:
            other.exec_driver_sql(f"KILL CONNECTION {int(thread_id)}")

    name = f"lost-{uuid.uuid4().hex[:6]}"
    fired = before_next_commit(node1_server.engine, kill_this_connection)
    with caplog.at_level(logging.WARNING, logger="craton.api"):
        response = client.post("/v1/clouds", json={"name": name})
    assert fired
    assert response.status_code == 201, response.text
    assert any("transient database error" in r.getMessage() for r in caplog.records)
    with autocommit(on_node(node1_server.database_url, 3)).connect() as other:
        count = other.exec_driver_sql("SELECT COUNT(*) FROM clouds WHERE name = %s", (name,)).scalar_one()
    assert count == 1


@pytest.mark.skipif(os.environ.get("CRATON_TEST_GALERA_FAULT") != "1", reason="set CRATON_TEST_GALERA_FAULT=1")
def test_killing_the_writer_node_under_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    from benchmarks import galera

    args = argparse.Namespace(
        hosts=2000,
        api_processes=2,
        clients=16,
        duration=30.0,
        kill_at=8.0,
        restart_at=16.0,
        target="writer",
        max_error_window=10.0,
    )
    summary = galera.fault(args, tmp_path)
    assert summary["lost_acknowledged_writes"] == 0, summary["checks"]
    assert summary["errors_other_than_503"] == 0, summary["error_examples"]
    assert summary["verdict"] == "PASS", summary
