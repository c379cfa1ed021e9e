// feral/nn/layer.hpp — the interface every neural-network layer implements.
//
// Data layout: a batch of activations is a row-major Matrix<T> with one sample per
// row; a sample of shape C x H x W is stored in CHW order (channel planes, each
// row by row). The batch size is the number of rows; the per-sample shape travels
// beside the matrix (Layer::build returns it). A Dense layer's output is shape
// {units, 1, 1}; an LSTM reads its input's H rows as time steps of W features.
//
// Life cycle (driven by Sequential):
//   1. build(input_shape, rng)  fixes the input shape, allocates parameters and
//                               gradients, initialises them from rng, returns the
//                               output shape. Called once, before anything else.
//   2. forward(x, y, training)  y = f(x) for a batch; keeps what backward needs.
//                               `training` turns on dropout and batch statistics.
//   3. backward(x, y, dy, dx)   given dL/dy for the last forward's batch, writes the
//                               parameter gradients (overwriting, not accumulating)
//                               and dL/dx into *dx (dx == nullptr for the first
//                               layer: its input gradient is not needed).
// Output matrices are resized by the layer; reusing them across batches means
// steady-state training allocates nothing.
//
// Parameters are exposed as (value, gradient) pairs of equal shape so optimisers
// need not know the layer type; `state()` exposes non-trained tensors that still
// belong to the model (batch-norm running statistics) so they are saved and
// restored with the weights.
#pragma once

#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"

#include <memory>
#include <string>
#include <vector>

namespace feral::nn {

/// Shape of one sample (the batch dimension is the matrix's rows).
using Shape = ImageShape;

/// One trainable tensor of a layer and its gradient (same shape).
template <class T>
struct Parameter {
    std::string name;        ///< e.g. "kernel", "bias", "gamma"
    Matrix<T>* value;
    Matrix<T>* gradient;
};

template <class T = float>
class Layer {
public:
    virtual ~Layer() = default;

    /// Class name, e.g. "Conv2D" — used by summary(), save/load and messages.
    [[nodiscard]] virtual std::string type() const = 0;

    /// Short human description of the configuration, e.g. "32 filters 3x3 same, relu".
    [[nodiscard]] virtual std::string describe() const { return {}; }

    /// Fixes the input shape, allocates and initialises parameters; returns the output shape.
    /// Throws invalid_argument if the input shape does not suit the layer (naming both).
    virtual Shape build(const Shape& input, Random& rng) = 0;

    virtual void forward(const Matrix<T>& input, Matrix<T>& output, bool training) = 0;

    virtual void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                          Matrix<T>* grad_input) = 0;

    virtual std::vector<Parameter<T>> parameters() { return {}; }
    virtual std::vector<Matrix<T>*> state() { return {}; }

    /// Number of trainable scalars.
    [[nodiscard]] Index parameter_count() {
        Index n = 0;
        for (auto& p : parameters()) n += p.value->size();
        return n;
    }

    /// Threads used inside forward/backward (0 = automatic, see core/threads.hpp).
    virtual void set_threads(int threads) { threads_ = threads; }

    /// Seeds the layer's own randomness (dropout masks) for reproducible runs.
    virtual void set_seed(std::uint64_t) {}

    /// How far the layer's own random stream has advanced (dropout: training forward
    /// calls so far; 0 for layers without randomness). A resumed training sets it back
    /// (training_backup.hpp), so its later masks are the ones an uninterrupted run draws.
    [[nodiscard]] virtual std::uint64_t random_position() const { return 0; }
    virtual void set_random_position(std::uint64_t) {}

    /// Writes the constructor configuration (not the weights) so a factory can
    /// rebuild the layer on load; weights travel through parameters()/state().
    virtual void save_config(ByteWriter& out) const = 0;

    [[nodiscard]] const Shape& input_shape() const { return input_shape_; }
    [[nodiscard]] const Shape& output_shape() const { return output_shape_; }

protected:
    Shape input_shape_{};
    Shape output_shape_{};
    int threads_ = 0;
};

template <class T = float>
using LayerPtr = std::unique_ptr<Layer<T>>;

}  // namespace feral::nn
