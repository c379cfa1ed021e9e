// feral/nn/training_backup.hpp — the state of an unfinished Sequential::fit, written after
// every epoch so that a fit that was stopped part-way (killed, out of time) resumes where
// it stopped: Keras's BackupAndRestore, here FitConfig::backup.
//
// A resumed fit ends bit-identical to an uninterrupted one, because the backup holds
// everything a later epoch reads that an earlier one wrote:
//   - every layer's parameters and state (batch-norm running statistics), and how far
//     its own random stream has advanced (dropout's call count);
//   - the optimiser's learning rate (callbacks may have changed it), step count and moments;
//   - the history so far and each callback's state (Callback::save_state);
//   - whether a callback has stopped training, and the next epoch.
// Shuffles and augmentation are drawn from (seed, epoch), so they need nothing.
//
// Fingerprint: the backup also records what was being fitted — the model (its summary),
// the settings that change the result (optimiser settings, batch size, shuffle, seed,
// validation split, class weights, augmentation, the callbacks' kinds and settings) and
// checksums of the training and validation data. A fit handed the backup of another fit
// refuses it (invalid_argument naming the file and what differs) and leaves the file as
// it is. Epochs are not in the fingerprint: a fit resumed with more epochs carries on up
// to them. Restoring is all or nothing: a file that does not fit (or a callback refusing
// its saved state) leaves the model, the optimiser and the callbacks as they were.
// History::restored_epochs tells the caller how many epochs came from the file.
//
// The file is a feral container (core/serialize.hpp), type "TrainingBackup<float>": it is
// written to a temporary file and renamed, so a kill during the write leaves the previous
// epoch's backup whole. The fit that finishes removes it (unless FitConfig::keep_backup:
// then its caller does, once it has stored the results). It is as large as the model's
// weights plus the optimiser's state (Adam: three times the parameters).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"
#include "feral/nn/callbacks.hpp"
#include "feral/nn/history.hpp"
#include "feral/nn/optimizer.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace feral::nn {

/// FNV-1a 64 of a matrix's rows (each contiguous in a row-major Ref) and then of the
/// labels, as 16 hex digits: names a data set in a backup or a search journal.
template <class T>
[[nodiscard]] std::string data_checksum(ConstMatrixRef<T> X, ConstLabelsRef y) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (Index r = 0; r < X.rows(); ++r)
        h = detail::fnv1a64(reinterpret_cast<const unsigned char*>(X.row(r).data()),
                            static_cast<std::size_t>(X.cols()) * sizeof(T), h);
    h = detail::fnv1a64(reinterpret_cast<const unsigned char*>(y.data()), static_cast<std::size_t>(y.size()) * sizeof(int),
                        h);
    std::ostringstream text;
    text << std::hex << std::setw(16) << std::setfill('0') << h;
    return text.str();
}

template <class T = float>
class TrainingBackup {
public:
    /// One line of the fingerprint: what it describes ("model", "batch size", ...) and its value.
    struct Entry {
        std::string name;
        std::string value;
    };
    using Fingerprint = std::vector<Entry>;

    TrainingBackup(std::filesystem::path path, Fingerprint fingerprint)
        : path_(std::move(path)), fingerprint_(std::move(fingerprint)) {}

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] bool exists() const { return std::filesystem::exists(path_); }
    [[nodiscard]] static std::string type_tag() { return std::string("TrainingBackup<") + scalar_name<T>() + ">"; }

    /// Writes the state after an epoch; `next_epoch` is the first epoch a resumed fit runs.
    template <class Model>
    void save(const Model& model, const Optimizer<T>& optimizer, const History& history,
              const std::vector<Callback<T>*>& callbacks, bool stopped, int next_epoch) const {
        ByteWriter w;
        w.write<std::uint64_t>(fingerprint_.size());
        for (const Entry& e : fingerprint_) {
            w.write_string(e.name);
            w.write_string(e.value);
        }
        w.write<std::int32_t>(next_epoch);
        w.write<std::uint8_t>(stopped ? 1 : 0);
        w.write_matrices(model.weights());
        std::vector<std::uint64_t> positions;
        for (std::size_t i = 0; i < model.size(); ++i) positions.push_back(model.layer(i).random_position());
        w.write_vector(positions);
        optimizer.save_state(w);
        for (const auto* series : history_series(history)) w.write_vector(*series);
        w.write<std::int32_t>(history.stopped_epoch);
        for (const auto* c : callbacks) {  // each callback's bytes, length first, so a reader can check its end
            ByteWriter state;
            c->save_state(state);
            w.write_vector(state.bytes());
        }
        write_container(path_, type_tag(), kPayloadVersion, w.bytes(), Overwrite::yes);
    }

    /// Reads the backup into a freshly started fit of `epochs` epochs (after the callbacks'
    /// on_train_begin) and returns the next epoch. Throws invalid_argument if the backup is
    /// another fit's or holds more than `epochs` epochs, format_error if it is damaged or
    /// not a backup, io_error if it cannot be read, or what a callback's load_state throws;
    /// the model, the optimiser and the callbacks are not changed then.
    template <class Model>
    int restore(Model& model, Optimizer<T>& optimizer, const std::vector<Parameter<T>>& parameters, History& history,
                const std::vector<Callback<T>*>& callbacks, bool& stopped, int epochs) const {
        const Container c = open(path_);
        ByteReader r = c.reader();
        check_fingerprint(read_fingerprint(r));
        const auto next_epoch = r.read<std::int32_t>();
        const bool was_stopped = r.read<std::uint8_t>() != 0;
        if (next_epoch < 1) detail::fail<format_error>(path_.string(), ": corrupt next epoch ", next_epoch);
        if (next_epoch > epochs)
            detail::fail("Sequential::fit: the training backup '", path_.string(), "' holds ", next_epoch,
                         " epochs, more than the ", epochs, " this fit asks for");
        // Everything is read and checked before anything is set.
        const auto weights = r.read_matrices<Matrix<T>>();
        // The fingerprint matched, so only a damaged or edited file does not fit.
        if (const std::string why = model.weights_mismatch(weights); !why.empty())
            detail::fail<format_error>(path_.string(), ": its weights do not fit the model (", why, ")");
        const auto positions = r.read_vector<std::uint64_t>();
        if (positions.size() != model.size())
            detail::fail<format_error>(path_.string(), ": random positions of ", positions.size(), " layers, the model has ",
                                       model.size());
        typename Optimizer<T>::State optimizer_state = optimizer.read_state(r, parameters);
        History restored;
        for (auto* series : history_series(restored)) *series = r.read_vector<double>();
        restored.stopped_epoch = r.read<std::int32_t>();
        restored.restored_epochs = next_epoch;
        for (const auto* series : history_series(restored))
            if (static_cast<int>(series->size()) != next_epoch)
                detail::fail<format_error>(path_.string(), ": a history of ", series->size(), " epochs, next epoch ",
                                           next_epoch + 1);
        std::vector<std::vector<unsigned char>> callback_states;
        for (std::size_t k = 0; k < callbacks.size(); ++k) callback_states.push_back(r.read_vector<unsigned char>());
        r.expect_end();

        // Applied only now: a file that does not fit changes nothing.
        load_callback_states(callbacks, callback_states);
        model.set_weights(weights);
        for (std::size_t i = 0; i < model.size(); ++i) model.layer(i).set_random_position(positions[i]);
        optimizer.apply_state(std::move(optimizer_state));
        history = std::move(restored);
        stopped = was_stopped;
        return next_epoch;
    }

    /// Removes the file (a finished fit has no use for it).
    void remove() const {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
        if (ec) detail::fail<io_error>("Sequential::fit: cannot remove the training backup '", path_.string(), "': ",
                                       ec.message());
    }

private:
    static constexpr std::uint32_t kPayloadVersion = 1;

    template <class H>
    static auto history_series(H& h) {
        return std::array{&h.loss, &h.accuracy, &h.val_loss, &h.val_accuracy, &h.learning_rate, &h.seconds,
                          &h.images_per_second};
    }

    /// Only a callback can tell whether its bytes fit, by loading them; one that refuses
    /// them (format_error) gets every callback its state from before back, so nothing
    /// has changed when the error leaves restore.
    void load_callback_states(const std::vector<Callback<T>*>& callbacks,
                              const std::vector<std::vector<unsigned char>>& states) const {
        std::vector<std::vector<unsigned char>> before;
        for (const auto* c : callbacks) {
            ByteWriter w;
            c->save_state(w);
            before.push_back(w.bytes());
        }
        std::size_t k = 0;
        try {
            for (; k < callbacks.size(); ++k) {
                ByteReader state(states[k].data(), states[k].size(),
                                 path_.string() + " (callback " + std::to_string(k + 1) + ")");
                callbacks[k]->load_state(state);
                state.expect_end();
            }
        } catch (...) {
            for (std::size_t j = 0; j <= k && j < callbacks.size(); ++j) {
                ByteReader state(before[j].data(), before[j].size(), "callback state before restore");
                try {
                    callbacks[j]->load_state(state);
                } catch (...) {  // a callback that cannot read its own bytes: the first error is the one to report
                }
            }
            throw;
        }
    }

    static Container open(const std::filesystem::path& path) {
        Container c = read_container(path, type_tag());
        if (c.payload_version() != kPayloadVersion)
            detail::fail<format_error>(path.string(), ": training backup version ", c.payload_version(),
                                       ", this feral reads version ", kPayloadVersion);
        return c;
    }

    static Fingerprint read_fingerprint(ByteReader& r) {
        const auto n = r.read<std::uint64_t>();
        if (n > 1000) detail::fail<format_error>(r.source(), ": corrupt fingerprint of ", n, " entries");
        Fingerprint saved;
        for (std::uint64_t k = 0; k < n; ++k) {
            std::string name = r.read_string();
            saved.push_back({std::move(name), r.read_string()});
        }
        return saved;
    }

    void check_fingerprint(const Fingerprint& saved) const {
        for (std::size_t k = 0; k < fingerprint_.size(); ++k) {
            const Entry& now = fingerprint_[k];
            const Entry* then = k < saved.size() && saved[k].name == now.name ? &saved[k] : nullptr;
            if (then && then->value == now.value) continue;
            std::string what = then ? " differs" : " is not recorded in it";
            if (then && then->value.size() + now.value.size() < 200)
                what += ": the backup has '" + then->value + "', this fit '" + now.value + "'";
            detail::fail("Sequential::fit: '", path_.string(), "' is the backup of another fit (its ", now.name, what,
                         "); it was left as it is: move it away, or pass another backup path");
        }
        if (saved.size() != fingerprint_.size())
            detail::fail("Sequential::fit: '", path_.string(), "' is the backup of another fit (", saved.size(),
                         " fingerprint entries, this fit has ", fingerprint_.size(),
                         "); it was left as it is: move it away, or pass another backup path");
    }

    std::filesystem::path path_;
    Fingerprint fingerprint_;
};

}  // namespace feral::nn
