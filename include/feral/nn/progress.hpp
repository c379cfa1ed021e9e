// feral/nn/progress.hpp — the per-epoch progress line printed by Sequential::fit.
//
// verbose (Keras's meaning):
//   0  silent;
//   1  a live line per epoch, "Epoch 3/20  120/450 [=====>....] loss 1.2345 acc 0.5234
//      812 img/s ETA 4s", rewritten in place with '\r' while batches run when the
//      stream is a terminal; when it is not (a log file, a pipe) the finished line once
//      per epoch, and for a long epoch the running line once a minute as well, so a log
//      of a job whose epochs take many minutes still shows it moving, without flooding;
//   2  one finished line per epoch, never the running updates.
// Live updates are throttled to ten per second.
#pragma once

#include "feral/core/types.hpp"
#include "feral/nn/history.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace feral::nn {

class Progress {
public:
    /// `out` = nullptr means std::cout; `terminal` is detected with isatty for std::cout
    /// and false for any other stream unless forced. `log_every_seconds`: how often a
    /// running line goes to a stream that is not a terminal.
    explicit Progress(int verbose, std::ostream* out = nullptr, int force_terminal = -1, double log_every_seconds = 60)
        : verbose_(verbose), out_(out != nullptr ? out : &std::cout), log_every_seconds_(log_every_seconds) {
        terminal_ = force_terminal >= 0 ? force_terminal == 1 : (out_ == &std::cout && ::isatty(::fileno(stdout)) == 1);
    }

    [[nodiscard]] bool live() const { return verbose_ == 1 && terminal_; }

    void begin_epoch(int epoch, int epochs, Index batches) {
        epoch_ = epoch;
        epochs_ = epochs;
        batches_ = batches;
        start_ = Clock::now();
        last_print_ = live() ? start_ - std::chrono::seconds(1) : start_;
    }

    /// After `done` batches (and `images` training images) with running loss/accuracy.
    void update(Index done, Index images, double loss, double accuracy) {
        if (verbose_ != 1) return;
        const auto now = Clock::now();
        if (live()) {
            if (done < batches_ && now - last_print_ < std::chrono::milliseconds(100)) return;
            *out_ << '\r' << running_line(done, images, loss, accuracy, now) << "   " << std::flush;
        } else {
            // A log: the finished line follows at the end of the epoch, so only long epochs
            // get running lines, one per log_every_seconds.
            if (done >= batches_ || seconds_since(last_print_, now) < log_every_seconds_) return;
            *out_ << running_line(done, images, loss, accuracy, now) << '\n' << std::flush;
        }
        last_print_ = now;
    }

    void end_epoch(const EpochLogs& logs) {
        if (verbose_ == 0) return;
        std::ostringstream line;
        line << header() << ' ' << batches_ << '/' << batches_ << " - " << std::fixed << std::setprecision(1) << logs.seconds
             << "s - loss " << std::setprecision(4) << logs.loss << " - accuracy " << logs.accuracy;
        if (logs.has_validation) line << " - val_loss " << logs.val_loss << " - val_accuracy " << logs.val_accuracy;
        line << " - lr " << std::defaultfloat << std::setprecision(3) << logs.learning_rate << " - " << std::fixed
             << std::setprecision(0) << logs.images_per_second << " img/s";
        *out_ << (live() ? "\r" : "") << line.str() << (live() ? "          \n" : "\n") << std::flush;
    }

private:
    using Clock = std::chrono::steady_clock;

    [[nodiscard]] std::string running_line(Index done, Index images, double loss, double accuracy,
                                           Clock::time_point now) const {
        const double elapsed = seconds_since(start_, now);
        const double eta = done > 0 ? elapsed * static_cast<double>(batches_ - done) / static_cast<double>(done) : 0.0;
        std::ostringstream line;
        line << header() << ' ' << std::setw(width(batches_)) << done << '/' << batches_ << ' ' << bar(done) << " loss "
             << std::fixed << std::setprecision(4) << loss << " acc " << accuracy << ' ' << std::setprecision(0)
             << static_cast<double>(images) / std::max(elapsed, 1e-9) << " img/s ETA " << eta << 's';
        return line.str();
    }

    static double seconds_since(Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    }
    static int width(Index n) { return static_cast<int>(std::to_string(n).size()); }
    [[nodiscard]] std::string header() const {
        return "Epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs_);
    }
    [[nodiscard]] std::string bar(Index done) const {
        constexpr int kWidth = 20;
        const int filled = batches_ > 0 ? static_cast<int>(kWidth * done / batches_) : kWidth;
        std::string s = "[";
        for (int i = 0; i < kWidth; ++i) s += i < filled ? '=' : (i == filled ? '>' : '.');
        return s + "]";
    }

    int verbose_;
    std::ostream* out_;
    double log_every_seconds_;
    bool terminal_ = false;
    int epoch_ = 0, epochs_ = 0;
    Index batches_ = 0;
    Clock::time_point start_{}, last_print_{};
};

}  // namespace feral::nn
