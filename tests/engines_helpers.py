"""Shared small real data and a trained model for engine tests."""

from functools import lru_cache


@lru_cache(maxsize=1)
def digits():
    import cnnlive as cl

    return cl.data.load("digits")


@lru_cache(maxsize=1)
def trained_cnn():
    """The seeds' CNN trained 4 epochs on the bundled digits (a few seconds)."""
    import cnnlive as cl

    model = cl.models.simple_cnn()
    job = cl.train(model, digits(), epochs=4, batch_size=64, save=False)
    assert job.wait(300).value == "completed", job.error
    return model


def wait_until(condition, job, timeout: float = 120.0) -> None:
    """Poll ``condition`` until true; fail with the job's error if it ended."""
    import time

    deadline = time.time() + timeout
    while not condition():
        assert not (job.done and not condition()), f"job ended as {job.state.value}: {job.error}"
        assert time.time() < deadline, f"timed out waiting on job {job.id} ({job.state.value})"
        time.sleep(0.02)
