// feral/nn/history.hpp — what happened during Sequential::fit, epoch by epoch.
//
// EpochLogs is one epoch's record, handed to callbacks as soon as the epoch ends;
// History collects them (Keras's History.history, as vectors indexed by epoch).
// Accuracies are fractions in [0, 1]; losses are mean softmax cross-entropy per
// sample (weighted by class_weight during training, as Keras does). Validation
// entries are NaN when fit had no validation data.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace feral::nn {

struct EpochLogs {
    int epoch = 0;  ///< 0-based
    double loss = 0, accuracy = 0;
    double val_loss = std::numeric_limits<double>::quiet_NaN();
    double val_accuracy = std::numeric_limits<double>::quiet_NaN();
    double learning_rate = 0;  ///< the rate used during this epoch
    double seconds = 0;        ///< wall time of the epoch (training + validation)
    double images_per_second = 0;  ///< training images per second (augmentation included)
    bool has_validation = false;

    /// The value of a monitored quantity: "loss", "accuracy", "val_loss", "val_accuracy".
    /// Throws invalid_argument for another name, or a val_ name without validation data.
    [[nodiscard]] double value(std::string_view monitor, std::string_view where) const {
        if (monitor == "loss") return loss;
        if (monitor == "accuracy") return accuracy;
        if (monitor == "val_loss" || monitor == "val_accuracy") {
            if (!has_validation)
                detail::fail(where, ": monitor '", monitor,
                             "' needs validation data (pass validation data or a validation_split to fit)");
            return monitor == "val_loss" ? val_loss : val_accuracy;
        }
        detail::fail(where, ": unknown monitor '", monitor, "' (expected loss, accuracy, val_loss or val_accuracy)");
    }
};

/// True when larger values of `monitor` are better (accuracies), false for losses.
inline bool monitor_maximises(std::string_view monitor) { return monitor.find("accuracy") != std::string_view::npos; }

struct History {
    std::vector<double> loss, accuracy, val_loss, val_accuracy, learning_rate, seconds, images_per_second;
    int stopped_epoch = -1;  ///< 0-based epoch at which a callback stopped training, -1 if none
    /// The first epochs, read from a training backup (FitConfig::backup) instead of trained
    /// by this fit: their seconds were spent by an earlier run.
    int restored_epochs = 0;

    [[nodiscard]] Index epochs() const { return static_cast<Index>(loss.size()); }

    /// Wall time the restored epochs took in the earlier runs that trained them (0 when
    /// nothing was restored): add it to this fit's own time for the training's whole cost.
    [[nodiscard]] double restored_seconds() const {
        return std::accumulate(seconds.begin(), seconds.begin() + restored_epochs, 0.0);
    }

    void append(const EpochLogs& logs) {
        loss.push_back(logs.loss);
        accuracy.push_back(logs.accuracy);
        val_loss.push_back(logs.val_loss);
        val_accuracy.push_back(logs.val_accuracy);
        learning_rate.push_back(logs.learning_rate);
        seconds.push_back(logs.seconds);
        images_per_second.push_back(logs.images_per_second);
    }

    /// One line per epoch: epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds.
    [[nodiscard]] std::string to_csv() const {
        std::ostringstream out;
        out.precision(9);
        out << "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
        for (std::size_t e = 0; e < loss.size(); ++e)
            out << e + 1 << ',' << loss[e] << ',' << accuracy[e] << ',' << val_loss[e] << ',' << val_accuracy[e] << ','
                << learning_rate[e] << ',' << seconds[e] << '\n';
        return out.str();
    }
};

}  // namespace feral::nn
