//! The recommendation strategies a widget can name: one vocabulary for markup, site configurations,
//! compiled sites and requests. How each one picks products is the decision's (`decide`).

use serde::{Deserialize, Serialize};

/// Where a widget's candidates come from. Every strategy is topped up with popular products, so a
/// widget is never empty while the catalog has something to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Item-to-item neighbours of `product` (customers who bought it also bought).
    AlsoBought,
    /// Neighbours of `product` over view events alone (visitors who viewed it also viewed). A
    /// model trained without views has none, so the widget shows popular products.
    AlsoViewed,
    /// Neighbours of the visitor's whole history, summed (every item counts the same).
    ForYou,
    /// Most distinct buyers.
    #[default]
    Popular,
    /// Time-decayed popularity: what is selling now.
    Trending,
    /// Content similarity to `product`: same category, shared title words, same brand. Works for
    /// products nobody has bought yet.
    Similar,
    /// What the visitor viewed, newest first.
    RecentlyViewed,
}

impl Strategy {
    /// Every strategy with its name in markup, configurations and compiled sites.
    pub(crate) const NAMES: [(Strategy, &'static str); 7] = [
        (Strategy::AlsoBought, "also_bought"),
        (Strategy::AlsoViewed, "also_viewed"),
        (Strategy::ForYou, "for_you"),
        (Strategy::Popular, "popular"),
        (Strategy::Trending, "trending"),
        (Strategy::Similar, "similar"),
        (Strategy::RecentlyViewed, "recently_viewed"),
    ];

    pub fn parse(s: &str) -> Option<Strategy> {
        Strategy::NAMES.iter().find(|(_, n)| *n == s).map(|(x, _)| *x)
    }

    pub fn name(self) -> &'static str {
        Strategy::NAMES.iter().find(|(x, _)| *x == self).map_or("popular", |(_, n)| n)
    }
}
