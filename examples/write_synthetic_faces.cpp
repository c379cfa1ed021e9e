// write_synthetic_faces — draws feral's built-in synthetic faces and writes them as PNG files,
// so a person can look at what the comparison programs train on.
//
//   write_synthetic_faces --out faces --per-class 8 --seed 42 [--zoom 3] [--files] [--overwrite]
//
// Writes faces/grid.png: one row per class (angry, disgust, fear, happy, sad, surprise,
// neutral), --per-class faces each, enlarged --zoom times; with --files also every face as
// faces/<class>/<index>.png. The difficulty knobs of SyntheticFacesConfig are options too
// (--noise, --occlusion, --intensity-min, ...).
#include <feral/core/error.hpp>
#include <feral/data/image_io.hpp>
#include <feral/data/synthetic_faces.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    CLI::App app{"Write feral's synthetic faces as PNG files (a grid, and optionally one file per face)"};
    std::string out = "synthetic_faces";
    feral::Index per_class = 8;
    std::uint64_t seed = 42;
    int zoom = 3;
    bool files = false, overwrite = false;
    feral::SyntheticFacesConfig config;
    app.add_option("--out", out, "output folder")->capture_default_str();
    app.add_option("--per-class", per_class, "faces per class")->check(CLI::Range(1, 10000))->capture_default_str();
    app.add_option("--seed", seed, "random seed (same seed, same faces)")->capture_default_str();
    app.add_option("--zoom", zoom, "grid enlargement factor (nearest neighbour)")->check(CLI::Range(1, 16))->capture_default_str();
    app.add_flag("--files", files, "also write every face as <out>/<class>/<index>.png");
    app.add_flag("--overwrite", overwrite, "replace existing files");
    app.add_option("--intensity-min", config.intensity_min, "weakest expression intensity (0..1)")->capture_default_str();
    app.add_option("--expression-jitter", config.expression_jitter, "per-image spread of expression parameters")->capture_default_str();
    app.add_option("--identity-jitter", config.identity_jitter, "person-to-person variation")->capture_default_str();
    app.add_option("--rotation", config.rotation_degrees, "rotation range in degrees (+-)")->capture_default_str();
    app.add_option("--lighting", config.lighting, "lighting variation")->capture_default_str();
    app.add_option("--noise", config.noise, "pixel noise standard deviation (0..255)")->capture_default_str();
    app.add_option("--occlusion", config.occlusion, "probability of an occluder")->capture_default_str();
    app.add_option("--threads", config.n_threads, "threads (0 = FERAL_NUM_THREADS or all cores)")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        namespace fs = std::filesystem;
        const auto data = feral::make_synthetic_faces(per_class, seed, config);
        const auto when = overwrite ? feral::Overwrite::yes : feral::Overwrite::no;
        fs::create_directories(out);

        // Grid: classes down, faces across, one pixel of gap.
        const feral::Index cell = 48 * zoom + zoom, classes = data.num_classes();
        feral::Image<> grid(classes * cell, per_class * cell, 1, 255);
        for (feral::Index i = 0; i < data.size(); ++i) {
            const feral::Index row = data.labels[i], col = i - row * per_class;
            for (feral::Index y = 0; y < 48 * zoom; ++y)
                for (feral::Index x = 0; x < 48 * zoom; ++x)
                    grid(row * cell + y, col * cell + x) = data.pixels(i, (y / zoom) * 48 + x / zoom);
        }
        const auto grid_path = fs::path(out) / "grid.png";
        feral::write_png(grid_path, grid, when);
        std::cout << "wrote " << grid_path.string() << " (rows:";
        for (const auto& name : data.class_names) std::cout << ' ' << name;
        std::cout << ")\n";

        if (files) {
            for (feral::Index i = 0; i < data.size(); ++i) {
                const auto& name = data.class_names[static_cast<std::size_t>(data.labels[i])];
                const auto dir = fs::path(out) / name;
                fs::create_directories(dir);
                const std::uint8_t* row = data.pixels.row(i).data();
                feral::write_png(dir / (std::to_string(i) + ".png"), feral::Image<>(48, 48, 1, std::vector<std::uint8_t>(row, row + 48 * 48)), when);
            }
            std::cout << "wrote " << data.size() << " face files under " << out << "\n";
        }
    } catch (const feral::error& e) {
        std::cerr << "write_synthetic_faces: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
