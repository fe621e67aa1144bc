#pragma once

// Matrix products for the CPU training step, through the system BLAS
// (OpenBLAS on Debian, the library libtorch itself calls): no tensors, no
// dispatch, no allocation. A build without BLAS (MLCTL_HAVE_BLAS unset)
// trains through autograd and never calls it.
#include <cstdint>
#include <cstdlib>

#ifdef MLCTL_HAVE_BLAS
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);
#endif

namespace mlctl::torch_backend {

// c = alpha * op(a) * op(b) + beta * c for row-major matrices: op(a) is
// rows x inner, op(b) inner x cols, c rows x cols; op transposes when asked.
// lda, ldb, ldc are the row lengths of a, b and c as stored.
inline void gemm_row_major(bool transpose_a, bool transpose_b, std::int64_t rows, std::int64_t cols,
                           std::int64_t inner, float alpha, const float* a, std::int64_t lda, const float* b,
                           std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
#ifdef MLCTL_HAVE_BLAS
  // Row-major c is column-major c^T = op(b)^T * op(a)^T: BLAS gets the
  // operands swapped, each with the transposition asked of it.
  const char trans_b = transpose_b ? 'T' : 'N', trans_a = transpose_a ? 'T' : 'N';
  const int m = int(cols), n = int(rows), k = int(inner), ld_b = int(ldb), ld_a = int(lda), ld_c = int(ldc);
  sgemm_(&trans_b, &trans_a, &m, &n, &k, &alpha, b, &ld_b, a, &ld_a, &beta, c, &ld_c);
#else
  (void)transpose_a, (void)transpose_b, (void)rows, (void)cols, (void)inner, (void)alpha, (void)a, (void)lda,
      (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
  std::abort();
#endif
}

}  // namespace mlctl::torch_backend
