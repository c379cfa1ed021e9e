// A two-class toy problem for the training tests: 8x8 images whose bright half (left for
// class 0, right for class 1) a small network learns in a few epochs.
#pragma once

#include <feral/core/random.hpp>
#include <feral/core/types.hpp>

namespace feral::test {

struct HalvesOptions {
    std::uint64_t seed = 5;
    double bright = 0.8;  ///< the bright half's value; the other half is 1 - bright
    double noise = 0.1;   ///< standard deviation of the Gaussian noise added to every pixel
};

/// n images (one per row of X, 64 values), labels alternating 0, 1, 0, ...
inline void halves(Index n, Matrix<float>& X, Labels& y, HalvesOptions options = {}) {
    Random rng(options.seed);
    X.resize(n, 64);
    y.resize(n);
    for (Index i = 0; i < n; ++i) {
        y[i] = static_cast<int>(i % 2);
        for (Index r = 0; r < 8; ++r)
            for (Index c = 0; c < 8; ++c)
                X(i, r * 8 + c) = static_cast<float>(((c < 4) == (y[i] == 0) ? options.bright : 1.0 - options.bright) +
                                                     options.noise * rng.normal());
    }
}

}  // namespace feral::test
