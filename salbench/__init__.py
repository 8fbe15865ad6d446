"""salbench: a metrics-first benchmark suite for visual saliency prediction.

Importing salbench is cheap: metrics, data, models and plots are imported on use, and
nothing here imports torch.
"""

__version__ = "0.1.0"
