// feral/nn/layer_factory.hpp — rebuilds layers from their saved type name and configuration.
//
// Sequential::save writes each layer's type() and the bytes of its save_config();
// Sequential::load asks the factory for a layer of that type built from those bytes.
// Every layer of feral::nn is registered here; a user-defined layer type registers its
// own maker once before loading a model that contains it:
//
//   feral::nn::LayerFactory<float>::add("MyLayer", [](feral::ByteReader& in) {
//       return MyLayer<float>::load_config(in);
//   });
//
// The registry is process-wide (a function-local static); add() replaces an existing
// maker of the same name. make() throws format_error naming an unknown type.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/nn/avg_pool2d.hpp"
#include "feral/nn/batch_norm.hpp"
#include "feral/nn/conv2d.hpp"
#include "feral/nn/dense.hpp"
#include "feral/nn/dropout.hpp"
#include "feral/nn/flatten.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/lstm.hpp"
#include "feral/nn/max_pool2d.hpp"
#include "feral/nn/relu.hpp"
#include "feral/nn/softmax.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace feral::nn {

template <class T = float>
class LayerFactory {
public:
    using Maker = std::function<LayerPtr<T>(ByteReader&)>;

    /// Registers (or replaces) the maker for layers whose type() is `type`.
    static void add(const std::string& type, Maker maker) {
        std::lock_guard lock(mutex());
        registry()[type] = std::move(maker);
    }

    [[nodiscard]] static bool knows(const std::string& type) {
        std::lock_guard lock(mutex());
        return registry().count(type) != 0;
    }

    /// A new, unbuilt layer of `type` configured from `config` (save_config's bytes).
    static LayerPtr<T> make(const std::string& type, ByteReader& config) {
        Maker maker;
        {
            std::lock_guard lock(mutex());
            auto it = registry().find(type);
            if (it == registry().end())
                detail::fail<format_error>(config.source(), ": unknown layer type '", type,
                                           "' (register it with LayerFactory::add before loading)");
            maker = it->second;
        }
        return maker(config);
    }

private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }

    static std::map<std::string, Maker>& registry() {
        static std::map<std::string, Maker> makers = {
            {"Conv2D", [](ByteReader& in) { return LayerPtr<T>(Conv2D<T>::load_config(in)); }},
            {"Dense", [](ByteReader& in) { return LayerPtr<T>(Dense<T>::load_config(in)); }},
            {"MaxPool2D", [](ByteReader& in) { return LayerPtr<T>(MaxPool2D<T>::load_config(in)); }},
            {"AvgPool2D", [](ByteReader& in) { return LayerPtr<T>(AvgPool2D<T>::load_config(in)); }},
            {"BatchNorm", [](ByteReader& in) { return LayerPtr<T>(BatchNorm<T>::load_config(in)); }},
            {"Dropout", [](ByteReader& in) { return LayerPtr<T>(Dropout<T>::load_config(in)); }},
            {"Flatten", [](ByteReader& in) { return LayerPtr<T>(Flatten<T>::load_config(in)); }},
            {"ReLU", [](ByteReader& in) { return LayerPtr<T>(ReLU<T>::load_config(in)); }},
            {"Softmax", [](ByteReader& in) { return LayerPtr<T>(Softmax<T>::load_config(in)); }},
            {"LSTM", [](ByteReader& in) { return LayerPtr<T>(LSTM<T>::load_config(in)); }},
        };
        return makers;
    }
};

}  // namespace feral::nn
