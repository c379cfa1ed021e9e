// feral/core/random.hpp — a seeded random generator that gives the same numbers
// on every platform and compiler.
//
// Why not <random>? The engines are portable but the distributions
// (uniform_int_distribution, normal_distribution, shuffle) are
// implementation-defined, so the same seed gives different data sets, splits and
// weights under libstdc++ and libc++. Everything here is specified exactly:
//  * engine: xoshiro256** (Blackman & Vigna), state seeded through splitmix64;
//  * uniform(): the top 24 (float) / 53 (double) bits scaled to [0, 1);
//  * below(n): Lemire's multiply-shift with rejection, unbiased;
//  * normal(): Marsaglia's polar method on doubles;
//  * fork(k): an independent stream derived from (seed, k) — used to give each
//    tree, thread or image its own generator, so results do not depend on the
//    number of threads.
//
// Example:
//   feral::Random rng(42);
//   double u = rng.uniform();           // [0, 1)
//   auto perm = rng.permutation(10);    // a shuffled 0..9
//   feral::Random tree_rng = rng.fork(7);
#pragma once

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace feral {

class Random {
public:
    using result_type = std::uint64_t;

    explicit Random(std::uint64_t seed = 0) : seed_(seed) { reseed(seed); }

    /// The seed this generator was constructed (or last reseeded) with.
    [[nodiscard]] std::uint64_t seed() const { return seed_; }

    void reseed(std::uint64_t seed) {
        seed_ = seed;
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix64(x);
        has_spare_normal_ = false;
    }

    /// Next raw 64-bit value (xoshiro256**).
    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // UniformRandomBitGenerator interface, so std algorithms accept it when wanted.
    std::uint64_t operator()() { return next(); }
    static constexpr std::uint64_t min() { return 0; }
    static constexpr std::uint64_t max() { return ~std::uint64_t{0}; }

    /// Uniform double in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform double in [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    /// Uniform float in [0, 1) (24 random bits: every value is exactly representable).
    float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }

    /// Unbiased integer in [0, n). n must be > 0.
    std::uint64_t below(std::uint64_t n) {
        // Lemire, "Fast random integer generation in an interval" (2019).
        __uint128_t m = static_cast<__uint128_t>(next()) * n;
        auto low = static_cast<std::uint64_t>(m);
        if (low < n) {
            const std::uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                m = static_cast<__uint128_t>(next()) * n;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    /// Integer in [low, high] (inclusive).
    std::int64_t integer(std::int64_t low, std::int64_t high) {
        return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
    }

    /// Standard normal deviate (Marsaglia polar method; the spare value is cached).
    double normal() {
        if (has_spare_normal_) {
            has_spare_normal_ = false;
            return spare_normal_;
        }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double factor = std::sqrt(-2.0 * std::log(s) / s);
        spare_normal_ = v * factor;
        has_spare_normal_ = true;
        return u * factor;
    }

    double normal(double mean, double stddev) { return mean + stddev * normal(); }

    /// True with probability p.
    bool bernoulli(double p) { return uniform() < p; }

    /// Fisher–Yates shuffle of any random-access range.
    template <class RandomIt>
    void shuffle(RandomIt first, RandomIt last) {
        const auto n = last - first;
        for (auto i = n - 1; i > 0; --i) {
            const auto j = static_cast<decltype(i)>(below(static_cast<std::uint64_t>(i) + 1));
            using std::swap;
            swap(first[i], first[j]);
        }
    }

    /// A random permutation of 0..n-1.
    template <class Int = std::int64_t>
    std::vector<Int> permutation(Int n) {
        std::vector<Int> p(static_cast<std::size_t>(n));
        std::iota(p.begin(), p.end(), Int{0});
        shuffle(p.begin(), p.end());
        return p;
    }

    /// An independent generator for stream `stream` of this seed. Depends only on
    /// (seed(), stream), not on how many numbers this generator has produced.
    [[nodiscard]] Random fork(std::uint64_t stream) const {
        std::uint64_t x = seed_ ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
        return Random(splitmix64(x));
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    std::uint64_t seed_ = 0;
    std::uint64_t state_[4] = {};
    double spare_normal_ = 0.0;
    bool has_spare_normal_ = false;
};

}  // namespace feral
