"""Train one model on two workers with MultiWorkerMirroredStrategy, watched by cnnlive.

Run it as is to start two local workers on 127.0.0.1 (a stand-in for two
machines). On real machines, start the same script on each with ``--worker``
and a ``TF_CONFIG`` that lists all workers and names this one's index::

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' python multiworker.py --worker

Every worker runs the same loop (collective ops keep them in step), watched by
``cl.LiveCallback``; worker 0 (the chief) saves the model.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def launch(args: argparse.Namespace) -> int:
    """Start two workers on the loopback address and wait for both."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
    procs = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", "--epochs", str(args.epochs),
                                       "--runs", args.runs], env=env))
    return max(p.wait() for p in procs)


def work(args: argparse.Namespace) -> None:
    """One worker. Keras 3's ``fit`` does not run under MultiWorkerMirroredStrategy
    (keras-team/keras#20585), so this is a custom loop with ``strategy.run``
    that reports through ``cl.LiveCallback``: the loop is a job of kind "fit"
    with live metrics and a working Stop (on every worker)."""
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any other TensorFlow call
    import keras

    import cnnlive as cl

    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    data = cl.data.load("digits")
    steps, global_batch = 8, 64
    pipeline = (tf.data.Dataset.from_tensor_slices((data.x_train[:512], data.labels_train[:512]))
                .shuffle(512, seed=0).repeat().batch(global_batch))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = iter(strategy.experimental_distribute_dataset(pipeline.with_options(options)))
    with strategy.scope():
        inp = keras.Input((28, 28, 1))
        x = keras.layers.Conv2D(8, 3, activation="relu")(inp)
        x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x), name="mw")
        optimizer = keras.optimizers.Adam(1e-2)
        model.optimizer = optimizer
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="none")

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(y, pred), global_batch_size=global_batch)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        hits = tf.cast(tf.equal(tf.argmax(pred, -1, output_type=tf.int32), tf.cast(y, tf.int32)), tf.float32)
        return loss, tf.reduce_sum(hits) / global_batch

    @tf.function
    def train_step(batch):
        loss, acc = strategy.run(replica_step, args=batch)
        return (strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", acc, axis=None))

    @tf.function
    def anyone(flag):  # a collective: every worker learns whether one of them was stopped
        return strategy.reduce("SUM", strategy.run(lambda: tf.identity(flag)), axis=None)

    model.stop_training = False
    cb = cl.LiveCallback(name=f"worker-{index}", batch_size=global_batch)
    cb.set_model(model)
    cb.set_params({"epochs": args.epochs, "steps": steps, "verbose": 0})
    cb.on_train_begin()
    for epoch in range(args.epochs):
        cb.on_epoch_begin(epoch)
        for step in range(steps):
            cb.on_train_batch_begin(step)
            loss, acc = train_step(next(batches))
            cb.on_train_batch_end(step, {"loss": float(loss), "accuracy": float(acc)})
        cb.on_epoch_end(epoch, {"loss": float(loss), "accuracy": float(acc)})
        if anyone(tf.constant(float(model.stop_training))) > 0:  # Stop on any worker ends all after this epoch
            break
    cb.on_train_end()
    if index == 0:  # the chief saves
        os.makedirs(os.path.join(args.runs, "worker-0"), exist_ok=True)
        model.save(os.path.join(args.runs, "worker-0", "model.keras"))
    job = cb.job
    print("WORKER " + json.dumps({"index": index, "state": job.state.value, "epochs_done": job.result.epochs_done,
                                  "replicas": strategy.num_replicas_in_sync, "error": job.error,
                                  "loss": job.result.history["loss"]}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help="run one worker (TF_CONFIG set)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--runs", default="cnnlive-runs")
    args = parser.parse_args()
    if args.worker:
        work(args)
        return 0
    return launch(args)


if __name__ == "__main__":
    sys.exit(main())
