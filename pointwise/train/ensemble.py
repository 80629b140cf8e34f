"""Several seeds of one recipe as one vectorised model (torch.func).

The members' parameters and buffers (BatchNorm running statistics included) are stacked along a
leading ensemble axis. Each member keeps its own weights, statistics and optimiser state; the
stacked tensors are ordinary leaf tensors, so one standard optimiser updates every member exactly
as it would update the member alone.

Two ways to run the stacked members, with identical results up to float rounding:

- ``vmap``: ``vmap(functional_call)``; convolutions become one grouped convolution and linear
  layers one batched matmul. The fast path on GPUs, and on CPUs for conv-free models.
- ``loop``: one ``functional_call`` per member on its slice of the stacked state. On CPUs the
  backward pass of a grouped convolution is far slower than separate convolutions (measured in
  torch 2.13: ~10x), so conv models run this way there; a single member always does.

``auto`` picks between them by that rule (see :func:`choose_mode`).
"""
from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state

MODES = ("auto", "vmap", "loop")


def choose_mode(model: torch.nn.Module, size: int, device: torch.device, mode: str = "auto") -> str:
    if mode not in MODES:
        raise ValueError(f"unknown ensemble mode '{mode}' (valid: {', '.join(MODES)})")
    if mode != "auto":
        return mode
    if size == 1:
        return "loop"
    if device.type == "cuda":
        return "vmap"
    has_conv = any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in model.modules())
    return "loop" if has_conv else "vmap"


class Ensemble:
    def __init__(self, models: list[torch.nn.Module], device, mode: str = "auto"):
        self.size = len(models)
        self.mode = choose_mode(models[0], self.size, torch.device(device), mode)
        self.template = copy.deepcopy(models[0]).to("meta")
        params, buffers = stack_module_state([m.to(device) for m in models])
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.detach().clone() for k, v in buffers.items()}

    def _run(self, params: dict, x: torch.Tensor, train: bool, shared: bool) -> torch.Tensor:
        self.template.train(train)
        model = self.template
        if self.mode == "vmap":
            def f(p, b, inp):
                return functional_call(model, (p, b), (inp,))
            return torch.vmap(f, in_dims=(0, 0, None if shared else 0), randomness="different")(
                params, self.buffers, x)
        outs = []
        for m in range(self.size):
            p = {k: v[m] for k, v in params.items()}
            b = {k: v[m] for k, v in self.buffers.items()}   # views: BN updates land in the stack
            outs.append(functional_call(model, (p, b), (x if shared else x[m],)))
        return torch.stack(outs)

    def forward_train(self, x: torch.Tensor, train_mode: bool = True) -> torch.Tensor:
        """Logits [E, B, C] with gradients for per-member inputs x [E, B, ...]; train mode updates
        the BatchNorm statistics, eval mode (head-only fine-tuning) keeps them frozen."""
        return self._run(self.params, x, train_mode, shared=False)

    @torch.no_grad()
    def forward_eval(self, x: torch.Tensor, shared: bool) -> torch.Tensor:
        """Eval-mode logits [E, B, C]; ``shared``: x [B, ...] is the same input for every member."""
        return self._run({k: v.detach() for k, v in self.params.items()}, x, False, shared)

    @torch.no_grad()
    def head_eval(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits [E, B, C] of every member's classifier (the ``head`` submodule) on shared
        features [B, D]: evaluation of head-only fine-tuning, where the members share the backbone."""
        head = self.template.head
        outs = []
        for m in range(self.size):
            p = {k[len("head."):]: v[m].detach() for k, v in self.params.items() if k.startswith("head.")}
            b = {k[len("head."):]: v[m] for k, v in self.buffers.items() if k.startswith("head.")}
            outs.append(functional_call(head, (p, b), (feats,)))
        return torch.stack(outs)

    def member_state_dict(self, m: int) -> dict:
        """The ordinary state_dict of member ``m`` (loads into a freshly built model)."""
        out = {k: v[m].detach().cpu().clone() for k, v in self.params.items()}
        out.update({k: v[m].detach().cpu().clone() for k, v in self.buffers.items()})
        return out

    def state(self) -> dict:
        return {"params": {k: v.detach().cpu() for k, v in self.params.items()},
                "buffers": {k: v.cpu() for k, v in self.buffers.items()}}

    def load_state(self, state: dict, device) -> None:
        with torch.no_grad():
            for k, v in state["params"].items():
                self.params[k].copy_(v.to(device))
            for k, v in state["buffers"].items():
                self.buffers[k].copy_(v.to(device))
