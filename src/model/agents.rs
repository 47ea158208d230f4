//! Villager columns (structure of arrays).
//!
//! Every villager attribute is one `Vec` over all *slots* of the region. Village `v` owns the
//! contiguous slot range `start[v] .. start[v] + cap[v]`, so a village's villagers are adjacent
//! in memory and a step can hand each village its own disjoint `&mut` slices
//! ([`Agents::split_mut`]) to work on in parallel with no locks and no sharing.
//!
//! A slot is either occupied by a registered adult (resident or migrant) or vacant. The dead
//! leave their slot vacant; a young villager coming of age takes a vacant slot of the same
//! village and inherits its clan (a slot is a household seat, see `docs/ODD.md`). When a
//! village runs out of vacant slots the whole table is repacked with more room
//! ([`Agents::repack`]), a deterministic operation between steps.
//!
//! There is no per-villager heap allocation: the bytes per slot are [`Agents::BYTES_PER_SLOT`].

/// Residence of a slot.
pub mod residence {
    /// Vacant slot (never used, or its occupant died).
    pub const VACANT: u8 = 0;
    /// Living in the village.
    pub const RESIDENT: u8 = 1;
    /// Away as a migrant in the city (still registered in the village).
    pub const MIGRANT: u8 = 2;
}

/// Bits of the `flags` column.
pub mod flag {
    /// Female.
    pub const FEMALE: u8 = 1;
    /// Party member (active when resident and below retirement age; "flowing" when away).
    pub const PARTY: u8 = 2;
    /// Has returned from migration at least once.
    pub const RETURNED: u8 = 4;
    /// Has a record: sanctioned for a leak, or prosecuted as a bully (vetting strikes them).
    pub const RECORD: u8 = 8;
}

/// Bits of the `part` column: what the villager took part in during the current month.
pub mod part {
    /// Voted in an election.
    pub const VOTED: u8 = 1;
    /// Contributed to public goods.
    pub const CONTRIBUTED: u8 = 2;
    /// Attended a cultural activity.
    pub const ATTENDED: u8 = 4;
    /// Helped someone through mutual help.
    pub const HELPED: u8 = 8;
    /// Was helped.
    pub const HELPED_BY: u8 = 16;
    /// Contributed to public goods last month (kept one month).
    pub const CONTRIBUTED_LAST: u8 = 32;
    /// Voted at the last election (kept until the next one).
    pub const VOTED_LAST: u8 = 64;
    /// Has a demand recorded by the branch and not yet resolved (kept until it is).
    pub const DEMAND: u8 = 128;
    /// Bits that survive the monthly reset.
    pub const CARRIED: u8 = VOTED_LAST | DEMAND;
}

/// Villager roles.
pub mod role {
    /// Ordinary villager.
    pub const ORDINARY: u8 = 0;
    /// Economic elite (wealth).
    pub const ECONOMIC: u8 = 1;
    /// Clan elite (head of a large clan).
    pub const CLAN: u8 = 2;
    /// Village bully (coercion).
    pub const BULLY: u8 = 3;
    /// Cadre (branch secretary, or a committee director nominated by the branch).
    pub const CADRE: u8 = 4;
    /// Monitor of the village affairs supervision committee.
    pub const MONITOR: u8 = 5;
}

macro_rules! columns {
    ($( $(#[$m:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        /// All villager columns of the region.
        #[derive(Debug, Clone, Default)]
        pub struct Agents {
            $( $(#[$m])* pub $name: Vec<$ty>, )*
        }

        /// One village's disjoint mutable view of every column.
        #[derive(Debug)]
        pub struct AgentsMut<'a> {
            $( $(#[$m])* pub $name: &'a mut [$ty], )*
        }

        impl Agents {
            /// Bytes of state per slot, all columns together.
            pub const BYTES_PER_SLOT: usize = 0 $( + std::mem::size_of::<$ty>() )*;

            /// Names of the columns, in declaration order (the order checkpoints store them in).
            pub const COLUMNS: &'static [&'static str] = &[ $( stringify!($name), )* ];

            /// Write every column, in declaration order, as little-endian values (a run
            /// checkpoint's body; `src/checkpoint.rs`).
            pub fn write_le(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
                $( write_col(w, &self.$name)?; )*
                Ok(())
            }

            /// Read `n` slots of every column as [`Agents::write_le`] wrote them. The caller
            /// checks first that the input can hold them (`n * BYTES_PER_SLOT` bytes).
            pub fn read_le(r: &mut dyn std::io::Read, n: usize) -> std::io::Result<Agents> {
                Ok(Agents { $( $name: read_col(r, n)?, )* })
            }

            /// `n` vacant slots.
            pub fn with_len(n: usize) -> Self {
                Agents { $( $name: vec![<$ty>::default(); n], )* }
            }

            /// Number of slots.
            pub fn len(&self) -> usize {
                self.age.len()
            }

            /// True when there are no slots.
            pub fn is_empty(&self) -> bool {
                self.age.is_empty()
            }

            /// Split every column into consecutive per-village views of the given capacities.
            pub fn split_mut(&mut self, caps: &[usize]) -> Vec<AgentsMut<'_>> {
                $( let mut $name = split_col(&mut self.$name, caps).into_iter(); )*
                let mut out = Vec::with_capacity(caps.len());
                for _ in caps {
                    out.push(AgentsMut { $( $name: $name.next().unwrap_or_default(), )* });
                }
                out
            }

            /// Rebuild with new per-village capacities (each at least the old one); new slots are
            /// vacant and appended at the end of each village's range. Column by column, so the
            /// transient memory is the old table plus one new column, not two whole tables.
            pub fn repack(&mut self, old_caps: &[usize], new_caps: &[usize]) {
                let total: usize = new_caps.iter().sum();
                $(
                    let mut next = vec![<$ty>::default(); total];
                    let (mut src, mut dst) = (0usize, 0usize);
                    for (&o, &n) in old_caps.iter().zip(new_caps) {
                        next[dst..dst + o].copy_from_slice(&self.$name[src..src + o]);
                        src += o;
                        dst += n;
                    }
                    self.$name = next;
                )*
            }
        }

        impl AgentsMut<'_> {
            /// Number of slots in this village.
            pub fn len(&self) -> usize {
                self.age.len()
            }

            /// True when the village has no slots.
            pub fn is_empty(&self) -> bool {
                self.age.is_empty()
            }

            /// Reset slot `i` to vacant, keeping its clan (the household seat).
            pub fn vacate(&mut self, i: usize) {
                let clan = self.clan[i];
                $( self.$name[i] = <$ty>::default(); )*
                self.clan[i] = clan;
            }
        }
    };
}

columns! {
    /// Age in months.
    age: u16,
    /// [`residence`] code.
    residence: u8,
    /// [`flag`] bits.
    flags: u8,
    /// [`role`] code.
    role: u8,
    /// Education level 0 (none) to 4 (college).
    edu: u8,
    /// Clan index within the village.
    clan: u8,
    /// [`part`] bits for the current month.
    part: u8,
    /// Months away in the current migration spell.
    away: u16,
    /// Signed count of this month's experiences with the party branch (good > 0).
    exp_branch: i8,
    /// Signed count of this month's experiences with the township government.
    exp_gov: i8,
    /// Wealth, yuan.
    wealth: f32,
    /// `market` value in [0,1]: benefit orientation versus traditional moral constraint.
    market: f32,
    /// `civic` value in [0,1]: public spirit, identification with the village.
    civic: f32,
    /// Trust in the party branch, [0,1].
    trust_branch: f32,
    /// Trust in the township government, [0,1].
    trust_gov: f32,
}

/// A column's element type as fixed-width little-endian bytes.
trait Le: Copy + Default {
    const WIDTH: usize;
    fn put(self, out: &mut [u8]);
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}
le!(u8, i8, u16, f32);

/// Elements converted per buffer while writing or reading a column.
const CHUNK: usize = 16 * 1024;

fn write_col<T: Le>(w: &mut dyn std::io::Write, col: &[T]) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK * T::WIDTH];
    for part in col.chunks(CHUNK) {
        let bytes = &mut buf[..part.len() * T::WIDTH];
        for (x, out) in part.iter().zip(bytes.chunks_exact_mut(T::WIDTH)) {
            x.put(out);
        }
        w.write_all(bytes)?;
    }
    Ok(())
}

fn read_col<T: Le>(r: &mut dyn std::io::Read, n: usize) -> std::io::Result<Vec<T>> {
    let mut col = Vec::with_capacity(n);
    let mut buf = vec![0u8; CHUNK * T::WIDTH];
    while col.len() < n {
        let k = (n - col.len()).min(CHUNK);
        let bytes = &mut buf[..k * T::WIDTH];
        r.read_exact(bytes)?;
        col.extend(bytes.chunks_exact(T::WIDTH).map(T::get));
    }
    Ok(col)
}

fn split_col<'a, T>(mut col: &'a mut [T], caps: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(caps.len());
    for &c in caps {
        let (a, b) = std::mem::take(&mut col).split_at_mut(c);
        out.push(a);
        col = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_gives_disjoint_contiguous_views() {
        let mut a = Agents::with_len(10);
        for i in 0..10 {
            a.age[i] = i as u16;
        }
        let views = a.split_mut(&[3, 0, 7]);
        assert_eq!(views.len(), 3);
        assert_eq!(views[0].age, &[0, 1, 2]);
        assert!(views[1].is_empty());
        assert_eq!(views[2].age[0], 3);
        assert_eq!(views[2].len(), 7);
    }

    #[test]
    fn repack_keeps_villages_and_adds_vacant_room() {
        let mut a = Agents::with_len(5);
        for i in 0..5 {
            a.age[i] = 100 + i as u16;
            a.residence[i] = residence::RESIDENT;
        }
        a.repack(&[2, 3], &[4, 3]);
        assert_eq!(a.len(), 7);
        assert_eq!(&a.age[..], &[100, 101, 0, 0, 102, 103, 104]);
        assert_eq!(a.residence[2], residence::VACANT);
    }

    #[test]
    fn columns_round_trip_through_little_endian_bytes() {
        let mut a = Agents::with_len(40_000);
        for i in 0..a.len() {
            a.age[i] = (i * 7) as u16;
            a.exp_branch[i] = ((i % 250) as i32 - 120) as i8;
            a.market[i] = i as f32 / 3.0;
            a.trust_gov[i] = -(i as f32);
        }
        let mut bytes = Vec::new();
        a.write_le(&mut bytes).unwrap();
        assert_eq!(bytes.len(), a.len() * Agents::BYTES_PER_SLOT);
        let b = Agents::read_le(&mut &bytes[..], a.len()).unwrap();
        assert_eq!(
            (b.age, b.exp_branch, b.market, b.trust_gov),
            (a.age, a.exp_branch, a.market, a.trust_gov)
        );
    }

    // The per-slot budget is checked at compile time.
    const _: () = assert!(Agents::BYTES_PER_SLOT <= 40);
}
