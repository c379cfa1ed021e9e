// feral/detail/kernels/gemm.hpp — packed, cache-blocked matrix multiply with a fused
// epilogue (bias, ReLU): the kernel behind Conv2D and Dense.
//
//   C[M x N] = relu?( (accumulate ? C : 0) + op(A)[M x K] * op(B)[K x N] + bias )
//
// Operands are described by a pointer and two strides (GemmOperand): element (i, j)
// lives at data[i * row_stride + j * col_stride]. A row-major matrix with leading
// dimension ld is {data, ld, 1}; its transpose is {data, 1, ld}. So one routine covers
// A*B, A^T*B, A*B^T and A^T*B^T without copies beyond the packing every fast GEMM does.
// C is row-major with leading dimension ldc. The bias is either one value per row of C
// (Conv2D: one per filter) or one per column (Dense: one per unit); ReLU, if asked, is
// applied after the bias. Both are applied while the tile is still in registers.
//
// Algorithm (Goto / BLIS): the loops, outermost first, are
//   jc: columns of C in blocks of NC          B panel  (KC x NC) packed, lives in L3/L2
//   pc: the inner dimension in blocks of KC
//   ic: rows of C in blocks of MC             A block  (MC x KC) packed, lives in L2
//   jr, ir: MR x NR tiles                     B micro-panel (KC x NR) stays in L1
// and the micro-kernel keeps an MR x NR tile of C in vector registers while it streams
// k = 0..KC-1: NR/lanes vector loads of B, MR broadcasts of A, MR*NR/lanes FMAs.
// K is cut into nearly equal blocks of at most KC (288 = 144 + 144 rather than 160 + 128,
// 330 = 110 x 3 rather than 160 + 160 + 10: a short block pays a whole load and store of
// the C tile for few FMAs).
//
// Two tile shapes hold the same number of accumulators (24 of the 32 zmm registers with
// AVX-512): 12 rows x 2 vectors (12 x 32 floats) and 8 rows x 3 vectors (8 x 48). gemm
// takes the one that pads the product least: filter counts are multiples of 8 and 48
// divides the 48x48, 24x24 and 12x12 faces' pixel counts, so a convolution usually has no
// partial tile with 8 x 48 (64 filters in 12-row tiles waste a ninth of the FMAs), while
// Dense(64) keeps 12 x 32. With equal K blocks it ran the 64 x 2304 x 288 product of a
// 32->64 convolution 54% faster on one core (benchmarks/RESULTS.md, "NN kernels"). With 16
// vector registers (256-bit vectors and smaller) only the 6 x 2-vector tile is used (6 x 16
// floats with AVX2): a 4 x 3-vector tile would need all 16 registers and was never measured.
//
// Determinism: every element of C is accumulated in the same order (k ascending inside
// each KC block, blocks in order) whatever tile it falls in, and partial edge tiles use
// the same micro-kernel on zero-padded panels, so gemm_parallel gives bit-identical
// results for every thread count, and both tile shapes give bit-identical results (KC, and
// so the points where K is cut, is the same for both, and for every target).
//
// B need not be a matrix in memory: any type with a member
//   template <int NR> void pack_panel(kc, nc, pc, jc, T* dst) const
// that writes B[pc..pc+kc, jc..jc+nc) in pack_b's layout (strips of NR columns, k-major,
// zero-padded past nc) can stand in for it. Conv2D's implicit im2col
// (conv_columns.hpp) packs its panels straight from the images that way, so the column
// matrix is never written out. gemm_parallel takes GemmOperands only.
//
// Memory: the packing buffers are per thread (thread_local), grown on first use and
// reused afterwards: the steady state allocates nothing. No exceptions are thrown.
//
// gemm_reference is the plain triple loop, the twin every test compares against.
#pragma once

#include "feral/core/threads.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

namespace feral::detail::kernels {

using gemm_index = std::ptrdiff_t;

/// A matrix operand: element (i, j) is data[i * row_stride + j * col_stride].
template <class T>
struct GemmOperand {
    const T* data = nullptr;
    gemm_index row_stride = 0;
    gemm_index col_stride = 1;

    /// A row-major matrix with leading dimension ld.
    static GemmOperand row_major(const T* data, gemm_index ld) { return {data, ld, 1}; }
    /// The transpose of a row-major matrix with leading dimension ld.
    static GemmOperand transposed(const T* data, gemm_index ld) { return {data, 1, ld}; }

    [[nodiscard]] T operator()(gemm_index i, gemm_index j) const { return data[i * row_stride + j * col_stride]; }
};

/// What happens to a tile of C after the product: + bias (per row or per column), then ReLU.
template <class T>
struct GemmEpilogue {
    const T* row_bias = nullptr;  ///< M values, or nullptr
    const T* col_bias = nullptr;  ///< N values, or nullptr
    bool relu = false;
};

/// The scalar twin: C = relu?((accumulate ? C : 0) + A*B + bias), k ascending.
template <class T>
void gemm_reference(gemm_index M, gemm_index N, gemm_index K, GemmOperand<T> A, GemmOperand<T> B, T* C,
                    gemm_index ldc, bool accumulate, const GemmEpilogue<T>& epilogue = {}) {
    for (gemm_index i = 0; i < M; ++i) {
        for (gemm_index j = 0; j < N; ++j) {
            T sum = 0;
            for (gemm_index k = 0; k < K; ++k) sum += A(i, k) * B(k, j);
            T value = accumulate ? C[i * ldc + j] + sum : sum;
            if (epilogue.row_bias) value += epilogue.row_bias[i];
            if (epilogue.col_bias) value += epilogue.col_bias[j];
            if (epilogue.relu) value = value > T(0) ? value : T(0);
            C[i * ldc + j] = value;
        }
    }
}

/// Tile and block sizes for scalar type T on architecture Arch, with tiles `Vectors`
/// vectors wide (2 or 3, see the header comment).
template <class T, class Arch = xsimd::default_arch, int Vectors = 2>
struct GemmBlocking {
    static_assert(Vectors == 2 || Vectors == 3, "GEMM tiles are 2 or 3 vectors wide");
    using batch = xsimd::batch<T, Arch>;
    static constexpr int lanes = static_cast<int>(batch::size);
    static constexpr bool many_registers = sizeof(T) * lanes >= 64;  // AVX-512: 32 vector registers, else 16
    static constexpr int accumulators = many_registers ? 24 : 12;
    static constexpr int vectors_per_row = Vectors;
    static constexpr int NR = vectors_per_row * lanes;
    static constexpr int MR = accumulators / Vectors;
    // One KC for both tiles and every target (results depend on neither); the B
    // micro-panel KC*NR stays in L1 (30 KB for 160 x 48 floats).
    static constexpr gemm_index KC = 160;
    static constexpr gemm_index MC = MR * 16;  // A block MC*KC fits L2
    static constexpr gemm_index NC = NR * 64;  // B panel KC*NC fits L2/L3
};

namespace gemm_detail {

template <class T>
using aligned_buffer = std::vector<T, xsimd::aligned_allocator<T, 64>>;

template <class T>
T* thread_buffer(int which, std::size_t size) {
    thread_local aligned_buffer<T> buffers[2];
    auto& b = buffers[which];
    if (b.size() < size) b.resize(size);
    return b.data();
}

/// Packs B[pc.., jc..] (kc x nc) into strips of NR columns: strip s holds k-major rows of NR
/// values (zero-padded past nc).
template <class T, int NR>
void pack_b(gemm_index kc, gemm_index nc, const GemmOperand<T>& B, gemm_index pc, gemm_index jc, T* dst) {
    for (gemm_index j0 = 0; j0 < nc; j0 += NR) {
        const gemm_index nr = std::min<gemm_index>(NR, nc - j0);
        T* strip = dst + j0 * kc;
        const T* src = B.data + pc * B.row_stride + (jc + j0) * B.col_stride;
        if (B.col_stride == 1) {
            for (gemm_index k = 0; k < kc; ++k) {
                const T* row = src + k * B.row_stride;
                T* out = strip + k * NR;
                gemm_index j = 0;
                for (; j < nr; ++j) out[j] = row[j];
                for (; j < NR; ++j) out[j] = T(0);
            }
        } else {
            // Column-contiguous source (a transposed operand): read down each column.
            if (nr < NR)
                for (gemm_index k = 0; k < kc; ++k)
                    for (gemm_index j = nr; j < NR; ++j) strip[k * NR + j] = T(0);
            for (gemm_index j = 0; j < nr; ++j) {
                const T* column = src + j * B.col_stride;
                for (gemm_index k = 0; k < kc; ++k) strip[k * NR + j] = column[k * B.row_stride];
            }
        }
    }
}

/// Packs A[ic.., pc..] (mc x kc) into strips of MR rows: strip s holds k-major columns of
/// MR values (zero-padded past mc).
template <class T, int MR>
void pack_a(gemm_index mc, gemm_index kc, const GemmOperand<T>& A, gemm_index ic, gemm_index pc, T* dst) {
    for (gemm_index i0 = 0; i0 < mc; i0 += MR) {
        const gemm_index mr = std::min<gemm_index>(MR, mc - i0);
        T* strip = dst + i0 * kc;
        const T* src = A.data + (ic + i0) * A.row_stride + pc * A.col_stride;
        if (A.row_stride == 1) {
            for (gemm_index k = 0; k < kc; ++k) {
                const T* column = src + k * A.col_stride;
                T* out = strip + k * MR;
                gemm_index i = 0;
                for (; i < mr; ++i) out[i] = column[i];
                for (; i < MR; ++i) out[i] = T(0);
            }
        } else {
            if (mr < MR)
                for (gemm_index k = 0; k < kc; ++k)
                    for (gemm_index i = mr; i < MR; ++i) strip[k * MR + i] = T(0);
            for (gemm_index i = 0; i < mr; ++i) {
                const T* row = src + i * A.row_stride;
                for (gemm_index k = 0; k < kc; ++k) strip[k * MR + i] = row[k * A.col_stride];
            }
        }
    }
}

/// One MR x NR tile: C_tile = (load_c ? C_tile : 0) + a * b, then the epilogue if `last`.
/// mr x nr is the part of the tile inside C (edge tiles are partial).
template <class T, class Arch, int Vectors>
void micro_kernel(gemm_index kc, const T* a, const T* b, T* c, gemm_index ldc, gemm_index mr, gemm_index nr,
                  bool load_c, bool last, const T* row_bias, const T* col_bias, bool relu) {
    using Blocking = GemmBlocking<T, Arch, Vectors>;
    using batch = typename Blocking::batch;
    constexpr int MR = Blocking::MR;
    constexpr int NV = Blocking::vectors_per_row;
    constexpr int L = Blocking::lanes;
    constexpr int NR = Blocking::NR;

    batch acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = batch(T(0));

    for (gemm_index k = 0; k < kc; ++k) {
        batch bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = batch::load_aligned(b + k * NR + v * L);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
            const batch av(a[k * MR + r]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(av, bv[v], acc[r][v]);
        }
    }

    if (mr == MR && nr == NR) {
        const batch zero(T(0));
        batch col_b[NV];
        for (int v = 0; v < NV; ++v) col_b[v] = last && col_bias ? batch::load_unaligned(col_bias + v * L) : zero;
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                T* out = c + r * ldc + v * L;
                batch x = acc[r][v];
                if (load_c) x = batch::load_unaligned(out) + x;
                if (last) {
                    if (row_bias) x = x + batch(row_bias[r]);
                    if (col_bias) x = x + col_b[v];
                    if (relu) x = xsimd::select(x > zero, x, zero);
                }
                x.store_unaligned(out);
            }
        }
        return;
    }
    alignas(64) T tile[MR * NR];
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * NR + v * L);
    for (gemm_index r = 0; r < mr; ++r) {
        for (gemm_index j = 0; j < nr; ++j) {
            T* out = c + r * ldc + j;
            T x = tile[r * NR + j];
            if (load_c) x = *out + x;
            if (last) {
                if (row_bias) x = x + row_bias[r];
                if (col_bias) x = x + col_bias[j];
                if (relu) x = x > T(0) ? x : T(0);
            }
            *out = x;
        }
    }
}

}  // namespace gemm_detail

/// The tile width (2 or 3 vectors) that pads an M x N product least; ties go to 3. With
/// 16 vector registers, always 2 (see the header comment).
template <class T, class Arch = xsimd::default_arch>
int gemm_tile_vectors(gemm_index M, gemm_index N) {
    using Two = GemmBlocking<T, Arch, 2>;
    using Three = GemmBlocking<T, Arch, 3>;
    if constexpr (!Two::many_registers) {
        return 2;
    } else {
        auto padded = [M, N](gemm_index mr, gemm_index nr) { return (M + mr - 1) / mr * mr * ((N + nr - 1) / nr * nr); };
        return padded(Three::MR, Three::NR) <= padded(Two::MR, Two::NR) ? 3 : 2;
    }
}

/// The single-threaded GEMM with tiles `Vectors` vectors wide. Same contract as
/// gemm_reference; gemm below picks the tile. B is a GemmOperand or a panel source (see
/// the header comment).
template <class T, class Arch, int Vectors, class BSource = GemmOperand<T>>
void gemm_with_tile(gemm_index M, gemm_index N, gemm_index K, GemmOperand<T> A, const BSource& B, T* C,
                    gemm_index ldc, bool accumulate, const GemmEpilogue<T>& epilogue = {}) {
    using Blocking = GemmBlocking<T, Arch, Vectors>;
    constexpr int MR = Blocking::MR;
    constexpr int NR = Blocking::NR;
    constexpr gemm_index KC = Blocking::KC, MC = Blocking::MC, NC = Blocking::NC;
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // an empty product: only the epilogue remains
        gemm_reference<T>(M, N, 0, A, GemmOperand<T>{}, C, ldc, accumulate, epilogue);
        return;
    }
    const gemm_index nc_max = std::min<gemm_index>(NC, (N + NR - 1) / NR * NR);
    const gemm_index mc_max = std::min<gemm_index>(MC, (M + MR - 1) / MR * MR);
    const gemm_index k_blocks = (K + KC - 1) / KC;
    const gemm_index kc_max = (K + k_blocks - 1) / k_blocks;  // equal blocks of at most KC
    T* packed_b = gemm_detail::thread_buffer<T>(0, static_cast<std::size_t>(kc_max * nc_max));
    T* packed_a = gemm_detail::thread_buffer<T>(1, static_cast<std::size_t>(kc_max * mc_max));

    for (gemm_index jc = 0; jc < N; jc += NC) {
        const gemm_index nc = std::min(NC, N - jc);
        for (gemm_index pc = 0; pc < K; pc += kc_max) {
            const gemm_index kc = std::min(kc_max, K - pc);
            const bool load_c = accumulate || pc > 0;
            const bool last = pc + kc >= K;
            if constexpr (std::is_same_v<BSource, GemmOperand<T>>)
                gemm_detail::pack_b<T, NR>(kc, nc, B, pc, jc, packed_b);
            else
                B.template pack_panel<NR>(kc, nc, pc, jc, packed_b);
            for (gemm_index ic = 0; ic < M; ic += MC) {
                const gemm_index mc = std::min(MC, M - ic);
                gemm_detail::pack_a<T, MR>(mc, kc, A, ic, pc, packed_a);
                for (gemm_index jr = 0; jr < nc; jr += NR) {
                    const gemm_index nr = std::min<gemm_index>(NR, nc - jr);
                    const T* b_strip = packed_b + jr * kc;
                    const T* col_bias = epilogue.col_bias ? epilogue.col_bias + jc + jr : nullptr;
                    for (gemm_index ir = 0; ir < mc; ir += MR) {
                        const gemm_index mr = std::min<gemm_index>(MR, mc - ir);
                        const T* row_bias = epilogue.row_bias ? epilogue.row_bias + ic + ir : nullptr;
                        gemm_detail::micro_kernel<T, Arch, Vectors>(kc, packed_a + ir * kc, b_strip,
                                                           C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, load_c,
                                                           last, row_bias, col_bias, epilogue.relu);
                    }
                }
            }
        }
    }
}

/// The fast single-threaded GEMM (see the header comment): the tile that pads the
/// product least. Same contract as gemm_reference.
template <class T, class Arch = xsimd::default_arch, class BSource = GemmOperand<T>>
void gemm(gemm_index M, gemm_index N, gemm_index K, GemmOperand<T> A, const BSource& B, T* C, gemm_index ldc,
          bool accumulate, const GemmEpilogue<T>& epilogue = {}) {
    if (gemm_tile_vectors<T, Arch>(M, N) == 3)
        gemm_with_tile<T, Arch, 3>(M, N, K, A, B, C, ldc, accumulate, epilogue);
    else
        gemm_with_tile<T, Arch, 2>(M, N, K, A, B, C, ldc, accumulate, epilogue);
}

namespace gemm_detail {

/// gemm_parallel with a fixed tile: the split is by blocks of whole tiles of C.
template <class T, class Arch, int Vectors>
void gemm_parallel_with_tile(gemm_index M, gemm_index N, gemm_index K, GemmOperand<T> A, GemmOperand<T> B, T* C,
                             gemm_index ldc, bool accumulate, const GemmEpilogue<T>& epilogue, int threads) {
    using Blocking = GemmBlocking<T, Arch, Vectors>;
    constexpr gemm_index MR = Blocking::MR, NR = Blocking::NR;
    const gemm_index column_units = (N + NR - 1) / NR;
    const gemm_index row_units = (M + MR - 1) / MR;
    if (column_units >= row_units) {
        parallel_for(0, column_units, threads, [&](std::int64_t u0, std::int64_t u1) {
            const gemm_index j0 = u0 * NR, j1 = std::min<gemm_index>(N, u1 * NR);
            GemmOperand<T> b = B;
            b.data += j0 * B.col_stride;
            GemmEpilogue<T> e = epilogue;
            if (e.col_bias) e.col_bias += j0;
            gemm_with_tile<T, Arch, Vectors>(M, j1 - j0, K, A, b, C + j0, ldc, accumulate, e);
        });
    } else {
        parallel_for(0, row_units, threads, [&](std::int64_t u0, std::int64_t u1) {
            const gemm_index i0 = u0 * MR, i1 = std::min<gemm_index>(M, u1 * MR);
            GemmOperand<T> a = A;
            a.data += i0 * A.row_stride;
            GemmEpilogue<T> e = epilogue;
            if (e.row_bias) e.row_bias += i0;
            gemm_with_tile<T, Arch, Vectors>(i1 - i0, N, K, a, B, C + i0 * ldc, ldc, accumulate, e);
        });
    }
}

}  // namespace gemm_detail

/// gemm split over `threads` (0 = automatic) by blocks of whole tiles of C (the tile is
/// chosen once, for the whole product), so the result is bit-identical for every thread
/// count. Small products run on the calling thread.
template <class T, class Arch = xsimd::default_arch>
void gemm_parallel(gemm_index M, gemm_index N, gemm_index K, GemmOperand<T> A, GemmOperand<T> B, T* C,
                   gemm_index ldc, bool accumulate, const GemmEpilogue<T>& epilogue, int threads) {
    const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
    if (flops < 2.0e6 || M <= 0 || N <= 0) {
        gemm<T, Arch>(M, N, K, A, B, C, ldc, accumulate, epilogue);
        return;
    }
    if (gemm_tile_vectors<T, Arch>(M, N) == 3)
        gemm_detail::gemm_parallel_with_tile<T, Arch, 3>(M, N, K, A, B, C, ldc, accumulate, epilogue, threads);
    else
        gemm_detail::gemm_parallel_with_tile<T, Arch, 2>(M, N, K, A, B, C, ldc, accumulate, epilogue, threads);
}

}  // namespace feral::detail::kernels
