# shellcheck shell=bash
# What scripts/bench-node and scripts/bench-ceiling share: building the
# programs, writing a load-test configuration, making scratch PostgreSQL
# databases, starting nodes and bootstrapping an operator, and cleaning all
# of it up on exit. Sourced, not run.
#
# Everything lives under $BENCH_TMP (made by bench_init); bench_cleanup
# (installed as the EXIT trap) stops the nodes this script started, by
# their process id, drops the databases it created, removes the temporary
# git worktrees and the directory.

# BENCH_PG is the PostgreSQL server the scratch databases are made on;
# BENCH_PG_ADMIN_DB a database to connect to for CREATE/DROP DATABASE.
: "${BENCH_PG:=postgres://postgres@127.0.0.1:5432}"
: "${BENCH_PG_ADMIN_DB:=postgres}"

BENCH_PIDS=()
BENCH_DBS=()
BENCH_WORKTREES=()
BENCH_TMP=

bench_init() {
  BENCH_REPO=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/slsbench.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

bench_cleanup() {
  local rc=$? pid db wt
  bench_stop_nodes
  for db in "${BENCH_DBS[@]}"; do
    psql -q -X "$BENCH_PG/$BENCH_PG_ADMIN_DB?sslmode=disable" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "could not drop database $db" >&2
  done
  for wt in "${BENCH_WORKTREES[@]}"; do
    git -C "$BENCH_REPO" worktree remove --force "$wt" >/dev/null 2>&1 || true
  done
  if [[ -n $BENCH_TMP && -z ${BENCH_KEEP:-} ]]; then
    rm -rf "$BENCH_TMP"
  elif [[ -n $BENCH_TMP ]]; then
    echo "kept $BENCH_TMP" >&2
  fi
  return "$rc"
}

# bench_stop_nodes stops every node started so far, each by its pid.
bench_stop_nodes() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
}

# bench_build SRC OUT TAGS PROGRAM... builds the programs of the checkout
# SRC into OUT, with the build tags TAGS ("" for none).
bench_build() {
  local src=$1 out=$2 tags=$3 p
  shift 3
  mkdir -p "$out"
  for p in "$@"; do
    (cd "$src" && go build ${tags:+-tags "$tags"} -o "$out/$p" "./cmd/$p") || return 1
  done
}

# bench_checkout REV DIR [FROM] makes a detached worktree of REV in DIR.
# When REV lacks the measurement build's file (passhash/measure_cheaphash.go)
# it is copied in from the checkout FROM (default: this one), and
# Validate's hook added, so that any revision builds with
# -tags slsbench_cheaphash; the change stays in the throwaway worktree.
bench_checkout() {
  local rev=$1 dir=$2 from=${3:-$BENCH_REPO}
  git -C "$BENCH_REPO" worktree add --detach --quiet "$dir" "$rev" || return 1
  BENCH_WORKTREES+=("$dir")
  if [[ ! -f $dir/passhash/measure_cheaphash.go ]]; then
    [[ -f $from/passhash/measure_cheaphash.go ]] || { echo "no passhash/measure_cheaphash.go in $from" >&2; return 1; }
    cp "$from/passhash/measure_cheaphash.go" "$dir/passhash/"
    bench_log "${rev:0:12}: copied passhash/measure_cheaphash.go in from $from"
  fi
  if ! grep -q 'measureFloor' "$dir/passhash/passhash.go"; then
    sed -i 's|^func (p Params) Validate() error {$|var measureFloor func(Params) error\n\n&\n\tif measureFloor != nil {\n\t\treturn measureFloor(p)\n\t}|' \
      "$dir/passhash/passhash.go"
    grep -q 'return measureFloor(p)' "$dir/passhash/passhash.go" || { echo "$rev: cannot add the hook to passhash.Validate" >&2; return 1; }
  fi
}

# bench_config FILE CHEAP writes a node configuration for a load test:
# rate limits off for the load's single address ("rate": 0 switches a
# rule off; docs/sizing.md), user.delete without dual control so that
# slsbench removes its users, and with CHEAP=1 a nearly free password
# hash (only a -tags slsbench_cheaphash build accepts it).
bench_config() {
  local file=$1 cheap=$2 argon=
  if [[ $cheap == 1 ]]; then
    argon='"argon2": {"memory_kib": 64, "iterations": 1, "parallelism": 1}, '
  fi
  cat >"$file" <<JSON
{"limits": {"password_per_address": {"rate": 0}, "password_per_address_user": {"rate": 0},
            "second_factor_per_user": {"rate": 0}, "operator_per_address": {"rate": 0}},
 "login": {${argon}"untrusted_burst": 100},
 "operators": {"dual_control": {"user.delete": false}}}
JSON
}

# bench_createdb NAME makes an empty database; BENCH_DBURL is its URL.
bench_createdb() {
  local name=$1
  psql -q -X "$BENCH_PG/$BENCH_PG_ADMIN_DB?sslmode=disable" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >/dev/null || return 1
  BENCH_DBS+=("$name")
  BENCH_DBURL="$BENCH_PG/$name?sslmode=disable"
}

# bench_dropdb NAME drops a database made by bench_createdb.
bench_dropdb() {
  local name=$1 db keep=()
  psql -q -X "$BENCH_PG/$BENCH_PG_ADMIN_DB?sslmode=disable" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
  for db in "${BENCH_DBS[@]}"; do [[ $db == "$name" ]] || keep+=("$db"); done
  BENCH_DBS=("${keep[@]}")
}

# bench_wait_file FILE PID waits until FILE is written (a node's address)
# or the node PID has exited.
bench_wait_file() {
  local file=$1 pid=$2 i
  for i in $(seq 300); do
    [[ -s $file ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# bench_start_nodes BINDIR DATA CONFIG DBURL N [SLSD ARGS...] starts N
# nodes of one deployment and bootstraps an operator (token in
# DATA/operator-bench.token). The nodes share the data directory, hence
# the sealing key, the audit keys and the card, statement and diagnostics
# folders, as docs/configuration.md says nodes of one database must; each
# has its own HTTP, SFTP and metrics port. DBURL "" is SQLite (one node
# only). Sets NODE_URLS, METRICS_URLS and BENCH_TOKEN.
bench_start_nodes() {
  local bindir=$1 data=$2 config=$3 db=$4 n=$5 i pid
  shift 5
  NODE_URLS=() METRICS_URLS=()
  BENCH_TOKEN=$data/operator-bench.token
  mkdir -p "$data"
  for ((i = 1; i <= n; i++)); do
    local args=(--data "$data" --listen 127.0.0.1:0 --addr-file "$data/addr.$i" --sftp-listen 127.0.0.1:0
      --metrics-listen 127.0.0.1:0 --metrics-addr-file "$data/metrics.$i" --config "$config" --log-level warn "$@")
    [[ -n $db ]] && args+=(--db "$db")
    "$bindir/slsd" "${args[@]}" >>"$data/slsd.$i.log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    if ! bench_wait_file "$data/addr.$i" "$pid" || ! bench_wait_file "$data/metrics.$i" "$pid"; then
      echo "node $i did not start:" >&2
      cat "$data/slsd.$i.log" >&2
      return 1
    fi
    NODE_URLS+=("http://$(cat "$data/addr.$i")")
    METRICS_URLS+=("http://$(cat "$data/metrics.$i")/metrics")
    if ((i == 1)); then
      # The first node made the one-time bootstrap secret; the others
      # start once the operator exists.
      echo "quiet harbour lantern 7391" | "$bindir/slsctl" --server "${NODE_URLS[0]}" --token-file "$BENCH_TOKEN" bootstrap \
        --secret-file "$data/bootstrap.secret" --name bench --roles all --pin 2468 --out "$data/operator-card.json" >/dev/null || return 1
    fi
  done
}
