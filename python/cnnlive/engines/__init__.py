"""Engines: models, data, training, OIP and dream. Pure Python/TensorFlow;
no Jupyter imports. TensorFlow is imported when an engine module is."""
