#!/usr/bin/env bash
# Shared launcher: scripts/launch.sh ACCELERATE_CONFIG TRAIN_CONFIG [key=value ...]
# Single node:  GPUS=8 scripts/launch.sh configs/accelerate/ddp.yaml configs/X.yaml
# Multi-node:   on every machine, NUM_MACHINES=2 MACHINE_RANK=<0|1> MAIN_PROCESS_IP=<ip of rank 0> \
#               GPUS=8 scripts/launch.sh ...   (GPUS is per machine; processes = GPUS x NUM_MACHINES)
# DRY_RUN=1 prints the memory estimate for this layout instead of training.
# No activated venv is needed: the Python used is the repository's .venv (beside this script's folder),
# else python3 / python on PATH, the first that has mmalign and accelerate installed. A failed launch ends
# with the first failing rank's error, once (scripts/accelerate_launch.py), not torch's per-rank report.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
ACCEL_CONFIG=${1:?accelerate config (configs/accelerate/*.yaml)}
TRAIN_CONFIG=${2:?train config}
shift 2
GPUS=${GPUS:-8}
NUM_MACHINES=${NUM_MACHINES:-1}
MACHINE_RANK=${MACHINE_RANK:-0}
MAIN_PROCESS_IP=${MAIN_PROCESS_IP:-127.0.0.1}
MAIN_PROCESS_PORT=${MAIN_PROCESS_PORT:-29500}
NUM_PROCESSES=$((GPUS * NUM_MACHINES))
case "$ACCEL_CONFIG" in
  *fsdp2*) ENGINE=fsdp2 ;; *zero2*) ENGINE=zero2 ;; *zero3*) ENGINE=zero3 ;; *) ENGINE=ddp ;;
esac

# A Python that imports mmalign and accelerate. Checked from / so that a checkout in the working directory
# does not stand in for an installed package; only regular executable files count (a PATH holding "." can
# name the repository's mmalign/ folder, which bash would then try to run).
has_project() {
  [[ -n "$1" && -f "$1" && -x "$1" ]] && (cd / && "$1" -c 'import importlib.util as u, sys
sys.exit(not all(u.find_spec(m) for m in ("mmalign", "accelerate")))' 2>/dev/null)
}
PYTHON=
for candidate in "$REPO/.venv/bin/python" "$(type -P python3 || true)" "$(type -P python || true)"; do
  [[ -z "$candidate" || "$candidate" == /* ]] || candidate="$PWD/$candidate"  # found through a relative PATH entry
  if has_project "$candidate"; then PYTHON=$candidate; break; fi
done
if [[ -z "$PYTHON" ]]; then
  echo "launch.sh: no Python with mmalign and accelerate installed: looked for $REPO/.venv/bin/python and" \
       "python3 / python on PATH. Create the venv with 'make test' (or 'python3 -m venv .venv &&" \
       ".venv/bin/pip install -e .') in $REPO, or activate an environment that has mmalign." >&2
  exit 1
fi

if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec "$PYTHON" -m mmalign.cli.main train "$TRAIN_CONFIG" "$@" --dry-run --engine "$ENGINE" \
    --devices "$NUM_PROCESSES"
fi
exec "$PYTHON" "$HERE/accelerate_launch.py" --config_file "$ACCEL_CONFIG" \
  --num_processes "$NUM_PROCESSES" --num_machines "$NUM_MACHINES" --machine_rank "$MACHINE_RANK" \
  --main_process_ip "$MAIN_PROCESS_IP" --main_process_port "$MAIN_PROCESS_PORT" \
  -m mmalign.cli.main train "$TRAIN_CONFIG" "$@"
