"""OIP and dream on user models: any 4-D layer, colour, non-square inputs,
and ``input_standardization=``."""

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.dream import DreamSettings, prepare_dream, run_dream
from cnnlive.engines.oip import OIPSettings, prepare, search
from cnnlive.jobs import JobState

pytestmark = pytest.mark.slow

LAYERS = ["conv", "bn", "relu", "add", "pool", "depthwise", "avg"]


def bn_model(shape=(24, 32, 3)):
    """A functional, non-square colour model with BatchNorm, ReLU, Add, pooling, DepthwiseConv2D."""
    import keras

    inp = keras.Input(shape)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    y = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = keras.layers.Add(name="add")([x, y])
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = keras.layers.AveragePooling2D(2, name="avg")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(x), name="bn_model")
    rng = np.random.default_rng(0)  # a few steps of training so BatchNorm has statistics
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(rng.normal(size=(32,) + shape).astype("float32"), rng.integers(0, 4, 32), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def model():
    return bn_model()


@pytest.mark.parametrize("layer", LAYERS)
def test_oip_on_every_4d_layer_of_a_colour_non_square_model(model, layer):
    spec = prepare(model, layer, [0, 1], OIPSettings(steps=20, seed=3, wavelengths=(8, 4)))
    r = search(spec)
    assert r.images.shape == (2, 24, 32, 3)
    assert np.all(r.activations >= r.curves[0] - 1e-6) and np.any(r.activations > r.curves[0] + 1e-4)
    assert np.allclose(r.images.std(axis=(1, 2, 3)), 1, atol=1e-2)
    assert r.grid().shape[-1] == 3  # an RGB grid


def test_input_standardization_none_and_callable(model):
    import tensorflow as tf

    raw = search(prepare(model, "relu", [0], OIPSettings(steps=20, seed=1, input_standardization="none")))
    assert raw.images.min() >= 0.0 and raw.images.max() <= 1.0 and raw.images.std() > 0.05
    assert raw.provenance["settings"]["input_standardization"] == "none"

    def symmetric(x):
        return tf.clip_by_value(x, -1.0, 1.0)

    sym = search(prepare(model, "relu", [0], OIPSettings(steps=20, seed=1, input_standardization=symmetric)))
    assert sym.images.min() >= -1.0 and sym.images.max() <= 1.0
    assert sym.provenance["settings"]["input_standardization"] == "symmetric"
    with pytest.raises(ValueError, match="unknown input_standardization 'minmax'; valid: 'image'.*'none'.*callable"):
        cl.oip(model, layer="relu", maps=0, input_standardization="minmax")
    with pytest.raises(ValueError, match="unknown input_standardization"):
        cl.dream(model, layer="relu", maps=0, input_standardization=3)


def test_colour_dream_of_the_bundled_photo_and_raw_pixels(model):
    spec = prepare_dream(model, None, "add", [1], DreamSettings(iterations=1, steps=5, levels=1, size=96))
    r = run_dream(spec)
    assert r.image.shape == (96, 96, 3) and np.isfinite(r.image).all()
    raw = run_dream(prepare_dream(model, None, "add", [1], DreamSettings(iterations=1, steps=5, size=96,
                                                                      input_standardization="none")))
    assert raw.image.shape == (96, 96, 3) and raw.image.min() >= 0.0 and raw.image.max() <= 1.0
    assert raw.image.mean() > 0.1  # a photo, not a standardized field


def test_small_colour_resnet_v2_oip_and_dream_jobs(runs_dir):
    net = cl.models.resnet_v2(input_shape=(32, 32, 3), classes=10, stacks=[(16, 1), (32, 1)])
    adds = [layer.name for layer in net.layers if "add" in layer.name.lower()]
    assert adds
    job = cl.oip(net, layer=adds[-1], maps=[0, 5], steps=20)
    assert job.wait(300) is JobState.COMPLETED, job.error
    assert job.result.images.shape == (2, 32, 32, 3)
    job = cl.dream(net, layer=adds[0], maps=2, iterations=1, steps=5, size=128)
    assert job.wait(300) is JobState.COMPLETED, job.error
    assert job.result.image.shape == (128, 128, 3)
