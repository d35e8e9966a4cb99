#!/usr/bin/env bash
# Stop the cluster of tests/cluster/slurm-up.sh by the process ids it recorded, and
# remove its directory and its /etc/slurm/slurm.conf:
#   tests/cluster/slurm-down.sh [DIR]     # default /tmp/emnn-slurm
set -uo pipefail
DIR=${1:-/tmp/emnn-slurm}
for daemon in slurmd slurmctld munged; do
    pidfile=$DIR/$daemon.pid
    [[ -s $pidfile ]] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do  # wait up to 5 s, then insist
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
done
# A job still running when slurmd stopped leaves its step daemon behind.
pkill -x slurmstepd 2>/dev/null || true
CONF=/etc/slurm/slurm.conf
if [[ -e $CONF ]] && head -1 "$CONF" | grep -qF "slurm-up.sh (state and logs in $DIR)"; then
    rm -f "$CONF"
fi
rm -rf "$DIR"
