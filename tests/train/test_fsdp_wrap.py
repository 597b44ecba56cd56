"""The FSDP layer-class list of configs/accelerate/fsdp2.yaml, narrowed to the model's classes before
accelerate builds its wrap policy (which refuses a class the model lacks)."""

from types import SimpleNamespace

import pytest
import yaml
from accelerate.utils import FullyShardedDataParallelPlugin
from torch import nn

from mmalign.train.fsdp_wrap import narrow_wrap_classes


class LlamaDecoderLayer(nn.Module):  # named like the real classes: accelerate matches by class name
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(2, 2)


class CLIPEncoderLayer(LlamaDecoderLayer):
    pass


class LlavaShaped(nn.Module):
    def __init__(self):
        super().__init__()
        self.vision = nn.ModuleList([CLIPEncoderLayer()])
        self.decoder = nn.ModuleList([LlamaDecoderLayer(), LlamaDecoderLayer()])


def shipped_classes() -> list[str]:
    cfg = yaml.safe_load(open("configs/accelerate/fsdp2.yaml"))
    return cfg["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"].split(",")


def test_the_shipped_list_fails_in_accelerate_without_narrowing():
    plugin = FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="transformer_based_wrap",
                                            transformer_cls_names_to_wrap=shipped_classes())
    with pytest.raises(ValueError, match="Could not find the transformer layer class"):
        plugin.set_auto_wrap_policy(LlavaShaped())


def test_narrowed_list_keeps_the_models_classes_and_accelerate_accepts_it():
    plugin = FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="transformer_based_wrap",
                                            transformer_cls_names_to_wrap=shipped_classes())
    kept = narrow_wrap_classes(plugin, LlavaShaped())
    assert kept == ["LlamaDecoderLayer", "CLIPEncoderLayer"]
    plugin.set_auto_wrap_policy(LlavaShaped())  # no error now
    assert set(plugin.auto_wrap_policy.keywords["transformer_layer_cls"]) == {LlamaDecoderLayer, CLIPEncoderLayer}


def test_no_known_class_falls_back_to_the_models_no_split_modules():
    plugin = SimpleNamespace(transformer_cls_names_to_wrap="Qwen2DecoderLayer, SiglipEncoderLayer")
    assert narrow_wrap_classes(plugin, LlavaShaped()) is None
    assert plugin.transformer_cls_names_to_wrap is None


def test_without_fsdp_nothing_changes():
    assert narrow_wrap_classes(None, LlavaShaped()) is None
    plugin = SimpleNamespace(transformer_cls_names_to_wrap=None)
    assert narrow_wrap_classes(plugin, LlavaShaped()) is None
