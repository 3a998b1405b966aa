// dapo.cu — the project's own CUDA kernels. They mirror kernels/cpu
// operation for operation (same epsilon, same activations, same softmax,
// float64 reductions where the CPU uses them) so that the golden tolerances
// hold on the GPU. Compiled to PTX by scripts/cuda-ptx.sh; the PTX is
// committed and embedded (kernels/cuda/ptx.go). Every kernel is extern "C"
// so its PTX name is its C name.
//
// Layout conventions as in kernels/cpu: row-major float32, explicit sizes
// and leading dimensions; backward kernels ADD into their outputs.

#include <cuda_runtime.h>
#include <mma.h>
#include <math_constants.h>

#define WARP 32

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// block_sum_d sums one double per thread over the block (blockDim.x a
// multiple of 32, at most 1024); every thread gets the total.
__device__ double block_sum_d(double v) {
    __shared__ double part[32];
    __shared__ double total;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    v = warp_sum_d(v);
    if (lane == 0) part[w] = v;
    __syncthreads();
    if (w == 0) {
        double s = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0;
        s = warp_sum_d(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    double r = total;
    __syncthreads();
    return r;
}

// ---------------------------------------------------------------- GEMM

// sgemm_f32: C = alpha·op(A)·op(B) + beta·C, row-major, exact float32
// (one FMA chain per output, k in order). 64×64 tile per block of 256
// threads, 4×4 outputs per thread, k in steps of 16 through shared memory.
// With beta == 0, C is not read (it may hold NaN).
#define GT 64
#define GK 16
extern "C" __global__ void sgemm_f32(int transA, int transB, int m, int n, int k, float alpha,
                                     const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
                                     float beta, float* __restrict__ C, int ldc) {
    __shared__ float As[GK][GT + 4];
    __shared__ float Bs[GK][GT + 4];
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int row0 = blockIdx.y * GT, col0 = blockIdx.x * GT;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += GK) {
        for (int i = threadIdx.x; i < GT * GK; i += 256) {
            int r = i / GK, kk = i % GK;  // A tile: row r, depth kk
            int gr = row0 + r, gk = k0 + kk;
            float a = 0.f;
            if (gr < m && gk < k) a = transA ? A[(size_t)gk * lda + gr] : A[(size_t)gr * lda + gk];
            As[kk][r] = a;
            int c = i % GT, kb = i / GT;  // B tile: depth kb, column c
            int gc = col0 + c, gkb = k0 + kb;
            float b = 0.f;
            if (gc < n && gkb < k) b = transB ? B[(size_t)gc * ldb + gkb] : B[(size_t)gkb * ldb + gc];
            Bs[kb][c] = b;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = row0 + ty + 16 * i;
        if (r >= m) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int c = col0 + tx + 16 * j;
            if (c >= n) continue;
            float v = alpha * acc[i][j];
            if (beta != 0.f) v += beta * C[(size_t)r * ldc + c];
            C[(size_t)r * ldc + c] = v;
        }
    }
}

// sgemm_tf32: the same contract on tensor cores (TF32 inputs, float32
// accumulation), for the mixed-precision mode when cuBLAS is absent. A
// block of 4 warps computes a 64×64 tile, each warp a 32×32 quarter as 2×2
// wmma 16×16×8 fragments. Tiles are staged through shared memory with
// zero padding, so any m, n, k and either transpose work.
#if __CUDA_ARCH__ >= 800
using namespace nvcuda;
#endif
extern "C" __global__ void sgemm_tf32(int transA, int transB, int m, int n, int k, float alpha,
                                      const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
                                      float beta, float* __restrict__ C, int ldc) {
#if __CUDA_ARCH__ >= 800
    // wmma loads and stores need 256-bit aligned pointers; the strides
    // below keep every fragment's start on a 32-byte boundary.
    __shared__ __align__(32) float As[GT][GK + 4];  // row-major 64×16
    __shared__ __align__(32) float Bs[GK][GT + 4];  // row-major 16×64
    __shared__ __align__(32) float Cs[4][32][32 + 4];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int wr = (warp >> 1) * 32, wc = (warp & 1) * 32;
    int row0 = blockIdx.y * GT, col0 = blockIdx.x * GT;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);
    for (int k0 = 0; k0 < k; k0 += GK) {
        for (int i = threadIdx.x; i < GT * GK; i += 128) {
            int r = i / GK, kk = i % GK;
            int gr = row0 + r, gk = k0 + kk;
            float a = 0.f;
            if (gr < m && gk < k) a = transA ? A[(size_t)gk * lda + gr] : A[(size_t)gr * lda + gk];
            As[r][kk] = wmma::__float_to_tf32(a);
            int c = i % GT, kb = i / GT;
            int gc = col0 + c, gkb = k0 + kb;
            float b = 0.f;
            if (gc < n && gkb < k) b = transB ? B[(size_t)gc * ldb + gkb] : B[(size_t)gkb * ldb + gc];
            Bs[kb][c] = wmma::__float_to_tf32(b);
        }
        __syncthreads();
        for (int kk = 0; kk < GK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], &As[wr + 16 * i][kk], GK + 4);
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wc + 16 * j], GT + 4);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(&Cs[warp][16 * i][16 * j], acc[i][j], 32 + 4, wmma::mem_row_major);
    __syncwarp();
    for (int e = lane; e < 32 * 32; e += 32) {
        int r = row0 + wr + e / 32, c = col0 + wc + e % 32;
        if (r >= m || c >= n) continue;
        float v = alpha * Cs[warp][e / 32][e % 32];
        if (beta != 0.f) v += beta * C[(size_t)r * ldc + c];
        C[(size_t)r * ldc + c] = v;
    }
#endif
}

// ---------------------------------------------------------- elementwise

// add_bias_rows: x[r,c] += bias[c].
extern "C" __global__ void add_bias_rows(float* x, const float* bias, int rows, int cols) {
    size_t n = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        x[i] += bias[i % cols];
}

// add_inplace: dst[i] += src[i].
extern "C" __global__ void add_inplace(float* dst, const float* src, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) dst[i] += src[i];
}

// quickgelu: x·σ(1.702x) in place (kernels/cpu QuickGELU).
extern "C" __global__ void quickgelu(float* x, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = x[i];
        x[i] = v / (1.f + (float)exp(-1.702 * (double)v));
    }
}

// quickgelu_backward: dx += dy·f'(pre), f'(x) = σ(1.702x)(1+1.702x(1−σ)).
extern "C" __global__ void quickgelu_backward(float* dx, const float* dy, const float* pre, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        double x = pre[i];
        double s = 1.0 / (1.0 + exp(-1.702 * x));
        dx[i] += dy[i] * (float)(s * (1.0 + 1.702 * x * (1.0 - s)));
    }
}

// gelu: exact (erf) GELU in place (kernels/cpu GELU).
extern "C" __global__ void gelu(float* x, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        double v = x[i];
        x[i] = (float)(0.5 * v * (1.0 + erf(v * 0.70710678118654752440)));
    }
}

// gelu_backward: dx += dy·(Φ(x) + x·φ(x)).
extern "C" __global__ void gelu_backward(float* dx, const float* dy, const float* pre, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        double x = pre[i];
        double d = 0.5 * (1.0 + erf(x * 0.70710678118654752440)) + x * 0.3989422804014327 * exp(-0.5 * x * x);
        dx[i] += dy[i] * (float)d;
    }
}

// ----------------------------------------------------------- layer norm

// layernorm: one block per row; mean and variance in float64 as the CPU
// kernel, y may alias x.
extern "C" __global__ void layernorm(float* y, const float* x, int rows, int width, const float* weight,
                                     const float* bias, double eps) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* in = x + (size_t)r * width;
    float* out = y + (size_t)r * width;
    double s = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) s += in[j];
    double mean = block_sum_d(s) / width;
    double sq = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) {
        double d = in[j] - mean;
        sq += d * d;
    }
    double rstd = 1.0 / sqrt(block_sum_d(sq) / width + eps);
    float m = (float)mean, rs = (float)rstd;
    for (int j = threadIdx.x; j < width; j += blockDim.x) out[j] = (in[j] - m) * rs * weight[j] + bias[j];
}

// layernorm_backward: dx += rstd·(g − mean(g) − x̂·mean(g⊙x̂)), g = dy⊙w.
extern "C" __global__ void layernorm_backward(float* dx, const float* dy, const float* x, int rows, int width,
                                              const float* weight, double eps) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* in = x + (size_t)r * width;
    const float* g = dy + (size_t)r * width;
    float* out = dx + (size_t)r * width;
    double s = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) s += in[j];
    double mean = block_sum_d(s) / width;
    double sq = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) {
        double d = in[j] - mean;
        sq += d * d;
    }
    double rstd = 1.0 / sqrt(block_sum_d(sq) / width + eps);
    double sg = 0, sgx = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) {
        double gj = (double)g[j] * weight[j];
        sg += gj;
        sgx += gj * (in[j] - mean) * rstd;
    }
    double mG = block_sum_d(sg) / width, mGX = block_sum_d(sgx) / width;
    for (int j = threadIdx.x; j < width; j += blockDim.x) {
        double xhat = (in[j] - mean) * rstd;
        double gj = (double)g[j] * weight[j];
        out[j] += (float)(rstd * (gj - mG - xhat * mGX));
    }
}

// l2_normalize: each row to unit norm in place (zero rows unchanged).
extern "C" __global__ void l2_normalize(float* x, int rows, int width) {
    int r = blockIdx.x;
    if (r >= rows) return;
    float* row = x + (size_t)r * width;
    double sq = 0;
    for (int j = threadIdx.x; j < width; j += blockDim.x) sq += (double)row[j] * row[j];
    sq = block_sum_d(sq);
    if (sq == 0) return;
    float inv = (float)(1.0 / sqrt(sq));
    for (int j = threadIdx.x; j < width; j += blockDim.x) row[j] *= inv;
}

// -------------------------------------------------------------- softmax

// softmax_rows: stable softmax of each row in place; the sum in float64
// (kernels/cpu softmax). A row that is all −Inf becomes zeros.
extern "C" __global__ void softmax_rows(float* x, int rows, int cols) {
    int r = blockIdx.x;
    if (r >= rows) return;
    float* row = x + (size_t)r * cols;
    __shared__ float part[32];
    float mx = -CUDART_INF_F;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) mx = fmaxf(mx, row[j]);
    mx = warp_max(mx);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = mx;
    __syncthreads();
    mx = -CUDART_INF_F;
    for (int i = 0; i < (int)(blockDim.x >> 5); i++) mx = fmaxf(mx, part[i]);
    if (isinf(mx) && mx < 0) {
        for (int j = threadIdx.x; j < cols; j += blockDim.x) row[j] = 0.f;
        return;
    }
    double s = 0;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float e = (float)exp((double)(row[j] - mx));
        row[j] = e;
        s += e;
    }
    float inv = (float)(1.0 / block_sum_d(s));
    for (int j = threadIdx.x; j < cols; j += blockDim.x) row[j] *= inv;
}

// softmax_rows_backward: dx += y⊙(dy − Σ dy·y).
extern "C" __global__ void softmax_rows_backward(float* dx, const float* dy, const float* y, int rows, int cols) {
    int r = blockIdx.x;
    if (r >= rows) return;
    size_t o = (size_t)r * cols;
    double dot = 0;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dot += (double)dy[o + j] * y[o + j];
    float d = (float)block_sum_d(dot);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dx[o + j] += y[o + j] * (dy[o + j] - d);
}

// ------------------------------------------------------------ attention
//
// Fused multi-head attention over packed qkv [B, L, 3W] (CLIP's in_proj
// output), out [B, L, W]. No L×L tensor is ever stored. One warp owns one
// row (a query in the forward and the dq pass, a key in the dk/dv pass) and
// walks the other side in tiles of 32 rows staged in shared memory; each
// lane scores one row of the tile, and the online softmax (running max m,
// running sum l) rescales the accumulator — flash attention's recurrence.
// Head dim ≤ 128 (lane j holds dims j, j+32, j+64, j+96).
#define AW 4       // warps (rows) per block
#define HMAX 4     // head dim / 32, rounded up
#define TILE 32

__device__ __forceinline__ void load_tile(float (*dst)[129], const float* base, int ld, int row0, int rows,
                                          int hd) {
    for (int i = threadIdx.x; i < TILE * hd; i += blockDim.x) {
        int r = i / hd, d = i % hd;
        dst[r][d] = (row0 + r < rows) ? base[(size_t)(row0 + r) * ld + d] : 0.f;
    }
}

// attention_forward also writes, per (b, h, query), the log-sum-exp of the
// scaled scores (lse, may be null) for the backward.
extern "C" __global__ void attention_forward(float* out, float* lse, const float* qkv, int B, int L, int W, int H,
                                             int causal) {
    __shared__ float Ks[TILE][129];
    __shared__ float Vs[TILE][129];
    __shared__ float Qs[AW][129];
    int hd = W / H, bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * AW + warp;  // query row
    int ld = 3 * W;
    const float* base = qkv + (size_t)b * L * ld;
    const float* q = base + h * hd;
    const float* k = base + W + h * hd;
    const float* v = base + 2 * W + h * hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    for (int d = lane; d < hd; d += 32) Qs[warp][d] = (i < L) ? q[(size_t)i * ld + d] : 0.f;
    float m = -CUDART_INF_F, l = 0.f, acc[HMAX] = {};
    int last = L;
    if (causal) last = min(L, blockIdx.x * AW + AW);  // keys any query of this block may see
    for (int j0 = 0; j0 < last; j0 += TILE) {
        __syncthreads();
        load_tile(Ks, k, ld, j0, L, hd);
        load_tile(Vs, v, ld, j0, L, hd);
        __syncthreads();
        int j = j0 + lane;
        float s = -CUDART_INF_F;
        if (i < L && j < L && !(causal && j > i)) {
            float dot = 0.f;
            for (int d = 0; d < hd; d++) dot = fmaf(Qs[warp][d], Ks[lane][d], dot);
            s = dot * scale;
        }
        float tm = warp_max(s);
        float mn = fmaxf(m, tm);
        if (mn == -CUDART_INF_F) continue;  // whole tile masked so far
        float corr = expf(m - mn);
        float p = expf(s - mn);
        l = l * corr + warp_sum(p);
#pragma unroll
        for (int c = 0; c < HMAX; c++) acc[c] *= corr;
        for (int t = 0; t < TILE; t++) {
            float pt = __shfl_sync(0xffffffffu, p, t);
            if (pt == 0.f) continue;
#pragma unroll
            for (int c = 0; c < HMAX; c++) {
                int d = lane + 32 * c;
                if (d < hd) acc[c] = fmaf(pt, Vs[t][d], acc[c]);
            }
        }
        m = mn;
    }
    if (i >= L) return;
    float inv = l > 0.f ? 1.f / l : 0.f;
    float* o = out + ((size_t)b * L + i) * W + h * hd;
#pragma unroll
    for (int c = 0; c < HMAX; c++) {
        int d = lane + 32 * c;
        if (d < hd) o[d] = acc[c] * inv;
    }
    if (lse != nullptr && lane == 0) lse[(size_t)bh * L + i] = m + logf(l);
}

// attention_backward_dq: per query i, with P from lse and D_i = Σ_j P_ij·dP_ij
// (dP = dO·vᵀ): dq_i += scale·Σ_j P_ij(dP_ij − D_i)·k_j. Writes D to delta
// for the key pass.
extern "C" __global__ void attention_backward_dq(float* dqkv, float* delta, const float* dout, const float* qkv,
                                                 const float* lse, int B, int L, int W, int H, int causal) {
    __shared__ float Ks[TILE][129];
    __shared__ float Vs[TILE][129];
    __shared__ float Qs[AW][129];
    __shared__ float Os[AW][129];
    int hd = W / H, bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * AW + warp;
    int ld = 3 * W;
    const float* base = qkv + (size_t)b * L * ld;
    const float* q = base + h * hd;
    const float* k = base + W + h * hd;
    const float* v = base + 2 * W + h * hd;
    const float* dO = dout + (size_t)b * L * W + h * hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    for (int d = lane; d < hd; d += 32) {
        Qs[warp][d] = (i < L) ? q[(size_t)i * ld + d] : 0.f;
        Os[warp][d] = (i < L) ? dO[(size_t)i * W + d] : 0.f;
    }
    float li = (i < L) ? lse[(size_t)bh * L + i] : 0.f;
    int last = L;
    if (causal) last = min(L, blockIdx.x * AW + AW);
    // Pass 1: D_i.
    float D = 0.f;
    for (int j0 = 0; j0 < last; j0 += TILE) {
        __syncthreads();
        load_tile(Ks, k, ld, j0, L, hd);
        load_tile(Vs, v, ld, j0, L, hd);
        __syncthreads();
        int j = j0 + lane;
        if (i < L && j < L && !(causal && j > i)) {
            float s = 0.f, dp = 0.f;
            for (int d = 0; d < hd; d++) {
                s = fmaf(Qs[warp][d], Ks[lane][d], s);
                dp = fmaf(Os[warp][d], Vs[lane][d], dp);
            }
            D += expf(s * scale - li) * dp;
        }
    }
    D = warp_sum(D);
    // Pass 2: dq.
    float acc[HMAX] = {};
    for (int j0 = 0; j0 < last; j0 += TILE) {
        __syncthreads();
        load_tile(Ks, k, ld, j0, L, hd);
        load_tile(Vs, v, ld, j0, L, hd);
        __syncthreads();
        int j = j0 + lane;
        float ds = 0.f;
        if (i < L && j < L && !(causal && j > i)) {
            float s = 0.f, dp = 0.f;
            for (int d = 0; d < hd; d++) {
                s = fmaf(Qs[warp][d], Ks[lane][d], s);
                dp = fmaf(Os[warp][d], Vs[lane][d], dp);
            }
            float p = expf(s * scale - li);
            ds = p * (dp - D);
        }
        for (int t = 0; t < TILE; t++) {
            float dst = __shfl_sync(0xffffffffu, ds, t);
            if (dst == 0.f) continue;
#pragma unroll
            for (int c = 0; c < HMAX; c++) {
                int d = lane + 32 * c;
                if (d < hd) acc[c] = fmaf(dst, Ks[t][d], acc[c]);
            }
        }
    }
    if (i >= L) return;
    float* dq = dqkv + ((size_t)b * L + i) * ld + h * hd;
#pragma unroll
    for (int c = 0; c < HMAX; c++) {
        int d = lane + 32 * c;
        if (d < hd) dq[d] += scale * acc[c];
    }
    if (lane == 0) delta[(size_t)bh * L + i] = D;
}

// attention_backward_dkv: per key j, over queries i:
// dk_j += scale·Σ_i P_ij(dP_ij − D_i)·q_i, dv_j += Σ_i P_ij·dO_i.
extern "C" __global__ void attention_backward_dkv(float* dqkv, const float* delta, const float* dout,
                                                  const float* qkv, const float* lse, int B, int L, int W, int H,
                                                  int causal) {
    __shared__ float Qs[TILE][129];
    __shared__ float Os[TILE][129];
    __shared__ float Ks[AW][129];
    __shared__ float Vs[AW][129];
    __shared__ float LS[TILE], DS[TILE];
    int hd = W / H, bh = blockIdx.y, b = bh / H, h = bh % H;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * AW + warp;  // key row
    int ld = 3 * W;
    const float* base = qkv + (size_t)b * L * ld;
    const float* q = base + h * hd;
    const float* k = base + W + h * hd;
    const float* v = base + 2 * W + h * hd;
    const float* dO = dout + (size_t)b * L * W + h * hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    for (int d = lane; d < hd; d += 32) {
        Ks[warp][d] = (j < L) ? k[(size_t)j * ld + d] : 0.f;
        Vs[warp][d] = (j < L) ? v[(size_t)j * ld + d] : 0.f;
    }
    float ak[HMAX] = {}, av[HMAX] = {};
    int first = causal ? blockIdx.x * AW : 0;  // queries before this block see none of its keys
    first -= first % TILE;
    for (int i0 = first; i0 < L; i0 += TILE) {
        __syncthreads();
        load_tile(Qs, q, ld, i0, L, hd);
        load_tile(Os, dO, W, i0, L, hd);
        if (threadIdx.x < TILE) {
            int ii = i0 + threadIdx.x;
            LS[threadIdx.x] = ii < L ? lse[(size_t)bh * L + ii] : 0.f;
            DS[threadIdx.x] = ii < L ? delta[(size_t)bh * L + ii] : 0.f;
        }
        __syncthreads();
        int i = i0 + lane;
        float p = 0.f, ds = 0.f;
        if (j < L && i < L && !(causal && j > i)) {
            float s = 0.f, dp = 0.f;
            for (int d = 0; d < hd; d++) {
                s = fmaf(Qs[lane][d], Ks[warp][d], s);
                dp = fmaf(Os[lane][d], Vs[warp][d], dp);
            }
            p = expf(s * scale - LS[lane]);
            ds = p * (dp - DS[lane]);
        }
        for (int t = 0; t < TILE; t++) {
            float pt = __shfl_sync(0xffffffffu, p, t);
            float dt = __shfl_sync(0xffffffffu, ds, t);
            if (pt == 0.f && dt == 0.f) continue;
#pragma unroll
            for (int c = 0; c < HMAX; c++) {
                int d = lane + 32 * c;
                if (d < hd) {
                    ak[c] = fmaf(dt, Qs[t][d], ak[c]);
                    av[c] = fmaf(pt, Os[t][d], av[c]);
                }
            }
        }
    }
    if (j >= L) return;
    float* dk = dqkv + ((size_t)b * L + j) * ld + W + h * hd;
    float* dv = dqkv + ((size_t)b * L + j) * ld + 2 * W + h * hd;
#pragma unroll
    for (int c = 0; c < HMAX; c++) {
        int d = lane + 32 * c;
        if (d < hd) {
            dk[d] += scale * ak[c];
            dv[d] += av[c];
        }
    }
}

// ------------------------------------------------------ prompt handling

// insert_after_first: out [B, L+n, W] = row 0 of x, the n prompt rows
// tokens [n, W], rows 1.. of x.
extern "C" __global__ void insert_after_first(float* out, const float* x, const float* tokens, int B, int L, int W,
                                              int n) {
    size_t total = (size_t)B * (L + n) * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int i = r % (L + n), b = r / (L + n);
        float v;
        if (i == 0) v = x[((size_t)b * L) * W + c];
        else if (i <= n) v = tokens[(size_t)(i - 1) * W + c];
        else v = x[((size_t)b * L + i - n) * W + c];
        out[e] = v;
    }
}

// remove_after_first: out [B, L−n, W] drops rows 1..n of x [B, L, W].
extern "C" __global__ void remove_after_first(float* out, const float* x, int B, int L, int W, int n) {
    int lo = L - n;
    size_t total = (size_t)B * lo * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int i = r % lo, b = r / lo;
        int src = i == 0 ? 0 : i + n;
        out[e] = x[((size_t)b * L + src) * W + c];
    }
}

// blend_rows: rows 1..n of every sequence := alpha·row + (1−alpha)·token.
extern "C" __global__ void blend_rows(float* x, const float* tokens, int B, int L, int W, int n, float alpha) {
    size_t total = (size_t)B * n * W;
    float keep = 1.f - alpha;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int j = r % n, b = r / n;
        float* row = x + ((size_t)b * L + 1 + j) * W;
        row[c] = alpha * row[c] + keep * tokens[(size_t)j * W + c];
    }
}

// blend_rows_backward: dtokens[j] += (1−alpha)·Σ_b dx rows, dx rows *= alpha.
// One thread per (j, c): deterministic sum over the batch.
extern "C" __global__ void blend_rows_backward(float* dx, float* dtokens, int B, int L, int W, int n, float alpha) {
    size_t total = (size_t)n * W;
    float keep = 1.f - alpha;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W, j = e / W;
        float s = 0.f;
        for (int b = 0; b < B; b++) {
            float* g = dx + ((size_t)b * L + 1 + j) * W + c;
            s += *g;
            *g *= alpha;
        }
        dtokens[e] += keep * s;
    }
}

// ------------------------------------------------------------ embeddings

// patch_unfold: pixels [B,3,S,S] → patches [B·G², 3·p·p] in (ch, ky, kx)
// order, grid row-major (vision.go Embed).
extern "C" __global__ void patch_unfold(float* patches, const float* pixels, int B, int S, int p) {
    int g = S / p, kdim = 3 * p * p;
    size_t total = (size_t)B * g * g * kdim;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int kk = e % kdim;
        size_t patch = e / kdim;
        int gx = patch % g, gy = (patch / g) % g, b = patch / ((size_t)g * g);
        int ch = kk / (p * p), ky = (kk / p) % p, kx = kk % p;
        patches[e] = pixels[(((size_t)b * 3 + ch) * S + gy * p + ky) * S + gx * p + kx];
    }
}

// vision_assemble: x [B, 1+G², W] = [class; emb rows] + pos.
extern "C" __global__ void vision_assemble(float* x, const float* emb, const float* cls, const float* pos, int B,
                                           int G2, int W) {
    int L = 1 + G2;
    size_t total = (size_t)B * L * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int i = r % L, b = r / L;
        float v = i == 0 ? cls[c] : emb[((size_t)b * G2 + i - 1) * W + c];
        x[e] = v + pos[(size_t)i * W + c];
    }
}

// gather_rows: out [N, W] = x[n, rows[n], :] for x [N, L, W].
extern "C" __global__ void gather_rows(float* out, const float* x, const int* rows, int N, int L, int W) {
    size_t total = (size_t)N * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W, n = e / W;
        out[e] = x[((size_t)n * L + rows[n]) * W + c];
    }
}

// embed_tokens: x [N, L, W] = table[ids[n,i]] (+ pos[i] when pos != null).
extern "C" __global__ void embed_tokens(float* x, const float* table, const int* ids, const float* pos, int N, int L,
                                        int W) {
    size_t total = (size_t)N * L * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int i = r % L;
        float v = table[(size_t)ids[r] * W + c];
        if (pos != nullptr) v += pos[(size_t)i * W + c];
        x[e] = v;
    }
}

// drop_cls: out [B·G², W] = rows 1.. of x [B, 1+G², W] (adapter input).
extern "C" __global__ void drop_cls(float* out, const float* x, int B, int L, int W) {
    size_t total = (size_t)B * (L - 1) * W;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        int c = e % W;
        size_t r = e / W;
        int i = r % (L - 1), b = r / (L - 1);
        out[e] = x[((size_t)b * L + 1 + i) * W + c];
    }
}

// ------------------------------------------------------------ loss head

#include "head.cu"
