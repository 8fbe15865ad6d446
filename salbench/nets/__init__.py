"""Saliency models: the shallow networks (torch, imported only when a network is built or
trained) and numpy baselines.

Every model a card's ``entry`` names is built as ``Entry(card)`` and offers ``fit(train,
val, out, ...)`` (train or fit, saving to ``out``; a no-op for training-free models),
``load(out)`` (restore what ``fit`` saved) and ``predict(split)`` (``(N, 48, 48)`` float32
maps), with ``trainable`` saying whether ``fit`` does anything.
"""
