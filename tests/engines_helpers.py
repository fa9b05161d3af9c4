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
