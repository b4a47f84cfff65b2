#!/usr/bin/env bash
# Start a single-node Slurm cluster on localhost for the sweep tests.
#
# Debian 12, run as root, no systemd needed (see SLURM-NOTES.md in the shared docs).
# Installs `slurm-wlm` and `munge` with apt-get if they are missing, writes a minimal
# slurm.conf under $SLURM_CI_DIR (default /tmp/brainlike-slurm), starts munged,
# slurmctld and slurmd, and waits until `sinfo` shows the node idle.
#
# Usage:  .ci/slurm/start.sh          # then: BRAINLIKE_REQUIRE_SLURM=1 cargo test -p brainlike-sweep
#         .ci/slurm/stop.sh
set -euo pipefail

STATE="${SLURM_CI_DIR:-/tmp/brainlike-slurm}"
HOST="$(hostname -s)"

if [ "$(id -u)" -ne 0 ]; then
    echo "start.sh: must run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "start.sh: installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

mkdir -p "$STATE"/{state,spool,log,run}

# --- munge -----------------------------------------------------------------------------
if [ ! -f /etc/munge/munge.key ]; then
    # The Debian package normally creates the key; create one if it did not.
    if command -v mungekey >/dev/null 2>&1; then mungekey --create; else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge
chown munge:munge /run/munge
chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    su -s /bin/sh munge -c "/usr/sbin/munged" 
    for _ in $(seq 1 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.25
    done
fi
munge -n | unmunge >/dev/null || { echo "start.sh: munged does not answer" >&2; exit 1; }

# --- slurm.conf ----------------------------------------------------------------------------
CPUS="$(nproc)"
# RealMemory must stay below what slurmd -C reports or the node drains: take 80 %.
MEM_MB="$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)"
MEM_MB="${MEM_MB:-1024}"
MEM_MB=$(( MEM_MB * 8 / 10 ))

CONF_DIR=/etc/slurm
mkdir -p "$CONF_DIR"
cat > "$CONF_DIR/slurm.conf" <<CONF
# Written by brainlike .ci/slurm/start.sh: a one-node test cluster on localhost.
ClusterName=brainlike-ci
SlurmctldHost=$HOST
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
SlurmctldTimeout=30
SlurmdTimeout=30
MaxArraySize=10001
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# Debian's packages read /etc/slurm/slurm.conf; cgroup.conf is not needed without cgroups.

# --- daemons -------------------------------------------------------------------------------
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_alive "$STATE/run/slurmctld.pid" || slurmctld
sleep 1
pid_alive "$STATE/run/slurmd.pid" || slurmd

for _ in $(seq 1 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        echo "start.sh: Slurm is up on $HOST ($CPUS CPUs, ${MEM_MB} MB); state in $STATE"
        sinfo
        exit 0
    fi
    # A node left 'down' from an earlier run: bring it back.
    scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
    sleep 0.5
done
echo "start.sh: node did not become idle; logs in $STATE/log" >&2
sinfo >&2 || true
tail -n 30 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
exit 1
