#!/usr/bin/env bash
# `make test-galera`: the database-facing tests against the 3-node Galera cluster, then the
# fault test (kill -9 of the writer node under load).
#
#   1. deploy/galera/cluster.sh start (installs galera-4, rsync, haproxy when missing)
#   2. tests/storage, tests/api, tests/reliability and tests/galera with the MariaDB fixtures
#      pointed at HAProxy's writer port (CRATON_TEST_MARIADB_URL) and the nodes named for
#      tests/galera (CRATON_TEST_GALERA_NODES)
#   3. the fault test alone (it kills and restarts a node, so nothing else may run beside it)
#   4. deploy/galera/cluster.sh stop, unless GALERA_KEEP=1
#
# Exit status 3 (from cluster.sh): the Debian packages are missing and cannot be installed.
# GALERA_TESTS overrides the test paths of step 2; GALERA_FAULT=0 skips step 3.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER=deploy/galera/cluster.sh
PYTHON="${PYTHON:-.venv/bin/python}"

set +e
"$CLUSTER" start
status=$?
set -e
if [ $status -ne 0 ]; then
    [ "${GALERA_KEEP:-0}" = 1 ] || "$CLUSTER" stop || true
    exit $status
fi

nodes="$("$CLUSTER" url 1),$("$CLUSTER" url 2),$("$CLUSTER" url 3)"
export CRATON_TEST_BACKENDS=mariadb
export CRATON_TEST_MARIADB_URL="$("$CLUSTER" url writer)"
export CRATON_TEST_GALERA_NODES="$nodes"
export CRATON_CRASH_BACKENDS=mariadb  # the worker-crash test of tests/reliability, on the cluster

result=0
# shellcheck disable=SC2086
"$PYTHON" -m pytest -n 2 --dist loadfile ${GALERA_TESTS:-tests/storage tests/api tests/reliability tests/galera} ${PYTEST_ARGS:-} || result=$?
if [ "${GALERA_FAULT:-1}" = 1 ] && [ $result -eq 0 ]; then
    CRATON_TEST_GALERA_FAULT=1 "$PYTHON" -m pytest -n 0 -p no:cacheprovider \
        "tests/galera/test_cluster.py::test_killing_the_writer_node_under_load_loses_no_acknowledged_write" || result=$?
fi
[ "${GALERA_KEEP:-0}" = 1 ] || "$CLUSTER" stop
exit $result
