#!/usr/bin/env bash
# Shared launcher: scripts/launch.sh ACCELERATE_CONFIG TRAIN_CONFIG [key=value ...]
# Single node:  GPUS=8 scripts/launch.sh configs/accelerate/ddp.yaml configs/X.yaml
# Multi-node:   on every machine, NUM_MACHINES=2 MACHINE_RANK=<0|1> MAIN_PROCESS_IP=<ip of rank 0> \
#               GPUS=8 scripts/launch.sh ...   (GPUS is per machine; processes = GPUS x NUM_MACHINES)
# DRY_RUN=1 prints the memory estimate for this layout instead of training.
set -euo pipefail
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
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec mmalign train "$TRAIN_CONFIG" "$@" --dry-run --engine "$ENGINE" --devices "$NUM_PROCESSES"
fi
exec accelerate launch --config_file "$ACCEL_CONFIG" \
  --num_processes "$NUM_PROCESSES" --num_machines "$NUM_MACHINES" --machine_rank "$MACHINE_RANK" \
  --main_process_ip "$MAIN_PROCESS_IP" --main_process_port "$MAIN_PROCESS_PORT" \
  -m mmalign.cli.main train "$TRAIN_CONFIG" "$@"
