// head.cu — the fused loss head of the training step (included by
// dapo.cu). Mirrors server/compute/head_cpu.go: every row and every pixel
// in float64, the same formulas in the same order per thread; the
// per-image pixel sums are written per block and summed on the host, the
// upsampled [B,C,S,S] maps are never stored. See server/compute/head.go
// for the math (bilinear align_corners=True upsampling of the patch
// softmax, focal loss with a clamped one-hot, binary dice losses).

#define HEAD_CMAX 64
#define HEAD_SUMS 7

// head_interp: bilinear align_corners=True source of output o (compute.HeadInterp).
__device__ __forceinline__ void head_interp(int o, int in, int out, int* i0, int* i1, double* f) {
    if (in == 1 || out == 1) {
        *i0 = 0; *i1 = 0; *f = 0;
        return;
    }
    double src = (double)o * (double)(in - 1) / (double)(out - 1);
    int a = (int)src;
    if (a >= in - 1) {
        *i0 = in - 1; *i1 = in - 1; *f = 0;
        return;
    }
    *i0 = a; *i1 = a + 1; *f = src - (double)a;
}

// head_weight: the interpolation weight of source index i for output o.
__device__ __forceinline__ double head_weight(int o, int i, int in, int out) {
    int i0, i1;
    double f;
    head_interp(o, in, out, &i0, &i1, &f);
    double w = 0;
    if (i0 == i) w += 1 - f;
    if (i1 == i) w += f;
    return w;
}

// head_range: the outputs [lo, hi] whose interpolation can read source i.
__device__ __forceinline__ void head_range(int i, int in, int out, int* lo, int* hi) {
    if (in == 1 || out == 1) {
        *lo = 0; *hi = out - 1;
        return;
    }
    *lo = i == 0 ? 0 : (int)(((long long)(i - 1) * (out - 1)) / (in - 1));
    long long h = ((long long)(i + 1) * (out - 1) + in - 2) / (in - 1);
    *hi = h > out - 1 ? out - 1 : (int)h;
}

// head_rows_forward: one block per patch row: x̂ = x/‖x‖ (norm kept),
// probs = softmax(x̂·T̂ᵀ·invT) (compute.headSoftmaxRow).
extern "C" __global__ void head_rows_forward(float* probs, float* fhat, double* norm, const float* x, const float* that,
                                             int rows, int C, int E, double invT) {
    __shared__ double z[HEAD_CMAX];
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (size_t)r * E;
    float* fr = fhat + (size_t)r * E;
    double sq = 0;
    for (int j = threadIdx.x; j < E; j += blockDim.x) sq += (double)xr[j] * xr[j];
    sq = block_sum_d(sq);
    double n = sqrt(sq);
    for (int j = threadIdx.x; j < E; j += blockDim.x) fr[j] = (float)((double)xr[j] / n);
    for (int c = 0; c < C; c++) {
        double d = 0;
        for (int j = threadIdx.x; j < E; j += blockDim.x) d += (double)fr[j] * (double)that[(size_t)c * E + j];
        d = block_sum_d(d);
        if (threadIdx.x == 0) z[c] = d * invT;
    }
    if (threadIdx.x != 0) return;
    norm[r] = n;
    double m = -CUDART_INF;
    for (int c = 0; c < C; c++) m = fmax(m, z[c]);
    double s = 0;
    for (int c = 0; c < C; c++) {
        z[c] = exp(z[c] - m);
        s += z[c];
    }
    for (int c = 0; c < C; c++) probs[(size_t)r * C + c] = (float)(z[c] / s);
}

// head_pixels_forward: grid (blocks, B), one thread per pixel of image b:
// the upsampled probabilities, the focal term and its derivative factor
// (kept in hpt [B·S²]) and the dice sums (compute.HeadPixel); each block
// writes its HEAD_SUMS sums to partial[(b·blocks + block)·HEAD_SUMS].
extern "C" __global__ void head_pixels_forward(double* hpt, double* partial, const float* probs, const int* cls,
                                               const float* bin, int B, int G, int S, int C, double lo, double hi) {
    int b = blockIdx.y;
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    double v[HEAD_SUMS] = {0, 0, 0, 0, 0, 0, 0};
    if (p < S * S) {
        int y = p / S, x = p % S;
        int y0, y1, x0, x1;
        double fy, fx;
        head_interp(y, G, S, &y0, &y1, &fy);
        head_interp(x, G, S, &x0, &x1, &fx);
        const float* p00 = probs + ((size_t)(b * G + y0) * G + x0) * C;
        const float* p01 = probs + ((size_t)(b * G + y0) * G + x1) * C;
        const float* p10 = probs + ((size_t)(b * G + y1) * G + x0) * C;
        const float* p11 = probs + ((size_t)(b * G + y1) * G + x1) * C;
        size_t q = (size_t)b * S * S + p;
        int k = cls[q];
        double gb = bin[q];
        double pt = 0, ua = 0, u0 = 0;
        for (int c = 0; c < C; c++) {
            double top = (1 - fx) * (double)p00[c] + fx * (double)p01[c];
            double bot = (1 - fx) * (double)p10[c] + fx * (double)p11[c];
            double u = (1 - fy) * top + fy * bot;
            pt += (c == k ? hi : lo) * u;
            if (c > 0) ua += u;
            else u0 = u;
        }
        pt += 1e-5;
        double qq = 1 - pt, lp = log(pt);
        v[0] = qq * qq * lp;
        hpt[q] = -2 * qq * lp + qq * qq / pt;
        v[1] = u0 * (1 - gb);
        v[2] = u0;
        v[3] = 1 - gb;
        v[4] = ua * gb;
        v[5] = ua;
        v[6] = gb;
    }
    for (int i = 0; i < HEAD_SUMS; i++) {
        double s = block_sum_d(v[i]);
        if (threadIdx.x == 0) partial[((size_t)b * gridDim.x + blockIdx.x) * HEAD_SUMS + i] = s;
    }
}

// head_pixels_backward: one block per patch row (b, i, j): gathers dL/dP
// from every pixel that reads the patch (compute.headPixelGrad weighted by
// the interpolation), then the softmax backward times invT into dsim
// [rows, C] (compute.headRowGrad). coef is [B·4] (An, Bn, Aa, Ba).
extern "C" __global__ void head_pixels_backward(double* dsim, const float* probs, const double* hpt, const int* cls,
                                                const float* bin, const double* coef, double cF, double lo, double hi,
                                                double invT, int B, int G, int S, int C) {
    __shared__ double sdp[HEAD_CMAX];
    int r = blockIdx.x;
    if (r >= B * G * G) return;
    int b = r / (G * G), i = (r / G) % G, j = r % G;
    int ylo, yhi, xlo, xhi;
    head_range(i, G, S, &ylo, &yhi);
    head_range(j, G, S, &xlo, &xhi);
    int ny = yhi - ylo + 1, nx = xhi - xlo + 1;
    double an = coef[4 * b], bn = coef[4 * b + 1], aa = coef[4 * b + 2], ba = coef[4 * b + 3];
    double dp[HEAD_CMAX];
    for (int c = 0; c < C; c++) dp[c] = 0;
    for (int t = threadIdx.x; t < ny * nx; t += blockDim.x) {
        int y = ylo + t / nx, x = xlo + t % nx;
        double w = head_weight(y, i, G, S) * head_weight(x, j, G, S);
        if (w == 0) continue;
        size_t q = (size_t)b * S * S + (size_t)y * S + x;
        int k = cls[q];
        double gb = bin[q];
        double f = cF * hpt[q];
        double dn = an * (1 - gb) + bn, da = aa * gb + ba;
        for (int c = 0; c < C; c++) {
            double du = f * (c == k ? hi : lo) + (c == 0 ? dn : da);
            dp[c] += w * du;
        }
    }
    for (int c = 0; c < C; c++) {
        double s = block_sum_d(dp[c]);
        if (threadIdx.x == 0) sdp[c] = s;
    }
    if (threadIdx.x != 0) return;
    const float* pr = probs + (size_t)r * C;
    double s = 0;
    for (int c = 0; c < C; c++) s += (double)pr[c] * sdp[c];
    for (int c = 0; c < C; c++) dsim[(size_t)r * C + c] = (double)pr[c] * (sdp[c] - s) * invT;
}

// head_feat_backward: one block per row: adds the gradient w.r.t. the raw
// feature row, (d − x̂·(x̂·d))/‖x‖ with d = dsim·T̂ (compute.headFeatGrad).
extern "C" __global__ void head_feat_backward(float* dx, const double* dsim, const float* fhat, const double* norm,
                                              const float* that, int rows, int C, int E) {
    __shared__ double ds[HEAD_CMAX];
    int r = blockIdx.x;
    if (r >= rows) return;
    for (int c = threadIdx.x; c < C; c += blockDim.x) ds[c] = dsim[(size_t)r * C + c];
    __syncthreads();
    const float* fr = fhat + (size_t)r * E;
    double dot = 0;
    for (int j = threadIdx.x; j < E; j += blockDim.x) {
        double d = 0;
        for (int c = 0; c < C; c++) d += ds[c] * (double)that[(size_t)c * E + j];
        dot += (double)fr[j] * d;
    }
    dot = block_sum_d(dot);
    double n = norm[r];
    for (int j = threadIdx.x; j < E; j += blockDim.x) {
        double d = 0;
        for (int c = 0; c < C; c++) d += ds[c] * (double)that[(size_t)c * E + j];
        dx[(size_t)r * E + j] += (float)((d - (double)fr[j] * dot) / n);
    }
}

// head_text_backward: dthat[c,e] += Σ_rows dsim[r,c]·x̂[r,e] (float64).
extern "C" __global__ void head_text_backward(double* dthat, const double* dsim, const float* fhat, int rows, int C,
                                              int E) {
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < C * E; t += gridDim.x * blockDim.x) {
        int c = t / E, e = t % E;
        double s = 0;
        for (int r = 0; r < rows; r++) s += dsim[(size_t)r * C + c] * (double)fhat[(size_t)r * E + e];
        dthat[t] += s;
    }
}
