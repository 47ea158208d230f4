//! The linear public goods game (voluntary contribution mechanism) that motivates the
//! contribution rule of process 6.
//!
//! In the game of Fehr and Gächter (2000), each of `n` players holds an endowment `e` and
//! puts `c_i` in `[0, e]` into a common project; every unit in the project returns the
//! *marginal per-capita return* `a` to each player, so player `i` earns
//!
//! ```text
//! π_i = e - c_i + a × Σ_j c_j
//! ```
//!
//! When `1/n < a < 1` this is a social dilemma: one more unit contributed costs its giver
//! `1 - a > 0` whatever the others do, so contributing nothing is the dominant strategy, while
//! it raises the group's total earnings by `n a - 1 > 0`, so full contribution is socially
//! optimal. With `n = 4`, `a = 0.4` and `e = 20` (the parameters of Fehr and Gächter 2000),
//! free riding on three full contributors earns 44, full contribution by all earns 32 each,
//! and universal free riding 20 each.
//!
//! The model does not compute these payoffs. Process 6 (`process::services`, `docs/ODD.md`
//! 7.6) uses a *behavioural* rule instead, written from what people do in this game rather
//! than from what the dominant strategy prescribes: most are conditional cooperators who give
//! more when others gave more last round (Fischbacher, Gächter and Fehr 2001), contributions
//! decay over rounds without sanctions and are sustained with them (Fehr and Gächter 2000).
//! This module states the structure of the game the rule stands for, so a test can check
//! that it is indeed a dilemma (`tests/suite/validation.rs`); in the model a month's
//! contribution is worth `paths.services.contribution` yuan (20 by default, the endowment
//! used here) of labour put into the village's service quality, which every resident uses.
//!
//! ```
//! use ruralgov::model::pgg::Game;
//! let g = Game::FEHR_GAECHTER;
//! assert!(g.is_dilemma());
//! assert_eq!(g.payoff(&[0.0, 20.0, 20.0, 20.0], 0), 44.0);
//! assert_eq!(g.payoff(&[20.0; 4], 0), 32.0);
//! assert_eq!(g.best_response(), 0.0);
//! assert_eq!(g.social_optimum(), 20.0);
//! ```

/// A linear public goods game.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Game {
    /// Number of players `n`.
    pub players: usize,
    /// Endowment `e` of each player.
    pub endowment: f64,
    /// Marginal per-capita return `a` of a unit contributed.
    pub mpcr: f64,
}

impl Game {
    /// Four players, marginal per-capita return 0.4, endowment 20 (Fehr and Gächter 2000).
    pub const FEHR_GAECHTER: Game = Game {
        players: 4,
        endowment: 20.0,
        mpcr: 0.4,
    };

    /// Earnings of player `i` when the players contribute `contributions` (one entry per
    /// player, each in `[0, endowment]`): `e - c_i + a × Σ_j c_j`.
    ///
    /// # Panics
    ///
    /// If `contributions` does not have one entry per player or `i` is out of range.
    pub fn payoff(&self, contributions: &[f64], i: usize) -> f64 {
        assert_eq!(contributions.len(), self.players, "one contribution per player");
        let total: f64 = contributions.iter().sum();
        self.endowment - contributions[i] + self.mpcr * total
    }

    /// Total earnings of the group: `n e + (n a - 1) × Σ_j c_j`.
    pub fn total_payoff(&self, contributions: &[f64]) -> f64 {
        (0..self.players).map(|i| self.payoff(contributions, i)).sum()
    }

    /// Whether the game is a social dilemma: `1/n < a < 1`.
    pub fn is_dilemma(&self) -> bool {
        self.players > 1 && self.mpcr > 1.0 / self.players as f64 && self.mpcr < 1.0
    }

    /// The contribution that maximises a player's own earnings whatever the others give: 0
    /// when `a < 1` (each unit given returns only `a` to its giver), the whole endowment when
    /// `a > 1`.
    pub fn best_response(&self) -> f64 {
        if self.mpcr < 1.0 {
            0.0
        } else {
            self.endowment
        }
    }

    /// The common contribution that maximises the group's total earnings: the whole endowment
    /// when `n a > 1`, else 0.
    pub fn social_optimum(&self) -> f64 {
        if self.players as f64 * self.mpcr > 1.0 {
            self.endowment
        } else {
            0.0
        }
    }
}
