// feral/data/dataset.hpp — a labelled set of images.
//
// A Dataset is three aligned things:
//   pixels       N x (C*H*W) 8-bit matrix; row i is image i flattened in CHW order
//                (for grayscale faces: row by row, as in the FER2013 CSV)
//   labels       N class indices into class_names
//   class_names  the class order (for FER2013: fer2013_class_names(), the CSV order)
// plus `shape` (C, H, W) and, optionally, `sources`: where each image came from
// (a file path, or "file.csv:line 12"), so errors and reports can name it.
//
// Pixels stay 8-bit until a model needs floats (to_float in transforms.hpp): the full
// FER2013 training set is 66 MB as bytes, 263 MB as floats.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <string>
#include <vector>

namespace feral {

/// The seven FER2013 classes in the original CSV's label order (0..6).
inline const std::vector<std::string>& fer2013_class_names() {
    static const std::vector<std::string> names = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    return names;
}

struct Dataset {
    PixelMatrix pixels;
    Labels labels;
    std::vector<std::string> class_names;
    ImageShape shape{1, 48, 48};
    std::vector<std::string> sources;  ///< empty, or one entry per image

    [[nodiscard]] Index size() const { return pixels.rows(); }
    [[nodiscard]] bool empty() const { return pixels.rows() == 0; }
    [[nodiscard]] Index num_classes() const { return static_cast<Index>(class_names.size()); }

    /// Number of images of each class (size num_classes()).
    [[nodiscard]] std::vector<Index> class_counts() const {
        std::vector<Index> counts(class_names.size(), 0);
        for (Index i = 0; i < labels.size(); ++i) ++counts[static_cast<std::size_t>(labels[i])];
        return counts;
    }

    /// The images at `rows`, in that order (rows may repeat: used for oversampling).
    template <class IndexRange>
    [[nodiscard]] Dataset subset(const IndexRange& rows) const {
        Dataset out;
        out.class_names = class_names;
        out.shape = shape;
        const auto n = static_cast<Index>(std::size(rows));
        out.pixels.resize(n, pixels.cols());
        out.labels.resize(n);
        if (!sources.empty()) out.sources.reserve(static_cast<std::size_t>(n));
        Index k = 0;
        for (auto r : rows) {
            const auto row = static_cast<Index>(r);
            if (row < 0 || row >= size()) detail::fail("Dataset::subset: row ", row, " is outside 0..", size() - 1);
            out.pixels.row(k) = pixels.row(row);
            out.labels[k] = labels[row];
            if (!sources.empty()) out.sources.push_back(sources[static_cast<std::size_t>(row)]);
            ++k;
        }
        return out;
    }

    /// Throws invalid_argument unless the parts agree (sizes, label range, shape).
    void validate(const char* where = "Dataset") const {
        if (labels.size() != pixels.rows())
            detail::fail(where, ": ", pixels.rows(), " images but ", labels.size(), " labels");
        if (pixels.rows() > 0 && pixels.cols() != shape.size())
            detail::fail(where, ": images have ", pixels.cols(), " values, shape ", to_string(shape), " needs ", shape.size());
        if (!sources.empty() && static_cast<Index>(sources.size()) != pixels.rows())
            detail::fail(where, ": ", sources.size(), " sources for ", pixels.rows(), " images");
        for (Index i = 0; i < labels.size(); ++i)
            if (labels[i] < 0 || labels[i] >= num_classes())
                detail::fail(where, ": label ", labels[i], " of image ", i,
                             sources.empty() ? std::string() : " (" + sources[static_cast<std::size_t>(i)] + ")",
                             " is outside 0..", num_classes() - 1);
    }
};

}  // namespace feral
