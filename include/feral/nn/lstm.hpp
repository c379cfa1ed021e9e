// feral/nn/lstm.hpp — a long short-term memory layer that reads an image row by row.
//
// Input: a batch of C x H x W samples with C = 1 is read as a sequence of H time steps
// of W features (a 48x48 face: 48 steps of 48 pixels), as Keras's LSTM does with a
// (48, 48) input. Output: the last hidden state h_H, shape {units, 1, 1}
// (return_sequences = false).
//
// Mathematics (Keras's LSTM with activation tanh, recurrent_activation sigmoid; gates in
// Keras's order i, f, c, o — the same order as torch's i, f, g, o):
//     z_t = x_t K + h_{t-1} R + b              K: W x 4U, R: U x 4U, b: 1 x 4U
//     i = sigma(z_i)   f = sigma(z_f)   g = tanh(z_g)   o = sigma(z_o)
//     c_t = f * c_{t-1} + i * g                c_0 = h_0 = 0
//     h_t = o * tanh(c_t)
// torch.nn.LSTM has two biases (b_ih + b_hh): they add up to our b, and its W_ih, W_hh
// are our K^T, R^T (tests/fixtures/nn/lstm_torch.txt checks exactly this).
//
// Initialisation (Keras defaults): K glorot_uniform (limit sqrt(6 / (W + 4U))), R
// orthogonal (QR of a Gaussian matrix, signs fixed by diag(R)), b zero except the forget
// gate's quarter, which is 1 (unit_forget_bias, Jozefowicz et al. 2015).
//
// Backward is full back-propagation through time: for t = H..1
//     dO = dh tanh(c_t) o(1-o);   dc += dh o (1 - tanh^2 c_t)
//     dI = dc g i(1-i);  dF = dc c_{t-1} f(1-f);  dG = dc i (1-g^2)
//     dz_t = [dI dF dG dO];  dh = dz_t R^T;  dc = dc f
// then dK = X^T dZ, dR = H_prev^T dZ, db = column sums of dZ, dx = dZ K^T.
//
// Performance: the input projection of all time steps is ONE matrix product
// (B*H x W) * (W x 4U); the recurrence runs over blocks of 32 samples in parallel
// (samples are independent; blocks are fixed by the batch, not the thread count, so
// results do not depend on threads); the weight gradients are again single products
// over all time steps.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/nn/layer.hpp"

#include <Eigen/QR>

#include <cmath>
#include <string>

namespace feral::nn {

template <class T = float>
class LSTM final : public Layer<T> {
public:
    /// requires units >= 1 (throws invalid_argument otherwise).
    explicit LSTM(Index units) : units_(units) {
        if (units < 1) detail::fail("LSTM: units must be >= 1, got ", units);
    }

    [[nodiscard]] std::string type() const override { return "LSTM"; }
    [[nodiscard]] std::string describe() const override { return std::to_string(units_) + " units, last state"; }
    [[nodiscard]] Index units() const { return units_; }
    [[nodiscard]] Index steps() const { return steps_; }
    [[nodiscard]] Index features() const { return features_; }

    Shape build(const Shape& input, Random& rng) override {
        if (input.channels != 1 || input.height < 1 || input.width < 1)
            detail::fail("LSTM::build: expects one-channel input read as height time steps of width features, got ",
                         to_string(input));
        this->input_shape_ = input;
        steps_ = input.height;
        features_ = input.width;
        const Index gates = 4 * units_;
        kernel_.resize(features_, gates);
        const double limit = std::sqrt(6.0 / static_cast<double>(features_ + gates));
        for (Index i = 0; i < kernel_.size(); ++i) kernel_.data()[i] = static_cast<T>(rng.uniform(-limit, limit));
        recurrent_ = orthogonal(units_, gates, rng);
        bias_ = Matrix<T>::Zero(1, gates);
        bias_.block(0, units_, 1, units_).setOnes();
        grad_kernel_ = Matrix<T>::Zero(features_, gates);
        grad_recurrent_ = Matrix<T>::Zero(units_, gates);
        grad_bias_ = Matrix<T>::Zero(1, gates);
        this->output_shape_ = Shape{units_, 1, 1};
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool /*training*/) override {
        check_input(input, "LSTM::forward");
        const Index batch = input.rows(), gates = 4 * units_;
        // One product for the input projection of every time step: rows are (sample, step).
        projection_.resize(batch, steps_ * gates);
        map_rows(projection_, gates).noalias() = map_rows(input, features_) * kernel_;
        activations_.resize(batch, steps_ * gates);
        cells_.resize(batch, steps_ * units_);
        tanh_cells_.resize(batch, steps_ * units_);
        previous_hidden_.resize(batch, steps_ * units_);
        output.resize(batch, units_);
        parallel_for_each_index(0, block_count(batch), this->threads_, [&](std::int64_t block) {
            const Index r0 = block * kBlock, rows = std::min<Index>(kBlock, batch - r0);
            Matrix<T> z(rows, gates);
            for (Index t = 0; t < steps_; ++t) {
                auto h_prev = previous_hidden_.block(r0, t * units_, rows, units_);
                if (t == 0) h_prev.setZero();
                z = projection_.block(r0, t * gates, rows, gates);
                if (t > 0) z.noalias() += h_prev * recurrent_;
                z.rowwise() += bias_.row(0);
                auto a = activations_.block(r0, t * gates, rows, gates);
                a.leftCols(2 * units_) = sigmoid(z.leftCols(2 * units_));
                a.middleCols(2 * units_, units_) = z.middleCols(2 * units_, units_).array().tanh();
                a.rightCols(units_) = sigmoid(z.rightCols(units_));
                auto c = cells_.block(r0, t * units_, rows, units_);
                if (t == 0)
                    c = a.leftCols(units_).array() * a.middleCols(2 * units_, units_).array();
                else
                    c = a.middleCols(units_, units_).array() * cells_.block(r0, (t - 1) * units_, rows, units_).array() +
                        a.leftCols(units_).array() * a.middleCols(2 * units_, units_).array();
                auto tc = tanh_cells_.block(r0, t * units_, rows, units_);
                tc = c.array().tanh();
                auto h = (t + 1 < steps_) ? previous_hidden_.block(r0, (t + 1) * units_, rows, units_)
                                          : output.block(r0, 0, rows, units_);
                h = a.rightCols(units_).array() * tc.array();
            }
        });
    }

    void backward(const Matrix<T>& input, const Matrix<T>& /*output*/, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        const Index batch = input.rows(), gates = 4 * units_;
        if (grad_output.rows() != batch || grad_output.cols() != units_ || activations_.rows() != batch)
            detail::fail("LSTM::backward: gradient is ", grad_output.rows(), " x ", grad_output.cols(), ", expected ",
                         batch, " x ", units_, " after a forward pass of that batch");
        grad_z_.resize(batch, steps_ * gates);
        parallel_for_each_index(0, block_count(batch), this->threads_, [&](std::int64_t block) {
            const Index r0 = block * kBlock, rows = std::min<Index>(kBlock, batch - r0);
            Matrix<T> dh = grad_output.block(r0, 0, rows, units_);
            Matrix<T> dc = Matrix<T>::Zero(rows, units_);
            for (Index t = steps_ - 1; t >= 0; --t) {
                const auto a = activations_.block(r0, t * gates, rows, gates).array();
                const auto i = a.leftCols(units_), f = a.middleCols(units_, units_);
                const auto g = a.middleCols(2 * units_, units_), o = a.rightCols(units_);
                const auto tc = tanh_cells_.block(r0, t * units_, rows, units_).array();
                auto dz = grad_z_.block(r0, t * gates, rows, gates);
                dz.rightCols(units_) = dh.array() * tc * o * (T(1) - o);
                dc.array() += dh.array() * o * (T(1) - tc.square());
                dz.leftCols(units_) = dc.array() * g * i * (T(1) - i);
                if (t > 0)
                    dz.middleCols(units_, units_) =
                        dc.array() * cells_.block(r0, (t - 1) * units_, rows, units_).array() * f * (T(1) - f);
                else
                    dz.middleCols(units_, units_).setZero();
                dz.middleCols(2 * units_, units_) = dc.array() * i * (T(1) - g.square());
                dc.array() *= f;
                if (t > 0) dh.noalias() = dz * recurrent_.transpose();
            }
        });
        const auto dz_rows = map_rows(grad_z_, gates);
        grad_kernel_.noalias() = map_rows(input, features_).transpose() * dz_rows;
        grad_recurrent_.noalias() = map_rows(previous_hidden_, units_).transpose() * dz_rows;
        grad_bias_ = dz_rows.colwise().sum();
        if (grad_input != nullptr) {
            grad_input->resize(batch, steps_ * features_);
            map_rows(*grad_input, features_).noalias() = dz_rows * kernel_.transpose();
        }
    }

    std::vector<Parameter<T>> parameters() override {
        return {{"kernel", &kernel_, &grad_kernel_},
                {"recurrent_kernel", &recurrent_, &grad_recurrent_},
                {"bias", &bias_, &grad_bias_}};
    }

    void save_config(ByteWriter& out) const override { out.write<std::int64_t>(units_); }

    /// Rebuilds the layer from save_config's bytes (used by the layer factory on load).
    static std::unique_ptr<LSTM> load_config(ByteReader& in) {
        const auto units = in.read<std::int64_t>();
        if (units < 1) detail::fail<format_error>(in.source(), ": LSTM with ", units, " units");
        return std::make_unique<LSTM>(units);
    }

private:
    static constexpr Index kBlock = 32;  // samples per parallel work unit (fixed: thread-count independent)

    using RowMap = Eigen::Map<Matrix<T>>;
    using ConstRowMap = Eigen::Map<const Matrix<T>>;

    /// A row-major B x (S*K) matrix seen as (B*S) x K: one row per (sample, step).
    static RowMap map_rows(Matrix<T>& m, Index k) { return RowMap(m.data(), m.size() / k, k); }
    static ConstRowMap map_rows(const Matrix<T>& m, Index k) { return ConstRowMap(m.data(), m.size() / k, k); }

    static Index block_count(Index batch) { return (batch + kBlock - 1) / kBlock; }

    template <class Derived>
    static auto sigmoid(const Eigen::MatrixBase<Derived>& z) {
        return (T(1) / (T(1) + (-z.array()).exp())).matrix();
    }

    void check_input(const Matrix<T>& input, const char* where) const {
        if (steps_ == 0) detail::fail(where, ": the layer is not built (call build first)");
        if (input.cols() != steps_ * features_)
            detail::fail(where, ": input has ", input.cols(), " values per sample, expected ", steps_, " steps x ",
                         features_, " features = ", steps_ * features_);
    }

    /// Keras's Orthogonal initializer for a rows x cols matrix (gain 1).
    static Matrix<T> orthogonal(Index rows, Index cols, Random& rng) {
        const Index big = std::max(rows, cols), small = std::min(rows, cols);
        Eigen::MatrixXd a(big, small);
        for (Index j = 0; j < small; ++j)
            for (Index i = 0; i < big; ++i) a(i, j) = rng.normal();
        Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
        Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(big, small);
        const Eigen::MatrixXd r = qr.matrixQR().topRows(small).template triangularView<Eigen::Upper>();
        for (Index j = 0; j < small; ++j)
            if (r(j, j) < 0) q.col(j) = -q.col(j);
        Matrix<T> out(rows, cols);
        if (rows >= cols) out = q.cast<T>();
        else out = q.transpose().cast<T>();
        return out;
    }

    Index units_;
    Index steps_ = 0, features_ = 0;
    Matrix<T> kernel_, recurrent_, bias_;
    Matrix<T> grad_kernel_, grad_recurrent_, grad_bias_;
    Matrix<T> projection_, activations_, cells_, tanh_cells_, previous_hidden_, grad_z_;
};

}  // namespace feral::nn
