//! Derives a product's category (`product_type`) from its description with ordered keyword rules.
//!
//! The Online Retail data has no categories, so the demo invents them the way a shop assistant
//! would: by reading the description. Rules are tried in order and the first one with a matching
//! phrase wins, which lets a specific phrase ("CARD HOLDER") overrule a general word that comes
//! later ("CARD"). Matching is on whole words, so "PEN" never matches "PENCIL" or "PENNY".

/// Every category, in the order the shop's navigation shows them; the last one is the remainder.
pub const CATEGORIES: &[&str] = &[CHRISTMAS, CANDLES, HOME, KITCHEN, BAGS, PAPER, TOYS, STORAGE, GARDEN, OTHER];

pub const CHRISTMAS: &str = "Christmas & Seasonal";
pub const CANDLES: &str = "Candles & Lights";
pub const HOME: &str = "Home Decor";
pub const KITCHEN: &str = "Kitchen & Dining";
pub const BAGS: &str = "Bags & Accessories";
pub const PAPER: &str = "Paper & Party";
pub const TOYS: &str = "Toys & Kids";
pub const STORAGE: &str = "Storage & Boxes";
pub const GARDEN: &str = "Garden & Outdoor";
pub const OTHER: &str = "Gifts & Other";

/// The ordered rules: `(category, phrases)`. A phrase is one or more whole words.
// Kept as a table by hand: rustfmt would put every word on its own line.
#[rustfmt::skip]
const RULES: &[(&str, &[&str])] = &[
    // Seasonal themes win over everything: a Christmas T-light holder is shopped for at Christmas.
    (CHRISTMAS, &[
        "CHRISTMAS", "XMAS", "ADVENT", "SANTA", "SANTAS", "REINDEER", "SNOWMAN", "SNOWMEN",
        "SNOWY", "SNOWFLAKE", "NATIVITY", "BAUBLE", "BAUBLES", "MISTLETOE", "HOLLY", "SLEIGH",
        "NOEL", "JINGLE BELL", "TREE TOP", "TREE DECORATIONS", "ANGEL", "ANGELS", "CRACKER",
        "CRACKERS", "STOCKING", "EASTER", "PANNETONE", "VALENTINE", "PUMPKIN", "HALLOWEEN",
        "WREATH",
    ]),
    // Specific phrases whose general words would send them to the wrong aisle further down.
    (HOME, &[
        "CARD HOLDER", "HOT WATER BOTTLE", "HAND WARMER", "HOTTIE", "DOOR HANGER", "SIGN", "CLOCK",
        "DOORMAT", "WALL ART", "BLACK BOARD",
    ]),
    (BAGS, &["CARD WALLET", "KEY FOB", "LIP GLOSS", "LIPSTICK"]),
    (TOYS, &[
        "PLAYING CARDS", "SNAP CARDS", "CARD GAME", "PARTY BAG", "PARTY BAGS", "MARBLES",
        "SKITTLES",
    ]),
    (KITCHEN, &[
        "LUNCH BOX", "SNACK BOXES", "CAKE CASES", "BAKING CASES", "CAKE TIN", "CAKE TINS",
        "BISCUIT TIN", "RECIPE BOX", "RECIPE BOOK", "TEA BAG", "PETIT FOUR",
    ]),
    (GARDEN, &[
        "GARDEN", "GARDENERS", "HERB MARKER", "WATERING CAN", "PLANT", "PLANTER", "FLOWERPOT",
        "FLOWER POT", "THERMOMETER", "SECATEURS", "PICNIC", "BIRDHOUSE", "BIRD FEEDER", "GROW",
        "SEASIDE", "BEACH", "SANDCASTLE", "HAMMOCK", "BICYCLE", "SHED", "PARASOL", "UMBRELLA",
        "PONCHO", "CITRONELLA",
    ]),
    (CANDLES, &[
        "T LIGHT", "T LIGHTS", "TEALIGHT", "TEA LIGHTS", "CANDLE", "CANDLES", "CANDLEHOLDER",
        "LANTERN", "LIGHT", "LIGHTS", "LAMP", "HLDR", "CHANDELIER", "CHOCOLATECANDLE", "MATCHES",
    ]),
    (TOYS, &[
        "CHILDRENS", "CHILDREN", "CHILDS", "KIDS", "BABY", "TOY", "GAME", "GAMES", "JIGSAW",
        "DOLL", "DOLLS", "DOMINOES", "LUDO", "BINGO", "SPINNING TOPS", "HARMONICA", "FELTCRAFT",
        "CRAFT", "STENCIL", "PLAYHOUSE", "TEDDY", "CRAYONS", "CHALK", "MODELLING", "KNITTING",
        "SKIPPING", "MONEY BOX", "MONEY BANK", "PIGGY BANK", "ROCKING HORSE", "BACKPACK",
        "NAUGHTS", "SNAKES", "BLOCKS", "PAINT", "COLOURING", "DRAWING SLATE", "KEYRINGS",
        "PLASTERS", "SOLDIERS", "PICK UP STICKS", "GLIDERS", "WINDMILL", "SPORTING",
    ]),
    (PAPER, &[
        "WRAP", "CARD", "CARDS", "TISSUES", "NAPKINS", "DOILIES", "BUNTING", "BALLOON", "BALLOONS",
        "PARTY", "PAPER", "NOTEBOOK", "NOTEBOOKS", "NOTE BOOKS", "NOTEPAD", "EXERCISE BOOKS",
        "PENCIL", "PENCILS", "PEN", "PENS", "STATIONERY", "STICKERS", "GIFT TAGS", "RIBBON",
        "RIBBONS", "ENVELOPES", "POSTCARD", "CALENDAR", "WRITING SET", "ADDRESS BOOK",
        "SHOPPING LIST", "ERASERS", "RULER", "GARLAND", "COCKTAIL PARASOLS", "STRAWS", "GIFT BOX",
        "GIFT BOXES", "STAMP SET",
    ]),
    (BAGS, &[
        "BAG", "BAGS", "SHOPPER", "PURSE", "TOTE", "WALLET", "HANDBAG", "JEWELLERY", "NECKLACE",
        "BRACELET", "EARRINGS", "RING", "BROOCH", "HAIRBAND", "HAIR", "CLIPS", "FAN", "SCARF",
        "MIRROR",
    ]),
    (KITCHEN, &[
        "MUG", "MUGS", "CUP", "CUPS", "BEAKER", "BOWL", "BOWLS", "PLATE", "PLATES", "TEAPOT",
        "TEACUP", "SAUCER", "JUG", "CAKESTAND", "CAKE STAND", "BAKING", "COOKIE CUTTER",
        "COOKIE CUTTERS", "CUTTERS", "CUTLERY", "APRON", "OVEN GLOVE", "OVEN MITT", "TEA TOWELS",
        "TEA TOWEL", "KITCHEN", "PANTRY", "SCALES", "JAM", "BREAD BIN", "COLANDER", "MEASURING",
        "SPOONS", "ROLLING PIN", "EGG CUP", "TEA", "COFFEE", "SUGAR", "BUTTER DISH", "WASHING UP",
        "STRAINER", "TONGS", "FRYING PAN", "MOULD", "MOULDS", "COASTERS", "PLACEMATS", "TRAY",
        "TRAYS", "FOOD", "POPCORN", "BOTTLE OPENER", "MILK", "CAKE", "GLASS BOWL", "BREAKFAST",
        "SALT", "PEPPER", "EGG", "CHOPPING BOARD", "TUMBLER", "WINE",
    ]),
    (STORAGE, &[
        "BOX", "BOXES", "TIN", "TINS", "STORAGE", "JAR", "JARS", "CONTAINER", "BASKET", "CRATE",
        "CRATES", "CHEST", "CABINET", "TRINKET", "KEEPSAKE", "ORGANISER", "HOLDER", "CASES",
        "CASE", "POT", "RACK",
    ]),
    (HOME, &[
        "FRAME", "PHOTO", "CUSHION", "HEART", "HEARTS", "DECORATION", "HANGING", "WICKER", "HOOK",
        "HOOKS", "KNOB", "COAT RACK", "HANGER", "DOORSTOP", "MAGNETS", "CHALKBOARD", "BLACKBOARD", "MEMOBOARD", "MEMO BOARD", "FILLER PAD",
        "BUILDING BLOCK", "BLOCK LETTERS", "ORNAMENT", "SOAP", "SHELF", "STOOL", "VASE", "CURIO",
        "FLANNEL", "BIRD", "BIRDS", "STAR", "THROW", "BATHROOM", "MAT", "LADDER",
    ]),
];

/// The category of a product, from its description (any case).
pub fn categorize(description: &str) -> &'static str {
    let words = words(description);
    RULES.iter().find(|(_, phrases)| phrases.iter().any(|p| contains_phrase(&words, p))).map_or(OTHER, |(category, _)| category)
}

/// Upper-cased words: runs of letters and digits (so "T-LIGHT" is "T LIGHT" and "50'S" is "50 S").
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_uppercase).collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').collect();
    words.windows(p.len()).any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

/// URL slug of a category: `Candles & Lights` → `candles-lights`.
pub fn slug(category: &str) -> String {
    category.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_ascii_lowercase).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(description: &str, expected: &str) {
        assert_eq!(categorize(description), expected, "{description}");
    }

    #[test]
    fn every_rule_names_a_listed_category() {
        for (category, phrases) in RULES {
            assert!(CATEGORIES.contains(category), "{category}");
            assert!(!phrases.is_empty());
        }
    }

    #[test]
    fn every_phrase_appears_once() {
        let mut seen = std::collections::HashSet::new();
        for (_, phrases) in RULES {
            for p in *phrases {
                assert!(seen.insert(*p), "{p} is listed twice; only its first rule could ever match");
                assert_eq!(words(p).join(" "), *p, "{p} must be upper-case words separated by single spaces");
            }
        }
    }

    #[test]
    fn seasonal_wins_over_everything() {
        check("CHRISTMAS LIGHTS 10 REINDEER", CHRISTMAS);
        check("50'S CHRISTMAS GIFT BAG LARGE", CHRISTMAS);
        check("SET OF 6 T-LIGHTS SANTA", CHRISTMAS);
        check("CREAM FELT EASTER EGG BASKET", CHRISTMAS);
        check("MISTLETOE HEART WREATH CREAM", CHRISTMAS);
    }

    #[test]
    fn specific_phrases_overrule_general_words() {
        check("RED STAR CARD HOLDER", HOME);
        check("TRAVEL CARD WALLET KEEP CALM", BAGS);
        check("PLAYING CARDS I LOVE LONDON", TOYS);
        check("BAG 125g SWIRLY MARBLES", TOYS);
        check("SPACEBOY LUNCH BOX ", KITCHEN);
        check("60 CAKE CASES DOLLY GIRL DESIGN", KITCHEN);
        check("HOT WATER BOTTLE TEA AND SYMPATHY", HOME);
        check("ICE CREAM PEN LIP GLOSS ", BAGS);
        check("KEY FOB , SHED", BAGS);
        check("SET 40 HEART SHAPE PETIT FOUR CASES", KITCHEN);
    }

    #[test]
    fn garden_and_outdoor() {
        check("HERB MARKER BASIL", GARDEN);
        check("WATERING CAN PINK BUNNY", GARDEN);
        check("KITCHEN METAL SIGN", HOME);
        check("WATERING CAN GREEN DINOSAUR", GARDEN);
        check("RED RETROSPOT PICNIC BAG", GARDEN);
        check("CITRONELLA CANDLE FLOWERPOT", GARDEN);
    }

    #[test]
    fn candles_and_lights() {
        check("WHITE HANGING HEART T-LIGHT HOLDER", CANDLES);
        check("WHITE METAL LANTERN", CANDLES);
        check("4 VANILLA BOTANICAL CANDLES", CANDLES);
        check("RABBIT NIGHT LIGHT", CANDLES);
        check("ROTATING SILVER ANGELS T-LIGHT HLDR", CHRISTMAS);
        check("RETROSPOT CIGAR BOX MATCHES ", CANDLES);
    }

    #[test]
    fn toys_and_kids() {
        check("SPACEBOY CHILDRENS CUP", TOYS);
        check("FELTCRAFT DOLL MOLLY", TOYS);
        check("MINI JIGSAW SPACEBOY", TOYS);
        check("PACK OF 12 TRADITIONAL CRAYONS", TOYS);
        check("SMALL RED RETROSPOT WINDMILL", TOYS);
    }

    #[test]
    fn paper_and_party() {
        check("WRAP ENGLISH ROSE ", PAPER);
        check("PACK OF 72 SKULL PAPER NAPKINS", PAPER);
        check("PARTY BUNTING", PAPER);
        check("36 PENCILS TUBE RED RETROSPOT", PAPER);
        check("SMALL RED BABUSHKA NOTEBOOK ", PAPER);
        check("JAZZ HEARTS PURSE NOTEBOOK", PAPER);
    }

    #[test]
    fn bags_and_accessories() {
        check("JUMBO BAG RED RETROSPOT", BAGS);
        check("LUNCH BAG RED RETROSPOT", BAGS);
        check("STRAWBERRY SHOPPER BAG", BAGS);
        check("BROCADE RING PURSE ", BAGS);
        check("DOUGHNUT LIP GLOSS ", BAGS);
    }

    #[test]
    fn kitchen_and_dining() {
        check("REGENCY CAKESTAND 3 TIER", KITCHEN);
        check("RED RETROSPOT MUG", KITCHEN);
        check("PINK REGENCY TEACUP AND SAUCER", KITCHEN);
        check("SET OF 3 HEART COOKIE CUTTERS", KITCHEN);
        check("JAM MAKING SET WITH JARS", KITCHEN);
    }

    #[test]
    fn storage_and_boxes() {
        check("SET/3 RED GINGHAM ROSE STORAGE BOX", STORAGE);
        check("STRAWBERRY CERAMIC TRINKET BOX", STORAGE);
        check("PICNIC BASKET WICKER SMALL", GARDEN);
        check("WOOD S/3 CABINET ANT WHITE FINISH", STORAGE);
    }

    #[test]
    fn home_decor() {
        check("HOME SWEET HOME METAL SIGN ", HOME);
        check("DOORMAT UNION FLAG", HOME);
        check("RED DINER WALL CLOCK", HOME);
        check("HEART OF WICKER SMALL", HOME);
        check("SMALL WHITE HEART OF WICKER", HOME);
    }

    #[test]
    fn whole_words_only_and_remainder() {
        check("PENNY FARTHING BIRTHDAY CARD", PAPER);
        check("ASSORTED COLOURS SILK FAN", BAGS);
        check("SOMETHING ENTIRELY UNKNOWN", OTHER);
        check("TRAVEL SEWING KIT", OTHER);
        check("", OTHER);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Candles & Lights"), "candles-lights");
        assert_eq!(slug("Christmas & Seasonal"), "christmas-seasonal");
        assert_eq!(slug("A > B > C"), "a-b-c");
    }
}
