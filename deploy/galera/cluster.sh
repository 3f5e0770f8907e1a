#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster with HAProxy in front, on 127.0.0.1 only, for tests and
# measurements on one machine (docs/deployment.md explains every setting).
#
#   deploy/galera/cluster.sh install          apt-get the Debian packages that are missing
#   deploy/galera/cluster.sh start            start (bootstrapping a new cluster if there is none)
#   deploy/galera/cluster.sh status           one line per node and per HAProxy backend
#   deploy/galera/cluster.sh kill NODE        kill -9 one mariadbd (NODE is 1, 2 or 3)
#   deploy/galera/cluster.sh restart NODE     start a stopped or killed node; it rejoins by IST or SST
#   deploy/galera/cluster.sh wait-synced [S]  wait up to S seconds (default 120) until all 3 are Synced
#   deploy/galera/cluster.sh stop             stop HAProxy and the nodes (cleanly, last node last)
#   deploy/galera/cluster.sh reset            stop, then delete the data directories
#   deploy/galera/cluster.sh url [NODE|balanced]  the SQLAlchemy admin URL (default: HAProxy writer)
#
# It never touches the machine's own MariaDB (3306, /run/mysqld, /var/lib/mysql): every node has
# its own port, socket, pid file and data directory under $GALERA_DIR, and is stopped by the pid
# in its own pid file.
#
# Environment: GALERA_DIR (default <repo>/var/galera, ignored by git), GALERA_PORT_BASE (default
# 24300), GALERA_BUFFER_POOL (default 64M), GALERA_SST (rsync or mariabackup, default rsync).
# Ports, with B = GALERA_PORT_BASE:
#   B      HAProxy "writer": all connections to one node, the others are hot standbys
#   B+4    HAProxy "balanced": connections spread round-robin over the Synced nodes
#   B+9    HAProxy statistics (http://127.0.0.1:B+9/)
#   B+N    node N's SQL port (N = 1, 2, 3);  B+10+N gcomm;  B+20+N IST;  B+30+N SST
# Exit status 3 means the packages are missing and cannot be installed (not root, no apt-get).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DIR="${GALERA_DIR:-$REPO/var/galera}"
BASE="${GALERA_PORT_BASE:-24300}"
POOL="${GALERA_BUFFER_POOL:-64M}"
SST="${GALERA_SST:-rsync}"
NODES=(1 2 3)
HOST=127.0.0.1
USER_NAME=craton
USER_PASSWORD=craton
CHECK_USER=haproxy_check

sql_port() { echo $((BASE + $1)); }
gcomm_port() { echo $((BASE + 10 + $1)); }
node_dir() { echo "$DIR/node$1"; }
say() { echo "galera: $*" >&2; }

cluster_address() {
    local addrs=() n
    for n in "${NODES[@]}"; do addrs+=("$HOST:$(gcomm_port "$n")"); done
    local IFS=,
    echo "gcomm://${addrs[*]}"
}

# --- packages -------------------------------------------------------------------------------------

missing_packages() {
    local missing=()
    [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
    [ -f /usr/lib/galera/libgalera_smm.so ] || missing+=(galera-4)
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
    command -v mariadb >/dev/null || missing+=(mariadb-client)
    if [ "$SST" = rsync ]; then
        command -v rsync >/dev/null || missing+=(rsync)
    else
        command -v mariadb-backup >/dev/null || missing+=(mariadb-backup)
        command -v socat >/dev/null || missing+=(socat)
    fi
    command -v ss >/dev/null || command -v lsof >/dev/null || missing+=(iproute2)
    echo "${missing[@]}"
}

install_packages() {
    local missing
    missing="$(missing_packages)"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        say "missing Debian packages: $missing (run as root where apt-get works)"
        exit 3
    fi
    say "installing: $missing"
    # The packages' own services must not start: policy-rc.d says no for the time of the install.
    local policy=/usr/sbin/policy-rc.d created=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
    fi
    local ok=0
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
        ok=1
    fi
    [ -n "$created" ] && rm -f "$policy"
    if [ "$ok" != 1 ] || [ -n "$(missing_packages)" ]; then
        say "could not install: $(missing_packages)"
        exit 3
    fi
}

# --- configuration --------------------------------------------------------------------------------

write_config() {
    local n=$1 d
    d="$(node_dir "$n")"
    mkdir -p "$d"
    cat >"$d/my.cnf" <<EOF
# Node $n of the Craton test cluster (written by deploy/galera/cluster.sh; rewritten on start).
[mariadbd]
user                     = mysql
bind-address             = $HOST
port                     = $(sql_port "$n")
socket                   = $d/mysqld.sock
pid-file                 = $d/mysqld.pid
datadir                  = $d/data
tmpdir                   = $d/tmp
log-error                = $d/error.log
skip-name-resolve
character-set-server     = utf8mb4
collation-server         = utf8mb4_bin
max_connections          = 300

# Small: this machine is shared and runs three of these.
innodb_buffer_pool_size  = $POOL
innodb_log_file_size     = 48M
performance_schema       = OFF

# What Galera needs: row-based replication, InnoDB only, interleaved auto-increment locks.
binlog_format            = ROW
default_storage_engine   = InnoDB
innodb_autoinc_lock_mode = 2
# Durability comes from the cluster (a commit is in every node's memory before it is
# acknowledged); each node's own log is flushed once a second, as Galera deployments do.
innodb_flush_log_at_trx_commit = 2

wsrep_on                 = ON
wsrep_provider           = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name       = craton
wsrep_cluster_address    = $(cluster_address)
wsrep_node_name          = node$n
wsrep_node_address       = $HOST:$(gcomm_port "$n")
wsrep_node_incoming_address = $HOST:$(sql_port "$n")
wsrep_sst_receive_address = $HOST:$((BASE + 30 + n))
wsrep_sst_method         = $SST
wsrep_sst_auth           = root:
wsrep_slave_threads      = 2
# Refuse what Galera cannot replicate safely, instead of diverging quietly:
# tables without a primary key, and writes to non-InnoDB tables.
wsrep_mode               = REQUIRED_PRIMARY_KEY,STRICT_REPLICATION
# Reads wait until this node has applied every write committed anywhere before they
# started: a client that writes through one node and reads through another sees its write.
wsrep_sync_wait          = 1
wsrep_provider_options   = "gmcast.listen_addr=tcp://$HOST:$(gcomm_port "$n");ist.recv_addr=$HOST:$((BASE + 20 + n));gcache.size=128M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT4S;evs.keepalive_period=PT1S;pc.wait_prim_timeout=PT30S"

[sst]
sst-syslog               = -1
EOF
    mkdir -p "$d/tmp" "$d/data"
    # mariadbd drops to the mysql user, and so do the rsync daemons of state transfers.
    chown -R mysql:mysql "$d"
}

write_haproxy() {
    local n check="$DIR/haproxy-check.sh"
    mkdir -p "$DIR"
    # A node is healthy when it is ready and Synced, or a donor: a joiner or a node cut off
    # from the primary component answers connections but refuses queries. A donor stays in:
    # sending IST does not stop it, and marking it down would cut the connections in the
    # middle of their commits (on-marked-down shutdown-sessions), leaving the API unsure
    # whether those commits happened. (A donor of a full rsync SST holds writes for the copy.)
    cat >"$check" <<'EOF'
#!/bin/sh
# HAProxy external check: $3 = node address, $4 = node port.
state=$(mariadb --connect-timeout=1 -h "$3" -P "$4" -u haproxy_check -N -B \
    -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state','wsrep_ready')" 2>/dev/null | sort | tr '\n\t' '  ')
[ "$state" = "wsrep_local_state 4 wsrep_ready ON " ] || [ "$state" = "wsrep_local_state 2 wsrep_ready ON " ]
EOF
    chmod +x "$check"
    {
        cat <<EOF
# HAProxy in front of the Craton test cluster (written by deploy/galera/cluster.sh).
global
    maxconn 2000
    pidfile $DIR/haproxy.pid
    external-check
    insecure-fork-wanted

defaults
    mode tcp
    timeout connect 2s
    # Pooled database connections stay idle for long stretches.
    timeout client 1h
    timeout server 1h
    timeout check 2s
    # A connection refused by a dead node is retried on another one.
    retries 3
    option redispatch

listen stats
    bind $HOST:$((BASE + 9))
    mode http
    stats enable
    stats uri /
    stats refresh 2s

# One writer at a time (the OpenStack layout): no certification conflicts between API
# processes; the other nodes are hot standbys. The stick table keeps connections on the
# node that took over after a failure, even when the first node comes back.
listen writer
    bind $HOST:$BASE
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $check
    stick-table type ip size 1
    stick on dst
    default-server inter 1s fastinter 500ms downinter 1s rise 2 fall 2 on-marked-down shutdown-sessions
EOF
        for n in "${NODES[@]}"; do
            echo "    server node$n $HOST:$(sql_port "$n") check$([ "$n" = 1 ] || echo ' backup')"
        done
        cat <<EOF

# Every Synced node takes new connections in turn: more capacity for reads, and writes
# from different nodes to the same rows meet at commit (a certification failure).
listen balanced
    bind $HOST:$((BASE + 4))
    balance roundrobin
    default-server on-marked-down shutdown-sessions
EOF
        for n in "${NODES[@]}"; do
            echo "    server node$n $HOST:$(sql_port "$n") track writer/node$n"
        done
    } >"$DIR/haproxy.cfg"
}

# --- processes ------------------------------------------------------------------------------------

node_pid() {
    local f
    f="$(node_dir "$1")/mysqld.pid"
    [ -f "$f" ] || return 1
    local pid
    pid="$(cat "$f")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q mariadbd "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

client() { # client NODE [mariadb args...]: as root over the node's own socket
    local n=$1
    shift
    mariadb --no-defaults -S "$(node_dir "$n")/mysqld.sock" -u root "$@"
}

wsrep_status() { # NODE -> "state ready size" or nothing
    client "$1" -N -B --connect-timeout=1 -e \
        "SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY VARIABLE_NAME SEPARATOR ' ') FROM information_schema.GLOBAL_STATUS
         WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE_COMMENT','WSREP_READY','WSREP_CLUSTER_SIZE')" 2>/dev/null || true
}

is_synced() { # cluster size, state, ready
    local s
    s="$(wsrep_status "$1")"
    [[ "$s" == *" Synced ON" ]]
}

wait_for() { # SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ $SECONDS -ge $deadline ]; then
            say "timed out after ${seconds}s waiting for $what"
            return 1
        fi
        sleep 0.5
    done
}

recovered_position() { # NODE: the last committed position after an unclean stop, from InnoDB
    local d log
    d="$(node_dir "$1")"
    log="$d/recover.log"
    : >"$log"
    chown mysql:mysql "$log"
    /usr/sbin/mariadbd --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$log" >/dev/null 2>&1 || true
    sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' "$log" | tail -n1
}

start_node() { # NODE [bootstrap]
    local n=$1 bootstrap=${2:-} d args=()
    d="$(node_dir "$n")"
    if node_pid "$n" >/dev/null; then
        say "node$n is already running (pid $(node_pid "$n"))"
        return 0
    fi
    write_config "$n"
    if [ ! -d "$d/data/mysql" ] && [ -n "$bootstrap" ]; then
        say "node$n: creating the system tables"
        mariadb-install-db --defaults-file="$d/my.cnf" --skip-test-db --auth-root-authentication-method=socket \
            >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; return 1; }
    fi
    # After a kill -9, grastate.dat says seqno -1: the node does not know how far it got and
    # would ask for a full copy (SST). Recover the last committed position from InnoDB first,
    # as Debian's systemd unit does (galera_recovery), so that it asks only for what it missed (IST).
    if [ -f "$d/data/grastate.dat" ] && grep -q '^seqno: *-1' "$d/data/grastate.dat" && [ -d "$d/data/mysql" ]; then
        local position
        position="$(recovered_position "$n")"
        if [ -n "$position" ]; then
            say "node$n stopped uncleanly; recovered position $position"
            args+=("--wsrep-start-position=$position")
        fi
    fi
    if [ -n "$bootstrap" ]; then
        args+=("--wsrep-new-cluster")
        sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$d/data/grastate.dat" 2>/dev/null || true
    fi
    say "starting node$n on $HOST:$(sql_port "$n")${bootstrap:+ (bootstrapping a new cluster)}"
    # setsid: the node outlives this script and is not in its process group.
    setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1 &
}

start_haproxy() {
    local before=
    [ -f "$DIR/haproxy.cfg" ] && before="$(cat "$DIR/haproxy.cfg")"
    write_haproxy
    if [ -f "$DIR/haproxy.pid" ] && kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null; then
        [ "$before" = "$(cat "$DIR/haproxy.cfg")" ] && return 0
        stop_haproxy # the configuration changed: start again with the new one
        sleep 0.5
    fi
    haproxy -c -q -f "$DIR/haproxy.cfg"
    say "starting HAProxy: writer $HOST:$BASE, balanced $HOST:$((BASE + 4)), stats http://$HOST:$((BASE + 9))/"
    setsid haproxy -D -f "$DIR/haproxy.cfg" >>"$DIR/haproxy.log" 2>&1 </dev/null
}

bootstrap_node() { # the node that may start a new cluster: the one that stopped last
    local n
    for n in "${NODES[@]}"; do
        if grep -q '^safe_to_bootstrap: *1' "$(node_dir "$n")/data/grastate.dat" 2>/dev/null; then
            echo "$n"
            return
        fi
    done
    if [ ! -d "$(node_dir 1)/data/mysql" ]; then
        echo 1
        return
    fi
    # Every node was killed: take the most advanced one, by its recovered sequence number.
    local best=1 best_seqno=-2 position seqno
    for n in "${NODES[@]}"; do
        [ -d "$(node_dir "$n")/data/mysql" ] || continue
        position="$(recovered_position "$n")"
        seqno="${position##*:}"
        if [ -n "$seqno" ] && [ "$seqno" -gt "$best_seqno" ]; then
            best=$n best_seqno=$seqno
        fi
    done
    echo "$best"
}

cmd_start() {
    install_packages
    mkdir -p "$DIR"
    local first n
    first="$(bootstrap_node)"
    if ! node_pid "$first" >/dev/null; then
        local any=
        for n in "${NODES[@]}"; do node_pid "$n" >/dev/null && any=1; done
        if [ -z "$any" ]; then
            start_node "$first" bootstrap
            wait_for 60 "node$first to bootstrap" is_synced "$first" || { tail -n 30 "$(node_dir "$first")/error.log" >&2; exit 1; }
            client "$first" -e "
                CREATE USER IF NOT EXISTS '$USER_NAME'@'$HOST' IDENTIFIED BY '$USER_PASSWORD';
                GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'$HOST' WITH GRANT OPTION;
                CREATE USER IF NOT EXISTS '$CHECK_USER'@'$HOST';
                CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
        fi
    fi
    for n in "${NODES[@]}"; do
        if ! node_pid "$n" >/dev/null; then
            start_node "$n"
            # One joiner at a time: each state transfer has its donor to itself.
            wait_for 180 "node$n to join" is_synced "$n" || { tail -n 30 "$(node_dir "$n")/error.log" >&2; exit 1; }
        fi
    done
    start_haproxy
    wait_for 30 "HAProxy to see a healthy node" haproxy_ready
    cmd_status
}

haproxy_ready() {
    mariadb --no-defaults -h "$HOST" -P "$BASE" -u "$USER_NAME" -p"$USER_PASSWORD" -N -B --connect-timeout=2 \
        -e "SELECT 1" >/dev/null 2>&1
}

stop_node() { # NODE: a clean shutdown through the node's own socket, else SIGTERM to its own pid
    local n=$1 pid
    pid="$(node_pid "$n")" || return 0
    say "stopping node$n (pid $pid)"
    client "$n" -e "SHUTDOWN" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            say "node$n did not stop in 60s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.2
    done
}

stop_haproxy() {
    if [ -f "$DIR/haproxy.pid" ]; then
        local pid
        pid="$(cat "$DIR/haproxy.pid")"
        if kill -0 "$pid" 2>/dev/null && grep -q haproxy "/proc/$pid/cmdline" 2>/dev/null; then
            say "stopping HAProxy (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
        fi
        rm -f "$DIR/haproxy.pid"
    fi
}

cmd_stop() {
    stop_haproxy
    local i
    # In reverse order: node 1 stops last and is the one that may bootstrap next time.
    for ((i = ${#NODES[@]} - 1; i >= 0; i--)); do stop_node "${NODES[$i]}"; done
}

cmd_status() {
    local n pid s
    for n in "${NODES[@]}"; do
        if pid="$(node_pid "$n")"; then
            s="$(wsrep_status "$n")"
            # GLOBAL_STATUS order: cluster size, state, ready
            echo "node$n  port $(sql_port "$n")  pid $pid  cluster_size/state/ready: ${s:-not answering}"
        else
            echo "node$n  port $(sql_port "$n")  down"
        fi
    done
    if [ -f "$DIR/haproxy.pid" ] && kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null; then
        echo "haproxy  writer $HOST:$BASE  balanced $HOST:$((BASE + 4))  pid $(cat "$DIR/haproxy.pid")"
        curl -s --max-time 2 "http://$HOST:$((BASE + 9))/;csv" 2>/dev/null |
            awk -F, '$1 != "# pxname" && $2 ~ /^node/ {printf "  %-8s %-6s %s\n", $1, $2, $18}' || true
    else
        echo "haproxy  down"
    fi
}

node_arg() {
    case "${1:-}" in
    1 | 2 | 3) echo "$1" ;;
    node1 | node2 | node3) echo "${1#node}" ;;
    *)
        say "NODE must be 1, 2 or 3"
        exit 2
        ;;
    esac
}

cmd_url() {
    local port=$BASE
    case "${1:-writer}" in
    writer) ;;
    balanced) port=$((BASE + 4)) ;;
    *) port="$(sql_port "$(node_arg "$1")")" ;;
    esac
    echo "mysql+pymysql://$USER_NAME:$USER_PASSWORD@$HOST:$port/test"
}

all_synced() {
    local n
    for n in "${NODES[@]}"; do
        is_synced "$n" || return 1
        [[ "$(wsrep_status "$n")" == "${#NODES[@]} "* ]] || return 1
    done
}

case "${1:-}" in
install) install_packages ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
kill)
    n="$(node_arg "${2:-}")"
    pid="$(node_pid "$n")" || { say "node$n is not running"; exit 1; }
    say "kill -9 node$n (pid $pid)"
    kill -KILL "$pid"
    ;;
restart)
    n="$(node_arg "${2:-}")"
    stop_node "$n"
    start_node "$n"
    wait_for "${3:-180}" "node$n to rejoin" is_synced "$n" || { tail -n 30 "$(node_dir "$n")/error.log" >&2; exit 1; }
    say "node$n is Synced"
    ;;
wait-synced) wait_for "${2:-120}" "all nodes to be Synced" all_synced ;;
reset)
    cmd_stop
    say "deleting $DIR"
    rm -rf "${DIR:?}"
    ;;
url) cmd_url "${2:-writer}" ;;
*)
    sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
