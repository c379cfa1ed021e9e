// emotion_photo — finds the faces in any photo and labels each with its expression, using a
// network saved by Study 5 (or any feral Sequential trained on 48x48 grayscale faces).
//
//   emotion_photo --model out5/model.feral --output labelled.png photo.jpg
//   emotion_photo --model model.feral --output labelled.png --cascade my_cascade.xml photo.jpg
//
// Steps, as the study's demo did them:
//   1. read the photo twice: grayscale for the detector and the network, RGB to draw on;
//   2. find faces with OpenCV's frontal-face Haar cascade (feral's own detector reads the
//      XML; --cascade, default /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml);
//   3. crop each face, shrink it to the model's input (48x48) with area averaging (as
//      cv2.resize INTER_AREA), scale pixels to [0, 1] as in training;
//   4. classify all faces at once (softmax probabilities), print one line per face;
//   5. draw a box and "label confidence" over each face and write an RGB PNG.
//
// Exit code 0 on success; 1 with a message on bad input (missing photo or cascade, a file
// that is not a model, no face found) or when --output exists (add --overwrite).
// Where a face model comes from:
//   study5_five_models --train fer2013/train --test fer2013/test --report out5   # writes out5/model.feral
#include <feral/core/error.hpp>
#include <feral/data/dataset.hpp>
#include <feral/data/image_io.hpp>
#include <feral/data/transforms.hpp>
#include <feral/nn/sequential.hpp>
#include <feral/vision/draw.hpp>
#include <feral/vision/haar_cascade.hpp>
#include <feral/vision/resize.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

// One colour per FER2013 class (angry, disgust, fear, happy, sad, surprise, neutral).
feral::Color class_colour(feral::Index k) {
    static const feral::Color palette[] = {{230, 40, 40},  {120, 190, 40}, {160, 80, 220}, {250, 210, 0},
                                           {40, 110, 230}, {250, 130, 0},  {200, 200, 200}};
    return palette[k % 7];
}

std::string label_text(const std::string& name, double probability) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s %.2f", name.c_str(), probability);
    return buffer;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Label the facial expression of every face in a photo with a saved feral network"};
    std::string photo_path, model_path, output_path;
    std::string cascade_path = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    bool overwrite = false;
    int threads = 0, min_neighbors = 5, min_face = 30;
    app.add_option("photo", photo_path, "the photo (PNG, JPEG, BMP, ...)")->required();
    app.add_option("--model", model_path, "a Sequential saved by feral (e.g. study5_five_models --report DIR writes DIR/model.feral)")
        ->required();
    app.add_option("--output", output_path, "the annotated PNG to write")->required();
    app.add_option("--cascade", cascade_path, "OpenCV Haar cascade XML for faces")->capture_default_str();
    app.add_flag("--overwrite", overwrite, "replace an existing --output file");
    app.add_option("--threads", threads, "threads (0 = FERAL_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--min-neighbors", min_neighbors, "detector: overlapping detections a face needs")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--min-face", min_face, "detector: smallest face in pixels")->check(CLI::NonNegativeNumber)->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;  // --help exits 0; a usage mistake is bad input too: 1
    }

    try {
        // Check the cheap things first, so a mistake costs no work.
        if (!std::filesystem::is_regular_file(photo_path))
            throw feral::io_error("photo '" + photo_path + "' does not exist");
        if (!overwrite && std::filesystem::exists(output_path))
            throw feral::io_error("'" + output_path + "' exists (add --overwrite to replace it)");
        if (!std::filesystem::is_regular_file(cascade_path))
            throw feral::io_error("cascade '" + cascade_path + "' does not exist (pass --cascade FILE)");

        // The network: its input shape says how to prepare a face.
        auto model = feral::nn::Sequential<>::load(model_path);
        model.set_threads(threads);
        const feral::nn::Shape input = model.input_shape();
        if (input.channels != 1)
            throw feral::invalid_argument("the model '" + model_path + "' takes " + std::to_string(input.channels) +
                                          "-channel images; emotion_photo feeds grayscale faces (1 channel)");
        std::vector<std::string> names = model.class_names();
        if (names.empty() && model.num_classes() == 7) names = feral::fer2013_class_names();
        for (feral::Index k = static_cast<feral::Index>(names.size()); k < model.num_classes(); ++k)
            names.push_back("class " + std::to_string(k));

        // 1. the photo, grayscale and RGB.
        const auto gray = feral::read_image(photo_path, feral::ColorMode::gray);
        auto canvas = feral::read_image(photo_path, feral::ColorMode::rgb);

        // 2. faces.
        const auto cascade = feral::HaarCascade::load(cascade_path);
        const std::vector<feral::Rect> faces =
            cascade.detect(gray, {.scale_factor = 1.1, .min_neighbors = min_neighbors, .min_width = min_face,
                                  .min_height = min_face, .n_threads = threads});
        if (faces.empty()) {
            std::cerr << "error: no face found in '" << photo_path << "' (" << gray.width() << " x " << gray.height()
                      << "; try --min-neighbors 3 or a smaller --min-face); nothing written\n";
            return 1;
        }

        // 3. each face cropped, shrunk to the model's input and scaled as in training
        //    (to_float, as Sequential::to_input).
        std::vector<feral::Image<std::uint8_t>> crops;
        for (const feral::Rect& f : faces)
            crops.push_back(feral::resize(feral::crop(gray, f.y, f.x, f.height, f.width), input.height, input.width,
                                          feral::Interpolation::area));
        const feral::Matrix<float> batch = feral::to_float<float>(feral::flatten(crops), feral::PixelScale::unit);

        // 4. probabilities for every face at once.
        const feral::Matrix<float> probabilities = model.predict_proba(batch);

        // 5. boxes and labels; text size grows with the photo.
        const int thickness = std::max<int>(2, static_cast<int>(std::min(canvas.width(), canvas.height()) / 200));
        const int text_scale = std::max<int>(1, static_cast<int>(std::min(canvas.width(), canvas.height()) / 250));
        for (std::size_t i = 0; i < faces.size(); ++i) {
            const feral::Rect& f = faces[i];
            feral::Index best = 0;
            const double confidence = probabilities.row(static_cast<feral::Index>(i)).maxCoeff(&best);
            const std::string& name = names[static_cast<std::size_t>(best)];
            std::printf("face %zu at x %d, y %d, %d x %d: %s %.1f%%\n", i + 1, f.x, f.y, f.width, f.height, name.c_str(),
                        100.0 * confidence);
            const feral::Color colour = class_colour(best);
            feral::draw_rectangle(canvas, f, colour, thickness);
            feral::draw_label(canvas, f, label_text(name, confidence), feral::Color{0, 0, 0}, colour, text_scale);
        }
        feral::write_png(output_path, canvas, overwrite ? feral::Overwrite::yes : feral::Overwrite::no);
        std::cout << "wrote " << output_path << " (" << faces.size() << (faces.size() == 1 ? " face" : " faces") << ")\n";
        return 0;
    } catch (const std::exception& e) {  // feral::error and, say, a failed allocation on a corrupt file
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
