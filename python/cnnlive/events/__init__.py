"""Per-job event channels: bounded, coalescing, thread-safe."""

from .channels import CHANNELS, Channels, MetricHistory

__all__ = ["CHANNELS", "Channels", "MetricHistory"]
