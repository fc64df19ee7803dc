"""TensorBoard's event files read back with TensorBoard's own reader (``EventAccumulator``) and
plotted, so that a headless run (CI, ``dlpy run``) shows the curves the TensorBoard app would.
Taught in chapter 14."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_scalars(log_dir) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Every scalar logged under ``log_dir``: ``{run: {tag: (steps, values)}}``, a run per folder
    holding event files (Keras writes ``train/`` and ``validation/``), steps in order. Scalars written
    by ``tf.summary.scalar`` (stored as tensors) and by the older ``simple_value`` both count.
    Taught in chapter 14."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    log_dir = Path(log_dir)
    runs = sorted({path.parent for path in log_dir.rglob("events.out.tfevents.*")})
    if not runs:
        raise FileNotFoundError(f"No TensorBoard event files under {log_dir}: pass the log_dir given to "
                                "keras.callbacks.TensorBoard, after fit has run.")
    scalars = {}
    for run in runs:
        accumulator = EventAccumulator(str(run), size_guidance={"tensors": 0, "scalars": 0})
        accumulator.Reload()
        tags = accumulator.Tags()
        found = {}
        for tag in tags.get("tensors", []):
            events = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]
            if events and all(np.ndim(value) == 0 and np.issubdtype(value.dtype, np.number) for _, value in events):
                found[tag] = events
        for tag in tags.get("scalars", []):
            found[tag] = [(e.step, e.value) for e in accumulator.Scalars(tag)]
        if found:
            run_scalars = {}
            for tag, events in found.items():
                ordered = sorted(events, key=lambda event: event[0])
                run_scalars[tag] = (np.array([step for step, _ in ordered]),
                                    np.array([float(value) for _, value in ordered]))
            scalars[run.relative_to(log_dir).as_posix()] = run_scalars
    return scalars


def plot_scalars(scalars: dict, tags, title: str | None = None, axes=None):
    """One panel per tag, one line per run (e.g. ``train`` and ``validation``), from
    :func:`read_scalars`. Returns the axes. Taught in chapter 14."""
    import matplotlib.pyplot as plt

    tags = list(tags)
    if axes is None:
        _, axes = plt.subplots(1, len(tags), figsize=(4.5 * len(tags), 3.2), squeeze=False)
        axes = axes[0]
    for axis, tag in zip(axes, tags):
        shown = False
        for run, run_scalars in scalars.items():
            if tag in run_scalars:
                steps, values = run_scalars[tag]
                axis.plot(steps, values, marker=".", label=run)
                shown = True
        if not shown:
            known = sorted({t for run_scalars in scalars.values() for t in run_scalars})
            raise ValueError(f"No run logged the tag {tag!r}; the tags are: {', '.join(known)}")
        axis.set(title=tag, xlabel="step (epoch)")
        axis.legend()
    if title:
        axes[0].figure.suptitle(title)
    return axes
