"""Precomputed reference log-probs equal the online ones, are reused, and are rebuilt when inputs change."""

import os

import pytest
import torch
from speed_kit import build_family, records, setup, write_images, write_jsonl

from mmalign.data import read_records
from mmalign.losses import build_loss
from mmalign.train.precompute import attach_reference, precompute_reference, reference_fingerprint
from mmalign.train.reference import AdapterDisabled, reference_logps
from mmalign.train.step import PairForward, compute_loss


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-precompute")
    write_images(base / "media")
    return base, build_family("llava", base / "llava")


class Counting(PairForward):
    calls = 0

    def __call__(self, model, batch):
        self.calls += 1
        return super().__call__(model, batch)


def _fingerprint(path, data, recs, root):
    return reference_fingerprint(path, data, media=[root / p for r in recs for p in r.images],
                                 extra={"dtype": "fp32"})


def test_precomputed_equals_online_and_is_reused(env, tmp_path):
    base, path = env
    root = base / "media"
    model, adapter, collator, pad = setup(path, root, "lora")
    data = write_jsonl(tmp_path / "pairs.jsonl", records())
    recs = read_records(data, root)[0]
    reference, forward = AdapterDisabled(), Counting(adapter, pad)
    fp = _fingerprint(path, data, recs, root)
    cache = tmp_path / "run" / "ref_logps"
    table = precompute_reference(lambda: reference.context(model), forward, collator, recs, cache, fp, batch_size=2)
    assert (cache / f"{fp}.pt").is_file() and forward.calls == 2
    assert [p.name for p in cache.iterdir()] == [f"{fp}.pt"]  # no temporary files left behind

    loss = build_loss("sigmoid", beta=0.1)
    batch = collator(recs)
    online = reference_logps(reference, model, lambda m: forward(m, batch))
    pre = attach_reference(batch, table)
    torch.testing.assert_close(pre["ref_chosen_logps"], online.chosen, rtol=0, atol=1e-5)
    torch.testing.assert_close(pre["ref_rejected_logps"], online.rejected[:, 0], rtol=0, atol=1e-5)
    out_online, _ = compute_loss(model, reference, loss, forward, batch)
    out_pre, _ = compute_loss(model, reference, loss, forward, pre)
    torch.testing.assert_close(out_pre.losses, out_online.losses, rtol=0, atol=1e-6)

    forward.calls = 0  # a new epoch or a restart: loaded from disk, no forward
    again = precompute_reference(lambda: reference.context(model), forward, collator, recs, cache, fp)
    assert forward.calls == 0 and again == table


def test_rebuilt_when_data_model_or_processor_change(env, tmp_path):
    base, path = env
    root = base / "media"
    model, adapter, collator, pad = setup(path, root, "lora")
    reference, forward = AdapterDisabled(), Counting(adapter, pad)
    data = write_jsonl(tmp_path / "pairs.jsonl", records())
    recs = read_records(data, root)[0]
    cache = tmp_path / "ref"
    fp1 = _fingerprint(path, data, recs, root)
    first = precompute_reference(lambda: reference.context(model), forward, collator, recs, cache, fp1)

    changed = records()
    changed[1].rejected = [{"role": "assistant", "content": [{"type": "text", "text": "the third one"}]}]
    write_jsonl(data, changed)
    recs2 = read_records(data, root)[0]
    fp2 = _fingerprint(path, data, recs2, root)
    assert fp2 != fp1
    forward.calls = 0
    second = precompute_reference(lambda: reference.context(model), forward, collator, recs2, cache, fp2)
    assert forward.calls > 0 and (cache / f"{fp2}.pt").is_file()
    assert second["r0"] == first["r0"] and second["r1"][1] != first["r1"][1]

    weights = path / "model.safetensors"
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a re-saved model
    fp3 = _fingerprint(path, data, recs2, root)
    assert fp3 != fp2
    tok_cfg = path / "tokenizer_config.json"
    text = tok_cfg.read_text()
    tok_cfg.write_text(text + " ")  # a processor/tokenizer change
    try:
        assert _fingerprint(path, data, recs2, root) != fp3
    finally:
        tok_cfg.write_text(text)
    (cache / f"{fp2}.pt").write_bytes(b"torn")  # an unreadable table is recomputed, not trusted
    forward.calls = 0
    assert precompute_reference(lambda: reference.context(model), forward, collator, recs2, cache, fp2) == second
    assert forward.calls > 0
