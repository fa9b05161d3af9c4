"""Short versions of keras-io examples (keras-team/keras-io), each with a
``cl.LiveCallback``: the job's state, reason and history agree with what
Keras itself returns. Tiny data and models, 1-3 epochs."""

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState

from .engines_helpers import digits

pytestmark = pytest.mark.slow


def mnist(n=256):
    ds = digits()
    return ds.x_train[:n], ds.labels_train[:n]


def agree(cb, history, epochs):
    """The job completed and its per-epoch history is Keras' history."""
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed", job.error
    assert cb.result.epochs_done == epochs == len(history.history["loss"])
    for key, values in history.history.items():
        assert cb.result.history[key] == pytest.approx(values, rel=1e-6), key
    assert job.channels.history("epoch")["loss"] == pytest.approx(history.history["loss"], rel=1e-6)


def test_mnist_convnet():
    """examples/vision/mnist_convnet.py: a convnet on one-hot labels, validation_split."""
    import keras

    x, labels = mnist()
    y = keras.utils.to_categorical(labels, 10)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    cb = cl.LiveCallback(name="mnist-convnet")
    history = model.fit(x, y, batch_size=64, epochs=2, validation_split=0.1, verbose=0, callbacks=[cb])
    agree(cb, history, 2)
    assert "val_accuracy" in cb.result.history and cb.result.batch_history["lr"] == pytest.approx([1e-3] * 8)
    score = model.evaluate(x, y, verbose=0)
    assert np.isfinite(score).all()


def test_gan_with_two_optimizers():
    """guides/custom_train_step_in_tensorflow.py (the GAN): ``compile`` with
    two optimizers, ``super().compile()`` keeps the unused default."""
    import keras
    import tensorflow as tf

    latent_dim = 8
    discriminator = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(7 * 7 * 8),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Reshape((7, 7, 8)),
        keras.layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
        keras.layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ], name="generator")

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, real_images):
            batch_size = tf.shape(real_images)[0]
            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            generated = self.generator(noise)
            combined = tf.concat([generated, real_images], axis=0)
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            with tf.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(combined))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            misleading = tf.zeros((batch_size, 1))
            with tf.GradientTape() as tape:
                g_loss = self.loss_fn(misleading, self.discriminator(self.generator(noise)))
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    x, _ = mnist(128)
    dataset = tf.data.Dataset.from_tensor_slices(x).shuffle(128, seed=0).batch(32)
    gan = GAN(discriminator, generator, latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=3e-4),
                g_optimizer=keras.optimizers.Adam(learning_rate=2e-4),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    cb = cl.LiveCallback(name="gan")
    history = gan.fit(dataset, epochs=1, verbose=0, callbacks=[cb])
    job = cb.job
    assert job.state is JobState.COMPLETED, job.error
    assert cb.result.history["d_loss"] == pytest.approx(history.history["d_loss"], rel=1e-6)
    batch = cb.result.batch_history
    assert "lr" not in batch  # the unused default optimizer of super().compile() shows no rate
    assert batch["lr_d_optimizer"] == pytest.approx([3e-4] * 4) and batch["lr_g_optimizer"] == pytest.approx([2e-4] * 4)
    assert cb.result.history["lr_d_optimizer"] == pytest.approx([3e-4])


def test_writing_a_custom_training_loop():
    """guides/writing_a_custom_training_loop_in_tensorflow.py: a hand-written
    loop with a tf.function step; the callback as a context manager."""
    import keras
    import tensorflow as tf

    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(32, activation="relu")(inputs)
    x2 = keras.layers.Dense(32, activation="relu")(x1)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(10, name="predictions")(x2))
    optimizer = keras.optimizers.SGD(learning_rate=1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    x, y = mnist()
    train_dataset = tf.data.Dataset.from_tensor_slices((x.reshape(-1, 784), y)).batch(64)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    epochs, seen = 2, {"loss": [], "acc": []}
    with cl.LiveCallback(name="custom-loop", epochs=epochs, steps_per_epoch=4) as cb:
        cb.set_model(model)
        for epoch in range(epochs):
            cb.on_epoch_begin(epoch)
            for step, (x_batch, y_batch) in enumerate(train_dataset):
                cb.on_train_batch_begin(step)
                loss_value = float(train_step(x_batch, y_batch))
                cb.on_train_batch_end(step, {"loss": loss_value})
            acc = float(train_acc_metric.result())
            train_acc_metric.reset_state()
            seen["loss"].append(loss_value)
            seen["acc"].append(acc)
            cb.on_epoch_end(epoch, {"loss": loss_value, "accuracy": acc})
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed"
    assert cb.result.history["loss"] == pytest.approx(seen["loss"]) and cb.result.history["accuracy"] == seen["acc"]
    assert len(cb.result.batch_history["loss"]) == 8 and job.progress_fraction == 1.0
    assert "lr" not in cb.result.history  # the loop's optimizer is not the model's: no rate is known


def test_training_with_built_in_methods():
    """guides/training_with_built_in_methods.py: compile with objects, a
    schedule, validation data, EarlyStopping and a multi-output model."""
    import keras

    x, y = mnist()
    x = x.reshape(-1, 784)
    inputs = keras.Input(shape=(784,), name="digits")
    h = keras.layers.Dense(16, activation="relu", name="dense_1")(inputs)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(10, activation="softmax", name="predictions")(h))
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=2, decay_rate=0.5, staircase=True)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    early = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e9, patience=1)
    cb = cl.LiveCallback(name="built-in")
    history = model.fit(x[:192], y[:192], batch_size=64, epochs=10, validation_data=(x[192:], y[192:]),
                        verbose=0, callbacks=[cb, early])
    n = len(history.history["loss"])
    assert n == 2  # the first epoch sets the best, the second does not improve by 1e9
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed"
    assert cb.result.reason.startswith("EarlyStopping at epoch 2 of 10") and job.progress_fraction == 1.0
    for key in history.history:
        assert cb.result.history[key] == pytest.approx(history.history[key], rel=1e-6)
    lr = cb.result.batch_history["lr"]
    assert lr[0] == pytest.approx(1e-2) and lr[-1] < lr[0]  # the schedule's rate, batch by batch

    # multi-output with named losses: user metric names kept as Keras logs them
    image = keras.Input(shape=(28, 28, 1), name="image")
    f = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(image))
    two = keras.Model(image, [keras.layers.Dense(1, name="priority")(f), keras.layers.Dense(10, name="department")(f)])
    two.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                loss={"priority": keras.losses.MeanSquaredError(),
                      "department": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    cb2 = cl.LiveCallback(name="two-outputs")
    xs, ys = mnist(64)
    history = two.fit({"image": xs}, {"priority": np.random.default_rng(0).random((64, 1)), "department": ys},
                      epochs=1, batch_size=32, verbose=0, callbacks=[cb2])
    agree(cb2, history, 1)
    assert {"priority_loss", "department_loss"} <= set(cb2.result.history)


def test_image_classification_from_scratch(tmp_path):
    """examples/vision/image_classification_from_scratch.py: images from a
    folder, augmentation, a binary head with logits, ModelCheckpoint."""
    import keras
    import tensorflow as tf
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, folder in enumerate(("Cat", "Dog")):
        (tmp_path / "PetImages" / folder).mkdir(parents=True)
        for i in range(12):
            pixels = (rng.random((20, 20, 3)) * 100 + 120 * label).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "PetImages" / folder / f"{i}.jpg")
    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        str(tmp_path / "PetImages"), validation_split=0.25, subset="both", seed=1337, image_size=(16, 16),
        batch_size=6)
    augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    train_ds = train_ds.map(lambda img, label: (augmentation(img), label), num_parallel_calls=tf.data.AUTOTUNE)
    train_ds, val_ds = train_ds.prefetch(tf.data.AUTOTUNE), val_ds.prefetch(tf.data.AUTOTUNE)

    inputs = keras.Input(shape=(16, 16, 3))
    h = keras.layers.Rescaling(1.0 / 255)(inputs)
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same")(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.SeparableConv2D(8, 3, padding="same")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dropout(0.25)(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation=None)(h))
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(name="acc")])
    cb = cl.LiveCallback(name="from-scratch")
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "save_at_{epoch}.keras"))
    history = model.fit(train_ds, epochs=2, validation_data=val_ds, callbacks=[cb, checkpoint], verbose=0)
    agree(cb, history, 2)
    assert {"acc", "val_acc", "val_loss"} <= set(cb.result.history)
    assert (tmp_path / "save_at_2.keras").is_file()
    assert cb.result.batch_history["lr"] == pytest.approx([3e-4] * len(cb.result.batch_history["loss"]))
