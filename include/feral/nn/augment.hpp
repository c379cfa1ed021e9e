// feral/nn/augment.hpp — on-the-fly augmentation of training batches (Keras's ImageDataGenerator).
//
// Each training image gets a fresh random affine transform every epoch: rotation by
// U(-rotation_range, rotation_range) degrees, a height shift and a width shift of
// U(-r, r) times the height / width (r < 1; r >= 1 means pixels), a shear of
// U(-shear_range, shear_range) degrees, a zoom zx, zy ~ U(1 - zoom_range, 1 + zoom_range)
// (independently, > 1 shows less of the image), and a horizontal flip with probability
// 1/2. Pixels are resampled bilinearly and the border is filled by `fill_mode`
// (nearest by default) — vision/warp.hpp does the geometry, with Keras's exact matrices.
// Every channel plane of a sample gets the same transform.
//
// Randomness: sample s in epoch e draws from Random(seed).fork(e).fork(s), where s is
// the sample's row in the training set. The result therefore depends only on (seed,
// epoch, sample), not on batch composition, shuffling or the thread count.
//
// Example:
//   feral::nn::Augmenter<> augment({.rotation_range = 15, .width_shift_range = 0.1,
//                                   .height_shift_range = 0.1, .zoom_range = 0.1,
//                                   .horizontal_flip = true}, /*seed*/ 7);
//   augment.apply(batch, shape, epoch, rows_of_batch, augmented);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/nn/layer.hpp"
#include "feral/vision/warp.hpp"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace feral::nn {

struct AugmentConfig {
    double rotation_range = 0;      ///< degrees
    double width_shift_range = 0;   ///< fraction of the width (< 1) or pixels (>= 1)
    double height_shift_range = 0;  ///< fraction of the height (< 1) or pixels (>= 1)
    double zoom_range = 0;          ///< zoom in [1 - z, 1 + z]
    double shear_range = 0;         ///< degrees
    bool horizontal_flip = false;
    FillMode fill_mode = FillMode::nearest;
    float cval = 0.0f;              ///< fill value for FillMode::constant

    /// True when at least one transform is switched on.
    [[nodiscard]] bool enabled() const {
        return rotation_range > 0 || width_shift_range > 0 || height_shift_range > 0 || zoom_range > 0 ||
               shear_range > 0 || horizontal_flip;
    }
};

template <class T = float>
class Augmenter {
public:
    /// Throws invalid_argument for negative ranges or zoom_range >= 1.
    explicit Augmenter(AugmentConfig config = {}, std::uint64_t seed = 0) : config_(config), seed_(seed) {
        if (config.rotation_range < 0 || config.width_shift_range < 0 || config.height_shift_range < 0 ||
            config.shear_range < 0 || config.zoom_range < 0)
            detail::fail("Augmenter: ranges must be >= 0 (rotation ", config.rotation_range, ", width_shift ",
                         config.width_shift_range, ", height_shift ", config.height_shift_range, ", zoom ",
                         config.zoom_range, ", shear ", config.shear_range, ")");
        if (!(config.zoom_range < 1.0)) detail::fail("Augmenter: zoom_range must be < 1, got ", config.zoom_range);
    }

    [[nodiscard]] const AugmentConfig& config() const { return config_; }
    [[nodiscard]] std::uint64_t seed() const { return seed_; }

    /// The transform sample `sample` gets in epoch `epoch` (Keras's parameters).
    [[nodiscard]] AffineParams draw(const Shape& shape, int epoch, Index sample) const {
        Random rng = Random(seed_).fork(static_cast<std::uint64_t>(epoch)).fork(static_cast<std::uint64_t>(sample));
        AugmentRanges ranges;
        ranges.rotation_degrees = config_.rotation_range;
        ranges.width_shift = config_.width_shift_range;
        ranges.height_shift = config_.height_shift_range;
        ranges.shear_degrees = config_.shear_range;
        ranges.zoom = {1.0 - config_.zoom_range, 1.0 + config_.zoom_range};
        ranges.horizontal_flip = config_.horizontal_flip;
        return random_affine_params(ranges, shape.height, shape.width, rng);
    }

    /// out.row(i) = a random transform of in.row(i), drawn for (epoch, samples[i]).
    /// requires: in.cols() == shape.size(), samples.size() == in.rows(); out is resized.
    void apply(const Matrix<T>& in, const Shape& shape, int epoch, const std::vector<Index>& samples, Matrix<T>& out,
               int threads = 0) const {
        if (in.cols() != shape.size())
            detail::fail("Augmenter::apply: rows have ", in.cols(), " values, shape ", to_string(shape), " needs ",
                         shape.size());
        if (static_cast<Index>(samples.size()) != in.rows())
            detail::fail("Augmenter::apply: ", samples.size(), " sample numbers for ", in.rows(), " rows");
        out.resize(in.rows(), in.cols());
        const Index plane = shape.height * shape.width;
        parallel_for(0, in.rows(), threads, [&](std::int64_t begin, std::int64_t end) {
            std::vector<float> src, dst;  // float staging for T = double (warp works on float)
            for (std::int64_t i = begin; i < end; ++i) {
                const AffineMatrix m = keras_affine_matrix(draw(shape, epoch, samples[static_cast<std::size_t>(i)]),
                                                           shape.height, shape.width);
                for (Index c = 0; c < shape.channels; ++c) {
                    const T* from = in.row(i).data() + c * plane;
                    T* to = out.row(i).data() + c * plane;
                    if constexpr (std::is_same_v<T, float>) {
                        warp_affine(from, to, shape.height, shape.width, m, config_.fill_mode, config_.cval);
                    } else {
                        src.assign(from, from + plane);
                        dst.resize(static_cast<std::size_t>(plane));
                        warp_affine(src.data(), dst.data(), shape.height, shape.width, m, config_.fill_mode, config_.cval);
                        for (Index k = 0; k < plane; ++k) to[k] = static_cast<T>(dst[static_cast<std::size_t>(k)]);
                    }
                }
            }
        });
    }

private:
    AugmentConfig config_;
    std::uint64_t seed_;
};

}  // namespace feral::nn
