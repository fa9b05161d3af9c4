import gzip
import struct

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.training.data import DataError


def test_simple_cnn_reproduces_the_seeds_net():
    m = cl.models.simple_cnn()
    names = [l.name for l in m.layers]
    assert names == ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Flatten", "Dense_1", "Output"]
    assert [m.get_layer(f"Conv2D_{i}").filters for i in (1, 2, 3)] == [32, 64, 128]
    assert m.get_layer("Dense_1").units == 100 and m.output_shape == (None, 10)
    assert m.input_shape == (None, 28, 28, 1)


def test_simple_cnn_options_and_errors():
    m = cl.models.simple_cnn(convs=[(8, 3, "elu"), (16, 3, "tanh")], pools=[2], dense=[(20, "sigmoid")],
                             regularizer="l2", classes=3)
    assert m.get_layer("Conv2D_1").activation.__name__ == "elu"
    assert m.get_layer("Dense_1").kernel_regularizer is not None and m.output_shape == (None, 3)
    with pytest.raises(ValueError, match="3 pooling layers for 2 conv layers"):
        cl.models.simple_cnn(convs=[(8, 3, "relu"), (8, 3, "relu")], pools=[2, 2, 2])
    with pytest.raises(ValueError, match="unknown activation of Conv2D_1 'reluu'; valid: relu"):
        cl.models.simple_cnn(convs=[(8, 3, "reluu")], pools=[])
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        cl.models.simple_cnn(regularizer="l3")


def test_resnet_v2_structure():
    stacks = [(32, 2), (64, 3), (128, 2)]
    m = cl.models.resnet_v2(input_shape=(32, 32, 3), classes=10, stacks=stacks)
    names = [l.name for l in m.layers]
    for s, (filters, units) in enumerate(stacks, start=1):
        assert sum(n.startswith(f"s{s}u") and n.endswith("_add") for n in names) == units
        first = m.get_layer(f"s{s}u1_l1_conv")
        assert first.strides == ((2, 2) if s > 1 else (1, 1))
        assert m.get_layer(f"s{s}u1_shortcut").strides == first.strides
        assert m.get_layer(f"s{s}u1_shortcut").kernel_size == (1, 1)
        assert f"s{s}u2_shortcut" not in names  # identity shortcut in later units
        # bottleneck: 1x1 reduce, 3x3, 1x1 restore
        assert m.get_layer(f"s{s}u1_l1_conv").filters == filters // 2
        assert m.get_layer(f"s{s}u1_l2_conv").kernel_size == (3, 3)
        assert m.get_layer(f"s{s}u1_l3_conv").filters == filters
        assert m.get_layer(f"s{s}u2_l1_bn") is not None  # full pre-activation
    assert "s1u1_l1_bn" not in names  # the very first layer skips BN/ReLU
    import keras

    for layer in m.layers:  # no activation right after an addition
        if isinstance(layer, keras.layers.Activation):
            producer = layer.input._keras_history.operation
            assert not isinstance(producer, keras.layers.Add), layer.name
    assert m.get_layer("s3u1_add").output.shape[1:3] == (8, 8)
    assert m.output_shape == (None, 10)


def test_resnet_presets_and_errors():
    m = cl.models.resnet_v2(input_shape=(32, 32, 3), stacks="resnet-3463", weight_decay=None)
    assert sum(l.name.endswith("_add") for l in m.layers) == 3 + 4 + 6 + 3
    with pytest.raises(ValueError, match="unknown ResNet preset 'cifar-99'; valid: cifar-tiny"):
        cl.models.resnet_v2(stacks="cifar-99")


def test_digits_loader_shapes_and_standardization():
    d = cl.data.load("digits")
    assert d.input_shape == (28, 28, 1) and d.num_classes == 10
    assert len(d.x_train) + len(d.x_test) == 1797
    assert np.allclose(d.x_train.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    assert np.allclose(d.x_train.std(axis=(1, 2, 3)), 1, atol=1e-3)
    assert np.allclose(d.y_train.sum(axis=1), 1)


def _write_idx(path, array, gz=True):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def test_idx_folder_loader(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    d = cl.data.load(str(tmp_path))
    assert d.x_train.shape == (30, 28, 28, 1) and d.x_test.shape == (10, 28, 28, 1)
    # corrupt: truncated file
    raw = gzip.open(tmp_path / "train-images-idx3-ubyte.gz").read()
    gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb").write(raw[:-100])
    with pytest.raises(DataError, match="truncated or corrupt"):
        cl.data.load(str(tmp_path))


def test_npz_loader_and_label_check(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "set.npz"
    np.savez(p, x=rng.random((50, 28, 28)), y=rng.integers(0, 3, 50))
    d = cl.data.load(str(p))
    assert d.num_classes == 3 and len(d.x_train) == 40
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=rng.random((5, 8, 8)), y_train=[0, 1, 2, 3, 9], x_test=rng.random((2, 8, 8)),
             y_test=[0, 1], class_names=["a", "b", "c", "d"])
    with pytest.raises(DataError, match="labels must be 0..3 for 4 classes"):
        cl.data.load(str(bad))


def test_bad_data_names():
    with pytest.raises(DataError, match="unknown data set 'mnistt'; valid: digits, mnist, fashion_mnist, cifar10"):
        cl.data.load("mnistt")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        cl.data.load("/nope/data.npz")


def test_offline_keras_set_names_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError, match=r"Put cifar-10-batches-py.tar.gz into .*datasets"):
        cl.data.load("cifar10", download=False)


def test_fashion_mnist_from_debian_idx_files():
    from cnnlive.engines.training.data import DEBIAN_FASHION

    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    d = cl.data.load("fashion_mnist", download=False, limit=1000)
    assert d.class_names[0] == "T-shirt/top" and d.x_train.shape == (1000, 28, 28, 1)
