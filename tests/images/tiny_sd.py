"""A tiny Stable Diffusion 1.x pipeline built from configs, offline, in seconds.

Used by the image tests and bench/image_step.py: the same folder layout a real
SD 1.5 download has (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
scheduler/), with weights small enough that a 64x64 image takes well under a
second a step on a laptop CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

# A byte-level BPE vocabulary: every printable ASCII character, with and
# without CLIP's end-of-word marker, plus the two special tokens. No merges are
# needed: words fall apart into characters, which is all a test prompt needs.
_CHARS = [chr(c) for c in range(33, 127)]


def _write_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for token in _CHARS + [c + "</w>" for c in _CHARS] + ["<|startoftext|>", "<|endoftext|>"]:
        vocab.setdefault(token, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")


def build_tiny_sd(folder: Path, seed: int = 0) -> Path:
    """Write a tiny StableDiffusionPipeline (save_pretrained layout) into `folder`."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    # SD 1.5's shape (four levels, two layers each, no attention at the lowest level), only
    # narrow: the original-layout key names in save_single_file depend on it.
    unet = UNet2DConditionModel(
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=2,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    # Four VAE levels, as in SD: 8x smaller latents (64x64 pixels -> 8x8).
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    )
    tok_dir = folder / "_tokenizer_src"
    _write_tokenizer(tok_dir)
    tokenizer = CLIPTokenizer(
        vocab_file=str(tok_dir / "vocab.json"),
        merges_file=str(tok_dir / "merges.txt"),
        model_max_length=77,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(json.loads((tok_dir / "vocab.json").read_text())),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=77,
            projection_dim=16,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    for leftover in tok_dir.iterdir():
        leftover.unlink()
    tok_dir.rmdir()
    return folder


# --- the same weights as one checkpoint in the original (CompVis/ldm) layout ---------------
# Single-file checkpoints (what most sites share) name tensors the way the original
# Stable Diffusion code did. These rules rename a diffusers pipeline's tensors into
# that layout for an SD 1.x-shaped UNet/VAE of any width (levels and layers are read
# from the configs), so diffusers' from_single_file can be tested on the tiny model.

_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "time_emb_proj": "emb_layers.1",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "conv_shortcut": "skip_connection",
}
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}
_VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename_resnet(rest: str) -> str:
    head, _, tail = rest.partition(".")
    return f"{_RESNET.get(head, head)}.{tail}"


def _unet_key(key: str, layers: int, up_has_attention: list[bool]) -> str:
    import re

    per_level = layers + 1  # ldm counts the downsampler (or upsampler) as one more block per level
    for hf, sd in _UNET_TOP.items():
        if key.startswith(hf + "."):
            return sd + key[len(hf) :]
    if m := re.match(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        block = per_level * i + j + 1
        return (
            f"input_blocks.{block}.0.{_rename_resnet(rest)}" if kind == "resnets" else f"input_blocks.{block}.1.{rest}"
        )
    if m := re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)", key):
        return f"input_blocks.{per_level * (int(m[1]) + 1)}.0.op.{m[2]}"
    if m := re.match(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        block = per_level * i + j
        return (
            f"output_blocks.{block}.0.{_rename_resnet(rest)}"
            if kind == "resnets"
            else f"output_blocks.{block}.1.{rest}"
        )
    if m := re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.(.*)", key):
        i = int(m[1])
        return f"output_blocks.{per_level * i + layers}.{2 if up_has_attention[i] else 1}.{m[2]}"
    if m := re.match(r"mid_block\.resnets\.(\d+)\.(.*)", key):
        return f"middle_block.{2 * int(m[1])}.{_rename_resnet(m[2])}"
    if key.startswith("mid_block.attentions.0."):
        return "middle_block.1." + key[len("mid_block.attentions.0.") :]
    raise KeyError(f"no original-layout name for UNet tensor {key}")


def _vae_key(key: str, levels: int) -> str:
    import re

    key = key.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
    if m := re.match(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
        return f"encoder.down.{m[1]}.block.{m[2]}.{m[3]}"
    if m := re.match(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.(.*)", key):
        return f"encoder.down.{m[1]}.downsample.{m[2]}"
    # The decoder's levels run the other way round in the original code.
    if m := re.match(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
        return f"decoder.up.{levels - 1 - int(m[1])}.block.{m[2]}.{m[3]}"
    if m := re.match(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.*)", key):
        return f"decoder.up.{levels - 1 - int(m[1])}.upsample.{m[2]}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.*)", key):
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3]}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.*)", key):
        rest = m[2]
        for hf, sd in _VAE_ATTENTION.items():
            if rest.startswith(hf + "."):
                rest = sd + rest[len(hf) :]
                break
        return f"{m[1]}.mid.attn_1.{rest}"
    return key


def save_single_file(pipeline_folder: Path, checkpoint: Path) -> Path:
    """Write the pipeline's UNet, VAE and text encoder as one original-layout .safetensors."""
    from safetensors.torch import load_file, save_file

    folder = Path(pipeline_folder)
    unet_config = json.loads((folder / "unet" / "config.json").read_text())
    vae_config = json.loads((folder / "vae" / "config.json").read_text())
    up_has_attention = ["CrossAttn" in kind for kind in unet_config["up_block_types"]]
    state: dict = {}
    for key, tensor in load_file(folder / "unet" / "diffusion_pytorch_model.safetensors").items():
        name = _unet_key(key, unet_config["layers_per_block"], up_has_attention)
        state["model.diffusion_model." + name] = tensor
    levels = len(vae_config["block_out_channels"])
    for key, tensor in load_file(folder / "vae" / "diffusion_pytorch_model.safetensors").items():
        name = _vae_key(key, levels)
        if ".mid.attn_1." in name and name.endswith("weight") and tensor.ndim == 2:
            tensor = tensor.reshape(*tensor.shape, 1, 1)  # the original used 1x1 convolutions here
        state["first_stage_model." + name] = tensor
    for key, tensor in load_file(folder / "text_encoder" / "model.safetensors").items():
        key = key if key.startswith("text_model.") else "text_model." + key
        state["cond_stage_model.transformer." + key] = tensor
    checkpoint = Path(checkpoint)
    save_file({k: v.contiguous() for k, v in state.items()}, checkpoint)
    return checkpoint
