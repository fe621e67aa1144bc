#!/usr/bin/env python3
"""The plain PyTorch script a user would write for mlctl's three example
models, end to end: read the CSV, preprocess (fitted on the training split),
train, evaluate on the held-out split. Same architectures, epochs, batch
sizes and optimisers as examples/*/train.yml. Prints one JSON line.

usage: pytorch_reference.py churn|digits|spam CSV
"""
import csv
import json
import re
import sys
import time

START = time.perf_counter()
import torch  # noqa: E402  (the import is part of the end-to-end time)

torch.manual_seed(42)
torch.set_num_threads(torch.get_num_threads())


def stratified_split(labels, fractions, seed=42):
    """Per class: test, validation, then train; seeded like mlctl's split."""
    import random
    rng = random.Random(seed)
    by_class = {}
    for i, y in enumerate(labels):
        by_class.setdefault(y, []).append(i)
    train, val, test = [], [], []
    for rows in by_class.values():
        rng.shuffle(rows)
        n_val, n_test = round(fractions[0] * len(rows)), round(fractions[1] * len(rows))
        val += rows[:n_val]
        test += rows[n_val:n_val + n_test]
        train += rows[n_val + n_test:]
    return train, val, test


def train_loop(model, batches_of, train_rows, epochs, batch_size, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    samples, seconds = 0, 0.0
    for epoch in range(epochs):
        began = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_rows)).tolist()
        for b in range(0, len(order), batch_size):
            inputs, labels = batches_of([train_rows[i] for i in order[b:b + batch_size]])
            optimizer.zero_grad()
            loss = loss_fn(model(*inputs), labels)
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - began
        samples += len(train_rows)
    return samples / seconds


def accuracy(model, batches_of, rows):
    model.eval()
    with torch.no_grad():
        inputs, labels = batches_of(rows)
        return (model(*inputs).argmax(1) == labels).float().mean().item()


def tabular(path, model_kind):
    with open(path) as f:
        reader = csv.reader(f)
        next(reader)
        rows = list(reader)
    classes = sorted({r[-1] for r in rows}, key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))
    y = torch.tensor([classes.index(r[-1]) for r in rows])
    x = torch.tensor([[float(v) for v in r[:-1]] for r in rows])
    if model_kind == "linear":
        train, val, test = stratified_split(y.tolist(), (0.2, 0.2))
        mean, std = x[train].mean(0), x[train].std(0, unbiased=False).clamp_min(1e-12)
        x = (x - mean) / std
        model = torch.nn.Linear(x.shape[1], len(classes))
        epochs, lr = 100, 0.01
    else:
        train, val, test = stratified_split(y.tolist(), (0.15, 0.2))
        x = ((x - x[train].mean()) / x[train].std(unbiased=False)).view(-1, 1, 8, 8)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 2 * 2, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
            torch.nn.Linear(64, len(classes)))
        epochs, lr = 40, 0.002

    def batches_of(idx):
        return (x[idx],), y[idx]

    sps = train_loop(model, batches_of, train, epochs, 32, lr)
    return accuracy(model, batches_of, test), sps, len(train) * epochs


TOKEN = re.compile(r"[a-z0-9\x80-\xff]+")


def text(path):
    csv.field_size_limit(1 << 30)
    with open(path, encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        rows = list(reader)
    classes = sorted({r[1] for r in rows})
    y = torch.tensor([classes.index(r[1]) for r in rows])
    train, val, test = stratified_split(y.tolist(), (0.15, 0.2))
    tokens = [TOKEN.findall(r[0].lower()) for r in rows]
    counts = {}
    for i in train:
        for t in tokens[i]:
            counts[t] = counts.get(t, 0) + 1
    vocab = {t: i + 1 for i, (t, _) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20000])}
    ids = [[vocab.get(t, 0) for t in doc] for doc in tokens]

    class Bow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.EmbeddingBag(20001, 64, mode="mean")
            self.head = torch.nn.Linear(64, len(classes))

        def forward(self, flat, offsets):
            return self.head(self.embedding(flat, offsets))

    def batches_of(idx):
        flat, offsets = [], []
        for i in idx:
            offsets.append(len(flat))
            flat += ids[i]
        return (torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)), y[idx]

    model = Bow()
    sps = train_loop(model, batches_of, train, 5, 32, 0.005)
    return accuracy(model, batches_of, test), sps, len(train) * 5


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "spam":
        acc, sps, samples = text(path)
    else:
        acc, sps, samples = tabular(path, "linear" if kind == "churn" else "cnn")
    print(json.dumps({"model": kind, "test_accuracy": acc, "samples_per_second": sps,
                      "wall_seconds": time.perf_counter() - START}))


if __name__ == "__main__":
    main()
