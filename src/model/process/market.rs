//! Process 2, market exposure: `market` drifts toward 1 with the region's market exposure,
//! faster for migrants (who live in the market economy) and for the young.

use crate::model::agents::{residence, AgentsMut};
use crate::model::{StepCtx, Village};

/// Run market exposure for one village (no randomness).
pub fn run(ctx: &StepCtx, _v: &mut Village, a: &mut AgentsMut) {
    let vals = &ctx.sc.values;
    let base = (vals.market_drift / 12.0 * ctx.exposure) as f32;
    let migrant = vals.migrant_drift_factor as f32;
    let young_f = vals.young_drift_factor as f32;
    let young = (vals.young_age * 12.0) as u16;
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let mut d = base;
        if r == residence::MIGRANT {
            d *= migrant;
        }
        if a.age[i] < young {
            d *= young_f;
        }
        let m = a.market[i];
        a.market[i] = (m + d.min(1.0) * (1.0 - m)).clamp(0.0, 1.0);
    }
}
