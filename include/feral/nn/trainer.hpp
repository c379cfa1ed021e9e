// feral/nn/trainer.hpp — the training loop behind Sequential::fit.
//
// FitConfig holds fit's settings (Keras's fit arguments); Trainer runs the loop on any
// model offering Sequential's training interface (forward, backward, parameters,
// optimizer, evaluate, weights, save), so the loop is written once and read in one place:
//
//   for each epoch e:
//     order <- 0..N-1, shuffled with Random(seed).fork(e) when shuffle is on
//     for each batch of batch_size rows of `order` (the last one may be smaller):
//       x <- those rows (augmented with Augmenter(augment, seed) when configured)
//       z <- model.forward(x, training = true)                 (logits)
//       loss, dz <- softmax cross-entropy (class_weight as Keras: sum w_i l_i / batch)
//       model.backward(x, dz);  optimizer.step(parameters)
//     validation loss / accuracy (if any); history; callbacks (may stop or change lr)
//     the backup file, when FitConfig::backup names one (training_backup.hpp)
//
// Resuming: a fit whose FitConfig::backup file exists starts from the epoch after the
// last one it records, with the weights, optimiser, history and callback states it
// holds, and ends as the uninterrupted fit would have; the finished fit removes the file
// (unless keep_backup), and History::restored_epochs says how many epochs it read back.
//
// Validation data: explicit (X_val, y_val), or validation_split = f, which (as Keras)
// holds out the LAST f * N rows before any shuffling. Nothing here depends on the
// thread count: batches, shuffles and augmentation streams are fixed by the seed.
//
// Errors: a non-finite loss or logit stops training with numerical_error naming the
// epoch and batch (and the learning rate): lower the learning rate or check the data.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/nn/adam.hpp"
#include "feral/nn/augment.hpp"
#include "feral/nn/callbacks.hpp"
#include "feral/nn/history.hpp"
#include "feral/nn/progress.hpp"
#include "feral/nn/softmax_cross_entropy.hpp"
#include "feral/nn/training_backup.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

namespace feral::nn {

struct FitConfig {
    int epochs = 1;
    Index batch_size = 32;
    bool shuffle = true;
    std::uint64_t seed = 0;            ///< shuffling and augmentation streams
    double validation_split = 0.0;     ///< in [0, 1): the last fraction of the rows, ignored with explicit validation data
    std::vector<double> class_weight{};  ///< empty, or one non-negative weight per class
    std::optional<AugmentConfig> augment{};
    int verbose = 1;                   ///< 0 silent, 1 live progress line, 2 one line per epoch
    std::ostream* out = nullptr;       ///< progress stream (nullptr = std::cout)
    int n_threads = 0;                 ///< 0 = FERAL_NUM_THREADS or all cores
    /// A file where fit writes its whole state after every epoch; a fit that finds the file
    /// resumes from it (it must be this fit's: training_backup.hpp). Removed when fit
    /// finishes, unless keep_backup. Empty: no backup.
    std::filesystem::path backup{};
    /// Leave the finished fit's backup for the caller to remove once it has stored what it
    /// needed (a random search: after the trial's journal line), so a kill in between loses
    /// nothing; fit given a finished fit's backup restores it and trains no more epochs.
    bool keep_backup = false;
};

/// Loss and accuracy of a model on labelled data.
struct Evaluation {
    double loss = 0;
    double accuracy = 0;
};

template <class T = float>
class Trainer {
public:
    /// Runs fit. X_val/y_val may be empty (then validation_split applies).
    template <class Model>
    static History fit(Model& model, ConstMatrixRef<T> X, ConstLabelsRef y, ConstMatrixRef<T> X_val,
                       ConstLabelsRef y_val, const FitConfig& config, const std::vector<Callback<T>*>& callbacks) {
        constexpr const char* where = "Sequential::fit";
        check_config(config, where);
        model.check_input(X, where);
        model.check_labels(X, y, where);
        const Index classes = model.num_classes();
        if (!config.class_weight.empty() && static_cast<Index>(config.class_weight.size()) != classes)
            detail::fail(where, ": class_weight has ", config.class_weight.size(), " entries, the model has ", classes,
                         " classes");
        for (std::size_t c = 0; c < config.class_weight.size(); ++c)
            if (!(config.class_weight[c] >= 0.0) || !std::isfinite(config.class_weight[c]))
                detail::fail(where, ": class_weight[", c, "] = ", config.class_weight[c], " must be finite and >= 0");

        Index n_train = X.rows();
        bool has_validation = X_val.rows() > 0;
        Matrix<T> split_X;
        Labels split_y;
        if (has_validation) {
            model.check_input(X_val, "Sequential::fit (validation data)");
            model.check_labels(X_val, y_val, "Sequential::fit (validation data)");
        } else if (config.validation_split > 0.0) {
            const auto n_val = static_cast<Index>(static_cast<double>(X.rows()) * config.validation_split);
            if (n_val < 1 || n_val >= X.rows())
                detail::fail(where, ": validation_split ", config.validation_split, " of ", X.rows(),
                             " samples leaves ", n_val, " validation and ", X.rows() - n_val, " training samples");
            n_train = X.rows() - n_val;
            split_X = X.bottomRows(n_val);
            split_y = y.tail(n_val);
            has_validation = true;
        }
        const ConstMatrixRef<T> val_X = X_val.rows() > 0 ? X_val : ConstMatrixRef<T>(split_X);
        const ConstLabelsRef val_y = X_val.rows() > 0 ? y_val : ConstLabelsRef(split_y);

        model.set_threads(config.n_threads);
        if (!model.has_optimizer()) model.compile(std::make_unique<Adam<T>>());
        Optimizer<T>& optimizer = model.optimizer();
        const auto parameters = model.parameters();
        std::optional<Augmenter<T>> augmenter;
        if (config.augment && config.augment->enabled()) augmenter.emplace(*config.augment, config.seed);

        Control<Model> control(model);
        for (auto* c : callbacks) c->on_train_begin(control);

        History history;
        int first_epoch = 0;
        std::optional<TrainingBackup<T>> backup;
        if (!config.backup.empty()) {
            backup.emplace(config.backup,
                           fingerprint(model, config, X.topRows(n_train), y.head(n_train), val_X, val_y, callbacks));
            if (backup->exists()) {
                first_epoch =
                    backup->restore(model, optimizer, parameters, history, callbacks, control.stopped, config.epochs);
                if (config.verbose > 0)
                    (config.out ? *config.out : std::cout)
                        << "resuming from the training backup '" << config.backup.string() << "': " << first_epoch
                        << (first_epoch == 1 ? " epoch" : " epochs") << " done" << std::endl;
            }
        }
        Progress progress(config.verbose, config.out);
        const Index batch_size = config.batch_size;
        const Index batches = (n_train + batch_size - 1) / batch_size;
        std::vector<Index> order(static_cast<std::size_t>(n_train));
        Matrix<T> batch_x, augmented, grad_logits;
        Labels batch_y;
        std::vector<Index> rows;
        const SoftmaxCrossEntropy<T> loss_function;
        const Random base(config.seed);

        for (int epoch = first_epoch; epoch < config.epochs && !control.stopped; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            std::iota(order.begin(), order.end(), Index{0});
            if (config.shuffle) {
                Random rng = base.fork(static_cast<std::uint64_t>(epoch));
                rng.shuffle(order.begin(), order.end());
            }
            progress.begin_epoch(epoch, config.epochs, batches);
            double loss_sum = 0;
            Index correct = 0, seen = 0;
            for (Index b = 0; b < batches; ++b) {
                const Index first = b * batch_size, count = std::min(batch_size, n_train - first);
                rows.assign(order.begin() + first, order.begin() + first + count);
                batch_x.resize(count, X.cols());
                batch_y.resize(count);
                for (Index i = 0; i < count; ++i) {
                    const Index r = rows[static_cast<std::size_t>(i)];
                    std::memcpy(batch_x.row(i).data(), X.row(r).data(), static_cast<std::size_t>(X.cols()) * sizeof(T));
                    batch_y[i] = y[r];
                }
                const Matrix<T>* input = &batch_x;
                if (augmenter) {
                    augmenter->apply(batch_x, model.input_shape(), epoch, rows, augmented, config.n_threads);
                    input = &augmented;
                }
                const Matrix<T>& logits = model.forward(*input, true);
                if (!logits.allFinite())
                    diverged(epoch, b, batches, optimizer.learning_rate(), "a logit is not finite");
                const double loss = loss_function.loss(logits, batch_y, &grad_logits, config.class_weight);
                if (!std::isfinite(loss)) diverged(epoch, b, batches, optimizer.learning_rate(), "the loss is not finite");
                loss_sum += loss * static_cast<double>(count);
                correct += SoftmaxCrossEntropy<T>::count_correct(logits, batch_y);
                seen += count;
                model.backward(*input, grad_logits);
                optimizer.step(parameters);
                progress.update(b + 1, seen, loss_sum / static_cast<double>(seen),
                                static_cast<double>(correct) / static_cast<double>(seen));
            }
            const double train_seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            EpochLogs logs;
            logs.epoch = epoch;
            logs.loss = loss_sum / static_cast<double>(seen);
            logs.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
            logs.learning_rate = optimizer.learning_rate();
            logs.images_per_second = static_cast<double>(seen) / std::max(train_seconds, 1e-9);
            if (has_validation) {
                const Evaluation v = model.evaluate(val_X, val_y);
                logs.val_loss = v.loss;
                logs.val_accuracy = v.accuracy;
                logs.has_validation = true;
            }
            logs.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            history.append(logs);
            progress.end_epoch(logs);
            for (auto* c : callbacks) c->on_epoch_end(logs, control);
            if (control.stopped) history.stopped_epoch = epoch;
            if (backup) backup->save(model, optimizer, history, callbacks, control.stopped, epoch + 1);
        }
        for (auto* c : callbacks) c->on_train_end(control);
        if (backup && !config.keep_backup) backup->remove();
        return history;
    }

private:
    template <class Model>
    struct Control final : TrainingControl<T> {
        explicit Control(Model& m) : model(m) {}
        std::vector<Matrix<T>> weights() const override { return model.weights(); }
        void set_weights(const std::vector<Matrix<T>>& w) override { model.set_weights(w); }
        void save_model(const std::filesystem::path& path) override { model.save(path, Overwrite::yes); }
        double learning_rate() const override { return model.optimizer().learning_rate(); }
        void set_learning_rate(double lr) override { model.optimizer().set_learning_rate(lr); }
        void stop_training() override { stopped = true; }
        Model& model;
        bool stopped = false;
    };

    /// What a backup must match to be this fit's (training_backup.hpp): the model, the
    /// settings that change the result, and the data (training part, validation data).
    template <class Model>
    static typename TrainingBackup<T>::Fingerprint fingerprint(Model& model, const FitConfig& config,
                                                               ConstMatrixRef<T> X, ConstLabelsRef y,
                                                               ConstMatrixRef<T> X_val, ConstLabelsRef y_val,
                                                               const std::vector<Callback<T>*>& callbacks) {
        auto number = [](double v) {
            std::ostringstream text;
            text << std::setprecision(17) << v;
            return text.str();
        };
        auto data = [](ConstMatrixRef<T> A, ConstLabelsRef b) {
            return std::to_string(A.rows()) + " x " + std::to_string(A.cols()) + ", checksum " + data_checksum<T>(A, b);
        };
        std::string weights = "none";
        if (!config.class_weight.empty()) {
            weights.clear();
            for (double w : config.class_weight) weights += (weights.empty() ? "" : " ") + number(w);
        }
        // The callbacks' kinds, in order (their states are saved in that order), and their
        // settings: the kinds are the compiler's type names, so a backup is this build's to resume.
        std::string kinds = std::to_string(callbacks.size());
        for (const auto* c : callbacks) {
            kinds += std::string(" ") + typeid(*c).name();
            if (const std::string s = c->settings(); !s.empty()) kinds += "(" + s + ")";
        }
        std::string augment = "none";
        if (config.augment && config.augment->enabled()) {
            const AugmentConfig& a = *config.augment;
            augment = "rotation " + number(a.rotation_range) + ", shifts " + number(a.width_shift_range) + " " +
                      number(a.height_shift_range) + ", zoom " + number(a.zoom_range) + ", shear " +
                      number(a.shear_range) + ", flip " + (a.horizontal_flip ? "on" : "off") + ", fill " +
                      std::to_string(static_cast<int>(a.fill_mode)) + " " + number(a.cval);
        }
        return {{"model", model.summary()},
                {"number type", scalar_name<T>()},
                {"optimiser", model.optimizer().settings()},
                {"batch size", std::to_string(config.batch_size)},
                {"shuffle", config.shuffle ? "on" : "off"},
                {"seed", std::to_string(config.seed)},
                {"class weights", weights},
                {"augmentation", augment},
                {"callback list", kinds},
                {"training data", data(X, y)},
                {"validation data", X_val.rows() > 0 ? data(X_val, y_val) : std::string("none")}};
    }

    static void check_config(const FitConfig& config, const char* where) {
        if (config.epochs < 0) detail::fail(where, ": epochs must be >= 0, got ", config.epochs);
        if (config.batch_size < 1) detail::fail(where, ": batch_size must be >= 1, got ", config.batch_size);
        if (!(config.validation_split >= 0.0 && config.validation_split < 1.0))
            detail::fail(where, ": validation_split must be in [0, 1), got ", config.validation_split);
        if (config.verbose < 0 || config.verbose > 2) detail::fail(where, ": verbose must be 0, 1 or 2, got ", config.verbose);
        if (config.n_threads < 0) detail::fail(where, ": n_threads must be >= 0, got ", config.n_threads);
    }

    [[noreturn]] static void diverged(int epoch, Index batch, Index batches, double lr, const char* what) {
        detail::fail<numerical_error>("Sequential::fit: training diverged at epoch ", epoch + 1, ", batch ", batch + 1,
                                      " of ", batches, ": ", what, " (learning rate ", lr,
                                      "); lower the learning rate or check the input scaling");
    }
};

}  // namespace feral::nn
