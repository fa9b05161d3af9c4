"""Surfaces: how a person drives cnnlive (magics, widgets, the side panel's
comm target, the Python API functions train/oip/dream)."""
