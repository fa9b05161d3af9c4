"""Views: what turns job events into pictures (ipympl figures, PNG frames for
the side panel). Views import matplotlib/PIL lazily and never TensorFlow."""
