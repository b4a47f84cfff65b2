#!/usr/bin/env bash
# Stop the single-node Slurm started by .ci/slurm/start.sh: slurmd, slurmctld, then munged,
# each by the pid in its pid file, and remove the state folder.
set -uo pipefail

STATE="${SLURM_CI_DIR:-/tmp/brainlike-slurm}"

stop_pidfile() {
    local name="$1" file="$2"
    [ -f "$file" ] || return 0
    local pid
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "stop.sh: stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

stop_pidfile slurmd "$STATE/run/slurmd.pid"
stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
stop_pidfile munged /run/munge/munged.pid
rm -rf "$STATE"
