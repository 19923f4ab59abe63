import numpy as np
import pytest
from PIL import Image

from edgelift.data import check_against_input, load_data
from edgelift.errors import DataError, ModelNotFoundError


def test_npz_with_labels_and_one_hot(tmp_path):
    x = np.random.rand(6, 4, 4, 1).astype(np.float32)
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    np.savez(tmp_path / "d.npz", x=x, y=y)
    d = load_data(tmp_path / "d.npz")
    assert d.x.shape == (6, 4, 4, 1) and d.y.tolist() == [0, 1, 2, 0, 1, 2] and len(d) == 6


def test_npy_inputs_only(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 5), np.float32))
    d = load_data(tmp_path / "x.npy")
    assert d.y is None and d.x.shape == (3, 5)


def test_image_folder_labels_follow_sorted_class_names(tmp_path):
    for cls, value in (("cat", 10), ("ant", 200)):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.fromarray(np.full((4, 4), value + i, np.uint8)).save(tmp_path / cls / f"{i}.png")
    d = load_data(tmp_path)
    assert d.class_names == ["ant", "cat"]
    assert d.x.shape == (4, 4, 4, 1) and d.y.tolist() == [0, 0, 1, 1]
    assert d.x[0, 0, 0, 0] == pytest.approx(200 / 255)


def test_flat_image_folder_is_inputs_without_labels(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((4, 5), 50 * i, np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    d = load_data(tmp_path)
    assert d.y is None and d.class_names is None and d.x.shape == (3, 4, 5, 1)
    assert d.x[2, 0, 0, 0] == pytest.approx(100 / 255)


def test_folder_without_images_or_class_folders_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="has no images"):
        load_data(tmp_path)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_data(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", inputs=np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"has arrays \['inputs'\]"):
        load_data(tmp_path / "bad.npz")
    np.savez(tmp_path / "mism.npz", x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(DataError, match="3 samples but 'y' has 2"):
        load_data(tmp_path / "mism.npz")
    (tmp_path / "a.csv").write_text("1,2")
    with pytest.raises(DataError, match="allowed: .npz, .npy"):
        load_data(tmp_path / "a.csv")
    (tmp_path / "broken.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="cannot read"):
        load_data(tmp_path / "broken.npy")


def test_check_against_input_reshapes_or_refuses(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 64), np.float32))
    d = load_data(tmp_path / "x.npy")
    assert check_against_input(d, (1, 8, 8, 1)).shape == (2, 8, 8, 1)
    with pytest.raises(DataError, match=r"samples of shape \(64,\); the model input expects \(9, 9, 1\)"):
        check_against_input(d, (1, 9, 9, 1))
