"""scripts.release: writing and reading release.json (verify runs in tests/test_launch.py)."""

import json

import pytest

from scripts import release

DIGEST = "sha256:" + "e" * 64


def test_write_then_tag_round_trips(tmp_path, capsys):
    assert release.main(["write", "--tag", "abc123", "--digest", DIGEST, "--commit", "abc123"]) == 0
    path = tmp_path / "release.json"
    path.write_text(capsys.readouterr().out)
    assert json.loads(path.read_text())["image_digest"] == DIGEST
    assert release.main(["tag", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "abc123"


def test_write_refuses_a_digest_that_is_not_sha256(capsys):
    with pytest.raises(SystemExit):
        release.main(["write", "--tag", "t", "--digest", "latest", "--commit", "c"])
    assert "--digest must be sha256:" in capsys.readouterr().err


def test_a_release_without_a_digest_is_refused(tmp_path):
    path = tmp_path / "release.json"
    path.write_text(json.dumps({"image_tag": "abc"}))
    with pytest.raises(SystemExit, match="missing image_digest"):
        release.main(["tag", str(path)])
