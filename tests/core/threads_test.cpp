#include <feral/core/threads.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <vector>

namespace {
struct ScopedEnv {
    explicit ScopedEnv(const char* value) {
        if (const char* old = std::getenv("FERAL_NUM_THREADS")) saved = old, had = true;
        if (value) setenv("FERAL_NUM_THREADS", value, 1);
        else unsetenv("FERAL_NUM_THREADS");
    }
    ~ScopedEnv() {
        if (had) setenv("FERAL_NUM_THREADS", saved.c_str(), 1);
        else unsetenv("FERAL_NUM_THREADS");
    }
    std::string saved;
    bool had = false;
};
}  // namespace

TEST_CASE("resolve_threads prefers the argument, then FERAL_NUM_THREADS, then the hardware", "[core][threads]") {
    {
        ScopedEnv env("3");
        CHECK(feral::resolve_threads(5) == 5);
        CHECK(feral::resolve_threads(0) == 3);
    }
    {
        ScopedEnv env(nullptr);
        CHECK(feral::resolve_threads(0) == feral::hardware_threads());
    }
}

TEST_CASE("resolve_threads rejects a malformed FERAL_NUM_THREADS and negative counts, naming the value", "[core][threads]") {
    {
        ScopedEnv env("two");
        CHECK_THROWS_WITH(feral::resolve_threads(0), Catch::Contains("'two'"));
    }
    {
        ScopedEnv env("-1");
        CHECK_THROWS_AS(feral::resolve_threads(0), feral::invalid_argument);
    }
    CHECK_THROWS_WITH(feral::resolve_threads(-2), Catch::Contains("-2"));
}

TEST_CASE("parallel_for covers every index exactly once for any thread count", "[core][threads]") {
    for (int threads : {1, 2, 3, 8}) {
        for (std::int64_t n : {0, 1, 2, 7, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
            feral::parallel_for(0, n, threads, [&](std::int64_t b, std::int64_t e) {
                for (auto i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
            });
            for (auto& h : hits) CHECK(h.load() == 1);
            std::vector<std::atomic<int>> dyn(static_cast<std::size_t>(n));
            feral::parallel_for_dynamic(0, n, threads, [&](std::int64_t i) { dyn[static_cast<std::size_t>(i)]++; });
            for (auto& h : dyn) CHECK(h.load() == 1);
        }
    }
}

TEST_CASE("parallel_for rethrows an exception thrown inside a chunk", "[core][threads]") {
    CHECK_THROWS_WITH(feral::parallel_for(0, 100, 4,
                                          [](std::int64_t b, std::int64_t) {
                                              if (b > 0) throw feral::invalid_argument("chunk failed");
                                          }),
                      "chunk failed");
    CHECK_THROWS_AS(feral::parallel_for_dynamic(0, 10, 2,
                                                [](std::int64_t i) {
                                                    if (i == 5) throw feral::numerical_error("item 5");
                                                }),
                    feral::numerical_error);
}

TEST_CASE("nested parallel_for runs serially inside the outer chunk", "[core][threads]") {
    std::atomic<int> total{0};
    feral::parallel_for(0, 4, 2, [&](std::int64_t b, std::int64_t e) {
        for (auto i = b; i < e; ++i)
            feral::parallel_for(0, 10, 4, [&](std::int64_t ib, std::int64_t ie) { total += static_cast<int>(ie - ib); });
    });
    CHECK(total.load() == 40);
}
