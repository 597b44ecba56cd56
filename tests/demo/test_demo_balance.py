"""mmalign demo --balance-answers: the DPO config balances the pairs by answer word; colour by default."""

import yaml

from mmalign.cli.main import main
from mmalign.demo.pipeline import DemoSettings, dpo_config


def test_balance_answers_adds_the_transform_colour_by_default(tmp_path):
    off = yaml.safe_load(dpo_config(tmp_path / "b", tmp_path / "pairs", tmp_path / "a" / "dpo", 0,
                                    DemoSettings(balance_answers="")).read_text())
    assert "transforms" not in off
    default = yaml.safe_load(dpo_config(tmp_path / "b", tmp_path / "pairs", tmp_path / "c" / "dpo", 0,
                                        DemoSettings()).read_text())
    assert default["transforms"] == [{"name": "balance_answers", "kinds": "colour"}]
    both = yaml.safe_load(dpo_config(tmp_path / "b", tmp_path / "pairs", tmp_path / "d" / "dpo", 0,
                                     DemoSettings(balance_answers="colour,shape")).read_text())
    assert both["transforms"] == [{"name": "balance_answers", "kinds": "colour,shape"}]


def test_none_turns_balancing_off_and_unknown_kinds_are_refused(tmp_path, capsys):
    from mmalign.cli.demo import build_parser, settings_from

    parse = build_parser().parse_args
    assert settings_from(parse([])).balance_answers == "colour"
    assert settings_from(parse(["--balance-answers", "none"])).balance_answers == ""
    assert settings_from(parse(["--balance-answers", "colour,exists"])).balance_answers == "colour,exists"
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--balance-answers", "colr", "--out", str(out)]) == 1
    assert "unknown kind(s) colr" in capsys.readouterr().err
    assert not out.exists()  # refused before anything ran


def test_the_flag_is_documented(capsys):
    try:
        main(["demo", "--help"])
    except SystemExit:
        pass
    assert "--balance-answers" in capsys.readouterr().out
