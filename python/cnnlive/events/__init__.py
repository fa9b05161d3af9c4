"""Per-job event channels: bounded, coalescing, thread-safe."""

from .channels import CHANNELS, SCOPE, STEP, Channels, MetricHistory, metric_items, point

__all__ = ["CHANNELS", "SCOPE", "STEP", "Channels", "MetricHistory", "metric_items", "point"]
