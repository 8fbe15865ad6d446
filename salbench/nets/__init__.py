"""Saliency models: the shallow networks (torch, imported on use) and numpy baselines."""
