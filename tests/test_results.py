import json

import pytest

import dlpy
from dlpy.course import results, settings


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    monkeypatch.setattr(settings, "_current", settings.Settings("99_test", "smoke", 1, "CPU (2 cores)"))
    return tmp_path


def test_record_files_a_row_and_replaces_it_when_recorded_again(build):
    dlpy.record("test_accuracy", 0.81, book=0.88)
    dlpy.record("test_accuracy", 0.875, book=0.88)
    dlpy.record("test_loss", 0.3)
    rows = json.loads((build / "results.json").read_text())
    assert [(r["metric"], r["value"]) for r in rows] == [("test_accuracy", 0.875), ("test_loss", 0.3)]
    assert rows[0]["chapter"] == "99_test" and rows[0]["profile"] == "smoke" and rows[0]["book"] == 0.88


def test_table_lists_every_row(build):
    dlpy.record("val_mae", 2.41, book=2.5)
    table = results.format_table(results.load_results())
    assert "99_test" in table and "val_mae" in table and "2.41" in table and "2.5" in table


def test_record_needs_a_number(build):
    with pytest.raises(TypeError, match="needs a number"):
        dlpy.record("test_accuracy", "high")


def test_record_before_setup_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    monkeypatch.setattr(settings, "_current", None)
    with pytest.raises(RuntimeError, match="dlpy.setup"):
        dlpy.record("x", 1.0)


def test_rows_filed_under_a_renumbered_chapter_read_under_its_new_name(build):
    old = {"chapter": "16_dcgan", "metric": "fid", "value": 9.0, "book": None, "profile": "smoke",
           "device": "CPU", "wall_time_s": 1.0, "note": "", "recorded_at": "2026-11-01 10:00:00"}
    newer = dict(old, chapter="21_dcgan", value=5.0, recorded_at="2026-12-01 10:00:00")
    other = dict(old, chapter="12_text_generation", metric="loss", value=1.5)
    (build / "results.json").write_text(json.dumps([newer, old, other]))
    rows = results.load_results()
    assert [(r["chapter"], r["metric"], r["value"]) for r in rows] == [
        ("17_text_generation", "loss", 1.5), ("21_dcgan", "fid", 5.0)]


def test_rel_error_is_cs231ns_relative_error():
    import numpy as np

    assert dlpy.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert dlpy.rel_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(0.5)  # |3 - 1| / (3 + 1)
    assert dlpy.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        dlpy.rel_error([1.0], [1.0, 2.0])
