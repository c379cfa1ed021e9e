// feral/nn/sequential.hpp — a stack of layers trained end to end (Keras's Sequential).
//
// Sequential<T> owns its layers (built at run time from small objects: no network-as-
// one-type templates), the optimiser, and the class count (the last layer's output
// size; the last layer outputs logits, predict_proba applies the softmax).
//
// Example:
//   using namespace feral::nn;
//   Sequential<> model;
//   model.add<Conv2D>({.filters = 32, .kernel_size = 3, .activation = Activation::relu})
//        .add<MaxPool2D>({.pool_size = 2})
//        .add<Flatten>()
//        .add<Dense>({.units = 7});
//   model.build({1, 48, 48}, /*seed*/ 1);
//   std::cout << model.summary();
//   model.compile(std::make_unique<Adam<>>(Adam<>::Config{.learning_rate = 1e-3}));
//   History h = model.fit(X, y, {.epochs = 10, .batch_size = 32, .validation_split = 0.1});
//   Labels predicted = model.predict(X_test);
//   model.save("model.feral");
//   auto again = Sequential<>::load("model.feral");
//
// Input: a Matrix<T> with one image per row in CHW order (N x C*H*W), labels 0..K-1
// where K is the last layer's output size; or a feral::Dataset (pixels scaled by 1/255).
//
// Determinism: build(shape, seed) initialises layer i from Random(seed).fork(i) and
// seeds its own randomness (dropout) from Random(seed).fork(1000 + i); fit shuffles and
// augments from FitConfig::seed. Two runs with the same seeds give bit-identical weights.
//
// Threads: layers parallelise inside forward/backward (FitConfig::n_threads, or
// set_threads); predict runs batches one after another through those parallel layers.
// A Sequential is not safe to use from several threads at once (layers keep workspaces).
//
// Saved file ("Sequential<float>", payload version 1): input shape, build seed, then per
// layer its type, configuration bytes, parameters (name + matrix) and state matrices
// (batch-norm running statistics), then the class names (may be empty).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/transforms.hpp"
#include "feral/nn/callbacks.hpp"
#include "feral/nn/history.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/layer_factory.hpp"
#include "feral/nn/optimizer.hpp"
#include "feral/nn/trainer.hpp"

#include <array>
#include <cstring>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace feral::nn {

template <class T = float>
class Sequential {
public:
    Sequential() = default;
    Sequential(Sequential&&) noexcept = default;
    Sequential& operator=(Sequential&&) noexcept = default;

    // ---- structure -----------------------------------------------------------

    /// Appends a layer. Throws invalid_argument once the model is built, or for nullptr.
    Sequential& add(LayerPtr<T> layer) {
        if (!layer) detail::fail("Sequential::add: null layer");
        if (built_)
            detail::fail("Sequential::add: the model is already built; add ", layer->type(), " before build()");
        layers_.push_back(std::move(layer));
        return *this;
    }

    /// add<Dense>({.units = 7}): constructs Layer<T> from its Config.
    template <template <class> class L>
    Sequential& add(typename L<T>::Config config) {
        return add(std::make_unique<L<T>>(std::move(config)));
    }

    /// add<LSTM>(128), add<Flatten>(): constructs L<T> from the arguments.
    template <template <class> class L, class... Args>
    Sequential& add(Args&&... args) {
        return add(std::make_unique<L<T>>(std::forward<Args>(args)...));
    }

    /// Builds every layer for samples of shape `input`; returns the output shape.
    /// Throws invalid_argument if there are no layers, a layer rejects its input
    /// shape (the message names the layer), or the output is not a vector of >= 2 classes.
    Shape build(const Shape& input, std::uint64_t seed = 0) {
        if (layers_.empty()) detail::fail("Sequential::build: the model has no layers");
        if (input.channels < 1 || input.height < 1 || input.width < 1)
            detail::fail("Sequential::build: invalid input shape ", to_string(input));
        const Random base(seed);
        Shape shape = input;
        shapes_.clear();
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            Random rng = base.fork(i);
            try {
                shape = layers_[i]->build(shape, rng);
            } catch (const error& e) {
                detail::fail("Sequential::build: layer ", i, " (", layers_[i]->type(), ") cannot take input ",
                             to_string(shape), ": ", e.what());
            }
            layers_[i]->set_seed(base.fork(1000 + i).next());
            shapes_.push_back(shape);
        }
        if (shape.height != 1 || shape.width != 1 || shape.channels < 2)
            detail::fail("Sequential::build: the last layer must output a vector of class scores (>= 2 classes), got ",
                         to_string(shape), " (add Flatten and Dense(classes))");
        input_shape_ = input;
        seed_ = seed;
        built_ = true;
        activations_.assign(layers_.size(), Matrix<T>());
        activation_rows_ = -1;
        if (optimizer_) optimizer_->reset();
        return shape;
    }

    [[nodiscard]] bool is_built() const { return built_; }
    [[nodiscard]] const Shape& input_shape() const { return input_shape_; }
    [[nodiscard]] Shape output_shape() const { return shapes_.empty() ? Shape{} : shapes_.back(); }
    [[nodiscard]] Index num_classes() const { return output_shape().size(); }
    [[nodiscard]] std::size_t size() const { return layers_.size(); }
    [[nodiscard]] Layer<T>& layer(std::size_t i) { return *layers_.at(i); }
    [[nodiscard]] const Layer<T>& layer(std::size_t i) const { return *layers_.at(i); }
    [[nodiscard]] std::uint64_t seed() const { return seed_; }

    /// Class names carried with the model (set by fit on a Dataset, saved with it).
    [[nodiscard]] const std::vector<std::string>& class_names() const { return class_names_; }
    void set_class_names(std::vector<std::string> names) { class_names_ = std::move(names); }

    /// Total trainable scalars.
    [[nodiscard]] Index parameter_count() const {
        Index n = 0;
        for (const auto& l : layers_) n += l->parameter_count();
        return n;
    }

    /// Keras-style table: layer, output shape, parameter count, then totals.
    [[nodiscard]] std::string summary() const {
        std::ostringstream out;
        const std::string rule(78, '_'), thick(78, '=');
        out << "Model: \"sequential\"\n" << rule << '\n';
        out << std::left << std::setw(34) << " Layer (type)" << std::setw(28) << "Output Shape" << "Param #\n" << thick << '\n';
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            std::string name(" ");
            name += layers_[i]->type();
            const std::string d = layers_[i]->describe();
            if (!d.empty()) name.append(" (").append(d).append(")");
            if (name.size() > 33) name = name.substr(0, 30).append("...");
            std::string shape("(unbuilt)");
            if (built_) shape = std::string("(None, ").append(shape_text(shapes_[i])).append(")");
            out << std::setw(34) << name << std::setw(28) << shape << layers_[i]->parameter_count() << '\n';
            out << (i + 1 < layers_.size() ? rule : thick) << '\n';
        }
        const Index total = parameter_count();
        out << "Total params: " << total << " (" << format_bytes(total * static_cast<Index>(sizeof(T))) << ")\n";
        out << "Trainable params: " << total << "\nNon-trainable params: " << state_count() << '\n' << rule << '\n';
        return out.str();
    }

    // ---- optimiser and threads ---------------------------------------------------

    /// Sets the optimiser used by fit (default: Adam with its defaults).
    Sequential& compile(OptimizerPtr<T> optimizer) {
        if (!optimizer) detail::fail("Sequential::compile: null optimizer");
        optimizer_ = std::move(optimizer);
        return *this;
    }
    [[nodiscard]] bool has_optimizer() const { return optimizer_ != nullptr; }
    [[nodiscard]] Optimizer<T>& optimizer() {
        if (!optimizer_) detail::fail("Sequential::optimizer: no optimizer set (call compile)");
        return *optimizer_;
    }

    void set_threads(int threads) {
        if (threads < 0) detail::fail("Sequential::set_threads: thread count must be >= 0, got ", threads);
        threads_ = threads;
        for (auto& l : layers_) l->set_threads(threads);
    }

    // ---- training -----------------------------------------------------------------

    /// Trains on X (N x C*H*W) and y (0..K-1); see trainer.hpp for the loop. Returns the history.
    History fit(ConstMatrixRef<T> X, ConstLabelsRef y, const FitConfig& config = {},
                const std::vector<Callback<T>*>& callbacks = {}) {
        return Trainer<T>::fit(*this, X, y, Matrix<T>(), Labels(), config, callbacks);
    }

    /// Trains with explicit validation data.
    History fit(ConstMatrixRef<T> X, ConstLabelsRef y, ConstMatrixRef<T> X_val, ConstLabelsRef y_val,
                const FitConfig& config, const std::vector<Callback<T>*>& callbacks = {}) {
        if (X_val.rows() == 0) detail::fail("Sequential::fit: the validation data is empty");
        return Trainer<T>::fit(*this, X, y, X_val, y_val, config, callbacks);
    }

    /// Trains on a Dataset (pixels / 255); builds the model for data.shape with
    /// FitConfig::seed when it is not built yet, and keeps the class names.
    History fit(const Dataset& train, const FitConfig& config = {}, const std::vector<Callback<T>*>& callbacks = {}) {
        prepare_for(train, config.seed);
        return fit(to_input(train), train.labels, config, callbacks);
    }

    History fit(const Dataset& train, const Dataset& validation, const FitConfig& config,
                const std::vector<Callback<T>*>& callbacks = {}) {
        prepare_for(train, config.seed);
        validation.validate("Sequential::fit (validation data)");
        return fit(to_input(train), train.labels, to_input(validation), validation.labels, config, callbacks);
    }

    /// Logits of a batch (kept until the next forward). `training` enables dropout and batch statistics.
    const Matrix<T>& forward(const Matrix<T>& x, bool training) {
        if (x.rows() != activation_rows_) size_activations(x.rows());
        const Matrix<T>* in = &x;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            layers_[i]->forward(*in, activations_[i], training);
            in = &activations_[i];
        }
        return *in;
    }

    /// Back-propagates dL/dlogits of the last forward(x, true); fills every parameter gradient.
    void backward(const Matrix<T>& x, const Matrix<T>& grad_logits) {
        const Matrix<T>* grad = &grad_logits;
        if (x.rows() != gradient_batch_) {  // a new batch size (the last, partial batch): new sizes
            gradient_buffers_.clear();
            gradient_batch_ = x.rows();
        }
        for (std::size_t k = layers_.size(); k-- > 0;) {
            const Matrix<T>& in = k == 0 ? x : activations_[k - 1];
            Matrix<T>* grad_in = k == 0 ? nullptr : gradient_buffer(activations_[k - 1].size(), grad);
            layers_[k]->backward(in, activations_[k], *grad, grad_in);
            grad = grad_in;
        }
    }

    /// Every trainable tensor, layer by layer (the optimiser's view).
    std::vector<Parameter<T>> parameters() {
        std::vector<Parameter<T>> all;
        for (auto& l : layers_)
            for (auto& p : l->parameters()) all.push_back(p);
        return all;
    }

    /// Copies of every parameter then state tensor, layer by layer.
    [[nodiscard]] std::vector<Matrix<T>> weights() const {
        std::vector<Matrix<T>> w;
        for (auto& l : layers_) {
            for (auto& p : l->parameters()) w.push_back(*p.value);
            for (auto* s : l->state()) w.push_back(*s);
        }
        return w;
    }

    /// Why `w` cannot be weights() output of this model (the first tensor, or the count,
    /// that does not fit), or an empty string if it can.
    [[nodiscard]] std::string weights_mismatch(const std::vector<Matrix<T>>& w) const {
        std::size_t k = 0;
        std::ostringstream why;
        auto fits = [&](std::size_t layer, const std::string& name, const Matrix<T>& target) {
            if (k >= w.size())
                why << w.size() << " tensors given, layer " << layer << " (" << layers_[layer]->type()
                    << ") needs more";
            else if (w[k].rows() != target.rows() || w[k].cols() != target.cols())
                why << "layer " << layer << " (" << layers_[layer]->type() << ") " << name << " is " << target.rows()
                    << " x " << target.cols() << ", got " << w[k].rows() << " x " << w[k].cols();
            else {
                ++k;
                return true;
            }
            return false;
        };
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            for (auto& p : layers_[i]->parameters())
                if (!fits(i, p.name, *p.value)) return why.str();
            for (auto* s : layers_[i]->state())
                if (!fits(i, "state", *s)) return why.str();
        }
        if (k != w.size()) return std::to_string(w.size()) + " tensors given, the model has " + std::to_string(k);
        return {};
    }

    /// Restores weights() output. Throws invalid_argument naming the first tensor that does
    /// not fit, and then changes nothing.
    void set_weights(const std::vector<Matrix<T>>& w) {
        if (const std::string why = weights_mismatch(w); !why.empty()) detail::fail("Sequential::set_weights: ", why);
        std::size_t k = 0;
        for (auto& l : layers_) {
            for (auto& p : l->parameters()) *p.value = w[k++];
            for (auto* s : l->state()) *s = w[k++];
        }
    }

    // ---- inference ----------------------------------------------------------------

    /// Class probabilities (softmax of the logits), one row per sample, in batches.
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X, Index batch_size = 256) const {
        check_input(X, "Sequential::predict_proba");
        Matrix<T> out(X.rows(), num_classes());
        for_each_batch(X, batch_size, [&](Index first, const Matrix<T>& logits) {
            for (Index i = 0; i < logits.rows(); ++i) {
                const auto z = logits.row(i).template cast<double>();
                const double top = z.maxCoeff();
                const auto e = (z.array() - top).exp();
                out.row(first + i) = (e / e.sum()).template cast<T>();
            }
        });
        return out;
    }

    /// Predicted class index (0..K-1) per sample.
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X, Index batch_size = 256) const {
        check_input(X, "Sequential::predict");
        Labels out(X.rows());
        for_each_batch(X, batch_size, [&](Index first, const Matrix<T>& logits) {
            for (Index i = 0; i < logits.rows(); ++i) {
                Index best = 0;
                logits.row(i).maxCoeff(&best);
                out[first + i] = static_cast<int>(best);
            }
        });
        return out;
    }

    /// Mean cross-entropy (unweighted) and accuracy in [0, 1].
    [[nodiscard]] Evaluation evaluate(ConstMatrixRef<T> X, ConstLabelsRef y, Index batch_size = 256) const {
        check_input(X, "Sequential::evaluate");
        check_labels(X, y, "Sequential::evaluate");
        const SoftmaxCrossEntropy<T> loss;
        double total = 0;
        Index correct = 0;
        for_each_batch(X, batch_size, [&](Index first, const Matrix<T>& logits) {
            const Labels part = y.segment(first, logits.rows());
            if (!logits.allFinite())
                detail::fail<numerical_error>("Sequential::evaluate: non-finite logits for rows ", first, "..",
                                              first + logits.rows() - 1, " (the model has diverged)");
            total += loss.loss(logits, part) * static_cast<double>(logits.rows());
            correct += SoftmaxCrossEntropy<T>::count_correct(logits, part);
        });
        return {total / static_cast<double>(X.rows()), static_cast<double>(correct) / static_cast<double>(X.rows())};
    }

    [[nodiscard]] Labels predict(const Dataset& data) const { return predict(to_input(data)); }
    [[nodiscard]] Matrix<T> predict_proba(const Dataset& data) const { return predict_proba(to_input(data)); }
    [[nodiscard]] Evaluation evaluate(const Dataset& data) const { return evaluate(to_input(data), data.labels); }

    /// The model's input matrix for a Dataset: pixels scaled to [0, 1] by 1/255 (to_float).
    [[nodiscard]] static Matrix<T> to_input(const Dataset& data) { return to_float<T>(data.pixels, PixelScale::unit); }

    // ---- checks shared with the trainer ---------------------------------------------

    void check_input(const ConstMatrixRef<T>& X, const char* where) const {
        if (!built_) detail::fail<not_fitted>(where, ": the model is not built (call build(shape, seed) first)");
        check_not_empty(X, where);
        if (X.cols() != input_shape_.size())
            detail::fail(where, ": X has ", X.cols(), " values per sample, but the model's input shape ",
                         to_string(input_shape_), " needs ", input_shape_.size());
        check_finite(X, where);
    }

    void check_labels(const ConstMatrixRef<T>& X, const ConstLabelsRef& y, const char* where) const {
        if (X.rows() != y.size()) detail::fail(where, ": X has ", X.rows(), " samples but y has ", y.size(), " labels");
        for (Index i = 0; i < y.size(); ++i)
            if (y[i] < 0 || y[i] >= num_classes())
                detail::fail(where, ": label ", y[i], " at row ", i, " is outside 0..", num_classes() - 1,
                             " (the last layer has ", num_classes(), " outputs)");
    }

    // ---- persistence ------------------------------------------------------------------

    [[nodiscard]] static std::string type_tag() { return std::string("Sequential<") + scalar_name<T>() + ">"; }

    /// Saves architecture (layer configurations), weights and batch-norm state.
    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        if (!built_) detail::fail<not_fitted>("Sequential::save: the model is not built");
        ByteWriter w;
        w.write<std::int64_t>(input_shape_.channels);
        w.write<std::int64_t>(input_shape_.height);
        w.write<std::int64_t>(input_shape_.width);
        w.write<std::uint64_t>(seed_);
        w.write<std::uint64_t>(layers_.size());
        for (const auto& l : layers_) {
            w.write_string(l->type());
            ByteWriter config;
            l->save_config(config);
            w.write_vector(config.bytes());
            const auto params = l->parameters();
            w.write<std::uint64_t>(params.size());
            for (const auto& p : params) {
                w.write_string(p.name);
                w.write_matrix(*p.value);
            }
            const auto state = l->state();
            w.write<std::uint64_t>(state.size());
            for (const auto* s : state) w.write_matrix(*s);
        }
        w.write_strings(class_names_);
        write_container(path, type_tag(), kPayloadVersion, w.bytes(), overwrite);
    }

    /// Rebuilds a saved model (layers through LayerFactory, then its weights).
    static Sequential load(const std::filesystem::path& path) {
        const Container c = read_container(path, type_tag());
        check_version(c, path);
        ByteReader r = c.reader();
        Sequential model;
        const Shape input = read_shape(r);
        const auto seed = r.read<std::uint64_t>();
        const auto n = r.read<std::uint64_t>();
        if (n == 0 || n > 100000) detail::fail<format_error>(path.string(), ": corrupt layer count ", n);
        std::vector<SavedLayer> saved;
        for (std::uint64_t i = 0; i < n; ++i) {
            saved.push_back(read_layer(r));
            const auto& bytes = saved.back().config;
            ByteReader config(bytes.data(), bytes.size(), path.string() + " (layer " + std::to_string(i) + " config)");
            model.add(LayerFactory<T>::make(saved.back().type, config));
            config.expect_end();
        }
        model.class_names_ = r.read_strings();
        r.expect_end();
        model.build(input, seed);
        model.assign_saved(saved, path, "Sequential::load");
        return model;
    }

    /// Loads the weights of a saved model into this built model, which must have the
    /// same architecture. Throws invalid_argument naming the first layer whose type or
    /// tensor shapes differ, and then changes nothing.
    void load_weights(const std::filesystem::path& path) {
        if (!built_) detail::fail<not_fitted>("Sequential::load_weights: build the model before loading weights");
        const Container c = read_container(path, type_tag());
        check_version(c, path);
        ByteReader r = c.reader();
        (void)read_shape(r);
        (void)r.read<std::uint64_t>();
        const auto n = r.read<std::uint64_t>();
        if (n != layers_.size())
            detail::fail("Sequential::load_weights: '", path.string(), "' holds ", n, " layers, this model has ",
                         layers_.size());
        std::vector<SavedLayer> saved;
        for (std::uint64_t i = 0; i < n; ++i) saved.push_back(read_layer(r));
        (void)r.read_strings();
        r.expect_end();
        assign_saved(saved, path, "Sequential::load_weights");
    }

private:
    static constexpr std::uint32_t kPayloadVersion = 1;

    struct SavedLayer {
        std::string type;
        std::vector<unsigned char> config;
        std::vector<std::pair<std::string, Matrix<T>>> parameters;
        std::vector<Matrix<T>> state;
    };

    static void check_version(const Container& c, const std::filesystem::path& path) {
        if (c.payload_version() != kPayloadVersion)
            detail::fail<format_error>(path.string(), ": Sequential payload version ", c.payload_version(),
                                       ", this feral reads version ", kPayloadVersion);
    }

    static Shape read_shape(ByteReader& r) {
        Shape s;
        s.channels = r.read<std::int64_t>();
        s.height = r.read<std::int64_t>();
        s.width = r.read<std::int64_t>();
        if (s.channels < 1 || s.height < 1 || s.width < 1)
            detail::fail<format_error>(r.source(), ": corrupt input shape ", to_string(s));
        return s;
    }

    static SavedLayer read_layer(ByteReader& r) {
        SavedLayer l;
        l.type = r.read_string();
        l.config = r.read_vector<unsigned char>();
        const auto n_params = r.read<std::uint64_t>();
        if (n_params > 1000) detail::fail<format_error>(r.source(), ": corrupt parameter count ", n_params);
        for (std::uint64_t k = 0; k < n_params; ++k) {
            std::string name = r.read_string();
            l.parameters.emplace_back(std::move(name), r.read_matrix<Matrix<T>>());
        }
        l.state = r.read_matrices<Matrix<T>>();
        return l;
    }

    /// Sets every layer's tensors from `saved` once all of them fit: a file whose last
    /// layer differs changes nothing (invalid_argument naming the first that differs).
    void assign_saved(const std::vector<SavedLayer>& saved, const std::filesystem::path& path, const char* where) {
        for (std::size_t i = 0; i < layers_.size(); ++i) check_saved(i, saved[i], path, where);
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            auto params = layers_[i]->parameters();
            auto state = layers_[i]->state();
            for (std::size_t k = 0; k < params.size(); ++k) *params[k].value = saved[i].parameters[k].second;
            for (std::size_t k = 0; k < state.size(); ++k) *state[k] = saved[i].state[k];
        }
    }

    void check_saved(std::size_t i, const SavedLayer& s, const std::filesystem::path& path, const char* where) {
        Layer<T>& l = *layers_[i];
        if (s.type != l.type())
            detail::fail(where, ": layer ", i, " is ", l.type(), " in this model but ", s.type, " in '", path.string(),
                         "'");
        auto params = l.parameters();
        auto state = l.state();
        if (params.size() != s.parameters.size() || state.size() != s.state.size())
            detail::fail(where, ": layer ", i, " (", l.type(), ") has ", params.size(), " parameters and ", state.size(),
                         " state tensors, '", path.string(), "' has ", s.parameters.size(), " and ", s.state.size());
        for (std::size_t k = 0; k < params.size(); ++k) {
            const Matrix<T>& m = s.parameters[k].second;
            if (m.rows() != params[k].value->rows() || m.cols() != params[k].value->cols())
                detail::fail(where, ": layer ", i, " (", l.type(), ") ", params[k].name, " is ", params[k].value->rows(),
                             " x ", params[k].value->cols(), " in this model but ", m.rows(), " x ", m.cols(), " in '",
                             path.string(), "'");
        }
        for (std::size_t k = 0; k < state.size(); ++k)
            if (s.state[k].rows() != state[k]->rows() || s.state[k].cols() != state[k]->cols())
                detail::fail(where, ": layer ", i, " (", l.type(), ") state ", k, " is ", state[k]->rows(), " x ",
                             state[k]->cols(), " in this model but ", s.state[k].rows(), " x ", s.state[k].cols(), " in '",
                             path.string(), "'");
    }

    void prepare_for(const Dataset& data, std::uint64_t seed) {
        data.validate("Sequential::fit");
        if (!built_) build(data.shape, seed);
        else if (!(data.shape == input_shape_))
            detail::fail("Sequential::fit: the data set's images are ", to_string(data.shape),
                         ", the model was built for ", to_string(input_shape_));
        if (data.num_classes() > num_classes())
            detail::fail("Sequential::fit: the data set has ", data.num_classes(), " classes, the model outputs ",
                         num_classes());
        class_names_ = data.class_names;
    }

    /// Runs the model (inference mode) over X in batches; body(first_row, logits).
    template <class Body>
    void for_each_batch(const ConstMatrixRef<T>& X, Index batch_size, Body&& body) const {
        if (batch_size < 1) detail::fail("Sequential: batch_size must be >= 1, got ", batch_size);
        auto& self = const_cast<Sequential&>(*this);  // layers keep workspaces; weights are not changed
        Matrix<T> batch;
        for (Index first = 0; first < X.rows(); first += batch_size) {
            const Index count = std::min(batch_size, X.rows() - first);
            batch = X.middleRows(first, count);
            body(first, self.forward(batch, false));
        }
    }

    [[nodiscard]] Index state_count() const {
        Index n = 0;
        for (const auto& l : layers_)
            for (const auto* s : l->state()) n += s->size();
        return n;
    }

    static std::string shape_text(const Shape& s) {
        if (s.height == 1 && s.width == 1) return std::to_string(s.channels);
        return std::to_string(s.channels) + ", " + std::to_string(s.height) + ", " + std::to_string(s.width);
    }

    static std::string format_bytes(Index bytes) {
        std::ostringstream out;
        out << std::fixed << std::setprecision(2);
        if (bytes >= 1024 * 1024) out << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MB";
        else out << static_cast<double>(bytes) / 1024.0 << " KB";
        return out.str();
    }

    std::vector<LayerPtr<T>> layers_;
    std::vector<Shape> shapes_;
    Shape input_shape_{};
    std::uint64_t seed_ = 0;
    bool built_ = false;
    int threads_ = 0;
    OptimizerPtr<T> optimizer_;
    std::vector<std::string> class_names_;
    std::vector<Matrix<T>> activations_;
    Index activation_rows_ = -1;                                   // the batch size they hold
    std::map<Index, std::array<Matrix<T>, 2>> gradient_buffers_;  // see gradient_buffer
    Index gradient_batch_ = -1;                                    // the batch size they hold

    /// Sizes every layer's output for a batch of `rows` before the layers write them (their
    /// own resize then keeps the memory), asking for 2 MB pages (core/huge_pages.hpp). Each
    /// change of batch size (training's last, partial batch; evaluation's batches of 256)
    /// reallocates every activation, and a fresh allocation is otherwise written one 4 KB
    /// page fault at a time: 300,000 faults in two epochs of `mid` on 2,800 images.
    void size_activations(Index rows) {
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            activations_[i].resize(rows, shapes_[i].size());
            advise_huge_pages(activations_[i]);
        }
        activation_rows_ = rows;
    }

    /// A buffer for the gradient of an activation of `size` values, other than `busy` (the
    /// gradient the layer reads). Two are kept per size (a layer's input and output can
    /// have the same size), so every training step reuses the same memory: one buffer
    /// resized layer by layer would be reallocated at every layer, and a fresh allocation
    /// of tens of MB costs a page fault per 4 KB written (a `mid` training epoch ran 18%
    /// slower so). The price is memory: twice the sum of the distinct activation sizes
    /// instead of twice the largest (study 3's network at batch 256: 200 MB instead of
    /// 150). They are dropped when the batch size changes.
    Matrix<T>* gradient_buffer(Index size, const Matrix<T>* busy) {
        auto [entry, fresh] = gradient_buffers_.try_emplace(size);
        auto& pair = entry->second;
        if (fresh)  // allocated here, whole, so the layer's resize keeps it (see size_activations)
            for (auto& buffer : pair) {
                buffer.resize(size, 1);
                advise_huge_pages(buffer);
            }
        return &pair[0] == busy ? &pair[1] : &pair[0];
    }
};

}  // namespace feral::nn
