"""Issue 16: the mean of several GGUF LoRA adapters' weight changes, as one adapter.

    python train/soup.py OUT.lora.gguf A.lora.gguf B.lora.gguf [C...] [--rank 64] [--type q8_0]
    python train/soup.py OUT.lora.gguf A.lora.gguf --scale 1.2   # one adapter's change, scaled

Each adapter changes a projection by scale_i * B_i @ A_i. Their mean is exactly the LoRA
whose factors are the adapters' factors side by side ([B_1 .. B_n] and [A_1; ..; A_n]) with
each B_i scaled by scale_i / n, a rank n*r update; `cut_lora` cuts it back to the best
rank-`rank` LoRA (an SVD of the factors, never of the full projection) and says how much of
the mean's squared norm it keeps. Earlier averages in models/ took A and B apart, tensor by
tensor, which is not the mean of the updates (a product of means); this is.

Meant for siblings fine-tuned from one start (a "model soup"): their shared gain stays,
their separate noise partly cancels. `--scale` multiplies the mean (or one adapter's) change:
below 1 it moves toward the base model, above 1 past the adapter (a task vector extrapolated).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def soup(adapters: list[Path], rank: int, factor: float = 1.0) -> tuple[dict, float, float]:
    """The mean update of `adapters`, times `factor`, as PEFT weights at `rank` (alpha = rank),
    the share kept, and the alpha."""
    import torch

    from thau_tui.paths import bundled_model
    from thau_tui.train.adapter_weights import cut_lora
    from thau_tui.train.export import read_lora_gguf

    base = bundled_model()
    found = [read_lora_gguf(path, base) for path in adapters]
    joined: dict[str, torch.Tensor] = {}
    for key in found[0]["weights"]:
        if ".lora_A." not in key:
            continue
        b_key = key.replace(".lora_A.", ".lora_B.")
        a_parts, b_parts = [], []
        for item in found:
            scale = factor * item["alpha"] / item["rank"] / len(found)
            a_parts.append(torch.from_numpy(item["weights"][key]).double())
            b_parts.append(torch.from_numpy(item["weights"][b_key]).double() * scale)
        joined[key] = torch.cat(a_parts, dim=0)
        joined[b_key] = torch.cat(b_parts, dim=1)
    alpha = float(rank)
    weights, kept = cut_lora(joined, 1.0, rank, alpha)
    return weights, kept, alpha


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("adapters", type=Path, nargs="+")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--type", default="q8_0", choices=("f32", "f16", "q8_0"))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the mean change (default 1)")
    args = parser.parse_args(argv)
    if len(args.adapters) < 2 and args.scale == 1.0:
        parser.error("give at least two adapters, or one with --scale")
    from safetensors.torch import save_file

    from thau_tui.paths import bundled_model
    from thau_tui.train.export import write_lora_gguf

    weights, kept, alpha = soup(args.adapters, args.rank, args.scale)
    modules = sorted({key.split(".")[-3] for key in weights})
    with tempfile.TemporaryDirectory() as folder:
        peft = Path(folder)
        save_file({k: v.contiguous() for k, v in weights.items()}, str(peft / "adapter_model.safetensors"))
        config = {"r": args.rank, "lora_alpha": alpha, "target_modules": modules, "peft_type": "LORA"}
        (peft / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
        write_lora_gguf(peft, bundled_model(), args.out, tensor_type=args.type)
    times = f" times {args.scale:g}" if args.scale != 1.0 else ""
    print(f"{args.out}: mean of {len(args.adapters)} adapters{times} at rank {args.rank}, keeps {kept:.4%} of it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
