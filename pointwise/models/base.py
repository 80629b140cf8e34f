"""The interface every model of the zoo implements: named probe points in one forward pass.

Paper 002 (spec §3.1) reads a k-NN probe at an ordered list of points from the input to the
softmax. Each model therefore declares ``probe_names`` (first ``"input"``, last ``"softmax"``) and
can return the activation at each of them, flattened to [batch, features], in the same pass that
computes the logits.
"""
from __future__ import annotations

import torch
from torch import nn


class ProbedModel(nn.Module):
    """Base class: subclasses implement ``_forward(x, tap)`` calling ``tap(name, tensor)`` at each
    inner probe point (every name of ``probe_names`` except ``input`` and ``softmax``), in order,
    and returning the logits."""

    probe_names: list[str]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [batch, num_classes]."""
        return self._forward(x, _no_tap)

    def forward_with_probes(self, x: torch.Tensor, names=None) -> tuple[torch.Tensor, dict]:
        """Logits and {probe name: activation flattened to [batch, features]} for ``names``
        (default: all probe points), computed in one forward pass."""
        wanted = set(self.probe_names if names is None else names)
        unknown = wanted - set(self.probe_names)
        if unknown:
            raise KeyError(f"{type(self).__name__} has no probe points {sorted(unknown)}; "
                           f"it has {self.probe_names}")
        acts: dict[str, torch.Tensor] = {}
        if "input" in wanted:
            acts["input"] = x.flatten(1)

        def tap(name, t):
            if name in wanted:
                acts[name] = t.flatten(1)

        logits = self._forward(x, tap)
        if "softmax" in wanted:
            acts["softmax"] = torch.softmax(logits, dim=1)
        return logits, {n: acts[n] for n in self.probe_names if n in acts}


def _no_tap(name, t):
    return None
