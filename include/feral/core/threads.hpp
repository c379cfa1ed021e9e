// feral/core/threads.hpp — how many threads feral uses, and a parallel loop.
//
// Thread count resolution, everywhere in feral:
//   1. an explicit argument > 0 (e.g. Config::n_threads, --threads) wins;
//   2. otherwise the environment variable FERAL_NUM_THREADS, if it is a positive integer;
//   3. otherwise std::thread::hardware_concurrency().
// A malformed FERAL_NUM_THREADS is an error (named in the message), not silently ignored.
//
// parallel_for(begin, end, threads, body) splits [begin, end) into at most
// `threads` contiguous chunks and calls body(chunk_begin, chunk_end) once per
// chunk. Chunk boundaries depend only on (begin, end, threads); code that must give
// identical results for every thread count (reductions, random streams) should
// derive its work units from the data, not from the chunks. Nested calls run
// serially inside the outer chunk, so thread pools never over-subscribe the cores.
// With OpenMP (the feral CMake target links it where available) the team of
// threads is reused across calls; without it std::thread is used.
#pragma once

#include "feral/core/error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace feral {

/// Number of hardware threads (at least 1).
inline int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

/// Resolves a requested thread count (see the header comment). Throws
/// invalid_argument for a negative request or a malformed FERAL_NUM_THREADS.
inline int resolve_threads(int requested = 0) {
    if (requested < 0) detail::fail("resolve_threads: thread count must be >= 0 (0 = automatic), got ", requested);
    if (requested > 0) return requested;
    if (const char* env = std::getenv("FERAL_NUM_THREADS"); env != nullptr && *env != '\0') {
        char* end = nullptr;
        const long value = std::strtol(env, &end, 10);
        if (end == env || *end != '\0' || value <= 0 || value > 4096)
            detail::fail("FERAL_NUM_THREADS must be a positive integer, got '", env, "'");
        return static_cast<int>(value);
    }
    return hardware_threads();
}

namespace detail {
inline thread_local bool in_parallel_region = false;
}

/// Calls body(chunk_begin, chunk_end) over [begin, end) split into at most
/// `threads` (resolved with resolve_threads) equal contiguous chunks. The first
/// exception thrown by any chunk is rethrown in the caller after all chunks end.
template <class Body>
void parallel_for(std::int64_t begin, std::int64_t end, int threads, Body&& body) {
    const std::int64_t n = end - begin;
    if (n <= 0) return;
    const int wanted = resolve_threads(threads);
    const int chunks = static_cast<int>(std::min<std::int64_t>(wanted, n));
    if (chunks <= 1 || detail::in_parallel_region) {
        body(begin, end);
        return;
    }
    auto chunk_begin = [&](int c) { return begin + n * c / chunks; };

    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto run_chunk = [&](int c) {
        detail::in_parallel_region = true;
        try {
            body(chunk_begin(c), chunk_begin(c + 1));
        } catch (...) {
            std::lock_guard lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
        }
        detail::in_parallel_region = false;
    };
#ifdef _OPENMP
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
    for (int c = 0; c < chunks; ++c) run_chunk(c);
#else
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(chunks - 1));
    for (int c = 1; c < chunks; ++c) workers.emplace_back(run_chunk, c);
    run_chunk(0);
    for (auto& w : workers) w.join();
#endif
    if (first_error) std::rethrow_exception(first_error);
}

/// Calls body(i) for every i in [begin, end), in parallel chunks.
template <class Body>
void parallel_for_each_index(std::int64_t begin, std::int64_t end, int threads, Body&& body) {
    parallel_for(begin, end, threads, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) body(i);
    });
}

/// Dynamic scheduling for uneven work items (trees, grid-search candidates):
/// items are handed out one at a time to `threads` workers. body(i) for each i.
template <class Body>
void parallel_for_dynamic(std::int64_t begin, std::int64_t end, int threads, Body&& body) {
    const std::int64_t n = end - begin;
    if (n <= 0) return;
    const int workers = static_cast<int>(std::min<std::int64_t>(resolve_threads(threads), n));
    if (workers <= 1 || detail::in_parallel_region) {
        for (std::int64_t i = begin; i < end; ++i) body(i);
        return;
    }
    std::exception_ptr first_error;
    std::mutex mutex;
    std::int64_t next = begin;
    auto worker = [&] {
        detail::in_parallel_region = true;
        for (;;) {
            std::int64_t i;
            {
                std::lock_guard lock(mutex);
                if (next >= end || first_error) break;
                i = next++;
            }
            try {
                body(i);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!first_error) first_error = std::current_exception();
            }
        }
        detail::in_parallel_region = false;
    };
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(workers - 1));
    for (int w = 1; w < workers; ++w) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace feral
