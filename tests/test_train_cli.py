"""`mirabelle train` without the [train] extra: one sentence naming the extra (runs without torch)."""

import sys

from mirabelle.cli import main


def test_train_without_torch_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["train", "--preset", "smoke", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "training needs the [train] extra" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())
