//! Deterministic product illustrations: a soft gradient in the category's hue and one simple
//! shape, the motif the product's title names (a bird, a clock, a mug...) or else its category's,
//! varied per product by a hash of its id. No text, no external references.

use crate::categories as cat;
use crate::orders::fnv1a;

/// The illustration for a product (`img/<id>.svg`): its title's motif in its category's colours.
pub fn product(id: &str, title: &str, category: &str) -> String {
    illustration(category, motif(title).unwrap_or(category), fnv1a(id))
}

/// The illustration for a category tile, fixed per category.
pub fn category(category: &str) -> String {
    illustration(category, category, fnv1a(category) ^ 0x5eed)
}

/// Motifs of their own, beside the categories' shapes.
mod motif {
    pub const BIRD: &str = "bird";
    pub const CLOCK: &str = "clock";
    pub const FRAME: &str = "frame";
    pub const BOTTLE: &str = "bottle";
    pub const PENCILS: &str = "pencils";
    pub const CAKE: &str = "cake";
    pub const LANTERN: &str = "lantern";
    pub const SIGN: &str = "sign";
}

/// What the title shows, by its words (first match wins, most specific first); `None`: the
/// category's own shape.
fn motif(title: &str) -> Option<&'static str> {
    const WORDS: &[(&[&str], &str)] = &[
        (&["BIRD", "BIRDS", "ROBIN", "DOVE", "OWL", "OWLS", "HEN", "CHICK"], motif::BIRD),
        (&["CLOCK"], motif::CLOCK),
        (&["FRAME", "PHOTO"], motif::FRAME),
        (&["BOTTLE"], motif::BOTTLE),
        (&["PENCILS", "PENCIL", "CRAYONS", "COLOURING", "PEN", "PENS"], motif::PENCILS),
        (&["LANTERN", "LANTERNS"], motif::LANTERN),
        (&["SIGN", "DOORMAT", "PLAQUE"], motif::SIGN),
        (&["CAKE", "CAKES", "CAKESTAND", "BAKING", "CUPCAKE", "CASES"], motif::CAKE),
        (&["MUG", "MUGS", "CUP", "CUPS", "TEACUP", "TEA", "COFFEE"], cat::KITCHEN),
        (&["BAG", "BAGS", "TOTE", "SHOPPER"], cat::BAGS),
        (&["CANDLE", "CANDLES", "T-LIGHT", "TEALIGHT", "LIGHT", "LIGHTS"], cat::CANDLES),
        (&["HEART", "HEARTS", "LOVE", "SWEETHEART"], cat::HOME),
        (&["STAR", "STARS", "SNOWFLAKE"], cat::CHRISTMAS),
        (&["BUNTING", "CARD", "CARDS", "WRAP", "PAPER", "TISSUES", "NOTEBOOK", "ENVELOPE"], cat::PAPER),
        (&["BOX", "BOXES", "TIN", "TINS", "JAR", "JARS", "DRAWER", "BASKET", "CRATE"], cat::STORAGE),
        (&["GARDEN", "PLANT", "PLANTER", "FLOWER", "FLOWERS", "LEAF", "ROSE", "POT"], cat::GARDEN),
        (&["SPACEBOY", "ROCKET", "DOLLY", "TOY", "BALL", "GAME"], cat::TOYS),
    ];
    let upper = title.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| !w.is_empty()).collect();
    WORDS.iter().find(|(keys, _)| keys.iter().any(|k| words.contains(k))).map(|(_, m)| *m)
}

/// The shop logo (also the favicon): a small lantern.
pub fn logo() -> String {
    concat!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">"##,
        r##"<rect width="32" height="32" rx="8" fill="#b4532a"/>"##,
        r##"<path d="M12 9h8M16 5v4" stroke="#fff" stroke-width="2" stroke-linecap="round"/>"##,
        r##"<path d="M11 11h10l1 12H10z" fill="#fff" opacity=".95"/>"##,
        r##"<path d="M16 14c2 2.5 2 5 0 6.5-2-1.5-2-4 0-6.5z" fill="#f4a640"/>"##,
        r##"<path d="M9 25h14" stroke="#fff" stroke-width="2" stroke-linecap="round"/></svg>"##,
    )
    .to_string()
}

/// The home page hero's decoration (a CSS background, so the hero keeps markup.md's exact
/// structure): a gift, a candle, a heart and a star on a transparent background.
pub fn hero() -> String {
    let (main, dark, accent) = ("#e07a5f", "#3d405b", "#f2cc8f");
    let place = |x: i32, y: i32, scale: f64, category: &str, main: &str, accent: &str| {
        format!(
            r#"<g transform="translate({x} {y}) scale({scale})"><ellipse cx="100" cy="168" rx="52" ry="8" fill="{dark}" opacity=".12"/>{}</g>"#,
            shape(category, main, dark, accent, false)
        )
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 320">{}{}{}{}</svg>"#,
        place(150, 10, 1.25, cat::CANDLES, accent, main),
        place(10, 110, 0.95, cat::OTHER, main, accent),
        place(270, 120, 0.8, cat::HOME, "#d1495b", accent),
        place(290, 0, 0.55, cat::CHRISTMAS, accent, main),
    )
}

/// Base hue (degrees) of each category, spread around the wheel so categories are told apart.
fn base_hue(category: &str) -> f64 {
    match category {
        cat::CHRISTMAS => 352.0,
        cat::CANDLES => 38.0,
        cat::HOME => 330.0,
        cat::KITCHEN => 170.0,
        cat::BAGS => 262.0,
        cat::PAPER => 212.0,
        cat::TOYS => 52.0,
        cat::STORAGE => 20.0,
        cat::GARDEN => 108.0,
        _ => 290.0,
    }
}

/// Builds the SVG from a seed; each group of seed bits picks one small variation. The colours are
/// the category's, the shape the motif's.
fn illustration(category: &str, motif: &str, seed: u64) -> String {
    let bits = |shift: u32, modulo: u64| (seed >> shift) % modulo;
    let hue = base_hue(category) + bits(0, 37) as f64 - 18.0;
    let bg1 = hsl(hue, 0.75, 0.94);
    let bg2 = hsl(hue + 25.0, 0.62, 0.84);
    let main = hsl(hue + bits(8, 21) as f64 - 10.0, 0.55, 0.55);
    let dark = hsl(hue, 0.45, 0.34);
    // The accent is the complementary hue, so a second element stands out against the main one.
    let accent = hsl(hue + 150.0 + bits(16, 60) as f64, 0.65, 0.62);
    let (bx, by) = (40 + bits(24, 120), 30 + bits(32, 60));
    let tilt = bits(40, 13) as i64 - 6;
    let shape = shape(motif, &main, &dark, &accent, bits(48, 2) == 0);
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200">"#,
            r#"<defs><linearGradient id="g" x2="1" y2="1"><stop offset="0" stop-color="{bg1}"/>"#,
            r#"<stop offset="1" stop-color="{bg2}"/></linearGradient></defs>"#,
            r#"<rect width="200" height="200" fill="url(#g)"/>"#,
            r##"<circle cx="{bx}" cy="{by}" r="46" fill="#fff" opacity=".35"/>"##,
            r#"<ellipse cx="100" cy="168" rx="52" ry="8" fill="{dark}" opacity=".15"/>"#,
            r#"<g transform="rotate({tilt} 100 110)">{shape}</g></svg>"#,
        ),
        bg1 = bg1,
        bg2 = bg2,
        bx = bx,
        by = by,
        dark = dark,
        tilt = tilt,
        shape = shape,
    )
}

/// The motif's (a category's or one of [`motif()`]'s) shape, drawn around (100, 110) within about
/// 110 × 110.
fn shape(motif: &str, main: &str, dark: &str, accent: &str, alt: bool) -> String {
    let w = "#fff";
    match motif {
        motif::BIRD => format!(
            r#"<path d="M52 118c0-30 22-50 50-50 20 0 30 10 36 22l22 4-20 10c0 30-26 46-52 46-18 0-36-10-36-32z" fill="{main}"/><path d="M70 112c16 4 34 0 46-14-4 26-24 40-46 36z" fill="{accent}"/><circle cx="130" cy="90" r="5" fill="{dark}"/><path d="M86 152l-8 14M104 152l4 14" stroke="{dark}" stroke-width="4" stroke-linecap="round"/>"#
        ),
        motif::CLOCK => format!(
            r#"<circle cx="100" cy="110" r="54" fill="{main}"/><circle cx="100" cy="110" r="42" fill="{w}"/><path d="M100 110V80M100 110l22 12" stroke="{dark}" stroke-width="6" stroke-linecap="round"/><circle cx="100" cy="110" r="5" fill="{accent}"/><path d="M100 72v6M100 142v6M62 110h6M132 110h6" stroke="{dark}" stroke-width="4"/>"#
        ),
        motif::FRAME => format!(
            r#"<rect x="52" y="58" width="96" height="108" rx="4" fill="{main}"/><rect x="66" y="72" width="68" height="80" fill="{w}"/><path d="M66 152l24-30 16 18 12-12 16 24z" fill="{accent}"/><circle cx="116" cy="92" r="8" fill="{accent}" opacity=".7"/>"#
        ),
        motif::BOTTLE => format!(
            r#"<rect x="84" y="50" width="32" height="16" rx="4" fill="{dark}"/><path d="M64 76c0-8 8-12 16-12h40c8 0 16 4 16 12v74c0 10-8 16-16 16H80c-8 0-16-6-16-16z" fill="{main}"/><path d="M64 100h72M64 124h72" stroke="{accent}" stroke-width="8"/><path d="M76 82v60" stroke="{w}" stroke-width="5" stroke-linecap="round" opacity=".5"/>"#
        ),
        motif::PENCILS => format!(
            r#"<rect x="60" y="96" width="80" height="70" rx="6" fill="{dark}"/><path d="M72 96V54l6-12 6 12v42" fill="{main}"/><path d="M94 96V46l6-12 6 12v50" fill="{accent}"/><path d="M116 96V58l6-12 6 12v38" fill="{main}"/><rect x="60" y="114" width="80" height="10" fill="{w}" opacity=".5"/>"#
        ),
        motif::CAKE => format!(
            r#"<path d="M60 110h80l-10 54H70z" fill="{main}"/><path d="M64 110c-8-34 28-50 36-30 8-20 44-4 36 30z" fill="{w}"/><path d="M76 118l4 40M100 118v40M124 118l-4 40" stroke="{dark}" stroke-width="3" opacity=".4"/><circle cx="100" cy="70" r="9" fill="{accent}"/>"#
        ),
        motif::LANTERN => format!(
            r##"<path d="M90 50h20M100 38v12" stroke="{dark}" stroke-width="5" stroke-linecap="round"/><path d="M72 56h56l-6 10H78z" fill="{dark}"/><rect x="76" y="66" width="48" height="84" rx="6" fill="{main}"/><rect x="84" y="74" width="32" height="68" rx="4" fill="#fff3c4"/><path d="M100 92c8 10 8 20 0 26-8-6-8-16 0-26z" fill="#f4a640"/><rect x="70" y="150" width="60" height="12" rx="3" fill="{dark}"/>"##
        ),
        motif::SIGN => format!(
            r#"<path d="M80 70l20-24 20 24" stroke="{dark}" stroke-width="4" fill="none"/><circle cx="100" cy="46" r="5" fill="{dark}"/><rect x="46" y="70" width="108" height="70" rx="8" fill="{main}"/><rect x="56" y="80" width="88" height="50" rx="4" fill="none" stroke="{w}" stroke-width="3"/><path d="M70 98h60M78 112h44" stroke="{accent}" stroke-width="7" stroke-linecap="round"/>"#
        ),
        cat::CANDLES if alt => format!(
            r##"<circle cx="100" cy="66" r="34" fill="#fff3c4" opacity=".7"/><rect x="58" y="108" width="26" height="54" rx="5" fill="{main}"/><rect x="87" y="92" width="26" height="70" rx="5" fill="{accent}"/><rect x="116" y="116" width="26" height="46" rx="5" fill="{main}"/><path d="M71 108v-8M100 92v-8M129 116v-8" stroke="{dark}" stroke-width="3"/><path d="M71 82c6 7 6 13 0 16-6-3-6-9 0-16zM100 66c6 7 6 13 0 16-6-3-6-9 0-16zM129 90c6 7 6 13 0 16-6-3-6-9 0-16z" fill="#f4a640"/>"##
        ),
        cat::CHRISTMAS if alt => format!(
            r#"<path d="M100 42l34 46h-16l26 34h-18l24 32H54l24-32H60l26-34H70z" fill="{main}"/><rect x="92" y="154" width="16" height="14" fill="{dark}"/><circle cx="100" cy="40" r="8" fill="{accent}"/><circle cx="88" cy="104" r="4" fill="{w}"/><circle cx="114" cy="130" r="4" fill="{w}"/>"#
        ),
        cat::CHRISTMAS => format!(
            r#"<polygon points="{}" fill="{main}" stroke="{dark}" stroke-width="3" stroke-linejoin="round"/><circle cx="100" cy="108" r="9" fill="{accent}"/>"#,
            star_points(100.0, 108.0, 58.0, 25.0)
        ),
        cat::CANDLES => format!(
            r##"<circle cx="100" cy="58" r="30" fill="#fff3c4" opacity=".8"/><rect x="76" y="84" width="48" height="78" rx="8" fill="{main}"/><path d="M76 96c10 6 14-4 24 2s14 6 24-2v-4H76z" fill="{w}" opacity=".6"/><path d="M100 84v-10" stroke="{dark}" stroke-width="3"/><path d="M100 44c10 12 10 22 0 28-10-6-10-16 0-28z" fill="#f4a640"/><path d="M100 56c4 5 4 9 0 12-4-3-4-7 0-12z" fill="#ffe08a"/>"##
        ),
        cat::HOME if alt => format!(
            r#"<path d="M56 104l44-38 44 38v58H56z" fill="{main}"/><path d="M46 108l54-48 54 48" stroke="{dark}" stroke-width="9" fill="none" stroke-linecap="round" stroke-linejoin="round"/><rect x="88" y="124" width="24" height="38" rx="3" fill="{dark}"/><rect x="64" y="114" width="16" height="16" rx="2" fill="{w}"/><rect x="120" y="114" width="16" height="16" rx="2" fill="{w}"/><circle cx="107" cy="144" r="2.5" fill="{accent}"/>"#
        ),
        cat::HOME => format!(
            r#"<path d="M100 160C44 122 46 64 78 60c12-1 20 6 22 16 2-10 10-17 22-16 32 4 34 62-22 100z" fill="{main}"/><path d="M74 78c-8 6-10 18-6 28" stroke="{w}" stroke-width="6" stroke-linecap="round" fill="none" opacity=".55"/><circle cx="124" cy="84" r="5" fill="{accent}"/>"#
        ),
        cat::KITCHEN if alt => format!(
            r#"<path d="M58 104c-26 0-26 40 0 40" stroke="{dark}" stroke-width="8" fill="none"/><path d="M136 112l28-20-4 30-18 14z" fill="{main}"/><ellipse cx="100" cy="124" rx="46" ry="38" fill="{main}"/><rect x="56" y="118" width="88" height="10" fill="{accent}"/><ellipse cx="100" cy="88" rx="26" ry="8" fill="{dark}"/><circle cx="100" cy="78" r="7" fill="{accent}"/><path d="M74 106c4-6 10-9 16-10" stroke="{w}" stroke-width="5" stroke-linecap="round" fill="none" opacity=".5"/>"#
        ),
        cat::KITCHEN => format!(
            r#"<ellipse cx="100" cy="158" rx="56" ry="10" fill="{dark}"/><path d="M56 90h76v30a38 38 0 01-76 0z" fill="{main}"/><path d="M132 98h8a14 14 0 010 28h-10" stroke="{main}" stroke-width="8" fill="none"/><rect x="56" y="100" width="76" height="10" fill="{accent}"/><path d="M82 78c-6-8 6-12 0-22M104 78c-6-8 6-12 0-22" stroke="{dark}" stroke-width="4" stroke-linecap="round" fill="none" opacity=".5"/>"#
        ),
        cat::BAGS => format!(
            r#"<path d="M78 82v-12a22 22 0 0144 0v12" stroke="{dark}" stroke-width="7" fill="none"/><path d="M56 82h88l-8 80H64z" fill="{main}"/><rect x="60" y="110" width="80" height="14" fill="{accent}"/><circle cx="78" cy="94" r="4" fill="{w}"/><circle cx="122" cy="94" r="4" fill="{w}"/>"#
        ),
        cat::PAPER => format!(
            r#"<path d="M36 66q64 36 128 0" stroke="{dark}" stroke-width="3" fill="none"/><path d="M48 72l22 8-4 46z" fill="{main}"/><path d="M80 82l24 3-10 44z" fill="{accent}"/><path d="M114 84l24-4-4 46z" fill="{main}"/><path d="M146 76l14-7 2 42z" fill="{accent}"/><rect x="64" y="130" width="72" height="36" rx="4" fill="{w}"/><path d="M64 132l36 20 36-20" stroke="{dark}" stroke-width="3" fill="none"/>"#
        ),
        cat::TOYS if alt => format!(
            r##"<path d="M86 136h28l-14 28z" fill="#f4a640"/><path d="M82 112l-24 32 28-8zM118 112l24 32-28-8z" fill="{accent}"/><path d="M100 40c26 22 30 62 20 96H80c-10-34-6-74 20-96z" fill="{main}"/><circle cx="100" cy="88" r="12" fill="{w}" stroke="{dark}" stroke-width="5"/><path d="M88 58c6-6 18-6 24 0" stroke="{dark}" stroke-width="5" fill="none"/>"##
        ),
        cat::TOYS => format!(
            r#"<circle cx="100" cy="108" r="52" fill="{main}"/><path d="M52 90c30 14 66 14 96 0M54 130c30-12 62-12 92 0" stroke="{accent}" stroke-width="12" fill="none"/><path d="M100 56c-14 30-14 74 0 104" stroke="{w}" stroke-width="8" fill="none"/><circle cx="80" cy="80" r="8" fill="{w}" opacity=".6"/>"#
        ),
        cat::STORAGE => format!(
            r#"<rect x="54" y="88" width="92" height="72" rx="6" fill="{main}"/><rect x="48" y="72" width="104" height="22" rx="6" fill="{dark}"/><rect x="82" y="112" width="36" height="20" rx="4" fill="{w}"/><rect x="90" y="120" width="20" height="4" fill="{accent}"/>"#
        ),
        cat::GARDEN => format!(
            r#"<path d="M100 122V70" stroke="{dark}" stroke-width="5"/><ellipse cx="80" cy="88" rx="24" ry="10" transform="rotate(-30 80 88)" fill="{main}"/><ellipse cx="120" cy="76" rx="24" ry="10" transform="rotate(30 120 76)" fill="{main}"/><circle cx="100" cy="62" r="12" fill="{accent}"/><path d="M66 118h68l-10 46H76z" fill="{dark}"/><rect x="62" y="112" width="76" height="12" rx="4" fill="{accent}"/>"#
        ),
        _ => format!(
            r#"<rect x="58" y="94" width="84" height="68" rx="6" fill="{main}"/><rect x="52" y="80" width="96" height="20" rx="5" fill="{dark}"/><rect x="92" y="80" width="16" height="82" fill="{accent}"/><ellipse cx="86" cy="72" rx="16" ry="9" transform="rotate(20 86 72)" fill="{accent}"/><ellipse cx="114" cy="72" rx="16" ry="9" transform="rotate(-20 114 72)" fill="{accent}"/>"#
        ),
    }
}

/// Points of a five-pointed star, starting at the top.
fn star_points(cx: f64, cy: f64, outer: f64, inner: f64) -> String {
    (0..10)
        .map(|i| {
            let r = if i % 2 == 0 { outer } else { inner };
            let a = std::f64::consts::PI * (f64::from(i) / 5.0 - 0.5);
            format!("{:.0},{:.0}", cx + r * a.cos(), cy + r * a.sin())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `hsl(h, s, l)` (h in degrees, s and l in 0..=1) as `#rrggbb`, which every SVG renderer reads.
fn hsl(h: f64, s: f64, l: f64) -> String {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(hsl(0.0, 1.0, 0.5), "#ff0000");
        assert_eq!(hsl(120.0, 1.0, 0.5), "#00ff00");
        assert_eq!(hsl(600.0, 1.0, 0.5), "#0000ff");
        assert_eq!(hsl(0.0, 0.0, 1.0), "#ffffff");
    }

    #[test]
    fn titles_pick_their_motif() {
        assert_eq!(motif("WOODEN BIRD ORNAMENT"), Some(motif::BIRD));
        assert_eq!(motif("Hanging Heart Bird Ornament"), Some(motif::BIRD), "the most specific word wins");
        assert_eq!(motif("COLOURING PENCILS BROWN TUBE"), Some(motif::PENCILS));
        assert_eq!(motif("WHITE HANGING HEART T-LIGHT HOLDER"), Some(cat::CANDLES));
        assert_eq!(motif("Regency Cakestand 3 Tier"), Some(motif::CAKE));
        assert_eq!(motif("ASSORTED COLOUR BIRD ORNAMENT"), Some(motif::BIRD));
        assert_eq!(motif("PAPERWEIGHT"), None, "whole words only");
        // Every motif draws something small and textless.
        for m in [motif::BIRD, motif::CLOCK, motif::FRAME, motif::BOTTLE, motif::PENCILS, motif::CAKE, motif::LANTERN, motif::SIGN] {
            let svg = illustration(cat::HOME, m, 7);
            assert!(svg.len() < 1500 && !svg.contains("<text"), "{m}: {svg}");
        }
    }

    #[test]
    fn every_category_is_small_deterministic_and_textless() {
        for category in cat::CATEGORIES {
            // Enough ids that every variation bit takes both values.
            for id in (0..40).map(|i| format!("{}", 20000 + i * 7919)) {
                let svg = product(&id, "", category);
                assert_eq!(svg, product(&id, "", category));
                assert!(svg.len() < 1500, "{category} {id}: {} bytes", svg.len());
                assert!(!svg.contains("<text"), "{category}");
                assert!(svg.starts_with("<svg xmlns=") && svg.ends_with("</svg>"));
            }
        }
    }
}
