// feral/nn/conv2d.hpp — 2-D convolution, Keras' Conv2D: a direct convolution where there
// are enough input channels, else packed GEMMs over an implicit im2col.
//
// Shapes: input C x H x W, kernel F x (C*k*k) ("kernel", the rows of PyTorch's OIHW
// weight flattened: kernel(f, (c*k + i)*k + j) = torch_weight[f, c, i, j]; Keras' HWIO
// kernel is its transpose after reordering), bias 1 x F ("bias"), output F x OH x OW.
//
//   forward:   Y_n[F x OH*OW] = act(kernel * cols(X_n) + bias)       (per image n)
//   backward:  G_n = dY_n * act'(Y_n)
//              dkernel = sum_n G_n * cols(X_n)^T,   dbias_f = sum_n sum_p G_n[f, p]
//              dX_n = col2im(kernel^T * G_n)
//                   = flipped * cols'(G_n)     (stride 1: the transposed convolution)
// where cols() is im2col (detail/kernels/im2col.hpp) and, with stride 1, dX is G convolved
// with the kernel turned by 180 degrees and its two channel axes swapped ("flipped",
// C x F*k*k) over G padded by k - 1 - padding (cols'). Padding follows Keras/TensorFlow:
//   valid:  OH = floor((H - k) / s) + 1, no padding (the kernel must fit: k <= H, W);
//   same:   OH = ceil(H / s), total padding max((OH - 1)*s + k - H, 0), the smaller half
//           on the top/left and the extra row/column on the bottom/right.
//
// Performance: with stride 1, at least kMinDirectDepth kernel rows (C*k*k: 32 input
// channels with a 3x3 kernel) and 32 filters, the convolution is direct, image by image
// (detail/kernels/direct_conv.hpp): the image is copied once into a zero-bordered buffer
// and each tile of 12 pixels x 32 filters is summed straight from it, nothing packed. The
// kernel gradient is direct too (tiles of 12 kernel rows x 32 filters, or 6 x 64, summed
// over the pixels, G transposed once per image so the filters are adjacent; 1.1-1.45x
// faster in training than the GEMM on 48x48 and 5x5 layers), and so is dX where
// F*k*k and C allow, as G convolved with the flipped kernel. The forward pass of the FER
// CNN layers with 32-128 input channels runs 1.5-2.2x faster that way than the GEMM below
// (benchmarks/RESULTS.md, "Direct convolution"). The first layer (C*k*k = 9) and strided
// convolutions keep the GEMM.
//
// Otherwise the convolution is a GEMM whose column matrices are never written out: it
// packs its panels of cols(X) and cols'(G) straight from the images (conv_columns.hpp), which
// stay in cache, where the column matrix (C*k*k times the image: 7.4 MB for one 24x24
// image with 128 channels and a 5x5 kernel) would go to memory and back. Each image is one
// GEMM; small images (12x12 after two poolings) are put side by side, several per GEMM, so
// the product stays wide enough for the micro-kernel. Blocks of images are spread over
// threads, each thread with its own workspace, allocated on the first batch and reused.
// The bias and the fused ReLU are applied in the GEMM epilogue.
//
// When dX is not direct, it takes the transposed GEMM only where the column gradient
// kernel^T * G would be large: C*k*k >= kMinTransposedDepth rows (with at least
// kMinColumns pixels per GEMM, 4 MB and more, past L2) and stride 1. Below that,
// col2im(kernel^T * G) is as fast or faster: the transposed product is only C rows tall,
// so packing its panel costs more per FMA, while a small column gradient stays in cache.
// Measured both ways (forward + backward; benchmarks/RESULTS.md, "Implicit im2col"): 3x3
// layers with 32 or 64 channels took up to 3% longer the transposed way, 128 channels 3x3
// up to 8% less, 5x5 with 64 or 128 channels 9-14% less.
//
// Determinism: the kernel gradient is summed over fixed groups of images (at least kGroup,
// each group accumulated in image order), then the groups are added in order, so the result
// is the same for every thread count.
//
// Defaults are Keras': 'valid' padding, stride 1, glorot_uniform kernel, zero bias.
//
// Example:
//   feral::nn::Conv2D<float> conv({.filters = 32, .kernel_size = 3,
//                                  .padding = feral::nn::Padding::same,
//                                  .activation = feral::nn::Activation::relu});
//   feral::Random rng(1);
//   feral::nn::Shape out = conv.build({1, 48, 48}, rng);      // 32 x 48 x 48
//   conv.forward(x, y, true);  conv.backward(x, y, dy, &dx);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/detail/kernels/conv_columns.hpp"
#include "feral/detail/kernels/direct_conv.hpp"
#include "feral/detail/kernels/gemm.hpp"
#include "feral/detail/kernels/im2col.hpp"
#include "feral/nn/initializers.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace feral::nn {

enum class Padding : std::int32_t { valid, same };

inline std::string to_string(Padding p) { return p == Padding::same ? "same" : "valid"; }

/// Output size and padding along one dimension (Keras/TensorFlow rules, see conv2d.hpp).
struct PaddedExtent {
    Index out = 0, pad_before = 0, pad_after = 0;
};

inline PaddedExtent padded_extent(Index size, Index kernel, Index stride, Padding padding) {
    PaddedExtent e;
    if (padding == Padding::valid) {
        e.out = size >= kernel ? (size - kernel) / stride + 1 : 0;
    } else {
        e.out = (size + stride - 1) / stride;
        const Index total = std::max<Index>((e.out - 1) * stride + kernel - size, 0);
        e.pad_before = total / 2;
        e.pad_after = total - e.pad_before;
    }
    return e;
}

template <class T = float>
class Conv2D : public Layer<T> {
public:
    struct Config {
        Index filters = 0;                                  ///< output channels, > 0
        Index kernel_size = 3;                              ///< square kernel k x k
        Index stride = 1;
        Padding padding = Padding::valid;
        Activation activation = Activation::none;           ///< fused activation
        bool use_bias = true;
        Initializer kernel_initializer = Initializer::glorot_uniform;
    };

    /// Images per partial sum of the kernel gradient, at least (rounded up to whole GEMM
    /// blocks; fixed by the shape, so results do not depend on the thread count).
    static constexpr Index kGroup = 4;
    /// Small images are convolved kMinColumns output pixels (up to kMaxBlock images) per GEMM.
    static constexpr Index kMinColumns = 1024;
    static constexpr Index kMaxBlock = 16;
    /// dX is a transposed convolution from C*k*k >= kMinTransposedDepth on (stride 1 only;
    /// see the header comment).
    static constexpr Index kMinTransposedDepth = 1024;
    /// With stride 1, the forward pass is a direct convolution from C*k*k >= kMinDirectDepth
    /// on with F >= kMinDirectChannels, and so is dX from F*k*k >= kMinDirectDepth on with
    /// C >= kMinDirectChannels (its tiles are 32 output channels wide: a layer with one input
    /// channel would compute 31 in vain; see the header comment).
    static constexpr Index kMinDirectDepth = 256;
    static constexpr Index kMinDirectChannels = 32;

    Conv2D() = default;
    explicit Conv2D(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "Conv2D"; }
    [[nodiscard]] std::string describe() const override {
        const auto k = std::to_string(config_.kernel_size);
        std::string s = std::to_string(config_.filters) + " filters " + k + "x" + k + " " + to_string(config_.padding);
        if (config_.stride != 1) s += ", stride " + std::to_string(config_.stride);
        if (config_.activation == Activation::relu) s += ", relu";
        if (!config_.use_bias) s += ", no bias";
        return s;
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random& rng) override {
        layer_detail::check_shape(input, "Conv2D::build");
        if (config_.filters <= 0) detail::fail("Conv2D::build: filters must be positive, got ", config_.filters);
        if (config_.kernel_size <= 0)
            detail::fail("Conv2D::build: kernel_size must be positive, got ", config_.kernel_size);
        if (config_.stride <= 0) detail::fail("Conv2D::build: stride must be positive, got ", config_.stride);
        if (config_.padding == Padding::valid && (config_.kernel_size > input.height || config_.kernel_size > input.width))
            detail::fail("Conv2D::build: kernel ", config_.kernel_size, "x", config_.kernel_size,
                         " is larger than the input ", to_string(input), " with 'valid' padding");
        const auto ey = padded_extent(input.height, config_.kernel_size, config_.stride, config_.padding);
        const auto ex = padded_extent(input.width, config_.kernel_size, config_.stride, config_.padding);
        geometry_ = {input.channels, input.height, input.width, config_.kernel_size, config_.kernel_size,
                     config_.stride, ey.pad_before, ex.pad_before, ey.out, ex.out};
        const Index k = config_.kernel_size;
        // dX as a convolution of G (F channels, OH x OW) giving H x W: padding k - 1 - p.
        gradient_geometry_ = {config_.filters,       ey.out, ex.out, k, k, 1, k - 1 - ey.pad_before,
                              k - 1 - ex.pad_before, input.height, input.width};
        kernel_.resize(config_.filters, input.channels * k * k);
        initialize(kernel_, config_.kernel_initializer, input.channels * k * k, config_.filters * k * k, rng);
        kernel_grad_.setZero(kernel_.rows(), kernel_.cols());
        bias_.setZero(1, config_.use_bias ? config_.filters : 0);
        bias_grad_.setZero(1, bias_.cols());
        this->input_shape_ = input;
        this->output_shape_ = Shape{config_.filters, ey.out, ex.out};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Conv2D::forward");
        const Index n = input.rows(), filters = kernel_.rows(), depth = kernel_.cols();
        const Index spatial = geometry_.col_cols();
        output.resize(n, filters * spatial);
        if (direct()) {
            // One image at a time, straight from the image (direct_conv.hpp).
            const int slots = prepare_workspace(n);
            pack_direct_kernel(kernel_.data(), filters, depth, direct_kernel_);
            const T* bias = config_.use_bias ? bias_.data() : nullptr;
            const bool relu = config_.activation == Activation::relu;
            parallel_for(0, slots, slots, [&](std::int64_t s0, std::int64_t s1) {
                for (std::int64_t s = s0; s < s1; ++s)
                    for (Index i = n * s / slots; i < n * (s + 1) / slots; ++i)
                        direct_conv(input.row(i).data(), geometry_.height * geometry_.width, geometry_,
                                    direct_kernel_.data(), filters, bias, relu, output.row(i).data(),
                                    workspace_[static_cast<std::size_t>(s)].direct);
            });
            return;
        }
        const Index block = block_images();
        const Index blocks = (n + block - 1) / block;
        const int slots = prepare_workspace(blocks);
        GemmEpilogue<T> e;
        e.row_bias = config_.use_bias ? bias_.data() : nullptr;
        e.relu = config_.activation == Activation::relu;
        parallel_for(0, slots, slots, [&](std::int64_t s0, std::int64_t s1) {
            for (std::int64_t s = s0; s < s1; ++s) {
                auto& w = workspace_[static_cast<std::size_t>(s)];
                for (Index b = blocks * s / slots; b < blocks * (s + 1) / slots; ++b) {
                    const Index first = b * block, count = std::min(block, n - first), width = count * spatial;
                    // One image: straight into its output row; several: into the block buffer,
                    // whose row f holds filter f for every image, then copied to each image's row.
                    T* y = count == 1 ? output.row(first).data() : w.block.data();
                    gemm<T>(filters, width, depth, GemmOperand<T>::row_major(kernel_.data(), depth),
                            input_columns<ConvColumns<T>>(input, first), y, width, false, e);
                    if (count > 1) unblock(y, filters, spatial, count, output, first);
                }
            }
        });
    }

    void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Conv2D::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Conv2D::backward");
        const Index n = input.rows(), filters = kernel_.rows(), depth = kernel_.cols();
        const Index spatial = geometry_.col_cols();
        const bool relu = config_.activation == Activation::relu;
        const Index block = block_images();
        const Index group = (kGroup + block - 1) / block * block;  // whole blocks per group
        const Index groups = (n + group - 1) / group;
        const Index channels = geometry_.channels, in_spatial = geometry_.height * geometry_.width;
        const DataGradient method = grad_input ? data_gradient() : DataGradient::none;
        const bool transposed = method == DataGradient::transposed, direct_dx = method == DataGradient::direct;
        const int slots = prepare_workspace(groups, method);
        if (transposed || direct_dx) flip_kernel();
        if (direct_dx) pack_direct_kernel(flipped_kernel_.data(), channels, flipped_kernel_.cols(), direct_kernel_);
        // Per group: the kernel gradient's sums, in the direct kernel gradient's own layout
        // where it is direct (read out once, below), else filters x depth.
        const auto direct_layout = detail::kernels::direct_gradient_layout<T>(direct_filters(), depth);
        partial_kernel_.resize(groups, direct() ? direct_layout.size() : filters * depth);
        partial_bias_.resize(groups, filters);
        if (grad_input) grad_input->resize(n, this->input_shape_.size());

        parallel_for(0, slots, slots, [&](std::int64_t s0, std::int64_t s1) {
            for (std::int64_t s = s0; s < s1; ++s) {
                auto& w = workspace_[static_cast<std::size_t>(s)];
                for (Index gi = groups * s / slots; gi < groups * (s + 1) / slots; ++gi) {
                    T* dk = partial_kernel_.row(gi).data();
                    T* db = partial_bias_.row(gi).data();
                    std::fill(db, db + filters, T(0));
                    const Index group_end = std::min(n, (gi + 1) * group);
                    for (Index first = gi * group; first < group_end; first += block) {
                        const Index count = std::min(block, group_end - first), width = count * spatial;
                        // G: F x width, filter-major across the block's images, ReLU mask applied.
                        const T* gy = grad_output.row(first).data();
                        if (relu || count > 1) {
                            for (Index g = 0; g < count; ++g) {
                                const T* dy = grad_output.row(first + g).data();
                                const T* y = output.row(first + g).data();
                                for (Index f = 0; f < filters; ++f) {
                                    T* out = w.block.data() + f * width + g * spatial;
                                    const Index at = f * spatial;
                                    if (relu)
                                        for (Index p = 0; p < spatial; ++p) out[p] = y[at + p] > T(0) ? dy[at + p] : T(0);
                                    else
                                        std::copy_n(dy + at, spatial, out);
                                }
                            }
                            gy = w.block.data();
                        }
                        if (direct()) {
                            // dkernel_group += sum over the block's images of G_n * cols(X_n)^T,
                            // image by image, straight from each image (G transposed first:
                            // a second copy of G beside the masked one the bias and dX read,
                            // F*H*W values against F*H*W*C*k*k FMAs, so under 0.4% of them;
                            // each image is bordered again as in the forward pass, for the
                            // same reason, rather than kept bordered from it).
                            const Index ldg = direct_filters();
                            for (Index g = 0; g < count; ++g) {
                                for (Index f = 0; f < filters; ++f) {
                                    const T* row = gy + f * width + g * spatial;
                                    for (Index p = 0; p < spatial; ++p) w.gt[static_cast<std::size_t>(p * ldg + f)] = row[p];
                                }
                                direct_kernel_gradient(input.row(first + g).data(), in_spatial, geometry_, w.gt.data(), ldg,
                                                       first != gi * group || g > 0, dk, w.direct);
                            }
                        } else {
                            // dkernel_group += G * cols^T   (F x depth, inner dimension the block's pixels)
                            gemm<T>(filters, depth, width, GemmOperand<T>::row_major(gy, width),
                                    input_columns<ConvColumnsTransposed<T>>(input, first), dk, depth, first != gi * group);
                        }
                        for (Index f = 0; f < filters; ++f) {
                            T sum = 0;
                            const T* row = gy + f * width;
                            for (Index p = 0; p < width; ++p) sum += row[p];
                            db[f] += sum;
                        }
                        if (direct_dx) {
                            // dX = G convolved with the flipped kernel, image by image; G's
                            // filter f of image g is at gy + f * width + g * spatial.
                            for (Index g = 0; g < count; ++g)
                                direct_conv(gy + g * spatial, width, gradient_geometry_, direct_kernel_.data(),
                                            channels, static_cast<const T*>(nullptr), false,
                                            grad_input->row(first + g).data(), w.direct);
                        } else if (transposed) {
                            // dX = flipped * cols'(G)  (C x the block's input pixels); G's
                            // filter f of image g is at gy + f * width + g * spatial.
                            const T* gy_end = gy == w.block.data() ? w.block.data() + w.block.size()
                                                                   : grad_output.data() + grad_output.size();
                            const ConvColumns<T> g_columns{{gy, spatial, width, gy_end}, gradient_geometry_};
                            const Index in_width = count * in_spatial;
                            T* dx = count == 1 ? grad_input->row(first).data() : w.dblock.data();
                            gemm<T>(channels, in_width, flipped_kernel_.cols(),
                                    GemmOperand<T>::row_major(flipped_kernel_.data(), flipped_kernel_.cols()), g_columns,
                                    dx, in_width, false);
                            if (count > 1) unblock(dx, channels, in_spatial, count, *grad_input, first);
                        } else if (grad_input) {
                            // dcols = kernel^T * G  (depth x width), folded back onto each image.
                            gemm<T>(depth, width, filters, GemmOperand<T>::transposed(kernel_.data(), depth),
                                    GemmOperand<T>::row_major(gy, width), w.dcols.data(), width, false);
                            for (Index g = 0; g < count; ++g)
                                col2im(w.dcols.data() + g * spatial, geometry_, grad_input->row(first + g).data(), width);
                        }
                    }
                }
            }
        });
        // Sum the group partials in group order (fixed, whatever the thread count), in
        // whichever layout they lie, then read the gradient out of the first.
        for (Index g = 1; g < groups; ++g) partial_kernel_.row(0) += partial_kernel_.row(g);
        if (direct()) {
            kernel_grad_.resize(filters, depth);
            unpack_direct_gradient(partial_kernel_.row(0).data(), direct_layout, filters, depth, kernel_grad_.data());
        } else {
            kernel_grad_ = Eigen::Map<const Matrix<T>>(partial_kernel_.row(0).data(), filters, depth);
        }
        if (config_.use_bias) {
            bias_grad_ = partial_bias_.row(0);
            for (Index g = 1; g < groups; ++g) bias_grad_ += partial_bias_.row(g);
        }
    }

    std::vector<Parameter<T>> parameters() override {
        std::vector<Parameter<T>> p{{"kernel", &kernel_, &kernel_grad_}};
        if (config_.use_bias) p.push_back({"bias", &bias_, &bias_grad_});
        return p;
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<std::int64_t>(config_.filters);
        out.write<std::int64_t>(config_.kernel_size);
        out.write<std::int64_t>(config_.stride);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.padding));
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.activation));
        out.write<std::uint8_t>(config_.use_bias ? 1 : 0);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.kernel_initializer));
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Conv2D");
        Config c;
        c.filters = in.read<std::int64_t>();
        c.kernel_size = in.read<std::int64_t>();
        c.stride = in.read<std::int64_t>();
        const auto padding = in.read<std::int32_t>();
        if (padding != 0 && padding != 1)
            detail::fail<format_error>(in.source(), ": Conv2D configuration has unknown padding code ", padding);
        c.padding = static_cast<Padding>(padding);
        c.activation = activation_from_code(in.read<std::int32_t>(), in.source() + ": Conv2D");
        c.use_bias = in.read<std::uint8_t>() != 0;
        c.kernel_initializer = initializer_from_code(in.read<std::int32_t>(), in.source() + ": Conv2D");
        if (c.filters <= 0 || c.kernel_size <= 0 || c.stride <= 0)
            detail::fail<format_error>(in.source(), ": Conv2D configuration has filters ", c.filters, ", kernel_size ",
                                       c.kernel_size, ", stride ", c.stride, " (all must be positive)");
        return std::make_unique<Conv2D<T>>(c);
    }

    /// How backward computes dX (see the header comment): as a direct convolution of G with
    /// the flipped kernel, as a GEMM over the implicit columns of G (the transposed
    /// convolution), or as col2im of the column gradient.
    enum class DataGradient { none, direct, transposed, col2im };
    [[nodiscard]] DataGradient data_gradient() const {
        if (config_.stride != 1) return DataGradient::col2im;
        if (gradient_geometry_.col_rows() >= kMinDirectDepth && geometry_.channels >= kMinDirectChannels)
            return DataGradient::direct;
        return geometry_.col_rows() >= kMinTransposedDepth ? DataGradient::transposed : DataGradient::col2im;
    }
    /// Whether the forward pass and the kernel gradient are direct convolutions (see the
    /// header comment).
    [[nodiscard]] bool direct() const {
        return config_.stride == 1 && geometry_.col_rows() >= kMinDirectDepth && config_.filters >= kMinDirectChannels;
    }
    /// The filters rounded up to whole blocks of the direct convolution's output channels.
    [[nodiscard]] Index direct_filters() const {
        constexpr Index CB = detail::kernels::DirectConvBlocking<T>::channels;
        return (config_.filters + CB - 1) / CB * CB;
    }

    /// Direct access for tests and weight import (F x C*k*k / 1 x F).
    Matrix<T>& kernel() { return kernel_; }
    Matrix<T>& bias() { return bias_; }
    [[nodiscard]] const detail::kernels::ConvGeometry& geometry() const { return geometry_; }

private:
    struct Workspace {
        std::vector<T> block;   // F x width: outputs or gradients of a block of images
        std::vector<T> dblock;  // C x block * H*W: input gradients of a block of images
        std::vector<T> dcols;   // C*k*k x width: column gradients (col2im path)
        detail::kernels::DirectConvScratch<T> direct;  // the bordered image (direct paths)
        std::vector<T> gt;      // H*W x direct_filters(): one image's G transposed (direct kernel gradient)
    };

    /// Copies a block buffer (rows x count*per_image: row r holds row r of every image, side
    /// by side) to rows first, first + 1, ... of `out`, each image's rows one after another.
    static void unblock(const T* block, Index rows, Index per_image, Index count, Matrix<T>& out, Index first) {
        for (Index g = 0; g < count; ++g)
            for (Index r = 0; r < rows; ++r)
                std::copy_n(block + (r * count + g) * per_image, per_image, out.row(first + g).data() + r * per_image);
    }

    /// The column matrix (or its transpose) of the images first, first + 1, ... of a batch.
    template <class Columns>
    Columns input_columns(const Matrix<T>& input, Index first) const {
        return {{input.row(first).data(), input.cols(), geometry_.height * geometry_.width, input.data() + input.size()},
                geometry_};
    }


    /// flipped(c, (f*k + i)*k + j) = kernel(f, (c*k + k-1-i)*k + k-1-j).
    void flip_kernel() {
        const Index k = config_.kernel_size, filters = kernel_.rows(), channels = geometry_.channels;
        flipped_kernel_.resize(channels, filters * k * k);
        for (Index c = 0; c < channels; ++c)
            for (Index f = 0; f < filters; ++f)
                for (Index i = 0; i < k; ++i)
                    for (Index j = 0; j < k; ++j)
                        flipped_kernel_(c, (f * k + i) * k + j) = kernel_(f, (c * k + k - 1 - i) * k + k - 1 - j);
    }

    /// Images per GEMM: small images are put side by side so the product has at least
    /// kMinColumns columns (a 12x12 output alone would leave the micro-kernel's tiles and
    /// the packed kernel under-used). Fixed by the shape, never by the thread count.
    [[nodiscard]] Index block_images() const {
        const Index spatial = std::max<Index>(geometry_.col_cols(), 1);
        return std::clamp<Index>((kMinColumns + spatial - 1) / spatial, 1, kMaxBlock);
    }

    /// Sizes one workspace per thread slot (on first use; reused afterwards). Returns the
    /// number of slots for `units` work units; `method` says which buffers backward needs.
    int prepare_workspace(Index units, DataGradient method = DataGradient::none) {
        const int slots = static_cast<int>(
            std::min<Index>(resolve_threads(this->threads_), std::max<Index>(units, 1)));
        if (workspace_.size() < static_cast<std::size_t>(slots)) workspace_.resize(static_cast<std::size_t>(slots));
        const auto images = static_cast<std::size_t>(block_images());
        const auto width = images * static_cast<std::size_t>(geometry_.col_cols());
        const auto block_size = static_cast<std::size_t>(kernel_.rows()) * width;
        const auto dblock_size = method == DataGradient::transposed && images > 1 ? images * static_cast<std::size_t>(geometry_.image_size()) : 0;
        const auto dcols_size = method == DataGradient::col2im ? static_cast<std::size_t>(geometry_.col_rows()) * width : 0;
        // G transposed, zero past the filters (sized, and so zeroed there, once).
        const auto gt_size = direct() ? static_cast<std::size_t>(geometry_.col_cols() * direct_filters()) : 0;
        for (auto& w : workspace_) {
            if (w.gt.size() < gt_size) w.gt.assign(gt_size, T(0));
            if (w.block.size() < block_size) w.block.resize(block_size);
            if (w.dblock.size() < dblock_size) w.dblock.resize(dblock_size);
            if (w.dcols.size() < dcols_size) w.dcols.resize(dcols_size);
        }
        return slots;
    }

    Config config_;
    bool built_ = false;
    detail::kernels::ConvGeometry geometry_;
    detail::kernels::ConvGeometry gradient_geometry_;  // dX as a convolution of G (stride 1)
    Matrix<T> kernel_, kernel_grad_, bias_, bias_grad_;
    Matrix<T> flipped_kernel_;  // C x F*k*k, for the transposed convolution
    std::vector<T> direct_kernel_;  // the kernel (forward) or flipped kernel (dX), packed for direct_conv
    Matrix<T> partial_kernel_, partial_bias_;  // per image group, summed in order
    std::vector<Workspace> workspace_;
};

}  // namespace feral::nn
