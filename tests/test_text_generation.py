"""Chapter 17 (dlpy.generative.text_generation): vectorization, the model, temperature / top-k sampling and the
compiled sampler against the book's slow loop."""

import keras
import numpy as np
import pytest
from scipy import stats

from dlpy.data import DataNotAvailableError
from dlpy.generative import text_generation as text

VOCAB = text.CharVocabulary.from_text("abcdefghij klmnop")  # 17 characters
WINDOW = 60
SEED_TEXT = "a deep pond of idea lie behind old hedge  fine mind kid hop and jog"[:WINDOW]


def fixed_distribution_model(probabilities, recurrent=True):
    """A model whose output is ``probabilities`` whatever the input (a known answer).

    With ``recurrent=True`` it is an encoding -> LSTM -> Dense chain (the "lanes" sampler);
    otherwise a model without an RNN (the "sliding window" sampler)."""
    size = len(probabilities)
    inputs = keras.Input((WINDOW,), dtype="int32")
    if recurrent:
        x = keras.layers.CategoryEncoding(size, output_mode="one_hot")(inputs)
        x = keras.layers.LSTM(4)(x)
    else:
        x = keras.layers.Embedding(size, 4)(inputs)
        x = keras.layers.GlobalAveragePooling1D()(x)
    head = keras.layers.Dense(size, activation="softmax")
    model = keras.Model(inputs, head(x))
    head.set_weights([np.zeros((4, size), "float32"), np.log(probabilities).astype("float32")])
    return model


def random_model(kind="lstm", scale=2.5, seed=4):
    """A randomly initialized character model with large weights, so that greedy decoding
    produces varied text (a near-uniform model would repeat one character)."""
    keras.utils.set_random_seed(seed)
    size = VOCAB.size
    inputs = keras.Input((WINDOW,), dtype="int32")
    if kind == "conv":  # no RNN: the sampler falls back to running the model on the window
        x = keras.layers.Embedding(size, 8)(inputs)
        x = keras.layers.Conv1D(4, 5, strides=5, activation="tanh")(x)
        x = keras.layers.Flatten()(x)
    else:
        x = keras.layers.CategoryEncoding(size, output_mode="one_hot")(inputs)
        x = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind](16)(x)
    outputs = keras.layers.Dense(size, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights([w * scale + rng.normal(0, 0.1, w.shape).astype("float32") for w in model.get_weights()])
    return model


PROBS = np.array([0.30, 0.20, 0.15, 0.10, 0.08, 0.06, 0.04, 0.03, 0.02, 0.01, 0.005, 0.005])
PROBS_VOCAB = text.CharVocabulary(tuple("abcdefghijkl"))
PROBS_SEED = "abcdefghijkl" * 5


# --------------------------------------------------------------------------- vectorization


def test_vocabulary_round_trip_and_unknown_characters():
    assert VOCAB.size == 17 and VOCAB.chars[0] == " "
    ids = VOCAB.encode("hello kid")
    assert ids.dtype == np.int32
    assert VOCAB.decode(ids) == "hello kid"
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['Z', 'x'\]"):
        VOCAB.encode("hex Zoo")


def test_make_sequences_matches_the_books_loop():
    corpus = "the quick brown fox jumps over the lazy dog " * 5
    vocab = text.CharVocabulary.from_text(corpus)
    x, y = text.make_sequences(corpus, vocab, window=10, step=3)
    sentences, next_chars = [], []
    for i in range(0, len(corpus) - 10, 3):  # the book's loop
        sentences.append(corpus[i: i + 10])
        next_chars.append(corpus[i + 10])
    assert x.shape == (len(sentences), 10) and y.shape == (len(sentences),)
    assert [vocab.decode(row) for row in x] == sentences
    assert vocab.decode(y) == "".join(next_chars)
    with pytest.raises(ValueError, match="more than window"):
        text.make_sequences("short", text.CharVocabulary.from_text("short"), window=10)


def test_nietzsche_corpus():
    from dlpy.data.nietzsche import load_nietzsche

    try:
        corpus = load_nietzsche()
    except DataNotAvailableError as error:
        pytest.skip(str(error))
    vocab = text.CharVocabulary.from_text(corpus)
    assert (len(corpus), vocab.size) == (600_893, 57)
    assert corpus == corpus.lower()
    x, y = text.make_sequences(corpus, vocab)
    assert x.shape == (200_278, 60) and y.shape == (200_278,)


def test_model_has_the_books_parameter_count():
    model = text.build_char_lstm(57)
    lstm = 4 * (128 * (57 + 128) + 128)  # four gates: input and recurrent kernels plus bias
    dense = 128 * 57 + 57
    assert model.count_params() == lstm + dense == 102_585
    assert model.output_shape == (None, 57)


# --------------------------------------------------------------------------- temperature


def test_reweight_distribution_matches_the_formula():
    for temperature in (0.2, 0.5, 1.0, 1.2, 3.0):
        expected = PROBS ** (1 / temperature) / np.sum(PROBS ** (1 / temperature))
        np.testing.assert_allclose(text.reweight_distribution(PROBS, temperature), expected, rtol=1e-10)
    np.testing.assert_allclose(text.reweight_distribution(PROBS, 1.0), PROBS, rtol=1e-12)
    # lower temperature, lower entropy
    entropies = [text.entropy_bits(text.reweight_distribution(PROBS, t)) for t in (0.2, 0.5, 1.0, 1.2)]
    assert np.all(np.diff(entropies) > 0)
    assert text.entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)


def test_temperature_towards_zero_is_argmax():
    almost_greedy = text.reweight_distribution(PROBS, 1e-3)
    np.testing.assert_allclose(almost_greedy, np.eye(len(PROBS))[np.argmax(PROBS)], atol=1e-12)
    rng = np.random.default_rng(0)
    assert {text.sample_next_char(PROBS, 1e-3, rng) for _ in range(200)} == {0}
    generator = text.TextGenerator(fixed_distribution_model(PROBS), PROBS_VOCAB)
    ids = generator.generate_ids(PROBS_SEED, 30, temperatures=[0.01], samples_per_temperature=20)
    greedy = generator.generate_ids(PROBS_SEED, 30, greedy=True)
    assert np.all(ids == 0) and np.all(greedy == 0)


def chi_square_p_value(draws, expected_probabilities):
    counts = np.bincount(np.ravel(draws), minlength=len(expected_probabilities))
    expected = expected_probabilities * counts.sum()
    assert np.all(counts[expected_probabilities == 0] == 0)
    used = expected_probabilities > 0
    return stats.chisquare(counts[used], expected[used] * counts[used].sum() / expected[used].sum()).pvalue


@pytest.mark.parametrize("recurrent", [True, False], ids=["lanes", "sliding window"])
def test_compiled_sampler_frequencies_match_the_reweighted_distribution(recurrent):
    generator = text.TextGenerator(fixed_distribution_model(PROBS, recurrent), PROBS_VOCAB)
    assert generator.strategy == ("lanes" if recurrent else "sliding window")
    temperatures = [0.5, 1.0, 1.5]
    ids = generator.generate_ids(PROBS_SEED, 20, temperatures, samples_per_temperature=400, seed=11)
    assert ids.shape == (1200, 20)
    for i, temperature in enumerate(temperatures):
        draws = ids[i * 400: (i + 1) * 400]  # 8,000 draws at this temperature
        assert chi_square_p_value(draws, text.reweight_distribution(PROBS, temperature)) > 1e-3
        # the test can fail: the same draws do not fit the distribution without reweighting
        if temperature != 1.0:
            assert chi_square_p_value(draws, PROBS) < 1e-6


def test_book_sampler_frequencies_match_the_reweighted_distribution():
    rng = np.random.default_rng(5)
    draws = [text.sample_next_char(PROBS, 0.5, rng) for _ in range(5000)]
    assert chi_square_p_value(draws, text.reweight_distribution(PROBS, 0.5)) > 1e-3


def test_top_k_never_samples_outside_the_k_largest():
    generator = text.TextGenerator(fixed_distribution_model(PROBS), PROBS_VOCAB)
    shuffled = np.random.default_rng(2).permutation(len(PROBS))  # the largest are not simply 0, 1, 2
    generator = text.TextGenerator(fixed_distribution_model(PROBS[shuffled]), PROBS_VOCAB)
    ids = generator.generate_ids(PROBS_SEED, 20, [1.0, 2.0], samples_per_temperature=300, top_k=3, seed=4)
    top3 = set(np.argsort(PROBS[shuffled])[-3:])
    assert set(np.unique(ids)) == top3
    kept = np.where(np.isin(np.arange(len(PROBS)), list(top3)), PROBS[shuffled], 0.0)
    for i, temperature in enumerate([1.0, 2.0]):
        expected = text.reweight_distribution(kept / kept.sum(), temperature)
        assert chi_square_p_value(ids[i * 300: (i + 1) * 300], expected) > 1e-3


def test_seeded_sampling_is_reproducible():
    generator = text.TextGenerator(random_model(), VOCAB)
    first = generator.generate(SEED_TEXT, 40, [0.5, 1.0], samples_per_temperature=2, seed=1)
    assert first == generator.generate(SEED_TEXT, 40, [0.5, 1.0], samples_per_temperature=2, seed=1)
    assert first != generator.generate(SEED_TEXT, 40, [0.5, 1.0], samples_per_temperature=2, seed=2)
    assert len(first) == 4 and all(len(t) == 40 for t in first)


# --------------------------------------------------------------------------- fast sampler vs the book's loop


@pytest.mark.parametrize("kind, length", [("lstm", 80), ("gru", 70), ("conv", 64)])
def test_greedy_compiled_sampler_equals_the_books_loop(kind, length):
    """Every character, also past the first 60: the sampler computes the exact sliding window."""
    model = random_model(kind)
    generator = text.TextGenerator(model, VOCAB)
    assert generator.strategy == ("sliding window" if kind == "conv" else "lanes")
    reference = text.book_generate(model, VOCAB, SEED_TEXT, length, greedy=True)
    assert len(set(reference)) >= 4  # varied text, so that matching it means something
    fast = generator.generate(SEED_TEXT, length, greedy=True, samples_per_temperature=3)
    assert fast == [reference] * 3


def test_a_longer_seed_uses_its_last_window():
    model = random_model()
    generator = text.TextGenerator(model, VOCAB)
    longer = "ponder " * 5 + SEED_TEXT
    assert generator.generate(longer, 20, greedy=True) == generator.generate(SEED_TEXT, 20, greedy=True)


# --------------------------------------------------------------------------- bad input


def test_bad_input_gets_clear_errors():
    generator = text.TextGenerator(random_model(), VOCAB)
    for temperature in (0, -0.5, [0.5, 0.0]):
        with pytest.raises(ValueError, match="greedy=True"):
            generator.generate(SEED_TEXT, 10, temperature)
    with pytest.raises(ValueError, match="greedy=True"):
        text.reweight_distribution(PROBS, 0.0)
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['Q'\]"):
        generator.generate("Q" + SEED_TEXT[1:], 10)
    with pytest.raises(ValueError, match="at least 60 characters"):
        generator.generate(SEED_TEXT[:59], 10)
    with pytest.raises(ValueError, match="top_k"):
        generator.generate(SEED_TEXT, 10, top_k=0)
    with pytest.raises(ValueError, match="top_k"):
        generator.generate(SEED_TEXT, 10, top_k=VOCAB.size + 1)
    with pytest.raises(ValueError, match="length"):
        generator.generate(SEED_TEXT, 0)
    with pytest.raises(ValueError, match="vocabulary"):
        text.TextGenerator(random_model(), text.CharVocabulary(tuple("abc")))
    with pytest.raises(ValueError, match="greedy=True"):
        text.book_generate(random_model(), VOCAB, SEED_TEXT, 5, temperature=0)


def test_sample_callback_keeps_samples_of_the_chosen_epochs():
    model = text.build_char_lstm(VOCAB.size, units=8)
    x, y = text.make_sequences(SEED_TEXT * 3, VOCAB, step=7)
    callback = text.sample_callback(text.TextGenerator(model, VOCAB), SEED_TEXT, epochs=[1, 3],
                                    temperatures=(0.2, 1.0), length=25, printed=False)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[callback])
    assert sorted(callback.samples) == [1, 3]
    assert sorted(callback.samples[3]) == [0.2, 1.0]
    assert all(len(sample) == 25 for sample in callback.samples[3].values())


def test_strategy_choice():
    assert text.TextGenerator(random_model("lstm"), VOCAB, strategy="sliding window").strategy == "sliding window"
    with pytest.raises(ValueError, match="strategy='lanes' needs a chain"):
        text.TextGenerator(random_model("conv"), VOCAB, strategy="lanes")
    with pytest.raises(ValueError, match="strategy must be"):
        text.TextGenerator(random_model("lstm"), VOCAB, strategy="stateful")


def test_plot_temperatures_draws_the_reweighted_distributions():
    import matplotlib

    matplotlib.use("Agg")
    axes = text.plot_temperatures(PROBS, PROBS_VOCAB, temperatures=(0.5, 2.0), top=5)
    for ax, temperature in zip(axes, (0.5, 2.0)):
        heights = [bar.get_height() for bar in ax.patches]
        np.testing.assert_allclose(heights, text.reweight_distribution(PROBS, temperature)[:5])
        assert f"{text.entropy_bits(text.reweight_distribution(PROBS, temperature)):.2f} bits" in ax.get_title()
