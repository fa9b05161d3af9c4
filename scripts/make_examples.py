"""Write the example notebooks in examples/ (run after editing this file)."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

OUT = Path(__file__).resolve().parents[1] / "examples"
SETUP = ("%matplotlib widget\n%load_ext cnnlive\nimport os\nimport cnnlive as cl\n"
         "SMALL = os.environ.get('CNNLIVE_SMALL') == '1'  # CI runs the notebooks with small settings")


def nb(name: str, cells: list[tuple[str, str]]) -> None:
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                  for kind, src in cells]
    nbf.write(book, OUT / name)


nb("quickstart.ipynb", [
    ("md", "# cnnlive quickstart\n\nTrains the seeds' simple CNN on the bundled handwritten digits **in the "
           "background**, with a live dashboard and the *CNN Live* side panel (right sidebar). You keep working "
           "in other cells, stop the run gracefully, and reload the saved model.\n\n"
           "Takes about 1 minute on a laptop CPU."),
    ("code", SETUP),
    ("code", "data = cl.data.load('digits')\nmodel = cl.models.simple_cnn()\ndata"),
    ("md", "Start training. The cell returns at once; the dashboard updates live (5 frames/s at most)."),
    ("code", "job = cl.train(model, data, epochs=3 if SMALL else 30, batch_size=32, plot=True)\njob"),
    ("md", "The notebook stays usable while the job runs:"),
    ("code", "sum(i * i for i in range(10**6))"),
    ("code", "%cnnlive jobs"),
    ("md", "Stop gracefully: training ends after the current batch and the model and history are saved. "
           "(The *Stop* button in the side panel or `%cnnlive stop ID` do the same.)"),
    ("code", "import time\ntime.sleep(2 if SMALL else 10)\nprint(job.stop())\njob.wait()\njob.result"),
    ("code", "import keras\nreloaded = keras.models.load_model(job.result.path)\n"
             "loss, acc = reloaded.evaluate(data.x_test, data.y_test, verbose=0)\n"
             "print(f'reloaded model: test accuracy {acc:.3f} after {job.result.epochs_done} epochs')"),
    ("md", "What the first conv layer sees in one test digit:"),
    ("code", "cl.activation_grid(model, data.x_test[0], layer='Conv2D_1', cmap='viridis');"),
    ("code", "job.log(5)"),
])

nb("oip.ipynb", [
    ("md", "# OIP: patterns that maps of Conv2D_3 react to\n\nGradient ascent on the input from noise with "
           "chosen length scales (wavelengths in pixels), all maps in one compiled batch; a wavelength sweep; "
           "patterns forming while a model trains.\n\nTakes about 2 minutes on a laptop CPU."),
    ("code", SETUP),
    ("code", "data = cl.data.load('digits')\nmodel = cl.models.simple_cnn()\n"
             "cl.train(model, data, epochs=4, save=False).wait()"),
    ("code", "job = cl.oip(model, layer='Conv2D_3', maps=list(range(16)), steps=60 if SMALL else 300, "
             "wavelengths=(14, 7, 3), plot=True)\njob.wait()\nres = job.result\n"
             "print(res.provenance['maps'], res.activations.round(2))"),
    ("code", "import matplotlib.pyplot as plt\nfrom cnnlive.views.grids import pair_figure\n"
             "pair_figure(res.grid(), res.grid(contrast=True), 'Conv2D_3 maps 0-15');"),
    ("md", "The same map from noise of different length scales:"),
    ("code", "sweep = cl.oip(model, layer='Conv2D_3', maps=5, steps=60 if SMALL else 300, "
             "wavelengths=(24, 14, 7, 3))\nsweep.wait()\n"
             "from cnnlive.engines.oip import OIPSettings, prepare, search\n"
             "r = search(prepare(model, 'Conv2D_3', 5, OIPSettings(steps=60, wavelengths=(24, 14, 7, 3), sweep=True)))\n"
             "pair_figure(r.grid(), r.grid(contrast=True), 'map 5, wavelengths 24/14/7/3');"),
    ("md", "Patterns forming during training: the OIP job re-runs after every epoch."),
    ("code", "fresh = cl.models.simple_cnn()\ntrain = cl.train(fresh, data, epochs=2 if SMALL else 6, save=False)\n"
             "watch = cl.oip(train, layer='Conv2D_3', maps=[1, 2, 3, 4], steps=40, every='epoch', plot=True)\n"
             "train.wait(); watch.wait()\n[r.provenance['epoch'] for r in watch.result]"),
    ("md", "Every epoch's patterns are kept (up to `cl.config.oip_snapshot_mb` MB) and export as a GIF:"),
    ("code", "watch.result.save_gif('patterns-by-epoch.gif')"),
    ("md", "## Do the patterns mean anything?\n\nWith `data=`, each OIP gets a `quality`: its map's mean "
           "activation divided by the best mean activation of that map over the test images. Below 1, the "
           "OIP does not beat the data (framed red in the grid)."),
    ("code", "judged = cl.oip(model, layer='Conv2D_3', maps=list(range(8)), steps=60 if SMALL else 300, data=data)\n"
             "judged.wait()\nprint(judged.result.quality.round(2))\ncl.oip_grid(judged.result);"),
    ("md", "The digits that drive each map most, with the receptive field of the map's strongest position "
           "framed, beside the map's OIP:"),
    ("code", "ex = cl.exemplars(model, data, 'Conv2D_3', maps=[0, 1, 2, 3], k=6, oip=judged)\nex"),
    ("code", "cl.exemplars(model, data, 'Conv2D_3', maps=[0, 1, 2, 3], k=6, oip=judged, show='crops');"),
])

nb("steer_and_compare.ipynb", [
    ("md", "# Find and compare runs, judge the patterns\n\nTwo small training runs are saved to the runs "
           "folder; `cl.runs()` lists them, `cl.compare` overlays them with a run still going, and the OIPs "
           "of the better model are judged against the test digits (quality, exemplars).\n\n"
           "Takes about 2 minutes on a laptop CPU."),
    ("code", SETUP),
    ("code", "data = cl.data.load('digits')\n"
             "narrow = cl.models.simple_cnn(convs=((8, 3, 'relu'), (16, 3, 'relu'), (32, 3, 'relu')), name='narrow')\n"
             "wide = cl.models.simple_cnn(name='wide')\n"
             "a = cl.train(narrow, data, epochs=2 if SMALL else 6, name='narrow')\n"
             "b = cl.train(wide, data, epochs=2 if SMALL else 6, name='wide')\n"
             "a.wait(); b.wait()\n(a.state, b.state)"),
    ("md", "The saved runs, newest first (a folder per run: `model.keras`, `history.json`):"),
    ("code", "cl.runs()"),
    ("md", "A third run starts; the figure overlays it, live, with the two saved runs (solid: training, "
           "dashed: validation)."),
    ("code", "c = cl.train(cl.models.simple_cnn(name='third'), data, epochs=2 if SMALL else 6, name='third')\n"
             "runs = cl.runs()\n"
             "view = cl.compare(c, runs[f'narrow-{a.id}'], b.run_dir, metrics=['loss', 'accuracy'])"),
    ("code", "c.wait()\nview.save('compare.png')"),
    ("md", "## Judge the patterns of the wide model\n\n`quality` < 1: the OIP drives its map less than the "
           "best test digit does."),
    ("code", "o = cl.oip(b.result.path, layer='Conv2D_3', maps=list(range(8)), steps=60 if SMALL else 300, data=data)\n"
             "o.wait()\nprint(o.result.quality.round(2))\ncl.oip_grid(o.result);"),
    ("code", "ex = cl.exemplars(b.result.path, data, 'Conv2D_3', maps=list(range(4)), k=6, oip=o)\n"
             "ex.images.shape, ex.crops.shape"),
    ("md", "The search's timeline (every snapshot, capped by `cl.config.oip_snapshot_mb`) as a GIF:"),
    ("code", "o.result.save_gif('oip-timeline.gif')"),
])

nb("dream.ipynb", [
    ("md", "# Deep dream of the flower\n\nA CNN that only sees 28x28 digits carves the pattern of map 56 of "
           "Conv2D_3 into scikit-learn's flower photo: on the full image and on quadrant tiles.\n\n"
           "Takes about 1 minute on a laptop CPU."),
    ("code", SETUP),
    ("code", "data = cl.data.load('digits')\nmodel = cl.models.simple_cnn()\n"
             "cl.train(model, data, epochs=4, save=False).wait()"),
    ("code", "job = cl.dream(model, layer='Conv2D_3', maps=56, iterations=2 if SMALL else 4, levels=1 if SMALL else 2,"
             " size=224 if SMALL else 560, plot=True)\njob.wait()\nres = job.result\nres.provenance['png']"),
    ("code", "from cnnlive.views.grids import pair_figure\npair_figure(res.image, res.contrast(), 'dream');"),
])

nb("resnet.ipynb", [
    ("md", "# A small ResNet V2 on Fashion-MNIST\n\nBottleneck units with full pre-activation. Data: Debian's "
           "`dataset-fashion-mnist` IDX files (or Keras' cache).\n\nTakes about 5 minutes on a laptop CPU "
           "(30 s with the small settings)."),
    ("code", SETUP),
    ("code", "data = cl.data.load('fashion_mnist', limit=2000 if SMALL else 20000)\n"
             "model = cl.models.resnet_v2(input_shape=data.input_shape, classes=data.num_classes, stacks='cifar-tiny')\n"
             "print(data, model.count_params(), 'parameters')"),
    ("code", "job = cl.train(model, data, epochs=1 if SMALL else 5, batch_size=64, optimizer='adam', "
             "lr_schedule=None, plot=True)\njob.wait()\njob.result"),
    ("code", "[l for l in cl.models.spatial_layers(model) if l.endswith('_add')]"),
])

nb("custom_jobs.ipynb", [
    ("md", "# Your own background jobs: the seeds' sprinter\n\nAny `async def f(ctx, ...)` runs as a job "
           "with its own asyncio loop in a background thread. Three ways to end it: `stop()` (stop event, "
           "graceful), `cancel()` (task cancel), `halt()` (stop the loop).\n\nTakes a few seconds."),
    ("code", "%load_ext cnnlive\nimport asyncio, time\nimport cnnlive as cl"),
    ("code", "async def sprinter(ctx, laps=400):\n    for i in range(laps):\n        if i % 20 == 0:\n"
             "            print('sprinter', i)\n        ctx.progress(i + 1, laps)\n        ctx.keep(i)\n"
             "        if await ctx.checkpoint():\n            return f'stopped after {i} laps'\n"
             "        await asyncio.sleep(0.01)\n    return 'finished'"),
    ("code", "a = cl.jobs.start(sprinter, name='stop me')\nb = cl.jobs.start(sprinter, name='cancel me')\n"
             "c = cl.jobs.start(sprinter, name='halt me')\ntime.sleep(0.5)\n"
             "a.stop(); b.cancel(); c.halt()\n[(j.name, j.wait(5).value, j.result) for j in (a, b, c)]"),
    ("code", "cl.jobs.status()"),
    ("code", "print(a.log(3))"),
])
nb("your_model.ipynb", [
    ("md", "# Your own model, data and training loop\n\nA functional Keras model you build and compile "
           "yourself, a `tf.data` pipeline with integer labels, your own callbacks: `cl.train` runs it in the "
           "background with live metrics. Your own `model.fit` becomes a job too: add `cl.LiveCallback()` and "
           "it gets a card in the *CNN Live* panel, a dashboard and a working Stop.\n\n"
           "Takes about 2 minutes on a laptop CPU (30 s with the small settings)."),
    ("code", SETUP + "\nimport threading\nimport keras\nimport tensorflow as tf"),
    ("md", "Data: the bundled digits as plain arrays with **integer** labels, fed through `tf.data`."),
    ("code", "data = cl.data.load('digits')\nx, y = data.x_train, data.labels_train\n"
             "train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1024, seed=0).batch(32).prefetch(2)\n"
             "val = (data.x_test, data.labels_test)\nx.shape, y[:10]"),
    ("md", "A functional model with BatchNormalization and a residual `Add`, compiled your way "
           "(Adam, sparse loss, a top-3 metric). cnnlive keeps these settings."),
    ("code", "inp = keras.Input((28, 28, 1))\n"
             "h = keras.layers.Conv2D(16, 3, padding='same', name='conv')(inp)\n"
             "h = keras.layers.BatchNormalization(name='bn')(h)\nh = keras.layers.ReLU(name='relu')(h)\n"
             "r = keras.layers.Conv2D(16, 3, padding='same', activation='relu', name='conv_b')(h)\n"
             "h = keras.layers.Add(name='add')([h, r])\nh = keras.layers.MaxPooling2D(name='pool')(h)\n"
             "h = keras.layers.GlobalAveragePooling2D()(h)\n"
             "model = keras.Model(inp, keras.layers.Dense(10, activation='softmax')(h), name='mine')\n"
             "model.compile(keras.optimizers.Adam(3e-3), 'sparse_categorical_crossentropy',\n"
             "              metrics=['accuracy', keras.metrics.SparseTopKCategoricalAccuracy(k=3, name='top3')])"),
    ("md", "Train in the background: the pipeline, validation arrays and a `CSVLogger` go straight to `fit`. "
           "The dashboard shows every metric the logs carry (loss, accuracy, top3 and their `val_` twins)."),
    ("code", "job = cl.train(model, train, epochs=2 if SMALL else 8, validation_data=val,\n"
             "               callbacks=[keras.callbacks.CSVLogger('log.csv')], plot=True)\n"
             "job.wait()\njob.result"),
    ("md", "## Your own `fit` as a job\n\n`cl.LiveCallback(name=...)` makes this `fit` a job of kind `fit`: "
           "it is listed by `cl.jobs`, has a card in the panel, and `cb.job.plot()` shows its dashboard. "
           "The panel's **Stop** (or `cb.job.stop()`) ends the fit after the current batch and `fit` returns "
           "normally; **Cancel** ends it at the next batch and `fit` raises `FitCancelled`."),
    ("code", "cb = cl.LiveCallback(name='my-fit')\ncb.job.plot()\n"
             "history = model.fit(train, epochs=1 if SMALL else 5, validation_data=val, verbose=0, callbacks=[cb])\n"
             "cb.job, cb.job.result"),
    ("md", "The same in a thread of your own, stopped from here (as the panel's Stop would)."),
    ("code", "cb2 = cl.LiveCallback(name='threaded-fit')\n"
             "fit = threading.Thread(target=model.fit, args=(train,),\n"
             "                       kwargs=dict(epochs=1000, verbose=0, callbacks=[cb2]))\nfit.start()\n"
             "import time\nwhile len(cb2.job.channels.history('batch').get('loss', [])) < 20:\n    time.sleep(0.1)\n"
             "cb2.job.stop()\nfit.join()\ncb2.job.state, cb2.job.result.epochs_done"),
    ("md", "Patterns of your model: OIPs of the residual `add` layer. The data was standardized per image, so the "
           "default `input_standardization='image'` matches; use `'none'` for models trained on raw [0, 1] pixels."),
    ("code", "oip = cl.oip(model, layer='add', maps=[0, 1, 2, 3], steps=50 if SMALL else 300)\noip.wait()\n"
             "oip.result.images.shape"),
    ("code", "cl.jobs.status()"),
])
print("wrote", sorted(p.name for p in OUT.glob("*.ipynb")))
