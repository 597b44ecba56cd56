"""With LoRA a round's adapter is merged into its base and saved as a plain model: the next round's policy
and, adapters disabled, its reference."""

import pytest
import torch
import yaml
from recipe_kit import few_prompts, metrics, tiny_recipe

from mmalign.models.load import load
from mmalign.recipe import run_recipe


def test_lora_rounds_merge_the_adapter_into_the_next_rounds_model(tmp_path, tiny_llava_path, synth_pairs):
    prompts = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("iterative_dpo", str(tiny_llava_path), prompts, str(tmp_path / "run"),
                      **{"train.lora.enabled": True, "train.lora.r": 4, "train.lora.alpha": 8,
                         "train.lora.dropout": 0.0, "train.learning_rate": 5e-2})
    plan = run_recipe(cfg, log=lambda *_: None)
    out = tmp_path / "run"
    merged = out / "iter-1/merge"
    assert plan.rounds[0].next_policy == plan.rounds[1].policy == str(merged)
    assert (out / "iter-1/train/final/adapter_config.json").is_file()
    assert not (merged / "adapter_config.json").exists() and (merged / "config.json").is_file()
    # the merged folder is the adapter applied to its base, and differs from the base (training moved it)
    via_adapter = load(out / "iter-1/train/final").model.state_dict()
    plain = load(merged).model.state_dict()
    base = load(tiny_llava_path).model.state_dict()
    assert via_adapter.keys() == plain.keys()
    for k in plain:
        torch.testing.assert_close(plain[k], via_adapter[k], rtol=0, atol=0)
    assert any(not torch.equal(plain[k], base[k]) for k in plain)
    # round 2 trains LoRA on the merged model; its adapter-disabled reference is that model: rewards 0 at step 1
    assert yaml.safe_load((out / "iter-2/train/config.yaml").read_text())["model"] == str(merged)
    first = metrics(out / "iter-2/train")[0]
    assert first["rewards/chosen"] == pytest.approx(0.0, abs=1e-6)
    assert first["rewards/rejected"] == pytest.approx(0.0, abs=1e-6)
    assert (out / "iter-2/merge/config.json").is_file()
