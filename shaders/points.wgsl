// The points of the search-space scene: one triangle per candidate whose corners (in units of
// the disc's radius; the unit disc is its inscribed circle) are pushed out in clip space around
// the candidate's centre, so every point is a camera-facing disc. In 2D (orthographic) its size
// is fixed in pixels; in 3D (perspective) depth cues make the space read as a space: a point
// nearer than the scene's centre is drawn larger, a farther one smaller and fogged toward
// the background.

#import bevy_pbr::view_transformations::position_world_to_clip
#import bevy_pbr::mesh_view_bindings::view

struct Vertex {
    @location(0) corner: vec2<f32>,
    // xyz: the candidate's position in the scene; w: the disc's radius in pixels.
    @location(3) centre_radius: vec4<f32>,
    // Linear RGBA; alpha < 0.5 marks a highlighted point (drawn with a white rim), alpha in
    // [0.5, 0.9) a hollow one (not allowed by the current template).
    @location(4) colour_in: vec4<f32>,
};

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    // One colour for the whole point: not interpolated across it.
    @location(0) @interpolate(flat) colour: vec4<f32>,
    @location(1) corner: vec2<f32>,
};

// The scene's background (camera.rs clears to sRGB 0.07, 0.08, 0.10), in linear RGB.
const FOG_COLOUR: vec3<f32> = vec3<f32>(0.0060, 0.0070, 0.0100);
// Depth cues relative to the depth of the scene's centre: sizes between these factors, and
// fog from the centre's depth (none nearer) to at most this share at 1.7 times that depth.
const NEAREST_SIZE: f32 = 1.7;
const FARTHEST_SIZE: f32 = 0.55;
const MOST_FOG: f32 = 0.6;

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    let centre = position_world_to_clip(v.centre_radius.xyz);
    let pixels_to_ndc = 2.0 / max(view.viewport.zw, vec2<f32>(1.0, 1.0));
    // A perspective projection has no constant term in w (clip_from_view[3][3] is 0).
    let perspective = view.clip_from_view[3][3] < 0.5;
    var size = 1.0;
    var fog = 0.0;
    if perspective {
        // The points fill a cube around the world's origin: its depth is the reference.
        // (The origin's clip position is the matrix's last column: its w is element [3][3].)
        let centre_depth = max(view.clip_from_world[3][3], 1e-3);
        let depth = max(centre.w, 1e-3);
        size = clamp(centre_depth / depth, FARTHEST_SIZE, NEAREST_SIZE);
        fog = MOST_FOG * clamp((depth / centre_depth - 1.0) / 0.7, 0.0, 1.0);
    }
    let offset = v.corner * v.centre_radius.w * size * pixels_to_ndc;
    var out: VertexOutput;
    out.clip_position = vec4<f32>(centre.xy + offset * centre.w, centre.z, centre.w);
    out.colour = vec4<f32>(mix(v.colour_in.rgb, FOG_COLOUR, fog), v.colour_in.a);
    out.corner = v.corner;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    // Squared distances from the centre in units of the radius (no square root per pixel).
    let r2 = dot(in.corner, in.corner);
    let highlighted = in.colour.a < 0.5;
    // Alpha between 0.5 and 0.9: a candidate the template no longer allows, drawn hollow.
    let hollow = in.colour.a >= 0.5 && in.colour.a < 0.9;
    if r2 > 1.0 || (hollow && r2 < 0.25) {
        discard;
    }
    var rgb = in.colour.rgb;
    if highlighted && r2 > 0.3844 {
        // A white rim from 0.62 of the radius out.
        rgb = vec3<f32>(1.0, 1.0, 1.0);
    } else if r2 > 0.64 {
        // A thin dark rim (from 0.8 out) keeps neighbouring points apart.
        rgb = rgb * 0.45;
    }
    return vec4<f32>(rgb, 1.0);
}
