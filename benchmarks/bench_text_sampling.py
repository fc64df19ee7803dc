"""Text sampling speed (chapter 17): dlpy's compiled sampler against the book's loop, same model,
same temperature, measured in one run.

    KERAS_HOME=... python benchmarks/bench_text_sampling.py [--book-chars 40] [--chars 2000]

The model is the last per-epoch checkpoint of chapter 17's notebook when one exists
(``build/checkpoints/17_text_generation/<profile>/``), else a freshly initialized ``LSTM(128)``
(the speed does not depend on the weights). Printed, in characters per second:

- the book's loop: one ``model.predict`` on the 60-character window per character, NumPy draw;
- the compiled sliding window: ``model(window)`` per character inside one ``tf.while_loop``
  (``TextGenerator(strategy="sliding window")``), to show what the compilation alone buys;
- dlpy's sampler (``TextGenerator``, the "lanes" design: one batched LSTM cell step per
  character), for 1 sequence and batched over temperatures x seeds;
- each one's ratio to the book's loop.

Measured on the course's shared 2-core CPU (heavily loaded by other jobs, so absolute figures are
low): book's loop 1.2 chars/s; compiled sliding window 18 / 186 / 1089 chars/s and lanes
252 / 346 / 479 chars/s for batches of 1 / 8 / 64 (211x / 290x / 402x the book's loop). The lanes
win for few sequences; for large batches on a CPU the plain compiled window catches up.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dlpy  # noqa: E402  (first: it sets TensorFlow's environment, oneDNN and log level, before TF loads)

# isort: split
import keras  # noqa: E402

from dlpy import training  # noqa: E402
from dlpy.data.nietzsche import load_nietzsche  # noqa: E402
from dlpy.generative import text_generation as text  # noqa: E402

TEMPERATURES = (0.2, 0.5, 1.0, 1.2)


def load_model(vocabulary_size: int):
    for profile in ("full", "quick", "smoke"):
        found = training.epoch_checkpoints(training.checkpoint_dir("17_text_generation", profile))
        if found:
            return keras.models.load_model(found[-1]), f"checkpoint {found[-1]}"
    return text.build_char_lstm(vocabulary_size), "untrained LSTM(128) (no chapter 17 checkpoint found)"


def chars_per_second(function, characters: int) -> float:
    start = time.perf_counter()
    function()
    return characters / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book-chars", type=int, default=40, help="characters for the book's (slow) loop")
    parser.add_argument("--chars", type=int, default=2000, help="characters per sequence for the compiled samplers")
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()

    dlpy.setup("bench_text_sampling", quiet=True)
    corpus = load_nietzsche()
    vocabulary = text.CharVocabulary.from_text(corpus)
    model, source = load_model(vocabulary.size)
    seed_text = corpus[250_000:250_060]
    print(f"model: {source}\ndevice: {dlpy.course.settings.describe_device()}, temperature {args.temperature}\n")

    book = chars_per_second(
        lambda: text.book_generate(model, vocabulary, seed_text, args.book_chars, args.temperature), args.book_chars)
    rows = [("book's loop (model.predict per character)", 1, args.book_chars, book)]

    for strategy, label in (("sliding window", "compiled sliding window, model(window) per char"),
                            ("auto", "dlpy TextGenerator (lanes)")):
        generator = text.TextGenerator(model, vocabulary, strategy=strategy)
        length = args.chars if generator.strategy == "lanes" else max(args.chars // 10, 50)
        for temperatures, per_temperature in (([args.temperature], 1), (TEMPERATURES, 2), (TEMPERATURES, 16)):
            batch = len(temperatures) * per_temperature
            generator.generate_ids(seed_text, 5, temperatures, per_temperature)  # trace and warm up
            start = time.perf_counter()
            generator.generate_ids(seed_text, length, temperatures, per_temperature, seed=1)
            speed = batch * length / (time.perf_counter() - start)
            rows.append((label, batch, length, speed))

    print(f"{'sampler':50s} {'batch':>5s} {'chars':>6s} {'chars/s':>10s} {'vs book':>8s}")
    for label, batch, length, speed in rows:
        print(f"{label:50s} {batch:5d} {length:6d} {speed:10.1f} {speed / book:7.0f}x")


if __name__ == "__main__":
    main()
