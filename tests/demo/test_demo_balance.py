"""mmalign demo --balance-answers: the DPO config balances the pairs by answer word; off by default."""

import yaml

from mmalign.cli.main import main
from mmalign.demo.pipeline import DemoSettings, dpo_config


def test_balance_answers_adds_the_transform_and_is_off_by_default(tmp_path):
    off = yaml.safe_load(dpo_config(tmp_path / "b", tmp_path / "pairs", tmp_path / "a" / "dpo", 0,
                                    DemoSettings()).read_text())
    assert "transforms" not in off
    on = yaml.safe_load(dpo_config(tmp_path / "b", tmp_path / "pairs", tmp_path / "c" / "dpo", 0,
                                   DemoSettings(balance_answers="colour")).read_text())
    assert on["transforms"] == [{"name": "balance_answers", "kinds": "colour"}]


def test_the_flag_is_documented(capsys):
    try:
        main(["demo", "--help"])
    except SystemExit:
        pass
    assert "--balance-answers" in capsys.readouterr().out
