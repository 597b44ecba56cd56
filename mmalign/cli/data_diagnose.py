"""`mmalign data probe` and `mmalign data did`: the handlers behind the subcommands `cli/data.py` declares.

    mmalign data probe --model PATH --data pairs.jsonl --out DIR [--layer -1 --pool last,mean --c 1.0]
    mmalign data did --model PATH --ref PATH --data pairs.jsonl|candidates.jsonl --out DIR [--candidates FILE]

docs/data-quality.md describes both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MMAlignError
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code


def add_probe_parser(sub) -> None:
    p = sub.add_parser("probe", help="separability probe: can a linear classifier on a model's hidden states tell "
                                     "chosen from rejected answers? (More is Less)")
    p.add_argument("--model", required=True, help="model whose hidden states are read (the one to be trained)")
    p.add_argument("--data", required=True, help="preference records (JSONL)")
    p.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    p.add_argument("--out", required=True, help="output folder: report.json, report.md, probe.png")
    p.add_argument("--layer", type=int, default=-1, help="hidden state: 0 = embeddings, i = after decoder layer i, "
                                                         "-1 = the last, after the final norm (default)")
    p.add_argument("--pool", default="last,mean", help="comma list of last, mean (answer tokens), mean-all "
                                                       "(prompt + media + answer tokens); default last,mean")
    p.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic probe (scikit-learn's C)")
    p.add_argument("--test-fraction", type=float, default=0.2, help="share of prompts held out (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split by prompt")
    _model_args(p)


def add_did_parser(sub) -> None:
    p = sub.add_parser("did", help="Differential Information diagnostics: log-ratios per pair, the DID entropy of "
                                   "sampled candidates per prompt")
    p.add_argument("--model", required=True, help="the policy pi (e.g. the trained model, or a target)")
    p.add_argument("--ref", required=True, help="the reference pi_ref")
    p.add_argument("--data", required=True, help="preference records, or a candidates file from mmalign generate")
    p.add_argument("--candidates", default=None, help="with preference records: a candidates file whose prompts' "
                                                      "DID entropy is attached to the pairs of the same prompt")
    p.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    p.add_argument("--out", required=True, help="output folder: did.jsonl, report.json, report.md, did.png")
    p.add_argument("--beta", type=float, default=0.1, help="beta of p_chosen = sigmoid(beta * margin) and of the "
                                                           "rejection weights (default 0.1)")
    p.add_argument("--entropy", choices=("samples", "is-ref", "is-policy"), default="samples",
                   help="samples: q over the distinct sampled answers (default); is-ref / is-policy: importance "
                        "estimate of the entropy over all answers, candidates drawn from the reference / policy")
    p.add_argument("--backend", choices=("auto", "packed", "concatenated"), default="auto",
                   help="scoring layout (as scoring_backend in training)")
    p.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                   help="bad lines: stop with file:line (default) or skip and count them")
    _model_args(p)


def _model_args(p) -> None:
    p.add_argument("--batch-size", type=int, default=8, help="records per forward")
    p.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--dtype", default=None, choices=("fp32", "bf16", "fp16"), help="model dtype")
    add_max_image_pixels(p)
    add_trust_remote_code(p)


def _load(path: str, args):
    import torch

    from ..models import load

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    return load(path, dtype=args.dtype, device=device)


def _read_pairs(path: str, root: Path, on_bad_record: str = "error"):
    from ..data.reader import read_records

    records, bad = read_records(path, root, on_bad_record)
    if bad.total:
        print(f"{path}: {bad.summary()}")
    if not records:
        raise MMAlignError(f"{path}: no usable preference records")
    return records


def probe(args: argparse.Namespace) -> int:
    from ..diagnose.hidden import check_pools
    from ..diagnose.probe import ProbeOptions, check_two_classes, evaluate_probe, extract_features
    from ..diagnose.probe_report import REPORT_MD, write_outputs
    from ..io import check_data_file

    check_data_file(args.data)
    check_two_classes(args.data)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    if args.batch_size < 1:
        raise MMAlignError("--batch-size must be at least 1")
    if not args.c > 0:
        raise MMAlignError(f"--c must be positive, got {args.c}")
    options = ProbeOptions(layer=args.layer, pools=check_pools(p.strip() for p in args.pool.split(",") if p.strip()),
                           c=args.c, test_fraction=args.test_fraction, seed=args.seed, batch_size=args.batch_size)
    root = Path(args.root) if args.root else Path(args.data).parent
    records = _read_pairs(args.data, root)
    from ..diagnose.prompt_split import prompt_key, split_by_prompt

    # Too few prompts is answered before the model loads.
    split_by_prompt([prompt_key(r.prompt, r.images, r.videos) for r in records], options.test_fraction, options.seed,
                    args.data)
    feats = extract_features(_load(args.model, args), records, root, options)
    result = evaluate_probe(feats, options, what=args.data)
    result.report.update({"data": str(args.data), "model": str(args.model)})
    write_outputs(result, args.out)
    for pool, res in result.report["results"].items():
        m = res["all"]
        print(f"pooling {pool}: held-out accuracy {m['accuracy']:.3f}, AUROC {m['auroc']:.3f}, pair accuracy "
              f"{m['pair_accuracy']:.3f} ({m['test_pairs']} pairs of {m['test_prompts']} prompts)")
        for src, sm in res.get("by_source", {}).items():
            print(f"  source {src}: " + (f"skipped ({sm['skipped']})" if "skipped" in sm else
                                         f"accuracy {sm['accuracy']:.3f}, AUROC {sm['auroc']:.3f}"))
    print(f"wrote {Path(args.out) / REPORT_MD}")
    return 0


def _is_candidates(path: str) -> bool:
    from ..io import iter_jsonl

    for _, obj in iter_jsonl(path):
        if isinstance(obj, dict):
            return "candidates" in obj
    return False


def _read_candidates(path: str, on_bad_record: str):
    from ..data.candidates import read_candidates, skipped_text

    records, bad = read_candidates(path, on_bad_record)
    if bad:
        print(f"{path}: {skipped_text(bad)}")
    if not records:
        raise MMAlignError(f"{path}: no usable candidate records")
    return records


def _warn_sampler(records: list[dict], args) -> None:
    if args.entropy == "samples":
        return
    wanted = Path(args.ref if args.entropy == "is-ref" else args.model).expanduser().resolve()
    models = {str(c.get("model")) for r in records for c in r["candidates"]}
    other = sorted(m for m in models if Path(m).expanduser().resolve() != wanted)
    if other:
        print(f"warning: --entropy {args.entropy} assumes the candidates were sampled from {wanted}, but some come "
              f"from {', '.join(other[:3])}; the estimate is then not of that model's DID")


def did(args: argparse.Namespace) -> int:
    from ..diagnose.did import DidOptions, ModelScorer, did_candidates, did_pairs, entropy_table
    from ..diagnose.did_report import DID_FILE, REPORT_MD, write_outputs
    from ..io import check_data_file

    check_data_file(args.data)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    out = Path(args.out)
    for given in (args.data, args.candidates):
        if given and (out / DID_FILE).resolve() == Path(given).resolve():
            raise MMAlignError(f"--out {out}: would overwrite the input {given}; choose another folder")
    options = DidOptions(beta=args.beta, entropy=args.entropy, batch_size=args.batch_size)
    if args.batch_size < 1:
        raise MMAlignError("--batch-size must be at least 1")
    root = Path(args.root) if args.root else Path(args.data).parent
    candidate_mode = _is_candidates(args.data)
    if candidate_mode and args.candidates:
        raise MMAlignError("--candidates goes with a file of preference records; --data is already a candidates file")
    if candidate_mode:
        records = _read_candidates(args.data, args.on_bad_record)
        _warn_sampler(records, args)
    else:
        records = _read_pairs(args.data, root, args.on_bad_record)
        extra = _read_candidates(args.candidates, args.on_bad_record) if args.candidates else None
    policy = _load(args.model, args)
    same = Path(args.ref).expanduser().resolve() == Path(args.model).expanduser().resolve()
    scorer = ModelScorer(policy, policy if same else _load(args.ref, args), root, args.backend)
    if candidate_mode:
        rows, report = did_candidates(records, scorer, options)
    else:
        table = None
        if extra is not None:
            _warn_sampler(extra, args)
            table = entropy_table(did_candidates(extra, scorer, options)[0])
        rows, report = did_pairs(records, scorer, options, entropy_by_prompt=table)
    report.update({"data": str(args.data), "model": str(args.model), "ref": str(args.ref)})
    if args.candidates:
        report["candidates_file"] = str(args.candidates)
    write_outputs(rows, report, out)
    if report["kind"] == "pairs":
        print(f"{report['pairs']} pairs: mean margin {report['margin']['mean']:.3f}, margin > 0 for "
              f"{report['margin_positive_share']:.1%}, mean p_chosen {report['p_chosen']['mean']:.3f}")
    else:
        print(f"{report['prompts']} prompts: mean DID entropy {report['entropy']['mean']:.3f} nats ({args.entropy})")
    print(f"wrote {out / DID_FILE} and {out / REPORT_MD}")
    return 0
