// feral/vision/haar_cascade.hpp — Viola-Jones face detection with OpenCV's trained
// Haar cascades, replicating OpenCV 4.6's CascadeClassifier::detectMultiScale.
//
// The cascade file is OpenCV's "new" XML format (what opencv_traincascade writes and
// /usr/share/opencv4/haarcascades/ ships): <cascade> with <stageType>BOOST,
// <featureType>HAAR, the window <width>/<height>, <stages> (each a <stageThreshold>
// and <weakClassifiers>: decision stumps or small trees as <internalNodes>
// "left right feature threshold" and <leafValues>) and <features> (up to three
// weighted <rects> "x y w h weight", optionally <tilted>1 for 45-degree features).
// Anything else (old-format or LBP cascades, truncated or malformed files) is a
// format_error naming the file, the element and the line.
//
// Detection, exactly as cv::CascadeClassifierImpl (cascadedetect.cpp) does it:
//  1. scales: factor = 1, f, f^2, ... while the window round(24 * factor) fits in
//     the image and max_size; factors whose window is below min_size are skipped;
//  2. for each factor the IMAGE is shrunk to round(W / factor) x round(H / factor)
//     with cv::resize's INTER_LINEAR_EXACT (resize.hpp reproduces it bit for bit), and its
//     integral image (int32) and squared integral (float32, summed as cv::integral
//     does) are computed;
//  3. the 24x24 window slides with step 2 (step 1 once factor >= 2); after a window
//     rejected by the first stage the next position is skipped (OpenCV's x += step);
//  4. each window is normalised by sqrt(A * sum(I^2) - sum(I)^2) over the window
//     minus its one-pixel border (the 22x22 "normrect", A = 484); a feature's value
//     is sum(weight * rectangle sum) (float) times 1 / that factor;
//  5. a stump adds leaf[0] if value < threshold else leaf[1]; a stage passes when the
//     sum is >= its threshold - 1e-5 (OpenCV's THRESHOLD_EPS); a window passing all
//     stages is a candidate (x, y, window) scaled back by the factor;
//  6. candidates are grouped by group_rectangles (cv::groupRectangles, eps 0.2:
//     similarity partition, averaging, dropping groups of <= min_neighbors and small
//     groups nested in bigger ones) and clipped to the image.
// The products in step 4 are rounded as separate float operations (no fused
// multiply-add), as OpenCV's SSE build computes them.
//
// Example:
//   auto cascade = feral::HaarCascade::load("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
//   auto gray = feral::read_image("photo.jpg", feral::ColorMode::gray);
//   std::vector<feral::Rect> faces = cascade.detect(gray, {.scale_factor = 1.1, .min_neighbors = 5});
//
// Threads: the scales are independent jobs shared by DetectParams::n_threads workers
// and their candidates concatenated in scale order, so results do not depend on the
// thread count.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/image.hpp"
#include "feral/vision/rect.hpp"
#include "feral/vision/resize.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace feral::detail {

/// Returns x unchanged, as a value the compiler must have rounded to its type.
///
/// OpenCV computes feature values with separately rounded multiplies and adds;
/// contracting them into FMAs (GCC does under -march=native) would move values that sit
/// within an ulp of a stump threshold. Passing a product through this empty asm, which
/// the compiler cannot see through, keeps it from fusing the multiply into the following
/// add, at no cost and without stopping inlining. (The earlier per-function
/// optimize("fp-contract=off") attribute did stop GCC inlining the feature sum into the
/// scan: 30% of the detection time went into the calls.)
template <class T>
inline T rounded(T x) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+x"(x));  // x stays in an SSE register as computed
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__("" : "+w"(x));
#elif defined(__GNUC__)
    __asm__("" : "+m"(x));  // any other target: through memory, slower but exact
#endif
    return x;
}

}  // namespace feral::detail

namespace feral {

/// detectMultiScale's parameters (OpenCV's defaults).
struct DetectParams {
    double scale_factor = 1.1;  ///< > 1: pyramid step
    int min_neighbors = 3;      ///< a group needs more than this many candidates (0: no grouping)
    int min_width = 0, min_height = 0;  ///< smallest window (0: no limit)
    int max_width = 0, max_height = 0;  ///< largest window (0: the image size)
    int n_threads = 0;          ///< 0 = FERAL_NUM_THREADS or all cores
};

namespace detail {

// ---- a minimal XML reader: elements, text, comments, attributes (ignored) ---------
struct XmlNode {
    std::string name;
    std::string text;  // concatenated character data directly inside the element
    int line = 0;
    std::vector<std::unique_ptr<XmlNode>> children;

    [[nodiscard]] const XmlNode* child(std::string_view n) const {
        for (const auto& c : children)
            if (c->name == n) return c.get();
        return nullptr;
    }
};

class XmlParser {
public:
    XmlParser(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

    std::unique_ptr<XmlNode> parse_document() {
        skip_misc();
        if (at_end()) error("no root element");
        auto root = parse_element();
        skip_misc();
        if (!at_end()) error("unexpected content after the root element </", root->name, ">");
        return root;
    }

private:
    template <class... Parts>
    [[noreturn]] void error(Parts&&... parts) const {
        fail<format_error>("HaarCascade: '", source_, "' line ", line_, ": ", std::forward<Parts>(parts)...);
    }

    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] bool starts_with(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
    void advance(std::size_t n) {
        for (std::size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_)
            if (text_[pos_] == '\n') ++line_;
    }
    void skip_space() {
        while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) advance(1);
    }
    void skip_until(std::string_view end, std::string_view what) {
        const auto found = text_.find(end, pos_);
        if (found == std::string_view::npos) error("unterminated ", what);
        advance(found + end.size() - pos_);
    }
    // Prolog, comments, processing instructions, doctype.
    void skip_misc() {
        for (;;) {
            skip_space();
            if (starts_with("<?")) skip_until("?>", "processing instruction");
            else if (starts_with("<!--")) skip_until("-->", "comment");
            else if (starts_with("<!")) skip_until(">", "declaration");
            else return;
        }
    }

    std::string parse_name() {
        const std::size_t start = pos_;
        while (!at_end()) {
            const char c = text_[pos_];
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':') advance(1);
            else break;
        }
        if (pos_ == start) error("expected an element name");
        return std::string(text_.substr(start, pos_ - start));
    }

    std::unique_ptr<XmlNode> parse_element() {
        if (!starts_with("<")) error("expected '<'");
        auto node = std::make_unique<XmlNode>();
        node->line = line_;
        advance(1);
        node->name = parse_name();
        // Attributes: name="value" pairs, skipped.
        for (;;) {
            skip_space();
            if (at_end()) error("unterminated start tag <", node->name, "> (truncated file?)");
            if (starts_with("/>")) {
                advance(2);
                return node;
            }
            if (starts_with(">")) {
                advance(1);
                break;
            }
            parse_name();
            skip_space();
            if (!starts_with("=")) error("malformed attribute in <", node->name, ">");
            advance(1);
            skip_space();
            if (at_end() || (text_[pos_] != '"' && text_[pos_] != '\'')) error("unquoted attribute in <", node->name, ">");
            const char quote = text_[pos_];
            advance(1);
            skip_until(std::string_view(&quote, 1), "attribute value");
        }
        // Content.
        for (;;) {
            if (at_end()) error("element <", node->name, "> (opened on line ", node->line, ") is not closed: truncated file?");
            if (starts_with("</")) {
                advance(2);
                const std::string closing = parse_name();
                if (closing != node->name)
                    error("element <", node->name, "> (line ", node->line, ") closed by </", closing, ">");
                skip_space();
                if (!starts_with(">")) error("malformed end tag </", closing);
                advance(1);
                return node;
            }
            if (starts_with("<!--")) {
                skip_until("-->", "comment");
                continue;
            }
            if (starts_with("<")) {
                node->children.push_back(parse_element());
                continue;
            }
            const std::size_t next = text_.find('<', pos_);
            const std::size_t end = next == std::string_view::npos ? text_.size() : next;
            node->text.append(text_.substr(pos_, end - pos_));
            node->text.push_back(' ');
            advance(end - pos_);
        }
    }

    std::string_view text_;
    std::string source_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

/// The numbers in an element's text.
inline std::vector<double> xml_numbers(const XmlNode& node, const std::string& source) {
    std::vector<double> values;
    const char* p = node.text.c_str();
    for (;;) {
        while (*p != '\0' && std::isspace(static_cast<unsigned char>(*p))) ++p;
        if (*p == '\0') break;
        char* end = nullptr;
        const double v = std::strtod(p, &end);
        if (end == p)
            fail<format_error>("HaarCascade: '", source, "' line ", node.line, ": <", node.name, "> holds '",
                               std::string(p, std::min<std::size_t>(std::strlen(p), 20)), "', expected numbers");
        values.push_back(v);
        p = end;
    }
    return values;
}

// ---- OpenCV's cv::integral with int32 sums and float32 squared sums -------------
struct HaarLayer {
    Index height = 0, width = 0;  // integral size: image size + 1
    std::vector<std::int32_t> sum;
    std::vector<float> sqsum;
    std::vector<std::int32_t> tilted;
};

}  // namespace detail

/// OpenCV's groupRectangles: clusters rectangles whose corners differ by at most
/// eps * (mean of the smaller width and height) / ... (SimilarRects), averages each
/// cluster, keeps clusters with more than group_threshold members and drops clusters
/// nested inside a stronger one. group_threshold <= 0 returns the input unchanged.
inline std::vector<Rect> group_rectangles(const std::vector<Rect>& rects, int group_threshold, double eps = 0.2) {
    if (group_threshold <= 0 || rects.empty()) return rects;
    const auto similar = [eps](const Rect& r1, const Rect& r2) {
        const double delta = eps * (std::min(r1.width, r2.width) + std::min(r1.height, r2.height)) * 0.5;
        return std::abs(r1.x - r2.x) <= delta && std::abs(r1.y - r2.y) <= delta &&
               std::abs(r1.x + r1.width - r2.x - r2.width) <= delta &&
               std::abs(r1.y + r1.height - r2.y - r2.height) <= delta;
    };
    // cv::partition: union-find over the similarity graph; classes numbered by first member.
    const std::size_t n = rects.size();
    std::vector<std::size_t> parent(n);
    for (std::size_t i = 0; i < n; ++i) parent[i] = i;
    auto find = [&](std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    };
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (similar(rects[i], rects[j])) {
                const std::size_t a = find(i), b = find(j);
                if (a != b) parent[std::max(a, b)] = std::min(a, b);
            }
    std::vector<int> label_of_root(n, -1), labels(n);
    int n_classes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t root = find(i);
        if (label_of_root[root] < 0) label_of_root[root] = n_classes++;
        labels[i] = label_of_root[root];
    }
    std::vector<std::array<long long, 4>> sums(static_cast<std::size_t>(n_classes), {0, 0, 0, 0});
    std::vector<int> weights(static_cast<std::size_t>(n_classes), 0);
    for (std::size_t i = 0; i < n; ++i) {
        auto& s = sums[static_cast<std::size_t>(labels[i])];
        s[0] += rects[i].x;
        s[1] += rects[i].y;
        s[2] += rects[i].width;
        s[3] += rects[i].height;
        ++weights[static_cast<std::size_t>(labels[i])];
    }
    std::vector<Rect> averaged(static_cast<std::size_t>(n_classes));
    for (int c = 0; c < n_classes; ++c) {
        // saturate_cast<int>(sum * (1.f / count)) in float, rounded half to even.
        const float s = 1.0f / static_cast<float>(weights[static_cast<std::size_t>(c)]);
        const auto& t = sums[static_cast<std::size_t>(c)];
        auto avg = [s](long long v) { return static_cast<int>(std::lrint(static_cast<float>(v) * s)); };
        averaged[static_cast<std::size_t>(c)] = Rect{avg(t[0]), avg(t[1]), avg(t[2]), avg(t[3])};
    }
    std::vector<Rect> out;
    for (int i = 0; i < n_classes; ++i) {
        const Rect r1 = averaged[static_cast<std::size_t>(i)];
        const int n1 = weights[static_cast<std::size_t>(i)];
        if (n1 <= group_threshold) continue;
        bool nested = false;
        for (int j = 0; j < n_classes && !nested; ++j) {
            const int n2 = weights[static_cast<std::size_t>(j)];
            if (j == i || n2 <= group_threshold) continue;
            const Rect r2 = averaged[static_cast<std::size_t>(j)];
            const int dx = static_cast<int>(std::lrint(r2.width * eps));
            const int dy = static_cast<int>(std::lrint(r2.height * eps));
            nested = r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.width <= r2.x + r2.width + dx &&
                     r1.y + r1.height <= r2.y + r2.height + dy && (n2 > std::max(3, n1) || n1 < 3);
        }
        if (!nested) out.push_back(r1);
    }
    return out;
}

/// OpenCV's clipObjects: each rectangle intersected with the width x height image;
/// rectangles left empty are dropped.
inline std::vector<Rect> clip_rectangles(const std::vector<Rect>& rects, int width, int height) {
    const Rect frame{0, 0, width, height};
    std::vector<Rect> out;
    for (const auto& r : rects)
        if (const Rect clipped = intersection(frame, r); !clipped.empty()) out.push_back(clipped);
    return out;
}

/// A trained Haar cascade (OpenCV's XML format) and its multi-scale detector.
class HaarCascade {
public:
    struct Feature {
        std::array<std::array<int, 4>, 3> rects{};  ///< x, y, w, h in window coordinates
        std::array<float, 3> weights{};             ///< 0 for unused rectangles
        bool tilted = false;
    };
    struct Node {  ///< an internal node of a weak tree (a stump is one node)
        int left = 0, right = 0;  ///< > 0: next node index in the tree; <= 0: -leaf index
        int feature = 0;
        float threshold = 0;
    };
    struct Tree {
        std::vector<Node> nodes;
        std::vector<float> leaves;
    };
    struct Stage {
        float threshold = 0;  ///< stageThreshold - 1e-5
        std::vector<Tree> trees;
    };

    /// Reads a cascade file. io_error if it cannot be read, format_error if malformed.
    static HaarCascade load(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) detail::fail<io_error>("HaarCascade::load: cannot open '", path.string(), "'");
        const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        return parse(text, path.string());
    }

    /// Parses cascade XML held in memory; `source` names it in errors.
    static HaarCascade parse(std::string_view xml, const std::string& source = "<memory>") {
        auto fail = [&](int line, auto&&... parts) {
            detail::fail<format_error>("HaarCascade: '", source, "' line ", line, ": ", parts...);
        };
        if (xml.empty()) detail::fail<format_error>("HaarCascade: '", source, "' is empty");
        const auto document = detail::XmlParser(xml, source).parse_document();
        if (document->name != "opencv_storage")
            fail(document->line, "root element is <", document->name, ">, expected <opencv_storage> (an OpenCV cascade file)");
        if (document->children.empty()) fail(document->line, "<opencv_storage> is empty");
        const detail::XmlNode& root = *document->children.front();
        auto required = [&](const detail::XmlNode& parent, std::string_view name) -> const detail::XmlNode& {
            const auto* c = parent.child(name);
            if (c == nullptr) fail(parent.line, "<", parent.name, "> has no <", name, "> element");
            return *c;
        };
        auto text_of = [](const detail::XmlNode& n) {
            std::string t = n.text;
            t.erase(0, t.find_first_not_of(" \t\r\n"));
            t.erase(t.find_last_not_of(" \t\r\n") + 1);
            return t;
        };
        if (root.child("stageType") == nullptr) {
            if (root.child("stages") != nullptr || root.child("size") != nullptr)
                fail(root.line, "<", root.name, "> is an old-format (opencv-haar-classifier) cascade; "
                     "convert it with opencv_traincascade's new format");
            fail(root.line, "<", root.name, "> is not a cascade (no <stageType>)");
        }
        if (const auto st = text_of(required(root, "stageType")); st != "BOOST")
            fail(required(root, "stageType").line, "stageType '", st, "' is not supported (expected BOOST)");
        if (const auto ft = text_of(required(root, "featureType")); ft != "HAAR")
            fail(required(root, "featureType").line, "featureType '", ft, "' is not supported (expected HAAR)");
        auto integer = [&](const detail::XmlNode& n) {
            const auto v = detail::xml_numbers(n, source);
            if (v.size() != 1 || v[0] != std::floor(v[0])) fail(n.line, "<", n.name, "> must hold one integer");
            return static_cast<int>(v[0]);
        };
        HaarCascade c;
        c.width_ = integer(required(root, "width"));
        c.height_ = integer(required(root, "height"));
        if (c.width_ < 3 || c.height_ < 3 || c.width_ > 1024 || c.height_ > 1024)
            fail(root.line, "window size ", c.width_, " x ", c.height_, " is invalid");
        if (const auto* params = root.child("featureParams"); params != nullptr)
            if (const auto* cats = params->child("maxCatCount"); cats != nullptr && integer(*cats) != 0)
                fail(cats->line, "categorical features (maxCatCount ", integer(*cats), ") are not supported");

        const auto& features = required(root, "features");
        for (const auto& f : features.children) {
            Feature feature;
            const auto& rects = required(*f, "rects");
            if (rects.children.empty() || rects.children.size() > 3)
                fail(rects.line, "a feature needs 1 to 3 rectangles, found ", rects.children.size());
            for (std::size_t r = 0; r < rects.children.size(); ++r) {
                const auto v = detail::xml_numbers(*rects.children[r], source);
                if (v.size() != 5) fail(rects.children[r]->line, "a rectangle needs 'x y w h weight', found ", v.size(), " numbers");
                for (int k = 0; k < 4; ++k) feature.rects[r][static_cast<std::size_t>(k)] = static_cast<int>(v[static_cast<std::size_t>(k)]);
                feature.weights[r] = static_cast<float>(v[4]);
            }
            if (const auto* t = f->child("tilted"); t != nullptr) feature.tilted = integer(*t) != 0;
            c.has_tilted_ = c.has_tilted_ || feature.tilted;
            for (std::size_t r = 0; r < rects.children.size(); ++r) {
                const auto& q = feature.rects[r];
                const bool inside = feature.tilted
                                        ? (q[0] - q[3] >= 0 && q[0] + q[2] <= c.width_ && q[1] >= 0 && q[1] + q[2] + q[3] <= c.height_)
                                        : (q[0] >= 0 && q[1] >= 0 && q[0] + q[2] <= c.width_ && q[1] + q[3] <= c.height_);
                if (!inside || q[2] <= 0 || q[3] <= 0)
                    fail(rects.children[r]->line, "rectangle ", q[0], " ", q[1], " ", q[2], " ", q[3],
                         " lies outside the ", c.width_, " x ", c.height_, " window");
            }
            c.features_.push_back(feature);
        }
        if (c.features_.empty()) fail(features.line, "<features> is empty");

        const auto& stages = required(root, "stages");
        for (const auto& s : stages.children) {
            Stage stage;
            const auto threshold = detail::xml_numbers(required(*s, "stageThreshold"), source);
            if (threshold.size() != 1) fail(s->line, "<stageThreshold> must hold one number");
            stage.threshold = static_cast<float>(threshold[0]) - 1e-5f;
            const auto& weak = required(*s, "weakClassifiers");
            for (const auto& w : weak.children) {
                const auto nodes = detail::xml_numbers(required(*w, "internalNodes"), source);
                const auto leaves = detail::xml_numbers(required(*w, "leafValues"), source);
                if (nodes.empty() || nodes.size() % 4 != 0 || leaves.size() != nodes.size() / 4 + 1)
                    fail(w->line, "weak classifier has ", nodes.size(), " internal-node values and ", leaves.size(),
                         " leaves (expected 4 per node and one leaf more than nodes)");
                Tree tree;
                const int n_nodes = static_cast<int>(nodes.size() / 4);
                for (int k = 0; k < n_nodes; ++k) {
                    Node node;
                    node.left = static_cast<int>(nodes[static_cast<std::size_t>(4 * k)]);
                    node.right = static_cast<int>(nodes[static_cast<std::size_t>(4 * k + 1)]);
                    node.feature = static_cast<int>(nodes[static_cast<std::size_t>(4 * k + 2)]);
                    node.threshold = static_cast<float>(nodes[static_cast<std::size_t>(4 * k + 3)]);
                    if (node.feature < 0 || node.feature >= static_cast<int>(c.features_.size()))
                        fail(w->line, "weak classifier uses feature ", node.feature, " but the file defines ",
                             c.features_.size());
                    for (int next : {node.left, node.right})
                        if (next >= n_nodes || -next >= static_cast<int>(leaves.size()) || (next > 0 && next <= k))
                            fail(w->line, "weak classifier node ", k, " points to ", next, ", outside its tree");
                    tree.nodes.push_back(node);
                }
                for (double v : leaves) tree.leaves.push_back(static_cast<float>(v));
                c.max_nodes_ = std::max(c.max_nodes_, n_nodes);
                stage.trees.push_back(std::move(tree));
            }
            if (stage.trees.empty()) fail(weak.line, "stage without weak classifiers");
            c.stages_.push_back(std::move(stage));
        }
        if (c.stages_.empty()) fail(stages.line, "<stages> is empty");
        return c;
    }

    [[nodiscard]] int window_width() const { return width_; }
    [[nodiscard]] int window_height() const { return height_; }
    [[nodiscard]] const std::vector<Stage>& stages() const { return stages_; }
    [[nodiscard]] const std::vector<Feature>& features() const { return features_; }
    [[nodiscard]] bool has_tilted_features() const { return has_tilted_; }

    /// cv::CascadeClassifier::detectMultiScale on an 8-bit grayscale image.
    [[nodiscard]] std::vector<Rect> detect(const Image<std::uint8_t>& gray, const DetectParams& params = {}) const {
        const auto candidates = detect_candidates(gray, params);
        return clip_rectangles(group_rectangles(candidates, params.min_neighbors, 0.2), static_cast<int>(gray.width()),
                               static_cast<int>(gray.height()));
    }

    /// Every window accepted by the cascade, before grouping and clipping (scale by
    /// scale, row by row): detect() = clip_rectangles(group_rectangles(candidates)).
    [[nodiscard]] std::vector<Rect> detect_candidates(const Image<std::uint8_t>& gray, const DetectParams& params = {}) const {
        check_detect_input(gray, params);
        const int W = static_cast<int>(gray.width()), H = static_cast<int>(gray.height());
        const int max_w = params.max_width > 0 ? params.max_width : W;
        const int max_h = params.max_height > 0 ? params.max_height : H;
        std::vector<float> scales;
        for (double factor = 1;; factor *= params.scale_factor) {
            const int win_w = static_cast<int>(std::lrint(width_ * factor));
            const int win_h = static_cast<int>(std::lrint(height_ * factor));
            if (win_w > max_w || win_h > max_h || win_w > W || win_h > H) break;
            if (win_w < params.min_width || win_h < params.min_height) continue;
            scales.push_back(static_cast<float>(factor));
        }
        // Scales are independent jobs (resize, integrals, scan), handed out largest first
        // to the workers; their candidates are concatenated in scale order.
        std::vector<std::vector<Rect>> per_scale(scales.size());
        parallel_for_dynamic(0, static_cast<std::int64_t>(scales.size()), params.n_threads, [&](std::int64_t i) {
            const float scale = scales[static_cast<std::size_t>(i)];
            const Index sw = std::lrint(static_cast<float>(W) / scale);
            const Index sh = std::lrint(static_cast<float>(H) / scale);
            const Image<std::uint8_t> scaled =
                (sw == W && sh == H) ? gray : resize(gray, sh, sw, Interpolation::bilinear_exact);
            detail::HaarLayer layer;
            build_layer(scaled, layer);
            scan_layer(layer, scale, per_scale[static_cast<std::size_t>(i)]);
        });
        std::vector<Rect> candidates;
        for (const auto& found : per_scale) candidates.insert(candidates.end(), found.begin(), found.end());
        return candidates;
    }

private:
    static void check_detect_input(const Image<std::uint8_t>& gray, const DetectParams& p) {
        if (gray.channels() != 1)
            detail::fail("HaarCascade::detect: expected a grayscale image, got ", gray.channels(),
                         " channels (read it with ColorMode::gray)");
        if (gray.height() == 0 || gray.width() == 0)
            detail::fail("HaarCascade::detect: empty image (", gray.height(), " x ", gray.width(), ")");
        if (!(p.scale_factor > 1.0) || !std::isfinite(p.scale_factor))
            detail::fail("HaarCascade::detect: scale_factor must be > 1, got ", p.scale_factor);
        if (p.min_neighbors < 0) detail::fail("HaarCascade::detect: min_neighbors must be >= 0, got ", p.min_neighbors);
        if (p.min_width < 0 || p.min_height < 0 || p.max_width < 0 || p.max_height < 0)
            detail::fail("HaarCascade::detect: sizes must be >= 0, got min ", p.min_width, " x ", p.min_height, ", max ",
                         p.max_width, " x ", p.max_height);
        if (p.n_threads < 0) detail::fail("HaarCascade::detect: n_threads must be >= 0, got ", p.n_threads);
    }

    /// cv::integral(img, sum (int32), sqsum (float32), tilted (int32)), row by row as OpenCV sums.
    void build_layer(const Image<std::uint8_t>& image, detail::HaarLayer& layer) const {
        const Index H = image.height(), W = image.width(), step = W + 1;
        layer.height = H + 1;
        layer.width = step;
        layer.sum.assign(static_cast<std::size_t>((H + 1) * step), 0);
        layer.sqsum.assign(static_cast<std::size_t>((H + 1) * step), 0.0f);
        for (Index y = 0; y < H; ++y) {
            const std::uint8_t* src = image.data() + y * W;
            std::int32_t s = 0;
            float sq = 0.0f;
            std::int32_t* sum = layer.sum.data() + (y + 1) * step + 1;
            float* sqsum = layer.sqsum.data() + (y + 1) * step + 1;
            for (Index x = 0; x < W; ++x) {
                const std::int32_t v = src[x];
                s += v;
                sq += static_cast<float>(v * v);
                sum[x] = sum[x - step] + s;
                sqsum[x] = sqsum[x - step] + sq;
            }
        }
        if (has_tilted_) {
            const auto t = integral_tilted_i32(image);
            layer.tilted = t;
        } else {
            layer.tilted.clear();
        }
    }

    static std::vector<std::int32_t> integral_tilted_i32(const Image<std::uint8_t>& image) {
        const Index H = image.height(), W = image.width(), step = W + 1, pad = H + 1, ext = W + 1 + 2 * pad;
        std::vector<std::int64_t> previous(static_cast<std::size_t>(ext), 0), before(static_cast<std::size_t>(ext), 0),
            current(static_cast<std::size_t>(ext), 0);
        auto pixel = [&](Index y, Index x) -> std::int64_t {
            return (y >= 0 && y < H && x >= 0 && x < W) ? image.data()[y * W + x] : 0;
        };
        std::vector<std::int32_t> out(static_cast<std::size_t>((H + 1) * step), 0);
        for (Index Y = 1; Y <= H; ++Y) {
            for (Index e = 0; e < ext; ++e) {
                const std::int64_t left = e > 0 ? previous[static_cast<std::size_t>(e - 1)] : 0;
                const std::int64_t right = e + 1 < ext ? previous[static_cast<std::size_t>(e + 1)] : 0;
                current[static_cast<std::size_t>(e)] = left + right - before[static_cast<std::size_t>(e)] +
                                                       pixel(Y - 1, e - pad - 1) + pixel(Y - 2, e - pad - 1);
            }
            for (Index X = 0; X <= W; ++X)
                out[static_cast<std::size_t>(Y * step + X)] = static_cast<std::int32_t>(current[static_cast<std::size_t>(X + pad)]);
            before.swap(previous);
            previous.swap(current);
        }
        return out;
    }

    /// Feature rectangles as offsets into one layer (OpenCV's OptFeature).
    struct OptFeature {
        std::array<std::array<int, 4>, 3> ofs{};
        std::array<float, 3> weights{};
        bool tilted = false;
    };

    [[nodiscard]] std::vector<OptFeature> offsets(Index step) const {
        std::vector<OptFeature> out(features_.size());
        const int s = static_cast<int>(step);
        for (std::size_t f = 0; f < features_.size(); ++f) {
            const Feature& feature = features_[f];
            OptFeature& o = out[f];
            o.weights = feature.weights;
            o.tilted = feature.tilted;
            for (std::size_t r = 0; r < 3; ++r) {
                const auto [x, y, w, h] = feature.rects[r];
                if (feature.weights[r] == 0.0f && r > 0) continue;
                if (feature.tilted)
                    o.ofs[r] = {x + s * y, x - h + s * (y + h), x + w + s * (y + w), x + w - h + s * (y + w + h)};
                else
                    o.ofs[r] = {x + s * y, x + w + s * y, x + s * (y + h), x + w + s * (y + h)};
            }
        }
        return out;
    }

    /// A stump with its rectangles as offsets into one layer: the evaluation of a
    /// stump cascade walks this flat array (no pointer chasing).
    struct FlatStump {
        std::array<std::array<int, 4>, 3> ofs{};
        std::array<float, 3> weights{};
        float threshold = 0, left = 0, right = 0;
        bool tilted = false;
    };

    [[nodiscard]] std::vector<FlatStump> flat_stumps(const std::vector<OptFeature>& opt) const {
        std::vector<FlatStump> out;
        for (const Stage& stage : stages_)
            for (const Tree& tree : stage.trees) {
                const Node& node = tree.nodes.front();
                const OptFeature& f = opt[static_cast<std::size_t>(node.feature)];
                out.push_back(FlatStump{f.ofs, f.weights, node.threshold, tree.leaves[0], tree.leaves[1], f.tilted});
            }
        return out;
    }

    /// 1 / sqrt(A * sum(I^2) - sum(I)^2) over the normalisation rectangle (OpenCV's setWindow).
    [[nodiscard]] float variance_norm(const detail::HaarLayer& layer, Index offset, const std::array<int, 4>& n) const {
        const std::int32_t* pwin = layer.sum.data() + offset;
        const float* pq = layer.sqsum.data() + offset;
        const std::int32_t valsum = pwin[n[0]] - pwin[n[1]] - pwin[n[2]] + pwin[n[3]];
        const float valsqsum = pq[n[0]] - pq[n[1]] - pq[n[2]] + pq[n[3]];
        const double area = static_cast<double>(width_ - 2) * (height_ - 2);
        double nf = detail::rounded(area * static_cast<double>(valsqsum)) - detail::rounded(static_cast<double>(valsum) * valsum);
        nf = nf > 0.0 ? std::sqrt(nf) : 1.0;
        return static_cast<float>(1.0 / nf);
    }

    /// Weighted rectangle sums of one feature (OpenCV's OptFeature::calc), float.
    static float feature_sum(const std::int32_t* base, const std::array<std::array<int, 4>, 3>& ofs,
                             const std::array<float, 3>& w) {
        auto rect = [&](std::size_t r) {
            const auto& o = ofs[r];
            return static_cast<float>(base[o[0]] - base[o[1]] - base[o[2]] + base[o[3]]);
        };
        const float p0 = detail::rounded(w[0] * rect(0));
        const float p1 = detail::rounded(w[1] * rect(1));
        float value = p0 + p1;
        if (w[2] != 0.0f) {
            const float p2 = detail::rounded(w[2] * rect(2));
            value = value + p2;
        }
        return value;
    }

    /// Evaluates a stump cascade at one window: 1 if accepted, else -(index of the rejecting stage).
    int run_stumps(const detail::HaarLayer& layer, const std::vector<FlatStump>& stumps, Index offset,
                   const std::array<int, 4>& norm_ofs) const {
        const float norm = variance_norm(layer, offset, norm_ofs);
        const std::int32_t* pwin = layer.sum.data() + offset;
        const std::int32_t* ptilt = layer.tilted.empty() ? nullptr : layer.tilted.data() + offset;
        const FlatStump* st = stumps.data();
        for (std::size_t s = 0; s < stages_.size(); ++s) {
            double sum = 0;
            const std::size_t n = stages_[s].trees.size();
            for (std::size_t k = 0; k < n; ++k, ++st) {
                const double value = feature_sum(st->tilted ? ptilt : pwin, st->ofs, st->weights) * norm;
                sum += value < st->threshold ? st->left : st->right;
            }
            if (sum < stages_[s].threshold) return -static_cast<int>(s);
        }
        return 1;
    }

    /// Evaluates a tree cascade at one window (OpenCV's predictOrdered).
    int run_trees(const detail::HaarLayer& layer, const std::vector<OptFeature>& opt, Index offset,
                  const std::array<int, 4>& norm_ofs) const {
        const float norm = variance_norm(layer, offset, norm_ofs);
        const std::int32_t* pwin = layer.sum.data() + offset;
        const std::int32_t* ptilt = layer.tilted.empty() ? nullptr : layer.tilted.data() + offset;
        for (std::size_t s = 0; s < stages_.size(); ++s) {
            const Stage& stage = stages_[s];
            double sum = 0;
            for (const Tree& tree : stage.trees) {
                int idx = 0;
                do {
                    const Node& node = tree.nodes[static_cast<std::size_t>(idx)];
                    const OptFeature& f = opt[static_cast<std::size_t>(node.feature)];
                    const double value = feature_sum(f.tilted ? ptilt : pwin, f.ofs, f.weights) * norm;
                    idx = value < node.threshold ? node.left : node.right;
                } while (idx > 0);
                sum += tree.leaves[static_cast<std::size_t>(-idx)];
            }
            if (sum < stage.threshold) return -static_cast<int>(s);
        }
        return 1;
    }

    void scan_layer(const detail::HaarLayer& layer, float scale, std::vector<Rect>& candidates) const {
        const Index work_w = std::max<Index>(layer.width - width_, 0);
        const Index work_h = std::max<Index>(layer.height - height_, 0);
        if (work_w == 0 || work_h == 0) return;
        const Index ystep = scale >= 2.0f ? 1 : 2;
        const auto opt = offsets(layer.width);
        const bool stumps_only = max_nodes_ == 1;
        const std::vector<FlatStump> stumps = stumps_only ? flat_stumps(opt) : std::vector<FlatStump>{};
        const int s = static_cast<int>(layer.width);
        // normrect = (1, 1, width - 2, height - 2).
        const std::array<int, 4> norm_ofs = {1 + s, 1 + (width_ - 2) + s, 1 + s * (1 + height_ - 2),
                                             1 + (width_ - 2) + s * (1 + height_ - 2)};
        const int win_w = static_cast<int>(std::lrint(static_cast<float>(width_) * scale));
        const int win_h = static_cast<int>(std::lrint(static_cast<float>(height_) * scale));
        for (Index y = 0; y < work_h; y += ystep) {
            {
                auto& found = candidates;
                for (Index x = 0; x < work_w; x += ystep) {
                    const Index offset = y * layer.width + x;
                    const int result = stumps_only ? run_stumps(layer, stumps, offset, norm_ofs)
                                                   : run_trees(layer, opt, offset, norm_ofs);
                    if (result > 0)
                        found.push_back(Rect{static_cast<int>(std::lrint(static_cast<float>(x) * scale)),
                                             static_cast<int>(std::lrint(static_cast<float>(y) * scale)), win_w, win_h});
                    if (result == 0) x += ystep;  // rejected by the first stage: skip the next position
                }
            }
        }
    }

    int width_ = 0, height_ = 0;
    int max_nodes_ = 0;
    bool has_tilted_ = false;
    std::vector<Feature> features_;
    std::vector<Stage> stages_;
};

}  // namespace feral

