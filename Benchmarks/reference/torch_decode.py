#!/usr/bin/env python3
"""PyTorch eager reference for PoolAI's one-stream generation benchmark.

Builds the shipped model's architecture (GPT-2 layout as nanoGPT's model.py: 6 layers, 6 heads, 192 wide, block 128,
vocabulary 65, no biases, GELU, pre-norm, output head tied to the token embedding) with random weights (the speed does
not depend on their values), and generates one stream the way PoolAI does: the prompt is prefilled into a key/value
cache preallocated to the block size, then one token per step, each sampled at temperature 0.8 from a seeded
generator; when the cache is full it is rebuilt from the last 3/4 block. Eager mode, torch.inference_mode, float32,
CPU, --threads threads (torch's and, when torch's BLAS is OpenBLAS, OpenBLAS's). Prints one JSON line: tokens/s of
each repeat and their median, min and max, and the BLAS library torch loaded (Debian's python3-torch uses whatever
libblas.so.3 points to: the slow reference BLAS unless an optimised one such as libopenblas0-pthread is installed).

Usage: /usr/bin/python3 torch_decode.py [--tokens 200] [--prompt-tokens 6] [--repeats 3] [--threads 2]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

if __name__ == "__main__":
    # OpenBLAS starts its own threads at import: one pool of the requested size, not one per core beside torch's.
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads)

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, BLOCK, LAYERS, HEADS, EMBD = 65, 128, 6, 6, 192


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(EMBD, elementwise_affine=True)
        self.c_attn = nn.Linear(EMBD, 3 * EMBD, bias=False)
        self.c_proj = nn.Linear(EMBD, EMBD, bias=False)
        self.ln_2 = nn.LayerNorm(EMBD, elementwise_affine=True)
        self.c_fc = nn.Linear(EMBD, 4 * EMBD, bias=False)
        self.mlp_proj = nn.Linear(4 * EMBD, EMBD, bias=False)

    def forward(self, x, keys, values, start):
        """x: [1, T, EMBD] at positions start .. start+T-1; keys/values: [1, HEADS, BLOCK, head] of this layer."""
        batch, length, _ = x.shape
        head = EMBD // HEADS
        q, k, v = self.c_attn(self.ln_1(x)).split(EMBD, dim=2)
        q = q.view(batch, length, HEADS, head).transpose(1, 2)
        k = k.view(batch, length, HEADS, head).transpose(1, 2)
        v = v.view(batch, length, HEADS, head).transpose(1, 2)
        keys[:, :, start:start + length] = k
        values[:, :, start:start + length] = v
        k = keys[:, :, :start + length]
        v = values[:, :, :start + length]
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(head))
        if length > 1:
            mask = torch.ones(length, start + length, dtype=torch.bool).tril(diagonal=start)
            scores = scores.masked_fill(~mask, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(batch, length, EMBD)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, EMBD)
        self.wpe = nn.Embedding(BLOCK, EMBD)
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(EMBD, elementwise_affine=True)
        for p in self.parameters():
            nn.init.normal_(p, 0.0, 0.02) if p.dim() > 1 else None

    def forward(self, tokens, cache, start):
        """tokens: [1, T] at positions start .. start+T-1 → logits of the last position, [VOCAB]."""
        positions = torch.arange(start, start + tokens.shape[1])
        x = self.wte(tokens) + self.wpe(positions)
        for block, (keys, values) in zip(self.h, cache):
            x = block(x, keys, values, start)
        return F.linear(self.ln_f(x[:, -1]), self.wte.weight)[0]


def generate(model, prompt, tokens, generator):
    cache = [(torch.zeros(1, HEADS, BLOCK, EMBD // HEADS), torch.zeros(1, HEADS, BLOCK, EMBD // HEADS)) for _ in range(LAYERS)]
    context = list(prompt)
    logits = model(torch.tensor([context]), cache, 0)
    length = len(context)
    for _ in range(tokens):
        probabilities = F.softmax(logits / 0.8, dim=-1)
        context.append(int(torch.multinomial(probabilities, 1, generator=generator)))
        if len(context) == tokens + len(prompt):
            break
        if length == BLOCK:
            window = context[-(BLOCK * 3 // 4):]
            logits = model(torch.tensor([window]), cache, 0)
            length = len(window)
        else:
            logits = model(torch.tensor([[context[-1]]]), cache, length)
            length += 1
    return context[len(prompt):]


def blas_library():
    """The BLAS shared library this process loaded (torch links libblas.so.3, whichever it points to)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return sorted(paths)[0] if paths else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--prompt-tokens", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    model = Gpt().eval()
    prompt = [int(t) for t in torch.randint(0, VOCAB, (args.prompt_tokens,))]
    rates = []
    with torch.inference_mode():
        generate(model, prompt, args.tokens, torch.Generator().manual_seed(0))  # warm-up
        for repeat in range(args.repeats):
            started = time.perf_counter()
            out = generate(model, prompt, args.tokens, torch.Generator().manual_seed(repeat + 1))
            rates.append(len(out) / (time.perf_counter() - started))
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "tokens": args.tokens,
        "prompt_tokens": args.prompt_tokens,
        "tokens_per_s": rates,
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
    }))


if __name__ == "__main__":
    main()
