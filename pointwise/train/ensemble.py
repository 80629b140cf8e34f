"""Several seeds of one recipe as one vectorised model (torch.func).

The members' parameters and buffers (BatchNorm running statistics included) are stacked along a
leading ensemble axis and the model is evaluated with ``vmap(functional_call)``: convolutions
become one grouped convolution, linear layers one batched matmul. Each member keeps its own
weights, statistics and optimiser state; the stacked tensors are ordinary leaf tensors, so a
standard optimiser updates every member exactly as it would update the member alone.
"""
from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state


class Ensemble:
    def __init__(self, models: list[torch.nn.Module], device):
        self.size = len(models)
        self.template = copy.deepcopy(models[0]).to("meta")
        params, buffers = stack_module_state([m.to(device) for m in models])
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.detach().clone() for k, v in buffers.items()}

    def _call(self, train: bool, per_member_input: bool):
        self.template.train(train)
        model = self.template

        def f(p, b, x):
            return functional_call(model, (p, b), (x,))

        return torch.vmap(f, in_dims=(0, 0, 0 if per_member_input else None), randomness="different")

    def forward_train(self, x: torch.Tensor, train_mode: bool = True) -> torch.Tensor:
        """Logits [E, B, C] with gradients for per-member inputs x [E, B, ...]; train mode updates
        the BatchNorm statistics, eval mode (head-only fine-tuning) keeps them frozen."""
        return self._call(train_mode, True)(self.params, self.buffers, x)

    @torch.no_grad()
    def forward_eval(self, x: torch.Tensor, shared: bool) -> torch.Tensor:
        """Eval-mode logits [E, B, C]; ``shared``: x [B, ...] is the same input for every member."""
        params = {k: v.detach() for k, v in self.params.items()}
        return self._call(False, not shared)(params, self.buffers, x)

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
