//! Process 12, observation: per-village statistics and the region metrics.
//!
//! Processes only count events into [`VillageStats`] (disputes settled, funds leaked, votes
//! cast...); observation reads the state at the end of the month. Region metrics are then
//! combined from villages sequentially in village order, so floating-point sums do not depend
//! on the thread count. No metric is written by a process: every one is computed here from
//! state and event counts.

use super::agents::{flag, residence, AgentsMut};
use super::process::party::{self, BranchCounts};
use super::{Controller, LabourMarket, StepCtx, Village, ADULT_MONTHS};
use crate::scenario::{Arrangement, PolicyPath};

/// Event counts and state sums of one village in one month.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VillageStats {
    /// Registered adults at the start of the month.
    pub start_adults: u32,
    /// Children at the start of the month.
    pub start_children: u32,
    /// Adult deaths.
    pub deaths: u32,
    /// Child deaths.
    pub child_deaths: u32,
    /// Births.
    pub births: u32,
    /// Children who turned 16 and became agents.
    pub coming_of_age: u32,
    /// Registered adults at the end of the month.
    pub registered: u32,
    /// Residents at the end of the month.
    pub residents: u32,
    /// Migrants at the end of the month.
    pub migrants: u32,
    /// Sum of migrants' ages in years.
    pub migrant_age_sum: f64,
    /// Migrants aged 50+.
    pub migrants_50: u32,
    /// Residents who have returned from migration at least once.
    pub returnees: u32,
    /// Residents aged 60+.
    pub residents_60: u32,
    /// Residents aged 65+.
    pub residents_65: u32,
    /// Children at the end of the month.
    pub children: u32,
    /// Residents who left this month.
    pub outflow: u32,
    /// Migrants who returned this month.
    pub returns: u32,
    /// Active party members (resident, below retirement age).
    pub party_active: u32,
    /// Sum of their ages in years.
    pub party_age_sum: f64,
    /// Active members aged 60+.
    pub party_60: u32,
    /// Party members away (flowing).
    pub party_flowing: u32,
    /// Sum of residents' `market`.
    pub market_sum: f64,
    /// Sum of squares of residents' `market`.
    pub market_sq: f64,
    /// Sum of residents' `civic`.
    pub civic_sum: f64,
    /// Sum of squares of residents' `civic`.
    pub civic_sq: f64,
    /// Sum of residents' trust in the branch.
    pub trust_branch_sum: f64,
    /// Sum of squared residents' trust in the branch.
    pub trust_branch_sq: f64,
    /// Sum of residents' trust in the government.
    pub trust_gov_sum: f64,
    /// Disputes raised.
    pub disputes: u32,
    /// Disputes resolved through the legal/mediation channel.
    pub legal: u32,
    /// Disputes resolved by clan or bully force.
    pub force: u32,
    /// Disputes left unresolved.
    pub unresolved: u32,
    /// Villager-government conflicts.
    pub conflicts: u32,
    /// Conflicts in which the branch sided with the villager.
    pub sided_with_villager: u32,
    /// Residents eligible for the public goods game.
    pub eligible: u32,
    /// Residents who contributed.
    pub contributors: u32,
    /// Residents in need of help.
    pub needs: u32,
    /// Matches made through the mutual-help platform.
    pub platform_matches: u32,
    /// Matches made informally (kin, neighbours).
    pub informal_matches: u32,
    /// Residents attending a cultural activity.
    pub attendees: u32,
    /// An election was held.
    pub election: u32,
    /// Votes cast.
    pub voters: u32,
    /// Registered adults eligible to vote.
    pub eligible_voters: u32,
    /// Offers of vote buying accepted.
    pub bought_votes: u32,
    /// Funds (state transfers) allocated, yuan.
    pub funds: f64,
    /// Funds leaked to elites, yuan.
    pub leaked: f64,
    /// Effort units the branch spent on formal tasks.
    pub formal_effort: u32,
    /// Committee decisions this month.
    pub decisions: u32,
    /// Of which really made by the committee.
    pub own_decisions: u32,
    /// Residents who saw capture.
    pub saw_capture: u32,
    /// Recruits to the party this month.
    pub recruits: u32,
    /// Residents whose demand the branch recorded (hearings).
    pub listened: u32,
    /// Adults who settled in the city for good (left the registered population).
    pub settled: u32,
    /// Children who settled in the city with their parents.
    pub children_settled: u32,
    /// Registered children living in the city.
    pub children_away: u32,
    /// Active monitors of the supervision committee.
    pub monitors: u32,
    /// Residents counted when staffing the supervision committee (process 9).
    pub monitor_pool: u32,
    /// Leaks detected.
    pub leaks_detected: u32,
    /// Leaks sanctioned.
    pub leaks_sanctioned: u32,
    /// Bullies reported by their victims.
    pub bully_reports: u32,
    /// Bullies prosecuted.
    pub bully_prosecutions: u32,
    /// Conflicts with the township won with legal aid.
    pub conflicts_won: u32,
    /// Recorded demands met.
    pub demands_met: u32,
    /// Recorded demands that expired unmet.
    pub demands_expired: u32,
    /// Cultural events held (real ones).
    pub events: u32,
    /// Programme events turned into box-ticking.
    pub formal_events: u32,
    /// Decision meetings held.
    pub meetings: u32,
    /// Residents attending a decision meeting.
    pub meeting_attendance: u32,
    /// Candidates struck by joint vetting or disqualified for vote buying.
    pub disqualified: u32,
    /// First secretaries sent this month.
    pub first_secretaries: u32,
    /// Secretaries replaced by the township.
    pub secretaries_replaced: u32,
    /// Economic elites co-opted into the party.
    pub co_opted: u32,
}

impl VillageStats {
    /// Fresh statistics for a month, with the stocks at its start (for the accounting checks).
    pub fn start_of_month(v: &Village) -> VillageStats {
        VillageStats {
            start_adults: v.alive,
            start_children: v.children.iter().map(|&c| c as u32).sum::<u32>()
                + v.children_away.iter().map(|&c| c as u32).sum::<u32>(),
            ..Default::default()
        }
    }
}

/// Power concentration of the village: structural concentration left unsupervised.
pub fn power_concentration(v: &Village, supervision: f64) -> f64 {
    v.committee.concentration as f64 * (1.0 - supervision)
}

crate::kernel! {
    /// Process 12 for one village: read end-of-month state into its statistics. Also returns the
    /// counts party organisation sets capacity and legitimacy from (`party::set_capacity`).
    pub fn observe(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) -> BranchCounts {
        let retire = party::retire_months(ctx.sc);
        let s = &mut v.stats;
        s.children = v.children.iter().map(|&c| c as u32).sum();
        s.children_away = v.children_away.iter().map(|&c| c as u32).sum();
        let n = a.len();
        let (res, flags, ages, edus) = (&a.residence[..n], &a.flags[..n], &a.age[..n], &a.edu[..n]);
        let (market, civic) = (&a.market[..n], &a.civic[..n]);
        let (tb, tg) = (&a.trust_branch[..n], &a.trust_gov[..n]);
        let mut edu_active = 0u32;
        for i in 0..n {
            let r = res[i];
            if r == residence::VACANT {
                continue;
            }
            s.registered += 1;
            let party = flags[i] & flag::PARTY != 0;
            let age = ages[i];
            if r == residence::MIGRANT {
                s.migrants += 1;
                s.migrant_age_sum += age as f64 / 12.0;
                s.migrants_50 += (age >= 50 * 12) as u32;
                s.party_flowing += party as u32;
                continue;
            }
            s.residents += 1;
            s.returnees += (flags[i] & flag::RETURNED != 0) as u32;
            s.residents_60 += (age >= 60 * 12) as u32;
            s.residents_65 += (age >= 65 * 12) as u32;
            if party && age < retire {
                s.party_active += 1;
                s.party_age_sum += age as f64 / 12.0;
                s.party_60 += (age >= 60 * 12) as u32;
                edu_active += edus[i] as u32;
            }
            let (m, c) = (market[i] as f64, civic[i] as f64);
            s.market_sum += m;
            s.market_sq += m * m;
            s.civic_sum += c;
            s.civic_sq += c * c;
            s.trust_branch_sum += tb[i] as f64;
            s.trust_branch_sq += tb[i] as f64 * tb[i] as f64;
            s.trust_gov_sum += tg[i] as f64;
        }
        BranchCounts {
            residents: s.residents,
            trust: s.trust_branch_sum,
            active: s.party_active,
            old: s.party_60,
            edu: edu_active,
        }
    }
}

/// Check the accounting invariants of one village after a step (debug builds and tests).
///
/// Panics with a description of the first violation.
pub fn check_invariants(v: &Village, a: &AgentsMut) {
    let s = &v.stats;
    assert_eq!(
        s.start_adults + s.coming_of_age - s.deaths - s.settled,
        s.registered,
        "adult accounting, village {}",
        v.id
    );
    assert_eq!(
        s.start_children + s.births - s.coming_of_age - s.child_deaths - s.children_settled,
        s.children + s.children_away,
        "child accounting, village {}",
        v.id
    );
    assert_eq!(
        s.residents + s.migrants,
        s.registered,
        "residents + migrants = registered, village {}",
        v.id
    );
    assert_eq!(s.registered, v.alive, "alive count, village {}", v.id);
    for i in 0..a.len() {
        if a.residence[i] == residence::VACANT {
            continue;
        }
        for (name, x) in [
            ("market", a.market[i]),
            ("civic", a.civic[i]),
            ("trust_branch", a.trust_branch[i]),
            ("trust_gov", a.trust_gov[i]),
        ] {
            assert!(
                (0.0..=1.0).contains(&x),
                "{name} = {x} out of [0,1], village {} slot {i}",
                v.id
            );
        }
    }
    for (name, x) in [
        ("capacity", v.branch.capacity),
        ("administrative", v.branch.administrative),
        ("stance", v.branch.stance),
        ("autonomy", v.committee.autonomy),
        ("service_quality", v.service_quality),
        ("cooperation", v.cooperation),
        ("order", v.order),
        ("bully_power", v.bully_power),
        ("formalism", v.formalism),
        ("turnout", v.turnout),
        ("leak", v.leak),
        ("standing", v.branch.standing),
        ("supervision", v.supervision),
        ("sanction_memory", v.sanction_memory),
        ("prosecution_memory", v.prosecution_memory),
        ("efficacy", v.efficacy),
    ] {
        assert!((0.0..=1.0).contains(&x), "{name} = {x} out of [0,1], village {}", v.id);
    }
    debug_assert!(v.children.len() == ADULT_MONTHS);
}

/// What a `metrics.csv` column is: declared once in the `metrics!` list below, from which
/// the CSV header, the charts' titles and units, the experiment files' metric names and the
/// check of `docs/metrics.md` all come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name (snake case).
    pub name: &'static str,
    /// Title for charts and tables.
    pub title: &'static str,
    /// Unit, as charts and `docs/metrics.md` give it.
    pub unit: &'static str,
    /// One-sentence description.
    pub doc: &'static str,
}

macro_rules! metrics {
    ($( $name:ident : $title:literal, $unit:literal, $doc:literal ; )*) => {
        /// Region-wide observables of one month. Column names are the field names.
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct Metrics {
            /// Step number (1 = the first simulated month).
            pub step: u32,
            /// Calendar year.
            pub year: i32,
            /// Month, 1 to 12.
            pub month: u32,
            $( #[doc = $doc] pub $name: f64, )*
        }

        impl Metrics {
            /// Every observable column, in output order (after step, year, month).
            pub const COLUMNS: &'static [Column] = &[ $( Column { name: stringify!($name), title: $title, unit: $unit, doc: $doc }, )* ];

            /// The column called `name`, if any.
            pub fn column(name: &str) -> Option<&'static Column> {
                Self::COLUMNS.iter().find(|c| c.name == name)
            }

            /// The observable values in column order.
            pub fn values(&self) -> Vec<f64> {
                vec![ $( self.$name, )* ]
            }

            /// The value of a column by name.
            pub fn get(&self, name: &str) -> Option<f64> {
                match name {
                    $( stringify!($name) => Some(self.$name), )*
                    _ => None,
                }
            }
        }
    };
}

metrics! {
    registered: "Registered adults", "persons", "Registered adults (16+), residents plus migrants.";
    residents: "Resident adults", "persons", "Adults living in the villages.";
    children: "Registered children", "persons", "Registered children under 16 (in the village and with migrant parents in the city).";
    children_away: "Children living in the city", "persons", "Registered children under 16 living with migrant parents in the city.";
    resident_population: "Resident population", "persons", "Residents of all ages: resident adults and the children living in the village.";
    settled: "Settled in the city", "persons per month", "Registered adults who settled in the city for good this month (they leave the registered population).";
    migrants: "Migrants away in the city", "persons", "Migrant stock: registered adults away in the city.";
    outflow: "Outflow to the city", "persons per month", "Residents who left for the city this month.";
    return_flow: "Return flow", "persons per month", "Migrants who returned this month.";
    births: "Births", "persons per month", "Births this month.";
    deaths: "Adult deaths", "persons per month", "Adult deaths this month.";
    child_deaths: "Child deaths", "persons per month", "Deaths of children under 16 this month.";
    returnees: "Returnees among residents", "persons", "Residents who have returned from migration at least once.";
    share_60_plus: "Residents aged 60+", "share [0, 1]", "Share of residents aged 60 or more.";
    share_65_plus: "Residents aged 65+", "share [0, 1]", "Share of residents aged 65 or more.";
    share_65_plus_all_ages: "Residents aged 65+, children included", "share [0, 1]", "Share of all residents, children living in the village included, aged 65 or more.";
    share_60_plus_all_ages: "Residents aged 60+, children included", "share [0, 1]", "Share of all residents, children included, aged 60 or more (registered children are counted as residents).";
    migrant_share: "Registered adults away as migrants", "share [0, 1]", "Share of registered adults away as migrants.";
    migrant_mean_age: "Mean age of migrants", "years", "Mean age of migrants, years.";
    migrant_share_50_plus: "Migrants aged 50+", "share [0, 1]", "Share of migrants aged 50 or more.";
    party_active: "Active party members", "persons", "Active party members: resident and below retirement age.";
    party_flowing: "Flowing party members", "persons", "Party members away as migrants (\"flowing\").";
    party_mean_age: "Mean age of active party members", "years", "Mean age of active party members, years.";
    party_share_60_plus: "Party members aged 60+", "share [0, 1]", "Share of active party members aged 60 or more.";
    branch_capacity: "Party branch capacity", "index [0, 1]", "Mean party branch capacity, [0,1].";
    market_mean: "Market orientation (mean)", "value [0, 1]", "Mean `market` value of residents, [0,1].";
    market_sd: "Market orientation (sd)", "value sd", "Standard deviation of residents' `market`.";
    civic_mean: "Public spirit, civic (mean)", "value [0, 1]", "Mean `civic` value of residents, [0,1].";
    market_sd_within: "Market orientation (sd within villages)", "value sd", "Pooled standard deviation of residents' `market` within villages (the spread that village life keeps).";
    civic_sd_within: "Public spirit (sd within villages)", "value sd", "Pooled standard deviation of residents' `civic` within villages.";
    trust_sd_within: "Trust in the branch (sd within villages)", "trust sd", "Pooled standard deviation of residents' trust in the branch within villages.";
    civic_sd: "Public spirit, civic (sd)", "value sd", "Standard deviation of residents' `civic`.";
    trust_branch: "Trust in the party branch", "trust [0, 1]", "Mean trust of residents in the party branch, [0,1].";
    trust_government: "Trust in the township", "trust [0, 1]", "Mean trust of residents in the township government, [0,1].";
    turnout: "Election turnout", "share [0, 1]", "Turnout at each village's last election (votes / eligible registered adults), pooled.";
    votes_cast: "Votes cast", "votes per month", "Votes cast this month (elections are held in March of election years).";
    vote_offers_accepted: "Vote-buying offers accepted", "offers per month", "Vote-buying offers accepted this month (a voter may accept offers from several candidates).";
    control_branch: "Committees led by the branch", "share of villages", "Share of villages whose committee the branch's nominee controls.";
    control_economic_elite: "Committees led by economic elites", "share of villages", "Share of villages whose committee an economic elite controls.";
    control_clan: "Committees led by clan elites", "share of villages", "Share of villages whose committee a clan elite controls.";
    control_bully: "Committees led by village bullies", "share of villages", "Share of villages whose committee a village bully controls.";
    control_contested: "Contested elections", "share of villages", "Share of villages whose last election was contested (margin below threshold).";
    elite_capture: "Elite capture of state funds", "share [0, 1]", "Share of this month's state funds leaked to elites.";
    capture_seen: "Residents who saw capture", "persons per month", "Residents who saw capture of funds this month.";
    bully_power: "Power of village bullies", "index [0, 1]", "Mean coercive power of village bully factions, [0,1].";
    disputes_raised: "Disputes raised", "disputes per month", "Disputes raised this month.";
    disputes_legal: "Disputes settled legally", "disputes per month", "Disputes resolved through the legal/mediation channel.";
    disputes_force: "Disputes settled by force", "disputes per month", "Disputes resolved by clan or bully force.";
    disputes_unresolved: "Disputes unresolved", "disputes per month", "Disputes left unresolved.";
    conflicts: "Villager-government conflicts", "conflicts per month", "Villager-government conflicts this month.";
    branch_sided_with_villagers: "Branch sided with villagers", "share [0, 1]", "Share of conflicts in which the branch sided with the villager.";
    order: "Village order", "index [0, 1]", "Mean village order: slow average of the share of disputes settled fairly.";
    service_quality: "Public service quality", "index [0, 1]", "Mean public service quality, [0,1].";
    cooperation: "Cooperation in public goods", "share [0, 1]", "Share of eligible residents contributing to public goods.";
    help_needs: "Residents in need of help", "persons per month", "Residents in need of help this month.";
    mutual_help_matches: "Needs met by the mutual-help platform", "matches per month", "Needs met through the mutual-help platform.";
    informal_help_matches: "Needs met informally", "matches per month", "Needs met informally (kin and neighbours).";
    culture_attendance: "Attendance at cultural activities", "share [0, 1]", "Share of residents attending a cultural activity this month.";
    formalism: "Formalism of the branch", "share [0, 1]", "Mean share of branch effort spent on formal tasks.";
    committee_autonomy: "Autonomy of the villagers' committee", "share [0, 1]", "Mean share of decisions really made by the villagers' committee.";
    power_concentration: "Unsupervised power concentration", "index [0, 1]", "Mean power concentration: arrangement concentration left unsupervised.";
    arrangement_one_shoulder: "Villages under \"one shoulder\"", "share [0, 1]", "Share of villages whose last election was held under \"one shoulder\".";
    arrangement_cross_serving: "Villages with cross-serving committees", "share [0, 1]", "Share of villages whose last election was held with cross-serving committees.";
    party_recruits: "New party members", "persons per month", "New party members this month.";
    spend_legal: "Spending on legal services", "yuan per month", "Spending on legal services this month, yuan.";
    spend_services: "Spending on public services", "yuan per month", "Spending on public services this month, yuan.";
    spend_culture: "Spending on community culture", "yuan per month", "Spending on community culture this month, yuan.";
    spend_self_government: "Spending on self-government", "yuan per month", "Spending on self-government this month, yuan.";
    spend_total: "Spending on all paths", "yuan per month", "Spending on all four paths this month, yuan.";
    life_expectancy: "Life expectancy at birth (region)", "years", "Life expectancy at birth of this month's mortality (the national figure less the rural gap).";
    supervision: "Supervision", "share [0, 1]", "Mean strength of villages' supervision committees: active monitors relative to a full committee.";
    leaks_detected: "Leaks detected", "per month", "Leaks of funds detected by monitors or the branch's check this month.";
    leaks_sanctioned: "Leaks sanctioned", "per month", "Detected leaks sanctioned this month (the controller loses the office).";
    bully_prosecutions: "Bullies prosecuted", "per month", "Bullies prosecuted after their victims reported them this month.";
    demands_heard: "Demands recorded", "per month", "Villagers' demands recorded by the branch this month.";
    demands_met: "Demands met", "per month", "Recorded demands resolved this month.";
    demands_expired: "Demands expired", "per month", "Recorded demands that expired unmet this month.";
    cultural_events: "Cultural events", "per month", "Real cultural events held this month (box-ticking ones excluded).";
    formal_events: "Box-ticking events", "per month", "Programme events turned into formal box-ticking this month.";
    meetings_held: "Decision meetings", "per month", "Decision meetings held this month.";
    meeting_attendance: "Meeting attendance", "share [0, 1]", "Share of residents attending decision meetings, in villages that held one.";
    candidates_disqualified: "Candidates disqualified", "per month", "Candidates struck by joint vetting (a record, or a bully) or disqualified for vote buying caught by monitors.";
    first_secretary_share: "Villages with a first secretary", "share of villages", "Share of villages with a first secretary in post.";
    co_opted: "Elites co-opted", "per month", "Economic elites co-opted into the party this month.";
    township_standing: "Standing with the township", "index [0, 1]", "Mean of the township's assessment of the branches.";
    employment_probability: "Urban employment probability", "probability [0, 1]", "Migrants' urban employment probability (Harris-Todaro).";
    expected_urban_wage: "Expected urban wage", "yuan per month", "Expected urban wage = urban wage x employment probability, yuan per month.";
    governance_index: "Governance index", "index [0, 1]", "Composite effective-governance index, [0,1] (docs/metrics.md).";
}

impl Metrics {
    /// `None` if `name` is a `metrics.csv` column; otherwise the message for the user, naming
    /// the closest column.
    pub fn unknown_column(name: &str) -> Option<String> {
        if Self::column(name).is_some() {
            return None;
        }
        let close = Self::COLUMNS
            .iter()
            .map(|c| (strsim::damerau_levenshtein(c.name, name), c.name))
            .min()
            .map(|(_, c)| format!("; did you mean \"{c}\"?"))
            .unwrap_or_default();
        Some(format!("\"{name}\" is not a metrics.csv column{close}"))
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Components of the effective-governance index, each in [0,1], with equal weights:
/// branch capacity, trust in the branch, service quality, order, one minus elite capture,
/// committee autonomy, turnout, one minus bully power.
#[allow(clippy::too_many_arguments)]
pub fn governance_index(
    capacity: f64,
    trust_branch: f64,
    service: f64,
    order: f64,
    capture: f64,
    autonomy: f64,
    turnout: f64,
    bully: f64,
) -> f64 {
    (capacity + trust_branch + service + order + (1.0 - capture) + autonomy + turnout + (1.0 - bully)) / 8.0
}

/// Combine village statistics into region metrics, sequentially in village order.
pub fn combine(
    step: u32,
    year: i32,
    month: u32,
    villages: &[Village],
    labour: &LabourMarket,
    ctx: &StepCtx,
) -> Metrics {
    let mut m = Metrics {
        step,
        year,
        month,
        ..Default::default()
    };
    let n = villages.len().max(1) as f64;
    let (mut ms, mut mq, mut cs, mut cq, mut tb, mut tg) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut party_age, mut party60) = (0.0, 0.0);
    let (mut funds, mut leaked, mut conflicts, mut sided) = (0.0, 0.0, 0.0, 0.0);
    let (mut votes_num, mut votes_den, mut contributors, mut eligible, mut attendees) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut cap, mut sq, mut order, mut auton, mut form, mut conc, mut bully) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut contested = 0.0;
    let mut control = [0.0f64; 4];
    let (mut migrant_age, mut migrants_50) = (0.0, 0.0);
    let (mut sup, mut standing, mut fs, mut quorate_villages, mut attending) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut residents_65 = 0.0;
    let (mut wm, mut wc, mut wt) = (0.0, 0.0, 0.0);
    for v in villages {
        let s = &v.stats;
        m.registered += s.registered as f64;
        m.residents += s.residents as f64;
        m.children += (s.children + s.children_away) as f64;
        m.children_away += s.children_away as f64;
        m.resident_population += (s.residents + s.children) as f64;
        m.settled += s.settled as f64;
        residents_65 += s.residents_65 as f64;
        if s.residents > 0 {
            let r = s.residents as f64;
            wm += (s.market_sq - s.market_sum * s.market_sum / r).max(0.0);
            wc += (s.civic_sq - s.civic_sum * s.civic_sum / r).max(0.0);
            wt += (s.trust_branch_sq - s.trust_branch_sum * s.trust_branch_sum / r).max(0.0);
        }
        sup += v.supervision as f64;
        standing += v.branch.standing as f64;
        fs += (v.branch.first_secretary_months > 0) as u32 as f64;
        m.leaks_detected += s.leaks_detected as f64;
        m.leaks_sanctioned += s.leaks_sanctioned as f64;
        m.bully_prosecutions += s.bully_prosecutions as f64;
        m.demands_heard += s.listened as f64;
        m.demands_met += s.demands_met as f64;
        m.demands_expired += s.demands_expired as f64;
        m.cultural_events += s.events as f64;
        m.formal_events += s.formal_events as f64;
        m.meetings_held += s.meetings as f64;
        if s.meetings > 0 {
            quorate_villages += s.residents as f64;
            attending += s.meeting_attendance as f64;
        }
        m.candidates_disqualified += s.disqualified as f64;
        m.co_opted += s.co_opted as f64;
        m.migrants += s.migrants as f64;
        migrant_age += s.migrant_age_sum;
        migrants_50 += s.migrants_50 as f64;
        m.outflow += s.outflow as f64;
        m.return_flow += s.returns as f64;
        m.births += s.births as f64;
        m.deaths += s.deaths as f64;
        m.child_deaths += s.child_deaths as f64;
        m.returnees += s.returnees as f64;
        m.share_60_plus += s.residents_60 as f64;
        m.share_65_plus += s.residents_65 as f64;
        m.party_active += s.party_active as f64;
        m.party_flowing += s.party_flowing as f64;
        party_age += s.party_age_sum;
        party60 += s.party_60 as f64;
        ms += s.market_sum;
        mq += s.market_sq;
        cs += s.civic_sum;
        cq += s.civic_sq;
        tb += s.trust_branch_sum;
        tg += s.trust_gov_sum;
        m.disputes_raised += s.disputes as f64;
        m.disputes_legal += s.legal as f64;
        m.disputes_force += s.force as f64;
        m.disputes_unresolved += s.unresolved as f64;
        conflicts += s.conflicts as f64;
        sided += s.sided_with_villager as f64;
        contributors += s.contributors as f64;
        eligible += s.eligible as f64;
        m.help_needs += s.needs as f64;
        m.mutual_help_matches += s.platform_matches as f64;
        m.informal_help_matches += s.informal_matches as f64;
        attendees += s.attendees as f64;
        funds += s.funds;
        leaked += s.leaked;
        m.party_recruits += s.recruits as f64;
        m.votes_cast += s.voters as f64;
        m.vote_offers_accepted += s.bought_votes as f64;
        m.capture_seen += s.saw_capture as f64;
        votes_num += v.turnout as f64 * s.registered as f64;
        votes_den += s.registered as f64;
        cap += v.branch.capacity as f64;
        sq += v.service_quality as f64;
        order += v.order as f64;
        auton += v.committee.autonomy as f64;
        form += v.formalism as f64;
        bully += v.bully_power as f64;
        conc += power_concentration(v, v.supervision as f64);
        control[v.committee.controller as usize] += 1.0;
        match v.committee.arrangement {
            Arrangement::OneShoulder => m.arrangement_one_shoulder += 1.0,
            Arrangement::CrossServing => m.arrangement_cross_serving += 1.0,
            Arrangement::Separate => {}
        }
        if v.committee.contested {
            contested += 1.0;
        }
    }
    let res = m.residents;
    let home_children = m.children - m.children_away;
    m.share_60_plus_all_ages = ratio(m.share_60_plus, res + home_children);
    m.share_65_plus_all_ages = ratio(residents_65, res + home_children);
    m.supervision = sup / n;
    m.market_sd_within = ratio(wm, res).sqrt();
    m.civic_sd_within = ratio(wc, res).sqrt();
    m.trust_sd_within = ratio(wt, res).sqrt();
    m.township_standing = standing / n;
    m.first_secretary_share = fs / n;
    m.meeting_attendance = ratio(attending, quorate_villages);
    m.life_expectancy = ctx.sc.population.life_expectancy.at(ctx.t) - ctx.sc.population.rural_e0_gap;
    // Spending is what was sent (the levers' cost), not what arrived after capture.
    let nv = villages.len() as f64;
    m.spend_legal = ctx.money(PolicyPath::Legal) * nv;
    m.spend_services = ctx.money(PolicyPath::Services) * nv;
    m.spend_culture = ctx.money(PolicyPath::Culture) * nv;
    m.spend_self_government = ctx.money(PolicyPath::SelfGovernment) * nv;
    m.migrant_share = ratio(m.migrants, m.registered);
    m.migrant_mean_age = ratio(migrant_age, m.migrants);
    m.migrant_share_50_plus = ratio(migrants_50, m.migrants);
    m.share_60_plus = ratio(m.share_60_plus, res);
    m.share_65_plus = ratio(m.share_65_plus, res);
    m.party_mean_age = ratio(party_age, m.party_active);
    m.party_share_60_plus = ratio(party60, m.party_active);
    m.branch_capacity = cap / n;
    m.market_mean = ratio(ms, res);
    m.market_sd = (ratio(mq, res) - m.market_mean * m.market_mean).max(0.0).sqrt();
    m.civic_mean = ratio(cs, res);
    m.civic_sd = (ratio(cq, res) - m.civic_mean * m.civic_mean).max(0.0).sqrt();
    m.trust_branch = ratio(tb, res);
    m.trust_government = ratio(tg, res);
    m.turnout = ratio(votes_num, votes_den);
    m.control_branch = control[Controller::Branch as usize] / n;
    m.control_economic_elite = control[Controller::Economic as usize] / n;
    m.control_clan = control[Controller::Clan as usize] / n;
    m.control_bully = control[Controller::Bully as usize] / n;
    m.control_contested = contested / n;
    m.arrangement_one_shoulder /= n;
    m.arrangement_cross_serving /= n;
    m.elite_capture = ratio(leaked, funds);
    m.bully_power = bully / n;
    m.conflicts = conflicts;
    m.branch_sided_with_villagers = ratio(sided, conflicts);
    m.order = order / n;
    m.service_quality = sq / n;
    m.cooperation = ratio(contributors, eligible);
    m.culture_attendance = ratio(attendees, res);
    m.formalism = form / n;
    m.committee_autonomy = auton / n;
    m.power_concentration = conc / n;
    m.spend_total = m.spend_legal + m.spend_services + m.spend_culture + m.spend_self_government;
    m.employment_probability = labour.employment;
    m.expected_urban_wage = labour.urban_wage * labour.employment;
    m.governance_index = governance_index(
        m.branch_capacity,
        m.trust_branch,
        m.service_quality,
        m.order,
        m.elite_capture,
        m.committee_autonomy,
        m.turnout,
        m.bully_power,
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{ctx, with_village, world};
    use crate::model::{process, step_village, Scratch};

    /// The engine's path (party organisation but capacity, observation with the counts
    /// capacity needs, then capacity from those counts) gives bitwise what the processes give
    /// in the documented order, month by month, December included.
    #[test]
    fn party_from_observation_counts_equals_the_processes_in_turn() {
        let mut fused = world(800);
        let mut reference = fused.clone();
        let sc = fused.scenario.clone();
        let (mut s1, mut s2) = (Scratch::default(), Scratch::default());
        let mut fused_months = 0;
        for step in 1..=30 {
            let c = ctx(&sc, step);
            fused_months += (!c.yearly) as u32;
            with_village(&mut fused, 0, |v, a| step_village(&c, v, a, &mut s1));
            with_village(&mut reference, 0, |v, a| {
                v.stats = VillageStats::start_of_month(v);
                process::demography::run(&c, v, a);
                process::market::run(&c, v, a);
                process::values::run(&c, v, a);
                process::migration::run(&c, v, a);
                process::disputes::run(&c, v, a);
                process::services::run(&c, v, a);
                process::culture::run(&c, v, a, &mut s2);
                if c.election {
                    process::elections::run(&c, v, a);
                }
                process::allocation::run(&c, v, a);
                process::trust::run(&c, v, a);
                process::party::run(&c, v, a, &mut s2);
                observe(&c, v, a);
            });
            let (f, r) = (&fused.villages[0], &reference.villages[0]);
            assert_eq!(f.stats, r.stats, "step {step}");
            assert_eq!(f.branch.capacity.to_bits(), r.branch.capacity.to_bits(), "step {step}");
            assert_eq!(
                f.branch.legitimacy.to_bits(),
                r.branch.legitimacy.to_bits(),
                "step {step}"
            );
            assert_eq!(f.branch.secretary, r.branch.secretary, "step {step}");
            assert_eq!(f.committee.director, r.committee.director, "step {step}");
            assert_eq!(fused.agents.trust_branch, reference.agents.trust_branch, "step {step}");
            assert_eq!(fused.agents.trust_gov, reference.agents.trust_gov, "step {step}");
            assert_eq!(fused.agents.role, reference.agents.role, "step {step}");
            assert_eq!(fused.agents.market, reference.agents.market, "step {step}");
        }
        assert!(fused_months >= 25, "the monthly path ran in {fused_months} months");
    }
}
