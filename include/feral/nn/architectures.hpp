// feral/nn/architectures.hpp — the named network architectures of the CNN benchmark, a
// parametric CNN used by the random search, and a FLOP count for training throughput.
//
// Every builder returns an unbuilt Sequential plus its training settings; inputs are
// pixels / 255 of one-channel 48x48 faces (any size works where the pooling fits).
//
//   small  Conv(32,3,valid)+ReLU, MaxPool 2, Conv(64,3,valid)+ReLU, MaxPool 2, Flatten,
//          Dense(classes); Adam 1e-3; batch 32
//   mid    3 x [Conv(f,3,same)+ReLU, BatchNorm, MaxPool 2], f = 32, 64, 128; Flatten,
//          Dense(128)+ReLU, Dropout 0.4, Dense(classes); Adam 1e-3; batch 64
//   deep   4 x [Conv(f,3,same)+ReLU, BN, Conv(f,3,same)+ReLU, BN, MaxPool 2, Dropout 0.2],
//          f = 32, 128, 128, 32; Flatten, Dense(64)+ReLU, BN, Dropout 0.5, Dense(classes);
//          Adam 5e-4; batch 256
//   wide   4 x [Conv(f,3,same)+ReLU, BN, MaxPool 2, Dropout 0.2], f = 32, 64, 128, 256;
//          Flatten, Dense(256)+ReLU, Dropout 0.2, Dense(classes); Adam 1e-3; batch 32;
//          augmentation: rotation 15 degrees, shifts 0.1, zoom 0.1, horizontal flip
//   mlp    Flatten, 4 x Dense(256)+ReLU, Dense(classes); Adam 1e-3; batch 32
//   lstm   LSTM(128) over the rows, Dropout 0.4, Dense(64)+ReLU, Dropout 0.3,
//          Dense(classes); Adam 1e-3; batch 64
// ReLU is fused into Conv2D / Dense (Activation::relu): the same function as a separate
// ReLU layer, one pass fewer over memory.
#pragma once

#include "feral/core/error.hpp"
#include "feral/nn/adam.hpp"
#include "feral/nn/augment.hpp"
#include "feral/nn/batch_norm.hpp"
#include "feral/nn/conv2d.hpp"
#include "feral/nn/dense.hpp"
#include "feral/nn/dropout.hpp"
#include "feral/nn/flatten.hpp"
#include "feral/nn/lstm.hpp"
#include "feral/nn/max_pool2d.hpp"
#include "feral/nn/sequential.hpp"

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace feral::nn {

/// A model and the settings it is trained with.
template <class T = float>
struct Architecture {
    std::string name;
    Sequential<T> model;  ///< not built
    Index batch_size = 32;
    double learning_rate = 1e-3;
    std::optional<AugmentConfig> augment;
};

/// A plain CNN: blocks of convs_per_block x [Conv(f, k, same)+ReLU [+BN]], MaxPool 2
/// [+ Dropout(block_dropout)], then Flatten and hidden dense layers Dense(u)+ReLU [+BN]
/// [+ Dropout(dropout)], then Dense(classes). The defaults give one convolution per block,
/// no block dropout and no dense batch norm; convs_per_block = 2, block_dropout = 0.2,
/// dense_batch_norm = true, dropout = 0.5 give the blocks of the "deep" architecture.
struct CnnConfig {
    std::vector<Index> filters{32, 64};  ///< one entry per conv block
    Index kernel_size = 3;
    std::vector<Index> dense_units{128}; ///< hidden dense layers (ReLU), before Dense(classes)
    double dropout = 0.0;                ///< after each hidden dense layer (0 = none)
    bool batch_norm = true;              ///< BatchNorm after each convolution
    double learning_rate = 1e-3;
    Index batch_size = 64;
    Index convs_per_block = 1;           ///< convolutions (each + ReLU [+ BN]) before a block's pooling, >= 1
    double block_dropout = 0.0;          ///< Dropout after each block's pooling (0 = none)
    bool dense_batch_norm = false;       ///< BatchNorm after each hidden dense layer (before its dropout)
    /// Every BatchNorm's momentum (Keras convention, its default 0.99). A lower value lets
    /// the running statistics that inference uses settle within a few hundred steps.
    double batch_norm_momentum = 0.99;

    [[nodiscard]] std::string describe() const {
        std::ostringstream out;
        out << "conv";
        for (auto f : filters) out << ' ' << f;
        if (convs_per_block != 1) out << " (x" << convs_per_block << " per block)";
        out << " k" << kernel_size << (batch_norm ? " bn" : "");
        if (block_dropout > 0) out << " dropout " << block_dropout;
        out << ", dense";
        if (dense_units.empty()) out << " none";
        for (auto u : dense_units) out << ' ' << u;
        if (dense_batch_norm && !dense_units.empty()) out << " bn";
        out << ", dropout " << dropout << ", lr " << learning_rate << ", batch " << batch_size;
        if (batch_norm_momentum != 0.99) out << ", bn momentum " << batch_norm_momentum;
        return out.str();
    }
};

namespace architectures {

template <class T = float>
Sequential<T>& conv_relu(Sequential<T>& m, Index filters, Index k, Padding padding) {
    return m.template add<Conv2D>(typename Conv2D<T>::Config{
        .filters = filters, .kernel_size = k, .padding = padding, .activation = Activation::relu});
}

template <class T = float>
Sequential<T>& dense(Sequential<T>& m, Index units, bool relu) {
    return m.template add<Dense>(
        typename Dense<T>::Config{.units = units, .activation = relu ? Activation::relu : Activation::none});
}

template <class T = float>
Sequential<T>& dropout(Sequential<T>& m, double rate) {
    return m.template add<Dropout>(typename Dropout<T>::Config{.rate = rate});
}

template <class T = float>
Sequential<T>& max_pool(Sequential<T>& m) {
    return m.template add<MaxPool2D>(typename MaxPool2D<T>::Config{.pool_size = 2});
}

/// The "deep" architecture as a CnnConfig: the tuned-CNN study's published best
/// (blocks 32, 128, 128, 32 of two convolutions, Dense(64) with BatchNorm; Adam 5e-4, batch 256).
inline CnnConfig deep_config() {
    return {.filters = {32, 128, 128, 32}, .kernel_size = 3, .dense_units = {64}, .dropout = 0.5,
            .batch_norm = true, .learning_rate = 5e-4, .batch_size = 256, .convs_per_block = 2,
            .block_dropout = 0.2, .dense_batch_norm = true};
}

/// The parametric CNN of CnnConfig (unbuilt). Throws invalid_argument for empty or
/// non-positive sizes or a dropout outside [0, 1).
template <class T = float>
Sequential<T> make_cnn(const CnnConfig& c, Index classes) {
    if (classes < 2) detail::fail("architectures::make_cnn: classes must be >= 2, got ", classes);
    if (c.kernel_size < 1) detail::fail("architectures::make_cnn: kernel_size must be >= 1, got ", c.kernel_size);
    if (!(c.dropout >= 0.0 && c.dropout < 1.0)) detail::fail("architectures::make_cnn: dropout ", c.dropout, " outside [0, 1)");
    if (!(c.block_dropout >= 0.0 && c.block_dropout < 1.0))
        detail::fail("architectures::make_cnn: block_dropout ", c.block_dropout, " outside [0, 1)");
    if (c.convs_per_block < 1) detail::fail("architectures::make_cnn: convs_per_block must be >= 1, got ", c.convs_per_block);
    if (!(c.batch_norm_momentum >= 0.0 && c.batch_norm_momentum <= 1.0))
        detail::fail("architectures::make_cnn: batch_norm_momentum ", c.batch_norm_momentum, " outside [0, 1]");
    const typename BatchNorm<T>::Config bn{.momentum = c.batch_norm_momentum};
    Sequential<T> m;
    for (Index f : c.filters) {
        if (f < 1) detail::fail("architectures::make_cnn: filters must be >= 1, got ", f);
        for (Index k = 0; k < c.convs_per_block; ++k) {
            conv_relu(m, f, c.kernel_size, Padding::same);
            if (c.batch_norm) m.template add<BatchNorm>(bn);
        }
        max_pool(m);
        if (c.block_dropout > 0) dropout(m, c.block_dropout);
    }
    m.template add<Flatten>();
    for (Index u : c.dense_units) {
        if (u < 1) detail::fail("architectures::make_cnn: dense units must be >= 1, got ", u);
        dense(m, u, true);
        if (c.dense_batch_norm) m.template add<BatchNorm>(bn);
        if (c.dropout > 0) dropout(m, c.dropout);
    }
    dense(m, classes, false);
    return m;
}

/// The names accepted by make().
inline const std::vector<std::string>& names() {
    static const std::vector<std::string> all = {"small", "mid", "deep", "wide", "mlp", "lstm"};
    return all;
}

/// One of the named benchmark architectures (see the header comment). Throws
/// invalid_argument for an unknown name (listing the known ones).
template <class T = float>
Architecture<T> make(const std::string& name, Index classes = 7) {
    if (classes < 2) detail::fail("architectures::make: classes must be >= 2, got ", classes);
    Architecture<T> a;
    a.name = name;
    Sequential<T>& m = a.model;
    if (name == "small") {
        conv_relu(m, 32, 3, Padding::valid);
        max_pool(m);
        conv_relu(m, 64, 3, Padding::valid);
        max_pool(m);
        m.template add<Flatten>();
        dense(m, classes, false);
        a.batch_size = 32;
    } else if (name == "mid") {
        for (Index f : {32, 64, 128}) {
            conv_relu(m, f, 3, Padding::same);
            m.template add<BatchNorm>();
            max_pool(m);
        }
        m.template add<Flatten>();
        dense(m, 128, true);
        dropout(m, 0.4);
        dense(m, classes, false);
        a.batch_size = 64;
    } else if (name == "deep") {
        // The parametric CNN holds this one network: deep_config() is its only definition.
        const CnnConfig c = deep_config();
        m = make_cnn<T>(c, classes);
        a.batch_size = c.batch_size;
        a.learning_rate = c.learning_rate;
    } else if (name == "wide") {
        for (Index f : {32, 64, 128, 256}) {
            conv_relu(m, f, 3, Padding::same);
            m.template add<BatchNorm>();
            max_pool(m);
            dropout(m, 0.2);
        }
        m.template add<Flatten>();
        dense(m, 256, true);
        dropout(m, 0.2);
        dense(m, classes, false);
        a.batch_size = 32;
        a.augment = AugmentConfig{.rotation_range = 15, .width_shift_range = 0.1, .height_shift_range = 0.1,
                                  .zoom_range = 0.1, .horizontal_flip = true};
    } else if (name == "mlp") {
        m.template add<Flatten>();
        for (int i = 0; i < 4; ++i) dense(m, 256, true);
        dense(m, classes, false);
        a.batch_size = 32;
    } else if (name == "lstm") {
        m.template add<LSTM>(128);
        dropout(m, 0.4);
        dense(m, 64, true);
        dropout(m, 0.3);
        dense(m, classes, false);
        a.batch_size = 64;
    } else {
        std::string known;
        for (const auto& n : names()) {
            if (!known.empty()) known += ", ";
            known += n;
        }
        detail::fail("architectures::make: unknown architecture '", name, "' (known: ", known, ")");
    }
    return a;
}

/// Multiply-accumulates of one forward pass of one sample through a built model (Conv2D,
/// Dense and LSTM products; element-wise layers are not counted). Training costs about
/// 3x the forward pass (forward, input gradient, weight gradient), so training FLOPs
/// per image = 2 * 3 * forward_macs.
template <class T = float>
double forward_macs(Sequential<T>& model) {
    double macs = 0;
    for (std::size_t i = 0; i < model.size(); ++i) {
        Layer<T>& l = model.layer(i);
        const Shape in = l.input_shape(), out = l.output_shape();
        if (auto* conv = dynamic_cast<Conv2D<T>*>(&l)) {
            const double k = static_cast<double>(conv->config().kernel_size);
            macs += static_cast<double>(out.size()) * static_cast<double>(in.channels) * k * k;
        } else if (dynamic_cast<Dense<T>*>(&l) != nullptr) {
            macs += static_cast<double>(in.size()) * static_cast<double>(out.size());
        } else if (auto* lstm = dynamic_cast<LSTM<T>*>(&l)) {
            const double u = static_cast<double>(lstm->units());
            macs += static_cast<double>(lstm->steps()) * (static_cast<double>(lstm->features()) + u) * 4.0 * u;
        }
    }
    return macs;
}

template <class T = float>
double training_flops_per_image(Sequential<T>& model) {
    return 6.0 * forward_macs(model);
}

}  // namespace architectures
}  // namespace feral::nn
