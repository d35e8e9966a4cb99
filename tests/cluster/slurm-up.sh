#!/usr/bin/env bash
# Bring up a one-node SLURM cluster on this machine, for the SLURM tests (tests/test_workflow.py) and for
# trying the README's cluster command: munged, slurmctld and slurmd from Debian's
# packages (slurm-wlm, munge: apt-packages.txt), started by hand (no systemd needed),
# with their configuration, state and logs in one directory:
#
#   tests/cluster/slurm-up.sh [DIR]     # default: /tmp/emnn-slurm
#   tests/cluster/slurm-down.sh [DIR]
#
# The configuration goes where every SLURM command looks by default,
# /etc/slurm/slurm.conf (jobs drop SLURM_* variables, SLURM_CONF among them, before
# their own srun), marked as this script's; it refuses to replace any other.
# No accounting database: `sacct` does not work on this cluster, which is why the
# SLURM profile checks jobs with squeue (README, "Running on a SLURM cluster"). The
# controller keeps a finished job for MinJobAge seconds and writes every finished
# job to DIR/jobs.txt (jobcomp/filetxt): the cluster's own record of what it ran.
# Needs root (slurmd starts jobs as their user). Exit status 2: something missing
# (the tests skip); 3: this machine runs or configures another SLURM (they fail).
set -euo pipefail
DIR=${1:-/tmp/emnn-slurm}
missing=()
for program in munged slurmctld slurmd sbatch squeue scontrol; do
    command -v "$program" >/dev/null 2>&1 || missing+=("$program")
done
if ((${#missing[@]})); then
    echo "slurm-up: missing ${missing[*]}: install Debian's slurm-wlm and munge" \
        "(they are in apt-packages.txt)" >&2
    exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "slurm-up: run as root: slurmd starts each job as its user" >&2
    exit 2
fi
CONF=/etc/slurm/slurm.conf
MARK="# Written by tests/cluster/slurm-up.sh"
if [[ -e $CONF ]] && ! head -1 "$CONF" | grep -qF "$MARK"; then
    echo "slurm-up: $CONF exists and is not this script's: this machine has its own SLURM" >&2
    exit 3
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    echo "slurm-up: slurmctld or slurmd is running already (tests/cluster/slurm-down.sh DIR)" >&2
    exit 3
fi
mkdir -p "$DIR/state" "$DIR/spool" /run/munge /etc/slurm
host=$(hostname -s)
memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

# munge: its key (made once, as Debian's postinst would) and its daemon.
if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
    chmod 400 /etc/munge/munge.key
fi
chown -R root:root /etc/munge /run/munge
munged --force --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" \
    --seed-file="$DIR/munged.seed"

cat >"$CONF" <<CONF
$MARK (state and logs in $DIR): one node, one partition, no accounting.
ClusterName=emnn
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobs.txt
MinJobAge=600
NodeName=$host CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
echo "$CONF" >"$DIR/conf-path"
slurmctld -f "$CONF"
slurmd -f "$CONF"
for _ in $(seq 1 30); do  # up in about a second
    if sinfo --noheader --states=idle 2>/dev/null | grep -q .; then
        echo "slurm-up: one node ($(getconf _NPROCESSORS_ONLN) CPUs, $memory MB) up ($CONF; logs in $DIR)"
        exit 0
    fi
    sleep 1
done
echo "slurm-up: the node did not come up in 30 s; see $DIR/slurmctld.log and $DIR/slurmd.log" >&2
exit 1
