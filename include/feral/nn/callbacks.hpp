// feral/nn/callbacks.hpp — hooks called by Sequential::fit between epochs (Keras's callbacks).
//
//   EarlyStopping      stops when `monitor` has not improved by more than min_delta for
//                      `patience` epochs; optionally restores the best epoch's weights.
//   ReduceLROnPlateau  multiplies the learning rate by `factor` when `monitor` has not
//                      improved by more than min_delta for `patience` epochs (not below min_lr).
//   ModelCheckpoint    saves the model to `path` after each epoch, or only when `monitor`
//                      improved (save_best_only).
// "Improved" means lower for losses and higher for accuracies (Keras's mode "auto").
// A callback sees the model through TrainingControl (weights, learning rate, saving,
// stopping), so this header does not depend on Sequential. A callback that keeps state
// between epochs writes it in save_state and reads it in load_state, so that a training
// resumed from a backup (FitConfig::backup) carries on as an uninterrupted one would; the
// three here do.
//
// Example:
//   feral::nn::EarlyStopping<> stop({.monitor = "val_loss", .patience = 5, .restore_best_weights = true});
//   feral::nn::ReduceLROnPlateau<> plateau({.factor = 0.5, .patience = 2});
//   model.fit(X, y, {.epochs = 50, .validation_split = 0.1}, {&stop, &plateau});
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"
#include "feral/nn/history.hpp"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace feral::nn {

/// What a callback may do to the model being trained.
template <class T = float>
class TrainingControl {
public:
    virtual ~TrainingControl() = default;
    [[nodiscard]] virtual std::vector<Matrix<T>> weights() const = 0;    ///< parameters then state, layer by layer
    virtual void set_weights(const std::vector<Matrix<T>>& weights) = 0;
    virtual void save_model(const std::filesystem::path& path) = 0;       ///< replaces an existing file
    [[nodiscard]] virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double lr) = 0;
    virtual void stop_training() = 0;
};

template <class T = float>
class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(TrainingControl<T>& /*model*/) {}
    virtual void on_epoch_end(const EpochLogs& /*logs*/, TrainingControl<T>& /*model*/) {}
    virtual void on_train_end(TrainingControl<T>& /*model*/) {}
    /// The state kept between epochs, for a training backup (after on_epoch_end).
    virtual void save_state(ByteWriter& /*out*/) const {}
    /// Reads save_state's bytes back (after on_train_begin); format_error if they do not fit.
    /// It must accept what its own save_state wrote: a restore that fails puts every
    /// callback's state from before back that way.
    virtual void load_state(ByteReader& /*in*/) {}
    /// Every construction setting that changes what it does to a training (patience,
    /// monitor, ...): a training backup records it, and a fit with other settings refuses
    /// the backup. Empty for a callback without settings.
    [[nodiscard]] virtual std::string settings() const { return {}; }
};

namespace callback_detail {
/// Tracks the best value of a monitored quantity (min for losses, max for accuracies).
class MonitorBest {
public:
    void reset(const std::string& monitor) {
        maximise_ = monitor_maximises(monitor);
        best_ = maximise_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    /// Keras's test: improvement by more than min_delta.
    [[nodiscard]] bool improves(double value, double min_delta) const {
        return maximise_ ? value - min_delta > best_ : value + min_delta < best_;
    }
    void set(double value) { best_ = value; }
    [[nodiscard]] double best() const { return best_; }
    void save(ByteWriter& out) const { out.write<double>(best_); }
    void load(ByteReader& in) { best_ = in.read<double>(); }

private:
    bool maximise_ = false;
    double best_ = 0;
};

/// "name=value" pairs joined by ", ", numbers to 17 digits (settings()).
template <class... Pairs>
std::string describe(const Pairs&... pairs) {
    std::ostringstream text;
    text << std::setprecision(17) << std::boolalpha;
    const char* separator = "";
    ((text << separator << pairs.first << "=" << pairs.second, separator = ", "), ...);
    return text.str();
}

inline void check_monitor(const std::string& monitor, const char* where) {
    if (monitor != "loss" && monitor != "accuracy" && monitor != "val_loss" && monitor != "val_accuracy")
        feral::detail::fail(where, ": unknown monitor '", monitor, "' (expected loss, accuracy, val_loss or val_accuracy)");
}
}  // namespace callback_detail

template <class T = float>
class EarlyStopping final : public Callback<T> {
public:
    struct Config {
        std::string monitor = "val_loss";
        double min_delta = 0.0;           ///< smaller changes do not count as improvement
        int patience = 0;                 ///< epochs without improvement before stopping
        bool restore_best_weights = false;///< on stopping, go back to the best epoch's weights (Keras 2.11 rule)
    };

    EarlyStopping() : EarlyStopping(Config{}) {}
    explicit EarlyStopping(Config config) : config_(std::move(config)) {
        callback_detail::check_monitor(config_.monitor, "EarlyStopping");
        if (config_.patience < 0) detail::fail("EarlyStopping: patience must be >= 0, got ", config_.patience);
        if (!(config_.min_delta >= 0)) detail::fail("EarlyStopping: min_delta must be >= 0, got ", config_.min_delta);
    }

    void on_train_begin(TrainingControl<T>&) override {
        best_.reset(config_.monitor);
        wait_ = 0;
        best_epoch_ = stopped_epoch_ = -1;
        best_weights_.clear();
    }

    void on_epoch_end(const EpochLogs& logs, TrainingControl<T>& model) override {
        const double value = logs.value(config_.monitor, "EarlyStopping");
        if (best_.improves(value, config_.min_delta) || best_epoch_ < 0) {
            best_.set(value);
            best_epoch_ = logs.epoch;
            wait_ = 0;
            if (config_.restore_best_weights) best_weights_ = model.weights();
            return;
        }
        if (++wait_ >= config_.patience) {
            stopped_epoch_ = logs.epoch;
            model.stop_training();
            if (config_.restore_best_weights && !best_weights_.empty()) model.set_weights(best_weights_);
        }
    }

    void save_state(ByteWriter& out) const override {
        best_.save(out);
        out.write<std::int32_t>(wait_);
        out.write<std::int32_t>(best_epoch_);
        out.write<std::int32_t>(stopped_epoch_);
        out.write_matrices(best_weights_);
    }

    void load_state(ByteReader& in) override {
        best_.load(in);
        wait_ = in.read<std::int32_t>();
        best_epoch_ = in.read<std::int32_t>();
        stopped_epoch_ = in.read<std::int32_t>();
        best_weights_ = in.read_matrices<Matrix<T>>();
    }

    [[nodiscard]] std::string settings() const override {
        return callback_detail::describe(std::pair{"monitor", config_.monitor}, std::pair{"min_delta", config_.min_delta},
                                         std::pair{"patience", config_.patience},
                                         std::pair{"restore_best_weights", config_.restore_best_weights});
    }

    [[nodiscard]] int best_epoch() const { return best_epoch_; }       ///< 0-based, -1 before training
    [[nodiscard]] int stopped_epoch() const { return stopped_epoch_; } ///< 0-based, -1 if it never stopped
    [[nodiscard]] double best_value() const { return best_.best(); }

private:
    Config config_;
    callback_detail::MonitorBest best_;
    int wait_ = 0, best_epoch_ = -1, stopped_epoch_ = -1;
    std::vector<Matrix<T>> best_weights_;
};

template <class T = float>
class ReduceLROnPlateau final : public Callback<T> {
public:
    struct Config {
        std::string monitor = "val_loss";
        double factor = 0.1;      ///< new lr = lr * factor, factor in (0, 1)
        int patience = 10;
        double min_delta = 1e-4;
        int cooldown = 0;         ///< epochs to wait after a reduction before counting again
        double min_lr = 0.0;
    };

    ReduceLROnPlateau() : ReduceLROnPlateau(Config{}) {}
    explicit ReduceLROnPlateau(Config config) : config_(std::move(config)) {
        callback_detail::check_monitor(config_.monitor, "ReduceLROnPlateau");
        if (!(config_.factor > 0.0 && config_.factor < 1.0))
            detail::fail("ReduceLROnPlateau: factor must be in (0, 1), got ", config_.factor);
        if (config_.patience < 0 || config_.cooldown < 0)
            detail::fail("ReduceLROnPlateau: patience and cooldown must be >= 0, got ", config_.patience, " and ",
                         config_.cooldown);
        if (!(config_.min_lr >= 0.0)) detail::fail("ReduceLROnPlateau: min_lr must be >= 0, got ", config_.min_lr);
    }

    void on_train_begin(TrainingControl<T>&) override {
        best_.reset(config_.monitor);
        wait_ = cooldown_counter_ = 0;
        reductions_ = 0;
    }

    // Keras 2.11's rule, step by step.
    void on_epoch_end(const EpochLogs& logs, TrainingControl<T>& model) override {
        const double value = logs.value(config_.monitor, "ReduceLROnPlateau");
        const bool in_cooldown = cooldown_counter_ > 0;
        if (in_cooldown) {
            --cooldown_counter_;
            wait_ = 0;
        }
        if (best_.improves(value, config_.min_delta)) {
            best_.set(value);
            wait_ = 0;
        } else if (!in_cooldown && ++wait_ >= config_.patience) {
            const double old_lr = model.learning_rate();
            if (old_lr > config_.min_lr) {
                model.set_learning_rate(std::max(old_lr * config_.factor, config_.min_lr));
                ++reductions_;
                cooldown_counter_ = config_.cooldown;
                wait_ = 0;
            }
        }
    }

    void save_state(ByteWriter& out) const override {
        best_.save(out);
        out.write<std::int32_t>(wait_);
        out.write<std::int32_t>(cooldown_counter_);
        out.write<std::int32_t>(reductions_);
    }

    void load_state(ByteReader& in) override {
        best_.load(in);
        wait_ = in.read<std::int32_t>();
        cooldown_counter_ = in.read<std::int32_t>();
        reductions_ = in.read<std::int32_t>();
    }

    [[nodiscard]] std::string settings() const override {
        return callback_detail::describe(std::pair{"monitor", config_.monitor}, std::pair{"factor", config_.factor},
                                         std::pair{"patience", config_.patience}, std::pair{"min_delta", config_.min_delta},
                                         std::pair{"cooldown", config_.cooldown}, std::pair{"min_lr", config_.min_lr});
    }

    [[nodiscard]] int reductions() const { return reductions_; }

private:
    Config config_;
    callback_detail::MonitorBest best_;
    int wait_ = 0, cooldown_counter_ = 0, reductions_ = 0;
};

template <class T = float>
class ModelCheckpoint final : public Callback<T> {
public:
    struct Config {
        std::filesystem::path path{};
        std::string monitor = "val_loss";
        bool save_best_only = true;
    };

    explicit ModelCheckpoint(Config config) : config_(std::move(config)) {
        if (config_.path.empty()) detail::fail("ModelCheckpoint: path is empty");
        callback_detail::check_monitor(config_.monitor, "ModelCheckpoint");
    }

    void on_train_begin(TrainingControl<T>&) override {
        best_.reset(config_.monitor);
        saves_ = 0;
        best_epoch_ = -1;
    }

    void on_epoch_end(const EpochLogs& logs, TrainingControl<T>& model) override {
        if (config_.save_best_only) {
            const double value = logs.value(config_.monitor, "ModelCheckpoint");
            if (!best_.improves(value, 0.0)) return;
            best_.set(value);
            best_epoch_ = logs.epoch;
        }
        model.save_model(config_.path);
        ++saves_;
    }

    void save_state(ByteWriter& out) const override {
        best_.save(out);
        out.write<std::int32_t>(saves_);
        out.write<std::int32_t>(best_epoch_);
    }

    void load_state(ByteReader& in) override {
        best_.load(in);
        saves_ = in.read<std::int32_t>();
        best_epoch_ = in.read<std::int32_t>();
    }

    /// The path too: a fit resumed with another would leave the best model where it no longer looks.
    [[nodiscard]] std::string settings() const override {
        return callback_detail::describe(std::pair{"path", config_.path.string()}, std::pair{"monitor", config_.monitor},
                                         std::pair{"save_best_only", config_.save_best_only});
    }

    [[nodiscard]] int saves() const { return saves_; }
    [[nodiscard]] int best_epoch() const { return best_epoch_; }

private:
    Config config_;
    callback_detail::MonitorBest best_;
    int saves_ = 0, best_epoch_ = -1;
};

}  // namespace feral::nn
