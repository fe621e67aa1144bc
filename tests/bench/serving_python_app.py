#!/usr/bin/env python3
"""The Python side of the serving benchmark (bench_serving.py): mlctl's
churn MLP served the way a Python team would, through PyTorch on the CPU,
behind Flask or FastAPI.

Both apps answer
  POST /score  {"data": [[30 floats], ...]}
               -> {"predictions": [label, ...], "probabilities": [[p0, p1], ...]}
  GET /health  -> {"status": "ok", "weights": "mlctl" | "random"}
like mlctl's scoring service. The rows are raw feature values in the order
of preprocessor.json; null is a missing value (imputed with the training
mean, as mlctl does).

The model directory is the one `mlctl model download` writes (model.json,
preprocessor.json, weights.pt), named by --model-dir or $MLCTL_BENCH_MODEL_DIR
(the latter for gunicorn and uvicorn, which import an app factory):

  python3 serving_python_app.py flask --model-dir DIR --port 8000
  MLCTL_BENCH_MODEL_DIR=DIR gunicorn -w 2 'serving_python_app:flask_app()'
  MLCTL_BENCH_MODEL_DIR=DIR uvicorn --workers 2 --factory serving_python_app:fastapi_app

Needs Debian's python3-torch, python3-flask, python3-fastapi (run by
/usr/bin/python3, which has them).
"""
import argparse
import json
import logging
import math
import os
import sys

import torch

# One thread per process, as a web worker should: the servers get their
# parallelism from workers or request threads, and intra-op threads would
# fight them for the cores (and cannot help a 30x16 matrix product anyway).
torch.set_num_threads(1)
torch.set_num_interop_threads(1)

MODEL_DIR_ENV = "MLCTL_BENCH_MODEL_DIR"


def activation(name):
    """The activation modules lib/torch/models.cpp knows."""
    layers = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU, "sigmoid": torch.nn.Sigmoid}
    if name not in layers:
        raise ValueError(f"unknown activation '{name}'")
    return layers[name]()


class Mlp(torch.nn.Module):
    """lib/torch/models.cpp's MlpImpl: a Sequential registered as `layers`,
    Linear, activation and (when dropout > 0) Dropout per hidden layer, then
    the output Linear. Keeping the same nesting and order gives the same
    parameter names (layers.0.weight, ...) as the C++ module, which is what
    lets its saved weights load below."""

    def __init__(self, inputs, hidden_sizes, outputs, dropout, activation_name):
        super().__init__()
        stack, width = [], inputs
        for hidden in hidden_sizes:
            stack += [torch.nn.Linear(width, hidden), activation(activation_name)]
            if dropout > 0:
                stack.append(torch.nn.Dropout(dropout))
            width = hidden
        stack.append(torch.nn.Linear(width, outputs))
        self.layers = torch.nn.Sequential(*stack)

    def forward(self, x):
        return self.layers(x)


def build_network(config):
    """The network model.json describes (lib/torch/models.cpp, Network);
    only the tabular kinds, which is all the churn example uses."""
    model = config["model"]
    kind = model["type"]
    if kind not in ("linear", "mlp"):
        raise ValueError(f"model type '{kind}' is not served by this benchmark app")
    hidden = model.get("hidden_sizes", []) if kind == "mlp" else []
    dropout = model.get("dropout", 0.0) if kind == "mlp" else 0.0
    return Mlp(config["num_features"], hidden, config["num_outputs"], dropout, model.get("activation", "relu"))


def load_weights(network, path):
    """Copies the weights mlctl saved into `network`; returns "mlctl", or
    "random" when they cannot be read.

    mlctl saves with torch::serialize::OutputArchive (module.save), which
    writes a TorchScript archive whose parameters carry the module's own
    names, so torch.jit.load reads it and its state dict matches Mlp's by
    name. Falling back to random weights keeps the benchmark running (it
    compares speed, and the architecture and preprocessing stay the same),
    but /health reports it so the driver can say so.
    """
    try:
        saved = torch.jit.load(path, map_location="cpu")
        state = dict(saved.named_parameters())
        state.update(saved.named_buffers())
        network.load_state_dict(state, strict=True)
        return "mlctl"
    except Exception as error:  # noqa: BLE001  (any failure means: fall back)
        print(f"serving_python_app: cannot load {path} ({error}); using random weights", file=sys.stderr)
        return "random"


class Scorer:
    """Preprocessing, the forward pass and post-processing of one model
    directory. Thread-safe: the state is read-only after construction."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "model.json")) as f:
            config = json.load(f)
        with open(os.path.join(model_dir, "preprocessor.json")) as f:
            preprocessor = json.load(f)
        if preprocessor.get("mode", "tabular") != "tabular" or preprocessor.get("task") != "classification":
            raise ValueError("only tabular classification models are served by this benchmark app")
        features = preprocessor["features"]
        if any(feature["type"] != "numeric" for feature in features):
            raise ValueError("only numeric features are served by this benchmark app")
        self.feature_count = len(features)
        self.mean = torch.tensor([feature["mean"] for feature in features], dtype=torch.float64)
        # The preprocessor already turns a std of 0 into 1; guard anyway.
        self.std = torch.tensor([feature["std"] or 1.0 for feature in features], dtype=torch.float64)
        self.classes = preprocessor["label"]["classes"]
        # Seeded so that, should the weights fall back to random ones, every
        # worker process serves the same model.
        torch.manual_seed(0)
        self.network = build_network(config)
        self.weights = load_weights(self.network, os.path.join(model_dir, "weights.pt"))
        self.network.eval()

    def score(self, rows):
        """{"predictions", "probabilities"} for raw feature rows; raises
        ValueError for a malformed batch (the apps answer 400)."""
        if not isinstance(rows, list) or not rows:
            raise ValueError('"data" must be a non-empty list of rows')
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != self.feature_count:
                raise ValueError(f"row {i}: expected {self.feature_count} values")
        with torch.inference_mode():
            # float64 first so that None becomes NaN, then the missing cells
            # become 0 after scaling, that is the training mean.
            x = torch.tensor([[math.nan if v is None else v for v in row] for row in rows], dtype=torch.float64)
            x = ((x - self.mean) / self.std).nan_to_num(nan=0.0).to(torch.float32)
            probabilities = torch.softmax(self.network(x), dim=1)
            labels = probabilities.argmax(dim=1).tolist()
            return {"predictions": [self.classes[i] for i in labels], "probabilities": probabilities.tolist()}


def model_dir_from_env():
    path = os.environ.get(MODEL_DIR_ENV)
    if not path:
        sys.exit(f"serving_python_app: set ${MODEL_DIR_ENV} to the model directory")
    return path


def flask_app(model_dir=None):
    """The Flask app; gunicorn calls it as 'serving_python_app:flask_app()'."""
    import flask

    scorer = Scorer(model_dir or model_dir_from_env())
    app = flask.Flask("mlctl-bench")

    @app.get("/health")
    def health():
        return {"status": "ok", "weights": scorer.weights}

    @app.post("/score")
    def score():
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict) or "data" not in body:
            return {"error": 'expected a JSON object {"data": [[...], ...]}'}, 400
        try:
            return scorer.score(body["data"])
        except (ValueError, TypeError) as error:
            return {"error": str(error)}, 400

    return app


def fastapi_app(model_dir=None):
    """The FastAPI app; uvicorn calls it with --factory."""
    from typing import List, Optional

    import fastapi
    import pydantic

    scorer = Scorer(model_dir or model_dir_from_env())
    app = fastapi.FastAPI()

    class ScoreRequest(pydantic.BaseModel):
        data: List[List[Optional[float]]]

    @app.get("/health")
    async def health():
        return {"status": "ok", "weights": scorer.weights}

    # `async def` on purpose: the forward pass takes tens of microseconds,
    # less than handing the request to FastAPI's thread pool (what a plain
    # `def` endpoint does) would cost, so this is the faster of the two.
    @app.post("/score")
    async def score(request: ScoreRequest):
        try:
            return scorer.score(request.data)
        except ValueError as error:
            raise fastapi.HTTPException(status_code=400, detail=str(error))

    return app


def main():
    parser = argparse.ArgumentParser(description="Serve mlctl's churn model with Flask's threaded server.")
    parser.add_argument("server", choices=["flask"])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = flask_app(args.model_dir)
    # No access log line per request, as for gunicorn and uvicorn
    # (--no-access-log): the benchmark measures serving, not logging.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
