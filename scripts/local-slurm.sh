#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, to try profiles/slurm and to test it
# (tests/test_slurm.py, `make slurm-up`, `make test-slurm`). Debian 12 / Ubuntu, as root; no systemd
# needed. Debian's own packages: SLURM 22.05 (slurmctld, slurmd, slurmdbd, clients), munge, MariaDB
# as slurmdbd's accounting store, so that `sacct` works as on a production cluster (the Snakemake
# SLURM plugin checks job states with sacct).
#
#   scripts/local-slurm.sh up            install, configure, start what is not running, verify
#   scripts/local-slurm.sh stop [NAME..] stop the daemons this script started (all, or the named ones)
#   scripts/local-slurm.sh status        one line per daemon: NAME PID running|dead|external|-
#
# `up` is idempotent: running daemons are kept, unless the SLURM configuration it writes changed (then
# slurmctld and slurmd restart). Every daemon is started in the foreground of its own session and its
# pid recorded in $RUN_DIR/<name>.pid at once; `stop` signals exactly those pids (after checking each
# still runs the expected program), never a process found by name.
#
# Environment:
#   SLURM_FAKE_GPUS=N        N fake GPUs on the node (default 2): gres gpu:fakegpu:N backed by character
#                            devices, so --gpus / --gres=gpu jobs schedule on a CPU-only machine. SLURM
#                            sets CUDA_VISIBLE_DEVICES in such jobs; no real GPU is behind it. 0: none.
#   SLURM_NODE_CPUS=N        CPUs the node offers (default: as many as it has). More than it has
#   SLURM_NODE_MEM_MB=M      and memory (default: 90 % of its memory) may be declared, so that jobs
#                            asking for a cluster-sized node (e.g. 4 CPUs per GPU) schedule here too;
#                            they then share the real CPUs (nothing is confined: no cgroups).
#   SLURM_PARTITION=debug    the one partition (holds the node; the default partition).
#   SLURM_ACCOUNT=pointwise  an account root may submit under (sbatch -A), as clusters require.
#   POINTWISE_SLURM_STATE    databases, spool, fake devices, logs (default /var/lib/pointwise-slurm)
#   POINTWISE_SLURM_RUN      pid records (default /run/pointwise-slurm)
#   POINTWISE_SLURM_DB_PORT  TCP port of the private MariaDB on 127.0.0.1 (default 13306)
#   POINTWISE_SLURM_FORCE=1  overwrite an /etc/slurm/slurm.conf that this script did not write
#
# Exit status: 0 up, 1 failed, 2 usage, 3 refused (another SLURM installation is in the way).
#
# SLURM's daemons and clients read /etc/slurm and talk on the standard ports (6817-6819), so this does
# not run beside another SLURM installation on the same machine: `up` refuses to touch a foreign
# /etc/slurm/slurm.conf. MariaDB is private (own data directory, socket and port), munge is shared:
# an already running munged is used, not restarted.
set -euo pipefail

FAKE_GPUS=${SLURM_FAKE_GPUS:-2}
PARTITION=${SLURM_PARTITION:-debug}
ACCOUNT=${SLURM_ACCOUNT:-pointwise}
STATE=${POINTWISE_SLURM_STATE:-/var/lib/pointwise-slurm}
RUN_DIR=${POINTWISE_SLURM_RUN:-/run/pointwise-slurm}
DB_PORT=${POINTWISE_SLURM_DB_PORT:-13306}
CLUSTER=pointwise
CONF=/etc/slurm
MARK="# Written by pointwise scripts/local-slurm.sh"
LOGS=$STATE/logs
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)   # start order; stop runs in reverse

log() { printf '[local-slurm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
refuse() { log "REFUSED: $*"; exit 3; }

# ------------------------------------------------------------------ pid records
# The program each daemon's recorded pid must run; a recorded pid whose process runs something else
# (the daemon died and the pid was reused) is treated as dead and never signalled.
exe_of() { readlink -f "/usr/sbin/$1"; }   # Debian links /usr/sbin/slurmctld -> slurmctld-wlm
recorded_pid() { [[ -s $RUN_DIR/$1.pid ]] && cat "$RUN_DIR/$1.pid" || true; }
# alive NAME: the recorded pid runs the daemon's program
alive() {
  local pid; pid=$(recorded_pid "$1")
  [[ -n $pid ]] && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(exe_of "$1")" ]]
}

# start_daemon NAME CMD...: run CMD (which must stay in the foreground) in a new session, detached
# from this shell's terminal and process group, and record its pid.
start_daemon() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$LOGS/$name.out" 2>&1 &
  local pid=$!
  echo "$pid" > "$RUN_DIR/$name.pid"
  sleep 0.3
  # setsid execs CMD in place (this shell's background jobs are not process group leaders), so
  # $! is the daemon itself; check it, and that it did not die at once.
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(exe_of "$name")" ]] \
    || { tail -20 "$LOGS/$name.out" >&2 || true; die "$name did not start (pid $pid); see $LOGS/$name.out"; }
  log "$name started (pid $pid)"
}

stop_daemon() {
  local name=$1 pid i
  pid=$(recorded_pid "$name")
  if alive "$name"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do alive "$name" || break; sleep 0.2; done
    if alive "$name"; then log "$name (pid $pid) ignored SIGTERM for 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$RUN_DIR/$name.pid"
}

wait_for() {  # wait_for SECONDS WHAT CMD...
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < end )) || { log "timed out after ${t}s waiting for: $what"; return 1; }
    sleep 0.3
  done
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

status() {
  local name pid
  for name in "${DAEMONS[@]}"; do
    pid=$(recorded_pid "$name")
    if alive "$name"; then echo "$name $pid running"
    elif [[ -n $pid ]]; then echo "$name $pid dead"
    elif [[ $name == munged ]] && command -v munge >/dev/null && munge_works; then echo "$name - external"
    else echo "$name - -"
    fi
  done
}

stop() {
  local names=("$@") i
  (( ${#names[@]} )) || names=("${DAEMONS[@]}")
  # Jobs still running on our node would outlive slurmd (slurmstepd detaches): cancel them first.
  if [[ " ${names[*]} " == *" slurmd "* ]] && alive slurmctld && alive slurmd; then
    if [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
      log "cancelling the jobs still queued or running"
      scancel --full $(squeue -h -o %i) 2>/dev/null || true
      wait_for 30 "jobs to end" bash -c '[[ -z $(squeue -h -t R,CG -o %i) ]]' || true
    fi
  fi
  for (( i=${#DAEMONS[@]}-1; i>=0; i-- )); do
    [[ " ${names[*]} " == *" ${DAEMONS[i]} "* ]] && stop_daemon "${DAEMONS[i]}"
  done
  return 0
}

case ${1:-up} in
  up) ;;
  stop) shift; [[ -d $RUN_DIR ]] || exit 0; stop "$@"; exit 0 ;;
  status) status; if alive slurmctld; then sinfo 2>&1 || true; fi; exit 0 ;;
  *) echo "usage: $0 up | stop [munged|mariadbd|slurmdbd|slurmctld|slurmd ...] | status" >&2; exit 2 ;;
esac

# ================================================================== up
[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts system daemons)"
command -v apt-get >/dev/null || die "needs a Debian/Ubuntu machine (apt-get)"
[[ $FAKE_GPUS =~ ^[0-9]+$ ]] || die "SLURM_FAKE_GPUS must be a number, not '$FAKE_GPUS'"
T0=$SECONDS
mkdir -p "$RUN_DIR" "$LOGS" "$STATE/spool/slurmctld" "$STATE/spool/slurmd" "$CONF"

# ------------------------------------------------------------------ 1. packages
PKGS=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their daemons (invoke-rc.d): this script starts and tracks its own.
  # policy-rc.d exit 101 = "action forbidden"; only ours is removed afterwards.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  trap '(( own_policy )) && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq >"$LOGS/apt.log" 2>&1 || true
  # --no-install-recommends: otherwise about 20 SLURM plugin/-dev/hdf5 packages come along
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
    || { tail -30 "$LOGS/apt.log" >&2; die "apt-get install failed (log: $LOGS/apt.log)"; }
  (( own_policy )) && rm -f /usr/sbin/policy-rc.d
  trap - EXIT
fi
log "packages ready ($((SECONDS - T0)) s): $(slurmctld -V)"

# ------------------------------------------------------------------ 2. configuration
if [[ -s $CONF/slurm.conf ]] && ! head -1 "$CONF/slurm.conf" | grep -qF "$MARK" && [[ ${POINTWISE_SLURM_FORCE:-0} != 1 ]]; then
  refuse "$CONF/slurm.conf exists and was not written by this script: is this a real SLURM node? (POINTWISE_SLURM_FORCE=1 overwrites it)"
fi
for name in slurmctld slurmd slurmdbd; do
  # (zombies do not count: where pid 1 does not reap, stopped daemons linger as <defunct>)
  if ! alive "$name" && ps -C "$name" -o stat= 2>/dev/null | grep -qv '^Z'; then
    refuse "a $name runs that this script did not start (ps -C $name); stop it first"
  fi
done

HOST=$(hostname -s)
# slurmd finds its node by the host name: make sure it resolves
getent hosts "$HOST" >/dev/null || echo "127.0.0.1 $HOST" >> /etc/hosts

# The node as slurmd sees it; 90 % of its memory is offered to jobs. Only the CPU count is declared
# (no sockets/cores/threads) and CPUs are allocated one by one (CR_CPU_Memory), so a machine with
# hyper-threads still runs one job per logical CPU.
HW=$(slurmd -C | head -1)
NCPU=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$HW")
REALMEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$HW")
[[ -n $NCPU && -n $REALMEM ]] || die "cannot read CPUs/RealMemory from 'slurmd -C': $HW"
MEM=$(( REALMEM * 90 / 100 ))
OVERRIDES=""
if [[ -n ${SLURM_NODE_CPUS:-} || -n ${SLURM_NODE_MEM_MB:-} ]]; then
  NCPU=${SLURM_NODE_CPUS:-$NCPU}; MEM=${SLURM_NODE_MEM_MB:-$MEM}
  [[ $NCPU =~ ^[0-9]+$ && $MEM =~ ^[0-9]+$ ]] || die "SLURM_NODE_CPUS / SLURM_NODE_MEM_MB must be numbers"
  # slurmd would drain a node that declares more than it has; config_overrides makes it trust slurm.conf
  OVERRIDES="SlurmdParameters=config_overrides"
fi
DEFMEM=$(( MEM / NCPU / 4 ))   # a job without --mem must not take the whole node

GRES_LINES="" NODE_GRES=""
if (( FAKE_GPUS > 0 )); then
  # slurmd ignores GPUs without a device file and rejects regular files: character devices with
  # /dev/null's numbers (1,3) stand in.
  mkdir -p "$STATE/fakegpu"
  for (( i=0; i<FAKE_GPUS; i++ )); do
    [[ -c $STATE/fakegpu/gpu$i ]] || mknod "$STATE/fakegpu/gpu$i" c 1 3 \
      || die "mknod is not permitted here: cannot create fake GPUs (SLURM_FAKE_GPUS=0 runs without)"
  done
  GRES_LINES="GresTypes=gpu"
  NODE_GRES="Gres=gpu:fakegpu:$FAKE_GPUS"
fi

new_conf=$(mktemp)
cat > "$new_conf" <<EOF
$MARK: a one-node test cluster. Rewritten by every 'up'.
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# No systemd or cgroups: processes are tracked through /proc, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Accounting through slurmdbd, so sacct works as on a production cluster; GPU counts are recorded
# (sacct AllocTRES/ReqTRES show gres/gpu).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageTRES=gres/gpu
# sacct shows each job's --comment (Snakemake's plugin puts the rule and wildcards there)
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$DEFMEM
ReturnToService=2
# Finished jobs stay visible to squeue/scontrol for 5 minutes.
MinJobAge=300
# Seconds between the SIGTERM at a time limit (or scancel) and the SIGKILL, as on most clusters.
KillWait=30
InactiveLimit=0
SlurmctldTimeout=120
SlurmdTimeout=300
Waittime=0
SlurmctldPidFile=$RUN_DIR/slurmctld.self.pid
SlurmdPidFile=$RUN_DIR/slurmd.self.pid
SlurmdSpoolDir=$STATE/spool/slurmd
StateSaveLocation=$STATE/spool/slurmctld
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$GRES_LINES
$OVERRIDES
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM $NODE_GRES State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
conf_changed=1
if [[ -s $CONF/slurm.conf ]] && cmp -s "$new_conf" "$CONF/slurm.conf"; then conf_changed=0; fi
mv "$new_conf" "$CONF/slurm.conf"; chmod 644 "$CONF/slurm.conf"
if (( FAKE_GPUS > 0 )); then
  echo "NodeName=$HOST Name=gpu Type=fakegpu File=$STATE/fakegpu/gpu[0-$((FAKE_GPUS - 1))]" > "$CONF/gres.conf.new"
else
  : > "$CONF/gres.conf.new"
fi
cmp -s "$CONF/gres.conf.new" "$CONF/gres.conf" 2>/dev/null || conf_changed=1
mv "$CONF/gres.conf.new" "$CONF/gres.conf"
log "configuration: node $HOST, CPUs=$NCPU, RealMemory=$MEM MB, partition $PARTITION, fake GPUs: $FAKE_GPUS$( ((conf_changed)) && echo ' (changed)')"

# ------------------------------------------------------------------ 3. munge
if alive munged || munge_works; then
  if alive munged; then log "munged runs (pid $(recorded_pid munged))"; else log "munge answers (an external munged is used)"; fi
else
  if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge; chmod 755 /run/munge
  # as the munge user, in the foreground (-F), replacing a stale socket (--force)
  start_daemon munged setpriv --reuid=munge --regid=munge --clear-groups /usr/sbin/munged -F --force
  wait_for 20 "a munge round trip" munge_works || die "munged does not answer; see $LOGS/munged.out"
fi

# ------------------------------------------------------------------ 4. MariaDB (private) + slurmdbd
DB_DIR=$STATE/mariadb
DB_RUN=$RUN_DIR/mariadb   # its socket and pid file, writable by the mysql user
DB_SOCK=$DB_RUN/mariadb.sock
db() { mariadb --no-defaults --socket="$DB_SOCK" -u root "$@"; }
if ! alive mariadbd; then
  if [[ ! -d $DB_DIR/mysql ]]; then
    log "initialising the accounting database in $DB_DIR"
    mkdir -p "$DB_DIR"; chown mysql:mysql "$DB_DIR"
    mariadb-install-db --no-defaults --datadir="$DB_DIR" --user=mysql --skip-test-db \
      --auth-root-authentication-method=socket >"$LOGS/mariadb-install.log" 2>&1 \
      || { tail -20 "$LOGS/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
  fi
  mkdir -p "$DB_RUN"; chown mysql:mysql "$DB_RUN"
  # --no-defaults: none of /etc/mysql applies (a system MariaDB keeps its own socket, port, data)
  start_daemon mariadbd /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB_DIR" \
    --socket="$DB_SOCK" --pid-file="$DB_RUN/mariadbd.self.pid" --bind-address=127.0.0.1 \
    --port="$DB_PORT" --skip-name-resolve --log-error="$LOGS/mariadb.err"
  wait_for 60 "MariaDB" db -e "SELECT 1" || { tail -20 "$LOGS/mariadb.err" >&2; die "MariaDB did not come up"; }
fi
if [[ ! -s $STATE/db-password ]]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$STATE/db-password")
fi
DB_PASS=$(cat "$STATE/db-password")
db -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
       CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
       ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
       GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"

(umask 077; cat > "$CONF/slurmdbd.conf" <<EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$LOGS/slurmdbd.log
PidFile=$RUN_DIR/slurmdbd.self.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
)   # slurmdbd refuses a slurmdbd.conf that others can read
if ! alive slurmdbd; then
  start_daemon slurmdbd /usr/sbin/slurmdbd -D
  wait_for 60 "slurmdbd to answer sacctmgr" sacctmgr -n list cluster || die "slurmdbd did not come up; see $LOGS/slurmdbd.log"
fi

# ------------------------------------------------------------------ 5. slurmctld + slurmd
if (( conf_changed )); then stop_daemon slurmd; stop_daemon slurmctld; fi
if ! alive slurmctld; then
  start_daemon slurmctld /usr/sbin/slurmctld -D
  wait_for 60 "slurmctld" scontrol ping || die "slurmctld did not come up; see $LOGS/slurmctld.log"
fi
if ! alive slurmd; then
  start_daemon slurmd /usr/sbin/slurmd -D
fi
node_ready() { [[ $(sinfo -h -n "$HOST" -o %T 2>/dev/null) =~ ^(idle|mixed|allocated)$ ]]; }
if ! wait_for 30 "node $HOST to be idle" node_ready; then
  # a saved state from an earlier configuration can leave the node down or drained
  scontrol update nodename="$HOST" state=resume 2>/dev/null || true
  wait_for 30 "node $HOST after resume" node_ready \
    || { scontrol show node "$HOST" >&2; tail -20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2; die "node not idle"; }
fi

# An account to submit under (the cluster registers itself with slurmdbd when slurmctld starts).
wait_for 30 "the cluster to register with slurmdbd" bash -c "sacctmgr -n -P list cluster format=cluster | grep -qx $CLUSTER" \
  || die "cluster $CLUSTER not registered in slurmdbd"
sacctmgr -n -P list account "$ACCOUNT" format=account | grep -qx "$ACCOUNT" \
  || sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="pointwise tests" >/dev/null
sacctmgr -n -P list assoc user=root account="$ACCOUNT" format=user | grep -qx root \
  || sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" >/dev/null

# ------------------------------------------------------------------ 6. verify
out=$(timeout 60 srun -N1 -n1 --mem=100 -A "$ACCOUNT" hostname) || die "srun failed"
[[ $out == "$HOST" ]] || die "srun printed '$out', expected '$HOST'"
jid=$(timeout 60 sbatch --parsable --wait --mem=100 -A "$ACCOUNT" -o /dev/null --wrap true) || die "sbatch --wait failed"
wait_for 30 "sacct to list job $jid as COMPLETED" bash -c "sacct -X -n -j $jid -o State | grep -q COMPLETED" \
  || die "sacct does not show job $jid"
if (( FAKE_GPUS > 0 )); then
  g=$(timeout 60 srun --gpus=1 --mem=100 -A "$ACCOUNT" printenv CUDA_VISIBLE_DEVICES) || die "srun --gpus=1 failed"
  log "a --gpus=1 job sees CUDA_VISIBLE_DEVICES=$g"
fi
log "SLURM cluster '$CLUSTER' ready in $((SECONDS - T0)) s: partition $PARTITION, account $ACCOUNT"
status
