"""Forecasting windows and the common-sense baseline (the book's 2nd edition, ch. 10, Jena climate).

A sample is ``sequence_length`` readings taken every ``sampling_rate`` steps; its target is the
value ``horizon`` steps after the **last** reading of the window. With the Jena data (a reading every
10 minutes), ``sampling_rate=6`` keeps one reading an hour, ``sequence_length=120`` is five days and
``horizon=144`` is 24 hours after the last reading. :func:`forecast_windows` builds these with
``keras.utils.timeseries_dataset_from_array``; the target offset is computed from the window's last
reading, so the window length and the delay cannot drift apart (the book writes the delay as
``sampling_rate * (sequence_length + 24 - 1)``, the same point for hourly readings).
"""

from __future__ import annotations

import keras
import numpy as np

from dlpy.course.arguments import integer_at_least


def window_span(sequence_length: int, sampling_rate: int) -> int:
    """How many raw steps one window covers, first reading to last included. Taught in chapter 13."""
    readings = integer_at_least("sequence_length", sequence_length)
    return (readings - 1) * integer_at_least("sampling_rate", sampling_rate) + 1


def forecast_windows(features, target, *, sequence_length: int, sampling_rate: int, horizon: int,
                     start: int = 0, end: int | None = None, batch_size: int = 256, shuffle: bool = False,
                     seed: int | None = None):
    """A ``tf.data`` dataset of ``(windows, targets)``: windows ``(batch, sequence_length, features)``
    whose first reading lies in ``[start, end)`` and whose target, ``target[last reading + horizon]``,
    exists.

    Args:
        features: the readings, ``(steps, features)`` (normalized with training statistics).
        target: the value to forecast, ``(steps,)`` (e.g. the temperature in degrees).
        sequence_length: readings per window.
        sampling_rate: raw steps between two readings of a window.
        horizon: raw steps from a window's last reading to its target.
        start, end: the range of window starts (``end``: exclusive, ``None``: as far as targets exist).
        batch_size: windows per batch.
        shuffle, seed: shuffle the windows (training), with this seed.

    Example::

        train = forecast_windows(x, temperature, sequence_length=120, sampling_rate=6, horizon=144,
                                 end=train_end, shuffle=True, seed=0)

    Taught in chapter 13.
    """
    import keras

    features = np.asarray(features, dtype="float32")
    target = np.asarray(target, dtype="float32")
    if features.ndim != 2 or target.ndim != 1 or len(features) != len(target):
        raise ValueError(f"features is (steps, features) and target (steps,), of the same length; got shapes "
                         f"{features.shape} and {target.shape}.")
    span = window_span(sequence_length, sampling_rate)
    offset = span - 1 + integer_at_least("horizon", horizon)  # from a window's first reading to its target
    last_start = len(target) - 1 - offset
    end = last_start + 1 if end is None else min(int(end), last_start + 1)
    if not 0 <= start < end:
        raise ValueError(f"No window starts in [{start}, {end}): {len(target)} steps hold windows of {span} steps "
                         f"with targets {horizon} steps later only for starts up to {last_start}.")
    return keras.utils.timeseries_dataset_from_array(
        features[start:end + span - 1], target[start + offset:end + offset], sequence_length=sequence_length,
        sampling_rate=sampling_rate, batch_size=batch_size, shuffle=shuffle, seed=seed,
    )


SPLITS = ("train", "validation", "test")


def interleaved_blocks(num_steps: int, block_steps: int, gap_steps: int,
                       pattern=("train", "train", "validation", "test")) -> dict[str, list[tuple[int, int]]]:
    """Cut ``num_steps`` into blocks of ``block_steps`` (e.g. whole weeks) assigned to the splits in
    the repeating ``pattern``, with ``gap_steps`` left unused between two blocks: ``{split: [(start,
    end), ...]}``. Every split then spans every season of the data, and with ``gap_steps`` at least a
    window's span plus its horizon no window of one split sees a reading near another's. (The book
    splits 50/25/25 in time order, which on half a year puts winter in training and summer in the
    test set.) Taught in chapter 13."""
    block_steps, num_steps = integer_at_least("block_steps", block_steps), integer_at_least("num_steps", num_steps)
    integer_at_least("gap_steps", gap_steps, minimum=0)
    unknown = sorted(set(pattern) - set(SPLITS))
    if unknown or not pattern:
        raise ValueError(f"pattern names splits among {SPLITS}; got {tuple(pattern)!r}.")
    blocks: dict[str, list[tuple[int, int]]] = {split: [] for split in SPLITS if split in pattern}
    start, index = 0, 0
    while start + block_steps <= num_steps:
        blocks[pattern[index % len(pattern)]].append((start, start + block_steps))
        start += block_steps + gap_steps
        index += 1
    if any(not ranges for ranges in blocks.values()):
        raise ValueError(f"{num_steps} steps hold {index} block(s) of {block_steps} (+{gap_steps} gap): too few for "
                         f"the pattern {tuple(pattern)}; use shorter blocks.")
    return blocks


def chronological_blocks(num_steps: int, fractions=(0.5, 0.25, 0.25)) -> dict[str, list[tuple[int, int]]]:
    """The book's split in time order, as blocks for :func:`block_windows`: the first half trains, the
    next quarter validates, the last quarter tests (``fractions``, summing to 1). Right for eight years
    of data, where each part spans every season; wrong for half a year (see :func:`interleaved_blocks`).
    Taught in chapter 13."""
    num_steps = integer_at_least("num_steps", num_steps)
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions are three positive shares (train, validation, test) summing to 1; "
                         f"got {tuple(fractions)!r}.")
    train_end = int(num_steps * fractions[0])
    validation_end = train_end + int(num_steps * fractions[1])
    return {"train": [(0, train_end)], "validation": [(train_end, validation_end)],
            "test": [(validation_end, num_steps)]}


def training_statistics(values, blocks) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of the rows inside ``blocks`` (the training blocks), to
    normalize the whole series without letting validation or test data into the statistics.
    Taught in chapter 13."""
    values = np.asarray(values, dtype="float64")
    rows = np.concatenate([values[start:end] for start, end in blocks]) if blocks else values[:0]
    if not len(rows):
        raise ValueError("The training blocks hold no rows: nothing to take statistics from.")
    std = rows.std(axis=0)
    return rows.mean(axis=0).astype("float32"), np.where(std == 0, 1.0, std).astype("float32")


def block_windows(features, target, blocks, *, sequence_length: int, sampling_rate: int, horizon: int,
                  batch_size: int = 256, shuffle: bool = False, seed: int | None = None):
    """The windows of :func:`forecast_windows` that lie wholly, target included, inside one of
    ``blocks``, as one dataset.

    Args:
        features, target: the whole series, as for :func:`forecast_windows`.
        blocks: ``[(start, end), ...]``, e.g. one split of :func:`interleaved_blocks`.
        sequence_length, sampling_rate, horizon: the windows, as for :func:`forecast_windows`.
        batch_size: windows per batch.
        shuffle, seed: shuffle the windows of all blocks together (training), with this seed.

    Example::

        splits = interleaved_blocks(len(temperature), block_steps=7 * 144, gap_steps=864)
        train = block_windows(x, temperature, splits["train"], sequence_length=120, sampling_rate=6,
                              horizon=144, shuffle=True, seed=0)

    Taught in chapter 13."""
    import tensorflow as tf

    offset = window_span(sequence_length, sampling_rate) - 1 + integer_at_least("horizon", horizon)
    parts, count = [], 0
    for start, end in blocks:
        if end - start > offset:  # room for at least one window and its target
            part = forecast_windows(features[start:end], target[start:end], sequence_length=sequence_length,
                                    sampling_rate=sampling_rate, horizon=horizon, batch_size=batch_size)
            parts.append(part.unbatch())
            count += end - start - offset  # windows starting at start ... end - 1 - offset
    if not parts:
        raise ValueError(f"No block is longer than a window plus its horizon ({offset + 1} steps).")
    dataset = parts[0]
    for part in parts[1:]:
        dataset = dataset.concatenate(part)
    # unbatch() hides the size; stating it lets Keras show progress and stop an epoch cleanly
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    if shuffle:
        dataset = dataset.shuffle(100_000, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def common_sense_mae(dataset, target_column: int, mean: float = 0.0, std: float = 1.0) -> float:
    """The mean absolute error of forecasting "the value at the window's last reading" (tomorrow =
    today at this hour) over a dataset of :func:`forecast_windows`. ``target_column`` is where the
    target sits among the features, ``mean`` and ``std`` undo its normalization. Taught in chapter 13."""
    errors, count = 0.0, 0
    for windows, targets in dataset:
        guess = np.asarray(windows)[:, -1, target_column] * std + mean
        errors += float(np.abs(guess - np.asarray(targets)).sum())
        count += len(guess)
    if not count:
        raise ValueError("The dataset is empty: no windows to score.")
    return errors / count


@keras.saving.register_keras_serializable(package="dlpy")
class LastReading(keras.layers.Layer):
    """The common-sense forecast as a layer: from windows ``(batch, steps, features)`` normalized
    with ``mean``/``std``, the target quantity (``column``) at the last reading, back in its own units,
    ``(batch, 1)``. Added to a correction whose last ``Dense`` starts at zero, it makes a model that
    starts exactly at the baseline and learns only what the baseline misses (a residual forecast).
    Taught in chapter 13."""

    def __init__(self, column: int, mean: float = 0.0, std: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.column = integer_at_least("column", column, minimum=0)
        self.mean, self.std = float(mean), float(std)

    def call(self, windows):
        return windows[:, -1, self.column:self.column + 1] * self.std + self.mean

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "column": self.column, "mean": self.mean, "std": self.std}
