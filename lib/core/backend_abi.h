/* The C ABI between libmlctl and the libtorch backend (libmlctl_torch.so),
 * which mlctl loads with dlopen only for the commands that train, score or
 * serve: linking libtorch into mlctl would cost ~0.6 s and ~160 MiB at every
 * start. Plain C so that no C++ type or exception crosses the boundary.
 *
 * Versioning: the backend exports `mlctl_backend_v1`; an incompatible change
 * adds `mlctl_backend_v2` and the loader asks for the version it knows.
 * Members added at the end of the table raise `abi_version` (2 added
 * predict_script, 3 the loaded models of the HTTP service); the loader
 * checks it before using them. */
#ifndef MLCTL_CORE_BACKEND_ABI_H
#define MLCTL_CORE_BACKEND_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A result owned by the backend: JSON text on success, or an error. Free it
 * with MlctlBackendV1.free_result. */
typedef struct MlctlBackendResult {
  int ok;              /* 1 on success */
  const char* json;    /* success: a JSON document */
  const char* error;   /* failure: one-line message */
  const char* kind;    /* failure: an mlctl error kind ("train", "invalid_argument", ...) */
} MlctlBackendResult;

/* One split of preprocessed data, owned by the caller. Tabular and image
 * models read `features` (rows x cols, row-major); the text model reads
 * `text_ids` with `text_offsets` (one offset per row, EmbeddingBag's
 * format). Classification fills `class_labels`, regression `targets`;
 * both may be NULL when scoring. */
typedef struct MlctlSplit {
  int64_t rows;
  const float* features;
  int64_t cols;
  const int32_t* text_ids;
  int64_t text_id_count;
  const int64_t* text_offsets;
  const int64_t* class_labels;
  const float* targets;
} MlctlSplit;

/* Called after every epoch with its metrics as JSON
 * ({"epoch": 3, "train_loss": 0.2, "val_loss": 0.25, "val_accuracy": ...}). */
typedef void (*MlctlEpochCallback)(void* context, const char* metrics_json);

typedef struct MlctlBackendV1 {
  int abi_version; /* 2: with predict_script; 3: with loaded models */
  /* {"torch_version": "1.13.1", "cuda_available": false, "cuda_devices": 0,
   *  "threads": 2, "blas": "..."} */
  MlctlBackendResult* (*describe)(void);
  void (*free_result)(MlctlBackendResult* result);
  /* Trains the model `config_json` describes (docs/architecture.md) on
   * `train`, evaluating on `validation` every epoch and on `test` (may be
   * NULL) at the end; writes weights.pt into config.output_dir and a
   * checkpoint every epoch into config.checkpoint_dir. Returns the final
   * metrics as JSON. */
  MlctlBackendResult* (*train)(const char* config_json, const MlctlSplit* train, const MlctlSplit* validation,
                               const MlctlSplit* test, MlctlEpochCallback on_epoch, void* context);
  /* Scores `data` with the model in `model_dir` (its model.json and
   * weights.pt): writes rows x outputs floats (class probabilities, or the
   * scaled regression value) to `output`, which holds `output_size`. */
  MlctlBackendResult* (*predict)(const char* model_dir, const MlctlSplit* data, float* output, int64_t output_size);
  /* abi_version >= 2: scores `data.features` with a TorchScript module
   * (torch.jit.save) called as module(features) on a rows x cols float
   * tensor; it must return rows x (output_size / rows) values (logits, or
   * one regression value), written to `output`. Another shape is an
   * error naming it. */
  MlctlBackendResult* (*predict_script)(const char* model_file, const MlctlSplit* data, float* output,
                                        int64_t output_size);
  /* abi_version >= 3: a model loaded once and scored many times, from
   * several threads at once (the HTTP service). `config_json` is
   * {"format": "mlctl", "model_dir": DIR} or {"format": "torchscript",
   * "file": FILE, "outputs": N (values per row)}, plus "threads"
   * (intra-op threads, default 1). On success
   * *handle is set and the result is {"outputs": N}. */
  MlctlBackendResult* (*load_model)(const char* config_json, void** handle);
  /* Scores with a loaded model as predict (built-in: probabilities or the
   * scaled value) or predict_script (raw outputs) do. Returns NULL on
   * success, so that the hot path allocates nothing; an error result
   * otherwise. */
  MlctlBackendResult* (*score_loaded)(void* handle, const MlctlSplit* data, float* output, int64_t output_size);
  void (*release_model)(void* handle);
} MlctlBackendV1;

typedef const MlctlBackendV1* (*MlctlBackendEntryV1)(void);

#define MLCTL_BACKEND_ENTRY_V1 "mlctl_backend_v1"

#ifdef __cplusplus
}
#endif

#endif
