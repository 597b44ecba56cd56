"""The trainer's use of precomputed reference log-probs: the main process computes the table (or finds it
cached), the other ranks then load it."""

from __future__ import annotations

from pathlib import Path

from .precompute import file_digest, precompute_reference, reference_fingerprint
from .ranks import main_first


def precompute_for_run(cfg, model, reference, forward, collator, records, model_path, train_file, root, loss_fn,
                       output_dir: Path, accelerator) -> dict:
    """Reference log-probs for every record, computed once (main process) and loaded by the others."""
    model.to(accelerator.device)
    fingerprint = reference_fingerprint(
        model_path, train_file, processor=None, media=[Path(root) / p for r in records for p in r.media_paths()],
        extra={"precision": cfg.precision, "max_length": cfg.max_length, "needs": sorted(loss_fn.needs),
               "lora": cfg.lora.enabled, "extra_data": [file_digest(path) for path in cfg.extra_data]})

    def table() -> dict:
        return precompute_reference(lambda: reference.context(model), forward, collator, records,
                                    output_dir / "ref_logps", fingerprint, cfg.per_device_batch_size)

    return main_first(accelerator, table)
