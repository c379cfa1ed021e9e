// The FER2013 subsets the [fer2013] model tests compare against scikit-learn: the first
// `per_class` files of each class folder, file names sorted, as the fixture scripts read them.
#pragma once

#include "feral/core/types.hpp"
#include "feral/data/image_io.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace feral::test {

/// FER2013's label order (the CSV's emotion column).
inline const std::vector<std::string>& fer2013_class_order() {
    static const std::vector<std::string> order{"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    return order;
}

struct Fer2013Subset {
    Matrix<float> X;  ///< pixels 0..255, one 48x48 image per row
    Labels y;         ///< position of the image's class in the class order
};

/// The first `per_class` files (sorted by name) of each class folder of root/split, classes
/// in `classes` order; a class with fewer files contributes all it has.
inline Fer2013Subset load_fer2013_subset(const std::filesystem::path& root, const std::string& split, Index per_class,
                                         const std::vector<std::string>& classes = fer2013_class_order()) {
    std::vector<std::filesystem::path> files;
    std::vector<int> labels;
    for (std::size_t c = 0; c < classes.size(); ++c) {
        std::vector<std::filesystem::path> folder;
        for (const auto& entry : std::filesystem::directory_iterator(root / split / classes[c])) folder.push_back(entry.path());
        std::sort(folder.begin(), folder.end());
        folder.resize(std::min<std::size_t>(folder.size(), static_cast<std::size_t>(per_class)));
        files.insert(files.end(), folder.begin(), folder.end());
        labels.insert(labels.end(), folder.size(), static_cast<int>(c));
    }
    Fer2013Subset subset;
    subset.X.resize(static_cast<Index>(files.size()), 48 * 48);
    subset.y.resize(static_cast<Index>(files.size()));
    for (Index row = 0; row < subset.X.rows(); ++row) {
        const auto image = read_image(files[static_cast<std::size_t>(row)], ColorMode::gray);
        REQUIRE(image.size() == 48 * 48);
        for (Index p = 0; p < 48 * 48; ++p) subset.X(row, p) = static_cast<float>(image.data()[p]);
        subset.y[row] = labels[static_cast<std::size_t>(row)];
    }
    return subset;
}

}  // namespace feral::test
