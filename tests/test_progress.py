"""The iterative algorithms' progress (dlpy.generative.progress): losses and snapshots kept, Keras's
progress bar shown as asked, bad settings refused."""

import numpy as np
import pytest

from dlpy.course.settings import interactive_verbosity
from dlpy.generative.progress import QUIET, Display, Progress


def test_progress_keeps_every_loss_and_the_due_snapshots(capsys):
    progress = Progress(total=6, every=3, snapshot_every=2, verbose=0)
    for step in range(1, 7):
        progress.update(step, np.full((4, 4, 3), 300.0 * step), loss=float(step))
    assert progress.history == {"loss": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    assert [step for step, _ in progress.snapshots] == [2, 4, 6]
    assert progress.snapshots[0][1].dtype == np.uint8 and progress.snapshots[0][1].max() == 255
    assert capsys.readouterr().out == ""  # verbose 0 prints nothing
    assert progress.steps_per_second > 0


def test_headless_progress_prints_one_line_every_few_steps(capsys):
    progress = Progress(total=4, every=2, verbose=2, label="dream")
    for step in range(1, 5):
        progress.update(step, loss=0.5 * step)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "dream:"
    assert [line.split(" - ")[0] for line in lines[1:]] == ["2/4", "4/4"]
    assert lines[-1].endswith("loss: 2.0000")  # the current value, not a running mean


def test_headless_runs_get_one_line_per_epoch(monkeypatch):
    monkeypatch.setenv("DLPY_HEADLESS", "1")
    assert interactive_verbosity() == 2


@pytest.mark.parametrize("bad", [{"verbose": 3}, {"every": 0}, {"snapshot_every": 1.5}, {"every": True}])
def test_bad_display_settings_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        Display(**bad)


def test_display_fills_in_the_algorithms_defaults():
    progress = Display(every=5).progress(20, every=10, snapshot_every=4)
    assert (progress.every, progress.snapshot_every) == (5, 4)
    assert QUIET.progress(3).verbose == 0 and not QUIET.live
    with pytest.raises(ValueError, match="at least 1 step"):
        Progress(0)
