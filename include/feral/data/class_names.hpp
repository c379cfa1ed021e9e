// feral/data/class_names.hpp — the FER2013 class names, their spellings and their orders.
//
// Two class orders are in use for FER2013:
//   * the CSV order (the original label numbers), feral's canonical order:
//       0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral
//     = feral::fer2013_class_names() (data/dataset.hpp);
//   * the alphabetical order that Keras' image_dataset_from_directory gives the folders:
//       0 angry, 1 disgust, 2 fear, 3 happy, 4 neutral, 5 sad, 6 surprise
//     = feral::keras_class_names().
// Folder layouts spell three classes two ways (disgust/disgusted, fear/fearful,
// surprise/surprised); canonical_fer2013_class() maps either spelling (any letter case) to
// the canonical one. reorder_classes() relabels a Dataset from one order to another.
//
// Example:
//   auto keras = feral::reorder_classes(data, feral::keras_class_names());
#pragma once

#include "feral/core/error.hpp"
#include "feral/data/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace feral {

/// The seven FER2013 classes sorted alphabetically (Keras' folder order).
inline const std::vector<std::string>& keras_class_names() {
    static const std::vector<std::string> names = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
    return names;
}

/// The canonical FER2013 name for a folder name ("Disgusted" -> "disgust"), or nullopt when
/// the name is not one of the seven expressions in either spelling.
inline std::optional<std::string> canonical_fer2013_class(std::string_view folder) {
    std::string lower(folder);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lower == "disgusted") return "disgust";
    if (lower == "fearful") return "fear";
    if (lower == "surprised") return "surprise";
    const auto& names = fer2013_class_names();
    if (std::find(names.begin(), names.end(), lower) != names.end()) return lower;
    return std::nullopt;
}

/// Index of `name` in `names`, or -1.
inline int class_index(const std::vector<std::string>& names, std::string_view name) {
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

/// The same images with labels renumbered to follow `new_order`, which must hold exactly the
/// data set's class names (in any order). Pixels and row order are unchanged.
/// throws: invalid_argument naming a class missing from either list.
inline Dataset reorder_classes(const Dataset& data, const std::vector<std::string>& new_order) {
    constexpr const char* where = "reorder_classes";
    if (new_order.size() != data.class_names.size())
        detail::fail(where, ": the data set has ", data.class_names.size(), " classes, the new order names ", new_order.size());
    std::vector<int> map(data.class_names.size());
    for (std::size_t c = 0; c < data.class_names.size(); ++c) {
        map[c] = class_index(new_order, data.class_names[c]);
        if (map[c] < 0) detail::fail(where, ": class '", data.class_names[c], "' is not in the new order");
    }
    Dataset out = data;
    out.class_names = new_order;
    for (Index i = 0; i < out.labels.size(); ++i) {
        const int label = data.labels[i];
        if (label < 0 || label >= data.num_classes()) detail::fail(where, ": label ", label, " of image ", i, " is out of range");
        out.labels[i] = map[static_cast<std::size_t>(label)];
    }
    return out;
}

}  // namespace feral
