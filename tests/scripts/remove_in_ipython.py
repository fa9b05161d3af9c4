"""Run by tests/test_remove_frees.py in a fresh process: a real IPython shell."""
import sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
cells = [
    "%load_ext cnnlive",
    "import cnnlive as cl, weakref, gc, asyncio",
    # a plain job, never displayed: after remove, nothing of cnnlive's or IPython's holds the Job itself
    "async def work(ctx):\n    await asyncio.sleep(0)\n    return bytearray(10)\n"
    "plain = cl.jobs.start(work)\n"
    "assert plain.wait(30).value == 'completed'\n"
    "plain.thread.join(30)  # wait() returns as the state is set; the thread then unwinds (its frames hold the job)\n"
    "bg = cl.jobs.manager()._bg\n"
    "assert any(t is plain.thread for t in bg.all.values()), 'runs under BackgroundJobManager'\n"
    "plain_ref = weakref.ref(plain)\n"
    "cl.jobs.remove(plain.id)\n"
    "del plain; gc.collect()",
    "print('JOB_FREED' if plain_ref() is None else 'JOB_ALIVE')",
    # a training job, displayed (IPython's Out cache keeps the Job): its model is freed anyway
    "ds = cl.data.load('digits')\n"
    "small = cl.data.Dataset('s', ds.x_train[:128], ds.y_train[:128], ds.x_test[:32], ds.y_test[:32], ds.class_names, 'test')",
    "job = cl.train(cl.models.simple_cnn(convs=[(4, 3, 'relu')], pools=[2], dense=[]), small, epochs=2, batch_size=32, save=False)",
    "assert job.wait(300).value == 'completed', job.error",
    "job",
    "ref = weakref.ref(job.result.model); jid = job.id",
    "removed = cl.jobs.remove(jid)\n"
    "assert removed is job and removed.result is None and jid not in [j.id for j in cl.jobs.list()]",
    "del job, removed; gc.collect()",
    "print('MODEL_FREED' if ref() is None else 'MODEL_ALIVE')",
    # an own fit made a job by LiveCallback: after remove, the job no longer holds the model
    "import numpy as np\n"
    "own = cl.models.simple_cnn(convs=[(4, 3, 'relu')], pools=[2], dense=[])\n"
    "own.compile(optimizer='adam', loss='categorical_crossentropy')\n"
    "cb = cl.LiveCallback(name='own')\n"
    "_ = own.fit(small.x_train, small.y_train, epochs=1, batch_size=32, verbose=0, callbacks=[cb])\n"
    "fit_job = cb.job\n"
    "assert fit_job.state.value == 'completed' and fit_job.result is not None\n"
    "own_ref = weakref.ref(own)\n"
    "cl.jobs.remove(fit_job.id)\n"
    "assert fit_job.result is None\n"
    "del own, cb, _; gc.collect()",
    "print('FIT_MODEL_FREED' if own_ref() is None else 'FIT_MODEL_ALIVE')",
]
for code in cells:
    r = shell.run_cell(code)
    if not r.success:
        print("CELL FAILED:", code, r.error_in_exec or r.error_before_exec, file=sys.stderr)
        sys.exit(1)
