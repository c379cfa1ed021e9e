// feral/data/synthetic_faces.hpp — a built-in data set of drawn 48x48 faces showing the seven
// FER2013 expressions, so every comparison program runs on a fresh machine with no download.
//
//   auto data = feral::make_synthetic_faces(500, 42);             // 500 faces per class
//   auto imbalanced = feral::make_synthetic_faces({400, 44, 410, 720, 480, 310, 490}, 42);
//   auto easy = feral::make_synthetic_faces(500, 42, {.intensity_min = 0.8, .noise = 4});
//
// The result is a Dataset with fer2013_class_names(), shape 1x48x48, images grouped by class
// (all of class 0, then class 1, ...); split or shuffle it before training.
//
// How a face is drawn (everything in a face-centred frame u, v in [-1, 1], v pointing down,
// then posed into the image):
//   identity  head width and height, eye spacing and size, brow thickness and height, nose
//             length, mouth width and height, a resting mouth curvature, skin, hair and
//             background tones, hairline — drawn fresh for every image;
//   expression seven parameter sets (brow raise, inner-brow raise, brow arch, eye opening,
//             mouth curvature, mouth opening, mouth width, teeth, sneer, wrinkles); each image
//             moves from a neutral face towards its class's set by an intensity drawn from
//             [intensity_min, 1], with per-parameter jitter (expression_jitter);
//   pose      rotation, scale, shift and a yaw that slides the features sideways;
//   lighting  brightness, contrast and a directional shading gradient;
//   clutter   pixel noise (nearly Gaussian: a scaled sum of four uniforms), and with probability `occlusion` a hand-like blob, a dark band
//             (sunglasses) or a bright patch over part of the face.
// Expression cues are local and shape-based (brow angle, mouth curve and opening, eye
// opening, wrinkles) while identity, pose and lighting move pixels far more, so linear
// models on raw pixels land well below models that learn local features.
//
// Determinism: image i of the output is drawn from Random(seed).fork(i) only, so the same
// (counts, seed, config) gives bit-identical images for every thread count.
//
// Difficulty knobs (SyntheticFacesConfig). The defaults were calibrated on 7 x 600 training and
// 7 x 300 test faces (seeds 1 and 2): nearest centroid on pixels scores 19 %, a ridge
// (least-squares one-vs-rest) linear classifier on standardised pixels 51 %, the same ridge on
// HOG features (9 orientations, 8x8 cells, 2x2 blocks) 65 % — chance is 14 %. Models that
// learn local shape features (CNNs) have room above that; naive Bayes and clustering sit
// near the bottom.
//   intensity_min       weakest expression intensity (0 = some faces look neutral)
//   expression_jitter   per-image spread of each expression parameter
//   identity_jitter     how much faces differ from person to person
//   rotation_degrees, scale_jitter, shift_pixels, yaw   pose ranges (uniform, +-)
//   lighting            strength of brightness, contrast and shading changes
//   noise               standard deviation of the pixel noise (0..255 scale)
//   occlusion           probability that part of the face is covered
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/dataset.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace feral {

struct SyntheticFacesConfig {
    double intensity_min = 0.40;      ///< expression intensity is uniform in [intensity_min, 1]
    double expression_jitter = 0.25;  ///< per-image noise on each expression parameter (in units of its range)
    double identity_jitter = 1.0;     ///< 0 = everyone has the average face, 1 = the default spread
    double rotation_degrees = 8.0;    ///< in-plane rotation, uniform in +-rotation_degrees
    double scale_jitter = 0.07;       ///< face scale, uniform in 1 +- scale_jitter
    double shift_pixels = 2.0;        ///< translation, uniform in +-shift_pixels on each axis
    double yaw = 0.08;                ///< sideways slide of the features (head turn), +-yaw
    double lighting = 1.0;            ///< 0 = flat studio light, 1 = the default variation
    double noise = 10.0;              ///< pixel noise (near Gaussian), standard deviation on the 0..255 scale
    double occlusion = 0.15;          ///< probability that an occluder covers part of the face
    int n_threads = 0;                ///< 0 = FERAL_NUM_THREADS or all cores
};

namespace detail {

/// The parameters an expression moves. Neutral is all zeros except eye_open = 1.
struct ExpressionParams {
    double brow_raise = 0;   ///< both brows up (+) or down (-), face units
    double brow_inner = 0;   ///< inner ends up (+, sad/fear) or down (-, angry)
    double brow_arch = 0;    ///< extra arch
    double eye_open = 1;     ///< eye opening relative to neutral (0.35 squint .. 1.6 wide)
    double mouth_curve = 0;  ///< corners up (+, smile) or down (-)
    double mouth_open = 0;   ///< opening height, face units
    double mouth_width = 0;  ///< relative change of width (+ wider)
    double teeth = 0;        ///< brightness of teeth in the opening, 0..1
    double sneer = 0;        ///< one-sided raise of the upper lip (disgust)
    double forehead = 0;     ///< forehead wrinkles, 0..1
    double glabella = 0;     ///< vertical lines between the brows, 0..1
    double cheeks = 0;       ///< nasolabial folds and raised cheeks, 0..1
    double nose_wrinkle = 0; ///< wrinkles across the nose bridge, 0..1
};

/// The fully expressed parameter set of each class, in fer2013_class_names() order.
inline const std::array<ExpressionParams, 7>& expression_table() {
    static const std::array<ExpressionParams, 7> table = {{
        // angry: brows down and drawn together, narrowed eyes, pressed lips, slight frown
        {.brow_raise = -0.06, .brow_inner = -0.10, .brow_arch = 0.0, .eye_open = 0.75, .mouth_curve = -0.03,
         .mouth_open = 0.0, .mouth_width = -0.12, .teeth = 0.0, .sneer = 0.0, .forehead = 0.0, .glabella = 1.0,
         .cheeks = 0.0, .nose_wrinkle = 0.2},
        // disgust: brows down, squint, nose wrinkles, upper lip raised on one side
        {.brow_raise = -0.04, .brow_inner = -0.04, .brow_arch = 0.0, .eye_open = 0.6, .mouth_curve = -0.05,
         .mouth_open = 0.04, .mouth_width = 0.0, .teeth = 0.5, .sneer = 0.08, .forehead = 0.0, .glabella = 0.5,
         .cheeks = 0.8, .nose_wrinkle = 1.0},
        // fear: brows raised with inner ends up, eyes wide, mouth stretched open
        {.brow_raise = 0.07, .brow_inner = 0.06, .brow_arch = -0.02, .eye_open = 1.5, .mouth_curve = -0.04,
         .mouth_open = 0.12, .mouth_width = 0.25, .teeth = 0.6, .sneer = 0.0, .forehead = 0.7, .glabella = 0.3,
         .cheeks = 0.0, .nose_wrinkle = 0.0},
        // happy: smile with corners well up, often open with teeth, squinting eyes, cheek folds
        {.brow_raise = 0.0, .brow_inner = 0.0, .brow_arch = 0.01, .eye_open = 0.7, .mouth_curve = 0.12,
         .mouth_open = 0.10, .mouth_width = 0.28, .teeth = 1.0, .sneer = 0.0, .forehead = 0.0, .glabella = 0.0,
         .cheeks = 1.0, .nose_wrinkle = 0.0},
        // sad: inner brows up (oblique), drooping eyes, corners down, mouth closed
        {.brow_raise = 0.0, .brow_inner = 0.09, .brow_arch = -0.01, .eye_open = 0.8, .mouth_curve = -0.10,
         .mouth_open = 0.0, .mouth_width = -0.05, .teeth = 0.0, .sneer = 0.0, .forehead = 0.3, .glabella = 0.2,
         .cheeks = 0.0, .nose_wrinkle = 0.0},
        // surprise: brows high and arched, eyes wide, mouth a tall O
        {.brow_raise = 0.11, .brow_inner = 0.01, .brow_arch = 0.04, .eye_open = 1.6, .mouth_curve = 0.0,
         .mouth_open = 0.22, .mouth_width = -0.3, .teeth = 0.0, .sneer = 0.0, .forehead = 1.0, .glabella = 0.0,
         .cheeks = 0.0, .nose_wrinkle = 0.0},
        // neutral
        {},
    }};
    return table;
}

inline float smoothstep(float edge0, float edge1, float x) {
    const float t = std::clamp((x - edge0) / (edge1 - edge0), 0.0f, 1.0f);
    return t * t * (3.0f - 2.0f * t);
}

/// Coverage (0..1) of a soft ellipse centred at (cx, cy) with semi-axes a, b at (u, v).
inline float ellipse(float u, float v, float cx, float cy, float a, float b, float soft) {
    const float du = (u - cx) / a, dv = (v - cy) / b;
    const float edge = soft / std::min(a, b);
    const float r2 = du * du + dv * dv;
    if (r2 >= (1.0f + edge) * (1.0f + edge)) return 0.0f;  // outside: most calls end here
    if (r2 <= (1.0f - edge) * (1.0f - edge)) return 1.0f;
    const float q = std::sqrt(r2);
    return 1.0f - smoothstep(1.0f - edge, 1.0f + edge, q);
}

/// Coverage of a stroke along the curve v = cy + slope (u - cx) + bend (u - cx)^2 for
/// |u - cx| <= half, of half-thickness `thick`, with soft ends.
inline float stroke(float u, float v, float cx, float cy, float half, float slope, float bend, float thick, float soft) {
    const float x = u - cx;
    if (std::abs(x) > half + soft) return 0.0f;
    const float curve = cy + slope * x + bend * x * x;
    const float vertical = std::abs(v - curve);
    if (vertical > thick + soft && vertical * vertical > (thick + soft) * (thick + soft) * (1.0f + (slope + 2 * bend * x) * (slope + 2 * bend * x)))
        return 0.0f;
    // distance to the curve, to first order: vertical distance times the cosine of its slope
    const float d = vertical / std::sqrt(1.0f + (slope + 2 * bend * x) * (slope + 2 * bend * x));
    const float along = 1.0f - smoothstep(half - soft, half + soft, std::abs(x));
    return (1.0f - smoothstep(thick - soft, thick + soft, d)) * along;
}

/// Everything needed to draw one face: identity, expression, pose, lighting, occlusion.
struct FaceSpec {
    // identity
    float head_a, head_b, head_cy, skin, hair, background, background_slope, hairline, hair_side;
    float eye_x, eye_y, eye_w, brow_gap, brow_thick, brow_dark, nose_len, mouth_y, mouth_w, rest_curve;
    float lip_dark, gaze;
    // expression (after intensity and jitter)
    ExpressionParams e;
    float sneer_side;
    // pose: pixel = image centre + shift + (24 * 1.18 * scale) R(angle) (u, v); features slide by yaw in u
    float cos_a, sin_a, scale, shift_x, shift_y, yaw;
    // lighting
    float brightness, contrast, light_dx, light_dy;
    // occluder: type 0 none, 1 blob (hand), 2 band (sunglasses), 3 bright patch
    int occluder;
    float occ_u, occ_v, occ_a, occ_b, occ_tone;
};

inline FaceSpec draw_face_spec(int label, const SyntheticFacesConfig& c, Random& rng) {
    FaceSpec s{};
    const auto j = static_cast<float>(c.identity_jitter);
    auto around = [&](double mean, double spread) { return static_cast<float>(mean + j * spread * (2 * rng.uniform() - 1)); };
    s.head_a = around(0.74, 0.07);
    s.head_b = around(0.95, 0.06);
    s.head_cy = around(0.05, 0.05);
    s.skin = around(150, 45);
    s.hair = around(55, 45);
    s.background = around(120, 90);
    s.background_slope = around(0, 40);
    s.hairline = around(-0.55, 0.12);
    s.hair_side = around(0, 0.15);
    s.eye_x = around(0.33, 0.04);
    s.eye_y = around(-0.12, 0.05);
    s.eye_w = around(0.14, 0.02);
    s.brow_gap = around(0.17, 0.04);
    s.brow_thick = around(0.035, 0.012);
    s.brow_dark = around(0.55, 0.2);
    s.nose_len = around(0.24, 0.04);
    s.mouth_y = around(0.45, 0.05);
    s.mouth_w = around(0.27, 0.04);
    s.rest_curve = around(0.0, 0.03);
    s.lip_dark = around(0.35, 0.12);
    s.gaze = around(0, 0.35);

    // Expression: neutral + t * (class - neutral) + jitter, t uniform in [intensity_min, 1].
    const ExpressionParams neutral{};
    const ExpressionParams& target = expression_table()[static_cast<std::size_t>(label)];
    const double t = c.intensity_min + (1.0 - c.intensity_min) * rng.uniform();
    const double jit = c.expression_jitter;
    auto mix = [&](double n0, double t0, double range) { return n0 + t * (t0 - n0) + jit * range * rng.normal(); };
    s.e.brow_raise = mix(neutral.brow_raise, target.brow_raise, 0.05);
    s.e.brow_inner = mix(neutral.brow_inner, target.brow_inner, 0.05);
    s.e.brow_arch = mix(neutral.brow_arch, target.brow_arch, 0.02);
    s.e.eye_open = std::max(0.2, mix(neutral.eye_open, target.eye_open, 0.4));
    s.e.mouth_curve = mix(neutral.mouth_curve, target.mouth_curve, 0.06);
    s.e.mouth_open = std::max(0.0, mix(neutral.mouth_open, target.mouth_open, 0.05));
    s.e.mouth_width = mix(neutral.mouth_width, target.mouth_width, 0.15);
    s.e.teeth = std::clamp(mix(neutral.teeth, target.teeth, 0.3), 0.0, 1.0);
    s.e.sneer = std::max(0.0, mix(neutral.sneer, target.sneer, 0.02));
    s.e.forehead = std::clamp(mix(neutral.forehead, target.forehead, 0.3), 0.0, 1.0);
    s.e.glabella = std::clamp(mix(neutral.glabella, target.glabella, 0.3), 0.0, 1.0);
    s.e.cheeks = std::clamp(mix(neutral.cheeks, target.cheeks, 0.3), 0.0, 1.0);
    s.e.nose_wrinkle = std::clamp(mix(neutral.nose_wrinkle, target.nose_wrinkle, 0.3), 0.0, 1.0);
    s.sneer_side = rng.bernoulli(0.5) ? 1.0f : -1.0f;

    const double angle = c.rotation_degrees * (2 * rng.uniform() - 1) * std::numbers::pi / 180.0;
    s.cos_a = static_cast<float>(std::cos(angle));
    s.sin_a = static_cast<float>(std::sin(angle));
    s.scale = static_cast<float>(1.0 + c.scale_jitter * (2 * rng.uniform() - 1));
    s.shift_x = static_cast<float>(c.shift_pixels * (2 * rng.uniform() - 1));
    s.shift_y = static_cast<float>(c.shift_pixels * (2 * rng.uniform() - 1));
    s.yaw = static_cast<float>(c.yaw * (2 * rng.uniform() - 1));

    const auto L = static_cast<float>(c.lighting);
    s.brightness = static_cast<float>(L * 35 * (2 * rng.uniform() - 1));
    s.contrast = static_cast<float>(1.0 + L * 0.35 * (2 * rng.uniform() - 1));
    const double light_angle = 2 * std::numbers::pi * rng.uniform();
    const double light_strength = L * 0.35 * rng.uniform();
    s.light_dx = static_cast<float>(light_strength * std::cos(light_angle));
    s.light_dy = static_cast<float>(light_strength * std::sin(light_angle));

    s.occluder = rng.bernoulli(c.occlusion) ? 1 + static_cast<int>(rng.below(3)) : 0;
    s.occ_u = static_cast<float>(rng.uniform(-0.8, 0.8));
    s.occ_v = static_cast<float>(rng.uniform(-0.2, 0.9));
    s.occ_a = static_cast<float>(rng.uniform(0.2, 0.45));
    s.occ_b = static_cast<float>(rng.uniform(0.15, 0.35));
    s.occ_tone = static_cast<float>(rng.uniform(20, 230));
    return s;
}

/// Intensity (0..255, before noise) of face `s` at face coordinates (u, v).
inline float shade_face(const FaceSpec& s, float u, float v, float soft) {
    const ExpressionParams& e = s.e;
    // Background with a gentle gradient.
    float value = s.background + s.background_slope * u;

    // Head: skin, shaded by the light direction; hair above the hairline.
    const float head = ellipse(u, v, 0, s.head_cy, s.head_a, s.head_b, soft);
    if (head > 0) {
        float skin = s.skin * (1.0f + s.light_dx * u + s.light_dy * v);
        skin -= 18.0f * smoothstep(0.55f, 1.0f, std::abs(u) / s.head_a);  // cheeks turn away from the light
        const float hairline = s.hairline + 0.12f * (u * u) / (s.head_a * s.head_a) + s.hair_side * u;
        const float hair = 1.0f - smoothstep(hairline - soft, hairline + soft, v);
        const float face_value = skin * (1 - hair) + s.hair * hair;
        value = value * (1 - head) + face_value * head;
    }
    // Feature positions slide sideways with yaw.
    const float fu = u - s.yaw;
    const float ink = s.skin * 0.75f;  // how much a fully dark line darkens the skin

    // Each group of features is only evaluated inside the band of rows it can reach (a
    // conservative bound from its own sizes), which makes drawing several times faster.

    // Eyes: socket shadow, sclera, iris and an upper lid line.
    const float eye_h = s.eye_w * 0.45f * static_cast<float>(e.eye_open);
    const float eye_reach = std::max(0.9f * s.eye_w + 0.01f + 2 * soft, eye_h * (1.0f + soft / s.eye_w) + 0.02f + soft);
    if (std::abs(v - s.eye_y) <= eye_reach)
    for (float side : {-1.0f, 1.0f}) {
        const float cx = side * s.eye_x;
        const float h = eye_h;
        value -= 0.18f * ink * ellipse(fu, v, cx, s.eye_y - 0.01f, s.eye_w * 1.35f, s.eye_w * 0.9f, soft * 2);
        const float sclera = ellipse(fu, v, cx, s.eye_y, s.eye_w, std::max(h, 0.008f), soft);
        value = value * (1 - sclera) + (s.skin + 45.0f) * sclera;
        const float iris = ellipse(fu, v, cx + s.gaze * s.eye_w * 0.4f, s.eye_y, s.eye_w * 0.45f, s.eye_w * 0.45f, soft) * sclera;
        value = value * (1 - iris) + 25.0f * iris;
        value -= 0.6f * ink * stroke(fu, v, cx, s.eye_y - h, s.eye_w, 0, 0.9f * h / (s.eye_w * s.eye_w), 0.018f, soft);
    }

    // Brows: one stroke above each eye; brow_raise lifts both, brow_inner tilts them (inner end up or down).
    const float brow_y = s.eye_y - s.brow_gap - static_cast<float>(e.brow_raise);
    for (float side : {-1.0f, 1.0f}) {
        const float inner = side * (s.eye_x - s.eye_w * 1.0f), outer = side * (s.eye_x + s.eye_w * 1.2f);
        const float cx = 0.5f * (inner + outer), half = 0.5f * std::abs(outer - inner);
        // v = centre + slope x + bend x^2: the inner end (x = -side * half) sits brow_inner above
        // the centre, and both ends drop by 0.03 + brow_arch below it (the arch).
        const float slope = side * static_cast<float>(e.brow_inner) / half;
        const float bend = (0.03f + static_cast<float>(e.brow_arch)) / (half * half);
        const float centre = brow_y - static_cast<float>(e.brow_arch);
        const float reach = std::abs(slope) * half + std::abs(bend) * half * half +
                            (s.brow_thick + 2 * soft) * (1.0f + std::abs(slope) + 2 * std::abs(bend) * half);
        if (std::abs(v - centre) > reach) continue;
        value -= s.brow_dark * ink * stroke(fu, v, cx, brow_y - static_cast<float>(e.brow_arch), half, slope, bend, s.brow_thick, soft);
    }

    // Wrinkles: forehead lines, vertical lines between the brows, folds beside the nose.
    if (e.forehead > 0.05 && v > brow_y - 0.32f - 2 * soft && v < brow_y - 0.05f + 2 * soft)
        for (int k = 0; k < 3; ++k)
            value -= 0.25f * ink * static_cast<float>(e.forehead) *
                     stroke(fu, v, 0, brow_y - 0.12f - 0.08f * static_cast<float>(k), 0.3f, 0, 0.5f, 0.012f, soft);
    if (e.glabella > 0.05 && std::abs(v - brow_y - 0.02f) < 0.07f * (1.0f + soft / 0.015f))
        for (float side : {-1.0f, 1.0f})
            value -= 0.35f * ink * static_cast<float>(e.glabella) *
                     ellipse(fu, v, side * 0.05f, brow_y + 0.02f, 0.015f, 0.07f, soft);
    if (e.cheeks > 0.05 && ((std::abs(v - s.mouth_y + 0.12f) < 0.13f + 2 * soft) || std::abs(v - 0.2f) < 0.09f + 4 * soft))
        for (float side : {-1.0f, 1.0f}) {
            // a fold from the nose wing down towards the mouth corner
            value -= 0.3f * ink * static_cast<float>(e.cheeks) *
                     stroke(v, fu, s.mouth_y - 0.12f, side * (s.mouth_w + 0.02f), 0.13f, 0, side * 2.5f, 0.014f, soft);
            value += 12.0f * static_cast<float>(e.cheeks) * ellipse(fu, v, side * 0.35f, 0.2f, 0.14f, 0.09f, soft * 3);
        }

    // Nose: a shaded ridge and two nostrils; optional wrinkles across the bridge.
    const float nose_tip = s.eye_y + s.nose_len + 0.06f;
    if (v > s.eye_y - 0.03f && v < nose_tip + 0.03f + 2 * soft) {
    value -= 0.15f * ink * stroke(v, fu, nose_tip - 0.1f, 0.05f * (s.light_dx > 0 ? -1.0f : 1.0f), 0.12f, 0, 0, 0.018f, soft);
    for (float side : {-1.0f, 1.0f}) value -= 0.45f * ink * ellipse(fu, v, side * 0.055f, nose_tip, 0.03f, 0.018f, soft);
    if (e.nose_wrinkle > 0.05)
        for (int k = 0; k < 2; ++k)
            value -= 0.35f * ink * static_cast<float>(e.nose_wrinkle) *
                     stroke(fu, v, 0, s.eye_y + 0.03f + 0.05f * static_cast<float>(k), 0.07f, 0, -3.0f, 0.01f, soft);
    }

    // Mouth: centre line v = m(x) bending up at the corners for a smile; the opening between
    // the upper and lower lip curves is dark, with teeth in its upper part.
    const float half_w = s.mouth_w * (1.0f + static_cast<float>(e.mouth_width));
    const float x = fu;
    const float mouth_reach = std::abs(static_cast<float>(e.mouth_curve) + s.rest_curve) + static_cast<float>(e.mouth_open) +
                              static_cast<float>(e.sneer) + 0.08f + 3 * soft;
    if (std::abs(x) < half_w + 0.05f && std::abs(v - s.mouth_y) < mouth_reach) {
        const float r = std::clamp(x / half_w, -1.0f, 1.0f);
        const float curve = static_cast<float>(e.mouth_curve) + s.rest_curve;
        const float centre = s.mouth_y - curve * r * r;
        const float open = static_cast<float>(e.mouth_open) * (1 - r * r);
        const float sneer = static_cast<float>(e.sneer) * std::max(0.0f, s.sneer_side * r);
        const float top = centre - 0.45f * open - sneer, bottom = centre + 0.55f * open;
        const float inside = smoothstep(top - soft, top + soft, v) * (1 - smoothstep(bottom - soft, bottom + soft, v)) *
                             (1 - smoothstep(half_w - soft, half_w + soft, std::abs(x)));
        const float teeth = static_cast<float>(e.teeth) * (1 - smoothstep(top + 0.02f, top + 0.05f, v));
        value = value * (1 - inside) + (30.0f + 190.0f * teeth) * inside;
        // lips: a dark line along the closed mouth, lip bands around the opening
        value -= s.lip_dark * ink * stroke(x, v, 0, centre, half_w, 0, 0, 0.016f, soft) * (open < 0.02f ? 1.0f : 0.3f);
        value -= 0.25f * ink * stroke(x, v, 0, bottom + 0.03f, half_w * 0.8f, 0, 0, 0.02f, soft);
    }

    // Occluder in face coordinates.
    if (s.occluder == 1) {
        const float blob = ellipse(u, v, s.occ_u, s.occ_v, s.occ_a, s.occ_b, soft * 2);
        value = value * (1 - blob) + (s.skin * 0.9f + 10.0f) * blob;
    } else if (s.occluder == 2) {
        const float band = (1 - smoothstep(0.06f, 0.06f + soft, std::abs(v - s.eye_y))) * (1 - smoothstep(0.6f, 0.65f, std::abs(u)));
        value = value * (1 - band) + 20.0f * band;
    } else if (s.occluder == 3) {
        const float patch = ellipse(u, v, s.occ_u, s.occ_v, s.occ_a, s.occ_b * 0.7f, soft * 2);
        value = value * (1 - patch) + s.occ_tone * patch;
    }
    return value;
}

/// Approximately standard normal pixel noise from one 64-bit draw: the sum of four 16-bit
/// uniforms (Irwin-Hall, mean 2, variance 1/3), centred and scaled to unit variance. Its
/// tails stop at +-3.46; a quarter of the cost of an exact normal deviate per pixel.
inline float pixel_noise(Random& rng) {
    const std::uint64_t bits = rng.next();
    const auto sum = static_cast<float>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48));
    return (sum * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

/// Renders one 48x48 face into `out` (row-major bytes).
inline void render_face(int label, const SyntheticFacesConfig& c, Random rng, std::uint8_t* out) {
    const FaceSpec s = draw_face_spec(label, c, rng);
    const auto noise = static_cast<float>(c.noise);
    constexpr int size = 48;
    const float unit = 24.0f * s.scale * 1.18f;  // pixels per face unit: the head fills the frame, as in FER2013 crops
    const float soft = 0.6f / unit;               // about half a pixel of anti-aliasing
    const float cx = 23.5f + s.shift_x, cy = 23.5f + s.shift_y;
    for (int py = 0; py < size; ++py)
        for (int px = 0; px < size; ++px) {
            // inverse pose: pixel -> face coordinates
            const float dx = (static_cast<float>(px) - cx) / unit, dy = (static_cast<float>(py) - cy) / unit;
            const float u = s.cos_a * dx + s.sin_a * dy;
            const float v = -s.sin_a * dx + s.cos_a * dy;
            float value = shade_face(s, u, v, soft);
            value = 128.0f + (value - 128.0f) * s.contrast + s.brightness;
            value += noise * pixel_noise(rng);
            out[py * size + px] = static_cast<std::uint8_t>(std::clamp(value, 0.0f, 255.0f) + 0.5f);  // round to nearest
        }
}

}  // namespace detail

/// Synthetic faces with counts[c] images of class c (fer2013_class_names() order).
/// throws: invalid_argument for a count list that is not 7 long, a negative count, no images
///         at all, or a knob outside its range (naming it).
[[nodiscard]] inline Dataset make_synthetic_faces(const std::vector<Index>& counts, std::uint64_t seed = 0,
                                                  const SyntheticFacesConfig& config = {}) {
    constexpr const char* where = "make_synthetic_faces";
    if (counts.size() != 7) detail::fail(where, ": need 7 class counts (one per FER2013 class), got ", counts.size());
    Index total = 0;
    for (std::size_t c = 0; c < counts.size(); ++c) {
        if (counts[c] < 0) detail::fail(where, ": count of class ", c, " is ", counts[c], ", must be >= 0");
        total += counts[c];
    }
    if (total == 0) detail::fail(where, ": no images requested");
    auto in_range = [&](double value, double low, double high, const char* name) {
        if (!(value >= low && value <= high)) detail::fail(where, ": ", name, " = ", value, " is outside [", low, ", ", high, "]");
    };
    in_range(config.intensity_min, 0, 1, "intensity_min");
    in_range(config.expression_jitter, 0, 10, "expression_jitter");
    in_range(config.identity_jitter, 0, 3, "identity_jitter");
    in_range(config.rotation_degrees, 0, 90, "rotation_degrees");
    in_range(config.scale_jitter, 0, 0.5, "scale_jitter");
    in_range(config.shift_pixels, 0, 12, "shift_pixels");
    in_range(config.yaw, 0, 0.5, "yaw");
    in_range(config.lighting, 0, 3, "lighting");
    in_range(config.noise, 0, 255, "noise");
    in_range(config.occlusion, 0, 1, "occlusion");
    (void)resolve_threads(config.n_threads);

    Dataset data;
    data.class_names = fer2013_class_names();
    data.shape = {1, 48, 48};
    data.pixels.resize(total, 48 * 48);
    data.labels.resize(total);
    Index row = 0;
    for (std::size_t c = 0; c < counts.size(); ++c)
        for (Index k = 0; k < counts[c]; ++k) data.labels[row++] = static_cast<int>(c);
    const Random base(seed);
    parallel_for(0, total, config.n_threads, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i)
            detail::render_face(data.labels[i], config, base.fork(static_cast<std::uint64_t>(i)), data.pixels.row(i).data());
    });
    return data;
}

/// Synthetic faces, n_per_class of each of the seven classes.
[[nodiscard]] inline Dataset make_synthetic_faces(Index n_per_class, std::uint64_t seed = 0,
                                                  const SyntheticFacesConfig& config = {}) {
    if (n_per_class < 1) detail::fail("make_synthetic_faces: n_per_class must be at least 1, got ", n_per_class);
    return make_synthetic_faces(std::vector<Index>(7, n_per_class), seed, config);
}

}  // namespace feral
