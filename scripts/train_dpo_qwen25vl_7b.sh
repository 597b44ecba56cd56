#!/usr/bin/env bash
# Sigmoid DPO on Qwen2.5-VL-7B-Instruct with LoRA (configs/dpo_qwen25vl_7b.yaml: beta 0.1, lr 5e-5,
# warmup 0.1, bf16, checkpointing, global batch 64). FSDP2 by default; ACCEL_CONFIG picks another engine.
#   scripts/train_dpo_qwen25vl_7b.sh data=... root=...
#   NUM_MACHINES=4 MACHINE_RANK=0 MAIN_PROCESS_IP=10.0.0.1 scripts/train_dpo_qwen25vl_7b.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
GPUS=${GPUS:-8}
NUM_MACHINES=${NUM_MACHINES:-1}
ACCUM=$((64 / (GPUS * NUM_MACHINES)))
(( ACCUM >= 1 )) || ACCUM=1
GPUS=$GPUS NUM_MACHINES=$NUM_MACHINES exec scripts/launch.sh "${ACCEL_CONFIG:-configs/accelerate/fsdp2.yaml}" \
  configs/dpo_qwen25vl_7b.yaml gradient_accumulation_steps="$ACCUM" "$@"
