"""The tf.data image pipeline (dlpy.data.pipelines) and the cats vs dogs data (dlpy.data.cats_dogs),
checked on small image trees built in a temporary folder."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlpy.data import pipelines
from dlpy.data.cats_dogs import CLASS_NAMES, load_cats_and_dogs, make_cats_and_dogs_small

COLORS = {"cats": (220, 30, 30), "dogs": (30, 30, 220)}  # each class has its own color: labels are checkable


def _write_image(path: Path, color, size=(24, 16), fmt="JPEG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, fmt)


def _class_tree(root: Path, counts: dict) -> Path:
    for class_name, count in counts.items():
        for i in range(count):
            _write_image(root / class_name / f"{class_name}.{i}.jpg", COLORS[class_name])
    return root


def _split_tree(root: Path, per_class=(6, 3, 2)) -> Path:
    for split, n in zip(("train", "validation", "test"), per_class):
        _class_tree(root / split, {"cats": n, "dogs": n})
    return root


def test_image_folder_dataset_shapes_dtypes_and_labels(tmp_path):
    root = _class_tree(tmp_path / "train", {"cats": 7, "dogs": 5})
    ds = pipelines.image_folder_dataset(root, image_size=(20, 30), batch_size=4, seed=3)
    assert ds.class_names == ["cats", "dogs"]
    assert ds.class_counts == {"cats": 7, "dogs": 5}
    batches = list(ds)
    assert [len(y) for _, y in batches] == [4, 4, 4]
    images, labels = pipelines.dataset_to_arrays(ds)
    assert images.shape == (12, 20, 30, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32
    assert np.bincount(labels).tolist() == [7, 5]  # label balance as on disk
    assert 0.0 <= images.min() and images.max() <= 255.0
    # every image's color matches its label: red cats (0), blue dogs (1)
    red_minus_blue = images[..., 0].mean(axis=(1, 2)) - images[..., 2].mean(axis=(1, 2))
    np.testing.assert_array_equal(labels, (red_minus_blue < 0).astype(int))


def test_shuffle_is_seeded_and_changes_every_epoch(tmp_path):
    root = tmp_path / "train"
    for class_name in ("cats", "dogs"):
        for i in range(10):  # distinct gray levels identify each image
            _write_image(root / class_name / f"{i}.png", (i * 10 + (5 if class_name == "dogs" else 0),) * 3, fmt="PNG")

    def order(ds):
        return [tuple(x[:, 0, 0, 0].numpy().round().astype(int)) for x, _ in ds]

    first = pipelines.image_folder_dataset(root, (8, 8), batch_size=20, seed=1)
    again = pipelines.image_folder_dataset(root, (8, 8), batch_size=20, seed=1)
    epoch1, epoch2 = order(first), order(first)
    assert epoch1 == order(again)  # same seed, same order
    assert epoch1 != epoch2  # reshuffled each epoch
    assert sorted(epoch1[0]) == sorted(epoch2[0])  # same images
    unshuffled = pipelines.image_folder_dataset(root, (8, 8), batch_size=20, shuffle=False)
    labels = next(iter(unshuffled))[1].numpy()
    assert labels.tolist() == [0] * 10 + [1] * 10


def test_missing_folder_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match="nowhere"):
        pipelines.image_folder_dataset(missing)


def test_empty_class_folder_names_the_path(tmp_path):
    root = _class_tree(tmp_path / "train", {"cats": 2})
    (root / "dogs").mkdir()
    with pytest.raises(ValueError, match=r"dogs.*holds no images"):
        pipelines.image_folder_dataset(root)


def test_missing_class_folder_names_the_path(tmp_path):
    root = _class_tree(tmp_path / "train", {"cats": 2})
    with pytest.raises(ValueError, match=r"dogs"):
        pipelines.class_folders(root, class_names=("cats", "dogs"))


def test_folder_without_class_subfolders(tmp_path):
    (tmp_path / "flat").mkdir()
    _write_image(tmp_path / "flat" / "a.jpg", (0, 0, 0))
    with pytest.raises(ValueError, match="no class subfolders"):
        pipelines.class_folders(tmp_path / "flat")


def test_load_cats_and_dogs_from_a_directory(tmp_path):
    root = _split_tree(tmp_path / "cats_and_dogs_small")
    train, validation, test = load_cats_and_dogs(image_size=(16, 16), batch_size=5, directory=root)
    for ds, n in ((train, 12), (validation, 6), (test, 4)):
        images, labels = pipelines.dataset_to_arrays(ds)
        assert images.shape == (n, 16, 16, 3)
        assert np.bincount(labels).tolist() == [n // 2, n // 2]
        assert ds.class_names == list(CLASS_NAMES)
    # validation and test keep one fixed order across passes; it mixes the classes (the first batch
    # of 5 cannot be all one class when each has 3)
    first_pass, second_pass = (pipelines.dataset_to_arrays(validation)[1].tolist() for _ in range(2))
    assert first_pass == second_pass
    assert 0 < sum(first_pass[:5]) < 5


def test_load_cats_and_dogs_missing_split(tmp_path):
    root = _split_tree(tmp_path / "data")
    for path in (root / "test" / "dogs").iterdir():
        path.unlink()
    with pytest.raises(ValueError, match=r"test.dogs"):
        load_cats_and_dogs(directory=root)


def _fake_pet_images(root: Path, ids=range(0, 14), broken=(2, 8)) -> Path:
    """A tiny PetImages tree: Cat/<id>.jpg, Dog/<id>.jpg; ``broken`` ids are unreadable (as in the real zip)."""
    for folder, color in (("Cat", COLORS["cats"]), ("Dog", COLORS["dogs"])):
        (root / folder).mkdir(parents=True)
        for i in ids:
            path = root / folder / f"{i}.jpg"
            if i in broken:
                path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" if i % 2 == 0 else b"")
            else:
                Image.new("RGB", (40 + i, 30), color).save(path, "JPEG")
        (root / folder / "Thumbs.db").write_bytes(b"junk")  # the real zip has these too
    return root


def test_make_cats_and_dogs_small_layout_and_skipping(tmp_path):
    source = _fake_pet_images(tmp_path / "PetImages")
    split_ids = {"train": (0, 3), "validation": (6, 2), "test": (10, 2)}
    built = make_cats_and_dogs_small(source, tmp_path / "out", split_ids=split_ids, short_side=12)
    assert built == tmp_path / "out" / "cats_and_dogs_small"
    names = {split: sorted(p.name for p in (built / split / "cats").iterdir()) for split in split_ids}
    assert names == {
        "train": ["cat.0.jpg", "cat.1.jpg", "cat.3.jpg"],  # 2 is unreadable: skipped, 3 taken instead
        "validation": ["cat.6.jpg", "cat.7.jpg"],
        "test": ["cat.10.jpg", "cat.11.jpg"],
    }
    assert sorted(p.name for p in (built / "train" / "dogs").iterdir()) == ["dog.0.jpg", "dog.1.jpg", "dog.3.jpg"]
    with Image.open(built / "train" / "cats" / "cat.3.jpg") as image:
        assert image.size == (17, 12)  # 43x30 resized so the shorter side is 12
    train, validation, test = load_cats_and_dogs(image_size=(12, 12), batch_size=4, directory=built)
    assert np.bincount(pipelines.dataset_to_arrays(train)[1]).tolist() == [3, 3]
    # a second call finds the finished folder and leaves it alone; no temporary folders are left
    assert make_cats_and_dogs_small(source, tmp_path / "out", split_ids=split_ids) == built
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["cats_and_dogs_small"]


def test_make_cats_and_dogs_small_too_few_readable_images(tmp_path):
    source = _fake_pet_images(tmp_path / "PetImages", broken=(6, 7, 8))
    split_ids = {"train": (0, 3), "validation": (6, 2), "test": (10, 2)}
    with pytest.raises(ValueError, match=r"validation/cats"):
        make_cats_and_dogs_small(source, tmp_path / "out", split_ids=split_ids)
    assert not (tmp_path / "out" / "cats_and_dogs_small").exists()  # nothing half-built is left


def test_make_cats_and_dogs_small_missing_source(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        make_cats_and_dogs_small(tmp_path / "nope", tmp_path / "out")
