"""dlpy.sequences against independent NumPy references: attention (with and without a padding mask),
the Transformer encoder's attention with its own weights, saving and reloading the layers, the
forecasting windows and the common-sense baseline."""

import keras
import numpy as np
import pytest

from dlpy import rel_error
from dlpy.sequences.attention import PositionalEmbedding, TransformerEncoder, scaled_dot_product_attention
from dlpy.sequences.text import (
    bag_or_sequence,
    smoothed_idf,
    text_dataset,
    tf_idf_vectorizer,
    token_ids,
)
from dlpy.sequences.timeseries import (
    LastReading,
    block_windows,
    chronological_blocks,
    common_sense_mae,
    forecast_windows,
    interleaved_blocks,
    training_statistics,
    window_span,
)
from dlpy.viz.neighbors import nearest_words


def numpy_attention(q, k, v, mask=None):
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(k.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


@pytest.mark.parametrize("masked", [False, True])
def test_scaled_dot_product_attention_matches_numpy(rng, masked):
    q, k, v = (rng.normal(size=(2, 5, 4)).astype("float32") for _ in range(3))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool) if masked else None
    outputs, weights = scaled_dot_product_attention(q, k, v, mask)
    want_outputs, want_weights = numpy_attention(q, k, v, mask)
    assert rel_error(np.asarray(outputs), want_outputs) < 1e-5
    assert rel_error(np.asarray(weights), want_weights) < 1e-5
    if masked:
        assert np.all(np.asarray(weights)[0, :, 3:] == 0)  # padding gets no weight


@pytest.mark.parametrize("masked", [False, True])
def test_the_encoders_attention_is_scaled_dot_product_attention_of_its_projections(rng, masked):
    keras.utils.set_random_seed(0)
    encoder = TransformerEncoder(dim=4, dense_dim=8, num_heads=1)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    encoder(x, mask=mask if masked else None)  # builds the layer
    got = np.asarray(encoder.attention(x, x, attention_mask=mask[:, None, :] if masked else None))
    attention = encoder.attention
    q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias, o_kernel, o_bias = (np.asarray(w) for w in attention.weights)
    q = x @ q_kernel[:, 0] + q_bias[0]
    k = x @ k_kernel[:, 0] + k_bias[0]
    v = x @ v_kernel[:, 0] + v_bias[0]
    mixed, _ = numpy_attention(q, k, v, mask if masked else None)
    want = mixed @ o_kernel[0] + o_bias
    assert rel_error(got, want) < 1e-4


def test_padding_does_not_change_the_encoding_of_real_tokens(rng):
    keras.utils.set_random_seed(1)
    ids = keras.Input((None,), dtype="int32")
    encoded = TransformerEncoder(8, 16, 2)(PositionalEmbedding(6, 20, 8)(ids))
    model = keras.Model(ids, encoded)
    padded = np.asarray(model(np.array([[3, 7, 9, 0, 0, 0]], "int32")))
    alone = np.asarray(model(np.array([[3, 7, 9]], "int32")))  # the same review, no padding at all
    np.testing.assert_allclose(padded[0, :3], alone[0], rtol=1e-5, atol=1e-6)
    longer = np.asarray(model(np.array([[3, 7, 9, 4, 0, 0]], "int32")))
    assert not np.allclose(longer[0, :3], alone[0])  # a real fourth token does change them


def test_the_layers_save_and_reload(tmp_path):
    keras.utils.set_random_seed(2)
    ids = keras.Input((6,), dtype="int32")
    x = TransformerEncoder(8, 16, 2)(PositionalEmbedding(6, 20, 8)(ids))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling1D()(x))
    model = keras.Model(ids, outputs)
    batch = np.array([[1, 5, 2, 0, 0, 0], [4, 4, 4, 4, 4, 4]], "int32")
    model.save(tmp_path / "transformer.keras")
    again = keras.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_allclose(np.asarray(again(batch)), np.asarray(model(batch)), rtol=1e-6)


def test_bad_layer_settings_say_what_fits():
    with pytest.raises(ValueError, match=r"dim \(10\) must be a multiple of num_heads \(4\)"):
        TransformerEncoder(10, 16, 4)
    with pytest.raises(ValueError, match="sequence_length must be a positive integer, got 0"):
        PositionalEmbedding(0, 20, 8)


def numpy_windows(features, target, sequence_length, sampling_rate, horizon, start, end):
    span = (sequence_length - 1) * sampling_rate + 1
    windows, targets = [], []
    for first in range(start, end):
        last = first + span - 1
        if last + horizon >= len(target):
            break
        windows.append(features[first:last + 1:sampling_rate])
        targets.append(target[last + horizon])
    return np.array(windows), np.array(targets)


@pytest.mark.parametrize("sequence_length, sampling_rate, horizon, start, end", [
    (3, 2, 4, 0, None), (5, 1, 1, 3, 20), (4, 3, 6, 10, 25), (120 // 12, 6, 144 // 12, 0, None),
])
def test_forecast_windows_match_a_numpy_windowing(sequence_length, sampling_rate, horizon, start, end):
    steps = 100
    features = np.stack([np.arange(steps), -np.arange(steps)], axis=1).astype("float32")
    target = np.arange(steps, dtype="float32") * 10
    dataset = forecast_windows(features, target, sequence_length=sequence_length, sampling_rate=sampling_rate,
                               horizon=horizon, start=start, end=end, batch_size=7)
    got_windows = np.concatenate([np.asarray(w) for w, _ in dataset])
    got_targets = np.concatenate([np.asarray(t) for _, t in dataset])
    want_windows, want_targets = numpy_windows(features, target, sequence_length, sampling_rate, horizon, start,
                                               end if end is not None else steps)
    np.testing.assert_array_equal(got_windows, want_windows)
    np.testing.assert_array_equal(got_targets, want_targets)
    # the target is `horizon` steps after the window's last reading: 24 hours for the book's Jena setting
    assert np.all(got_targets / 10 == got_windows[:, -1, 0] + horizon)


def test_the_books_jena_window_covers_five_days_and_targets_a_day_after_its_end():
    assert window_span(120, 6) == 715  # 119 hours between the first and the last reading, every 10 minutes
    assert (window_span(120, 6) - 1) + 144 == 6 * (120 + 24 - 1)  # the book's delay, the same target


def test_common_sense_mae_matches_numpy(rng):
    steps = 80
    temperature = rng.normal(10, 5, size=steps).astype("float32")
    mean, std = float(temperature.mean()), float(temperature.std())
    features = np.stack([(temperature - mean) / std, rng.normal(size=steps)], axis=1).astype("float32")
    dataset = forecast_windows(features, temperature, sequence_length=4, sampling_rate=2, horizon=5, batch_size=9)
    windows, targets = numpy_windows(features, temperature, 4, 2, 5, 0, steps)
    want = np.mean(np.abs(windows[:, -1, 0] * std + mean - targets))
    assert common_sense_mae(dataset, 0, mean, std) == pytest.approx(want, rel=1e-5)


def test_windows_that_cannot_exist_are_refused():
    with pytest.raises(ValueError, match=r"No window starts in \[0, -2\): 10 steps hold windows of 8 steps"):
        forecast_windows(np.zeros((10, 1)), np.zeros(10), sequence_length=8, sampling_rate=1, horizon=5)
    with pytest.raises(ValueError, match="features is \\(steps, features\\) and target \\(steps,\\)"):
        forecast_windows(np.zeros((10, 1)), np.zeros(9), sequence_length=2, sampling_rate=1, horizon=1)
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        forecast_windows(np.zeros((10, 1)), np.zeros(10), sequence_length=2, sampling_rate=1, horizon=0)


def test_interleaved_blocks_follow_the_pattern_with_gaps_and_span_the_whole_series():
    blocks = interleaved_blocks(1000, 100, 20)
    assert blocks == {"train": [(0, 100), (120, 220), (480, 580), (600, 700)],
                      "validation": [(240, 340), (720, 820)], "test": [(360, 460), (840, 940)]}
    spans = [[i for start, end in ranges for i in range(start, end)] for ranges in blocks.values()]
    assert not set(spans[0]) & set(spans[1]) and not set(spans[0]) & set(spans[2])
    assert min(spans[2]) < 500 < max(spans[2])  # the test split sees the start and the end of the series


@pytest.mark.parametrize("kwargs, message", [
    ({"block_steps": 0}, "block_steps must be a positive integer"),
    ({"gap_steps": -1}, "gap_steps must be an integer of at least 0"),
    ({"pattern": ("train", "holdout")}, "pattern names splits among"),
    ({"block_steps": 400}, "too few for the pattern"),
])
def test_blocks_that_cannot_work_are_refused(kwargs, message):
    arguments = {"num_steps": 1000, "block_steps": 100, "gap_steps": 20, **kwargs}
    with pytest.raises(ValueError, match=message):
        interleaved_blocks(**arguments)


def test_block_windows_keep_every_window_and_target_inside_its_block():
    steps = 300
    features = np.arange(steps, dtype="float32")[:, None]
    target = np.arange(steps, dtype="float32")
    blocks = [(0, 60), (100, 150), (200, 214)]  # the last block is too short: 14 steps, a window needs 15
    dataset = block_windows(features, target, blocks, sequence_length=4, sampling_rate=3, horizon=5, batch_size=16)
    windows = np.concatenate([np.asarray(w)[..., 0] for w, _ in dataset])
    targets = np.concatenate([np.asarray(t) for _, t in dataset])
    pieces = [numpy_windows(features, target, 4, 3, 5, start, end - 14) for start, end in [(0, 60), (100, 150)]]
    want = [np.concatenate([piece[i] for piece in pieces]) for i in (0, 1)]
    np.testing.assert_array_equal(windows, want[0][..., 0])
    np.testing.assert_array_equal(targets, want[1])
    assert int(dataset.cardinality()) == -(-len(targets) // 16)  # the size is known, in batches
    for first, last_target in zip(windows[:, 0], targets):
        assert any(start <= first and last_target < end for start, end in blocks)


@pytest.mark.parametrize("ngrams, ngram_range", [(None, (1, 1)), (2, (1, 2))])
def test_tf_idf_matches_scikit_learn(ngrams, ngram_range):
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = ["the cat sat on the mat", "the dog sat", "a cat and a dog", "the the the"]
    reference = TfidfVectorizer(norm=None, token_pattern=r"(?u)\b\w+\b", ngram_range=ngram_range)
    want = reference.fit_transform(corpus).toarray()
    layer = tf_idf_vectorizer(corpus, ngrams=ngrams)
    vocabulary = layer.get_vocabulary()
    got = np.asarray(layer(corpus))
    columns = [vocabulary.index(term) for term in reference.get_feature_names_out()]
    assert rel_error(got[:, columns], want) < 1e-6
    assert not got[:, 0].any()  # nothing out of the vocabulary in the training texts
    assert np.asarray(layer(["zebra zebra cat"]))[0, 0] > 0  # unseen words land in column 0


def test_smoothed_idf_is_one_for_a_word_in_every_document_and_refuses_impossible_counts():
    np.testing.assert_allclose(smoothed_idf([4, 1, 0], 4), [1.0, np.log(5 / 2) + 1, np.log(5) + 1])
    with pytest.raises(ValueError, match=r"Document frequencies must lie in \[0, 4\]"):
        smoothed_idf([5], 4)


@pytest.mark.parametrize("ragged", [False, True])
def test_token_ids_keep_the_chosen_end_and_pad_after_the_words(ragged):
    texts = ["a b c d e", "b", "e d"]
    layer = keras.layers.TextVectorization(ragged=ragged)
    layer.adapt(texts)
    ids = {word: i for i, word in enumerate(layer.get_vocabulary())}
    words = [text.split() for text in texts]

    def by_hand(keep):
        rows = [w[-3:] if keep == "last" else w[:3] for w in words]
        return np.array([[ids[x] for x in row] + [0] * (3 - len(row)) for row in rows])

    for keep in ("last", "first"):
        np.testing.assert_array_equal(token_ids(layer, texts, 3, keep=keep), by_hand(keep))
    with pytest.raises(ValueError, match="keep must be one of"):
        token_ids(layer, texts, 3, keep="middle")


def test_text_dataset_vectorizes_each_batch_and_shuffles_reproducibly():
    texts = [f"word{i} common" for i in range(10)]
    layer = keras.layers.TextVectorization(output_mode="multi_hot")
    layer.adapt(texts)
    batches = list(text_dataset(texts, np.arange(10), layer, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), np.asarray(layer(texts)))

    def order(seed):
        return np.concatenate([y for _, y in text_dataset(texts, np.arange(10), batch_size=4, shuffle=True, seed=seed)])

    np.testing.assert_array_equal(order(1), order(1))
    assert sorted(order(1)) == list(range(10)) and list(order(1)) != list(range(10))
    with pytest.raises(ValueError, match="differ in length"):
        text_dataset(texts, np.arange(9))


def test_bag_or_sequence_follows_the_books_threshold():
    assert bag_or_sequence(15_000, 10) == (1500.0, "sequence model")
    ratio, advice = bag_or_sequence(25_000, 233)
    assert advice == "bag of bigrams" and ratio == pytest.approx(107.3, abs=0.1)
    with pytest.raises(ValueError, match="positive mean length"):
        bag_or_sequence(10, 0)


def test_nearest_words_are_the_highest_cosine_similarities(rng):
    vocabulary = ["", "[UNK]"] + [f"w{i}" for i in range(20)]
    embeddings = rng.normal(size=(len(vocabulary), 5))
    embeddings[5] = 3.0 * embeddings[4] + 1e-3  # w3 points where w2 points: cosine ~1 whatever the length
    got = nearest_words(embeddings, vocabulary, ["w2", "w7"], k=4)
    for probe, neighbors in got.items():
        p = vocabulary.index(probe)
        cosine = embeddings @ embeddings[p] / (np.linalg.norm(embeddings, axis=1) * np.linalg.norm(embeddings[p]))
        order = [i for i in np.argsort(-cosine) if i not in (0, 1, p)][:4]
        assert [w for w, _ in neighbors] == [vocabulary[i] for i in order]
        np.testing.assert_allclose([s for _, s in neighbors], cosine[order])
    assert got["w2"][0][0] == "w3"
    with pytest.raises(ValueError, match="Not in the vocabulary"):
        nearest_words(embeddings, vocabulary, ["zebra"])


def test_chronological_blocks_split_in_time_order_by_the_books_shares():
    blocks = chronological_blocks(420_451)
    assert blocks == {"train": [(0, 210_225)], "validation": [(210_225, 315_337)], "test": [(315_337, 420_451)]}
    with pytest.raises(ValueError, match="summing to 1"):
        chronological_blocks(100, (0.5, 0.5, 0.5))


def test_training_statistics_come_from_the_training_rows_only(rng):
    values = rng.normal(size=(100, 3)) * [1.0, 5.0, 0.0] + [0.0, 10.0, 7.0]
    blocks = [(0, 20), (50, 60)]
    mean, std = training_statistics(values, blocks)
    rows = np.concatenate([values[0:20], values[50:60]])
    np.testing.assert_allclose(mean, rows.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std[:2], rows.std(axis=0)[:2], rtol=1e-6)
    assert std[2] == 1.0  # a constant column is left unscaled, never divided by zero
    with pytest.raises(ValueError, match="no rows"):
        training_statistics(values, [])


def test_a_residual_model_that_starts_at_zero_is_the_common_sense_baseline(rng, tmp_path):
    steps, features = 400, 3
    series = rng.normal(size=(steps, features)).astype("float32")
    mean, std = np.float32(5.0), np.float32(2.0)
    temperature = series[:, 1] * std + mean
    dataset = forecast_windows(series, temperature, sequence_length=6, sampling_rate=2, horizon=7, batch_size=32)
    inputs = keras.Input((6, features))
    correction = keras.layers.Dense(1, kernel_initializer="zeros")(keras.layers.GRU(4)(inputs))
    model = keras.Model(inputs, keras.layers.Add()([LastReading(1, mean, std)(inputs), correction]))
    model.compile(loss="mae")
    assert model.evaluate(dataset, verbose=0) == pytest.approx(common_sense_mae(dataset, 1, mean, std), rel=1e-5)
    windows = np.concatenate([np.asarray(w) for w, _ in dataset])
    np.testing.assert_allclose(np.asarray(LastReading(1, mean, std)(windows))[:, 0], windows[:, -1, 1] * std + mean)
    model.save(tmp_path / "residual.keras")
    reloaded = keras.models.load_model(tmp_path / "residual.keras", compile=False)
    np.testing.assert_allclose(reloaded.predict(windows, verbose=0), model.predict(windows, verbose=0), rtol=1e-6)
