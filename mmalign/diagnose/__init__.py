"""Data-quality diagnostics of preference data (docs/data-quality.md): the separability probe (More is Less) and
the Differential Information numbers (DID). One job per module:

- `answers`: contexts and their answers as one scoring batch; summed answer log-probs
- `hidden`: pooled hidden states of [prompt + answer] (last token, answer mean, row mean; any layer)
- `prompt_split`: train/test split by prompt
- `logistic`, `metrics`: the probe's classifier; accuracy, AUROC, pair accuracy
- `probe`, `probe_report`: `mmalign data probe`
- `did_math`, `did`, `did_report`: `mmalign data did`
"""

from .did import DidOptions, ModelScorer, did_candidates, did_pairs
from .logistic import LogisticProbe, fit_logistic
from .metrics import accuracy, auroc, pair_accuracy
from .probe import ProbeFeatures, ProbeOptions, evaluate_probe, extract_features

__all__ = ["DidOptions", "LogisticProbe", "ModelScorer", "ProbeFeatures", "ProbeOptions", "accuracy", "auroc",
           "did_candidates", "did_pairs", "evaluate_probe", "extract_features", "fit_logistic", "pair_accuracy"]
