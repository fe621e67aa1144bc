#!/usr/bin/env python3
"""Quickstart job: logistic regression by gradient descent, standard library only.

Logs a metric series per epoch by appending JSON lines to $MLCTL_METRICS_FILE
and writes the model to the output directory, so mlctl records both.
"""
import argparse
import json
import math
import os
import random


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")  # "569,30,malignant,benign"
        rows = [list(map(float, line.split(","))) for line in f if line.strip()]
    names = header[2:]
    return [r[:-1] for r in rows], [int(r[-1]) for r in rows], names


def standardize(train, test):
    columns = list(zip(*train))
    means = [sum(c) / len(c) for c in columns]
    stds = [math.sqrt(sum((x - m) ** 2 for x in c) / len(c)) or 1.0 for c, m in zip(columns, means)]
    scale = lambda rows: [[(x - m) / s for x, m, s in zip(r, means, stds)] for r in rows]
    return scale(train), scale(test), means, stds


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--model-dir", default=os.environ.get("MLCTL_OUTPUTS", "."))
    args = parser.parse_args()

    features, labels, class_names = load(args.data)
    order = list(range(len(labels)))
    random.Random(42).shuffle(order)
    split = int(len(order) * 0.8)
    train_idx, test_idx = order[:split], order[split:]
    x_train, x_test, means, stds = standardize([features[i] for i in train_idx], [features[i] for i in test_idx])
    y_train, y_test = [labels[i] for i in train_idx], [labels[i] for i in test_idx]

    metrics_file = open(os.environ.get("MLCTL_METRICS_FILE", os.devnull), "a")
    weights, bias = [0.0] * len(x_train[0]), 0.0
    for epoch in range(args.epochs):
        grad_w, grad_b, loss = [0.0] * len(weights), 0.0, 0.0
        for x, y in zip(x_train, y_train):
            p = sigmoid(sum(w * v for w, v in zip(weights, x)) + bias)
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            for j, v in enumerate(x):
                grad_w[j] += (p - y) * v
            grad_b += p - y
        n = len(x_train)
        weights = [w - args.learning_rate * g / n for w, g in zip(weights, grad_w)]
        bias -= args.learning_rate * grad_b / n
        correct = sum((sigmoid(sum(w * v for w, v in zip(weights, x)) + bias) > 0.5) == bool(y)
                      for x, y in zip(x_test, y_test))
        accuracy = correct / len(y_test)
        metrics_file.write(json.dumps({"metrics": {"train_loss": loss / n, "test_accuracy": accuracy},
                                       "step": epoch}) + "\n")
        metrics_file.flush()
        print(f"epoch {epoch + 1}/{args.epochs}  loss {loss / n:.4f}  test accuracy {accuracy:.4f}")

    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.json"), "w") as f:
        json.dump({"weights": weights, "bias": bias, "means": means, "stds": stds, "classes": class_names}, f)
    print(f"final test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
