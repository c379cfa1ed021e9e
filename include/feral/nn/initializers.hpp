// feral/nn/initializers.hpp — weight initialisers with Keras' definitions.
//
//   glorot_uniform  U(-limit, limit),  limit = sqrt(6 / (fan_in + fan_out))   (Keras default)
//   he_normal       truncated normal, mean 0, stddev = sqrt(2 / fan_in) / 0.87962566103423978,
//                   values beyond two standard deviations redrawn (Keras' VarianceScaling
//                   'truncated_normal': the divisor restores the variance lost by truncating)
//   he_uniform      U(-limit, limit),  limit = sqrt(6 / fan_in)
//   zeros           0
//
// Fans follow Keras: Dense(in -> units) has fan_in = in, fan_out = units; Conv2D with C
// input channels, F filters and a kh x kw kernel has fan_in = C*kh*kw, fan_out = F*kh*kw.
// Values are drawn in the order of the matrix's storage from the given feral::Random, so
// the same seed gives the same weights on every platform.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/types.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace feral::nn {

enum class Initializer : std::int32_t { glorot_uniform, he_normal, he_uniform, zeros };

inline std::string to_string(Initializer init) {
    switch (init) {
        case Initializer::glorot_uniform: return "glorot_uniform";
        case Initializer::he_normal: return "he_normal";
        case Initializer::he_uniform: return "he_uniform";
        case Initializer::zeros: return "zeros";
    }
    return "unknown";
}

/// Fills `weights` (any shape) according to `init` with the given fans.
/// Throws invalid_argument for a non-positive fan or an unknown initialiser.
template <class T>
void initialize(Matrix<T>& weights, Initializer init, Index fan_in, Index fan_out, Random& rng) {
    if (fan_in <= 0 || fan_out <= 0)
        detail::fail("initialize: fans must be positive, got fan_in ", fan_in, ", fan_out ", fan_out);
    T* w = weights.data();
    const Index n = weights.size();
    switch (init) {
        case Initializer::glorot_uniform: {
            const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
            for (Index i = 0; i < n; ++i) w[i] = static_cast<T>(rng.uniform(-limit, limit));
            return;
        }
        case Initializer::he_uniform: {
            const double limit = std::sqrt(6.0 / static_cast<double>(fan_in));
            for (Index i = 0; i < n; ++i) w[i] = static_cast<T>(rng.uniform(-limit, limit));
            return;
        }
        case Initializer::he_normal: {
            const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in)) / 0.87962566103423978;
            for (Index i = 0; i < n; ++i) {
                double z;
                do z = rng.normal(); while (std::abs(z) > 2.0);
                w[i] = static_cast<T>(z * stddev);
            }
            return;
        }
        case Initializer::zeros: weights.setZero(); return;
    }
    detail::fail("initialize: unknown initializer code ", static_cast<int>(init));
}

/// Reads an Initializer written as int32, rejecting unknown codes (format_error naming `where`).
inline Initializer initializer_from_code(std::int32_t code, const std::string& where) {
    if (code < 0 || code > static_cast<std::int32_t>(Initializer::zeros))
        detail::fail<format_error>(where, ": unknown initializer code ", code);
    return static_cast<Initializer>(code);
}

}  // namespace feral::nn
