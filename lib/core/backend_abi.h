/* The C ABI between libmlctl and the libtorch backend (libmlctl_torch.so),
 * which mlctl loads with dlopen only for the commands that train, score or
 * serve: linking libtorch into mlctl would cost ~0.6 s and ~160 MiB at every
 * start. Plain C so that no C++ type or exception crosses the boundary.
 *
 * Versioning: the backend exports `mlctl_backend_v1`; an incompatible change
 * adds `mlctl_backend_v2` and the loader asks for the version it knows. */
#ifndef MLCTL_CORE_BACKEND_ABI_H
#define MLCTL_CORE_BACKEND_ABI_H

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

typedef struct MlctlBackendV1 {
  int abi_version; /* 1 */
  /* {"torch_version": "1.13.1", "cuda_available": false, "cuda_devices": 0,
   *  "threads": 2, "blas": "..."} */
  MlctlBackendResult* (*describe)(void);
  void (*free_result)(MlctlBackendResult* result);
} MlctlBackendV1;

typedef const MlctlBackendV1* (*MlctlBackendEntryV1)(void);

#define MLCTL_BACKEND_ENTRY_V1 "mlctl_backend_v1"

#ifdef __cplusplus
}
#endif

#endif
