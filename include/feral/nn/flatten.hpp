// feral/nn/flatten.hpp — Keras' Flatten: C x H x W -> (C*H*W) x 1 x 1.
//
// Rows are already flat (CHW order, the same order as PyTorch's flatten of NCHW), so the
// layer only changes the shape that travels beside the batch; forward and backward copy.
#pragma once

#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <string>

namespace feral::nn {

template <class T = float>
class Flatten : public Layer<T> {
public:
    [[nodiscard]] std::string type() const override { return "Flatten"; }

    Shape build(const Shape& input, Random&) override {
        layer_detail::check_shape(input, "Flatten::build");
        this->input_shape_ = input;
        this->output_shape_ = Shape{input.size(), 1, 1};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        layer_detail::check_input(input, this->input_shape_, built_, "Flatten::forward");
        output = input;
    }

    void backward(const Matrix<T>& input, const Matrix<T>&, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Flatten::backward");
        if (grad_input) *grad_input = grad_output;
    }

    void save_config(ByteWriter& out) const override { out.write<std::uint32_t>(1); }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Flatten");
        return std::make_unique<Flatten<T>>();
    }

private:
    bool built_ = false;
};

}  // namespace feral::nn
